"""Per-star news channels end to end (SPEC §10): moderators route a star with /config, the real bot
posts each story once in every channel it routes to, pinging only the stars whose news goes there."""

from __future__ import annotations

from tests.cogs.test_announce_e2e import HAN, SONG, news_server, posts_to, record, status_of


async def routed_server(start_bot, server, clock):
    """news_server plus a #song and a #han channel for the stars' own news."""
    bot, song, han, song_role, han_role = await news_server(start_bot, server, clock)
    song_channel = server.guild.add_text_channel("song-hye-kyo")
    han_channel = server.guild.add_text_channel("han-so-hee")
    return bot, song, han, song_role, han_role, song_channel, han_channel


async def route(server, star, channel):
    ix = await server.invoke(server.mod, "config channel", kind="news", channel=channel, star=f"id:{star.id}")
    assert not ix.ephemeral, ix.all_text
    return ix


def titles(double, channel):
    return [m["embeds"][0]["title"] for m in double.channel_messages(channel.id)]


async def test_one_star_routed_gets_her_news_in_her_channel_only(start_bot, server, double, clock):
    bot, song, han, song_role, han_role, song_channel, _ = await routed_server(start_bot, server, clock)
    ix = await route(server, song, song_channel)
    assert ix.all_text == f"{song_channel.mention} will receive the news about {SONG}, instead of the news channel."

    await record(bot, server, clock, "Song Hye-kyo signs with a new agency", [song])
    await record(bot, server, clock, "Han So-hee films in Busan", [han])
    assert await bot.services.announcer.deliver_pending(clock.now()) == 2

    assert titles(double, song_channel) == ["Song Hye-kyo signs with a new agency"]
    assert titles(double, server.channels["news"]) == ["Han So-hee films in Busan"]
    [mine] = double.channel_messages(song_channel.id)
    assert mine["mention_roles"] == [song_role.id]
    assert [str(r) for r in posts_to(double, song_channel)[0].json["allowed_mentions"]["roles"]] == [song_role.id]

    show = await server.invoke(server.mod, "config show")
    fields = {f["name"]: f["value"] for f in show.response["data"]["embeds"][0]["fields"]}
    assert fields["News by star"] == f"**{SONG}**: {song_channel.mention}"


async def test_two_stars_in_two_channels_make_two_posts_each_pinging_its_star(start_bot, server, double, clock):
    bot, song, han, song_role, han_role, song_channel, han_channel = await routed_server(start_bot, server, clock)
    await route(server, song, song_channel)
    await route(server, han, han_channel)

    both = await record(bot, server, clock, "Song Hye-kyo and Han So-hee to co-star", [song, han])
    assert await bot.services.announcer.deliver_pending(clock.now()) == 2

    [in_song] = double.channel_messages(song_channel.id)
    [in_han] = double.channel_messages(han_channel.id)
    assert server.messages("news") == []
    assert in_song["embeds"][0]["title"] == in_han["embeds"][0]["title"] == "Song Hye-kyo and Han So-hee to co-star"
    # Each post names both stars but pings only the one whose channel it is in.
    assert {f["name"]: f["value"] for f in in_song["embeds"][0]["fields"]}["Stars"] == f"{HAN}, {SONG}"
    assert in_song["mention_roles"] == [song_role.id] and in_han["mention_roles"] == [han_role.id]
    assert [str(r) for r in posts_to(double, han_channel)[0].json["allowed_mentions"]["roles"]] == [han_role.id]
    # One journal row per channel, each with its own nonce, both sent; the story counts once in /news latest.
    rows = await bot.db.fetchall("SELECT * FROM announcements WHERE story_id = (SELECT story_id FROM announcements "
                                 "WHERE id = ?) ORDER BY channel_id", (both,))
    assert sorted(r["channel_id"] for r in rows) == sorted([int(song_channel.id), int(han_channel.id)])
    assert {r["status"] for r in rows} == {"sent"} and len({r["nonce"] for r in rows}) == 2
    latest = await server.invoke(server.fan, "news latest")
    assert latest.all_text.count("Song Hye-kyo and Han So-hee to co-star") == 1


async def test_two_stars_in_one_channel_make_one_post_pinging_both(start_bot, server, double, clock):
    bot, song, han, song_role, han_role, song_channel, _ = await routed_server(start_bot, server, clock)
    await route(server, song, song_channel)
    await route(server, han, song_channel)

    await record(bot, server, clock, "Song Hye-kyo and Han So-hee at the Baeksang awards", [song, han])
    assert await bot.services.announcer.deliver_pending(clock.now()) == 1

    [post] = double.channel_messages(song_channel.id)
    assert set(post["mention_roles"]) == {song_role.id, han_role.id}
    assert server.messages("news") == []


async def test_a_routed_and_an_unrouted_star_go_to_her_channel_and_the_news_channel(start_bot, server, double, clock):
    bot, song, han, song_role, han_role, song_channel, _ = await routed_server(start_bot, server, clock)
    await route(server, song, song_channel)

    await record(bot, server, clock, "Song Hye-kyo and Han So-hee share a stage", [song, han])
    assert await bot.services.announcer.deliver_pending(clock.now()) == 2

    [in_song] = double.channel_messages(song_channel.id)
    [in_news] = server.messages("news")
    assert in_song["mention_roles"] == [song_role.id] and in_news["mention_roles"] == [han_role.id]


async def test_unroute_sends_her_news_back_to_the_news_channel(start_bot, server, double, clock):
    bot, song, han, song_role, han_role, song_channel, _ = await routed_server(start_bot, server, clock)
    await route(server, song, song_channel)
    await record(bot, server, clock, "Song Hye-kyo story one", [song])
    await bot.services.announcer.deliver_pending(clock.now())

    ix = await server.invoke(server.mod, "config unroute", star=f"id:{song.id}")
    assert ix.all_text == f"The news about {SONG} goes to the news channel again." and not ix.ephemeral
    await record(bot, server, clock, "Song Hye-kyo story two", [song])
    await bot.services.announcer.deliver_pending(clock.now())

    assert titles(double, song_channel) == ["Song Hye-kyo story one"]
    assert titles(double, server.channels["news"]) == ["Song Hye-kyo story two"]
    show = await server.invoke(server.mod, "config show")
    assert "News by star" not in {f["name"] for f in show.response["data"]["embeds"][0]["fields"]}

    again = await server.invoke(server.mod, "config unroute", star=f"id:{song.id}")
    assert again.ephemeral and again.all_text == (
        f"{SONG}'s news is not routed to a channel of its own; it already goes to the news channel.")


async def test_only_news_is_routed_per_star_and_nothing_changes_on_a_refusal(start_bot, server, double, clock):
    bot, song, han, song_role, han_role, song_channel, _ = await routed_server(start_bot, server, clock)
    ix = await server.invoke(server.mod, "config channel", kind="polls", channel=song_channel, star=f"id:{song.id}")
    assert ix.ephemeral and ix.all_text == "Only news can go to a star's own channel; leave out star for polls."
    unknown = await server.invoke(server.mod, "config channel", kind="news", channel=song_channel, star="Nobody")
    assert unknown.ephemeral and "does not follow a star called 'Nobody'" in unknown.all_text
    config = await bot.services.guilds.get(int(server.guild.id))
    assert config.routes == {} and config.channel("polls").channel_id == int(server.channels["polls"].id)
    fan = await server.invoke(server.fan, "config channel", kind="news", channel=song_channel, star=f"id:{song.id}")
    assert fan.ephemeral and (await bot.services.guilds.get(int(server.guild.id))).routes == {}


async def test_a_deleted_routed_channel_is_paused_and_reported_the_others_still_post(start_bot, server, double, clock):
    bot, song, han, song_role, han_role, song_channel, han_channel = await routed_server(start_bot, server, clock)
    await route(server, song, song_channel)
    await route(server, han, han_channel)
    server.guild.delete_channel(song_channel)

    song_story = await record(bot, server, clock, "Song Hye-kyo returns to the stage", [song])
    await record(bot, server, clock, "Han So-hee visits Jeju", [han])
    await record(bot, server, clock, "Lee Min-ho news for the news channel", [])
    assert await bot.services.announcer.deliver_pending(clock.now()) == 2

    assert titles(double, han_channel) == ["Han So-hee visits Jeju"]
    assert titles(double, server.channels["news"]) == ["Lee Min-ho news for the news channel"]
    notice = await double.wait_for_message(server.channels["modlog"])
    assert "stopped posting news" in notice["content"] and song_channel.id in notice["content"]
    assert notice["mention_roles"] == []
    config = await bot.services.guilds.get(int(server.guild.id))
    assert config.routes[song.id].blocked_reason == "channel_gone" and not config.routes[han.id].blocked_reason
    assert not config.channel("news").blocked_reason
    assert (await status_of(bot, song_story))["status"] == "pending"

    # Paused: later runs do not hammer the deleted channel; the story waits for a moderator.
    tries = len(double.find_requests("POST", rf"/channels/{song_channel.id}/messages"))
    clock.advance(120)
    await bot.services.announcer.deliver_pending(clock.now())
    assert len(double.find_requests("POST", rf"/channels/{song_channel.id}/messages")) == tries == 1
    show = await server.invoke(server.mod, "config show")
    fields = {f["name"]: f["value"] for f in show.response["data"]["embeds"][0]["fields"]}
    assert "paused" in fields["News by star"] and SONG in fields["News by star"]

    # Routed to a new channel, the waiting story goes there, once.
    new_home = server.guild.add_text_channel("song-news")
    await route(server, song, new_home)
    assert await bot.services.announcer.deliver_pending(clock.now()) == 1
    assert titles(double, new_home) == ["Song Hye-kyo returns to the stage"]


async def test_a_crash_mid_way_through_the_routes_posts_nothing_twice(start_bot, server, double, clock, monkeypatch):
    bot, song, han, song_role, han_role, song_channel, han_channel = await routed_server(start_bot, server, clock)
    await route(server, song, song_channel)
    await route(server, han, han_channel)
    await record(bot, server, clock, "Song Hye-kyo and Han So-hee to co-star", [song, han])
    repo = bot.services.announcer.repo

    class Killed(Exception):
        pass

    async def die(*args, **kwargs):
        raise Killed("the process died before recording the message id")

    # The first channel's post reaches Discord, then the process dies before recording it.
    monkeypatch.setattr(repo, "record_sent", die)
    assert await bot.services.announcer.deliver_pending(clock.now()) == 0
    assert sum(len(double.channel_messages(c.id)) for c in (song_channel, han_channel)) == 1

    bot = await start_bot.restart(bot)
    clock.advance(30)
    assert "news-deliver" in await bot.scheduler.run_once()
    assert len(double.channel_messages(song_channel.id)) == len(double.channel_messages(han_channel.id)) == 1
    assert double.nonce_hits == 1  # the interrupted one was resent with its nonce and not posted again
    rows = await bot.db.fetchall("SELECT status FROM announcements")
    assert [r["status"] for r in rows] == ["sent", "sent"]


async def test_a_korean_moderator_routes_unroutes_and_is_refused_in_korean(start_bot, server, double, clock):
    bot, song, han, song_role, han_role, song_channel, _ = await routed_server(start_bot, server, clock)
    ko_mod = server.guild.add_member("운영자", permissions=0x20, locale="ko")  # Manage Server
    ix = await server.invoke(ko_mod, "config channel", kind="news", channel=song_channel, star=f"id:{song.id}")
    assert ix.all_text == f"이제 송혜교 뉴스는 뉴스 채널 대신 {song_channel.mention} 채널에 올라가요."
    show = await server.invoke(ko_mod, "config show")
    fields = {f["name"]: f["value"] for f in show.response["data"]["embeds"][0]["fields"]}
    assert fields["스타별 뉴스 채널"] == f"**송혜교**: {song_channel.mention}"
    refused = await server.invoke(ko_mod, "config channel", kind="polls", channel=song_channel, star=f"id:{song.id}")
    assert refused.ephemeral and refused.all_text.startswith("스타별 채널로는 뉴스만 보낼 수 있어요.")
    back = await server.invoke(ko_mod, "config unroute", star=f"id:{song.id}")
    assert back.all_text == "송혜교 뉴스가 다시 뉴스 채널로 올라가요."
    again = await server.invoke(ko_mod, "config unroute", star=f"id:{song.id}")
    assert again.ephemeral and again.all_text.startswith("송혜교 뉴스는 따로 정한 채널이 없어요.")


async def test_the_minute_budget_and_the_digest_are_per_channel(start_bot, server, double, clock):
    bot, song, han, song_role, han_role, song_channel, _ = await routed_server(start_bot, server, clock)
    await route(server, song, song_channel)
    for n in range(7):
        await record(bot, server, clock, f"Song Hye-kyo story {n}", [song])
        await record(bot, server, clock, f"Han So-hee story {n}", [han])
    assert await bot.services.announcer.deliver_pending(clock.now()) == 14

    for channel, name, role in ((song_channel, "Song Hye-kyo", song_role),
                                (server.channels["news"], "Han So-hee", han_role)):
        messages = double.channel_messages(channel.id)
        assert [m["embeds"][0]["title"] for m in messages] == [f"{name} story {n}" for n in range(5)] + ["2 more stories"]
        assert messages[-1]["mention_roles"] == [role.id]
        assert all(f"{name} story" in line for line in messages[-1]["embeds"][0]["description"].splitlines())


async def test_a_send_interrupted_before_its_route_moved_is_finished_where_it_began(start_bot, server, double, clock,
                                                                                    monkeypatch):
    bot, song, han, song_role, han_role, song_channel, han_channel = await routed_server(start_bot, server, clock)
    await route(server, song, song_channel)
    await route(server, han, han_channel)
    first = await record(bot, server, clock, "Song Hye-kyo wins an award", [song])
    second = await record(bot, server, clock, "Han So-hee wins an award", [han])
    await bot.services.announcer.repo.route_waiting(int(server.guild.id), (await bot.services.guilds.get(
        int(server.guild.id))).routing, clock.now())
    repo = bot.services.announcer.repo

    async def die(*args, **kwargs):
        raise RuntimeError("the process died before recording the message id")

    monkeypatch.setattr(repo, "record_sent", die)
    await bot.services.announcer.deliver_pending(clock.now())
    [posted] = double.channel_messages(song_channel.id)
    # Before the restart the moderators move both stars back to the news channel, and #han is deleted.
    for star in (song, han):
        await server.invoke(server.mod, "config unroute", star=f"id:{star.id}")
    server.guild.delete_channel(han_channel)
    bot = await start_bot.restart(bot)
    clock.advance(30)
    await bot.services.announcer.deliver_pending(clock.now())

    # The Song post that may have been in #song is completed there (Discord's nonce), not posted anew in
    # #news; the Han one (never sent) follows the route to #news.
    assert double.channel_messages(song_channel.id) == [posted] and double.nonce_hits == 1
    assert [m["embeds"][0]["title"] for m in server.messages("news")] == ["Han So-hee wins an award"]
    assert (await status_of(bot, first))["status"] == "sent"
    assert (await bot.db.fetchone("SELECT channel_id FROM announcements WHERE id = ?", (second,)))["channel_id"] == int(
        server.channels["news"].id)


async def test_an_interrupted_send_in_a_deleted_channel_no_longer_routed_is_given_up_not_hammered(
        start_bot, server, double, clock):
    bot, song, han, song_role, han_role, _, han_channel = await routed_server(start_bot, server, clock)
    gid = int(server.guild.id)
    await route(server, han, han_channel)
    row = await record(bot, server, clock, "Han So-hee wins an award", [han])
    repo = bot.services.announcer.repo
    await repo.route_waiting(gid, (await bot.services.guilds.get(gid)).routing, clock.now())
    assert await repo.begin_send(row, int(han_channel.id), clock.now())  # then the process died
    await server.invoke(server.mod, "config unroute", star=f"id:{han.id}")
    server.guild.delete_channel(han_channel)

    for _ in range(2):
        clock.advance(30)
        await bot.services.announcer.deliver_pending(clock.now())
    assert len(double.find_requests("POST", rf"/channels/{han_channel.id}/messages")) == 1
    assert (await status_of(bot, row))["status"] == "failed"
    assert server.messages("news") == [] and server.messages("modlog") == []
