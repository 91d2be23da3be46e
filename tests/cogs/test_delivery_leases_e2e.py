"""Two processes on the same shard (a rolling restart, SPEC §9): per-server delivery leases keep every
story to one post per channel, on SQLite and on PostgreSQL, with two real bots racing over one journal."""

from __future__ import annotations

import asyncio

import pytest

from bot.services.announcer import LEASE_TIME
from bot.settings import Secret
from tests.cogs.test_announce_e2e import news_server, record


@pytest.fixture
async def shared_db(request, db_kind):
    """Settings overrides that put every bot of the test on one database of this kind."""
    if db_kind == "postgres":
        return {"database_url": Secret(await request.getfixturevalue("pg_cluster").clean_database())}
    return {}


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
