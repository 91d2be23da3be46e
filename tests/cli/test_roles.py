"""`fanbot run` in the process roles: a feeds-only process (no token, never talks to Discord) hands its
stories to a gateway process through the database; a split on SQLite is refused in one line.

The split runs here on one SQLite file thanks to FANBOT_TEST_SQLITE_SPLIT, the flag meant for tests only."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sqlite3
import sys
from pathlib import Path

import pytest

from bot.cli import main
from tests.conftest import FanServer
from tests.feedserver import FeedServer, Item

ROOT = Path(__file__).resolve().parents[2]


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DISCORD_", "DATABASE_", "FEED_", "DEV_", "SHARD_", "PROCESS_", "FANBOT_"))}
    env.update(PYTHONPATH=str(ROOT), STAR_SEARCH_FEEDS="", **extra)
    return env


def pending_announcements(db_path: Path) -> int:
    with sqlite3.connect(db_path) as conn:
        return conn.execute("SELECT COUNT(*) FROM announcements WHERE status = 'pending'").fetchone()[0]


async def test_a_feeds_process_writes_stories_that_the_gateway_process_posts(start_bot, server, double, tmp_path):
    feeds = await FeedServer().start()
    try:
        wire = feeds.feed("wire.xml", Item("Song Hye-kyo at an old premiere", "http://wire.example/old", "old"))
        # The gateway process: no feeds role, so it never polls; it answers commands and delivers.
        bot = await start_bot(process_roles=frozenset({"gateway", "leader"}))
        await server.configure(bot)
        await server.invoke(server.mod, "stars follow", name="Song Hye-kyo")
        await server.invoke(server.mod, "feeds add", url=feeds.url("wire.xml"), name="Wire")
        wire.items.insert(0, Item("송혜교, 새 드라마 출연 확정", "http://wire.example/new", "new"))
        requests, identifies = len(double.requests), len(double.identifies)

        db_path = bot.settings.database_path
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", cwd=tmp_path, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT, env=clean_env(
                PROCESS_ROLES="feeds", FANBOT_TEST_SQLITE_SPLIT="true", DATABASE_PATH=str(db_path),
                FEED_ALLOW_PRIVATE_NETWORKS="true", DISCORD_API_BASE=double.api_base, LOG_LEVEL="DEBUG"))
        try:
            # The feed was added on the bot's (earlier) clock, so it is due at once on the process's clock.
            await double.wait_for(lambda: pending_announcements(db_path) == 1, 30, "the feeds process's story")
        finally:
            proc.send_signal(signal.SIGTERM)
            output, _ = await asyncio.wait_for(proc.communicate(), 30)
        log = output.decode(errors="replace")
        assert proc.returncode == 0, log
        assert "running as feeds, without a Gateway connection" in log and "shutting down" in log
        assert "Traceback" not in log
        assert (len(double.requests), len(double.identifies)) == (requests, identifies)  # never spoke to Discord
        assert server.messages("news") == []

        await bot.scheduler.run_once(force=True)
        [post] = server.messages("news")
        assert post["embeds"][0]["url"] == "http://wire.example/new"
        assert pending_announcements(db_path) == 0
    finally:
        await feeds.stop()


@pytest.fixture
def environ(monkeypatch, tmp_path):
    """`fanbot` in this process, in an empty folder, with only the settings a test gives."""
    for name in list(os.environ):
        if name.startswith(("DISCORD_", "DATABASE_", "FEED_", "DEV_", "SHARD_", "PROCESS_", "FANBOT_")):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    # main() sets up logging for a whole process; put the test run's back afterwards.
    root, http = logging.getLogger(), logging.getLogger("discord.http")
    handlers, levels = root.handlers[:], (root.level, http.level)
    yield monkeypatch
    root.handlers[:] = handlers
    root.setLevel(levels[0])
    http.setLevel(levels[1])


@pytest.mark.parametrize(("env", "expected"), [
    ({"SHARD_COUNT": "2", "SHARD_IDS": "1"}, "fanbot: SHARD_IDS=1 of SHARD_COUNT=2 means several processes, and "
                                             "SQLite serves one: set DATABASE_URL"),
    ({"PROCESS_ROLES": "feeds"}, "fanbot: PROCESS_ROLES=feeds means several processes"),
])
def test_a_split_on_sqlite_is_refused_at_start_in_one_line(environ, capsys, tmp_path, env, expected):
    for name, value in {"DISCORD_TOKEN": "some-token", **env}.items():
        environ.setenv(name, value)
    assert main(["run"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(expected) and err.count("\n") == 1, err
    assert not (tmp_path / "data").exists()  # refused before the database is created


def test_bad_shard_settings_are_one_line(environ, capsys):
    environ.setenv("SHARD_COUNT", "2")
    environ.setenv("SHARD_IDS", "0-2")
    assert main(["run"]) == 2
    assert capsys.readouterr().err == "fanbot: SHARD_IDS must be shards 0 to 1 (SHARD_COUNT is 2), not '0-2'\n"


def test_a_gateway_or_leader_process_still_needs_the_token(environ, capsys):
    environ.setenv("PROCESS_ROLES", "gateway")
    environ.setenv("FANBOT_TEST_SQLITE_SPLIT", "1")
    assert main(["run"]) == 2
    err = capsys.readouterr().err
    assert "DISCORD_TOKEN is not set" in err and err.count("\n") == 1


async def test_a_leader_only_process_syncs_the_commands_without_connecting(double, tmp_path):
    env = clean_env(PROCESS_ROLES="leader", FANBOT_TEST_SQLITE_SPLIT="yes", DISCORD_TOKEN=double.token,
                    DISCORD_API_BASE=double.api_base, DATABASE_PATH=str(tmp_path / "f.db"), LOG_LEVEL="DEBUG")
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", cwd=tmp_path, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    try:
        await double.wait_for(lambda: double.sync_count == 1, 30, "the leader's command sync")
    finally:
        proc.send_signal(signal.SIGTERM)
        output, _ = await asyncio.wait_for(proc.communicate(), 30)
    log = output.decode(errors="replace")
    assert proc.returncode == 0, log
    assert {"stars", "poll", "feeds"} <= set(double.commands[None])
    assert not double.identifies and not double.gateway.connections  # never on the Gateway
    assert double.token not in log and "Traceback" not in log


async def test_two_gateway_processes_each_serve_the_servers_of_their_shard(double, tmp_path):
    double.shards = 2
    servers = [FanServer(double, f"Fan club {i}", shard=(i % 2, 2)) for i in range(4)]
    procs = []
    try:
        for shard_id in (0, 1):
            roles = "gateway,feeds,leader" if shard_id == 0 else "gateway,feeds"  # one leader syncs
            env = clean_env(DISCORD_TOKEN=double.token, DISCORD_API_BASE=double.api_base, SHARD_COUNT="2",
                            SHARD_IDS=str(shard_id), PROCESS_ROLES=roles, FANBOT_TEST_SQLITE_SPLIT="1",
                            DATABASE_PATH=str(tmp_path / "data" / "fanbot.db"))
            procs.append(await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "run", cwd=tmp_path, env=env,
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT))
            # One at a time: the second starts once the first has migrated the database and identified.
            await double.wait_for_identify(shard_id + 1, timeout=30)
            await double.wait_ready(shard_id + 1, timeout=10)
        for server in servers:
            ix = await server.invoke(server.mod, "stars follow", name="Han So-hee")
            assert "한소희" in ix.content, ix.all_text
    finally:
        outputs = []
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
            output, _ = await asyncio.wait_for(proc.communicate(), 30)
            outputs.append((proc.returncode, output.decode(errors="replace")))
    assert [code for code, _ in outputs] == [0, 0], outputs
    assert [i["shard"] for i in double.identifies] == [[0, 2], [1, 2]]
    for session in double.gateway.sessions:
        got = {f["d"]["guild_id"] for f in session.replay if f["t"] == "INTERACTION_CREATE"}
        assert got == {s.guild.id for s in servers if session.owns(s.guild.id)} and len(got) == 2
    assert double.sync_count == 1
    with sqlite3.connect(tmp_path / "data" / "fanbot.db") as conn:
        assert conn.execute("SELECT COUNT(*) FROM stars WHERE name = 'Han So-hee'").fetchone() == (4,)
