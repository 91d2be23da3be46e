"""/feeds filter as moderators use it: English and Korean words in, only the stories they want out."""

from __future__ import annotations

from tests.conftest import assert_no_pings
from tests.discord_double import Perm
from tests.feedserver import FeedServer, Item


async def test_include_and_exclude_filters_in_english_and_korean(start_bot, server, double, clock):
    feeds = await FeedServer().start()
    try:
        bot = await start_bot()
        await server.invoke(server.mod, "config channel", kind="news", channel=server.channels["news"])
        await server.invoke(server.mod, "stars follow", name="Han So-hee")
        wire = feeds.feed("wire.xml")
        await server.invoke(server.mod, "feeds add", url=feeds.url("wire.xml"), name="Wire")

        set_ = await server.invoke(server.mod, "feeds filter", feed="Wire", include="drama, 드라마",
                                   exclude="rumor, 열애설")
        assert set_.ephemeral
        assert "Only stories with: drama, 드라마" in set_.content and "Never stories with: rumor, 열애설" in set_.content
        listed = await server.invoke(server.mod, "feeds list")
        assert "Only stories with: drama, 드라마" in listed.all_text

        wire.items[:0] = [
            Item("Han So-hee confirms a new drama", "http://wire.example/1", "1"),
            Item("한소희, 새 드라마에서 주연", "http://wire.example/2", "2"),
            Item("Han So-hee drama rumor denied", "http://wire.example/3", "3"),
            Item("한소희 열애설에 소속사 입장", "http://wire.example/4", "4"),
            Item("Han So-hee at a fashion week", "http://wire.example/5", "5"),
            Item("한소희 드라마틱한 변신", "http://wire.example/6", "6"),
        ]
        clock.advance(700)
        await bot.scheduler.run_once()
        titles = sorted(m["embeds"][0]["title"] for m in server.messages("news"))
        assert titles == ["Han So-hee confirms a new drama", "한소희, 새 드라마에서 주연"]

        # Exclude only: everything about her but the rumours.
        await server.invoke(server.mod, "feeds filter", feed="Wire", exclude="rumor")
        wire.items[:0] = [Item("Han So-hee wins an award", "http://wire.example/7", "7"),
                          Item("A rumor about Han So-hee", "http://wire.example/8", "8")]
        clock.advance(700)
        await bot.scheduler.run_once()
        titles = [m["embeds"][0]["title"] for m in server.messages("news")]
        assert len(titles) == 3 and titles[-1] == "Han So-hee wins an award"
        assert_no_pings(double, allowed_roles=set())
    finally:
        await feeds.stop()


async def test_a_korean_moderator_gets_korean_replies_and_bad_filters_change_nothing(start_bot, server, double):
    feeds = await FeedServer().start()
    try:
        await start_bot()
        feeds.feed("wire.xml")
        await server.invoke(server.mod, "feeds add", url=feeds.url("wire.xml"), name="Wire")
        ko_mod = server.guild.add_member("ko-mod", permissions=Perm.MANAGE_GUILD, locale="ko")
        done = await server.invoke(ko_mod, "feeds filter", feed="Wire", include="드라마")
        assert done.ephemeral and "**Wire** 필터:" in done.content and "이 단어가 있는 소식만: 드라마" in done.content

        too_many = await server.invoke(ko_mod, "feeds filter", feed="Wire", include=", ".join(f"w{i}" for i in range(100)))
        assert too_many.ephemeral and "25개까지" in too_many.content
        nothing = await server.invoke(server.mod, "feeds filter", feed="Wire", exclude="!!!, ???")
        assert nothing.ephemeral and "has no letters or digits" in nothing.content
        fan = await server.invoke(server.fan, "feeds filter", feed="Wire", include="x")
        assert fan.ephemeral and "Only moderators" in fan.content
        listed = await server.invoke(server.mod, "feeds list")
        assert "Only stories with: 드라마" in listed.all_text  # every refusal left the filter as it was
        assert "Never stories with" not in listed.all_text
    finally:
        await feeds.stop()
