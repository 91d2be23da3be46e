"""What the benchmarks that compare this tree with a base commit share: the base exported as files, a
child process importing `bot` from the tree it measures, a database of its own per tree, and where
the CPU went. Nothing here imports `bot`: a child must choose its tree before the first import."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TICK = os.sysconf("SC_CLK_TCK")


def export(rev: str, into: Path) -> Path:
    """The tree of `rev` as files (git archive: no worktree is registered)."""
    into.mkdir()
    archive = subprocess.run(["git", "archive", rev], cwd=ROOT, capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def use_tree(tree: str) -> None:
    """Import `bot` from this tree (the project's, or an exported base) in a child process."""
    sys.path.insert(0, tree)
    import bot

    assert Path(bot.__file__).resolve().is_relative_to(Path(tree).resolve()), bot.__file__


async def tree_database(server_url: str, name: str) -> str:
    """A new database `name` on this PostgreSQL server (dropped first if a run left it), for one tree
    to migrate to its own schema; its URL."""
    import asyncpg

    conn = await asyncpg.connect(server_url)
    try:
        await conn.execute(f"DROP DATABASE IF EXISTS {name}")
        await conn.execute(f"CREATE DATABASE {name}")
    finally:
        await conn.close()
    scheme, _, rest = server_url.partition("://")
    return f"{scheme}://{rest.rsplit('/', 1)[0]}/{name}"


def proc_cpu(pid: int, children: bool = False) -> float:
    """CPU seconds of a process (utime + stime; with children, also those of its reaped children)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    used = int(fields[11]) + int(fields[12]) + (int(fields[13]) + int(fields[14]) if children else 0)
    return used / TICK


class CpuMeter:
    """CPU seconds, cumulative, of a server process, a PostgreSQL cluster (the postmaster with its live
    and reaped children) and the whole machine, so a run shows who had the cores."""

    def __init__(self, server_pid: int, pg_pid: int | None) -> None:
        self.server_pid, self.pg_pid = server_pid, pg_pid

    def read(self) -> dict[str, float]:
        out = {"server": proc_cpu(self.server_pid), "pg": 0.0}
        if self.pg_pid is not None:
            out["pg"] = proc_cpu(self.pg_pid, children=True)
            for stat in Path("/proc").glob("[0-9]*/stat"):
                try:
                    rest = stat.read_text().rsplit(")", 1)[1].split()
                except (OSError, IndexError):
                    continue
                if int(rest[1]) == self.pg_pid:
                    out["pg"] += (int(rest[11]) + int(rest[12])) / TICK
        cpu = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        out["busy"] = (sum(cpu[:8]) - cpu[3] - cpu[4]) / TICK  # all but idle and iowait, over every core
        out["all"] = sum(cpu[:8]) / TICK
        return out
