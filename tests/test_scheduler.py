"""The scheduler: due jobs from an injected clock, failures contained, a slow job blocks no other."""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone

from bot.clock import ManualClock
from bot.scheduler import Scheduler


def clock() -> ManualClock:
    return ManualClock(datetime(2026, 11, 29, tzinfo=timezone.utc))


async def test_jobs_run_when_their_interval_has_passed_on_the_injected_clock():
    c = clock()
    seen: list[datetime] = []

    async def job(now):
        seen.append(now)

    s = Scheduler(c, tick_seconds=None)
    s.add("job", job, every=60)
    assert await s.run_once() == ["job"]
    assert await s.run_once() == []  # not due yet
    c.advance(61)
    assert await s.run_once() == ["job"]
    assert await s.run_once(force=True) == ["job"]
    assert len(seen) == 3 and seen[1] == c.now()


async def test_a_failing_job_is_logged_and_runs_again_without_stopping_the_others(caplog):
    c = clock()
    calls = {"bad": 0, "good": 0}

    async def bad(now):
        calls["bad"] += 1
        raise RuntimeError("feed exploded")

    async def good(now):
        calls["good"] += 1

    s = Scheduler(c, tick_seconds=None)
    s.add("bad", bad, every=1)
    s.add("good", good, every=1)
    await s.run_once()
    c.advance(2)
    await s.run_once()
    assert calls == {"bad": 2, "good": 2}
    assert "feed exploded" in caplog.text


async def test_a_slow_job_neither_delays_other_jobs_nor_overlaps_itself():
    c = clock()
    release = asyncio.Event()
    slow_runs, quick_runs = [], []

    async def slow(now):
        slow_runs.append(now)
        await release.wait()

    async def quick(now):
        quick_runs.append(now)

    s = Scheduler(c, tick_seconds=0.001)
    s.add("slow", slow, every=0)
    s.add("quick", quick, every=0)
    s.start()
    try:
        for _ in range(200):
            await asyncio.sleep(0.001)
            if len(quick_runs) >= 5:
                break
        assert len(quick_runs) >= 5  # kept running while the slow job is stuck
        assert len(slow_runs) == 1  # and the stuck job was not started a second time
    finally:
        release.set()
        await s.stop()


async def test_a_database_outage_is_one_warning_per_run_without_a_traceback(caplog):
    from bot.errors import DatabaseUnavailable

    async def needs_db(now):
        raise DatabaseUnavailable("ConnectionRefusedError: connect call failed")

    s = Scheduler(clock(), tick_seconds=None)
    s.add("news", needs_db, every=60)
    assert await s.run_once() == ["news"]
    records = [r for r in caplog.records if r.name == "bot.scheduler"]
    assert [r.levelname for r in records] == ["WARNING"] and records[0].exc_info is None
    assert "waits for the database" in records[0].getMessage()
    assert await s.run_once(force=True) == ["news"]  # and it runs again
