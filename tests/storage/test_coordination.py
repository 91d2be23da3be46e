"""Processes agreeing through PostgreSQL: one leader at a time and a takeover when its connection ends,
IDENTIFY spaced per bucket across processes, and NOTIFY waking a listener (also after it reconnects)."""

from __future__ import annotations

import asyncio

import pytest

from bot.leader import Leadership, leader_lock_for
from bot.storage.coordination import (
    IDENTIFY_KEY_BASE,
    LOCK_CLASS,
    PostgresIdentifyCoordinator,
    PostgresLeaderLock,
    SoleLeader,
    WakeListener,
    notify_waiting,
)
from bot.storage.database import Database
from bot.storage.postgres import PostgresDatabase
from bot.wakeups import DeliveryWake, wake_others_after


@pytest.fixture
async def pg_pair(pg_cluster):
    """Two databases on one PostgreSQL, as two fanbot processes have (each its own pool)."""
    url = await pg_cluster.clean_database()
    first, second = await PostgresDatabase.open_url(url), await PostgresDatabase.open_url(url, migrate=False)
    yield first, second
    await first.close()
    await second.close()


async def kill_backend(db: PostgresDatabase, pid: int) -> None:
    """Ends a session the way a crashed or cut-off process's session ends: the server drops it."""
    # With a timeout it returns once the session is gone, not when it was merely told to go (PostgreSQL 14+).
    assert await db.fetchval("SELECT pg_terminate_backend(?, 5000)", (pid,)) is True


async def test_one_process_leads_and_another_takes_over_once_the_holders_connection_ends(pg_pair):
    one, two = pg_pair
    first, second = PostgresLeaderLock(one), PostgresLeaderLock(two)
    assert await first.check() is True
    assert await second.check() is False
    assert await first.check() is True and await second.check() is False  # stable while both live

    await kill_backend(two, first._conn.get_server_pid())
    assert await second.check() is True  # the server let go of the dead session's lock
    assert await first.check() is False  # ...and the old holder sees it no longer leads
    assert await first.check() is False  # reconnected, but as a standby now
    await second.release()
    assert await first.check() is True
    await first.release()


async def test_leader_duties_run_on_election_and_again_after_leadership_comes_back(pg_pair):
    one, two = pg_pair
    ran: list[str] = []
    leaders = {}
    for name, db in (("one", one), ("two", two)):
        leadership = Leadership(leader_lock_for(db, 3), lease=3)

        async def duty(name: str = name) -> None:
            ran.append(name)
        leadership.on_elected(duty)
        leaders[name] = leadership
    assert await leaders["one"].check() and not await leaders["two"].check()
    assert await leaders["one"].check()
    assert ran == ["one"]  # once per election, not once per check
    await leaders["one"].stop()
    assert await leaders["two"].check() and ran == ["one", "two"]
    await leaders["two"].stop()


async def test_a_failed_duty_is_owed_until_it_succeeds(any_db: Database):
    leadership = Leadership(leader_lock_for(any_db, 3), lease=3)
    attempts = []

    async def flaky() -> None:
        attempts.append(1)
        if len(attempts) == 1:
            raise RuntimeError("Discord said no")
    leadership.on_elected(flaky)
    assert await leadership.check() and await leadership.check() and await leadership.check()
    assert len(attempts) == 2
    await leadership.stop()


async def test_sqlite_is_always_its_own_leader(tmp_path):
    db = await Database.open(tmp_path / "f.db")
    try:
        lock = leader_lock_for(db, 15)
        assert isinstance(lock, SoleLeader) and await lock.check() and await lock.check()
    finally:
        await db.close()


class FakeClock:
    """The database's clock as every process sees it, moved only by the sleeps the coordinators ask for."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


async def blocked_on_bucket_lock(db: PostgresDatabase, bucket: int) -> None:
    """Returns once some session waits for `bucket`'s IDENTIFY lock (each query lets the others run)."""
    async with asyncio.timeout(10):
        while not await db.fetchval(
                "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
                "AND classid::bigint = ? AND objid::bigint = ? "
                "AND database = (SELECT oid FROM pg_database WHERE datname = current_database()))",
                (LOCK_CLASS, IDENTIFY_KEY_BASE + bucket)):
            pass


async def test_identify_waits_for_its_bucket_across_processes_and_not_for_other_buckets(pg_pair):
    one, two = pg_pair
    clock = FakeClock(100.0)
    waits: list[tuple[str, float]] = []
    asked, release = asyncio.Event(), asyncio.Event()

    def sleeper(name: str):
        async def sleep(seconds: float) -> None:
            waits.append((name, seconds))
            asked.set()
            await release.wait()
            clock.now += seconds
        return sleep

    a = PostgresIdentifyCoordinator(one, 4.0, sleep=sleeper("a"), clock=clock)
    b = PostgresIdentifyCoordinator(two, 4.0, sleep=sleeper("b"), clock=clock)
    await a.wait_turn(0, 2)  # bucket 0's first IDENTIFY goes at once
    await b.wait_turn(1, 2)  # bucket 1 never waits for bucket 0
    assert waits == []

    clock.now = 100.5
    second = asyncio.create_task(b.wait_turn(2, 2))  # bucket 0 again, from the other process
    tasks = [second]
    try:
        await asyncio.wait_for(asked.wait(), 10)
        assert waits == [("b", 3.5)]  # the rest of bucket 0's interval, counted from a's IDENTIFY
        third = asyncio.create_task(a.wait_turn(0, 2))
        tasks.append(third)
        await blocked_on_bucket_lock(one, 0)  # third: behind the lock b holds while it waits
        clock.now = 105.5
        await asyncio.wait_for(a.wait_turn(3, 2), 10)  # bucket 1 is free meanwhile, and its interval is over
        assert waits == [("b", 3.5)] and not third.done()
        release.set()
        await asyncio.wait_for(asyncio.gather(*tasks), 10)
    finally:
        # On a failed assertion `second` would hold the bucket's lock for ever and `third` its pool
        # connection, so closing the pools (pg_pair) would hang the session instead of reporting.
        release.set()
        await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 10)
    # b identified at 109.0 after its wait; a's turn is spaced a whole interval from that, not from 100.
    assert waits == [("b", 3.5), ("a", 4.0)]


async def test_identify_spacing_runs_on_the_database_clock(pg_pair):
    one, two = pg_pair
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)
    interval = 86400.0  # a day: however slow this machine, the second asks for nearly all of it
    await PostgresIdentifyCoordinator(one, interval, sleep=sleep).wait_turn(0, 1)
    await PostgresIdentifyCoordinator(two, interval, sleep=sleep).wait_turn(0, 1)
    [wait] = waits
    assert interval - 60 < wait <= interval
    assert float(await one.fetchval("SELECT value FROM bot_state WHERE key = 'identify_bucket:0'")) == pytest.approx(
        float(await one.fetchval("SELECT EXTRACT(EPOCH FROM clock_timestamp())")), abs=60)


async def test_a_notify_from_one_process_wakes_the_listener_of_another_also_after_it_reconnects(pg_pair):
    one, two = pg_pair
    woken = asyncio.Queue()
    listener = WakeListener(one, lambda: woken.put_nowait(1), retry=(0.01, 0.05))
    listener.start()
    try:
        await asyncio.wait_for(listener.listening.wait(), 10)
        await notify_waiting(two)
        await asyncio.wait_for(woken.get(), 10)

        [pid] = [r[0] for r in await two.fetchall(
            "SELECT pid FROM pg_stat_activity WHERE query LIKE 'LISTEN%' AND datname = current_database()")]
        await kill_backend(two, pid)
        await asyncio.wait_for(woken.get(), 10)  # back, and delivering what it may have missed
        await asyncio.wait_for(listener.listening.wait(), 10)
        assert woken.empty()
        await notify_waiting(two)
        await asyncio.wait_for(woken.get(), 10)
    finally:
        await listener.stop()


async def test_a_burst_of_wake_ups_is_one_delivery_and_one_more_for_those_during_it():
    started, finish = asyncio.Event(), asyncio.Event()

    async def deliver() -> None:
        started.set()
        await finish.wait()
    wake = DeliveryWake(deliver)
    wake()
    await started.wait()
    for _ in range(50):
        wake()
    finish.set()
    await wake.idle()
    assert wake.runs == 2
    await wake.stop()


async def test_on_sqlite_a_poll_delivers_here_without_notifying(tmp_path):
    db = await Database.open(tmp_path / "f.db")
    calls = []

    async def here(now) -> None:
        calls.append(now)
    try:
        await wake_others_after(here, db)("now")
        assert calls == ["now"]
    finally:
        await db.close()


async def test_the_bot_spaces_identify_across_processes_only_on_postgresql(any_db: Database):
    from bot.settings import Settings
    from bot.sharding import IDENTIFY_INTERVAL, IDENTIFY_MARGIN, LocalIdentifyCoordinator, identify_coordinator_for

    gate = identify_coordinator_for(Settings(), any_db)
    expected = PostgresIdentifyCoordinator if isinstance(any_db, PostgresDatabase) else LocalIdentifyCoordinator
    assert isinstance(gate, expected)
    assert gate.interval == IDENTIFY_INTERVAL + IDENTIFY_MARGIN  # Discord's 5 s, plus the arrival margin
