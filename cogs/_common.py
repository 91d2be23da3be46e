"""Helpers the cogs share: typed bot access, star autocomplete, safe text for embeds."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands

from bot.domain.stars import Star

if TYPE_CHECKING:
    from bot.client import FanBot


def fanbot(interaction: discord.Interaction) -> "FanBot":
    return interaction.client  # type: ignore[return-value]


def guild_id(interaction: discord.Interaction) -> int:
    assert interaction.guild_id is not None  # the tree refuses DMs before any command runs
    return interaction.guild_id


def star_choice(star: Star) -> app_commands.Choice[str]:
    label = f"{star.name} ({star.hangul})" if star.hangul else star.name
    return app_commands.Choice(name=label[:100], value=f"id:{star.id}")


async def followed_star_autocomplete(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
    if interaction.guild_id is None:
        return []
    stars = await fanbot(interaction).services.stars.autocomplete(interaction.guild_id, current)
    return [star_choice(s) for s in stars]


def safe(text: str, limit: int = 1024) -> str:
    """User- or feed-supplied text made inert for Discord: no markdown, no mention syntax."""
    cleaned = discord.utils.escape_mentions(discord.utils.escape_markdown(text))
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1] + "…"


