"""fanbot copy-db: every row of one database into an empty other one (SQLite to PostgreSQL or back).

The target is migrated to the same schema version first, then filled in one transaction: a copy
that fails or is killed leaves the target empty, so it can simply be run again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..errors import StorageError
from .database import Database, Transaction

PAGE = 2000


@dataclass(frozen=True, slots=True)
class CopyReport:
    """What copy-db copied: how many tables and rows."""

    tables: int
    rows: int
    version: int


async def copy_database(source: Database, target: Database, *,
                        progress: Callable[[str], object] | None = None, page: int = PAGE) -> CopyReport:
    """Copy `source` (already at the code's schema version) into the empty `target`, `page` rows at a
    time; `progress` hears each table's name before it is copied."""
    # Checked before the target is touched: a database with rows is refused as it is.
    for table in await target.tables():
        if await target.fetchval(f"SELECT EXISTS (SELECT 1 FROM {table})"):
            raise StorageError(f"the target database is not empty (table {table} has rows); copy-db only fills an empty one.")
    version = await source.schema_version()
    latest = await target.migrate()
    if version != latest:
        raise StorageError(
            f"the source database is at schema version {version}, this fanbot at {latest}; "
            "run `fanbot migrate` on the source first."
        )
    tables = await _parents_first(source)
    copied = 0
    # The source is read inside a transaction so the copy is one consistent moment of it.
    async with source.transaction() as reader, target.transaction() as writer:
        for table in tables:
            if progress is not None:
                progress(table)
            try:
                copied += await _copy_table(reader, writer, table, await _primary_key(source, table), page)
            except StorageError:
                raise
            except Exception as exc:  # a value the target's types refuse: name the table, keep one line
                raise StorageError(f"copying table {table} failed, nothing was written: {exc}") from exc
        if target.dialect.is_postgres:
            await _restart_identities(writer, tables)
    return CopyReport(len(tables), copied, version)


async def _copy_table(reader: Transaction, writer: Transaction, table: str, key: list[str], page: int) -> int:
    """Page through the table in primary-key order (keyset, so a big table is never all in memory and
    each page costs the same), inserting each page as one batch."""
    order = ", ".join(key)
    rows = await reader.fetchall(f"SELECT * FROM {table} ORDER BY {order} LIMIT ?", (page,))
    after = f"SELECT * FROM {table} WHERE ({order}) > ({', '.join('?' * len(key))}) ORDER BY {order} LIMIT ?"
    insert = ""
    copied = 0
    while rows:
        if not insert:
            columns = list(rows[0].keys())
            insert = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
        await writer.executemany(insert, [tuple(r) for r in rows])
        copied += len(rows)
        if len(rows) < page:
            break
        rows = await reader.fetchall(after, (*(rows[-1][k] for k in key), page))
    return copied


async def _primary_key(db: Database, table: str) -> list[str]:
    if db.dialect.is_postgres:
        rows = await db.fetchall(
            "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid "
            "AND a.attnum = ANY (i.indkey) WHERE i.indrelid = (?::text)::regclass AND i.indisprimary "
            "ORDER BY array_position(i.indkey::int2[], a.attnum)", (table,))
    else:
        rows = await db.fetchall("SELECT name FROM pragma_table_info(?) WHERE pk > 0 ORDER BY pk", (table,))
    if not rows:
        raise StorageError(f"table {table} has no primary key; copy-db cannot page through it")
    return [r[0] for r in rows]


async def _restart_identities(writer: Transaction, tables: list[str]) -> None:
    """Identity columns count on from the copied ids, so the next insert does not collide."""
    identities = await writer.fetchall(
        "SELECT table_name, column_name FROM information_schema.columns "
        "WHERE table_schema = current_schema() AND is_identity = 'YES'"
    )
    for table, column in identities:
        if table in tables:
            await writer.fetchval(
                f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'), "
                f"COALESCE(MAX({column}), 1), MAX({column}) IS NOT NULL) FROM {table}"
            )


async def _parents_first(db: Database) -> list[str]:
    """The tables ordered so every table comes after the ones its foreign keys point at."""
    tables = await db.tables()
    parents: dict[str, set[str]] = {}
    for table in tables:
        if db.dialect.is_postgres:
            rows = await db.fetchall(
                "SELECT confrelid::regclass::text FROM pg_constraint WHERE contype = 'f' "
                "AND conrelid = (?::text)::regclass", (table,))
        else:
            rows = await db.fetchall('SELECT "table" FROM pragma_foreign_key_list(?)', (table,))
        parents[table] = {r[0] for r in rows if r[0] != table}
    ordered: list[str] = []
    while len(ordered) < len(tables):
        ready = [t for t in tables if t not in ordered and parents[t] <= set(ordered)]
        if not ready:
            raise StorageError("the tables' foreign keys form a cycle; copy-db cannot order them")
        ordered += ready
    return ordered
