"""The SQLite database: one serialised writer connection, one reader, numbered migrations, online backup."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path
from typing import Any

import aiosqlite

log = logging.getLogger(__name__)

Params = Sequence[Any] | dict[str, Any]


class Transaction:
    """A write transaction in progress; only the coroutine that opened it holds one."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn

    async def execute(self, sql: str, params: Params = ()) -> aiosqlite.Cursor:
        return await self._conn.execute(sql, params)

    async def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        await self._conn.executemany(sql, rows)

    async def fetchone(self, sql: str, params: Params = ()) -> sqlite3.Row | None:
        async with self._conn.execute(sql, params) as cur:
            return await cur.fetchone()

    async def fetchall(self, sql: str, params: Params = ()) -> list[sqlite3.Row]:
        # One trip to the connection's thread instead of three (execute, fetch, close): under a burst
        # each trip waits for a whole turn of a busy event loop, while the transaction holds the lock.
        return list(await self._conn.execute_fetchall(sql, params))

    async def fetchval(self, sql: str, params: Params = ()) -> Any:
        row = await self.fetchone(sql, params)
        return None if row is None else row[0]


class Database:
    """Writes go through one connection behind a lock, so no coroutine ever commits another's
    half-done work (on a shared aiosqlite connection, any commit() commits everything pending).
    Reads use a second connection, which under WAL sees only committed data."""

    def __init__(self, path: Path, writer: aiosqlite.Connection, reader: aiosqlite.Connection) -> None:
        self.path = path
        self._writer = writer
        self._reader = reader
        self._write_lock = asyncio.Lock()
        self._closed = False

    @classmethod
    async def open(cls, path: str | Path, *, migrate: bool = True) -> "Database":
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
        """BEGIN IMMEDIATE ... COMMIT, or ROLLBACK if the block raises."""
        async with self._write_lock:
            await self._writer.execute("BEGIN IMMEDIATE")
            try:
                yield Transaction(self._writer)
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

    async def execute(self, sql: str, params: Params = ()) -> int:
        """One write statement in its own transaction; returns lastrowid (or rowcount for UPDATE/DELETE)."""
        async with self.transaction() as tx:
            cur = await tx.execute(sql, params)
            return cur.lastrowid if sql.lstrip().upper().startswith("INSERT") else cur.rowcount

    async def fetchone(self, sql: str, params: Params = ()) -> sqlite3.Row | None:
        async with self._reader.execute(sql, params) as cur:
            return await cur.fetchone()

    async def fetchall(self, sql: str, params: Params = ()) -> list[sqlite3.Row]:
        async with self._reader.execute(sql, params) as cur:
            return list(await cur.fetchall())

    async def fetchval(self, sql: str, params: Params = ()) -> Any:
        row = await self.fetchone(sql, params)
        return None if row is None else row[0]

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
            for version, name, sql in available_migrations():
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

    async def schema_version(self) -> int:
        return int(await self.fetchval("SELECT COALESCE(MAX(version), 0) FROM schema_migrations") or 0)

    async def backup(self, target: str | Path) -> None:
        """A consistent online copy through SQLite's backup API (safe while the bot writes)."""
        target = Path(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        async with aiosqlite.connect(target) as dest:
            await self._reader.backup(dest)

    def size_bytes(self) -> int:
        total = 0
        for suffix in ("", "-wal"):
            p = Path(str(self.path) + suffix)
            if p.exists():
                total += p.stat().st_size
        return total


async def _connect(path: Path) -> aiosqlite.Connection:
    # isolation_level=None: we issue BEGIN/COMMIT ourselves rather than let sqlite3 guess.
    conn = await aiosqlite.connect(path, isolation_level=None)
    conn.row_factory = sqlite3.Row
    await conn.execute("PRAGMA journal_mode=WAL")
    await conn.execute("PRAGMA foreign_keys=ON")
    await conn.execute("PRAGMA busy_timeout=5000")
    await conn.execute("PRAGMA synchronous=NORMAL")
    return conn


def available_migrations() -> list[tuple[int, str, str]]:
    """(version, name, sql) for each bot/storage/migrations/NNNN_name.sql, sorted by version."""
    found = []
    for entry in resources.files("bot.storage").joinpath("migrations").iterdir():
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
