"""/notify: fans opt in or out of pings for a star; fanbot keeps one mentionable role per star."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.domain.stars import Star
from bot.errors import UserError

from ._common import followed_star_autocomplete, guild_id, safe

if TYPE_CHECKING:
    from bot.client import FanBot

log = logging.getLogger(__name__)

NEEDS_MANAGE_ROLES = (
    "fanbot needs the Manage Roles permission to create the ping role for {star}; "
    "ask a moderator to give fanbot Manage Roles, then try again."
)
ROLE_TOO_HIGH = (
    "fanbot cannot hand out {role}: it sits above fanbot's own role. "
    "Ask a moderator to move fanbot's role above it, then try again."
)


def role_name(star: Star) -> str:
    return f"🔔 {star.name}"[:100]


class NotifyCog(commands.GroupCog, group_name="notify", group_description="Get pinged when a star is in the news"):
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
                raise UserError(NEEDS_MANAGE_ROLES.format(star=safe(star.name, 100)))
            try:
                role = await guild.create_role(
                    name=role_name(star),
                    permissions=discord.Permissions.none(),
                    mentionable=True,
                    reason=f"fanbot: ping role for news about {star.name}",
                )
            except discord.Forbidden:
                raise UserError(NEEDS_MANAGE_ROLES.format(star=safe(star.name, 100))) from None
            await self.bot.services.stars.set_notify_role(current, role.id)
            log.info("created notify role %s for star %s in guild %s", role.id, star.id, guild.id)
            return role

    @app_commands.command(name="add", description="Get pinged when news about a star is posted")
    @app_commands.describe(star="One of the stars this server follows")
    @app_commands.autocomplete(star=followed_star_autocomplete)
    async def add(self, interaction: discord.Interaction, star: str) -> None:
        found = await self.bot.services.stars.resolve(guild_id(interaction), star)
        assert interaction.guild is not None and isinstance(interaction.user, discord.Member)
        member = interaction.user
        # Creating a role and adding it are two calls to Discord: answer within 3 s, then finish.
        await interaction.response.defer(ephemeral=True, thinking=True)
        role = await self._star_role(interaction.guild, found)
        name = safe(found.name, 100)
        if member.get_role(role.id) is not None:
            await interaction.followup.send(f"You already get pings for {name} ({role.mention}).", ephemeral=True)
            return
        if role >= interaction.guild.me.top_role:
            raise UserError(ROLE_TOO_HIGH.format(role=role.mention))
        try:
            await member.add_roles(role, reason=f"/notify add {found.name}")
        except discord.Forbidden:
            raise UserError(ROLE_TOO_HIGH.format(role=role.mention)) from None
        await interaction.followup.send(
            f"Done: you now have {role.mention} and will be pinged when news about {name} is posted. "
            "Stop with /notify remove.",
            ephemeral=True,
        )

    @app_commands.command(name="remove", description="Stop getting pinged for a star")
    @app_commands.describe(star="One of the stars this server follows")
    @app_commands.autocomplete(star=followed_star_autocomplete)
    async def remove(self, interaction: discord.Interaction, star: str) -> None:
        found = await self.bot.services.stars.resolve(guild_id(interaction), star)
        assert interaction.guild is not None and isinstance(interaction.user, discord.Member)
        member = interaction.user
        name = safe(found.name, 100)
        role = interaction.guild.get_role(found.notify_role_id) if found.notify_role_id else None
        if role is None or member.get_role(role.id) is None:
            raise UserError(f"You do not get pings for {name}, so there is nothing to stop.")
        # remove_roles is a call to Discord that can wait on a rate limit: answer within 3 s, then finish.
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            await member.remove_roles(role, reason=f"/notify remove {found.name}")
        except discord.Forbidden:
            raise UserError(ROLE_TOO_HIGH.format(role=role.mention)) from None
        await interaction.followup.send(f"Done: no more pings for {name}.", ephemeral=True)

    @app_commands.command(name="list", description="The stars you get pinged for")
    async def list_(self, interaction: discord.Interaction) -> None:
        stars = await self.bot.services.stars.list(guild_id(interaction))
        assert isinstance(interaction.user, discord.Member)
        member = interaction.user
        mine = [s for s in stars if s.notify_role_id and member.get_role(s.notify_role_id) is not None]
        if not mine:
            others = ", ".join(safe(s.name, 100) for s in stars[:10])
            hint = f" Stars here: {others}." if others else " This server follows no stars yet."
            await interaction.response.send_message(
                f"You get no star pings yet; opt in with /notify add.{hint}", ephemeral=True
            )
            return
        lines = [f"• {safe(s.name, 100)} (<@&{s.notify_role_id}>)" for s in mine]
        await interaction.response.send_message(
            "You get pinged for:\n" + "\n".join(lines) + "\nStop with /notify remove.", ephemeral=True
        )


async def setup(bot: "FanBot") -> None:
    await bot.add_cog(NotifyCog(bot))
