"""The whole news path as users drive it: commands in, a feed server's stories out as pinging embeds."""

from __future__ import annotations

from tests.conftest import assert_no_pings
from tests.feedserver import FeedServer, Item


async def test_stories_flow_from_feeds_to_the_news_channel_pinging_only_the_right_fans(start_bot, server, double, clock):
    feeds = await FeedServer().start()
    try:
        bot = await start_bot()
        news = server.channels["news"]
        await server.invoke(server.mod, "config channel", kind="news", channel=news)
        await server.invoke(server.mod, "config channel", kind="modlog", channel=server.channels["modlog"])
        await server.invoke(server.mod, "stars follow", name="Song Hye-kyo")
        await server.invoke(server.mod, "stars follow", name="Han So-hee")
        song_fan, han_fan = server.fan, server.new_fan("sohee-fan")
        await server.invoke(song_fan, "notify add", star="Song Hye-kyo")
        await server.invoke(han_fan, "notify add", star="한소희")
        roles = {r.name: r for r in server.guild.roles.values()}
        song_role, han_role = roles["🔔 Song Hye-kyo"], roles["🔔 Han So-hee"]
        assert song_role.id in song_fan.roles and han_role.id in han_fan.roles

        wire = feeds.feed("wire.xml", Item("Song Hye-kyo at an old premiere", "http://wire.example/old", "old"))
        mirror = feeds.feed("mirror.xml")
        await server.invoke(server.mod, "feeds add", url=feeds.url("wire.xml"), name="Wire")
        await server.invoke(server.mod, "feeds add", url=feeds.url("mirror.xml"), name="Mirror")
        clock.advance(700)
        await bot.scheduler.run_once()
        assert server.messages("news") == []  # a new feed's backlog is recorded, not announced

        wire.items[:0] = [
            Item("송혜교, 새 드라마 출연 확정", "http://wire.example/ko1", "ko1"),
            Item("Han So-hee and Song Hye-kyo spotted together", "http://wire.example/both", "both"),
            Item("Song Joong-ki starts filming", "http://wire.example/other", "other"),
            Item("@everyone Han So-hee [free](https://evil.example) <@&1>", "http://wire.example/evil", "evil"),
        ]
        mirror.items.append(Item("Han So-hee and Song Hye-kyo spotted together", "http://wire.example/both?utm_source=x", "m1"))
        clock.advance(700)
        await bot.scheduler.run_once()

        posts = server.messages("news")
        # Song Joong-ki is nobody we follow; the mirror's copy (tracking junk on the link) is the same story.
        # Whichever feed is polled first brings the shared story; it is posted once either way.
        by_link = {m["embeds"][0]["url"].split("?")[0]: m for m in posts}
        assert len(posts) == 3
        assert sorted(by_link) == ["http://wire.example/both", "http://wire.example/evil", "http://wire.example/ko1"]
        assert by_link["http://wire.example/ko1"]["mention_roles"] == [song_role.id]
        assert set(by_link["http://wire.example/both"]["mention_roles"]) == {song_role.id, han_role.id}
        evil = by_link["http://wire.example/evil"]
        assert evil["mention_roles"] == [han_role.id] and not evil["mention_everyone"]
        assert evil["content"] == han_role.mention  # feed text never reaches the content
        assert "[free](https://evil.example)" not in evil["embeds"][0]["title"]  # escaped, so no masked link
        assert_no_pings(double, allowed_roles={song_role.id, han_role.id})

        # A restart polls again and posts nothing twice.
        bot = await start_bot.restart(bot)
        clock.advance(700)
        await bot.scheduler.run_once()
        assert len(server.messages("news")) == 3
        latest = await server.invoke(song_fan, "news latest", star="Song Hye-kyo")
        assert "송혜교, 새 드라마 출연 확정" in latest.all_text
    finally:
        await feeds.stop()
