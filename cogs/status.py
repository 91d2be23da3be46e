"""/fanbot status: health at a glance for moderators."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.checks import moderator_only

from ._common import guild_id, reader_lang

if TYPE_CHECKING:
    from bot.client import FanBot


class StatusCog(commands.GroupCog, group_name="fanbot", group_description="About fanbot itself"):
    """/fanbot status."""

    def __init__(self, bot: "FanBot") -> None:
        self.bot = bot

    @app_commands.command(name="status", description="Health at a glance: feeds, queue, database, latency")
    @moderator_only()
    async def status(self, interaction: discord.Interaction) -> None:
        services = self.bot.services
        gid = guild_id(interaction)
        lang = reader_lang(interaction)
        never = lang._("never")
        embed = discord.Embed(title=lang._("fanbot status"))
        embed.add_field(name=lang._("Version"), value=self.bot.version)
        latency = self.bot.latency
        embed.add_field(name=lang._("Gateway latency"),
                        value=lang._("unknown") if latency != latency else f"{latency * 1000:.0f} ms")
        size = f"{await services.db.size_bytes() / 1024:.0f}"
        embed.add_field(name=lang._("Database"), value=lang._("{size} KiB, schema v{version}", size=size,
                                                              version=await services.db.schema_version()))
        stars = await services.stars.list(gid)
        embed.add_field(name=lang._("Followed stars"), value=lang.n_("{n} star", "{n} stars", len(stars)))
        total, failing, disabled, last_poll = await services.news.health(gid)
        embed.add_field(name=lang._("Feeds"), value=(
            lang.n_("{n} ({failing} failing, {disabled} disabled)", "{n} ({failing} failing, {disabled} disabled)",
                    total, failing=failing, disabled=disabled)
            if total else lang._("none (add one with /feeds add)")))
        embed.add_field(name=lang._("Last feed poll"), value=discord.utils.format_dt(last_poll, "R") if last_poll
                        else never)
        waiting, last_sent = await services.announcer.stats(gid)
        last = discord.utils.format_dt(last_sent, "R") if last_sent else never
        embed.add_field(name=lang._("News announcements"),
                        value=lang.n_("{n} waiting · last sent {last}", "{n} waiting · last sent {last}", waiting,
                                      last=last))
        embed.add_field(name=lang._("Open polls"), value=str(await services.polls.count_open(gid)))
        embed.add_field(name=lang._("Media library"),
                        value=lang.n_("{n} item", "{n} items", await services.media.count(gid)))
        embed.add_field(name=lang._("Pending submissions"), value=str(await services.media.pending_count(gid)))
        day = await services.daily.last_media_day(gid)
        embed.add_field(name=lang._("Media of the day"),
                        value=lang._("last posted {date}", date=lang.date(day)) if day else lang._("not posted yet"))
        await interaction.response.send_message(embed=embed, ephemeral=True)


async def setup(bot: "FanBot") -> None:
    await bot.add_cog(StatusCog(bot))
