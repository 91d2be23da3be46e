"""/config: where automatic posts go, the server's language, time zone, moderator role and media hour."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.checks import moderator_only
from bot.domain.channels import ChannelKind
from bot.domain.discord_text import truncate
from bot.i18n import Lang
from bot.i18n.choose import server_lang_from
from bot.notice_text import blocked_reason_text, kind_name, language_name
from bot.services.guilds import timezone_suggestions
from bot.storage.guilds import GuildConfig

from ._common import followed_star_autocomplete, guild_id, reader_lang, safe

if TYPE_CHECKING:
    from bot.client import FanBot

POSTABLE = [discord.ChannelType.text, discord.ChannelType.news]


class ConfigCog(commands.GroupCog, group_name="config", group_description="Server settings for fanbot"):
    """/config: server settings."""

    def __init__(self, bot: "FanBot") -> None:
        self.bot = bot

    @app_commands.command(name="channel", description="Choose the channel for one kind of automatic post")
    @app_commands.describe(kind="Which posts", channel="Where they go",
                           star="News only: this star's news goes here instead of the news channel")
    @app_commands.autocomplete(star=followed_star_autocomplete)
    @moderator_only()
    async def channel(
        self,
        interaction: discord.Interaction,
        kind: ChannelKind,
        channel: app_commands.AppCommandChannel,
        star: str | None = None,
    ) -> None:
        lang = reader_lang(interaction)
        if channel.type not in POSTABLE:
            await interaction.response.send_message(
                lang._("Pick a text or announcement channel; fanbot cannot post in that kind of channel."),
                ephemeral=True)
            return
        gid = guild_id(interaction)
        guilds = self.bot.services.guilds
        if star is not None:
            found = await self.bot.services.stars.resolve(gid, star)
            await guilds.route_star(gid, kind.value, found.id, channel.id)
            text = lang._("{channel} will receive the news about {star}, instead of the news channel.",
                          channel=channel.mention, star=safe(lang.star(found), 100))
        else:
            await guilds.set_channel(gid, kind.value, channel.id)
            text = lang._("{channel} will receive {kind}.", kind=kind_name(lang, kind), channel=channel.mention)
        # AppCommandChannel.permissions are the invoking moderator's; what matters is fanbot's own.
        guild = interaction.guild
        resolved = guild.get_channel(channel.id) if guild is not None else None
        if guild is not None and resolved is not None:
            perms = resolved.permissions_for(guild.me)
            if not (perms.send_messages and perms.embed_links):
                text += " " + lang._("Note: fanbot cannot send messages with embeds there yet; "
                                     "give it Send Messages and Embed Links.")
        await interaction.response.send_message(text)

    @app_commands.command(name="unroute", description="Send a star's news back to the news channel")
    @app_commands.describe(star="A star whose news has a channel of its own")
    @app_commands.autocomplete(star=followed_star_autocomplete)
    @moderator_only()
    async def unroute(self, interaction: discord.Interaction, star: str) -> None:
        found = await self.bot.services.stars.resolve(guild_id(interaction), star)
        await self.bot.services.guilds.unroute_star(guild_id(interaction), found)
        lang = reader_lang(interaction)
        await interaction.response.send_message(
            lang._("The news about {star} goes to the news channel again.", star=safe(lang.star(found), 100)))

    @app_commands.command(name="language", description="The language of automatic posts: auto follows the server's")
    @app_commands.describe(language="auto: Korean when the server's Discord language is Korean, else English")
    @moderator_only()
    async def language(self, interaction: discord.Interaction, language: Literal["auto", "en", "ko"]) -> None:
        gid = guild_id(interaction)
        await self.bot.services.guilds.set_language(gid, language)
        lang = reader_lang(interaction)
        posts = self._server_lang(interaction, language)
        await interaction.response.send_message(
            lang._("Automatic posts will be written in {language}.", language=language_name(lang, posts.code))
            + (" " + lang._("(auto: it follows the server's Discord language)") if language == "auto" else ""))

    def _server_lang(self, interaction: discord.Interaction, setting: str) -> Lang:
        locale = interaction.guild_locale.value if interaction.guild_locale else None
        return server_lang_from(self.bot.i18n, setting, locale)

    @app_commands.command(name="timezone", description="The server's time zone for birthdays and the media hour")
    @app_commands.describe(tz="An IANA time zone such as Asia/Seoul")
    @moderator_only()
    async def timezone(self, interaction: discord.Interaction, tz: str) -> None:
        name = await self.bot.services.guilds.set_timezone(guild_id(interaction), tz)
        await interaction.response.send_message(reader_lang(interaction)._("Time zone set to {zone}.", zone=name))

    @timezone.autocomplete("tz")
    async def timezone_autocomplete(self, interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        return [app_commands.Choice(name=z, value=z) for z in timezone_suggestions(current)]

    @app_commands.command(name="mod-role", description="A role whose members may use moderator commands")
    @app_commands.describe(role="Not @everyone; its members can then use /config, /stars follow and the rest")
    @moderator_only()
    async def mod_role(self, interaction: discord.Interaction, role: discord.Role) -> None:
        lang = reader_lang(interaction)
        if not (interaction.permissions.manage_guild or interaction.permissions.administrator):
            # Otherwise a delegated moderator could hand moderator rights to a role every fan has.
            await interaction.response.send_message(
                lang._("Only members with Manage Server can choose the moderator role."), ephemeral=True
            )
            return
        if role.is_default():
            await interaction.response.send_message(
                lang._("@everyone cannot be the moderator role; pick a real role."), ephemeral=True)
            return
        await self.bot.services.guilds.set_mod_role(guild_id(interaction), role.id)
        await interaction.response.send_message(
            lang._("Members with {role} can now use moderator commands.", role=role.mention))

    @app_commands.command(name="media-hour", description="The hour (server time zone) of the daily media post")
    @app_commands.describe(hour="0 to 23, e.g. 20 for 8 pm")
    @moderator_only()
    async def media_hour(self, interaction: discord.Interaction, hour: app_commands.Range[int, 0, 23]) -> None:
        await self.bot.services.guilds.set_media_hour(guild_id(interaction), hour)
        time = f"{hour:02d}:00"
        await interaction.response.send_message(
            reader_lang(interaction)._("The media of the day will be posted at {time}.", time=time))

    @app_commands.command(name="show", description="Show this server's fanbot settings")
    @moderator_only()
    async def show(self, interaction: discord.Interaction) -> None:
        config = await self.bot.services.guilds.get(guild_id(interaction))
        lang = reader_lang(interaction)
        embed = discord.Embed(title=lang._("fanbot settings"))
        lines = []
        for kind in ChannelKind:
            target = config.channel(kind.value)
            name = kind_name(lang, kind)
            if target is None:
                lines.append(lang._("**{kind}**: not set, so these posts are not made", kind=name))
            elif target.blocked_reason:
                reason = blocked_reason_text(lang, target.blocked_reason)
                where = f"<#{target.channel_id}>"
                lines.append(lang._("**{kind}**: {channel} (paused: {reason}; set it again to resume)",
                                    kind=name, channel=where, reason=reason))
            else:
                lines.append(f"**{name}**: <#{target.channel_id}>")
        embed.add_field(name=lang._("Channels"), value="\n".join(lines), inline=False)
        if config.routes:
            embed.add_field(name=lang._("News by star"), value=await self._routes(lang, config), inline=False)
        posts = self._server_lang(interaction, config.language)
        shown = language_name(lang, posts.code)
        if config.language == "auto":
            shown = lang._("{language} (auto, from the server's Discord language)", language=shown)
        embed.add_field(name=lang._("Language of automatic posts"), value=shown)
        embed.add_field(name=lang._("Time zone"), value=config.timezone)
        embed.add_field(name=lang._("Media hour"), value=f"{config.media_hour:02d}:00")
        role = f"<@&{config.mod_role_id}>"
        embed.add_field(
            name=lang._("Moderators"),
            value=(lang._("Manage Server, or {role}", role=role) if config.mod_role_id else lang._("Manage Server")),
        )
        await interaction.response.send_message(embed=embed, ephemeral=True)


    async def _routes(self, lang: Lang, config: GuildConfig) -> str:
        """One line per routed star, by her name in the reader's language (1024 characters at most)."""
        stars = {s.id: s for s in await self.bot.services.stars.list(config.guild_id)}
        lines = []
        for star_id, target in config.routes.items():
            # An unfollowed star keeps her route (following her again resumes it) and is still named.
            star = stars.get(star_id) or await self.bot.services.stars.get(config.guild_id, star_id)
            name = safe(lang.star(star), 100) if star is not None else f"#{star_id}"
            where = f"<#{target.channel_id}>"
            if target.blocked_reason:
                reason = blocked_reason_text(lang, target.blocked_reason)
                lines.append(lang._("**{star}**: {channel} (paused: {reason}; set it again to resume)", star=name,
                                    channel=where, reason=reason))
            else:
                lines.append(f"**{name}**: {where}")
        return truncate("\n".join(sorted(lines)), 1024)


async def setup(bot: "FanBot") -> None:
    await bot.add_cog(ConfigCog(bot))
