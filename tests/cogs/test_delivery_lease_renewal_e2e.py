"""A delivery run keeps its server's lease while it posts, and a lease lost in one server leaves the others
going (issue 12: the delivery-lease guards, pinned through the double on SQLite and PostgreSQL)."""

from __future__ import annotations

import os
import re
import socket
from datetime import timedelta

from bot.services.announcer import LEASE_TIME, Announcer, process_holder
from bot.storage.leases import LeaseRepository
from bot.storage.timefmt import from_db
from tests.cogs.test_announce_e2e import SONG, record
from tests.cogs.test_delivery_leases_e2e import shared_db  # noqa: F401  (the fixture: one database per kind)
from tests.conftest import FanServer


async def lease_end(bot, guild_id):
    return from_db(await bot.db.fetchval("SELECT expires_at FROM delivery_leases WHERE guild_id = ?", (guild_id,)))


async def test_a_long_run_renews_its_lease_once_a_third_of_it_has_passed_to_a_full_lease_from_the_clock(
        start_bot, server, clock, shared_db, monkeypatch):  # noqa: F811
    bot = await start_bot(**shared_db)
    await server.configure(bot)
    gid = int(server.guild.id)
    song = await bot.services.stars.follow(gid, SONG)
    for n in range(5):  # the minute's whole budget, each posted on its own
        await record(bot, server, clock, f"Song Hye-kyo story {n}", [song])
    announcer = bot.services.announcer
    assert announcer.lease_time == LEASE_TIME == timedelta(seconds=60)
    # Seconds each post takes (a slow Discord, a busy host): the renewal is due at 20 s since the last one.
    steps = iter([10, 10, 5, 14, 1])
    ends_seen = []
    record_sent, release = announcer.repo.record_sent, announcer.leases.release

    async def slow_post(*args, **kwargs):
        await record_sent(*args, **kwargs)
        ends_seen.append(await lease_end(bot, gid) - start)  # as left after the previous post
        clock.advance(next(steps))

    async def end_at_release(guild_id, holder):
        ends_seen.append(await lease_end(bot, guild_id) - start)
        await release(guild_id, holder)

    monkeypatch.setattr(announcer.repo, "record_sent", slow_post)
    monkeypatch.setattr(announcer.leases, "release", end_at_release)
    start = clock.now()
    assert await announcer.deliver_pending(start) == 5
    # Claimed for 60 s; renewed at 20 s (exactly a third) to 80, not at 5 or 19 s since, then at 40 s to 100.
    assert [e.total_seconds() for e in ends_seen] == [60, 60, 80, 80, 80, 100]
    assert len(server.messages("news")) == 5
    assert await LeaseRepository(bot.db).holder(gid, clock.now()) is None  # released after the run


async def test_a_lease_lost_in_one_server_leaves_the_other_servers_news_going_out(
        start_bot, server, double, clock, shared_db, monkeypatch, caplog):  # noqa: F811
    other = FanServer(double, "Other fans")
    bot = await start_bot(**shared_db)
    repo, announcer = bot.services.announcer.repo, bot.services.announcer
    titles = {}
    for fans in (server, other):
        await fans.configure(bot)
        star = await bot.services.stars.follow(int(fans.guild.id), SONG)
        for n in range(2):
            titles.setdefault(fans, []).append(f"Song Hye-kyo story {n}")
            await record(bot, fans, clock, f"Song Hye-kyo story {n}", [star])
    await double.wait_for(lambda: bot.get_guild(int(other.guild.id)) is not None, what="the second guild")
    by_channel = {int(fans.channels["news"].id): fans for fans in (server, other)}
    stalled = []
    record_sent = repo.record_sent

    async def stall_in_the_first_server(announcement_id, channel_id, message_id, now):
        await record_sent(announcement_id, channel_id, message_id, now)
        if not stalled:  # whichever server the run reached first stalls past its lease, and loses it
            stalled.append(by_channel[channel_id])
            clock.advance(LEASE_TIME.total_seconds() + 1)
            assert await LeaseRepository(bot.db).claim(int(stalled[0].guild.id), "another-process", clock.now(),
                                                       LEASE_TIME)

    monkeypatch.setattr(repo, "record_sent", stall_in_the_first_server)
    await announcer.deliver_pending(clock.now())
    [lost] = stalled
    kept = other if lost is server else server
    assert len(lost.messages("news")) == 1  # it stopped there at once
    assert [m["embeds"][0]["title"] for m in kept.messages("news")] == titles[kept]
    assert "lost the delivery lease" in caplog.text
    assert await LeaseRepository(bot.db).holder(int(lost.guild.id), clock.now()) == "another-process"


async def test_two_announcers_in_one_process_hold_leases_under_different_names(start_bot, clock, shared_db):  # noqa: F811
    bot = await start_bot(**shared_db)
    own = Announcer(bot.services.announcer.repo, bot.services.guilds, clock)
    names = {bot.services.announcer.holder, own.holder, process_holder()}
    assert len(names) == 3
    # Who holds a server is readable by an operator: host and process id, then the tail that tells them apart.
    for name in names:
        assert re.fullmatch(rf"{re.escape(socket.gethostname()[:40])}:{os.getpid()}:[0-9a-f]{{8}}", name), name
    assert Announcer(own.repo, bot.services.guilds, clock, holder="fixed").holder == "fixed"


async def test_a_lease_that_cannot_be_released_is_left_to_expire_and_the_run_still_counts_its_posts(
        start_bot, server, clock, shared_db, monkeypatch, caplog):  # noqa: F811
    bot = await start_bot(**shared_db)
    await server.configure(bot)
    gid = int(server.guild.id)
    song = await bot.services.stars.follow(gid, SONG)
    await record(bot, server, clock, "Song Hye-kyo in Seoul", [song])
    announcer = bot.services.announcer

    async def database_gone(guild_id, holder):
        raise ConnectionResetError("the database connection dropped")

    monkeypatch.setattr(announcer.leases, "release", database_gone)
    assert await announcer.deliver_pending(clock.now()) == 1
    [warning] = [r for r in caplog.records if r.name == "bot.services.announcer" and "release" in r.getMessage()]
    assert warning.getMessage() == f"could not release the delivery lease of guild {gid}"
    assert warning.exc_info is not None and isinstance(warning.exc_info[1], ConnectionResetError)
    leases = LeaseRepository(bot.db)
    assert await leases.holder(gid, clock.now()) == announcer.holder  # still held: it runs out by itself
    assert not await leases.claim(gid, "another-process", clock.now() + LEASE_TIME - timedelta(seconds=1), LEASE_TIME)
    assert await leases.claim(gid, "another-process", clock.now() + LEASE_TIME, LEASE_TIME)


async def slow_digests(monkeypatch, bot, clock, seconds):
    """Each digest takes this long to post; returns the lease ends seen after each one, and at release."""
    announcer = bot.services.announcer
    ends, record_digest_sent, release = [], announcer.repo.record_digest_sent, announcer.leases.release

    async def slow(*args, **kwargs):
        await record_digest_sent(*args, **kwargs)
        clock.advance(seconds)

    async def end_at_release(guild_id, holder):
        ends.append(await lease_end(bot, guild_id))
        await release(guild_id, holder)

    monkeypatch.setattr(announcer.repo, "record_digest_sent", slow)
    monkeypatch.setattr(announcer.leases, "release", end_at_release)
    return ends


async def test_a_digest_that_ends_a_long_run_renews_the_lease_too(start_bot, server, clock, shared_db,  # noqa: F811
                                                                   monkeypatch, caplog):
    bot = await start_bot(**shared_db)
    await server.configure(bot)
    song = await bot.services.stars.follow(int(server.guild.id), SONG)
    for n in range(7):  # five alone, then a digest of two
        await record(bot, server, clock, f"Song Hye-kyo story {n}", [song])
    ends = await slow_digests(monkeypatch, bot, clock, 25)
    start = clock.now()
    assert await bot.services.announcer.deliver_pending(start) == 7
    assert ends == [start + timedelta(seconds=25) + LEASE_TIME]  # renewed after the digest, from the clock
    assert "lost the delivery lease" not in caplog.text


async def test_a_retried_digest_at_the_start_of_a_long_run_renews_the_lease_and_the_run_goes_on(
        start_bot, server, double, clock, shared_db, monkeypatch, caplog):  # noqa: F811
    bot = await start_bot(**shared_db)
    await server.configure(bot)
    gid, news = int(server.guild.id), server.channels["news"]
    song = await bot.services.stars.follow(gid, SONG)
    repo = bot.services.announcer.repo
    interrupted = [await record(bot, server, clock, f"Song Hye-kyo story {n}", [song]) for n in range(2)]
    await repo.route_waiting(gid, (await bot.services.guilds.get(gid)).routing, clock.now())
    assert await repo.begin_digest(gid, int(news.id), interrupted, clock.now())  # then that process died
    await record(bot, server, clock, "Song Hye-kyo story 2", [song])
    ends = await slow_digests(monkeypatch, bot, clock, 20)
    start = clock.now()
    assert await bot.services.announcer.deliver_pending(start) == 3
    assert len(server.messages("news")) == 2  # the resent digest, then the post waiting behind it
    assert ends == [start + timedelta(seconds=20) + LEASE_TIME]
    assert "lost the delivery lease" not in caplog.text
