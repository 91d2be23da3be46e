"""The database: migrations, serialised write transactions, online backup."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest

from bot.storage.database import Database, available_migrations


async def test_fresh_database_creates_folder_and_applies_every_migration(tmp_path):
    path = tmp_path / "nested" / "dir" / "fanbot.db"
    db = await Database.open(path)
    try:
        assert path.exists()
        latest = max(v for v, _, _ in available_migrations())
        assert await db.schema_version() == latest
        assert await db.fetchval("PRAGMA journal_mode") == "wal"
        assert await db.fetchval("PRAGMA foreign_keys") == 1
    finally:
        await db.close()


async def test_migrate_twice_applies_nothing_new(any_db):
    db = any_db
    count = await db.fetchval("SELECT COUNT(*) FROM schema_migrations")
    assert await db.migrate() == await db.schema_version()
    assert await db.fetchval("SELECT COUNT(*) FROM schema_migrations") == count


async def test_concurrent_writer_rollback_never_commits_or_loses_the_other_writer(any_db):
    """Two coroutines write at once; one fails and rolls back. On a shared connection without
    serialisation, the healthy coroutine's commit would commit the failing one's half-done rows."""
    db = any_db
    started = asyncio.Event()

    async def failing_writer():
        with pytest.raises(RuntimeError):
            async with db.transaction() as tx:
                await tx.execute("INSERT INTO bot_state (key, value) VALUES ('doomed', '1')")
                started.set()
                await asyncio.sleep(0.05)  # the other coroutine tries to commit meanwhile
                raise RuntimeError("boom")

    async def healthy_writer():
        await started.wait()
        async with db.transaction() as tx:
            await tx.execute("INSERT INTO bot_state (key, value) VALUES ('kept', '1')")

    await asyncio.gather(failing_writer(), healthy_writer())
    rows = {r[0] for r in await db.fetchall("SELECT key FROM bot_state")}
    assert rows == {"kept"}


async def test_reads_never_see_another_coroutines_uncommitted_writes(any_db):
    db = any_db
    inside = asyncio.Event()
    release = asyncio.Event()

    async def writer():
        async with db.transaction() as tx:
            await tx.execute("INSERT INTO bot_state (key, value) VALUES ('pending', '1')")
            inside.set()
            await release.wait()

    task = asyncio.create_task(writer())
    await inside.wait()
    assert await db.fetchval("SELECT COUNT(*) FROM bot_state WHERE key = 'pending'") == 0
    release.set()
    await task
    assert await db.fetchval("SELECT COUNT(*) FROM bot_state WHERE key = 'pending'") == 1


async def test_many_concurrent_transactions_all_land(any_db):
    db = any_db

    async def add(i: int):
        async with db.transaction() as tx:
            await tx.execute("INSERT INTO bot_state (key, value) VALUES (?, ?)", (f"k{i}", str(i)))
            await asyncio.sleep(0)
            await tx.execute("UPDATE bot_state SET value = value || '!' WHERE key = ?", (f"k{i}",))

    await asyncio.gather(*(add(i) for i in range(50)))
    values = {r[0] for r in await db.fetchall("SELECT value FROM bot_state")}
    assert values == {f"{i}!" for i in range(50)}


def _keep_and_count(keys: list[str], fail_after: str | None = None):
    """Steps for run_steps: insert each key, read the count back, raise after `fail_after` if given."""
    for key in keys:
        yield "INSERT INTO bot_state (key, value) VALUES (?, '1')", [(key,)], True
        if key == fail_after:
            raise RuntimeError("boom")
    rows = yield "SELECT COUNT(*) FROM bot_state WHERE key LIKE ?", ("s%",), False
    return rows[0][0]


async def test_steps_run_as_one_transaction_and_return_their_result(any_db):
    db = any_db
    assert await db.run_steps(_keep_and_count(["s1", "s2"])) == 2
    with pytest.raises(RuntimeError):
        await db.run_steps(_keep_and_count(["s3", "s4"], fail_after="s4"))
    # The failed one left nothing, and the writer is usable again at once.
    assert await db.run_steps(_keep_and_count(["s5"])) == 3
    assert {r[0] for r in await db.fetchall("SELECT key FROM bot_state")} == {"s1", "s2", "s5"}


async def test_steps_refused_by_a_constraint_roll_back_with_the_usual_error(any_db):
    from bot.errors import UniqueViolation

    db = any_db
    with pytest.raises(UniqueViolation) as refused:
        await db.run_steps(_keep_and_count(["s1", "s2", "s1"]))
    assert refused.value.columns == ("key",)
    assert await db.fetchval("SELECT COUNT(*) FROM bot_state") == 0


async def test_steps_and_transactions_at_once_all_land(any_db):
    db = any_db

    async def plain(i: int) -> None:
        async with db.transaction() as tx:
            await tx.execute("INSERT INTO bot_state (key, value) VALUES (?, '1')", (f"t{i}",))
            await asyncio.sleep(0)

    await asyncio.gather(*(db.run_steps(_keep_and_count([f"s{i}"])) for i in range(20)), *(plain(i) for i in range(20)))
    assert await db.fetchval("SELECT COUNT(*) FROM bot_state") == 40


async def test_backup_while_writing_is_a_consistent_copy(tmp_path):
    db = await Database.open(tmp_path / "live.db")
    stop, under_way = asyncio.Event(), asyncio.Event()

    async def keep_writing():
        i = 0
        while not stop.is_set():
            async with db.transaction() as tx:
                await tx.execute("INSERT INTO bot_state (key, value) VALUES (?, 'a')", (f"w{i}",))
                await tx.execute("INSERT INTO bot_state (key, value) VALUES (?, 'b')", (f"w{i}b",))
            i += 1
            if i == 10:
                under_way.set()
            await asyncio.sleep(0)

    writer = asyncio.create_task(keep_writing())
    await under_way.wait()
    await db.backup(tmp_path / "copy.db")
    stop.set()
    await writer
    await db.close()
    copy = sqlite3.connect(tmp_path / "copy.db")
    try:
        a = copy.execute("SELECT COUNT(*) FROM bot_state WHERE value = 'a'").fetchone()[0]
        b = copy.execute("SELECT COUNT(*) FROM bot_state WHERE value = 'b'").fetchone()[0]
        assert a == b and a > 0  # both rows of every transaction, or neither
        assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        copy.close()
