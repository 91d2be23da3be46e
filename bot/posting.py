"""Automatic posts: send to the channel configured for a kind, and stop (with a mod-log notice) when Discord refuses."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import discord

from .domain.notices import ChannelMention, Notice
from .i18n.choose import server_lang
from .notice_text import notice_text

if TYPE_CHECKING:
    from .client import FanBot

log = logging.getLogger(__name__)


class Poster:
    """Every automatic post goes through here, so a deleted channel or lost permission is handled
    once: the channel is paused (no hammering), the mod-log is told, and `/config channel` resumes it."""

    def __init__(self, bot: "FanBot") -> None:
        self._bot = bot

    async def channel_for(self, guild_id: int, kind: str) -> discord.abc.Messageable | None:
        config = await self._bot.services.guilds.get(guild_id)
        target = config.channel(kind)
        if target is None or target.blocked_reason:
            return None
        channel = self._bot.get_channel(target.channel_id)
        if channel is None:
            # Not in the cache (e.g. created while we were away): a PartialMessageable still posts.
            channel = self._bot.get_partial_messageable(target.channel_id, guild_id=guild_id)
        return channel  # type: ignore[return-value]

    async def send(self, guild_id: int, kind: str, **kwargs: Any) -> discord.Message | None:
        """Post to the `kind` channel of a server. Returns None when nothing was posted because
        the kind has no channel, the channel is paused, or Discord refused (403/404).
        5xx and network errors propagate so the caller can retry later."""
        channel = await self.channel_for(guild_id, kind)
        if channel is None:
            return None
        kwargs.setdefault("allowed_mentions", discord.AllowedMentions.none())
        try:
            return await channel.send(**kwargs)
        except (discord.Forbidden, discord.NotFound) as exc:
            await self.pause(guild_id, channel.id, kind, exc)
            return None

    async def pause(self, guild_id: int, channel_id: int, kind: str, exc: discord.HTTPException) -> None:
        # Stored as a code, so /config show and the notice say it in each reader's language.
        reason = "channel_gone" if isinstance(exc, discord.NotFound) else "no_permission"
        kinds = await self._bot.services.guilds.block_channel(guild_id, channel_id, reason)
        log.warning("paused posts to channel %s in guild %s: %s", channel_id, guild_id, reason)
        if kinds and kind != "modlog":
            await self.notify_mods(
                guild_id, Notice("channel_paused", {"kinds": kinds, "channel": ChannelMention(channel_id),
                                                    "reason": reason}))

    async def notify_mods(self, guild_id: int, notice: Notice, **kwargs: Any) -> discord.Message | None:
        """A notice in the mod-log channel (if one is configured and working), in the server's language."""
        text = notice_text(await server_lang(self._bot, guild_id), notice)
        return await self.send(guild_id, "modlog", content=text[:2000], **kwargs)
