"""Delivering announcements the moment a feeds process writes them: it NOTIFYs after its commit, the
gateway processes LISTEN and deliver at once. The periodic delivery tick stays, as the fallback for a
notification lost with a connection."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

from .storage.coordination import WakeListener, notify_waiting
from .storage.database import Database

log = logging.getLogger(__name__)


def wake_others_after(deliver_here: Callable[[datetime], Awaitable[object]],
                      db: Database) -> Callable[[datetime], Awaitable[None]]:
    """What a poll calls when it wrote pending announcements: deliver this process's own share, and on
    PostgreSQL wake every gateway process, whose servers may be on shards this one does not run."""
    from .storage.postgres import PostgresDatabase

    if not isinstance(db, PostgresDatabase):
        async def here_only(now: datetime) -> None:
            await deliver_here(now)
        return here_only

    async def here_and_others(now: datetime) -> None:
        try:
            await notify_waiting(db)
        finally:
            await deliver_here(now)
    return here_and_others


class DeliveryWake:
    """Turns a burst of wake-ups into one delivery run, plus one more if any came during it (their
    announcements may have committed after that run read the queue)."""

    def __init__(self, deliver: Callable[[], Awaitable[object]]) -> None:
        self._deliver = deliver
        self._again = False
        self._task: asyncio.Task[None] | None = None
        self.runs = 0

    def __call__(self) -> None:
        if self._task is not None and not self._task.done():
            self._again = True
            return
        self._task = asyncio.get_running_loop().create_task(self._run(), name="fanbot-wake-delivery")

    async def _run(self) -> None:
        while True:
            self._again = False
            self.runs += 1
            try:
                await self._deliver()
            except Exception:
                log.exception("delivering after a wake-up failed; the periodic tick will retry")
            if not self._again:
                return

    async def idle(self) -> None:
        """Until the run in progress (and the one it owes) is over."""
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)

    async def stop(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)


class Wakeups:
    """The gateway side: listens while the bot runs (PostgreSQL only; on SQLite the poll in this same
    process already delivers right after it writes)."""

    def __init__(self, db: Database, deliver: Callable[[], Awaitable[object]]) -> None:
        from .storage.postgres import PostgresDatabase

        self.wake = DeliveryWake(deliver)
        self.listener = WakeListener(db, self.wake) if isinstance(db, PostgresDatabase) else None

    def start(self) -> None:
        if self.listener is not None:
            self.listener.start()

    async def stop(self) -> None:
        if self.listener is not None:
            await self.listener.stop()
        await self.wake.stop()
