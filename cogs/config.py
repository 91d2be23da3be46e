"""/config: where automatic posts go, the server's time zone, moderator role and media hour."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.checks import moderator_only
from bot.services.guilds import timezone_suggestions
from bot.storage.guilds import CHANNEL_KINDS

from ._common import guild_id

if TYPE_CHECKING:
    from bot.client import FanBot

ChannelKind = Literal["news", "polls", "media", "birthdays", "modlog"]
POSTABLE = [discord.ChannelType.text, discord.ChannelType.news]


class ConfigCog(commands.GroupCog, group_name="config", group_description="Server settings for fanbot"):
    def __init__(self, bot: "FanBot") -> None:
        self.bot = bot

    @app_commands.command(name="channel", description="Choose the channel for one kind of automatic post")
    @app_commands.describe(kind="Which posts", channel="Where they go")
    @moderator_only()
    async def channel(
        self,
        interaction: discord.Interaction,
        kind: ChannelKind,
        channel: app_commands.AppCommandChannel,
    ) -> None:
        if channel.type not in POSTABLE:
            await interaction.response.send_message(
                "Pick a text or announcement channel; fanbot cannot post in that kind of channel.", ephemeral=True
            )
            return
        await self.bot.services.guilds.set_channel(guild_id(interaction), kind, channel.id)
        note = ""
        # AppCommandChannel.permissions are the invoking moderator's; what matters is fanbot's own.
        guild = interaction.guild
        resolved = guild.get_channel(channel.id) if guild is not None else None
        if guild is not None and resolved is not None:
            perms = resolved.permissions_for(guild.me)
            if not (perms.send_messages and perms.embed_links):
                note = " Note: fanbot cannot send messages with embeds there yet; give it Send Messages and Embed Links."
        await interaction.response.send_message(f"{kind.capitalize()} posts will go to {channel.mention}.{note}")

    @app_commands.command(name="timezone", description="The server's time zone for birthdays and the media hour")
    @app_commands.describe(tz="An IANA time zone such as Asia/Seoul")
    @moderator_only()
    async def timezone(self, interaction: discord.Interaction, tz: str) -> None:
        name = await self.bot.services.guilds.set_timezone(guild_id(interaction), tz)
        await interaction.response.send_message(f"Time zone set to {name}.")

    @timezone.autocomplete("tz")
    async def timezone_autocomplete(self, interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        return [app_commands.Choice(name=z, value=z) for z in timezone_suggestions(current)]

    @app_commands.command(name="mod-role", description="A role whose members may use moderator commands")
    @app_commands.describe(role="Not @everyone; its members can then use /config, /stars follow and the rest")
    @moderator_only()
    async def mod_role(self, interaction: discord.Interaction, role: discord.Role) -> None:
        if not (interaction.permissions.manage_guild or interaction.permissions.administrator):
            # Otherwise a delegated moderator could hand moderator rights to a role every fan has.
            await interaction.response.send_message(
                "Only members with Manage Server can choose the moderator role.", ephemeral=True
            )
            return
        if role.is_default():
            await interaction.response.send_message("@everyone cannot be the moderator role; pick a real role.", ephemeral=True)
            return
        await self.bot.services.guilds.set_mod_role(guild_id(interaction), role.id)
        await interaction.response.send_message(f"Members with {role.mention} can now use moderator commands.")

    @app_commands.command(name="media-hour", description="The hour (server time zone) of the daily media post")
    @app_commands.describe(hour="0 to 23, e.g. 20 for 8 pm")
    @moderator_only()
    async def media_hour(self, interaction: discord.Interaction, hour: app_commands.Range[int, 0, 23]) -> None:
        await self.bot.services.guilds.set_media_hour(guild_id(interaction), hour)
        await interaction.response.send_message(f"The media of the day will be posted at {hour:02d}:00.")

    @app_commands.command(name="show", description="Show this server's fanbot settings")
    @moderator_only()
    async def show(self, interaction: discord.Interaction) -> None:
        config = await self.bot.services.guilds.get(guild_id(interaction))
        embed = discord.Embed(title="fanbot settings")
        lines = []
        for kind in CHANNEL_KINDS:
            target = config.channel(kind)
            if target is None:
                lines.append(f"**{kind}**: not set, so these posts are not made")
            elif target.blocked_reason:
                lines.append(f"**{kind}**: <#{target.channel_id}> (paused: {target.blocked_reason}; set it again to resume)")
            else:
                lines.append(f"**{kind}**: <#{target.channel_id}>")
        embed.add_field(name="Channels", value="\n".join(lines), inline=False)
        embed.add_field(name="Time zone", value=config.timezone)
        embed.add_field(name="Media hour", value=f"{config.media_hour:02d}:00")
        embed.add_field(
            name="Moderators",
            value=(f"Manage Server, or <@&{config.mod_role_id}>" if config.mod_role_id else "Manage Server"),
        )
        await interaction.response.send_message(embed=embed, ephemeral=True)


async def setup(bot: "FanBot") -> None:
    await bot.add_cog(ConfigCog(bot))
