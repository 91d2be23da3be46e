"""A throwaway PostgreSQL cluster for the tests: initdb into a temp dir, a clean database per test.

The binaries come from PATH or /usr/lib/postgresql/*/bin. As root, the server runs as `nobody`
(PostgreSQL refuses to run as root). Durability is off: the cluster dies with the test session.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import fcntl
import glob
import itertools
import os
import random
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


# One lock file per port, shared by every fanbot suite on the machine (several may run at once, and
# each xdist worker starts its own cluster).
PORT_LOCKS = Path(tempfile.gettempdir()) / "fanbot-pg-ports"


def _ephemeral_range() -> tuple[int, int]:
    try:
        low, high = map(int, Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split())
        return low, high
    except (OSError, ValueError):
        return 32768, 60999  # Linux's default


def _candidate_ports() -> list[int]:
    """Ports the kernel never hands out by itself (for `bind(0)` or as the local end of a connection):
    a port from that range could be given to another program in the second a restart test keeps the
    server down, and the server would then not come back on its own address."""
    low, high = _ephemeral_range()
    outside = [*range(max(1025, low - 10000), low), *range(high + 1, min(65536, high + 10001))]
    ports = outside if len(outside) >= 100 else list(range(1025, 65536))
    random.shuffle(ports)
    return ports


def _bindable(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _reserve_port() -> tuple[int, int]:
    """A free port and the open lock file that keeps other fanbot suites off it until it is closed."""
    PORT_LOCKS.mkdir(exist_ok=True)
    with contextlib.suppress(OSError):
        PORT_LOCKS.chmod(0o1777)  # a suite run by another user locks here too
    for port in _candidate_ports():
        try:
            fd = os.open(PORT_LOCKS / f"{port}.lock", os.O_CREAT | os.O_RDWR, 0o666)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            continue
        if _bindable(port):
            return port, fd
        os.close(fd)
    raise RuntimeError("no free port for the test PostgreSQL")


def _run_blocking(coro) -> object:
    # The session fixture may be first asked for from inside a running test loop.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


class PgCluster:
    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.root = Path(tempfile.mkdtemp(prefix="fanbot-pg-"))
        self.data = self.root / "data"
        self.port, self._port_lock = _reserve_port()
        self._as: list[str] = []
        self._numbers = itertools.count(1)

    def url(self, database: str = "postgres", password: str = PASSWORD) -> str:
        # The throwaway cluster has no TLS. Without sslmode asyncpg "prefers" TLS: every connection
        # would build an SSL context (loading the system's CA certificates) only to be told no.
        return f"postgresql://{USER}:{password}@127.0.0.1:{self.port}/{database}?sslmode=disable"

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
        for attempt in range(3):
            try:
                self.boot()
                break
            except subprocess.CalledProcessError:
                # A program outside fanbot's locks took the port between the check and the start.
                if attempt == 2 or _bindable(self.port):
                    raise
                os.close(self._port_lock)
                self.port, self._port_lock = _reserve_port()
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
        if self._port_lock >= 0:  # after the server is gone: the port is free for another suite now
            os.close(self._port_lock)
            self._port_lock = -1

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
