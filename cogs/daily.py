"""The daily posts job: media of the day and birthday greetings, run by the bot's scheduler."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING

import discord
from discord.ext import commands

from bot.errors import UserError
from bot.i18n.choose import server_lang

from ._media_views import birthday_message, item_message

if TYPE_CHECKING:
    from bot.client import FanBot
    from bot.services.daily import DailyPost

log = logging.getLogger(__name__)

JOB = "daily-posts"
EVERY_SECONDS = 60


class DailyCog(commands.Cog):
    """Posts the media of the day and birthday greetings on the scheduler."""

    def __init__(self, bot: "FanBot") -> None:
        self.bot = bot

    async def cog_load(self) -> None:
        self.bot.scheduler.add(JOB, self.run, every=EVERY_SECONDS)

    async def cog_unload(self) -> None:
        self.bot.scheduler.remove(JOB)

    async def _has_channel(self, guild_id: int, kind: str) -> bool:
        return await self.bot.poster.channel_for(guild_id, kind) is not None

    async def run(self, now: datetime) -> None:
        """For each server: is it past the hour locally and not yet posted today? Claim, send, record."""
        daily = self.bot.services.daily
        for post in await daily.due(now, self._has_channel):
            try:
                await self._send(post)
            except UserError as error:  # e.g. the item's stored file is gone: give up today's post, say why
                log.warning("daily %s post for guild %s not sent: %s", post.kind, post.guild_id, error.message)
                await self.bot.services.daily.not_sent(post, error.message)
            except discord.HTTPException:
                # 5xx or network: the claim stays and is resent (same nonce) on a later tick, briefly.
                log.warning("daily %s post for guild %s failed; will retry", post.kind, post.guild_id, exc_info=True)

    async def _send(self, post: "DailyPost") -> None:
        lang = await server_lang(self.bot, post.guild_id)
        if post.kind == "media":
            assert post.item is not None
            heading = "🌸 **" + lang._("Media of the day") + "**"
            kwargs = item_message(post.item, self.bot.services.media.root, lang, heading=heading)
        else:
            kwargs = birthday_message(post, lang)
        message = await self.bot.poster.send(post.guild_id, "media" if post.kind == "media" else "birthdays",
                                             nonce=post.nonce, **kwargs)
        if message is None:
            await self.bot.services.daily.not_sent(post, "the channel refused the post or is not set")
        else:
            await self.bot.services.daily.sent(post, message.id)


async def setup(bot: "FanBot") -> None:
    await bot.add_cog(DailyCog(bot))
