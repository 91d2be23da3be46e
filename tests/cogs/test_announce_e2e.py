"""News announcements end to end: the real bot posts pending stories into the double's news channel."""

from __future__ import annotations

from datetime import timedelta

from bot.storage.timefmt import to_db

SONG, HAN = "Song Hye-kyo", "Han So-hee"


async def news_server(start_bot, server, clock):
    """A configured server following two stars, with `fan` opted in to Song and `fan2` to both."""
    bot = await start_bot()
    await server.configure(bot)
    gid = int(server.guild.id)
    song = await bot.services.stars.follow(gid, SONG)
    han = await bot.services.stars.follow(gid, HAN)
    fan2 = server.new_fan()
    for member, star in ((server.fan, song), (fan2, song), (fan2, han)):
        ix = await server.invoke(member, "notify add", star=f"id:{star.id}")
        await ix.wait_done()
        assert "pinged" in ix.all_text, ix.all_text
    roles = {r.name: r for r in server.guild.roles.values()}
    return bot, song, han, roles[f"🔔 {SONG}"], roles[f"🔔 {HAN}"]


async def record(bot, server, clock, title, stars, **fields):
    return await bot.services.announcer.repo.record_story(
        int(server.guild.id), title=title, now=clock.now(), star_ids=[s.id for s in stars],
        link=fields.pop("link", f"https://news.example/{abs(hash(title))}"), **fields)


def posts_to(double, channel):
    return [r for r in double.find_requests("POST", rf"/channels/{channel.id}/messages") if r.status == 200]


async def status_of(bot, announcement_id):
    return await bot.db.fetchone("SELECT * FROM announcements WHERE id = ?", (announcement_id,))


async def test_a_story_pings_only_its_stars_roles(start_bot, server, double, clock):
    bot, song, han, song_role, han_role = await news_server(start_bot, server, clock)
    assert song_role.mentionable and han_role.mentionable
    assert song_role.id in server.fan.roles and han_role.id not in server.fan.roles

    await record(bot, server, clock, "Song Hye-kyo joins a new thriller", [song],
                 summary="The actress <b>signed</b> on Monday. " + "More. " * 100, source_name="Korea Daily",
                 image_url="https://img.example/a.jpg", link="https://news.example/thriller")
    assert "news-deliver" in await bot.scheduler.run_once(force=True)

    [message] = server.messages("news")
    assert message["content"] == song_role.mention
    assert message["mention_roles"] == [song_role.id] and not message["mention_everyone"]
    [request] = posts_to(double, server.channels["news"])
    sent = request.json
    assert sent["allowed_mentions"]["parse"] == []
    assert [str(r) for r in sent["allowed_mentions"]["roles"]] == [song_role.id]
    assert sent["nonce"] and sent["enforce_nonce"] is True and len(sent["nonce"]) <= 25
    [embed] = message["embeds"]
    assert embed["title"] == "Song Hye-kyo joins a new thriller"
    assert embed["url"] == "https://news.example/thriller"
    assert embed["image"]["url"] == "https://img.example/a.jpg"
    assert embed["timestamp"].startswith("2026-11-29T03:00")
    assert len(embed["description"]) <= 300 and embed["description"].endswith("…")
    fields = {f["name"]: f["value"] for f in embed["fields"]}
    assert fields == {"Stars": SONG, "Source": "Korea Daily"}

    await record(bot, server, clock, "Song Hye-kyo and Han So-hee to co-star", [song, han])
    await bot.services.announcer.deliver_pending(clock.now())
    both = server.messages("news")[-1]
    assert set(both["mention_roles"]) == {song_role.id, han_role.id}
    roles = posts_to(double, server.channels["news"])[-1].json["allowed_mentions"]["roles"]
    assert sorted(str(r) for r in roles) == sorted([song_role.id, han_role.id])


async def test_hostile_title_pings_nothing_extra_and_renders_inert(start_bot, server, double, clock):
    bot, song, han, song_role, han_role = await news_server(start_bot, server, clock)
    title = f"@everyone @here <@&{han_role.id}> <@{server.fan.id}> [free tickets](https://evil.example/x) Song Hye-kyo"
    await record(bot, server, clock, title, [song], summary=f"@everyone <@&{han_role.id}> **bold**",
                 image_url="javascript:alert(1)", link="javascript:alert(1)")
    await bot.services.announcer.deliver_pending(clock.now())

    [message] = server.messages("news")
    assert message["content"] == song_role.mention
    assert message["mention_roles"] == [song_role.id]
    assert not message["mention_everyone"] and message["mentions"] == []
    sent = posts_to(double, server.channels["news"])[-1].json
    assert sent["allowed_mentions"] == {"parse": [], "roles": [int(song_role.id)]}
    [embed] = message["embeds"]
    for text in (embed["title"], embed["description"]):
        assert "@everyone" not in text and "@here" not in text
        assert f"<@&{han_role.id}>" not in text and f"<@{server.fan.id}>" not in text
    assert "[free tickets](" not in embed["title"] and "\\[free tickets\\]" in embed["title"]
    assert "\\*\\*bold\\*\\*" in embed["description"]
    assert "url" not in embed and "image" not in embed  # not http(s): dropped


async def test_eight_stories_make_five_posts_and_one_digest_per_minute(start_bot, server, double, clock):
    bot, song, han, song_role, han_role = await news_server(start_bot, server, clock)
    ids = [await record(bot, server, clock, f"Story {n} about Song Hye-kyo", [han if n == 7 else song])
           for n in range(8)]
    delivered = await bot.services.announcer.deliver_pending(clock.now())
    assert delivered == 8
    messages = server.messages("news")
    assert len(messages) == 6
    singles, digest = messages[:5], messages[5]
    assert [m["embeds"][0]["title"] for m in singles] == [f"Story {n} about Song Hye-kyo" for n in range(5)]
    assert digest["embeds"][0]["title"] == "3 more stories"
    lines = digest["embeds"][0]["description"].splitlines()
    assert len(lines) == 3 and all(line.startswith("• [Story ") for line in lines)
    assert "](https://news.example/" in lines[0]
    assert set(digest["mention_roles"]) == {song_role.id, han_role.id}  # the union of the digested stars' roles
    rows = [await status_of(bot, i) for i in ids]
    assert [r["status"] for r in rows] == ["sent"] * 5 + ["digested"] * 3
    assert {r["message_id"] for r in rows[5:]} == {int(digest["id"])}

    # Within the same minute, nothing more goes out: neither posts nor a second digest.
    clock.advance(20)
    later = [await record(bot, server, clock, f"Late story {n}", [song]) for n in range(7)]
    assert await bot.services.announcer.deliver_pending(clock.now()) == 0
    assert len(server.messages("news")) == 6
    assert {(await status_of(bot, i))["status"] for i in later} == {"pending"}

    clock.advance(41)  # the first five are now more than a minute old
    assert await bot.services.announcer.deliver_pending(clock.now()) == 7
    messages = server.messages("news")
    assert len(messages) == 6 + 5 + 1
    assert messages[-1]["embeds"][0]["title"] == "2 more stories"
    assert {(await status_of(bot, i))["status"] for i in later} == {"sent", "digested"}


async def test_a_crash_between_send_and_record_does_not_post_twice(start_bot, server, double, clock, monkeypatch):
    bot, song, han, song_role, han_role = await news_server(start_bot, server, clock)
    announcement_id = await record(bot, server, clock, "Song Hye-kyo wins an award", [song])

    class Killed(Exception):
        pass

    async def die(*args, **kwargs):
        raise Killed("the process died before recording the message id")

    monkeypatch.setattr(bot.services.announcer.repo, "record_sent", die)
    assert await bot.services.announcer.deliver_pending(clock.now()) == 0  # logged, not recorded
    [posted] = server.messages("news")
    row = await status_of(bot, announcement_id)
    assert row["status"] == "sending" and row["message_id"] is None and row["attempts"] == 1

    bot = await start_bot.restart(bot)
    clock.advance(30)
    assert "news-deliver" in await bot.scheduler.run_once()
    assert server.messages("news") == [posted]
    assert double.nonce_hits == 1
    requests = posts_to(double, server.channels["news"])
    assert len(requests) == 2 and requests[0].json["nonce"] == requests[1].json["nonce"]
    row = await status_of(bot, announcement_id)
    assert row["status"] == "sent" and row["message_id"] == int(posted["id"]) and row["attempts"] == 2


async def test_a_crash_older_than_the_nonce_memory_is_found_in_the_channel(start_bot, server, double, clock,
                                                                            monkeypatch):
    bot, song, han, song_role, han_role = await news_server(start_bot, server, clock)
    announcement_id = await record(bot, server, clock, "Song Hye-kyo at Cannes", [song])

    async def die(*args, **kwargs):
        raise RuntimeError("killed")

    monkeypatch.setattr(bot.services.announcer.repo, "record_sent", die)
    await bot.services.announcer.deliver_pending(clock.now())
    [posted] = server.messages("news")

    bot = await start_bot.restart(bot)
    clock.advance(timedelta(minutes=30))  # Discord may have forgotten the nonce by now
    await bot.services.announcer.deliver_pending(clock.now())
    assert server.messages("news") == [posted]
    assert len(posts_to(double, server.channels["news"])) == 1  # found, not sent again
    row = await status_of(bot, announcement_id)
    assert row["status"] == "sent" and row["message_id"] == int(posted["id"])


async def test_a_digest_interrupted_by_a_crash_is_not_posted_twice(start_bot, server, double, clock, monkeypatch):
    bot, song, han, song_role, han_role = await news_server(start_bot, server, clock)
    ids = [await record(bot, server, clock, f"Flood {n} Song Hye-kyo", [song]) for n in range(7)]

    async def die(*args, **kwargs):
        raise RuntimeError("killed")

    monkeypatch.setattr(bot.services.announcer.repo, "record_digest_sent", die)
    await bot.services.announcer.deliver_pending(clock.now())
    assert len(server.messages("news")) == 6
    assert [(await status_of(bot, i))["status"] for i in ids[5:]] == ["sending", "sending"]

    bot = await start_bot.restart(bot)
    clock.advance(10)
    await bot.services.announcer.deliver_pending(clock.now())
    messages = server.messages("news")
    assert len(messages) == 6 and double.nonce_hits == 1
    rows = [await status_of(bot, i) for i in ids]
    assert [r["status"] for r in rows] == ["sent"] * 5 + ["digested"] * 2
    assert rows[5]["message_id"] == rows[6]["message_id"] == int(messages[5]["id"])


async def test_a_refused_channel_is_paused_and_resumes_after_config(start_bot, server, double, clock):
    bot, song, han, song_role, han_role = await news_server(start_bot, server, clock)
    double.fail_channel(server.channels["news"], 403)
    first = await record(bot, server, clock, "Song Hye-kyo on a magazine cover", [song])
    second = await record(bot, server, clock, "Song Hye-kyo interview", [song])
    assert await bot.services.announcer.deliver_pending(clock.now()) == 0

    assert server.messages("news") == []
    notice = await double.wait_for_message(server.channels["modlog"])
    assert "stopped posting news" in notice["content"] and notice["mention_roles"] == []
    assert {(await status_of(bot, i))["status"] for i in (first, second)} == {"pending"}
    config = await bot.services.guilds.get(int(server.guild.id))
    assert config.channel("news").blocked_reason

    # Paused: later runs do not hammer the channel.
    tries = len(double.find_requests("POST", rf"/channels/{server.channels['news'].id}/messages"))
    clock.advance(120)
    await bot.services.announcer.deliver_pending(clock.now())
    assert len(double.find_requests("POST", rf"/channels/{server.channels['news'].id}/messages")) == tries == 1

    double.clear_channel_failure(server.channels["news"])
    ix = await server.invoke(server.mod, "config channel", kind="news", channel=server.channels["news"])
    assert not ix.ephemeral
    assert await bot.services.announcer.deliver_pending(clock.now()) == 2
    assert [m["embeds"][0]["title"] for m in server.messages("news")] == [
        "Song Hye-kyo on a magazine cover", "Song Hye-kyo interview"]
    assert {(await status_of(bot, i))["status"] for i in (first, second)} == {"sent"}


async def test_a_server_error_is_retried_later_with_the_same_nonce(start_bot, server, double, clock):
    bot, song, han, song_role, han_role = await news_server(start_bot, server, clock)
    double.fail_channel(server.channels["news"], 503)
    announcement_id = await record(bot, server, clock, "Song Hye-kyo returns", [song])
    assert await bot.services.announcer.deliver_pending(clock.now()) == 0
    row = await status_of(bot, announcement_id)
    # It may have been posted after all, so it stays 'sending': the retry reuses the nonce.
    assert row["status"] == "sending" and row["next_attempt_at"] > to_db(clock.now())
    assert "503" in row["last_error"]

    double.clear_channel_failure(server.channels["news"])
    assert await bot.services.announcer.deliver_pending(clock.now()) == 0  # backing off
    assert server.messages("news") == []
    clock.advance(timedelta(seconds=31))
    assert await bot.services.announcer.deliver_pending(clock.now()) == 1
    assert len(server.messages("news")) == 1
    requests = double.find_requests("POST", rf"/channels/{server.channels['news'].id}/messages")
    assert [r.status for r in requests] == [503, 200]
    assert requests[0].json["nonce"] == requests[1].json["nonce"]
    config = await bot.services.guilds.get(int(server.guild.id))
    assert config.channel("news").blocked_reason is None  # a server error is not a reason to pause


async def test_posts_in_an_announcement_channel_are_crossposted(start_bot, server, double, clock):
    bot, song, han, song_role, han_role = await news_server(start_bot, server, clock)
    await record(bot, server, clock, "Han So-hee new film", [han])
    await bot.services.announcer.deliver_pending(clock.now())
    [message] = server.messages("news")
    assert message["flags"] & 1  # CROSSPOSTED
    assert double.find_requests("POST", rf"/channels/{server.channels['news'].id}/messages/{message['id']}/crosspost")

    # A plain text channel: posted, not crossposted.
    await bot.services.guilds.set_channel(int(server.guild.id), "news", int(server.general.id))
    await record(bot, server, clock, "Han So-hee second story", [han])
    await bot.services.announcer.deliver_pending(clock.now())
    [plain] = double.channel_messages(server.general)
    assert not plain["flags"] & 1
    assert not double.find_requests("POST", r"/channels/\d+/messages/\d+/crosspost")[1:]


async def test_a_failed_crosspost_is_not_fatal(start_bot, server, double, clock):
    bot, song, han, song_role, han_role = await news_server(start_bot, server, clock)
    news = server.channels["news"]
    announcement_id = await record(bot, server, clock, "Song Hye-kyo event", [song])
    original = double.messages.create

    def create_then_fail(*args, **kwargs):
        # Discord refuses the crosspost (say the bot lost a permission between posting and publishing).
        result = original(*args, **kwargs)
        double.fail_channel(news, 403, methods=("POST",))
        return result

    double.messages.create = create_then_fail
    try:
        assert await bot.services.announcer.deliver_pending(clock.now()) == 1
    finally:
        double.messages.create = original
        double.clear_channel_failure(news)
    assert (await status_of(bot, announcement_id))["status"] == "sent"
    [message] = server.messages("news")
    assert not message["flags"] & 1
    [refused] = double.find_requests("POST", rf"/channels/{news.id}/messages/{message['id']}/crosspost")
    assert refused.status == 403
    assert (await bot.services.guilds.get(int(server.guild.id))).channel("news").blocked_reason is None


async def test_no_news_channel_keeps_stories_pending(start_bot, server, double, clock):
    bot = await start_bot()
    gid = int(server.guild.id)
    song = await bot.services.stars.follow(gid, SONG)
    announcement_id = await record(bot, server, clock, "Song Hye-kyo story", [song])
    assert await bot.services.announcer.deliver_pending(clock.now()) == 0
    assert (await status_of(bot, announcement_id))["status"] == "pending"
    await bot.services.guilds.set_channel(gid, "news", int(server.channels["news"].id))
    assert await bot.services.announcer.deliver_pending(clock.now()) == 1
    [message] = server.messages("news")
    assert message["content"] == ""  # no notify role yet: nobody to ping
    assert posts_to(double, server.channels["news"])[0].json["allowed_mentions"] == {"parse": []}


async def test_a_refusal_after_a_maybe_posted_send_does_not_post_twice(start_bot, server, double, clock,
                                                                      monkeypatch):
    from tests.discord_double import messages as double_messages

    bot, song, han, song_role, han_role = await news_server(start_bot, server, clock)
    announcement_id = await record(bot, server, clock, "Song Hye-kyo on tour", [song])

    async def die(*args, **kwargs):
        raise RuntimeError("killed between send and record")

    monkeypatch.setattr(bot.services.announcer.repo, "record_sent", die)
    await bot.services.announcer.deliver_pending(clock.now())
    [posted] = server.messages("news")

    # Restarted three minutes later, the channel now refuses: the post made before the crash still exists.
    bot = await start_bot.restart(bot)
    clock.advance(timedelta(minutes=3))
    double.fail_channel(server.channels["news"], 403)
    assert await bot.services.announcer.deliver_pending(clock.now()) == 0
    assert (await status_of(bot, announcement_id))["status"] == "sending"

    # Two minutes on the channel works again; Discord has forgotten the nonce of the first send.
    clock.advance(timedelta(minutes=2))
    monkeypatch.setattr(double_messages, "NONCE_WINDOW_S", 0.0)
    double.clear_channel_failure(server.channels["news"])
    await server.invoke(server.mod, "config channel", kind="news", channel=server.channels["news"])
    await bot.services.announcer.deliver_pending(clock.now())
    assert server.messages("news") == [posted]
    row = await status_of(bot, announcement_id)
    assert row["status"] == "sent" and row["message_id"] == int(posted["id"])


async def test_a_digest_discord_keeps_refusing_is_given_up_not_reformed(start_bot, server, double, clock):
    bot, song, han, song_role, han_role = await news_server(start_bot, server, clock)
    news = server.channels["news"]
    for n in range(5):
        await record(bot, server, clock, f"Budget {n} Song Hye-kyo", [song])
    assert await bot.services.announcer.deliver_pending(clock.now()) == 5
    overflow = [await record(bot, server, clock, f"Overflow {n} Song Hye-kyo", [song]) for n in range(2)]
    double.fail_channel(news, 400)  # Discord refuses the digest itself as malformed, every time
    for _ in range(40):
        await bot.services.announcer.deliver_pending(clock.now())
        clock.advance(timedelta(minutes=30))
        digest = await bot.db.fetchone("SELECT * FROM announcement_digests")
        if digest["status"] != "sending":
            break
    assert digest["status"] == "dissolved" and digest["attempts"] >= 8
    rows = [await status_of(bot, i) for i in overflow]
    assert [r["status"] for r in rows] == ["failed", "failed"] and "400" in rows[0]["last_error"]
    tries = len(double.find_requests("POST", rf"/channels/{news.id}/messages"))
    clock.advance(timedelta(hours=1))
    await bot.services.announcer.deliver_pending(clock.now())
    assert len(double.find_requests("POST", rf"/channels/{news.id}/messages")) == tries  # given up for good
    assert len(server.messages("news")) == 5
