"""The command line on PostgreSQL, as real subprocesses: bad URLs fail in one line, copy-db, backup."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sqlite3
import sys

import asyncpg

from bot.storage.database import Database
from bot.storage.postgres import PostgresDatabase
from tests.cli.test_cli import ROOT, run_cli
from tests.pgcluster import PASSWORD
from tests.storage.test_copy import dump, populate


def one_line(result) -> str:
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


def test_a_database_url_with_a_wrong_scheme_is_refused_without_echoing_it(tmp_path):
    result = run_cli("migrate", cwd=tmp_path, DATABASE_URL="mysql://fan:hunter2-secret@db.example/fanbot")
    assert result.returncode == 2
    line = one_line(result)
    assert "DATABASE_URL" in line and "postgresql://" in line and "hunter2" not in line


def test_a_wrong_password_is_one_line_that_never_shows_the_password(pg_cluster, tmp_path):
    url = pg_cluster.url("fanbot_test", password="wrong-secret-pw")
    result = run_cli("migrate", cwd=tmp_path, DATABASE_URL=url)
    assert result.returncode == 1
    line = one_line(result)
    assert "password" in line and "wrong-secret-pw" not in result.stderr + result.stdout


def test_an_unreachable_server_is_one_line(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens here once the socket is closed
    result = run_cli("migrate", cwd=tmp_path, DATABASE_URL=f"postgresql://fan:unseen-pw@127.0.0.1:{port}/fanbot")
    assert result.returncode == 1
    line = one_line(result)
    assert "cannot reach PostgreSQL" in line and "unseen-pw" not in line and "fan:***@" in line


def test_migrate_backup_and_copy_db_on_postgresql(pg_cluster, tmp_path):
    source = tmp_path / "fanbot.db"
    assert run_cli("migrate", cwd=tmp_path, DATABASE_PATH=str(source)).returncode == 0
    with sqlite3.connect(source) as conn:
        conn.execute("INSERT INTO bot_state (key, value) VALUES ('hello', 'world')")
        conn.execute("INSERT INTO stars (guild_id, name, name_key, followed_at) VALUES (1, 'A', 'a', 'x')")
    target = asyncio.run(pg_cluster.empty_database())

    copied = run_cli("copy-db", target, cwd=tmp_path, DATABASE_PATH=str(source))
    assert copied.returncode == 0, copied.stderr
    assert "copied 2 rows" in copied.stdout and PASSWORD not in copied.stdout + copied.stderr
    again = run_cli("copy-db", target, cwd=tmp_path, DATABASE_PATH=str(source))
    assert again.returncode == 1 and "not empty" in one_line(again)

    migrated = run_cli("migrate", cwd=tmp_path, DATABASE_URL=target)
    assert migrated.returncode == 0 and "schema version" in migrated.stdout
    assert PASSWORD not in migrated.stdout + migrated.stderr

    backup = run_cli("backup", str(tmp_path / "b.db"), cwd=tmp_path, DATABASE_URL=target)
    assert backup.returncode == 2 and "pg_dump" in one_line(backup)

    back = tmp_path / "back.db"
    returned = run_cli("copy-db", f"sqlite:///{back}", cwd=tmp_path, DATABASE_URL=target)
    assert returned.returncode == 0, returned.stderr
    with sqlite3.connect(back) as conn:
        assert conn.execute("SELECT value FROM bot_state").fetchall() == [("world",)]


async def test_copy_db_killed_midway_leaves_the_target_empty_and_runs_again(pg_cluster, tmp_path):
    """kill -9 while copy-db is inside its transaction (held at one table by a lock the test owns)."""
    source_path = tmp_path / "fanbot.db"
    source = await Database.open(source_path)
    await populate(source)
    await source.close()
    target = await pg_cluster.empty_database()
    migrated = await PostgresDatabase.open_url(target)  # the tables exist, so the test can lock one
    await migrated.close()

    blocker = await asyncpg.connect(target)
    blocker_tx = blocker.transaction()
    await blocker_tx.start()
    await blocker.execute("LOCK TABLE media_submissions IN SHARE MODE")  # reads pass, inserts wait
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "DATABASE_"))}
    env.update(PYTHONPATH=str(ROOT), DATABASE_PATH=str(source_path))
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "copy-db", target, cwd=tmp_path, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    assert proc.stdout is not None
    seen = []
    while not seen or seen[-1] != "copying media_submissions ...":
        line = await asyncio.wait_for(proc.stdout.readline(), 60)
        assert line, (seen, await proc.stderr.read())
        seen.append(line.decode().strip())
    assert "copying stars ..." in seen  # earlier tables were written inside the open transaction
    proc.send_signal(signal.SIGKILL)
    await proc.wait()
    await blocker_tx.rollback()
    await blocker.close()

    check = await PostgresDatabase.open_url(target)
    try:
        assert all(not rows for rows in (await dump(check)).values())
    finally:
        await check.close()
    again = await asyncio.to_thread(run_cli, "copy-db", target, cwd=tmp_path, DATABASE_PATH=str(source_path))
    assert again.returncode == 0, again.stderr
    check = await PostgresDatabase.open_url(target)
    source = await Database.open(source_path)
    try:
        assert await dump(check) == await dump(source)
    finally:
        await check.close()
        await source.close()
