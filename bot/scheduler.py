"""One loop that runs the bot's periodic jobs; a failing job is logged and never stops the others."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from .clock import Clock

log = logging.getLogger(__name__)

Job = Callable[[datetime], Awaitable[None]]


@dataclass
class _Entry:
    name: str
    job: Job
    every: float
    last_run: datetime | None = None


class Scheduler:
    """Jobs decide what is due from stored state and the clock they are given, so a test can
    move a ManualClock and call run_once() instead of waiting. In production a background task
    calls run_once() every `tick_seconds` (a plain task, not ext.tasks: an exception that escapes
    a tasks.loop ends it for good, and here nothing escapes)."""

    def __init__(self, clock: Clock, *, tick_seconds: float | None = 5.0) -> None:
        self._clock = clock
        self._tick = tick_seconds
        self._jobs: dict[str, _Entry] = {}
        self._task: asyncio.Task[None] | None = None
        self._run_lock = asyncio.Lock()

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
        # Let a job in flight finish its transaction before the database closes.
        async with self._run_lock:
            pass

    async def _loop(self) -> None:
        assert self._tick
        while True:
            await self.run_once()
            await asyncio.sleep(self._tick)

    async def run_once(self, *, force: bool = False) -> list[str]:
        """Run every job whose interval has passed (or all, with force); return the names run."""
        ran = []
        async with self._run_lock:
            for entry in list(self._jobs.values()):
                now = self._clock.now()
                if not force and entry.last_run is not None and (now - entry.last_run).total_seconds() < entry.every:
                    continue
                entry.last_run = now
                ran.append(entry.name)
                try:
                    await entry.job(now)
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("scheduled job %s failed; it will run again next time", entry.name)
        return ran
