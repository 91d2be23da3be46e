"""/stars: which stars this server follows."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.checks import moderator_only
from bot.domain.stars import Star

from ._common import fanbot, followed_star_autocomplete, guild_id, safe

if TYPE_CHECKING:
    from bot.client import FanBot

log = logging.getLogger(__name__)


def describe_star(star: Star) -> str:
    parts = [f"**{safe(star.name)}**"]
    if star.hangul:
        parts.append(f"({star.hangul})")
    if star.birthday:
        parts.append(f"· born {star.birthday.isoformat()}")
    return " ".join(parts)


class StarsCog(commands.GroupCog, group_name="stars", group_description="The stars this server follows"):
    def __init__(self, bot: "FanBot") -> None:
        self.bot = bot

    async def catalogue_autocomplete(self, interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        found = self.bot.services.stars.catalogue.search(current, limit=25)
        return [app_commands.Choice(name=(f"{s.name} ({s.hangul})" if s.hangul else s.name)[:100], value=s.name) for s in found]

    @app_commands.command(name="follow", description="Follow a star (from the catalogue, or any name you give)")
    @app_commands.describe(
        name="Her name; catalogued stars fill in Hangul, aliases and birthday",
        hangul="Her name in Hangul, e.g. 송혜교",
        aliases="Other names the press uses, comma-separated",
        birthday="YYYY-MM-DD",
    )
    @app_commands.autocomplete(name=catalogue_autocomplete)
    @moderator_only()
    async def follow(
        self,
        interaction: discord.Interaction,
        name: app_commands.Range[str, 1, 200],
        hangul: str | None = None,
        aliases: str | None = None,
        birthday: str | None = None,
    ) -> None:
        star = await self.bot.services.stars.follow(
            guild_id(interaction), name, hangul=hangul, aliases=aliases, birthday=birthday, actor_id=interaction.user.id
        )
        extra = f" with {len(star.aliases)} other names" if star.aliases else ""
        source = " from the catalogue" if star.from_catalogue else ""
        await interaction.response.send_message(
            f"Now following {describe_star(star)}{source}{extra}. Fans can opt in to pings with /notify add.",
        )

    @app_commands.command(name="unfollow", description="Stop following a star")
    @app_commands.describe(star="One of the stars this server follows")
    @app_commands.autocomplete(star=followed_star_autocomplete)
    @moderator_only()
    async def unfollow(self, interaction: discord.Interaction, star: str) -> None:
        gone = await self.bot.services.stars.unfollow(guild_id(interaction), star)
        await interaction.response.send_message(f"No longer following {describe_star(gone)}.")

    @app_commands.command(name="edit", description="Change a followed star's Hangul name, aliases or birthday")
    @app_commands.describe(star="One of the stars this server follows", hangul="Her name in Hangul, e.g. 송혜교",
                           aliases="Replaces her aliases; comma-separated", birthday="YYYY-MM-DD")
    @app_commands.autocomplete(star=followed_star_autocomplete)
    @moderator_only()
    async def edit(
        self,
        interaction: discord.Interaction,
        star: str,
        hangul: str | None = None,
        aliases: str | None = None,
        birthday: str | None = None,
    ) -> None:
        updated = await self.bot.services.stars.edit(
            guild_id(interaction), star, hangul=hangul, aliases=aliases, birthday=birthday
        )
        names = ", ".join(safe(a, 100) for a in updated.aliases) or "none"
        await interaction.response.send_message(f"Updated {describe_star(updated)}. Other names: {names}.")

    @app_commands.command(name="list", description="The stars this server follows")
    async def list_(self, interaction: discord.Interaction) -> None:
        stars = await self.bot.services.stars.list(guild_id(interaction))
        if not stars:
            await interaction.response.send_message(
                "This server follows no stars yet. A moderator can add one with /stars follow.", ephemeral=True
            )
            return
        lines = [f"• {describe_star(s)}" for s in stars]
        embed = discord.Embed(title=f"Followed stars ({len(stars)})", description="\n".join(lines)[:4000])
        await interaction.response.send_message(embed=embed)

    @app_commands.command(name="info", description="Names, birthday, latest news and media of a star")
    @app_commands.describe(star="One of the stars this server follows")
    @app_commands.autocomplete(star=followed_star_autocomplete)
    async def info(self, interaction: discord.Interaction, star: str) -> None:
        services = self.bot.services
        found = await services.stars.resolve(guild_id(interaction), star)
        embed = discord.Embed(title=found.name[:256])
        if found.hangul:
            embed.add_field(name="Hangul", value=found.hangul)
        if found.birthday:
            today = services.clock.now().date()
            embed.add_field(name="Birthday", value=f"{found.birthday.isoformat()} (age {found.age_on(today)})")
        if found.aliases:
            embed.add_field(name="Also known as", value=safe(", ".join(found.aliases), 1024), inline=False)
        if found.notify_role_id:
            embed.add_field(name="Pings", value=f"<@&{found.notify_role_id}> (opt in with /notify add)", inline=False)
        for service in (services.news, services.media):
            if service is not None and hasattr(service, "star_info_fields"):
                for field_name, value in await service.star_info_fields(found):
                    embed.add_field(name=field_name, value=value[:1024], inline=False)
        await interaction.response.send_message(embed=embed)


async def setup(bot: "FanBot") -> None:
    await bot.add_cog(StarsCog(bot))
