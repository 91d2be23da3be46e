"""A local Discord API double (REST v10 + Gateway) for end-to-end tests of discord.py bots."""

from .harness import point_discord_py_at, run_bot, wait_for_guild_cache
from .interactions import DoubleUsageError, InteractionHandle
from .models import Channel, Guild, Member, Perm, Role, User, snowflake
from .recorder import RecordedFile, RecordedRequest
from .server import DiscordDouble

__all__ = [
    "Channel", "DiscordDouble", "DoubleUsageError", "Guild", "InteractionHandle", "Member", "Perm",
    "RecordedFile", "RecordedRequest", "Role", "User", "point_discord_py_at", "run_bot", "snowflake",
    "wait_for_guild_cache",
]
