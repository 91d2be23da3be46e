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
from bot.i18n import Lang
from bot.i18n.choose import reader_lang, server_lang
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


def _details(item: MediaItem, lang: Lang, *, with_id: bool = True) -> str:
    parts = [f"#{item.id}"] if with_id else []
    if item.star_name:
        parts.append(neutralise(item.star_name))
    if item.tags:
        parts.append(" ".join(f"`#{t.replace('`', '')}`" for t in item.tags))
    if item.credit:
        parts.append(lang._("credit: {credit}", credit=truncate(neutralise(item.credit), 200)))
    if item.post_link and item.file_name:
        parts.append(f"<{item.post_link}>")  # her post, beside the kept file; <> keeps Discord from unfurling it twice
    return " · ".join(parts)


def item_message(item: MediaItem, media_root: Path, lang: Lang, *, heading: str = "") -> dict[str, Any]:
    """send() kwargs that show one item: an embed with the picture, a link Discord unfurls into a
    player (videos), or the stored file re-uploaded. Spoilers stay hidden until clicked."""
    title = title_text(item, 200)
    lead = f"{heading}\n" if heading else ""
    kwargs: dict[str, Any] = {"allowed_mentions": NO_PINGS}
    if item.file_name:
        path = media_root / item.file_name
        if not path.is_file():
            raise UserError("media.file_missing", id=item.id)
        filename = f"{item.id}{path.suffix}"
        kwargs["file"] = discord.File(path, filename=filename, spoiler=item.spoiler)
        if item.kind == "image" and not item.spoiler:
            embed = discord.Embed(title=truncate(neutralise(item.title), 256), description=_details(item, lang), colour=COLOUR)
            embed.set_image(url=f"attachment://{filename}")
            kwargs.update(content=lead or None, embed=embed)
        else:  # videos play from the attachment; an embed cannot hide a spoiler picture
            kwargs["content"] = f"{lead}**{title}**\n{_details(item, lang)}"
        return kwargs
    assert item.url is not None
    if item.spoiler or item.kind == "video":
        # In the content Discord unfurls the link itself (a player for videos) and blurs it in a spoiler.
        link = f"||{item.url}||" if item.spoiler else item.url
        kwargs["content"] = f"{lead}**{title}**\n{_details(item, lang)}\n{link}"
        return kwargs
    embed = discord.Embed(title=truncate(neutralise(item.title), 256), url=item.url, description=_details(item, lang),
                          colour=COLOUR)
    if item.kind == "image":
        embed.set_image(url=item.url)
    kwargs.update(content=lead or None, embed=embed)
    return kwargs


def results_embed(items: list[MediaItem], query: str, lang: Lang) -> discord.Embed:
    lines = []
    for i in items:
        extra = _details(i, lang, with_id=False)
        lines.append(f"**#{i.id}** {title_text(i, 100)}{' · ' + extra if extra else ''}")
    embed = discord.Embed(title=truncate(lang._("Media matching “{query}”", query=query), 256),
                          description="\n".join(lines)[:4000], colour=COLOUR)
    embed.set_footer(text=lang._("Show one with /media show item"))
    return embed


def card_embed(sub: Submission, lang: Lang, *, star_name: str | None = None,
               outcome: str | None = None) -> discord.Embed:
    """The moderators' card (an automatic post: the server's language)."""
    title = lang._("Submission #{id}: {title}", id=sub.id, title=neutralise(sub.title))
    embed = discord.Embed(title=truncate(title, 256), colour=COLOUR)
    if sub.from_post:
        # Her own post, suggested from her account's feed: no fan to name, and the account is the credit.
        embed.add_field(name=lang._("From"), value=lang._("her post on {account}",
                                                         account=neutralise(sub.credit or "")[:200]))
        embed.add_field(name=lang._("Post"), value=(sub.post_link or "")[:1024], inline=False)
    else:
        embed.add_field(name=lang._("From"), value=f"<@{sub.submitter_id}>")
    if sub.url and not sub.from_post:  # a suggestion's link is its post, shown above
        embed.add_field(name=lang._("Link"), value=sub.url[:1024], inline=False)
    elif not sub.url:
        embed.add_field(name=lang._("File"), value=lang._("{type} (attached below)", type=sub.file_type))
    if star_name:
        embed.add_field(name=lang._("Star"), value=neutralise(star_name)[:1024])
    if sub.tags:
        embed.add_field(name=lang._("Tags"), value=", ".join(sub.tags)[:1024])
    if outcome:
        embed.add_field(name=lang._("Decision"), value=outcome[:1024], inline=False)
    return embed


def card_view(sub: Submission, lang: Lang) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(SubmissionButton("approve", sub.id, lang._("Approve")))
    view.add_item(SubmissionButton("reject", sub.id, lang._("Reject")))
    return view


async def _star_name(bot: "FanBot", sub: Submission, lang: Lang) -> str | None:
    star = await bot.services.stars.get(sub.guild_id, sub.star_id) if sub.star_id else None
    return lang.star(star) if star else None


async def post_card(bot: "FanBot", sub: Submission) -> discord.Message | None:
    """The moderators' card for a submission in the mod-log, with the stored file attached; records where it is."""
    media = bot.services.media
    lang = await server_lang(bot, sub.guild_id)
    card: dict[str, Any] = {"embed": card_embed(sub, lang, star_name=await _star_name(bot, sub, lang)),
                            "view": card_view(sub, lang)}
    if sub.file_name:
        path = media.path_of(sub.file_name)
        card["file"] = discord.File(path, filename=f"submission-{sub.id}{path.suffix}")
    message = await bot.poster.send(sub.guild_id, "modlog", **card)
    if message is not None:
        await media.set_card(sub, message.channel.id, message.id)
    return message


def birthday_message(post: "DailyPost", lang: Lang) -> dict[str, Any]:
    star = post.star
    assert star is not None
    first = lang.star(star)
    other = star.name if first != star.name else star.hangul
    name = neutralise(first) + (f" ({neutralise(other)})" if other else "")
    text = "🎂 " + lang._("Happy birthday, **{star}**! She turns {age} today.", star=name, age=post.age)
    mentions = NO_PINGS
    if star.notify_role_id:
        # Fans opted in to pings for her; only that role may be pinged.
        text += f" <@&{star.notify_role_id}>"
        mentions = discord.AllowedMentions(everyone=False, users=False, roles=[discord.Object(star.notify_role_id)])
    return {"content": text, "allowed_mentions": mentions}


class SubmissionButton(discord.ui.DynamicItem[discord.ui.Button], template=r"media:(?P<action>approve|reject):(?P<id>\d{1,18})"):
    """Approve / Reject on a submission card; the submission id lives in the custom id, so the
    buttons keep working after a restart without any stored view."""

    def __init__(self, action: str, submission_id: int, label: str | None = None) -> None:
        style = discord.ButtonStyle.success if action == "approve" else discord.ButtonStyle.danger
        super().__init__(discord.ui.Button(label=label or action.capitalize(), style=style,
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
    # The card belongs to the mod-log: it stays in the server's language whoever presses the button.
    lang = await server_lang(bot, gid)
    who = f"<@{mod}>"
    if action == "approve":
        sub, item = await media.approve(gid, submission_id, mod)
        outcome = lang._("Approved by {moderator}: now #{id} in the library.", moderator=who, id=item.id)
    else:
        sub = await media.reject(gid, submission_id, mod)
        outcome = lang._("Rejected by {moderator}.", moderator=who)
    embed = card_embed(sub, lang, star_name=await _star_name(bot, sub, lang), outcome=outcome)
    await interaction.response.edit_message(embed=embed, view=None, allowed_mentions=NO_PINGS)
    if sub.from_post:
        return  # no fan to tell: the library has it, or not
    told = await tell_submitter(interaction, sub, item, lang)
    if not told:
        await interaction.followup.send(
            reader_lang(interaction)._("The submitter could not be told: set a media channel with /config channel."),
            ephemeral=True)


async def tell_submitter(interaction: discord.Interaction, sub: Submission, item: MediaItem | None,
                         lang: Lang) -> bool:
    """Mention the submitter in the media channel, pinging only them. Their ephemeral receipt's
    token expires after 15 minutes and the bot cannot DM without the members intent, so a channel
    post is the one way that works however long moderation takes."""
    bot = fanbot(interaction)
    who = f"<@{sub.submitter_id}>"
    mentions = discord.AllowedMentions(everyone=False, roles=False, users=[discord.Object(sub.submitter_id)])
    if item is not None:
        heading = lang._("{member} thank you! Your submission is now in the library:", member=who)
        kwargs = item_message(item, bot.services.media.root, lang, heading=heading)
        kwargs["allowed_mentions"] = mentions
    else:
        text = lang._("{member} thank you for your submission “{title}”; the moderators did not add it to the "
                      "library this time.", member=who, title=title_text(sub, 100))
        kwargs = {"content": text, "allowed_mentions": mentions}
    message = await bot.poster.send(sub.guild_id, "media", **kwargs)
    return message is not None
