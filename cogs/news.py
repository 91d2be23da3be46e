"""/feeds (which feeds a server reads, and their health) and /news latest; runs the feed poller."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.checks import moderator_only
from bot.services.ingest import CycleReport
from bot.services.news import POLL_EVERY, POLL_JOB
from bot.storage.feeds import FeedSource

from ._common import followed_star_autocomplete, guild_id, reader_lang, safe
from ._news_text import story_line, whole_lines

if TYPE_CHECKING:
    from bot.client import FanBot

log = logging.getLogger(__name__)
LIST_EMBED_BUDGET = 5800  # Discord's 6,000-character embed limit, less room for the footer


def _when(moment: datetime | None, empty: str = "never") -> str:
    return f"<t:{int(moment.timestamp())}:R>" if moment else empty


def describe_feed(feed: FeedSource) -> str:
    lines = [safe(feed.url, 300)]
    if feed.kind == "star_search":
        lines.append("Star search feed")
    if feed.disabled:
        lines.append(f"**Disabled** {_when(feed.disabled_at)}: {safe(feed.disabled_reason or 'too many failures', 200)}")
    lines.append(f"Last success: {_when(feed.last_success_at)}")
    if feed.last_error:
        lines.append(f"Last error {_when(feed.last_error_at, '')}: {safe(feed.last_error, 200)}")
    lines.append(f"Failures in a row: {feed.consecutive_failures}")
    lines.append("Next poll: " + ("none (run /feeds add with this URL to re-enable)" if feed.disabled else _when(feed.next_poll_at)))
    return "\n".join(lines)[:1024]


def describe_cycle(report: CycleReport) -> str:
    return (
        f"Polled {report.polled} feed{'s' if report.polled != 1 else ''}: {report.new_stories} new "
        f"stor{'ies' if report.new_stories != 1 else 'y'}, {report.not_modified} unchanged, {report.failed} failed."
    )


class FeedsCog(commands.GroupCog, group_name="feeds", group_description="The news feeds this server reads"):
    def __init__(self, bot: "FanBot") -> None:
        self.bot = bot

    async def cog_load(self) -> None:
        await self.bot.services.news.start()
        self.bot.scheduler.add(POLL_JOB, self._poll, every=POLL_EVERY)

    async def cog_unload(self) -> None:
        self.bot.scheduler.remove(POLL_JOB)
        await self.bot.services.news.close()

    async def _poll(self, now: datetime) -> None:
        await self.bot.services.news.poll_due(now)

    async def feed_autocomplete(self, interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        if interaction.guild_id is None:
            return []
        feeds = await self.bot.services.news.autocomplete(interaction.guild_id, current)
        return [app_commands.Choice(name=f.label[:100], value=f"id:{f.id}") for f in feeds]

    @app_commands.command(name="add", description="Read a news feed (RSS or Atom); its current items are not announced")
    @app_commands.describe(url="The feed's address (http or https)", name="A short name to show in /feeds list")
    @moderator_only()
    async def add(
        self, interaction: discord.Interaction, url: app_commands.Range[str, 1, 2000], name: app_commands.Range[str, 1, 100] | None = None
    ) -> None:
        news = self.bot.services.news
        news.check_url(url)  # refuse bad addresses at once, before the slow part
        await interaction.response.defer(ephemeral=True, thinking=True)
        added = await news.add_feed(guild_id(interaction), url, name=name, actor_id=interaction.user.id)
        if added.created:
            verb = "Added"
            tail = f"Its {added.items} current items were recorded and will not be announced; new ones will be."
        else:
            verb = "Re-enabled"
            tail = "Its failure count was reset." + (f" {added.new_stories} new stories found." if added.new_stories else "")
        await interaction.followup.send(
            f"{verb} the feed **{safe(added.feed.label, 200)}**. {tail}", ephemeral=True
        )

    @app_commands.command(name="remove", description="Stop reading a feed")
    @app_commands.describe(feed="One of the feeds in /feeds list")
    @app_commands.autocomplete(feed=feed_autocomplete)
    @moderator_only()
    async def remove(self, interaction: discord.Interaction, feed: str) -> None:
        gone = await self.bot.services.news.remove_feed(guild_id(interaction), feed)
        await interaction.response.send_message(f"Removed the feed **{safe(gone.label, 200)}**.", ephemeral=True)

    @app_commands.command(name="list", description="Every feed this server reads, with its health")
    @moderator_only()
    async def list_(self, interaction: discord.Interaction) -> None:
        feeds = await self.bot.services.news.list_feeds(guild_id(interaction))
        if not feeds:
            await interaction.response.send_message("This server reads no feeds yet. Add one with /feeds add.", ephemeral=True)
            return
        embed = discord.Embed(title=f"Feeds ({len(feeds)})")
        for feed in feeds[:25]:
            state = "⛔ " if feed.disabled else ("⚠️ " if feed.consecutive_failures else "")
            name, value = (state + safe(feed.label, 200))[:256], describe_feed(feed)
            # Measured before adding: one field can be ~1,100 characters, and Discord refuses an
            # embed over 6,000 in total (footer included).
            if len(embed) + len(name) + len(value) > LIST_EMBED_BUDGET:
                break
            embed.add_field(name=name, value=value, inline=False)
        shown = len(embed.fields)
        if shown < len(feeds):
            embed.set_footer(text=f"Showing {shown} of {len(feeds)} feeds; {len(feeds) - shown} not shown.")
        await interaction.response.send_message(embed=embed, ephemeral=True)

    @app_commands.command(name="refresh", description="Poll all of this server's feeds now")
    @moderator_only()
    async def refresh(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        report = await self.bot.services.news.refresh(guild_id(interaction))
        await interaction.followup.send(describe_cycle(report), ephemeral=True)

    @app_commands.command(name="add-star-search", description="Add news search feeds for a followed star")
    @app_commands.describe(star="One of the stars this server follows")
    @app_commands.autocomplete(star=followed_star_autocomplete)
    @moderator_only()
    async def add_star_search(self, interaction: discord.Interaction, star: str) -> None:
        services = self.bot.services
        gid = guild_id(interaction)
        found = await services.stars.resolve(gid, star)
        added = await services.news.add_star_search(gid, found)
        if added:
            text = f"Added {len(added)} search feed{'s' if len(added) != 1 else ''} for {safe(found.name)}."
        else:
            text = f"{safe(found.name)}'s search feeds are already there; see /feeds list."
        await interaction.response.send_message(text, ephemeral=True)


class NewsCog(commands.GroupCog, group_name="news", group_description="Recent news about the stars this server follows"):
    def __init__(self, bot: "FanBot") -> None:
        self.bot = bot

    @app_commands.command(name="latest", description="The most recent stories, newest first")
    @app_commands.describe(star="Only stories naming her", count="How many (1-10)")
    @app_commands.autocomplete(star=followed_star_autocomplete)
    async def latest(
        self, interaction: discord.Interaction, star: str | None = None, count: app_commands.Range[int, 1, 10] = 5
    ) -> None:
        services = self.bot.services
        gid = guild_id(interaction)
        found = await services.stars.resolve(gid, star) if star else None
        stories = await services.news.latest(gid, star=found, count=count)
        if not stories:
            about = f" about {safe(found.name)}" if found else ""
            await interaction.response.send_message(f"No stories{about} yet.", ephemeral=True)
            return
        lines = (
            story_line(story, reader_lang(interaction)) + (f" · {safe(', '.join(story.star_names), 200)}" if story.star_names else "")
            for story in stories
        )
        title = f"Latest news about {found.name}" if found else "Latest news"
        embed = discord.Embed(title=title[:256], description=whole_lines(lines, 4000))
        await interaction.response.send_message(embed=embed, allowed_mentions=discord.AllowedMentions.none())


async def setup(bot: "FanBot") -> None:
    await bot.add_cog(FeedsCog(bot))
    await bot.add_cog(NewsCog(bot))
