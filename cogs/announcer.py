"""Delivers pending news announcements on a schedule (the work itself is in bot/services/announcer.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from discord.ext import commands

from bot.services.announcer import JOB_EVERY, JOB_NAME

if TYPE_CHECKING:
    from bot.client import FanBot


class AnnouncerCog(commands.Cog):
    """Runs news delivery on the scheduler."""

    def __init__(self, bot: "FanBot") -> None:
        self.bot = bot

    async def cog_load(self) -> None:
        announcer = self.bot.services.announcer
        announcer.bind(self.bot)
        # The first run happens at the scheduler's first tick, so announcements a crash left in
        # 'sending' are resent (with their nonce) right after start-up.
        self.bot.scheduler.add(JOB_NAME, announcer.deliver_pending, every=JOB_EVERY)

    async def cog_unload(self) -> None:
        self.bot.scheduler.remove(JOB_NAME)
        self.bot.services.announcer.unbind()


async def setup(bot: "FanBot") -> None:
    await bot.add_cog(AnnouncerCog(bot))
