"""/notify: fans opt in or out of pings for a star; fanbot keeps one mentionable role per star."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.domain.notices import RoleMention
from bot.domain.stars import Star
from bot.errors import UserError

from ._common import IdRef, followed_star_autocomplete, guild_id, reader_lang, safe

if TYPE_CHECKING:
    from bot.client import FanBot

log = logging.getLogger(__name__)



def role_name(star: Star) -> str:
    return f"🔔 {star.name}"[:100]


class NotifyCog(commands.GroupCog, group_name="notify", group_description="Get pinged when a star is in the news"):
    """/notify: pings for a star's news."""

    def __init__(self, bot: "FanBot") -> None:
        self.bot = bot
        # Two fans opting in at once must not create two roles for one star.
        self._role_locks: dict[int, asyncio.Lock] = {}

    async def _star_role(self, guild: discord.Guild, star: Star) -> discord.Role:
        """The star's notify role, created (and stored) when she has none or it was deleted."""
        async with self._role_locks.setdefault(star.id, asyncio.Lock()):
            current = await self.bot.services.stars.get(guild.id, star.id) or star
            role = guild.get_role(current.notify_role_id) if current.notify_role_id else None
            if role is not None:
                return role
            if not guild.me.guild_permissions.manage_roles:
                raise UserError("notify.needs_manage_roles", star=star)
            try:
                role = await guild.create_role(
                    name=role_name(star),
                    permissions=discord.Permissions.none(),
                    mentionable=True,
                    reason=f"fanbot: ping role for news about {star.name}",
                )
            except discord.Forbidden:
                raise UserError("notify.needs_manage_roles", star=star) from None
            await self.bot.services.stars.set_notify_role(current, role.id)
            log.info("created notify role %s for star %s in guild %s", role.id, star.id, guild.id)
            return role

    @app_commands.command(name="add", description="Get pinged when news about a star is posted")
    @app_commands.describe(star="One of the stars this server follows")
    @app_commands.autocomplete(star=followed_star_autocomplete)
    async def add(self, interaction: discord.Interaction, star: IdRef) -> None:
        found = await self.bot.services.stars.resolve(guild_id(interaction), star)
        assert interaction.guild is not None and isinstance(interaction.user, discord.Member)
        member = interaction.user
        # Creating a role and adding it are two calls to Discord: answer within 3 s, then finish.
        await interaction.response.defer(ephemeral=True, thinking=True)
        role = await self._star_role(interaction.guild, found)
        lang = reader_lang(interaction)
        name = safe(lang.star(found), 100)
        if member.get_role(role.id) is not None:
            await interaction.followup.send(
                lang._("You already get pings for {star} ({role}).", star=name, role=role.mention), ephemeral=True)
            return
        if role >= interaction.guild.me.top_role:
            raise UserError("notify.role_too_high", role=RoleMention(role.id))
        try:
            await member.add_roles(role, reason=f"/notify add {found.name}")
        except discord.Forbidden:
            raise UserError("notify.role_too_high", role=RoleMention(role.id)) from None
        await interaction.followup.send(
            lang._("Done: you now have {role} and will be pinged when news about {star} is posted. "
                   "Stop with /notify remove.", role=role.mention, star=name),
            ephemeral=True,
        )

    @app_commands.command(name="remove", description="Stop getting pinged for a star")
    @app_commands.describe(star="One of the stars this server follows")
    @app_commands.autocomplete(star=followed_star_autocomplete)
    async def remove(self, interaction: discord.Interaction, star: IdRef) -> None:
        found = await self.bot.services.stars.resolve(guild_id(interaction), star)
        assert interaction.guild is not None and isinstance(interaction.user, discord.Member)
        member = interaction.user
        lang = reader_lang(interaction)
        role = interaction.guild.get_role(found.notify_role_id) if found.notify_role_id else None
        if role is None or member.get_role(role.id) is None:
            raise UserError("notify.not_subscribed", star=found)
        # remove_roles is a call to Discord that can wait on a rate limit: answer within 3 s, then finish.
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            await member.remove_roles(role, reason=f"/notify remove {found.name}")
        except discord.Forbidden:
            raise UserError("notify.role_too_high", role=RoleMention(role.id)) from None
        await interaction.followup.send(
            lang._("Done: no more pings for {star}.", star=safe(lang.star(found), 100)), ephemeral=True)

    @app_commands.command(name="list", description="The stars you get pinged for")
    async def list_(self, interaction: discord.Interaction) -> None:
        stars = await self.bot.services.stars.list(guild_id(interaction))
        assert isinstance(interaction.user, discord.Member)
        member = interaction.user
        lang = reader_lang(interaction)
        mine = [s for s in stars if s.notify_role_id and member.get_role(s.notify_role_id) is not None]
        if not mine:
            others = ", ".join(safe(lang.star(s), 100) for s in stars[:10])
            hint = (lang._("Stars here: {stars}.", stars=others) if others
                    else lang._("This server follows no stars yet."))
            await interaction.response.send_message(
                lang._("You get no star pings yet; opt in with /notify add.") + " " + hint, ephemeral=True
            )
            return
        lines = [f"• {safe(lang.star(s), 100)} (<@&{s.notify_role_id}>)" for s in mine]
        await interaction.response.send_message(
            "\n".join([lang._("You get pinged for:"), *lines, lang._("Stop with /notify remove.")]), ephemeral=True
        )


async def setup(bot: "FanBot") -> None:
    await bot.add_cog(NotifyCog(bot))
