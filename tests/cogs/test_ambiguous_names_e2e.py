"""Ambiguous names as fans meet them (issue 11): only stories that are about the star are announced."""

from __future__ import annotations

from tests.conftest import assert_no_pings
from tests.feedserver import FeedServer, Item


async def test_college_sports_and_housing_stories_do_not_ping_fans_but_the_stars_stories_do(start_bot, server, double, clock):
    feeds = await FeedServer().start()
    try:
        bot = await start_bot()
        await server.invoke(server.mod, "config channel", kind="news", channel=server.channels["news"])
        await server.invoke(server.mod, "stars follow", name="IU")
        await server.invoke(server.mod, "stars follow", name="Suzy")
        await server.invoke(server.fan, "notify add", star="IU")
        await server.invoke(server.fan, "notify add", star="Suzy")
        roles = {r.name: r for r in server.guild.roles.values()}
        iu_role, suzy_role = roles["🔔 IU"], roles["🔔 Suzy"]

        wire = feeds.feed("wire.xml")
        await server.invoke(server.mod, "feeds add", url=feeds.url("wire.xml"), name="Wire")
        wire.items[:0] = [
            Item("IU tops the list again", "http://wire.example/sports", "s",
                 summary="The Hoosiers beat Purdue 79-74 at Assembly Hall."),
            Item("IU tops the list again", "http://wire.example/album", "a",
                 summary="Her new album stayed first on the chart for a third week."),
            Item("용인 수지 2지구 아파트 분양", "http://wire.example/housing", "h"),
            Item("5월 경상수지 89억 달러 흑자", "http://wire.example/balance", "b"),
            Item("배우 수지, 차기작 확정", "http://wire.example/suzy", "z"),
            Item("Suzy Menkes reviews the Paris shows", "http://wire.example/menkes", "m"),
            # A first name alone, and nothing around it that says it is her: precision first.
            Item("Suzy, restless and romantic, arrives late", "http://wire.example/someone", "o"),
        ]
        clock.advance(700)
        await bot.scheduler.run_once()

        posts = {m["embeds"][0]["url"]: m for m in server.messages("news")}
        assert sorted(posts) == ["http://wire.example/album", "http://wire.example/suzy"]
        assert posts["http://wire.example/album"]["mention_roles"] == [iu_role.id]
        assert posts["http://wire.example/suzy"]["mention_roles"] == [suzy_role.id]
        assert_no_pings(double, allowed_roles={iu_role.id, suzy_role.id})
    finally:
        await feeds.stop()
