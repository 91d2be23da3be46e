"""The leader: the one process of the bot that does once-per-bot work (command sync), chosen through a
lock the database holds for it (bot/storage/coordination.py), and taken over when its holder dies."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

from .storage.coordination import LeaderLock, PostgresLeaderLock, SoleLeader
from .storage.database import Database

log = logging.getLogger(__name__)

Duty = Callable[[], Awaitable[object]]


def leader_lock_for(db: Database, lease: float) -> LeaderLock:
    from .storage.postgres import PostgresDatabase

    if isinstance(db, PostgresDatabase):
        return PostgresLeaderLock(db, timeout=max(0.5, lease / 3))
    return SoleLeader()


class Leadership:
    """Competes for the lock every `lease / 3` seconds, so a standby takes over within `lease` of its
    holder's connection ending, and a holder that lost its connection stops leading by then too.

    On becoming leader (at start, or after taking over, or after winning it back following a lost
    connection) it runs each duty given to `on_elected`: whatever the previous leader did may be
    undone or stale, so it is done again. A duty that fails is retried at the next check."""

    def __init__(self, lock: LeaderLock, *, lease: float) -> None:
        self._lock = lock
        self.every = max(0.05, lease / 3)
        self.held = False
        self._duties: list[Duty] = []
        self._owed = False
        self._task: asyncio.Task[None] | None = None
        self.changed = asyncio.Event()  # set on every gain or loss, for whoever waits on it

    def on_elected(self, duty: Duty) -> None:
        self._duties.append(duty)

    def gate(self, job: Callable[[datetime], Awaitable[object]]) -> Callable[[datetime], Awaitable[None]]:
        """A scheduler job that runs only while this process leads."""
        async def gated(now: datetime) -> None:
            if self.held:
                await job(now)
        return gated

    async def check(self) -> bool:
        held = await self._lock.check()
        if held != self.held:
            self.held = held
            self._owed = held
            log.info("this process is now the leader" if held else "this process is no longer the leader")
            self.changed.set()
        if self.held and self._owed:
            self._owed = False
            for duty in self._duties:
                try:
                    await duty()
                except Exception:
                    self._owed = True
                    log.exception("a leader duty failed; it runs again at the next check")
        return self.held

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._loop(), name="fanbot-leadership")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        self.held = False
        await self._lock.release()

    async def _loop(self) -> None:
        while True:
            try:
                await self.check()
            except Exception:
                log.exception("checking the leader lock failed; trying again")
            await asyncio.sleep(self.every)
