"""/fanbot status: health at a glance for moderators."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.checks import moderator_only

from ._common import guild_id

if TYPE_CHECKING:
    from bot.client import FanBot


class StatusCog(commands.GroupCog, group_name="fanbot", group_description="About fanbot itself"):
    def __init__(self, bot: "FanBot") -> None:
        self.bot = bot

    @app_commands.command(name="status", description="Health at a glance: feeds, queue, database, latency")
    @moderator_only()
    async def status(self, interaction: discord.Interaction) -> None:
        services = self.bot.services
        gid = guild_id(interaction)
        embed = discord.Embed(title="fanbot status")
        embed.add_field(name="Version", value=self.bot.version)
        latency = self.bot.latency
        embed.add_field(name="Gateway latency", value="unknown" if latency != latency else f"{latency * 1000:.0f} ms")
        embed.add_field(name="Database", value=f"{await services.db.size_bytes() / 1024:.0f} KiB, schema v{await services.db.schema_version()}")
        stars = await services.stars.list(gid)
        embed.add_field(name="Followed stars", value=str(len(stars)))
        for service in (services.news, services.announcer, services.polls, services.media, services.daily):
            if service is not None and hasattr(service, "status_fields"):
                for name, value in await service.status_fields(gid):
                    embed.add_field(name=name, value=value[:1024])
        await interaction.response.send_message(embed=embed, ephemeral=True)


async def setup(bot: "FanBot") -> None:
    await bot.add_cog(StatusCog(bot))
