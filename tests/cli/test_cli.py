"""The command line, run as a real subprocess: no-token refusal, migrate, backup."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_cli(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "DATABASE_", "FEED_", "DEV_"))}
    clean["PYTHONPATH"] = str(ROOT)
    clean.update(env)
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], cwd=cwd, env=clean, capture_output=True, text=True, timeout=60
    )


def test_run_without_token_exits_with_one_clear_line(tmp_path):
    result = run_cli(cwd=tmp_path)
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "DISCORD_TOKEN" in lines[0]
    assert not (tmp_path / "data").exists()  # nothing created before the token check


def test_migrate_creates_the_database_and_prints_the_version(tmp_path):
    result = run_cli("migrate", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "schema version" in result.stdout
    assert (tmp_path / "data" / "fanbot.db").exists()


def test_backup_copies_the_database(tmp_path):
    db = tmp_path / "live.db"
    assert run_cli("migrate", cwd=tmp_path, DATABASE_PATH=str(db)).returncode == 0
    with sqlite3.connect(db) as conn:
        conn.execute("INSERT INTO bot_state (key, value) VALUES ('hello', 'world')")
    result = run_cli("backup", str(tmp_path / "copy.db"), cwd=tmp_path, DATABASE_PATH=str(db))
    assert result.returncode == 0, result.stderr
    with sqlite3.connect(tmp_path / "copy.db") as copy:
        assert copy.execute("SELECT value FROM bot_state WHERE key = 'hello'").fetchone() == ("world",)


def test_bad_setting_is_refused_in_one_line(tmp_path):
    result = run_cli("migrate", cwd=tmp_path, FEED_POLL_INTERVAL="1")
    assert result.returncode == 2
    assert "FEED_POLL_INTERVAL" in result.stderr
