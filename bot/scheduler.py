"""One loop that runs the bot's periodic jobs; a failing job is logged and never stops the others."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from .clock import Clock
from .errors import DatabaseUnavailable

log = logging.getLogger(__name__)

Job = Callable[[datetime], Awaitable[None]]


@dataclass
class _Entry:
    name: str
    job: Job
    every: float
    last_run: datetime | None = None
    running: asyncio.Task[None] | None = None


class Scheduler:
    """Jobs decide what is due from stored state and the clock they are given, so a test can
    move a ManualClock and call run_once() instead of waiting. In production a background task
    starts the due jobs every `tick_seconds` (a plain task, not ext.tasks: an exception that escapes
    a tasks.loop ends it for good, and here nothing escapes).

    Each job runs in its own task and never overlaps itself, so a long feed cycle cannot delay the
    daily posts or the closing of polls."""

    def __init__(self, clock: Clock, *, tick_seconds: float | None = 5.0, stop_grace: float = 10.0) -> None:
        self._clock = clock
        self._tick = tick_seconds
        self._stop_grace = stop_grace
        self._jobs: dict[str, _Entry] = {}
        self._task: asyncio.Task[None] | None = None

    def add(self, name: str, job: Job, *, every: float) -> None:
        self._jobs[name] = _Entry(name, job, every)

    def remove(self, name: str) -> None:
        self._jobs.pop(name, None)

    def start(self) -> None:
        if self._tick and self._task is None:
            self._task = asyncio.create_task(self._loop(), name="fanbot-scheduler")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None
        # Let jobs in flight finish their transactions before the database closes; cancel stragglers.
        running = [e.running for e in self._jobs.values() if e.running is not None and not e.running.done()]
        if running:
            _, late = await asyncio.wait(running, timeout=self._stop_grace)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)

    async def _loop(self) -> None:
        assert self._tick
        while True:
            self._start_due(force=False)
            await asyncio.sleep(self._tick)

    def _start_due(self, *, force: bool) -> list[_Entry]:
        started = []
        for entry in list(self._jobs.values()):
            if entry.running is not None and not entry.running.done():
                continue  # still busy from last time: never run a job twice at once
            now = self._clock.now()
            if not force and entry.last_run is not None and (now - entry.last_run).total_seconds() < entry.every:
                continue
            entry.last_run = now
            entry.running = asyncio.create_task(self._run(entry, now), name=f"fanbot-job-{entry.name}")
            started.append(entry)
        return started

    @staticmethod
    async def _run(entry: _Entry, now: datetime) -> None:
        try:
            await entry.job(now)
        except asyncio.CancelledError:
            raise
        except DatabaseUnavailable as exc:
            # An outage (PostgreSQL restarting), not a bug: one line per tick, no traceback.
            log.warning("scheduled job %s waits for the database (%s); it will run again next time", entry.name, exc)
        except Exception:
            log.exception("scheduled job %s failed; it will run again next time", entry.name)
        else:
            # What an operator (or a test of several processes) reads to know a job has had its turn.
            log.debug("scheduled job %s done", entry.name)

    async def run_once(self, *, force: bool = False) -> list[str]:
        """Start every job whose interval has passed (or all, with force) and wait for them; return
        the names run. Jobs already running are waited for first, so none is skipped."""
        busy = [e.running for e in self._jobs.values() if e.running is not None and not e.running.done()]
        if busy:
            await asyncio.gather(*busy, return_exceptions=True)
        started = self._start_due(force=force)
        await asyncio.gather(*(e.running for e in started if e.running is not None), return_exceptions=True)
        return [e.name for e in started]
