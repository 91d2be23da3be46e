"""The database seam: one interface over SQLite (one serialised writer, one reader) and PostgreSQL (a pool).

Repositories write one SQL for both engines (see dialect.py). SQLite is the default; PostgreSQL lives
in postgres.py and is chosen by DATABASE_URL.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator, Generator, Iterable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from importlib import resources
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import aiosqlite

from ..errors import ConstraintViolation, UniqueViolation
from .dialect import SQLITE, Dialect, sqlite_unique_columns

log = logging.getLogger(__name__)

Params = Sequence[Any]
# sqlite3.Row and asyncpg.Record both allow row["col"], row[0] and unpacking.
Row = Any
T = TypeVar("T")
# A transaction written once for both engines as a generator: it yields (sql, params, many) and is sent
# each statement's rows ([] after an executemany, whose params are the rows); what it returns is the
# result. SQLite runs the whole of it in one trip to its writer thread (Database.run_steps).
Steps = Generator[tuple[str, Any, bool], list[Row], T]


class _Reads:
    """Reading, the same inside a transaction and outside one."""

    dialect: Dialect = SQLITE

    async def fetchone(self, sql: str, params: Params = ()) -> Row | None:
        raise NotImplementedError

    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        raise NotImplementedError

    async def fetchval(self, sql: str, params: Params = ()) -> Any:
        row = await self.fetchone(sql, params)
        return None if row is None else row[0]


class Transaction(_Reads):
    """A write transaction in progress; only the coroutine that opened it holds one."""

    async def execute(self, sql: str, params: Params = ()) -> int:
        """Run one statement; the number of rows it changed."""
        raise NotImplementedError

    async def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        raise NotImplementedError

    @asynccontextmanager
    async def savepoint(self, name: str = "part") -> AsyncIterator[None]:
        """A part of the transaction that is undone alone if its block raises (the rest stays)."""
        await self.execute(f"SAVEPOINT {name}")
        try:
            yield
        except BaseException:
            await self.execute(f"ROLLBACK TO {name}")
            await self.execute(f"RELEASE {name}")
            raise
        await self.execute(f"RELEASE {name}")


class Database(_Reads):
    """What repositories use; `open` gives SQLite, `connect` whichever the settings name."""

    # Where it lives, for messages: a file path, or a PostgreSQL URL without its password.
    location: str = ""

    @classmethod
    async def open(cls, path: str | Path, *, migrate: bool = True) -> "SqliteDatabase":
        return await SqliteDatabase.open_file(path, migrate=migrate)

    @staticmethod
    async def connect(url: str | None, path: str | Path, *, migrate: bool = True) -> "Database":
        """PostgreSQL at `url` if given, else the SQLite file at `path`."""
        if url:
            from .postgres import PostgresDatabase

            return await PostgresDatabase.open_url(url, migrate=migrate)
        return await SqliteDatabase.open_file(path, migrate=migrate)

    def transaction(self) -> AbstractAsyncContextManager[Transaction]:
        """BEGIN ... COMMIT, or ROLLBACK if the block raises."""
        raise NotImplementedError

    async def execute(self, sql: str, params: Params = ()) -> int:
        """One write statement in its own transaction; the number of rows it changed."""
        async with self.transaction() as tx:
            return await tx.execute(sql, params)

    async def execute_returning(self, sql: str, params: Params = ()) -> Any:
        """One write statement with RETURNING in its own transaction; the first column of its first row."""
        async with self.transaction() as tx:
            return await tx.fetchval(sql, params)

    async def run_steps(self, steps: Steps[T]) -> T:
        """Run `steps` (see Steps) in one transaction: committed if it returns, rolled back if it raises."""
        async with self.transaction() as tx:
            rows: list[Row] | None = None  # a generator's first send must be None
            while True:
                try:
                    sql, params, many = steps.send(rows)  # type: ignore[arg-type]
                except StopIteration as done:
                    return done.value  # type: ignore[no-any-return]
                if many:
                    await tx.executemany(sql, params)
                    rows = []
                else:
                    rows = await tx.fetchall(sql, params)

    async def migrate(self) -> int:
        raise NotImplementedError

    async def schema_version(self) -> int:
        return int(await self.fetchval("SELECT COALESCE(MAX(version), 0) FROM schema_migrations") or 0)

    async def tables(self) -> list[str]:
        """The application's tables (schema_migrations excluded), in creation order."""
        raise NotImplementedError

    async def backup(self, target: str | Path) -> None:
        raise NotImplementedError

    async def size_bytes(self) -> int:
        raise NotImplementedError

    async def close(self) -> None:
        raise NotImplementedError


def _raise_constraint(exc: sqlite3.IntegrityError) -> NoReturn:
    columns = sqlite_unique_columns(str(exc))
    if columns is not None:
        raise UniqueViolation(columns, str(exc)) from None
    raise ConstraintViolation(str(exc)) from exc


class SqliteTransaction(Transaction):
    """A write transaction on the SQLite writer connection."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn

    async def execute(self, sql: str, params: Params = ()) -> int:
        try:
            cur = await self._conn.execute(sql, params)
        except sqlite3.IntegrityError as exc:
            _raise_constraint(exc)
        return cur.rowcount

    async def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        try:
            await self._conn.executemany(sql, rows)
        except sqlite3.IntegrityError as exc:
            _raise_constraint(exc)

    async def fetchone(self, sql: str, params: Params = ()) -> sqlite3.Row | None:
        try:
            async with self._conn.execute(sql, params) as cur:
                return await cur.fetchone()
        except sqlite3.IntegrityError as exc:
            _raise_constraint(exc)

    async def fetchall(self, sql: str, params: Params = ()) -> list[sqlite3.Row]:
        try:
            # One trip to the connection's thread instead of three (execute, fetch, close): under a
            # burst each trip waits for a whole turn of a busy event loop, while the transaction
            # holds the lock.
            return list(await self._conn.execute_fetchall(sql, params))
        except sqlite3.IntegrityError as exc:
            _raise_constraint(exc)


class SqliteDatabase(Database):
    """Writes go through one connection behind a lock, so no coroutine ever commits another's
    half-done work (on a shared aiosqlite connection, any commit() commits everything pending).
    Reads use a second connection, which under WAL sees only committed data."""

    def __init__(self, path: Path, writer: aiosqlite.Connection, reader: aiosqlite.Connection) -> None:
        self.path = path
        self.location = str(path)
        self._writer = writer
        self._reader = reader
        self._write_lock = asyncio.Lock()
        self._closed = False

    @classmethod
    async def open_file(cls, path: str | Path, *, migrate: bool = True) -> "SqliteDatabase":
        path = Path(path)
        if str(path) != ":memory:":
            path.parent.mkdir(parents=True, exist_ok=True)
        writer = await _connect(path)
        reader = await _connect(path)
        db = cls(path, writer, reader)
        if migrate:
            await db.migrate()
        return db

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        # Wait for a transaction in flight so shutdown never leaves half-written work.
        async with self._write_lock:
            await self._reader.close()
            await self._writer.close()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        async with self._write_lock:
            await self._writer.execute("BEGIN IMMEDIATE")
            try:
                yield SqliteTransaction(self._writer)
            except BaseException:
                await self._writer.rollback()
                raise
            else:
                try:
                    await self._writer.commit()
                except BaseException:
                    # A failed COMMIT (disk full, I/O error) leaves the transaction open; without
                    # this every later BEGIN would fail until a restart.
                    await self._writer.rollback()
                    raise

    async def run_steps(self, steps: Steps[T]) -> T:
        # The whole transaction in one trip to the writer's thread: awaited statement by statement,
        # each of BEGIN, the reads, the writes and COMMIT waited a turn of the event loop, which
        # under a burst of votes is long, while the lock kept every other writer waiting.
        async with self._write_lock:
            return await self._writer._execute(_run_steps_here, self._writer._conn, steps)  # type: ignore[no-any-return]

    async def fetchone(self, sql: str, params: Params = ()) -> sqlite3.Row | None:
        async with self._reader.execute(sql, params) as cur:
            return await cur.fetchone()

    async def fetchall(self, sql: str, params: Params = ()) -> list[sqlite3.Row]:
        async with self._reader.execute(sql, params) as cur:
            return list(await cur.fetchall())

    # -- migrations -------------------------------------------------------------------------
    async def migrate(self) -> int:
        """Apply every migration not yet recorded, in order, each atomically; return the version."""
        async with self._write_lock:
            await self._writer.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
                " applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')))"
            )
            await self._writer.commit()
            async with self._writer.execute("SELECT version FROM schema_migrations") as cur:
                done = {row[0] for row in await cur.fetchall()}
            for version, name, sql in available_migrations("sqlite"):
                if version in done:
                    continue
                log.info("applying migration %04d %s", version, name)
                script = (
                    f"BEGIN IMMEDIATE;\n{sql}\n;"
                    f"INSERT INTO schema_migrations (version, name) VALUES ({version}, '{name}');\nCOMMIT;"
                )
                try:
                    await self._writer.executescript(script)
                except Exception:
                    await self._writer.rollback()
                    raise
        return await self.schema_version()

    async def tables(self) -> list[str]:
        rows = await self.fetchall(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
            "AND name != 'schema_migrations' ORDER BY rowid"
        )
        return [r[0] for r in rows]

    async def backup(self, target: str | Path) -> None:
        """A consistent online copy through SQLite's backup API (safe while the bot writes)."""
        target = Path(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        async with aiosqlite.connect(target) as dest:
            await self._reader.backup(dest)

    async def size_bytes(self) -> int:
        total = 0
        for suffix in ("", "-wal"):
            p = Path(str(self.path) + suffix)
            if p.exists():
                total += p.stat().st_size
        return total


def _run_steps_here(conn: sqlite3.Connection, steps: Steps[T]) -> T:
    """Database.run_steps on the connection's own thread (aiosqlite runs every call of a connection there)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        rows: list[Row] | None = None  # a generator's first send must be None
        while True:
            try:
                sql, params, many = steps.send(rows)  # type: ignore[arg-type]
            except StopIteration as done:
                result: T = done.value
                break
            if many:
                conn.executemany(sql, params)
                rows = []
            else:
                rows = conn.execute(sql, params).fetchall()
        conn.commit()
    except BaseException as exc:
        conn.rollback()
        if isinstance(exc, sqlite3.IntegrityError):
            _raise_constraint(exc)
        raise
    return result


async def _connect(path: Path) -> aiosqlite.Connection:
    # isolation_level=None: we issue BEGIN/COMMIT ourselves rather than let sqlite3 guess.
    conn = await aiosqlite.connect(path, isolation_level=None)
    conn.row_factory = sqlite3.Row
    await conn.execute("PRAGMA journal_mode=WAL")
    await conn.execute("PRAGMA foreign_keys=ON")
    await conn.execute("PRAGMA busy_timeout=5000")
    await conn.execute("PRAGMA synchronous=NORMAL")
    return conn


def available_migrations(dialect: str = "sqlite") -> list[tuple[int, str, str]]:
    """(version, name, sql) for each bot/storage/migrations/<dialect>/NNNN_name.sql, sorted by version."""
    found = []
    for entry in resources.files("bot.storage").joinpath("migrations", dialect).iterdir():
        if not entry.name.endswith(".sql"):
            continue
        stem = entry.name[:-4]
        number, _, name = stem.partition("_")
        if not number.isdigit():
            continue
        found.append((int(number), name, entry.read_text(encoding="utf-8")))
    found.sort()
    versions = [v for v, _, _ in found]
    if len(versions) != len(set(versions)):
        raise RuntimeError(f"two migrations share a number: {versions}")
    return found


async def backup_file(source: str | Path, target: str | Path) -> None:
    """Back up a database file that another process (the running bot) may be writing."""
    source = Path(source)
    if not source.exists():
        raise FileNotFoundError(f"no database at {source}")
    async with aiosqlite.connect(source) as src:
        await src.execute("PRAGMA busy_timeout=5000")
        Path(target).parent.mkdir(parents=True, exist_ok=True)
        async with aiosqlite.connect(target) as dest:
            await src.backup(dest)
