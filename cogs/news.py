"""/feeds (which feeds a server reads, and their health) and /news latest; runs the feed poller."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING, Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.checks import moderator_only
from bot.error_text import error_text
from bot.i18n import Lang
from bot.services.ingest import CycleReport
from bot.services.news import POLL_EVERY, POLL_JOB
from bot.storage.feeds import FeedSource, StoredError

from ._common import IdRef, followed_star_autocomplete, guild_id, reader_lang, safe
from ._news_text import story_line, whole_lines
from ._social_text import platform_name

if TYPE_CHECKING:
    from bot.client import FanBot

log = logging.getLogger(__name__)
LIST_EMBED_BUDGET = 5800  # Discord's 6,000-character embed limit, less room for the footer


def _when(moment: datetime | None, empty: str) -> str:
    return f"<t:{int(moment.timestamp())}:R>" if moment else empty


def _stored_error(lang: Lang, why: StoredError | None, text: str) -> str:
    # A row written before errors had codes keeps its English text.
    return safe(error_text(lang, why.code, dict(why.data)) if why else text, 200)


def describe_feed(feed: FeedSource, lang: Lang) -> str:
    never = lang._("never")
    lines = [safe(feed.url, 300)]
    if feed.kind == "star_search":
        lines.append(lang._("Star search feed"))
    elif feed.kind == "social" and feed.platform:
        lines.append(lang._("Her own {platform} account", platform=platform_name(feed.platform, lang)))
    if feed.disabled:
        reason = (_stored_error(lang, feed.disabled_why, feed.disabled_reason) if feed.disabled_reason
                  else lang._("too many failures"))
        lines.append(lang._("**Disabled** {when}: {reason}", when=_when(feed.disabled_at, never), reason=reason))
    lines.append(lang._("Last success: {when}", when=_when(feed.last_success_at, never)))
    if feed.last_error:
        lines.append(lang._("Last error {when}: {error}", when=_when(feed.last_error_at, ""),
                            error=_stored_error(lang, feed.last_error_why, feed.last_error)))
    lines.append(lang._("Failures in a row: {n}", n=feed.consecutive_failures))
    following = (lang._("none (run /feeds add with this URL to re-enable)") if feed.disabled
                 else _when(feed.next_poll_at, never))
    lines.append(lang._("Next poll: {when}", when=following))
    lines.extend(describe_filter(feed, lang, empty=None))
    return "\n".join(lines)[:1024]


def describe_filter(feed: FeedSource, lang: Lang, *, empty: str | None) -> list[str]:
    """The filter's lines (`empty` when there is none, nothing if that is None)."""
    lines = []
    if feed.include:
        lines.append(lang._("Only stories with: {phrases}", phrases=safe(", ".join(feed.include), 400)))
    if feed.exclude:
        lines.append(lang._("Never stories with: {phrases}", phrases=safe(", ".join(feed.exclude), 400)))
    if not lines and empty is not None:
        lines.append(empty)
    return lines


def describe_cycle(report: CycleReport, lang: Lang) -> str:
    stories = lang.n_("{n} new story", "{n} new stories", report.new_stories)
    return lang.n_("Polled {n} feed: {stories}, {unchanged} unchanged, {failed} failed.",
                   "Polled {n} feeds: {stories}, {unchanged} unchanged, {failed} failed.", report.polled,
                   stories=stories, unchanged=report.not_modified, failed=report.failed)


class FeedsCog(commands.GroupCog, group_name="feeds", group_description="The news feeds this server reads"):
    """/feeds: the news feeds a server reads, and the feed poller."""

    def __init__(self, bot: "FanBot") -> None:
        self.bot = bot

    async def cog_load(self) -> None:
        await self.bot.services.news.start()
        if self.bot.roles.feeds:  # else a feeds process polls, and this one only delivers what it finds
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
        lang = reader_lang(interaction)
        label = safe(added.feed.label, 200)
        if added.created:
            text = lang.n_("Added the feed **{feed}**. Its {n} current item was recorded and will not be announced; "
                           "new ones will be.",
                           "Added the feed **{feed}**. Its {n} current items were recorded and will not be "
                           "announced; new ones will be.", added.items, feed=label)
        else:
            text = lang._("Re-enabled the feed **{feed}**. Its failure count was reset.", feed=label)
            if added.new_stories:
                text += " " + lang.n_("{n} new story found.", "{n} new stories found.", added.new_stories)
        await interaction.followup.send(text, ephemeral=True)

    @app_commands.command(name="remove", description="Stop reading a feed")
    @app_commands.describe(feed="One of the feeds in /feeds list")
    @app_commands.autocomplete(feed=feed_autocomplete)
    @moderator_only()
    async def remove(self, interaction: discord.Interaction, feed: IdRef) -> None:
        gone = await self.bot.services.news.remove_feed(guild_id(interaction), feed)
        text = reader_lang(interaction)._("Removed the feed **{feed}**.", feed=safe(gone.label, 200))
        await interaction.response.send_message(text, ephemeral=True)

    @app_commands.command(name="list", description="Every feed this server reads, with its health")
    @moderator_only()
    async def list_(self, interaction: discord.Interaction) -> None:
        feeds = await self.bot.services.news.list_feeds(guild_id(interaction))
        lang = reader_lang(interaction)
        if not feeds:
            await interaction.response.send_message(lang._("This server reads no feeds yet. Add one with /feeds add."),
                                                    ephemeral=True)
            return
        embed = discord.Embed(title=lang.n_("Feeds ({n})", "Feeds ({n})", len(feeds)))
        for feed in feeds[:25]:
            state = "⛔ " if feed.disabled else ("⚠️ " if feed.consecutive_failures else "")
            name, value = (state + safe(feed.label, 200))[:256], describe_feed(feed, lang)
            # Measured before adding: one field can be ~1,100 characters, and Discord refuses an
            # embed over 6,000 in total (footer included).
            if len(embed) + len(name) + len(value) > LIST_EMBED_BUDGET:
                break
            embed.add_field(name=name, value=value, inline=False)
        shown = len(embed.fields)
        if shown < len(feeds):
            embed.set_footer(text=lang.n_("Showing {shown} of {n} feed; {hidden} not shown.",
                                          "Showing {shown} of {n} feeds; {hidden} not shown.", len(feeds),
                                          shown=shown, hidden=len(feeds) - shown))
        await interaction.response.send_message(embed=embed, ephemeral=True)

    @app_commands.command(name="filter", description="Announce only stories with, or without, some words")
    @app_commands.describe(
        feed="One of the feeds in /feeds list",
        include="Comma-separated words or phrases; a story must contain one (leave empty for any story)",
        exclude="Comma-separated words or phrases that keep a story out (leave empty for none)",
    )
    @app_commands.autocomplete(feed=feed_autocomplete)
    @moderator_only()
    async def filter_(
        self, interaction: discord.Interaction, feed: IdRef,
        include: app_commands.Range[str, 1, 1000] | None = None, exclude: app_commands.Range[str, 1, 1000] | None = None,
    ) -> None:
        updated = await self.bot.services.news.set_filter(guild_id(interaction), feed, include, exclude)
        lang = reader_lang(interaction)
        lines = [lang._("Filter of **{feed}**:", feed=safe(updated.label, 200))]
        lines += describe_filter(updated, lang, empty=lang._("none: every story naming a followed star is announced."))
        if updated.story_filter.active:
            lines.append(lang._("Stories already seen are not looked at again; the filter applies to new ones."))
        await interaction.response.send_message("\n".join(lines), ephemeral=True)

    @app_commands.command(name="refresh", description="Poll all of this server's feeds now")
    @moderator_only()
    async def refresh(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        report = await self.bot.services.news.refresh(guild_id(interaction))
        await interaction.followup.send(describe_cycle(report, reader_lang(interaction)), ephemeral=True)

    @app_commands.command(name="add-star-search", description="Add news search feeds for a followed star")
    @app_commands.describe(star="One of the stars this server follows")
    @app_commands.autocomplete(star=followed_star_autocomplete)
    @moderator_only()
    async def add_star_search(self, interaction: discord.Interaction, star: IdRef) -> None:
        services = self.bot.services
        gid = guild_id(interaction)
        found = await services.stars.resolve(gid, star)
        added = await services.news.add_star_search(gid, found)
        lang = reader_lang(interaction)
        name = safe(lang.star(found))
        if added:
            text = lang.n_("Added {n} search feed for {star}.", "Added {n} search feeds for {star}.", len(added),
                           star=name)
        else:
            text = lang._("The search feeds for {star} are already there; see /feeds list.", star=name)
        await interaction.response.send_message(text, ephemeral=True)

    @app_commands.command(name="add-social", description="Follow one of a star's own accounts (her posts are announced as hers)")
    @app_commands.describe(star="One of the stars this server follows", platform="Where the account is",
                           handle="Her account's handle (YouTube: the channel id, UC...)")
    @app_commands.autocomplete(star=followed_star_autocomplete)
    @moderator_only()
    async def add_social(
        self, interaction: discord.Interaction, star: IdRef, platform: Literal["instagram", "youtube", "x", "weibo"],
        handle: app_commands.Range[str, 1, 100],
    ) -> None:
        services = self.bot.services
        found = await services.stars.resolve(guild_id(interaction), star)
        feed, created = await services.news.socials.add(found, platform, handle, actor_id=interaction.user.id)
        lang = reader_lang(interaction)
        values = {"star": safe(lang.star(found)), "platform": platform_name(platform, lang), "feed": safe(feed.label, 200)}
        if created:
            text = lang._("Following {star}'s {platform} account (**{feed}**). Her posts already there are not "
                          "announced; new ones will be.", **values)
        else:
            text = lang._("This server already reads **{feed}**; see /feeds list.", **values)
        await interaction.response.send_message(text, ephemeral=True)


class NewsCog(commands.GroupCog, group_name="news", group_description="Recent news about the stars this server follows"):
    """/news: recent stories."""

    def __init__(self, bot: "FanBot") -> None:
        self.bot = bot

    @app_commands.command(name="latest", description="The most recent stories, newest first")
    @app_commands.describe(star="Only stories naming her", count="How many (1-10)")
    @app_commands.autocomplete(star=followed_star_autocomplete)
    async def latest(
        self, interaction: discord.Interaction, star: IdRef | None = None, count: app_commands.Range[int, 1, 10] = 5
    ) -> None:
        services = self.bot.services
        gid = guild_id(interaction)
        found = await services.stars.resolve(gid, star) if star else None
        stories = await services.news.latest(gid, star=found, count=count)
        lang = reader_lang(interaction)
        if not stories:
            text = (lang._("No stories about {star} yet.", star=safe(lang.star(found))) if found
                    else lang._("No stories yet."))
            await interaction.response.send_message(text, ephemeral=True)
            return
        lines = (
            story_line(story, lang) + (f" · {safe(', '.join(lang.star(s) for s in story.stars), 200)}"
                                       if story.stars else "")
            for story in stories
        )
        title = lang._("Latest news about {star}", star=lang.star(found)) if found else lang._("Latest news")
        embed = discord.Embed(title=title[:256], description=whole_lines(lines, 4000))
        await interaction.response.send_message(embed=embed, allowed_mentions=discord.AllowedMentions.none())


async def setup(bot: "FanBot") -> None:
    await bot.add_cog(FeedsCog(bot))
    await bot.add_cog(NewsCog(bot))
