"""Two processes on the same shard (a rolling restart, SPEC §9): per-server delivery leases keep every
story to one post per channel, on SQLite and on PostgreSQL, with two real bots racing over one journal."""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone

import pytest

from bot.services.announcer import LEASE_TIME
from bot.settings import Secret
from tests.cogs.test_announce_e2e import HAN, SONG, news_server, record


@pytest.fixture
async def shared_db(request, db_kind):
    """Settings overrides that put every bot of the test on one database of this kind."""
    if db_kind == "postgres":
        return {"database_url": Secret(await request.getfixturevalue("pg_cluster").clean_database())}
    return {}


async def song_routed(start_bot, server, shared_db):
    """A bot on the shared database with Song Hye-kyo and Han So-hee followed, and Song Hye-kyo's news
    routed to a channel of her own, created after the news channel (so a run serves the news channel
    first). Returns bot, guild id, the two stars, the news channel and hers."""
    bot = await start_bot(**shared_db)
    await server.configure(bot)
    gid = int(server.guild.id)
    song, han = await bot.services.stars.follow(gid, SONG), await bot.services.stars.follow(gid, HAN)
    news, song_channel = server.channels["news"], server.guild.add_text_channel("song-hye-kyo")
    await bot.services.guilds.route_star(gid, "news", song.id, int(song_channel.id))
    assert int(news.id) < int(song_channel.id)
    return bot, gid, song, han, news, song_channel


async def two_processes(start_bot, server, clock, shared_db):
    """The old process (configured, following both stars) and a new one started beside it."""
    old, song, han, *_ = await news_server(lambda: start_bot(**shared_db), server, clock)
    new = await start_bot(**shared_db)
    await server.double.wait_for(lambda: new.get_guild(int(server.guild.id)) is not None, what="the new process's guild")
    return old, new, song, han


async def test_two_delivery_loops_racing_post_each_story_once_per_channel(start_bot, server, double, clock, shared_db):
    old, new, song, han = await two_processes(start_bot, server, clock, shared_db)
    song_channel = server.guild.add_text_channel("song-hye-kyo")
    await old.services.guilds.route_star(int(server.guild.id), "news", song.id, int(song_channel.id))
    for n in range(4):
        await record(old, server, clock, f"Song Hye-kyo and Han So-hee story {n}", [song, han])

    for _ in range(3):
        await asyncio.gather(*(bot.services.announcer.deliver_pending(clock.now()) for bot in (old, new, old, new)))

    for channel in (song_channel, server.channels["news"]):
        assert [m["embeds"][0]["title"] for m in double.channel_messages(channel.id)] == [
            f"Song Hye-kyo and Han So-hee story {n}" for n in range(4)]
    # Not even a send that Discord's nonce had to absorb: the lease let one process deliver at a time.
    posts = [r for r in double.find_requests("POST", r"/channels/\d+/messages") if r.json.get("embeds")]
    assert len(posts) == 8 and double.nonce_hits == 0
    assert await old.db.fetchval("SELECT COUNT(*) FROM delivery_leases") == 0  # released after each run


async def test_a_lease_held_by_a_live_process_is_left_alone(start_bot, server, double, clock, shared_db):
    old, new, song, han = await two_processes(start_bot, server, clock, shared_db)
    gid = int(server.guild.id)
    await record(old, server, clock, "Song Hye-kyo in Milan", [song])
    assert await old.services.announcer.leases.claim(gid, old.services.announcer.holder, clock.now(), LEASE_TIME)

    assert await new.services.announcer.deliver_pending(clock.now()) == 0
    assert server.messages("news") == []
    assert await old.services.announcer.deliver_pending(clock.now()) == 1  # its own lease: it goes on
    assert len(server.messages("news")) == 1


async def test_a_process_killed_holding_the_lease_is_taken_over_with_the_same_nonce(
        start_bot, server, double, clock, shared_db, monkeypatch):
    old, new, song, han = await two_processes(start_bot, server, clock, shared_db)
    gid = int(server.guild.id)
    announcement_id = await record(old, server, clock, "Song Hye-kyo wins an award", [song])
    announcer = old.services.announcer

    class Killed(BaseException):
        """kill -9 between the send and its record: nothing after it runs, not even the lease release."""

    async def die(*args, **kwargs):
        raise Killed()

    async def never(*args, **kwargs):
        return None  # a killed process releases nothing

    monkeypatch.setattr(announcer.repo, "record_sent", die)
    monkeypatch.setattr(announcer.leases, "release", never)
    with pytest.raises(Killed):
        await announcer.deliver_pending(clock.now())
    [posted] = server.messages("news")
    assert await new.services.announcer.leases.holder(gid, clock.now()) == announcer.holder

    # Within the lease time the new process keeps off; after it, it resumes with the row's nonce.
    clock.advance(LEASE_TIME.total_seconds() - 1)
    assert await new.services.announcer.deliver_pending(clock.now()) == 0
    clock.advance(2)
    assert await new.services.announcer.deliver_pending(clock.now()) == 1
    assert server.messages("news") == [posted] and double.nonce_hits == 1
    row = await new.db.fetchone("SELECT status, message_id FROM announcements WHERE id = ?", (announcement_id,))
    assert row["status"] == "sent" and row["message_id"] == int(posted["id"])


async def test_two_processes_running_every_outbound_job_at_once_post_each_thing_once(
        start_bot, server, double, clock, shared_db):
    """Poll closing and results, the daily posts and a missing submission card, with both processes of
    one shard running their scheduler in the same instant."""
    clock.set(datetime(2026, 11, 22, 2, 0, tzinfo=timezone.utc))  # 11:00 on Song Hye-kyo's birthday in Seoul
    old = await start_bot(**shared_db)
    await server.configure(old)
    gid = int(server.guild.id)
    for name in ("Song Hye-kyo", "Han So-hee", "Kim Go-eun"):
        await server.invoke(server.mod, "stars follow", name=name)
    await server.invoke(server.mod, "media add", title="Kitten", url="https://example.com/kitten.jpg")
    poll = await server.invoke(server.mod, "poll create", question="Who next?",
                               pairings="Song Hye-kyo x Han So-hee; Song Hye-kyo x Kim Go-eun", duration="30m")
    assert "Poll #1 is up" in poll.all_text
    await old.services.media.submit(gid, int(server.fan.id), title="Lost card", url="https://example.com/lost")
    new = await start_bot(**shared_db)
    await double.wait_for(lambda: new.get_guild(gid) is not None, what="the new process's guild")

    clock.set(datetime(2026, 11, 22, 3, 1, tzinfo=timezone.utc))  # 12:01 KST: media hour, poll due, card late
    for _ in range(2):
        await asyncio.gather(old.scheduler.run_once(force=True), new.scheduler.run_once(force=True))

    def titled(kind, start):
        return [m for m in server.messages(kind) if (m["embeds"] and m["embeds"][0].get("title", "").startswith(start))
                or (m["content"] or "").startswith(start)]

    assert len(titled("polls", "Results")) == 1
    assert len([m for m in server.messages("media") if "Media of the day" in (m["content"] or "")]) == 1
    assert len(server.messages("birthdays")) == 1
    cards = [m for m in server.messages("modlog") if m["components"]]
    assert len(cards) == 1


async def test_a_process_stalled_past_its_lease_stops_once_another_took_it(start_bot, server, double, clock, shared_db,
                                                                           monkeypatch):
    old, new, song, han = await two_processes(start_bot, server, clock, shared_db)
    gid = int(server.guild.id)
    for n in range(3):
        await record(old, server, clock, f"Song Hye-kyo story {n}", [song])
    repo = old.services.announcer.repo
    record_sent = repo.record_sent

    async def stall_after_the_first(*args, **kwargs):
        await record_sent(*args, **kwargs)
        if clock.now() == start:
            clock.advance(LEASE_TIME.total_seconds() + 1)  # a long GC pause, a frozen VM
            assert await new.services.announcer.leases.claim(gid, new.services.announcer.holder, clock.now(),
                                                             LEASE_TIME)

    start = clock.now()
    monkeypatch.setattr(repo, "record_sent", stall_after_the_first)
    await old.services.announcer.deliver_pending(start)
    assert len(server.messages("news")) == 1  # it renewed after its first post, learnt it lost the lease, stopped
    assert await new.services.announcer.leases.holder(gid, clock.now()) == new.services.announcer.holder
    assert await new.services.announcer.deliver_pending(clock.now()) == 2
    assert [m["embeds"][0]["title"] for m in server.messages("news")] == [f"Song Hye-kyo story {n}" for n in range(3)]
    assert double.nonce_hits == 0
