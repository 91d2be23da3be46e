"""The moderator check every cog shares: Manage Server or the configured moderator role, at run time."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

import discord
from discord import app_commands

from .replies import CodedCheckFailure

if TYPE_CHECKING:
    from .client import FanBot

T = TypeVar("T")


class NotModerator(CodedCheckFailure):
    """Refused: neither Manage Server nor the server's moderator role."""

    code = "not_moderator"


class GuildOnly(CodedCheckFailure):
    """Refused: a command run in a direct message."""

    code = "guild_only"


async def is_moderator(interaction: discord.Interaction) -> bool:
    """True for members with Manage Server (or Administrator) or the configured moderator role.

    Default permissions on a command are only a hint that server admins can override, so this
    runs on every moderator command and button press.
    """
    guild = interaction.guild
    member = interaction.user
    if guild is None or not isinstance(member, discord.Member):
        return False
    perms = interaction.permissions
    if perms.manage_guild or perms.administrator or member.guild_permissions.manage_guild:
        return True
    bot: FanBot = interaction.client  # type: ignore[assignment]
    config = await bot.services.guilds.get(guild.id)
    if config.mod_role_id is None:
        return False
    return member.get_role(config.mod_role_id) is not None


def moderator_only() -> Callable[[T], T]:
    """Hide the command from non-moderators by default, and refuse them at run time regardless."""

    async def predicate(interaction: discord.Interaction) -> bool:
        if not await is_moderator(interaction):
            raise NotModerator()
        return True

    def decorator(func: T) -> T:
        func = app_commands.default_permissions(manage_guild=True)(func)  # type: ignore[arg-type]
        return app_commands.check(predicate)(func)  # type: ignore[arg-type]

    return decorator


async def require_moderator(interaction: discord.Interaction) -> None:
    """For buttons and selects: raise NotModerator unless whoever pressed it is a moderator."""
    if not await is_moderator(interaction):
        raise NotModerator()
