"""FanBot: the discord.py client, with its dependencies passed in and cogs loaded from cogs/."""

from __future__ import annotations

import hashlib
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
from .net.addresses import AddressPolicy
from .net.fetcher import create_session
from .posting import Poster
from .replies import report_error
from .scheduler import Scheduler
from .services import Services, build_services
from .settings import Settings
from .storage.database import Database

log = logging.getLogger(__name__)

DISCORD_API_DEFAULT = discord.http.Route.BASE
COMMAND_HASH_KEY = "command_tree_hash"


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


class FanBot(commands.Bot):
    """The discord.py bot with its dependencies passed in: settings, database, clock, catalogues, services."""

    def __init__(
        self,
        settings: Settings,
        db: Database,
        *,
        clock: Clock | None = None,
        catalogue: Catalogue | None = None,
        http_session: aiohttp.ClientSession | None = None,
        auto_sync: bool = True,
        scheduler_tick: float | None = 5.0,
    ) -> None:
        super().__init__(
            command_prefix=commands.when_mentioned,
            help_command=None,
            intents=intents(),
            allowed_mentions=discord.AllowedMentions.none(),
            tree_cls=FanbotTree,
        )
        self.settings = settings
        self.db = db
        self.clock = clock or SystemClock()
        self._catalogue = catalogue
        self._given_http = http_session
        self.http_session: aiohttp.ClientSession | None = http_session
        self.auto_sync = auto_sync
        self.version = __version__
        self.services: Services = None  # type: ignore[assignment]  # built in setup_hook, once HTTP exists
        self.scheduler = Scheduler(self.clock, tick_seconds=scheduler_tick)
        self.poster = Poster(self)
        # Compiled once from the .po files; a missing or broken one leaves that language in English.
        self.i18n = Catalogues.load()
        self.last_synced: bool | None = None

    # -- start-up ---------------------------------------------------------------------------
    async def login(self, token: str) -> None:
        if self.settings.discord_api_base:
            # Route.BASE is read whenever a route is built, so this also covers interaction callbacks.
            discord.http.Route.BASE = self.settings.discord_api_base
        await super().login(token)

    async def setup_hook(self) -> None:
        if self.settings.discord_api_base:
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
        for name in extension_names():
            await self.load_extension(name)
        if self.auto_sync:
            await self.sync_commands(force=False)
        self.scheduler.start()

    async def _use_gateway_from_api(self) -> None:
        data = await self.http.request(discord.http.Route("GET", "/gateway/bot"))
        url = yarl.URL(data["url"])
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = url
        log.info("using gateway %s from %s", url, self.settings.discord_api_base)

    async def command_payload(self, guild: discord.abc.Snowflake | None) -> list[dict[str, Any]]:
        """What a sync would send, localisations included, so a changed translation is synced too."""
        translator = self.tree.translator
        commands_ = self.tree._get_all_commands(guild=guild)
        if translator is None:
            return [c.to_dict(self.tree) for c in commands_]
        return [await c.get_translated_payload(self.tree, translator) for c in commands_]

    async def sync_commands(self, *, force: bool) -> bool:
        """Register commands with Discord if the tree changed since the last sync (or if forced)."""
        guild = discord.Object(self.settings.dev_guild_id) if self.settings.dev_guild_id else None
        if guild is not None:
            self.tree.copy_global_to(guild=guild)
        payload = await self.command_payload(guild)
        scope = f"guild:{guild.id}" if guild else "global"
        digest = hashlib.sha256(json.dumps([scope, payload], sort_keys=True, default=str).encode()).hexdigest()
        stored = await self.services.state.get(COMMAND_HASH_KEY)
        if not force and stored == digest:
            log.info("command tree unchanged since last sync; not registering again")
            self.last_synced = False
            return False
        synced = await self.tree.sync(guild=guild)
        await self.services.state.set(COMMAND_HASH_KEY, digest)
        log.info("registered %d commands (%s)", len(synced), scope)
        self.last_synced = True
        return True

    # -- shutdown ---------------------------------------------------------------------------
    async def close(self) -> None:
        await self.scheduler.stop()
        await super().close()  # unloads cogs, which cancel their loops
        if self.http_session is not None and self._given_http is None:
            await self.http_session.close()

    async def on_ready(self) -> None:
        log.info("ready as %s in %d servers", self.user, len(self.guilds))


def extension_names() -> list[str]:
    """Every module in cogs/ that defines setup(); private modules (leading _) are helpers."""
    import cogs

    return sorted(
        f"cogs.{m.name}" for m in pkgutil.iter_modules(cogs.__path__) if not m.name.startswith("_")
    )
