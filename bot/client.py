"""FanBot: the discord.py client, with its dependencies passed in and cogs loaded from cogs/."""

from __future__ import annotations

import gc
import hashlib
import importlib
import json
import logging
import pkgutil
from typing import Any

import aiohttp
import discord
import yarl
from discord import app_commands
from discord.ext import commands

from . import __version__
from .checks import GuildOnly
from .clock import Clock, SystemClock
from .domain.catalogue import Catalogue
from .i18n import Catalogues
from .i18n.translator import FanbotTranslator
from .leader import Leadership, leader_lock_for
from .net.addresses import AddressPolicy
from .net.fetcher import create_session
from .posting import Poster
from .replies import report_error
from .scheduler import Scheduler
from .services import Services, build_services
from .settings import Settings
from .sharding import IdentifyCoordinator, ProcessRoles, identify_coordinator_for
from .storage.database import Database
from .wakeups import Wakeups

log = logging.getLogger(__name__)

DISCORD_API_DEFAULT = discord.http.Route.BASE
COMMAND_HASH_KEY = "command_tree_hash"
GC_YOUNG_THRESHOLD = 3000


def tune_gc() -> None:
    """Collect the youngest generation every 3,000 net allocations instead of CPython's 700.

    Profiled under a 10,000-click burst, the cyclic collector took about half of the bot's CPU: a
    click lives a while (parsed interaction, message, view, request), so at 700 its objects were
    promoted and the older generations walked again and again. At 3,000 most die young, and memory
    after the burst stayed the same (at 10,000 it grew by ~30%). Process-wide and idempotent; never
    lowers a threshold someone raised."""
    young, middle, old = gc.get_threshold()
    gc.set_threshold(max(young, GC_YOUNG_THRESHOLD), middle, old)


def intents() -> discord.Intents:
    """Guilds only: channels, roles and the bot's own member. No privileged intents."""
    wanted = discord.Intents.none()
    wanted.guilds = True
    return wanted


class FanbotTree(app_commands.CommandTree["FanBot"]):
    """The command tree: refuses DMs before any command runs and answers every error in the reader's language."""

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        # Every fanbot command is about one server's data; refuse DMs even if Discord shows them.
        if interaction.guild_id is None:
            raise GuildOnly()
        return True

    async def on_error(self, interaction: discord.Interaction, error: app_commands.AppCommandError) -> None:
        await report_error(interaction, error)

    async def payload(self, guild: discord.abc.Snowflake | None) -> list[dict[str, Any]]:
        """What a sync sends: every command's JSON, with the localisations the translator gives (so the
        sync hash taken over it changes with a translation too)."""
        commands_ = self._get_all_commands(guild=guild)
        if self.translator is None:
            return [c.to_dict(self) for c in commands_]
        return [await c.get_translated_payload(self, self.translator) for c in commands_]

    async def sync(self, *, guild: discord.abc.Snowflake | None = None,
                   payload: list[dict[str, Any]] | None = None) -> list[app_commands.AppCommand]:
        """discord.py 2.7's CommandTree.sync, able to send a payload already built for the sync hash.

        Translating the tree asks the translator once per string and Discord locale (about 30), the
        largest cost of a start; building it once for the hash and again for the sync doubled that.
        """
        if self.client.application_id is None:
            raise app_commands.MissingApplicationID
        if payload is None:
            payload = await self.payload(guild)
        http = self.client.http
        try:
            if guild is None:
                data = await http.bulk_upsert_global_commands(self.client.application_id, payload=payload)
            else:
                data = await http.bulk_upsert_guild_commands(self.client.application_id, guild.id, payload=payload)
        except discord.HTTPException as error:
            if error.status == 400 and error.code == 50035:  # Invalid Form Body: name the command at fault
                raise app_commands.CommandSyncFailure(error, self._get_all_commands(guild=guild)) from None
            raise
        return [app_commands.AppCommand(data=d, state=self._state) for d in data]


class FanBot(commands.Bot):
    """The discord.py bot with its dependencies passed in: settings, database, clock, catalogues, services."""

    def __init__(
        self,
        settings: Settings,
        db: Database,
        *,
        clock: Clock | None = None,
        catalogue: Catalogue | None = None,
        i18n: Catalogues | None = None,
        http_session: aiohttp.ClientSession | None = None,
        auto_sync: bool = True,
        scheduler_tick: float | None = 5.0,
        identify: IdentifyCoordinator | None = None,
        **discord_options: Any,
    ) -> None:
        super().__init__(
            command_prefix=commands.when_mentioned,
            help_command=None,
            intents=intents(),
            allowed_mentions=discord.AllowedMentions.none(),
            tree_cls=FanbotTree,
            # fanbot reads no messages (no message intents): a cache of them would only hold memory.
            max_messages=None,
            **discord_options,
        )
        self.settings = settings
        self.roles = ProcessRoles(settings.process_roles)
        self.identify_gate: IdentifyCoordinator = identify or identify_coordinator_for(settings, db)
        self.max_concurrency = 1  # from GET /gateway/bot once logged in
        self.db = db
        self.clock = clock or SystemClock()
        self._catalogue = catalogue
        self._given_http = http_session
        self.http_session: aiohttp.ClientSession | None = http_session
        self.auto_sync = auto_sync and self.roles.leader  # command sync is the leader's job
        # Only one process leads at a time (a PostgreSQL lock; on SQLite this one process always does).
        self.leadership: Leadership | None = (
            Leadership(leader_lock_for(db, settings.leader_lease), lease=settings.leader_lease)
            if self.roles.leader else None)
        self.wakeups: Wakeups | None = None
        self.version = __version__
        self.services: Services = None  # type: ignore[assignment]  # built in setup_hook, once HTTP exists
        self.scheduler = Scheduler(self.clock, tick_seconds=scheduler_tick)
        self.poster = Poster(self)
        # Compiled once from the .po files; a missing or broken one leaves that language in English.
        # Passed in where many bots share one process (the tests), since compiling takes a while.
        self.i18n = i18n or Catalogues.load()
        self.last_synced: bool | None = None

    # -- start-up ---------------------------------------------------------------------------
    async def login(self, token: str) -> None:
        if self.settings.discord_api_base:
            # Route.BASE is read whenever a route is built, so this also covers interaction callbacks.
            discord.http.Route.BASE = self.settings.discord_api_base
        await super().login(token)

    async def setup_hook(self) -> None:
        tune_gc()
        if self.settings.discord_api_base or self.settings.shard_count:
            await self._use_gateway_from_api()
        if self.http_session is None:
            # One session for every URL fanbot fetches (feeds, media files), guarded against private
            # addresses unless FEED_ALLOW_PRIVATE_NETWORKS is set. discord.py keeps its own.
            self.http_session = create_session(AddressPolicy(allow_private=self.settings.feed_allow_private_networks))
        self.services = build_services(
            self.settings, self.db, self.clock, catalogue=self._catalogue, http=self.http_session,
            mod_log=self.poster.notify_mods,
        )
        await self.tree.set_translator(FanbotTranslator(self.i18n))
        # discord.py's load_extension executes a module afresh at every load, so that it can be reloaded
        # while running; fanbot never reloads. Each cog module is imported once per process and its
        # setup() adds the cogs (each Cog instance copies its commands), the same cogs at a fraction of
        # the cost where many bots start in one process, as in the tests.
        for name in extension_names():
            await importlib.import_module(name).setup(self)
        if self.leadership is not None:
            if self.auto_sync:
                self.leadership.on_elected(lambda: self.sync_commands(force=False))
            await self.leadership.check()  # leads at once if it can; else a standby until the holder goes
            self.leadership.start()
        if self.roles.gateway:
            self.wakeups = Wakeups(self.db, lambda: self.services.announcer.deliver_pending())
            self.wakeups.start()
        self.scheduler.start()

    async def _use_gateway_from_api(self) -> None:
        data = await self.http.request(discord.http.Route("GET", "/gateway/bot"))
        self.max_concurrency = int(data.get("session_start_limit", {}).get("max_concurrency") or 1)
        if self.settings.discord_api_base:
            url = yarl.URL(data["url"])
            discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = url
            log.info("using gateway %s from %s", url, self.settings.discord_api_base)

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        # discord.py sleeps 5 s before every IDENTIFY but a process's first, and knows nothing of other
        # processes; the coordinator waits only as long as the shard's max_concurrency bucket requires.
        await self.identify_gate.wait_turn(shard_id or 0, self.max_concurrency)

    async def sync_commands(self, *, force: bool) -> bool:
        """Register commands with Discord if the tree changed since the last sync (or if forced)."""
        guild = discord.Object(self.settings.dev_guild_id) if self.settings.dev_guild_id else None
        if guild is not None:
            self.tree.copy_global_to(guild=guild)
        payload = await self.tree.payload(guild)
        scope = f"guild:{guild.id}" if guild else "global"
        digest = hashlib.sha256(json.dumps([scope, payload], sort_keys=True, default=str).encode()).hexdigest()
        stored = await self.services.state.get(COMMAND_HASH_KEY)
        if not force and stored == digest:
            log.info("command tree unchanged since last sync; not registering again")
            self.last_synced = False
            return False
        synced = await self.tree.sync(guild=guild, payload=payload)
        await self.services.state.set(COMMAND_HASH_KEY, digest)
        log.info("registered %d commands (%s)", len(synced), scope)
        self.last_synced = True
        return True

    # -- shutdown ---------------------------------------------------------------------------
    async def close(self) -> None:
        if self.wakeups is not None:
            await self.wakeups.stop()
        if self.leadership is not None:
            await self.leadership.stop()
        await self.scheduler.stop()
        await super().close()  # unloads cogs, which cancel their loops
        if self.http_session is not None and self._given_http is None:
            await self.http_session.close()

    async def on_ready(self) -> None:
        log.info("ready as %s in %d servers", self.user, len(self.guilds))


class ShardedFanBot(FanBot, commands.AutoShardedBot):
    """FanBot on discord.py's AutoShardedBot: one process, the shards SHARD_IDS of SHARD_COUNT."""


def create_bot(settings: Settings, db: Database, **options: Any) -> FanBot:
    """The sharded client when SHARD_COUNT is set, else the single-shard one (as before sharding)."""
    if settings.shard_count is None:
        return FanBot(settings, db, **options)
    shard_ids = list(settings.shard_ids) if settings.shard_ids is not None else None
    return ShardedFanBot(settings, db, shard_count=settings.shard_count, shard_ids=shard_ids, **options)


def extension_names() -> list[str]:
    """Every module in cogs/ that defines setup(); private modules (leading _) are helpers."""
    import cogs

    return sorted(
        f"cogs.{m.name}" for m in pkgutil.iter_modules(cogs.__path__) if not m.name.startswith("_")
    )
