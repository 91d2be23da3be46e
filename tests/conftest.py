"""Shared fixtures: the local Discord double, a fan server inside it, and a real FanBot run against it."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import os
import shutil
import sys
import tempfile
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from bot.client import FanBot, create_bot
from bot.clock import ManualClock
from bot.domain.catalogue import Catalogue
from bot.i18n import Catalogues
from bot.settings import Settings
from bot.sharding import LocalIdentifyCoordinator
from bot.storage.database import Database
from tests.discord_double import Channel, DiscordDouble, InteractionHandle, Member, Perm, run_bot
from tests.pgcluster import PgCluster, find_bindir


def _shared_corpus() -> Path:
    """`../shared/corpus` beside the project root; mutmut runs the tests from its copy in `mutants/`."""
    root = Path(__file__).resolve().parents[1]
    beside = root.parent.parent if root.name == "mutants" else root.parent
    return beside / "shared" / "corpus"


CORPUS = _shared_corpus()
CHANNEL_KINDS = ("news", "polls", "media", "birthdays", "modlog")


def _cache_bytecode_outside_the_tree() -> None:
    """With PYTHONDONTWRITEBYTECODE set, every bot a test starts compiled the cogs from source again
    (discord.py executes an extension's module afresh on each load), and every subprocess all of bot/:
    a tenth of those tests' CPU. Bytecode goes to a cache outside the tree instead, so the tree stays
    as clean as the setting wants it."""
    if not sys.dont_write_bytecode:
        return
    prefix = str(Path(tempfile.gettempdir()) / f"fanbot-pycache-{os.getuid()}")
    sys.dont_write_bytecode, sys.pycache_prefix = False, prefix
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)  # the xdist workers and the tests' subprocesses
    os.environ["PYTHONPYCACHEPREFIX"] = prefix


_cache_bytecode_outside_the_tree()


def _no_system_certificates() -> None:
    """Every process that imports aiohttp builds two TLS contexts at import, each loading the system's
    CA bundle: 70 ms of CPU in each xdist worker and each `python -m bot` a test starts. Nothing in
    the suite speaks TLS (the double, the feed servers and PostgreSQL are plain local sockets), so the
    tests' processes are pointed at no certificates, also where the machine's environment names a
    bundle (OpenSSL reads SSL_CERT_FILE and SSL_CERT_DIR); a test that did use TLS would fail to
    verify, not pass unchecked."""
    nowhere = os.path.join(tempfile.gettempdir(), "fanbot-tests-no-certificates")
    os.environ["SSL_CERT_FILE"] = os.environ["SSL_CERT_DIR"] = nowhere


_no_system_certificates()


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int | None:
    """`-n auto`: one worker more than the cores this process may use. A worker waiting on PostgreSQL,
    a `python -m bot` subprocess or a lease running out leaves its core idle, and the extra worker
    fills it (measured in benchmarks/README.md, bench_suite.py)."""
    if os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS"):
        return None  # xdist's own hook reads it
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return cores + 1


@pytest.fixture
def corpus() -> Path:
    if not CORPUS.is_dir():
        pytest.skip(f"the shared corpus is not at {CORPUS} (a clone outside the workplace)")
    return CORPUS


@pytest.fixture(scope="session")
def pg_cluster():
    """A real PostgreSQL for the session. Missing binaries skip the test, except under CI=true,
    where they are a failure (CI installs them: .ci/run)."""
    bindir = find_bindir()
    if bindir is None:
        message = "PostgreSQL binaries (initdb, pg_ctl) are neither on PATH nor in /usr/lib/postgresql/*/bin"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    cluster = PgCluster(bindir).start()
    yield cluster
    cluster.stop()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    """A SQLite file with every migration applied, made once a session: a copy of it is a migrated
    database in a few milliseconds instead of the tens that running the migrations takes."""
    path = tmp_path_factory.mktemp("sqlite-template") / "migrated.db"

    async def make() -> None:
        await (await Database.open(path)).close()  # the last close checkpoints the WAL into the file

    with concurrent.futures.ThreadPoolExecutor(1) as pool:  # may be first asked for inside a test's loop
        pool.submit(asyncio.run, make()).result()
    assert not Path(f"{path}-wal").exists()
    return path


def copy_migrated(template: Path, target: Path) -> None:
    """Puts a migrated database at `target` unless a file is already there (a test's own, or an earlier
    bot's on the same path): opening it then finds every migration applied."""
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(template, target)


@pytest.fixture(params=["sqlite", "postgres"])
def db_kind(request) -> str:
    return request.param


@pytest.fixture
async def open_db(request, db_kind, tmp_path):
    """Opens migrated databases of this test's kind (a SQLite file, or a fresh PostgreSQL database);
    closed at the end of the test."""
    opened: list[Database] = []

    async def open_(name: str = "fanbot.db") -> Database:
        if db_kind == "sqlite":
            copy_migrated(request.getfixturevalue("sqlite_template"), tmp_path / name)
            db: Database = await Database.open(tmp_path / name)
        else:
            from bot.storage.postgres import PostgresDatabase

            cluster = request.getfixturevalue("pg_cluster")
            db = await PostgresDatabase.open_url(await cluster.clean_database())
        opened.append(db)
        return db

    yield open_
    for db in opened:
        await db.close()


@pytest.fixture
async def any_db(open_db) -> Database:
    """One migrated database, on SQLite and again on PostgreSQL."""
    return await open_db()


@pytest.fixture
async def double():
    async with DiscordDouble() as running:
        yield running


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime(2026, 11, 29, 3, 0, tzinfo=timezone.utc))


class FanServer:
    """A guild in the double with the channels and people a fan community has."""

    def __init__(self, double: DiscordDouble, name: str = "Hye-kyo & So-hee Fans", *,
                 shard: tuple[int, int] | None = None) -> None:
        self.double = double
        self.guild = double.add_guild(name, shard=shard)
        self.general = self.guild.add_text_channel("general")
        self.channels: dict[str, Channel] = {
            kind: self.guild.add_text_channel(kind, announcement=(kind == "news")) for kind in CHANNEL_KINDS
        }
        self.mod = self.guild.add_member("mod", permissions=Perm.MANAGE_GUILD)
        self.fan = self.guild.add_member("fan")
        self._fans = 0

    def new_fan(self, name: str | None = None) -> Member:
        self._fans += 1
        return self.guild.add_member(name or f"fan{self._fans}")

    async def invoke(self, member: Member, path: str, *, in_channel: Channel | None = None, **options: Any) -> InteractionHandle:
        """Run a slash command (typed in #general unless `in_channel`) and wait for its answer."""
        handle = await self.double.invoke(self.guild, member, in_channel or self.general, path, **options)
        await handle.wait_done()
        return handle

    async def autocomplete(self, member: Member, path: str, focused: str, value: str = "", **options: Any) -> list[dict]:
        return await self.double.autocomplete(self.guild, member, self.general, path, focused=focused, value=value, **options)

    async def click(self, member: Member, message: dict[str, Any] | str, custom_id: str) -> InteractionHandle:
        handle = await self.double.click(message, custom_id, member)
        await handle.wait_response()
        return handle

    async def select(self, member: Member, message: dict[str, Any] | str, custom_id: str, values: list[str]) -> InteractionHandle:
        handle = await self.double.select(message, custom_id, values, member)
        await handle.wait_response()
        return handle

    def messages(self, kind: str) -> list[dict[str, Any]]:
        return self.double.channel_messages(self.channels[kind].id)

    async def configure(self, bot: FanBot) -> None:
        """Point every kind of automatic post at its channel, as a moderator would."""
        for kind, channel in self.channels.items():
            await bot.services.guilds.set_channel(int(self.guild.id), kind, int(channel.id))


@pytest.fixture
def server(double: DiscordDouble) -> FanServer:
    return FanServer(double)


class BotRunner:
    """Starts real FanBots against the double; each one is stopped at the end of the test."""

    def __init__(self, double: DiscordDouble, clock: ManualClock, tmp_path: Path, sqlite_template: Path,
                 i18n: Catalogues, catalogue: Catalogue) -> None:
        self.double = double
        self.clock = clock
        self.sqlite_template = sqlite_template
        self.i18n = i18n
        self.catalogue = catalogue
        self.settings = Settings(
            database_path=tmp_path / "fanbot.db",
            discord_api_base=double.api_base,
            feed_poll_interval=600,
            feed_allow_private_networks=True,
            star_search_feeds=(),
            media_path=tmp_path / "media",
        )
        self._running: dict[int, tuple[FanBot, contextlib.AbstractAsyncContextManager, Database]] = {}

    async def __call__(self, *, bot_options: dict[str, Any] | None = None, **overrides: Any) -> FanBot:
        """A bot on these settings plus `overrides`; sharded when shard_count is set (as `fanbot run`)."""
        settings = replace(self.settings, **overrides)
        url = settings.database_url.get() if settings.database_url else None
        if url is None:
            copy_migrated(self.sqlite_template, settings.database_path)
        db = await Database.connect(url, settings.database_path)
        # The double does not space IDENTIFYs unless a test asks it to, so neither does the bot.
        options = {"identify": LocalIdentifyCoordinator(0.0, margin=0.0), "i18n": self.i18n,
                   "catalogue": self.catalogue, **(bot_options or {})}
        bot = create_bot(settings, db, clock=self.clock, scheduler_tick=None, **options)
        runner = run_bot(bot, self.double, self.double.token)
        await runner.__aenter__()
        self._running[id(bot)] = (bot, runner, db)
        return bot

    async def stop(self, bot: FanBot) -> None:
        _, runner, db = self._running.pop(id(bot))
        await runner.__aexit__(None, None, None)
        await db.close()

    async def restart(self, bot: FanBot, **overrides: Any) -> FanBot:
        """Stop the bot and start a new one on the same database, as after a crash or a deploy."""
        settings = bot.settings
        await self.stop(bot)
        fresh = await self(**{**_settings_overrides(settings, self.settings), **overrides})
        return fresh

    async def stop_all(self) -> None:
        for key in list(self._running):
            bot = self._running[key][0]
            with contextlib.suppress(Exception):
                await self.stop(bot)


def _settings_overrides(current: Settings, base: Settings) -> dict[str, Any]:
    return {f: getattr(current, f) for f in current.__dataclass_fields__ if getattr(current, f) != getattr(base, f)}


@pytest.fixture(scope="session")
def bot_i18n() -> Catalogues:
    """The .po files compiled once for every bot of the session: a quarter of a bot's start-up otherwise."""
    return Catalogues.load()


@pytest.fixture(scope="session")
def bot_catalogue() -> Catalogue:
    """The star catalogue read once for every bot of the session (it is immutable, and the same file
    for every bot): its parsing was the largest part of building a bot's services."""
    return Catalogue.load()


@pytest.fixture
async def start_bot(request, double: DiscordDouble, clock: ManualClock, tmp_path: Path, sqlite_template: Path,
                    bot_i18n: Catalogues, bot_catalogue: Catalogue):
    runner = BotRunner(double, clock, tmp_path, sqlite_template, bot_i18n, bot_catalogue)
    if os.environ.get("FANBOT_TEST_DATABASE") == "postgres":
        # The end-to-end tests again, with every bot on PostgreSQL (one clean database per test).
        from bot.settings import Secret

        url = await request.getfixturevalue("pg_cluster").clean_database()
        runner.settings = replace(runner.settings, database_url=Secret(url))
    yield runner
    await runner.stop_all()
    assert not double.errors, f"the double hit its own errors: {double.errors}"


@pytest.fixture(autouse=True)
def _quiet_discord_logs(caplog):
    caplog.set_level(logging.WARNING, logger="discord")
    yield


MESSAGE_ROUTES = (
    r"/channels/\d+/messages", r"/interactions/\d+/[^/]+/callback", r"/webhooks/\d+/[^/]+",
    r"/webhooks/\d+/[^/]+/messages/[^/]+", r"/channels/\d+/messages/\d+",
)


def sent_messages(double: DiscordDouble) -> list[dict[str, Any]]:
    """The message bodies the bot sent or edited (channel posts, interaction answers, follow-ups)."""
    bodies = []
    for req in double.requests:
        if req.method not in ("POST", "PATCH") or not isinstance(req.json, dict):
            continue
        if not any(req.matches(path=p) for p in MESSAGE_ROUTES):
            continue
        body = req.json.get("data") if "/callback" in req.path else req.json
        if isinstance(body, dict) and ("content" in body or "embeds" in body):
            bodies.append(body)
    return bodies


def assert_no_pings(double: DiscordDouble, allowed_roles: set[str] = frozenset()) -> None:
    """Every message the bot sent allowed no @everyone/@here, no users, and at most `allowed_roles`."""
    bodies = sent_messages(double)
    assert bodies, "the bot sent no messages, so there is nothing to check"
    for body in bodies:
        mentions = body.get("allowed_mentions")
        assert mentions is not None, f"a message without allowed_mentions: {body}"
        assert not mentions.get("parse"), f"parse must be empty: {mentions}"
        assert not mentions.get("users") and not mentions.get("replied_user")
        assert set(map(str, mentions.get("roles") or [])) <= set(allowed_roles), mentions
