"""Which language a message is written in: the reader's for replies, the server's for automatic posts."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord

from .catalogues import Catalogues, Lang

if TYPE_CHECKING:
    from ..client import FanBot

AUTO = "auto"
_FALLBACK: Catalogues | None = None


def catalogues_of(client: discord.Client) -> Catalogues:
    found = getattr(client, "i18n", None)
    if isinstance(found, Catalogues):
        return found
    global _FALLBACK  # a bare discord.Client (never fanbot's own) still gets a working catalogue
    if _FALLBACK is None:
        _FALLBACK = Catalogues.load()
    return _FALLBACK


def reader_lang(interaction: discord.Interaction) -> Lang:
    """The person's Discord language: Korean for 'ko', English for everything we do not translate."""
    return catalogues_of(interaction.client).get(interaction.locale.value)


def server_lang_from(catalogues: Catalogues, setting: str, guild_locale: str | None) -> Lang:
    """`/config language`: en or ko as chosen; auto follows the server's Discord locale."""
    if setting != AUTO:
        return catalogues.get(setting)
    return catalogues.get(guild_locale)


async def server_lang(bot: "FanBot", guild_id: int) -> Lang:
    config = await bot.services.guilds.get(guild_id)
    guild = bot.get_guild(guild_id)
    return server_lang_from(bot.i18n, config.language, guild.preferred_locale.value if guild else None)
