"""The exactly-once guards of news delivery, each pinned with a crash or a refusal where a real one lands.

"Discord has forgotten the nonce" is the double's NONCE_WINDOW_S set to zero; the bot's own sense of
how long ago a send began is the injected clock.
"""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest

from bot.domain.announcements import render_post
from bot.services.announcer import GIVE_UP_AFTER, HISTORY_LOOKBACK, NONCE_TRUST, post_embed
from bot.storage.timefmt import to_db
from tests.cogs.test_announce_e2e import news_server, posts_to, record, status_of
from tests.discord_double import messages as double_messages

LONG_AFTER = timedelta(minutes=30)  # well past NONCE_TRUST and Discord's nonce memory


def die_before_recording(monkeypatch, bot, step):
    """The process dies after Discord took the message and before `step` recorded it (a real crash)."""
    async def die(*args, **kwargs):
        raise RuntimeError(f"killed before {step}")

    monkeypatch.setattr(bot.services.announcer.repo, step, die)


def forget_nonces(monkeypatch):
    monkeypatch.setattr(double_messages, "NONCE_WINDOW_S", 0.0)


async def crash_before_sending(bot, server, clock, title, stars, **fields):
    """A story whose send was journaled ('sending') by a process that died before Discord got the request."""
    announcement_id = await record(bot, server, clock, title, stars, **fields)
    repo = bot.services.announcer.repo
    assert await repo.begin_send(announcement_id, int(server.channels["news"].id), clock.now())
    return announcement_id


async def rendered_embed(bot, announcement_id) -> dict:
    """The embed the bot posts for this story, as Discord stores it."""
    story = (await bot.services.announcer.repo.get(announcement_id)).story
    return post_embed(render_post(story), bot.i18n.english).to_dict()


def put_in_channel(double, server, embed=None, *, author=None, content=""):
    """A message already in #news (an earlier post of the bot's, or somebody else's)."""
    news = server.channels["news"]
    extra = {"author": author.user.payload()} if author is not None else None
    body = {"content": content, "embeds": [embed] if embed else []}
    message, _ = double.messages.create(news.id, server.guild.id, body, [], extra=extra)
    return message


def history_reads(double, server):
    return double.find_requests("GET", rf"/channels/{server.channels['news'].id}/messages$")


async def test_a_digest_interrupted_longer_ago_than_the_nonce_memory_is_found_in_the_channel(
        start_bot, server, double, clock, monkeypatch):
    bot, song, _han, _sr, _hr = await news_server(start_bot, server, clock)
    ids = [await record(bot, server, clock, f"Flood {n} Song Hye-kyo", [song]) for n in range(7)]

    die_before_recording(monkeypatch, bot, "record_digest_sent")
    await bot.services.announcer.deliver_pending(clock.now())
    posted = server.messages("news")
    assert len(posted) == 6 and posted[5]["embeds"][0]["title"] == "2 more stories"

    bot = await start_bot.restart(bot)
    clock.advance(LONG_AFTER)
    forget_nonces(monkeypatch)
    await bot.services.announcer.deliver_pending(clock.now())

    assert server.messages("news") == posted  # found by the history check, not posted again
    # Found, it is crossposted as a fresh post would have been (the crash came before that step).
    news = server.channels["news"]
    assert double.find_requests("POST", rf"/channels/{news.id}/messages/{posted[5]['id']}/crosspost")
    digest_nonce = posts_to(double, server.channels["news"])[5].json["nonce"]
    assert [r.json["nonce"] for r in posts_to(double, server.channels["news"])].count(digest_nonce) == 1
    digest = await bot.db.fetchone("SELECT * FROM announcement_digests")
    assert digest["status"] == "sent" and digest["message_id"] == int(posted[5]["id"])
    rows = [await status_of(bot, i) for i in ids[5:]]
    assert [r["status"] for r in rows] == ["digested", "digested"]
    assert {r["message_id"] for r in rows} == {int(posted[5]["id"])}


async def test_a_resend_within_the_nonce_memory_trusts_the_nonce_and_reads_no_history(
        start_bot, server, double, clock, monkeypatch):
    bot, song, _han, _sr, _hr = await news_server(start_bot, server, clock)
    announcement_id = await record(bot, server, clock, "Song Hye-kyo signs with a new agency", [song])

    die_before_recording(monkeypatch, bot, "record_sent")
    await bot.services.announcer.deliver_pending(clock.now())
    [posted] = server.messages("news")
    row = await status_of(bot, announcement_id)
    assert (row["status"], row["channel_id"]) == ("sending", int(server.channels["news"].id))

    bot = await start_bot.restart(bot)
    clock.advance(NONCE_TRUST)  # exactly as long as the bot trusts Discord to remember the nonce
    await bot.services.announcer.deliver_pending(clock.now())
    assert server.messages("news") == [posted] and double.nonce_hits == 1
    assert history_reads(double, server) == []
    assert (await status_of(bot, announcement_id))["message_id"] == int(posted["id"])


@pytest.mark.parametrize("differs", ["title", "url", "description"])
async def test_an_older_post_matching_only_part_of_the_story_is_not_taken_for_it(
        start_bot, server, double, clock, differs):
    bot, song, _han, _sr, _hr = await news_server(start_bot, server, clock)
    announcement_id = await crash_before_sending(
        bot, server, clock, "Song Hye-kyo at the Blue Dragon awards", [song],
        link="https://news.example/blue-dragon", summary="She wore a black gown.")
    older = await rendered_embed(bot, announcement_id)
    older[differs] = {"title": "Song Hye-kyo at the Baeksang awards", "url": "https://news.example/baeksang",
                      "description": "She wore a white gown."}[differs]
    unrelated = put_in_channel(double, server, older)

    clock.advance(LONG_AFTER)
    assert await bot.services.announcer.deliver_pending(clock.now()) == 1
    messages = server.messages("news")
    assert len(messages) == 2 and messages[0]["id"] == unrelated["id"]
    row = await status_of(bot, announcement_id)
    assert row["status"] == "sent" and row["message_id"] == int(messages[1]["id"])
    assert len(posts_to(double, server.channels["news"])) == 1


async def test_an_older_post_matching_title_link_and_description_is_taken_for_the_story(
        start_bot, server, double, clock):
    bot, song, _han, _sr, _hr = await news_server(start_bot, server, clock)
    announcement_id = await crash_before_sending(
        bot, server, clock, "Song Hye-kyo at the Blue Dragon awards", [song],
        link="https://news.example/blue-dragon", summary="She wore a black gown.")
    earlier = put_in_channel(double, server, await rendered_embed(bot, announcement_id))
    put_in_channel(double, server, {"title": "A newer story", "url": "https://news.example/newer"})

    clock.advance(LONG_AFTER)
    assert await bot.services.announcer.deliver_pending(clock.now()) == 1
    assert posts_to(double, server.channels["news"]) == []
    row = await status_of(bot, announcement_id)
    assert row["status"] == "sent" and row["message_id"] == int(earlier["id"])
    assert row["channel_id"] == int(server.channels["news"].id)  # counted in this channel's minute budget
    # Found, it is crossposted as the fresh post would have been.
    assert double.find_requests("POST", rf"/channels/{server.channels['news'].id}/messages/{earlier['id']}/crosspost")


async def test_a_message_by_someone_else_is_never_taken_for_the_bots_post(start_bot, server, double, clock):
    bot, song, _han, _sr, _hr = await news_server(start_bot, server, clock)
    announcement_id = await crash_before_sending(bot, server, clock, "Song Hye-kyo in Paris", [song],
                                                 summary="Fashion week.")
    copy = put_in_channel(double, server, await rendered_embed(bot, announcement_id), author=server.fan)

    clock.advance(LONG_AFTER)
    assert await bot.services.announcer.deliver_pending(clock.now()) == 1
    [request] = posts_to(double, server.channels["news"])
    row = await status_of(bot, announcement_id)
    assert row["status"] == "sent" and row["message_id"] == int(request.response["id"]) != int(copy["id"])


@pytest.mark.parametrize(("newer", "found"), [(HISTORY_LOOKBACK - 1, True), (HISTORY_LOOKBACK, False)])
async def test_the_history_check_reads_the_latest_fifty_messages(start_bot, server, double, clock, newer, found):
    bot, song, _han, _sr, _hr = await news_server(start_bot, server, clock)
    announcement_id = await crash_before_sending(bot, server, clock, "Song Hye-kyo in Seoul", [song],
                                                 summary="A quiet day.")
    earlier = put_in_channel(double, server, await rendered_embed(bot, announcement_id))
    for n in range(newer):
        put_in_channel(double, server, author=server.fan, content=f"chat {n}")

    clock.advance(LONG_AFTER)
    await bot.services.announcer.deliver_pending(clock.now())
    [read] = history_reads(double, server)
    assert read.query["limit"] == str(HISTORY_LOOKBACK) == "50"
    row = await status_of(bot, announcement_id)
    assert (row["message_id"] == int(earlier["id"])) is found
    assert len(posts_to(double, server.channels["news"])) == (0 if found else 1)


@pytest.mark.parametrize(("status", "reason"), [(403, "no_permission"), (404, "channel_gone")])
async def test_a_retried_digest_refused_by_the_channel_waits_whole_and_is_not_posted_twice(
        start_bot, server, double, clock, monkeypatch, caplog, status, reason):
    bot, song, _han, _sr, _hr = await news_server(start_bot, server, clock)
    news = server.channels["news"]
    ids = [await record(bot, server, clock, f"Wave {n} Song Hye-kyo", [song]) for n in range(7)]

    die_before_recording(monkeypatch, bot, "record_digest_sent")
    await bot.services.announcer.deliver_pending(clock.now())
    posted = server.messages("news")
    assert len(posted) == 6

    bot = await start_bot.restart(bot)
    clock.advance(10)
    double.fail_channel(news, status)
    caplog.clear()  # the injected crash above was logged as the error it is
    assert await bot.services.announcer.deliver_pending(clock.now()) == 0
    digest = await bot.db.fetchone("SELECT * FROM announcement_digests")
    assert digest["status"] == "sending" and str(status) in digest["last_error"]
    rows = [await status_of(bot, i) for i in ids[5:]]
    assert [(r["status"], r["digest_id"]) for r in rows] == [("sending", digest["id"])] * 2
    assert (await bot.services.guilds.get(int(server.guild.id))).channel("news").blocked_reason == reason
    # A refusal is an expected state of a channel, handled and reported to the mods: not an error.
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR and r.name.startswith("bot.")]

    # The channel works again long after: Discord has forgotten the nonce, the history check finds it.
    double.clear_channel_failure(news)
    clock.advance(LONG_AFTER)
    forget_nonces(monkeypatch)
    await server.invoke(server.mod, "config channel", kind="news", channel=news)
    await bot.services.announcer.deliver_pending(clock.now())
    assert server.messages("news") == posted
    rows = [await status_of(bot, i) for i in ids[5:]]
    assert [(r["status"], r["message_id"]) for r in rows] == [("digested", int(posted[5]["id"]))] * 2


async def test_a_first_digest_refused_by_the_channel_gives_its_stories_back(start_bot, server, double, clock):
    bot, song, _han, _sr, _hr = await news_server(start_bot, server, clock)
    news = server.channels["news"]
    for n in range(5):
        await record(bot, server, clock, f"Budget {n} Song Hye-kyo", [song])
    assert await bot.services.announcer.deliver_pending(clock.now()) == 5
    overflow = [await record(bot, server, clock, f"Overflow {n} Song Hye-kyo", [song]) for n in range(2)]
    double.fail_channel(news, 403)
    assert await bot.services.announcer.deliver_pending(clock.now()) == 0
    digest = await bot.db.fetchone("SELECT * FROM announcement_digests")
    assert digest["status"] == "dissolved"
    rows = [await status_of(bot, i) for i in overflow]
    # Nothing was posted: the stories are plain pending again, free to go out alone later.
    assert [(r["status"], r["digest_id"]) for r in rows] == [("pending", None)] * 2
    assert (await bot.services.guilds.get(int(server.guild.id))).channel("news").blocked_reason


async def test_a_post_discord_keeps_refusing_is_given_up_after_eight_attempts(start_bot, server, double, clock):
    bot, song, _han, _sr, _hr = await news_server(start_bot, server, clock)
    news = server.channels["news"]
    announcement_id = await record(bot, server, clock, "Song Hye-kyo malformed", [song])
    double.fail_channel(news, 400)  # Discord refuses this post itself, every time
    await bot.services.announcer.deliver_pending(clock.now())
    row = await status_of(bot, announcement_id)
    assert row["next_attempt_at"] == to_db(clock.now() + timedelta(seconds=30))  # backs off, like a 5xx
    await bot.services.announcer.deliver_pending(clock.now())
    assert len(double.find_requests("POST", rf"/channels/{news.id}/messages")) == 1
    for _ in range(20):
        await bot.services.announcer.deliver_pending(clock.now())
        clock.advance(timedelta(minutes=31))
        row = await status_of(bot, announcement_id)
        if row["status"] == "failed":
            break
        assert row["status"] == "pending"  # refused outright: nothing may have been posted
    assert row["status"] == "failed" and row["attempts"] == GIVE_UP_AFTER == 8 and "400" in row["last_error"]
    assert len(double.find_requests("POST", rf"/channels/{news.id}/messages")) == 8
    clock.advance(timedelta(hours=2))
    await bot.services.announcer.deliver_pending(clock.now())
    assert len(double.find_requests("POST", rf"/channels/{news.id}/messages")) == 8
    # A refusal of one post is not a reason to stop the channel.
    assert (await bot.services.guilds.get(int(server.guild.id))).channel("news").blocked_reason is None


async def test_a_row_another_worker_took_meanwhile_is_neither_sent_nor_counted(start_bot, server, double, clock,
                                                                              monkeypatch):
    bot, song, _han, _sr, _hr = await news_server(start_bot, server, clock)
    announcement_id = await record(bot, server, clock, "Song Hye-kyo in Tokyo", [song])
    repo = bot.services.announcer.repo
    begin_send = repo.begin_send

    async def taken_first(row_id, channel_id, now):
        await repo.record_sent(row_id, channel_id, 4242, now)  # another process posted it a moment ago
        return await begin_send(row_id, channel_id, now)

    monkeypatch.setattr(repo, "begin_send", taken_first)
    assert await bot.services.announcer.deliver_pending(clock.now()) == 0
    assert posts_to(double, server.channels["news"]) == []
    assert (await status_of(bot, announcement_id))["message_id"] == 4242


async def test_a_refused_post_pauses_the_channel_without_logging_an_error(start_bot, server, double, clock, caplog):
    bot, song, _han, _sr, _hr = await news_server(start_bot, server, clock)
    await record(bot, server, clock, "Song Hye-kyo on stage", [song])
    double.fail_channel(server.channels["news"], 403)
    caplog.clear()
    assert await bot.services.announcer.deliver_pending(clock.now()) == 0
    assert (await bot.services.guilds.get(int(server.guild.id))).channel("news").blocked_reason
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR and r.name.startswith("bot.")]
