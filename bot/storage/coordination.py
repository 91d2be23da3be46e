"""What processes of one bot agree on through PostgreSQL: who is leader (a session advisory lock),
when a shard may IDENTIFY (a transaction lock and a timestamp per bucket), and "announcements are
waiting" (NOTIFY/LISTEN). On SQLite there is one process, and each has a trivial in-process stand-in.

The leader lock and the listener each hold a connection of their own, outside the pool: a session
lock lives exactly as long as its connection (the server releases it when the holder dies or is cut
off), and a LISTEN only hears while its connection stays open and idle between notifications.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Protocol

import asyncpg

from .postgres import UNAVAILABLE, PostgresDatabase

log = logging.getLogger(__name__)

# Two-int advisory keys (class, object) in their own class, apart from MIGRATION_LOCK's one-bigint key.
LOCK_CLASS = 0x66616E63  # "fanc"
LEADER_KEY = 1
IDENTIFY_KEY_BASE = 1000  # + bucket: each max_concurrency bucket has a lock of its own
WAKE_CHANNEL = "fanbot_announcements"
# Lets the server notice a vanished holder (power cut, network split) in about 15 s, not after the
# kernel's two-hour default; a killed process is noticed at once (its socket is closed for it).
KEEPALIVE = {"tcp_keepalives_idle": "5", "tcp_keepalives_interval": "5", "tcp_keepalives_count": "2"}


class LeaderLock(Protocol):
    """Held by at most one process of the bot at a time. `check` tries to take it if not held and
    confirms it still is if held; it never raises for a lost database (it answers False)."""

    async def check(self) -> bool: ...

    async def release(self) -> None: ...


class SoleLeader:
    """SQLite: the one process is the whole bot, so it always leads."""

    async def check(self) -> bool:
        return True

    async def release(self) -> None:
        return None


class PostgresLeaderLock:
    """`pg_try_advisory_lock` on a dedicated connection. While that connection is alive the lock is
    ours (nothing else unlocks it); once it is lost, so is the lock, and the next check reconnects
    and competes again like any other candidate."""

    def __init__(self, db: PostgresDatabase, *, key: tuple[int, int] = (LOCK_CLASS, LEADER_KEY),
                 timeout: float = 5.0) -> None:
        self._db = db
        self._key = key
        # A holder that cannot confirm within this long stops counting itself leader: a server it
        # cannot reach will release the lock for a standby.
        self._timeout = timeout
        self._conn: asyncpg.Connection | None = None
        self._held = False

    async def check(self) -> bool:
        try:
            if self._conn is None or self._conn.is_closed():
                self._held = False
                self._conn = await self._db.dedicated_connection(server_settings=KEEPALIVE, timeout=self._timeout)
            if self._held:
                await self._conn.fetchval("SELECT 1", timeout=self._timeout)  # proves the session, and with it the lock, lives
            else:
                self._held = bool(await self._conn.fetchval("SELECT pg_try_advisory_lock($1, $2)", *self._key,
                                                             timeout=self._timeout))
        except (*UNAVAILABLE, asyncpg.InterfaceError) as exc:
            if self._held:
                log.warning("lost the connection holding the leader lock: %s", exc)
            await self._drop()
        return self._held

    async def release(self) -> None:
        if self._conn is not None and not self._conn.is_closed() and self._held:
            try:
                await self._conn.fetchval("SELECT pg_advisory_unlock($1, $2)", *self._key)
            except (*UNAVAILABLE, asyncpg.InterfaceError):
                pass  # closing the connection below releases it anyway
        await self._drop()

    async def _drop(self) -> None:
        self._held = False
        conn, self._conn = self._conn, None
        if conn is not None and not conn.is_closed():
            conn.terminate()


class PostgresIdentifyCoordinator:
    """IDENTIFY spacing shared by every process: per bucket, a transaction-scoped advisory lock
    serialises the processes, and a timestamp in bot_state (by the database's clock, so the
    processes' clocks need not agree) says when that bucket last identified."""

    def __init__(self, db: PostgresDatabase, interval: float, *,
                 sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
                 clock: Callable[[], float] | None = None) -> None:
        self._db = db
        self.interval = interval
        self._sleep = sleep
        # None (the bot): the database's clock. Tests give every coordinator one fake clock, as the
        # database's is one clock for every process, so the waits asked for are exact.
        self._clock = clock

    async def wait_turn(self, shard_id: int, max_concurrency: int) -> None:
        bucket = shard_id % max(1, max_concurrency)
        key = f"identify_bucket:{bucket}"
        async with self._db.transaction() as tx:
            await tx.execute("SELECT pg_advisory_xact_lock(?, ?)", (LOCK_CLASS, IDENTIFY_KEY_BASE + bucket))
            now_sql, now = self._now()
            wait = await tx.fetchval(
                f"SELECT CAST(value AS DOUBLE PRECISION) + ? - {now_sql} FROM bot_state WHERE key = ?",
                (self.interval, *now, key))
            if wait is not None and wait > 0:
                await self._sleep(float(wait))  # still holding the lock: the bucket's next waits behind us
            now_sql, now = self._now()  # read again: the sleep took time
            await tx.execute(
                f"INSERT INTO bot_state (key, value) VALUES (?, CAST({now_sql} AS TEXT)) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value", (key, *now))

    def _now(self) -> tuple[str, tuple[float, ...]]:
        if self._clock is None:
            return "EXTRACT(EPOCH FROM clock_timestamp())", ()
        return "CAST(? AS DOUBLE PRECISION)", (self._clock(),)


async def notify_waiting(db: PostgresDatabase) -> None:
    """Tell every listening gateway process that pending announcements were written. NOTIFY inside a
    transaction is sent at commit; this one is its own, after the stories' own commits."""
    async with db.transaction() as tx:
        await tx.execute("SELECT pg_notify(?, '')", (WAKE_CHANNEL,))


class WakeListener:
    """LISTEN on a dedicated connection and call `on_wake` for each notification; when the
    connection is lost, reconnect (with a growing pause) and call `on_wake` once more, since
    notifications sent meanwhile were not heard."""

    def __init__(self, db: PostgresDatabase, on_wake: Callable[[], None], *,
                 retry: tuple[float, float] = (0.5, 30.0)) -> None:
        self._db = db
        self._on_wake = on_wake
        self._retry = retry
        self.listening = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="fanbot-wake-listener")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def _run(self) -> None:
        pause, first = self._retry[0], True
        while True:
            lost = asyncio.Event()
            conn: asyncpg.Connection | None = None
            try:
                conn = await self._db.dedicated_connection(server_settings=KEEPALIVE)
                conn.add_termination_listener(lambda _c, lost=lost: lost.set())  # this connection's event
                await conn.add_listener(WAKE_CHANNEL, lambda *_: self._on_wake())
                self.listening.set()
                if not first:
                    log.info("listening for new announcements again")
                    self._on_wake()
                first, pause = False, self._retry[0]
                await self._watch(conn, lost)
            except (*UNAVAILABLE, asyncpg.InterfaceError) as exc:
                log.warning("the announcement listener lost PostgreSQL (%s); retrying in %.1f s", exc, pause)
            except Exception:
                # Never give up listening for good: the periodic tick covers the gap meanwhile.
                log.exception("the announcement listener failed; retrying in %.1f s", pause)
            finally:
                self.listening.clear()
                if conn is not None and not conn.is_closed():
                    conn.terminate()
            await asyncio.sleep(pause)
            pause = min(pause * 2, self._retry[1])
            first = False

    @staticmethod
    async def _watch(conn: asyncpg.Connection, lost: asyncio.Event) -> None:
        # asyncpg reports a closed socket through the termination listener; a server that vanished
        # without closing it shows up on the next query (keepalives bound how long that takes).
        while not lost.is_set():
            try:
                await asyncio.wait_for(lost.wait(), 30)
            except TimeoutError:
                await conn.fetchval("SELECT 1")
