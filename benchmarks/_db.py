"""The database a benchmark runs on: a fresh SQLite file, or (--database-url) a PostgreSQL database
whose fanbot tables are emptied first, so each run starts from nothing on either engine."""

from __future__ import annotations

from pathlib import Path

from bot.storage.database import Database


def add_option(parser) -> None:
    parser.add_argument("--database-url", default=None, metavar="URL",
                        help="run on this PostgreSQL database instead of a temp SQLite file (ITS TABLES ARE EMPTIED)")


async def open_bench_db(url: str | None, path: Path) -> Database:
    if not url:
        return await Database.open(path)
    db = await Database.connect(url, path)
    tables = await db.tables()
    async with db.transaction() as tx:
        await tx.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
    return db


def engine(url: str | None) -> str:
    return "PostgreSQL" if url else "SQLite"
