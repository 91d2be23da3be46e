"""`python -m bot` as a real process against the Discord double: login, a command, clean SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import sys
from pathlib import Path

from tests.conftest import FanServer

ROOT = Path(__file__).resolve().parents[2]


async def test_the_bot_process_logs_in_answers_and_shuts_down_cleanly(double, tmp_path):
    server = FanServer(double)
    db_path = tmp_path / "data" / "fanbot.db"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "DATABASE_", "FEED_", "DEV_"))}
    env.update(
        PYTHONPATH=str(ROOT),
        DISCORD_TOKEN=double.token,
        DISCORD_API_BASE=double.api_base,
        DATABASE_PATH=str(db_path),
        STAR_SEARCH_FEEDS="",
        LOG_LEVEL="DEBUG",
    )
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", cwd=tmp_path, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )
    try:
        await double.wait_for_identify(timeout=30)
        await double.wait_ready(timeout=10)
        ix = await server.invoke(server.mod, "stars follow", name="Han So-hee")
        assert "한소희" in ix.content and "1994-11-18" in ix.content
    finally:
        proc.send_signal(signal.SIGTERM)
        output, _ = await asyncio.wait_for(proc.communicate(), 30)
    log = output.decode(errors="replace")
    assert proc.returncode == 0, log
    assert double.token not in log  # the token is never logged, even at DEBUG
    assert "shutting down" in log
    assert double.sync_count == 1
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("SELECT name FROM stars").fetchall() == [("Han So-hee",)]
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)


async def test_sync_registers_the_commands_to_one_guild(double, tmp_path):
    server = FanServer(double)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "DATABASE_", "FEED_", "DEV_"))}
    env.update(PYTHONPATH=str(ROOT), DISCORD_TOKEN=double.token, DISCORD_API_BASE=double.api_base,
               DATABASE_PATH=str(tmp_path / "f.db"))
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "sync", "--guild", server.guild.id, cwd=tmp_path, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 0, err.decode()
    assert f"server {server.guild.id}" in out.decode()
    names = set(double.commands[server.guild.id])
    assert {"stars", "config", "fanbot"} <= names
    assert None not in double.commands or not double.commands[None]  # nothing registered globally
    assert not double.identifies  # sync never connects to the Gateway
