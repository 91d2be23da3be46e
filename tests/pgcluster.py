"""A throwaway PostgreSQL cluster for the tests: initdb into a temp dir, a clean database per test.

The binaries come from PATH or /usr/lib/postgresql/*/bin. As root, the server runs as `nobody`
(PostgreSQL refuses to run as root). Durability is off: the cluster dies with the test session.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import glob
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import asyncpg

USER = "fanbot"
PASSWORD = "test-only-pw"
SHARED = "fanbot_test"


def find_bindir() -> Path | None:
    candidates = []
    on_path = shutil.which("pg_ctl")
    if on_path:
        candidates.append(Path(on_path).resolve().parent)
    candidates += [Path(p) for p in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)]
    for folder in candidates:
        if all((folder / tool).exists() for tool in ("initdb", "pg_ctl", "postgres")):
            return folder
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run_blocking(coro) -> object:
    # The session fixture may be first asked for from inside a running test loop.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


class PgCluster:
    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.root = Path(tempfile.mkdtemp(prefix="fanbot-pg-"))
        self.data = self.root / "data"
        self.port = _free_port()
        self._as: list[str] = []
        self._numbers = itertools.count(1)

    def url(self, database: str = "postgres", password: str = PASSWORD) -> str:
        return f"postgresql://{USER}:{password}@127.0.0.1:{self.port}/{database}"

    def _tool(self, name: str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run([*self._as, str(self.bindir / name), *args], check=check, capture_output=True,
                              text=True, timeout=120)

    def start(self) -> "PgCluster":
        pwfile = self.root / "pw"
        pwfile.write_text(PASSWORD + "\n")
        if os.geteuid() == 0:
            self._as = ["runuser", "-u", "nobody", "--"]
            os.chmod(self.root, 0o755)
            shutil.chown(self.root, "nobody")
            shutil.chown(pwfile, "nobody")
        self._tool("initdb", "-D", str(self.data), "-U", USER, "--pwfile", str(pwfile), "--auth=scram-sha-256",
                   "-E", "UTF8", "--locale=C.UTF-8", "--no-sync", "--no-instructions")
        self.boot()
        try:
            _run_blocking(self._make_shared())
        except BaseException:
            self.stop()  # a server left running would outlive the test session
            raise
        return self

    def boot(self) -> None:
        options = (f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories='' "
                   "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200")
        self._tool("pg_ctl", "-D", str(self.data), "-l", str(self.root / "log"), "-o", options, "-w", "start")

    def halt(self, mode: str = "fast") -> None:
        """Stop the server under its clients, as a restart does ("fast": sessions are cut off, what was
        committed is kept; "immediate" would also drop the last commits, since synchronous_commit is off)."""
        self._tool("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop", check=False)

    def stop(self) -> None:
        self.halt("immediate")
        shutil.rmtree(self.root, ignore_errors=True)

    async def _make_shared(self) -> None:
        from bot.storage.postgres import PostgresDatabase

        await self.empty_database(SHARED)
        db = await PostgresDatabase.open_url(self.url(SHARED))
        tables = await db.tables()
        sequences = [r[0] for r in await db.fetchall("SELECT sequencename FROM pg_sequences WHERE schemaname = 'public'")]
        await db.close()
        # DELETE, not TRUNCATE: on tables this small it is ten times faster. Replica mode skips the
        # foreign-key triggers, so the order of the tables does not matter.
        self._cleanup = "".join(
            ["SET session_replication_role = replica;"] + [f"DELETE FROM {t};" for t in tables]
            + [f"SELECT setval('{s}', 1, false);" for s in sequences] + ["RESET session_replication_role;"]
        )

    async def clean_database(self) -> str:
        """The shared migrated database with every table emptied and every id sequence restarted:
        as good as a new one for a test, in milliseconds (CREATE DATABASE takes most of a second)."""
        conn = await asyncpg.connect(self.url(SHARED))
        try:
            await conn.execute(self._cleanup)
        finally:
            await conn.close()
        return self.url(SHARED)

    async def empty_database(self, name: str | None = None) -> str:
        """A new database with no tables at all (a copy-db target, a first migration); its URL."""
        name = name or f"e{next(self._numbers)}"
        conn = await asyncpg.connect(self.url())
        try:
            await conn.execute(f"CREATE DATABASE {name}")
        finally:
            await conn.close()
        return self.url(name)
