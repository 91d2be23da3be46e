"""Digests through the Discord double: retries after server errors, giving up, deleted roles, nonce trust."""

from __future__ import annotations

from datetime import timedelta

from bot.services.announcer import GIVE_UP_AFTER, NONCE_TRUST
from bot.storage.timefmt import to_db
from tests.cogs.test_announce_e2e import news_server, posts_to, record, status_of
from tests.cogs.test_delivery_guards_e2e import die_before_recording


async def fill_the_minute(bot, server, clock, star, count=5):
    """Five stories posted alone use up the minute's budget, so what follows goes into a digest."""
    for n in range(count):
        await record(bot, server, clock, f"Budget {n} Song Hye-kyo", [star])
    assert await bot.services.announcer.deliver_pending(clock.now()) == count


def digest_posts(double, server, nonce):
    news = server.channels["news"]
    return [r for r in double.find_requests("POST", rf"/channels/{news.id}/messages") if r.json["nonce"] == nonce]


async def the_digest(bot):
    return await bot.db.fetchone("SELECT * FROM announcement_digests")


async def test_a_digest_hit_by_a_server_error_waits_whole_and_is_resent_with_its_nonce(start_bot, server, double,
                                                                                     clock):
    bot, song, _han, _sr, _hr = await news_server(start_bot, server, clock)
    news = server.channels["news"]
    await fill_the_minute(bot, server, clock, song)
    overflow = [await record(bot, server, clock, f"Overflow {n} Song Hye-kyo", [song]) for n in range(2)]
    double.fail_channel(news, 503)
    assert await bot.services.announcer.deliver_pending(clock.now()) == 0

    digest = await the_digest(bot)
    assert digest["status"] == "sending" and "503" in digest["last_error"]
    assert digest["next_attempt_at"] > to_db(clock.now())
    assert [(await status_of(bot, i))["digest_id"] for i in overflow] == [digest["id"]] * 2
    assert (await bot.services.guilds.get(int(server.guild.id))).channel("news").blocked_reason is None

    double.clear_channel_failure(news)
    assert await bot.services.announcer.deliver_pending(clock.now()) == 0  # backing off
    clock.advance(timedelta(seconds=61))
    assert await bot.services.announcer.deliver_pending(clock.now()) == 2
    assert [r.status for r in digest_posts(double, server, digest["nonce"])] == [503, 200]
    assert len(server.messages("news")) == 6
    assert [(await status_of(bot, i))["status"] for i in overflow] == ["digested", "digested"]


async def test_a_digest_discord_keeps_refusing_is_given_up_after_exactly_eight_attempts(start_bot, server, double,
                                                                                      clock):
    bot, song, _han, _sr, _hr = await news_server(start_bot, server, clock)
    await fill_the_minute(bot, server, clock, song)
    for n in range(2):
        await record(bot, server, clock, f"Overflow {n} Song Hye-kyo", [song])
    double.fail_channel(server.channels["news"], 400)
    for _ in range(20):
        await bot.services.announcer.deliver_pending(clock.now())
        clock.advance(timedelta(minutes=31))
        digest = await the_digest(bot)
        if digest["status"] != "sending":
            break
    assert digest["status"] == "dissolved" and digest["attempts"] == GIVE_UP_AFTER == 8
    assert len(digest_posts(double, server, digest["nonce"])) == 8


async def test_a_digest_resent_within_the_nonce_memory_trusts_the_nonce_and_reads_no_history(
        start_bot, server, double, clock, monkeypatch):
    bot, song, _han, _sr, _hr = await news_server(start_bot, server, clock)
    for n in range(7):
        await record(bot, server, clock, f"Flood {n} Song Hye-kyo", [song])

    die_before_recording(monkeypatch, bot, "record_digest_sent")
    await bot.services.announcer.deliver_pending(clock.now())
    posted = server.messages("news")

    bot = await start_bot.restart(bot)
    clock.advance(NONCE_TRUST)
    await bot.services.announcer.deliver_pending(clock.now())
    assert server.messages("news") == posted and double.nonce_hits == 1
    assert double.find_requests("GET", rf"/channels/{server.channels['news'].id}/messages") == []
    assert (await the_digest(bot))["message_id"] == int(posted[5]["id"])


async def test_a_role_deleted_in_discord_is_pinged_neither_alone_nor_in_a_digest(start_bot, server, double, clock):
    bot, song, han, song_role, han_role = await news_server(start_bot, server, clock)
    guild = server.guild
    del guild.roles[han_role.id]
    double.gateway.guild_event(guild, "GUILD_ROLE_DELETE", {"guild_id": guild.id, "role_id": han_role.id})
    await double.wait_for(lambda: bot.get_guild(int(guild.id)).get_role(int(han_role.id)) is None,
                          what="the bot to see the role deleted")

    for n in range(7):
        await record(bot, server, clock, f"Han So-hee and Song Hye-kyo {n}", [song, han])
    assert await bot.services.announcer.deliver_pending(clock.now()) == 7
    messages = server.messages("news")
    assert len(messages) == 6 and messages[5]["embeds"][0]["title"] == "2 more stories"
    for message, request in zip(messages, posts_to(double, server.channels["news"]), strict=True):
        assert message["content"] == song_role.mention
        assert request.json["allowed_mentions"]["roles"] == [int(song_role.id)]
    # The digest looks like the posts and, in an announcement channel, is crossposted like them.
    digest = messages[5]
    assert digest["embeds"][0]["color"] == messages[0]["embeds"][0]["color"] == 0xE88AA6
    assert digest["flags"] & 1  # CROSSPOSTED
