"""/media: the server's curated library, fans' submissions, and the moderators' queue."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.checks import moderator_only
from bot.domain.media import MediaItem
from bot.errors import UserError
from bot.services.media import Upload

from ._common import IdRef, followed_star_autocomplete, guild_id, reader_lang
from ._media_views import NO_PINGS, SubmissionButton, item_message, post_card, results_embed, title_text

if TYPE_CHECKING:
    from bot.client import FanBot

log = logging.getLogger(__name__)

CARD_JOB = "media-queue-cards"


def upload_of(file: discord.Attachment | None) -> Upload | None:
    if file is None:
        return None
    return Upload(url=file.url, filename=file.filename, size=file.size, content_type=file.content_type)


class MediaCog(commands.GroupCog, group_name="media", group_description="The server's curated media library"):
    """/media: the curated library and fans' submissions."""

    def __init__(self, bot: "FanBot") -> None:
        self.bot = bot

    async def cog_load(self) -> None:
        self.bot.scheduler.add(CARD_JOB, self.post_missing_cards, every=300)

    async def post_missing_cards(self, now: datetime) -> None:
        """A submission stored just before a crash still reaches the moderators."""
        # One server's missing mod-log, missing file or Discord error must not hold back the others.
        media = self.bot.services.media
        try:
            await media.keep_suggested_files()  # her posts' files, before their cards go up
        except Exception:
            log.exception("could not keep the files of suggested posts")
        for sub in await media.cardless():
            if not await media.claim_card(sub):
                continue  # another process on this shard is posting it
            try:
                await post_card(self.bot, sub)  # None: that server's mod-log is unset or paused; next time
            except Exception:
                log.exception("could not post the card for submission %s", sub.id)

    async def cog_unload(self) -> None:
        self.bot.scheduler.remove(CARD_JOB)
        media = self.bot.services.media if self.bot.services else None
        if media is not None:
            await media.aclose()

    async def item_autocomplete(self, interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        items = await self.bot.services.media.autocomplete(guild_id(interaction), current)
        return [app_commands.Choice(name=f"#{i.id} {i.title}"[:100], value=f"id:{i.id}") for i in items]

    @app_commands.command(name="add", description="Add a link or a file to the library")
    @app_commands.describe(
        title="What it shows, e.g. 'Hye-kyo plays with a kitten'", url="An http(s) link (or attach a file instead)",
        file="A picture or video to keep (instead of a link)", star="Who is in it", tags="Comma-separated tags",
        spoiler="Hide it as a spoiler", credit="Who made or first shared it",
    )
    @app_commands.autocomplete(star=followed_star_autocomplete)
    @moderator_only()
    async def add(self, interaction: discord.Interaction, title: app_commands.Range[str, 1, 300],
                  url: app_commands.Range[str, 1, 4000] | None = None, file: discord.Attachment | None = None,
                  star: IdRef | None = None, tags: str | None = None, spoiler: bool = False,
                  credit: app_commands.Range[str, 1, 300] | None = None) -> None:
        if file is not None:  # downloading can take longer than Discord's 3 s
            await interaction.response.defer(ephemeral=True, thinking=True)
        item = await self.bot.services.media.add(
            guild_id(interaction), interaction.user.id, title=title, url=url, upload=upload_of(file), star=star,
            tags=tags, spoiler=spoiler, credit=credit)
        text = reader_lang(interaction)._("Added #{id} “{title}” to the library.", id=item.id,
                                          title=title_text(item, 100))
        if interaction.response.is_done():
            await interaction.followup.send(text, ephemeral=True, allowed_mentions=NO_PINGS)
        else:
            await interaction.response.send_message(text, ephemeral=True, allowed_mentions=NO_PINGS)

    @app_commands.command(name="remove", description="Remove an item from the library")
    @app_commands.describe(item="Its number or title")
    @app_commands.autocomplete(item=item_autocomplete)
    @moderator_only()
    async def remove(self, interaction: discord.Interaction, item: IdRef) -> None:
        gone = await self.bot.services.media.remove(guild_id(interaction), item)
        text = reader_lang(interaction)._("Removed #{id} “{title}”.", id=gone.id, title=title_text(gone, 100))
        await interaction.response.send_message(text, ephemeral=True, allowed_mentions=NO_PINGS)

    @app_commands.command(name="show", description="Share one item from the library")
    @app_commands.describe(item="Its number or title")
    @app_commands.autocomplete(item=item_autocomplete)
    async def show(self, interaction: discord.Interaction, item: IdRef) -> None:
        found = await self.bot.services.media.resolve(guild_id(interaction), item)
        await self._share(interaction, found)

    @app_commands.command(name="random", description="A random item, optionally of one star or tag")
    @app_commands.describe(star="Only items of this star", tag="Only items with this tag")
    @app_commands.autocomplete(star=followed_star_autocomplete)
    async def random(self, interaction: discord.Interaction, star: IdRef | None = None, tag: str | None = None) -> None:
        found = await self.bot.services.media.random(guild_id(interaction), star=star, tag=tag)
        await self._share(interaction, found)

    @app_commands.command(name="search", description="Find items by title, tag or star (Hangul works too)")
    @app_commands.describe(query="Words from the title, a tag or a star's name")
    async def search(self, interaction: discord.Interaction, query: app_commands.Range[str, 1, 100]) -> None:
        items = await self.bot.services.media.search(guild_id(interaction), query)
        lang = reader_lang(interaction)
        if not items:
            await interaction.response.send_message(
                lang._("Nothing in the library matches that. Try a star's name or a tag."), ephemeral=True)
            return
        await interaction.response.send_message(embed=results_embed(items, query, lang), ephemeral=True,
                                                allowed_mentions=NO_PINGS)

    async def _share(self, interaction: discord.Interaction, item: MediaItem) -> None:
        kwargs = item_message(item, self.bot.services.media.root, reader_lang(interaction))
        if "file" in kwargs:
            await interaction.response.defer(thinking=True)  # re-uploading a stored file can be slow
            await interaction.followup.send(**kwargs)
        else:
            await interaction.response.send_message(**kwargs)

    @app_commands.command(name="submit", description="Suggest a link or file for the library; moderators review it")
    @app_commands.describe(title="What it shows", url="An http(s) link (or attach a file instead)",
                           file="A picture or video", star="Who is in it", tags="Comma-separated tags")
    @app_commands.autocomplete(star=followed_star_autocomplete)
    async def submit(self, interaction: discord.Interaction, title: app_commands.Range[str, 1, 300],
                     url: app_commands.Range[str, 1, 4000] | None = None, file: discord.Attachment | None = None,
                     star: IdRef | None = None, tags: str | None = None) -> None:
        gid = guild_id(interaction)
        if await self.bot.poster.channel_for(gid, "modlog") is None:
            raise UserError("media.submissions_closed")
        await interaction.response.defer(ephemeral=True, thinking=True)
        media = self.bot.services.media
        sub = await media.submit(gid, interaction.user.id, title=title, url=url, upload=upload_of(file), star=star,
                                 tags=tags)
        message = await post_card(self.bot, sub)
        if message is None:
            await media.withdraw(sub)
            raise UserError("media.modlog_unreachable")
        await interaction.followup.send(
            reader_lang(interaction)._("Thanks! Submission #{id} “{title}” is waiting for a moderator. You will be "
                                       "mentioned in the media channel when it is decided.", id=sub.id,
                                       title=title_text(sub, 100)), ephemeral=True, allowed_mentions=NO_PINGS)


async def setup(bot: "FanBot") -> None:
    bot.add_dynamic_items(SubmissionButton)
    await bot.add_cog(MediaCog(bot))
