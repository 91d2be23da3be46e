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
    tables: int
    rows: int
    version: int


async def copy_database(source: Database, target: Database, *,
                        progress: Callable[[str], object] | None = None) -> CopyReport:
    """Copy `source` (already at the code's schema version) into the empty `target`; `progress` hears
    each table's name before it is copied."""
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
                copied += await _copy_table(reader, writer, table)
            except StorageError:
                raise
            except Exception as exc:  # a value the target's types refuse: name the table, keep one line
                raise StorageError(f"copying table {table} failed, nothing was written: {exc}") from exc
        if target.dialect.is_postgres:
            await _restart_identities(writer, tables)
    return CopyReport(len(tables), copied, version)


async def _copy_table(reader: Transaction, writer: Transaction, table: str) -> int:
    rows = await reader.fetchall(f"SELECT * FROM {table}")
    if not rows:
        return 0
    columns = list(rows[0].keys())
    insert = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
    for start in range(0, len(rows), PAGE):
        await writer.executemany(insert, [tuple(r) for r in rows[start : start + PAGE]])
    return len(rows)


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
