"""The fanbot command line: run, sync, migrate, backup, copy-db, check-feed."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from . import __version__, logs
from .errors import StorageError
from .settings import Settings, SettingsError, database_password
from .sharding import ProcessRoles, single_process_problem
from .storage.database import Database, backup_file

log = logging.getLogger("fanbot")

NO_TOKEN = "fanbot: DISCORD_TOKEN is not set. Put it in .env (copy .env.example) or export it, then run again."


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="fanbot", description="A Discord bot for fan communities of actresses.")
    parser.add_argument("--version", action="version", version=f"fanbot {__version__}")
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("run", help="start the bot (the default)")
    sync = sub.add_parser("sync", help="register the slash commands with Discord")
    sync.add_argument("--guild", type=int, help="register to this server only (instant) instead of globally")
    sub.add_parser("migrate", help="apply database migrations and print the schema version")
    backup = sub.add_parser("backup", help="an online, consistent copy of the SQLite database (PostgreSQL: pg_dump)")
    backup.add_argument("path", help="where to write the copy")
    copy = sub.add_parser("copy-db", help="copy every row into an empty database (SQLite to PostgreSQL or back)")
    copy.add_argument("target", metavar="TARGET_URL",
                      help="postgresql://user:password@host:5432/db, or sqlite:///path/to/fanbot.db (or a plain path)")
    check = sub.add_parser("check-feed", help="fetch one feed and show which stars each item matches (no token)")
    check.add_argument("url")
    check.add_argument("--star", action="append", default=[], metavar="NAME", help="match only these stars")
    check.add_argument("--json", action="store_true", help="one JSON object per item and line")
    check.add_argument("--explain", action="store_true", help="per item and star: the name found and what decided")
    check.add_argument("--include", metavar="WORDS", help="a /feeds filter to try: comma-separated words an item must have")
    check.add_argument("--exclude", metavar="WORDS", help="a /feeds filter to try: comma-separated words that keep it out")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    command = args.command or "run"
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        print(f"fanbot: {exc}", file=sys.stderr)
        return 2
    token = settings.discord_token.get() if settings.discord_token else ""
    db_url = settings.database_url.get() if settings.database_url else ""
    logs.configure(settings.log_level, token, database_password(db_url) or "")
    roles = ProcessRoles(settings.process_roles)
    if command == "run":
        problem = single_process_problem(settings)
        if problem is not None:
            print(f"fanbot: {problem}", file=sys.stderr)
            return 2
    if not token and (command == "sync" or command == "run" and roles.needs_token):
        print(NO_TOKEN, file=sys.stderr)
        return 2
    handlers = {
        "run": lambda: run(settings),
        "sync": lambda: sync(settings, args.guild),
        "migrate": lambda: migrate(settings),
        "backup": lambda: backup(settings, args.path),
        "copy-db": lambda: copy_db(settings, args.target),
        "check-feed": lambda: check_feed(settings, args),
    }
    try:
        return asyncio.run(handlers[command]())
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`fanbot check-feed URL | head`): not our failure. Point stdout at
        # /dev/null so the interpreter's final flush does not raise again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


async def open_database(settings: Settings, *, migrate: bool = True) -> Database | None:
    """The database the settings name, or None after printing one line saying why it cannot be opened."""
    url = settings.database_url.get() if settings.database_url else None
    return await _open(url, settings.database_path, migrate=migrate)


async def _open(url: str | None, path: str | Path, *, migrate: bool = True) -> Database | None:
    try:
        return await Database.connect(url, path, migrate=migrate)
    except StorageError as exc:
        print(f"fanbot: {_without_password(str(exc), url)}", file=sys.stderr)
    except Exception as exc:  # a driver error we did not foresee: still one line, never a traceback
        where = "PostgreSQL" if url else str(path)
        detail = _without_password(str(exc), url)
        print(f"fanbot: cannot open the database ({where}): {type(exc).__name__}: {detail}", file=sys.stderr)
    return None


def _without_password(text: str, url: str | None) -> str:
    password = database_password(url) if url else None
    return text.replace(password, "***") if password else text


async def run(settings: Settings) -> int:
    # discord.py (and the client) only where Discord is spoken: migrate, backup, copy-db and check-feed
    # start in a third of the time without them.
    import discord

    from .client import create_bot

    db = await open_database(settings)
    if db is None:
        return 1
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    if not ProcessRoles(settings.process_roles).gateway:
        from .worker import run_worker

        try:
            return await run_worker(settings, db, stop, scheduler_tick=settings.test_tick_seconds or 5.0)
        except discord.LoginFailure:
            print("fanbot: Discord refused the token; check DISCORD_TOKEN.", file=sys.stderr)
            return 1
        finally:
            await db.close()
    bot = create_bot(settings, db, scheduler_tick=settings.test_tick_seconds or 5.0)
    assert settings.discord_token is not None
    runner = asyncio.create_task(bot.start(settings.discord_token.get()), name="fanbot")
    stopper = asyncio.create_task(stop.wait())
    done, _ = await asyncio.wait({runner, stopper}, return_when=asyncio.FIRST_COMPLETED)
    code = 0
    if stopper in done:
        log.info("shutting down")
    else:
        stopper.cancel()
        exc = runner.exception()
        if isinstance(exc, discord.LoginFailure):
            print("fanbot: Discord refused the token; check DISCORD_TOKEN.", file=sys.stderr)
            code = 1
        elif exc is not None:
            log.error("the bot stopped", exc_info=exc)
            code = 1
    await bot.close()
    if not runner.done():
        runner.cancel()
    await asyncio.gather(runner, return_exceptions=True)
    await db.close()
    return code


async def sync(settings: Settings, guild_id: int | None) -> int:
    from dataclasses import replace

    import discord

    from .client import FanBot

    if guild_id is not None:
        settings = replace(settings, dev_guild_id=guild_id)
    db = await open_database(settings)
    if db is None:
        return 1
    bot = FanBot(settings, db, auto_sync=False, scheduler_tick=None)
    try:
        assert settings.discord_token is not None
        await bot.login(settings.discord_token.get())
        await bot.sync_commands(force=True)
        count = len(await bot.tree.payload(None if guild_id is None else discord.Object(guild_id)))
        where = f"server {guild_id}" if guild_id else ("server " + str(settings.dev_guild_id) if settings.dev_guild_id else "all servers")
        print(f"registered {count} top-level commands for {where}")
    except discord.LoginFailure:
        print("fanbot: Discord refused the token; check DISCORD_TOKEN.", file=sys.stderr)
        return 1
    finally:
        await bot.close()
        await db.close()
    return 0


async def migrate(settings: Settings) -> int:
    db = await open_database(settings)
    if db is None:
        return 1
    try:
        print(f"schema version {await db.schema_version()} ({db.location})")
    finally:
        await db.close()
    return 0


async def backup(settings: Settings, path: str) -> int:
    if settings.database_url:
        print("fanbot: backup copies the SQLite file; on PostgreSQL use pg_dump "
              "(e.g. pg_dump --format=custom --file=fanbot.dump \"$DATABASE_URL\").", file=sys.stderr)
        return 2
    try:
        await backup_file(settings.database_path, path)
    except FileNotFoundError as exc:
        print(f"fanbot: {exc}", file=sys.stderr)
        return 1
    print(f"backed up {settings.database_path} to {path}")
    return 0


async def copy_db(settings: Settings, target: str) -> int:
    """Every row of the configured database into the empty database at `target`."""
    from .storage.copy import copy_database

    target_url, target_path = _target(target)
    if target_url is None and target_path is None:
        print("fanbot: copy-db needs postgresql://user:password@host/db or sqlite:///path/to/file.db", file=sys.stderr)
        return 2
    source = await open_database(settings, migrate=False)
    if source is None:
        return 1
    try:
        destination = await _open(target_url, target_path or "", migrate=False)
        if destination is None:
            return 1
        try:
            report = await copy_database(source, destination, progress=_say_copying)
        except StorageError as exc:
            print(f"fanbot: {_without_password(str(exc), target_url)}", file=sys.stderr)
            return 1
        finally:
            await destination.close()
        print(f"copied {report.rows} rows of {report.tables} tables from {source.location} to "
              f"{destination.location} (schema version {report.version})")
        return 0
    finally:
        await source.close()


def _say_copying(table: str) -> None:
    # Flushed at once: a long copy shows where it is (and a test can stop it at a known table).
    print(f"copying {table} ...", flush=True)


def _target(text: str) -> tuple[str | None, Path | None]:
    """(PostgreSQL URL, SQLite path) named by copy-db's argument; (None, None) if it names neither."""
    if text.startswith(("postgresql://", "postgres://")):
        return text, None
    if text.startswith("sqlite:///"):  # as SQLAlchemy spells it: sqlite:///relative, sqlite:////absolute
        return None, Path(text[len("sqlite:///"):])
    if "://" in text:
        return None, None
    return None, Path(text)


async def check_feed(settings: Settings, args: argparse.Namespace, **output: Any) -> int:
    """A dry run of one feed: no token, no database; the bot's own fetcher, parser and matcher.
    `output` goes to run_check as it is (other streams, catalogues already loaded)."""
    from .feedcheck import run_check

    return await run_check(settings, args.url, args.star, args.json, explain=args.explain, include=args.include,
                           exclude=args.exclude, **output)
