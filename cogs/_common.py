"""Helpers the cogs share: typed bot access, the reader's language, star autocomplete, safe text for embeds."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands

from bot.domain.refs import Ref
from bot.domain.stars import Star
from bot.i18n import Lang
from bot.i18n.choose import reader_lang

if TYPE_CHECKING:
    from bot.client import FanBot

__all__ = ["fanbot", "guild_id", "reader_lang", "star_choice", "star_label", "followed_star_autocomplete", "safe",
           "IdRef", "RefTransformer"]


class RefTransformer(app_commands.Transformer):
    """An option naming one thing: the autocomplete value "id:12" or whatever the user typed instead.

    Parsed once here, so the services get a Ref and none of them reads "id:" prefixes on its own."""

    async def transform(self, interaction: discord.Interaction, value: str) -> Ref:
        return Ref.parse(value)


IdRef = app_commands.Transform[Ref, RefTransformer]


def fanbot(interaction: discord.Interaction) -> "FanBot":
    return interaction.client  # type: ignore[return-value]


def guild_id(interaction: discord.Interaction) -> int:
    assert interaction.guild_id is not None  # the tree refuses DMs before any command runs
    return interaction.guild_id


def star_label(star: Star, lang: Lang) -> str:
    """Her name as this reader knows her first, the other spelling beside it: 송혜교 (Song Hye-kyo)."""
    first = lang.star(star)
    other = star.name if first != star.name else star.hangul
    return f"{first} ({other})" if other else first


def star_choice(star: Star, lang: Lang) -> app_commands.Choice[str]:
    return app_commands.Choice(name=star_label(star, lang)[:100], value=f"id:{star.id}")


async def followed_star_autocomplete(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
    if interaction.guild_id is None:
        return []
    stars = await fanbot(interaction).services.stars.autocomplete(interaction.guild_id, current)
    lang = reader_lang(interaction)
    return [star_choice(s, lang) for s in stars]


def safe(text: str, limit: int = 1024) -> str:
    """User- or feed-supplied text made inert for Discord: no markdown, no mention syntax."""
    cleaned = discord.utils.escape_mentions(discord.utils.escape_markdown(text))
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1] + "…"
