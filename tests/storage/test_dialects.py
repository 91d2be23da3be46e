"""One storage layer on two engines: same schema from both migration sets, same errors, same SQL."""

from __future__ import annotations

import asyncio

import pytest

from bot.errors import DatabaseUnavailable, UniqueViolation
from bot.storage.database import Database, available_migrations
from bot.storage.dialect import SQLITE, postgres
from bot.storage.postgres import PostgresDatabase


def _kind(declared: str) -> str:
    declared = declared.lower()
    return "integer" if ("int" in declared) else declared


async def sqlite_schema(db: Database) -> dict:
    schema = {}
    for table in await db.tables():
        info = await db.fetchall(f"PRAGMA table_info({table})")
        pk = tuple(r["name"] for r in sorted((r for r in info if r["pk"]), key=lambda r: r["pk"]))
        columns = {r["name"]: (_kind(r["type"]), bool(r["notnull"]) or r["name"] in pk) for r in info}
        uniques, indexes = set(), {}
        for index in await db.fetchall(f"PRAGMA index_list({table})"):
            cols = tuple(r["name"] for r in await db.fetchall(f"PRAGMA index_info({index['name']})"))
            if index["origin"] == "u":
                uniques.add(cols)
            elif index["origin"] == "c":
                indexes[index["name"]] = (cols, bool(index["unique"]), bool(index["partial"]))
        schema[table] = {"columns": columns, "pk": pk, "uniques": uniques, "indexes": indexes}
    return schema


async def postgres_schema(db: Database) -> dict:
    schema = {}
    for table in await db.tables():
        info = await db.fetchall(
            "SELECT column_name, data_type, is_nullable FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position", (table,))
        columns = {r[0]: ("integer" if r[1] == "bigint" else r[1], r[2] == "NO") for r in info}
        constraints = await db.fetchall(
            "SELECT c.contype::text, ARRAY(SELECT a.attname FROM unnest(c.conkey) WITH ORDINALITY k(n, o) "
            " JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n ORDER BY k.o) "
            "FROM pg_constraint c WHERE c.conrelid = (?::text)::regclass AND c.contype IN ('p', 'u')", (table,))
        pk = next(tuple(r[1]) for r in constraints if r[0] == "p")
        uniques = {tuple(r[1]) for r in constraints if r[0] == "u"}
        rows = await db.fetchall(
            "SELECT ic.relname, i.indisunique, i.indpred IS NOT NULL, ARRAY(SELECT a.attname FROM "
            " unnest(i.indkey) WITH ORDINALITY k(n, o) JOIN pg_attribute a ON a.attrelid = i.indrelid "
            " AND a.attnum = k.n ORDER BY k.o) "
            "FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid WHERE i.indrelid = (?::text)::regclass "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)", (table,))
        indexes = {r[0]: (tuple(r[3]), r[1], r[2]) for r in rows}
        schema[table] = {"columns": columns, "pk": pk, "uniques": uniques, "indexes": indexes}
    return schema


async def test_both_migration_sets_reach_the_same_schema(pg_cluster, tmp_path):
    assert [v for v, _, _ in available_migrations("sqlite")] == [v for v, _, _ in available_migrations("postgres")]
    lite = await Database.open(tmp_path / "schema.db")
    pg = await PostgresDatabase.open_url(await pg_cluster.clean_database())
    try:
        assert await lite.schema_version() == await pg.schema_version()
        expected, actual = await sqlite_schema(lite), await postgres_schema(pg)
        assert list(actual) == list(expected)
        # The introspection sees what the migrations made (so an empty result cannot pass):
        assert expected["feeds"]["indexes"]["feeds_source"] == (("source_id",), False, True)
        assert ("guild_id", "url") in expected["feeds"]["uniques"] and ("url",) in expected["feed_sources"]["uniques"]
        for table in expected:
            assert actual[table] == expected[table], table
    finally:
        await lite.close()
        await pg.close()


async def test_migrations_started_by_two_processes_at_once_apply_once(pg_cluster):
    url = await pg_cluster.empty_database()
    first, second = await asyncio.gather(PostgresDatabase.open_url(url), PostgresDatabase.open_url(url))
    try:
        latest = max(v for v, _, _ in available_migrations("postgres"))
        assert await first.schema_version() == await second.schema_version() == latest
        assert await first.fetchval("SELECT COUNT(*) FROM schema_migrations") == latest
    finally:
        await first.close()
        await second.close()


def test_placeholders_are_numbered_once_and_quoted_text_is_left_alone():
    dialect = postgres()
    sql = "SELECT '?' AS q, \"a?\" FROM t WHERE a = ? AND b IN (?, ?)"
    assert dialect.sql(sql) == "SELECT '?' AS q, \"a?\" FROM t WHERE a = $1 AND b IN ($2, $3)"
    assert dialect.sql(sql) is dialect.sql(sql)  # translated once, then served from the cache
    assert SQLITE.sql(sql) is sql


async def test_a_duplicate_is_one_project_error_naming_its_columns(any_db):
    sql = "INSERT INTO stars (guild_id, name, name_key, followed_at) VALUES (?, ?, ?, 'x')"
    await any_db.execute(sql, (1, "Song Hye-kyo", "song hye-kyo"))
    with pytest.raises(UniqueViolation) as caught:
        await any_db.execute(sql, (1, "SONG HYE-KYO", "song hye-kyo"))
    assert caught.value.columns == ("guild_id", "name_key")
    assert await any_db.fetchval("SELECT COUNT(*) FROM stars") == 1  # the failed write left nothing


async def test_nocase_orders_and_compares_the_same_on_both(any_db):
    for i, name in enumerate(["banana", "Apple", "cherry"]):
        await any_db.execute("INSERT INTO bot_state (key, value) VALUES (?, ?)", (str(i), name))
    rows = await any_db.fetchall("SELECT value FROM bot_state ORDER BY value COLLATE NOCASE")
    assert [r[0] for r in rows] == ["Apple", "banana", "cherry"]
    assert await any_db.fetchval("SELECT key FROM bot_state WHERE value = ? COLLATE NOCASE", ("APPLE",)) == "1"


@pytest.mark.parametrize("db_kind", ["postgres"])  # SQLite's one writer makes claiming trivial
async def test_skip_locked_lets_two_transactions_claim_different_rows(any_db):
    for i in range(4):
        await any_db.execute("INSERT INTO bot_state (key, value) VALUES (?, 'due')", (f"k{i}",))
    claim = f"SELECT key FROM bot_state WHERE value = 'due' ORDER BY key LIMIT 2{any_db.dialect.skip_locked}"
    first_holds, second_done = asyncio.Event(), asyncio.Event()
    claimed: list[list[str]] = []

    async def first():
        async with any_db.transaction() as tx:
            claimed.append([r[0] for r in await tx.fetchall(claim)])
            first_holds.set()
            await second_done.wait()

    async def second():
        await first_holds.wait()
        async with any_db.transaction() as tx:
            claimed.append([r[0] for r in await tx.fetchall(claim)])
        second_done.set()

    await asyncio.gather(first(), second())
    assert claimed == [["k0", "k1"], ["k2", "k3"]]


@pytest.mark.parametrize("db_kind", ["postgres"])
async def test_a_transaction_cut_off_by_a_restart_writes_nothing_and_the_pool_reconnects(any_db, pg_cluster):
    try:
        with pytest.raises(DatabaseUnavailable):
            async with any_db.transaction() as tx:
                await tx.execute("INSERT INTO bot_state (key, value) VALUES ('half', '1')")
                pg_cluster.halt()
                await tx.execute("INSERT INTO bot_state (key, value) VALUES ('other', '2')")
        with pytest.raises(DatabaseUnavailable):
            await any_db.fetchval("SELECT COUNT(*) FROM bot_state")
    finally:
        pg_cluster.boot()
    assert await any_db.fetchval("SELECT COUNT(*) FROM bot_state") == 0
    await any_db.execute("INSERT INTO bot_state (key, value) VALUES ('after', '1')")
    assert await any_db.fetchval("SELECT value FROM bot_state WHERE key = 'after'") == "1"


def _half_then_halt(cluster):
    """Steps that write a row, then stop the server before writing the next."""
    yield "INSERT INTO bot_state (key, value) VALUES ('half', '1')", [()], True
    cluster.halt()
    yield "INSERT INTO bot_state (key, value) VALUES ('other', '2')", [()], True
    return "done"


def _one_row(key: str):
    yield "INSERT INTO bot_state (key, value) VALUES (?, '1')", [(key,)], True
    return key


@pytest.mark.parametrize("db_kind", ["postgres"])
async def test_steps_cut_off_by_a_restart_write_nothing_and_their_thread_reconnects(any_db, pg_cluster):
    # run_steps on PostgreSQL runs on a thread and connection of its own: a restart must leave it as
    # usable as the pool, and what it was writing must roll back.
    assert await any_db.run_steps(_one_row("before")) == "before"
    try:
        with pytest.raises(DatabaseUnavailable):
            await any_db.run_steps(_half_then_halt(pg_cluster))
    finally:
        pg_cluster.boot()
    assert await any_db.run_steps(_one_row("after")) == "after"
    assert sorted(r[0] for r in await any_db.fetchall("SELECT key FROM bot_state")) == ["after", "before"]


@pytest.mark.parametrize("db_kind", ["postgres"])
async def test_closing_the_database_stops_the_steps_thread(any_db):
    import threading

    before = set(threading.enumerate())
    await any_db.run_steps(_one_row("k"))
    started = [t for t in set(threading.enumerate()) - before if t.name == "fanbot-pg-steps"]
    assert len(started) == 1 and started[0].is_alive()
    await any_db.close()
    assert not started[0].is_alive()
