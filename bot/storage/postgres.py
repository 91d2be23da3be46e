"""PostgreSQL through an asyncpg pool: the same interface as the SQLite database, for many processes.

Each transaction holds one pooled connection; reads take any free one. Migrations run under an
advisory lock, so processes starting together apply each migration once. A batch written as steps
(Database.run_steps: the poll votes) runs on a thread of its own with its own connection, as SQLite's
writer does.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator, Iterable, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from ..errors import ConstraintViolation, DatabaseUnavailable, StorageError, UniqueViolation
from .database import Database, Params, Row, Steps, T, Transaction, available_migrations
from .dialect import postgres, postgres_unique_columns

log = logging.getLogger(__name__)

# Any fixed number: every fanbot process agrees on it, nothing else on the server uses it.
MIGRATION_LOCK = 0x66616E62  # "fanb"
CONNECT_TIMEOUT = 10.0

# The server went away or is restarting: the statement did not happen (or rolled back with its
# transaction), so the caller may try again once it is back.
_UNAVAILABLE: tuple[type[BaseException], ...] = (
    asyncpg.PostgresConnectionError,
    asyncpg.ConnectionDoesNotExistError,
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
    asyncpg.CannotConnectNowError,
    ConnectionError,
    TimeoutError,
    OSError,
)
UNAVAILABLE = _UNAVAILABLE  # for the coordination connections (coordination.py), which handle loss themselves


def redact(url: str) -> str:
    """The URL with its password replaced, for logs and messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))


@contextmanager
def _translated() -> Iterator[None]:
    try:
        yield
    except asyncpg.UniqueViolationError as exc:
        raise UniqueViolation(postgres_unique_columns(exc.detail), str(exc)) from None
    except asyncpg.IntegrityConstraintViolationError as exc:
        raise ConstraintViolation(str(exc)) from exc
    except _UNAVAILABLE as exc:
        raise DatabaseUnavailable(f"{type(exc).__name__}: {exc}") from exc


def _count(status: str) -> int:
    # asyncpg answers with the command tag: "UPDATE 3", "INSERT 0 1", "DELETE 0".
    tail = status.rsplit(" ", 1)[-1]
    return int(tail) if tail.isdigit() else 0


class PostgresTransaction(Transaction):
    """A write transaction on one pooled PostgreSQL connection."""

    def __init__(self, conn: asyncpg.Connection, db: "PostgresDatabase") -> None:
        self._conn = conn
        self.dialect = db.dialect
        self._sql = db.dialect.sql

    async def execute(self, sql: str, params: Params = ()) -> int:
        with _translated():
            return _count(await self._conn.execute(self._sql(sql), *params))

    async def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        rows = list(rows)
        if rows:
            with _translated():
                await self._conn.executemany(self._sql(sql), rows)

    async def fetchone(self, sql: str, params: Params = ()) -> Row | None:
        with _translated():
            return await self._conn.fetchrow(self._sql(sql), *params)

    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        with _translated():
            return await self._conn.fetch(self._sql(sql), *params)


class PostgresDatabase(Database):
    """PostgreSQL through an asyncpg pool, behind the same interface as the SQLite database."""

    def __init__(self, url: str, pool: asyncpg.Pool) -> None:
        self.dialect = postgres()
        self.location = redact(url)
        self._url = url
        self._pool = pool
        self._steps: _StepsThread | None = None

    @classmethod
    async def open_url(cls, url: str, *, migrate: bool = True, min_size: int = 1, max_size: int = 10) -> "PostgresDatabase":
        """Connect (raising DatabaseUnavailable or StorageError with a one-line reason) and migrate."""
        pool = await _create_pool(url, min_size, max_size)
        db = cls(url, pool)
        if migrate:
            try:
                await db.migrate()
            except BaseException:
                await pool.close()
                raise
        return db

    async def close(self) -> None:
        if self._steps is not None:
            await self._steps.close()
            self._steps = None
        await self._pool.close()

    async def run_steps(self, steps: Steps[T]) -> T:
        # Awaited here, each of a batch's five round trips (BEGIN, the lock, the read, the writes,
        # COMMIT) would wait its turn of this event loop, which under a burst of clicks is long: the
        # batches grew to ~1,500 votes, parked clicks and their answers piled up (RSS 1.7x the bare
        # bot's). On a loop of its own the trips wait only for the server; this loop waits once.
        if self._steps is None:
            self._steps = _StepsThread(self._url)
        return await self._steps.run(steps)

    async def dedicated_connection(self, **options: Any) -> asyncpg.Connection:
        """A connection of its own, outside the pool, for what lives as long as a session does
        (a session advisory lock, a LISTEN); the caller closes it."""
        options.setdefault("timeout", CONNECT_TIMEOUT)
        return await asyncpg.connect(self._url, **options)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        with _translated():
            conn, tr = await self._begin()
            try:
                yield PostgresTransaction(conn, self)
            except BaseException:
                try:
                    await tr.rollback()
                except (*_UNAVAILABLE, asyncpg.InterfaceError):
                    pass  # the connection died (the pool may have taken it back): the server rolled back
                raise
            else:
                await tr.commit()
            finally:
                await _release(self._pool, conn)

    async def _begin(self) -> tuple[asyncpg.Connection, Any]:
        """A pooled connection inside BEGIN. After a server restart the pool still holds the dead
        connections: the first one found dead expires them all, and BEGIN (nothing done yet) is
        tried once more on a fresh one."""
        for attempt in (1, 2):
            conn = await self._pool.acquire()
            tr = conn.transaction()
            try:
                await tr.start()
            except _UNAVAILABLE:
                await _release(self._pool, conn)
                if attempt == 2:
                    raise
                await self._pool.expire_connections()
            else:
                return conn, tr
        raise AssertionError("unreachable")

    async def fetchone(self, sql: str, params: Params = ()) -> Row | None:
        with _translated():
            try:
                return await self._pool.fetchrow(self.dialect.sql(sql), *params)
            except _UNAVAILABLE:
                await self._pool.expire_connections()  # a read is safe to repeat once
                return await self._pool.fetchrow(self.dialect.sql(sql), *params)

    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        with _translated():
            try:
                return await self._pool.fetch(self.dialect.sql(sql), *params)
            except _UNAVAILABLE:
                await self._pool.expire_connections()
                return await self._pool.fetch(self.dialect.sql(sql), *params)

    async def migrate(self) -> int:
        with _translated():
            async with self._pool.acquire() as conn:
                await conn.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK)
                try:
                    await _apply_migrations(conn)
                finally:
                    await conn.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK)
        return await self.schema_version()

    async def tables(self) -> list[str]:
        rows = await self.fetchall(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = current_schema() AND c.relkind = 'r' AND c.relname != 'schema_migrations' "
            "ORDER BY c.oid"
        )
        return [r[0] for r in rows]

    async def backup(self, target: str | Path) -> None:
        raise StorageError("fanbot backup copies SQLite files; for PostgreSQL use pg_dump (or fanbot copy-db).")

    async def size_bytes(self) -> int:
        return int(await self.fetchval("SELECT pg_database_size(current_database())"))


class _StepsThread:
    """An event loop on a thread of its own, holding a PostgresDatabase of its own (one connection),
    on which run_steps batches run one after another."""

    def __init__(self, url: str) -> None:
        self._url = url
        self._loop = asyncio.new_event_loop()
        self._db: PostgresDatabase | None = None
        self._lock: asyncio.Lock | None = None
        self._thread = threading.Thread(target=self._loop.run_forever, name="fanbot-pg-steps", daemon=True)
        self._thread.start()

    async def run(self, steps: Steps[T]) -> T:
        future = asyncio.run_coroutine_threadsafe(self._run_here(steps), self._loop)
        return await asyncio.wrap_future(future)

    async def _run_here(self, steps: Steps[T]) -> T:
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:  # one connection: the batches queue here, not in the pool
            if self._db is None:
                self._db = PostgresDatabase(self._url, await _create_pool(self._url, 1, 1))
            return await Database.run_steps(self._db, steps)

    async def close(self) -> None:
        async def shut() -> None:
            if self._db is not None:
                await self._db._pool.close()

        try:
            await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(shut(), self._loop))
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            await asyncio.to_thread(self._thread.join)
            self._loop.close()


async def _release(pool: asyncpg.Pool, conn: asyncpg.Connection) -> None:
    try:
        await pool.release(conn)
    except asyncpg.InterfaceError:
        pass  # a lost connection is taken back by the pool itself; nothing left to give back


async def _create_pool(url: str, min_size: int, max_size: int) -> asyncpg.Pool:
    where = redact(url)
    try:
        return await asyncpg.create_pool(url, min_size=min_size, max_size=max_size, timeout=CONNECT_TIMEOUT)
    except asyncpg.InvalidPasswordError:
        raise StorageError(f"PostgreSQL at {where} refused the user name or password in DATABASE_URL.") from None
    except asyncpg.InvalidCatalogNameError:
        raise StorageError(f"PostgreSQL at {where} has no such database; create it first (createdb).") from None
    except asyncpg.InvalidAuthorizationSpecificationError as exc:
        raise StorageError(f"PostgreSQL at {where} refused the connection: {exc}") from None
    except (*_UNAVAILABLE, asyncpg.PostgresError) as exc:
        reason = str(exc) or type(exc).__name__
        raise DatabaseUnavailable(f"cannot reach PostgreSQL at {where}: {reason}") from None
    except ValueError as exc:  # a malformed URL (bad port, ...); asyncpg's text names no secret
        raise StorageError(f"DATABASE_URL is not a usable PostgreSQL URL ({where}): {exc}") from None


async def _apply_migrations(conn: asyncpg.Connection) -> None:
    await conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL,"
        " applied_at TEXT NOT NULL DEFAULT (to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')))"
    )
    done = {r[0] for r in await conn.fetch("SELECT version FROM schema_migrations")}
    for version, name, sql in available_migrations("postgres"):
        if version in done:
            continue
        log.info("applying migration %04d %s", version, name)
        async with conn.transaction():
            await conn.execute(sql)
            await conn.execute("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", version, name)

