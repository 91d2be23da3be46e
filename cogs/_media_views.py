"""How media items, submission cards and daily posts look in Discord, and the persistent Approve/Reject buttons."""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import discord

from bot.checks import require_moderator
from bot.domain.discord_text import neutralise, truncate
from bot.domain.media import MediaItem, Submission
from bot.errors import UserError
from bot.replies import report_error

from ._common import fanbot

if TYPE_CHECKING:
    from bot.client import FanBot
    from bot.services.daily import DailyPost

log = logging.getLogger(__name__)

COLOUR = discord.Colour.from_rgb(233, 150, 180)
NO_PINGS = discord.AllowedMentions.none()


def title_text(item: MediaItem | Submission, limit: int = 256) -> str:
    text = truncate(neutralise(item.title), limit)
    return f"||{text}||" if item.spoiler else text


def _details(item: MediaItem, *, with_id: bool = True) -> str:
    parts = [f"#{item.id}"] if with_id else []
    if item.star_name:
        parts.append(neutralise(item.star_name))
    if item.tags:
        parts.append(" ".join(f"`#{t.replace('`', '')}`" for t in item.tags))
    if item.credit:
        parts.append(f"credit: {truncate(neutralise(item.credit), 200)}")
    return " · ".join(parts)


def item_message(item: MediaItem, media_root: Path, *, heading: str = "") -> dict[str, Any]:
    """send() kwargs that show one item: an embed with the picture, a link Discord unfurls into a
    player (videos), or the stored file re-uploaded. Spoilers stay hidden until clicked."""
    title = title_text(item, 200)
    lead = f"{heading}\n" if heading else ""
    kwargs: dict[str, Any] = {"allowed_mentions": NO_PINGS}
    if item.file_name:
        path = media_root / item.file_name
        if not path.is_file():
            raise UserError(f"The stored file of #{item.id} is missing from fanbot's media folder; "
                            "a moderator can remove the item and add the file again.")
        filename = f"{item.id}{path.suffix}"
        kwargs["file"] = discord.File(path, filename=filename, spoiler=item.spoiler)
        if item.kind == "image" and not item.spoiler:
            embed = discord.Embed(title=truncate(neutralise(item.title), 256), description=_details(item), colour=COLOUR)
            embed.set_image(url=f"attachment://{filename}")
            kwargs.update(content=lead or None, embed=embed)
        else:  # videos play from the attachment; an embed cannot hide a spoiler picture
            kwargs["content"] = f"{lead}**{title}**\n{_details(item)}"
        return kwargs
    assert item.url is not None
    if item.spoiler or item.kind == "video":
        # In the content Discord unfurls the link itself (a player for videos) and blurs it in a spoiler.
        link = f"||{item.url}||" if item.spoiler else item.url
        kwargs["content"] = f"{lead}**{title}**\n{_details(item)}\n{link}"
        return kwargs
    embed = discord.Embed(title=truncate(neutralise(item.title), 256), url=item.url, description=_details(item),
                          colour=COLOUR)
    if item.kind == "image":
        embed.set_image(url=item.url)
    kwargs.update(content=lead or None, embed=embed)
    return kwargs


def results_embed(items: list[MediaItem], query: str) -> discord.Embed:
    lines = []
    for i in items:
        extra = _details(i, with_id=False)
        lines.append(f"**#{i.id}** {title_text(i, 100)}{' · ' + extra if extra else ''}")
    embed = discord.Embed(title=truncate(f"Media matching “{query}”", 256),
                          description="\n".join(lines)[:4000], colour=COLOUR)
    embed.set_footer(text="Show one with /media show item")
    return embed


def card_embed(sub: Submission, *, star_name: str | None = None, outcome: str | None = None) -> discord.Embed:
    embed = discord.Embed(title=truncate(f"Submission #{sub.id}: {neutralise(sub.title)}", 256), colour=COLOUR)
    embed.add_field(name="From", value=f"<@{sub.submitter_id}>")
    if sub.url:
        embed.add_field(name="Link", value=sub.url[:1024], inline=False)
    else:
        embed.add_field(name="File", value=f"{sub.file_type} (attached below)")
    if star_name:
        embed.add_field(name="Star", value=neutralise(star_name)[:1024])
    if sub.tags:
        embed.add_field(name="Tags", value=", ".join(sub.tags)[:1024])
    if outcome:
        embed.add_field(name="Decision", value=outcome[:1024], inline=False)
    return embed


def card_view(sub: Submission) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(SubmissionButton("approve", sub.id))
    view.add_item(SubmissionButton("reject", sub.id))
    return view


async def post_card(bot: "FanBot", sub: Submission) -> discord.Message | None:
    """The moderators' card for a submission in the mod-log, with the stored file attached; records where it is."""
    media = bot.services.media
    star = await bot.services.stars.get(sub.guild_id, sub.star_id) if sub.star_id else None
    card: dict[str, Any] = {"embed": card_embed(sub, star_name=star.name if star else None), "view": card_view(sub)}
    if sub.file_name:
        path = media.path_of(sub.file_name)
        card["file"] = discord.File(path, filename=f"submission-{sub.id}{path.suffix}")
    message = await bot.poster.send(sub.guild_id, "modlog", **card)
    if message is not None:
        await media.set_card(sub, message.channel.id, message.id)
    return message


def birthday_message(post: "DailyPost") -> dict[str, Any]:
    star = post.star
    assert star is not None
    name = neutralise(star.name) + (f" ({star.hangul})" if star.hangul else "")
    text = f"🎂 Happy birthday, **{name}**! She turns {post.age} today."
    mentions = NO_PINGS
    if star.notify_role_id:
        # Fans opted in to pings for her; only that role may be pinged.
        text += f" <@&{star.notify_role_id}>"
        mentions = discord.AllowedMentions(everyone=False, users=False, roles=[discord.Object(star.notify_role_id)])
    return {"content": text, "allowed_mentions": mentions}


class SubmissionButton(discord.ui.DynamicItem[discord.ui.Button], template=r"media:(?P<action>approve|reject):(?P<id>\d{1,18})"):
    """Approve / Reject on a submission card; the submission id lives in the custom id, so the
    buttons keep working after a restart without any stored view."""

    def __init__(self, action: str, submission_id: int) -> None:
        style = discord.ButtonStyle.success if action == "approve" else discord.ButtonStyle.danger
        super().__init__(discord.ui.Button(label=action.capitalize(), style=style,
                                           custom_id=f"media:{action}:{submission_id}"))
        self.action = action
        self.submission_id = submission_id

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Button,
                             match: re.Match[str], /) -> "SubmissionButton":
        return cls(match["action"], int(match["id"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        try:
            await require_moderator(interaction)
            await decide(interaction, self.action, self.submission_id)
        except Exception as error:  # every failure becomes the presser's ephemeral answer (and a log line)
            await report_error(interaction, error)


async def decide(interaction: discord.Interaction, action: str, submission_id: int) -> None:
    bot = fanbot(interaction)
    media = bot.services.media
    assert interaction.guild_id is not None
    gid, mod = interaction.guild_id, interaction.user.id
    item: MediaItem | None = None
    if action == "approve":
        sub, item = await media.approve(gid, submission_id, mod)
        outcome = f"Approved by <@{mod}>: now #{item.id} in the library."
    else:
        sub = await media.reject(gid, submission_id, mod)
        outcome = f"Rejected by <@{mod}>."
    star = await bot.services.stars.get(gid, sub.star_id) if sub.star_id else None
    await interaction.response.edit_message(embed=card_embed(sub, star_name=star.name if star else None,
                                                             outcome=outcome), view=None, allowed_mentions=NO_PINGS)
    told = await tell_submitter(interaction, sub, item)
    if not told:
        await interaction.followup.send("The submitter could not be told: set a media channel with /config channel.",
                                        ephemeral=True)


async def tell_submitter(interaction: discord.Interaction, sub: Submission, item: MediaItem | None) -> bool:
    """Mention the submitter in the media channel, pinging only them. Their ephemeral receipt's
    token expires after 15 minutes and the bot cannot DM without the members intent, so a channel
    post is the one way that works however long moderation takes."""
    bot = fanbot(interaction)
    who = f"<@{sub.submitter_id}>"
    mentions = discord.AllowedMentions(everyone=False, roles=False, users=[discord.Object(sub.submitter_id)])
    if item is not None:
        kwargs = item_message(item, bot.services.media.root,
                              heading=f"{who} thank you! Your submission is now in the library:")
        kwargs["allowed_mentions"] = mentions
    else:
        kwargs = {"content": f"{who} thank you for your submission “{title_text(sub, 100)}”; the moderators "
                             "did not add it to the library this time.", "allowed_mentions": mentions}
    message = await bot.poster.send(sub.guild_id, "media", **kwargs)
    return message is not None
