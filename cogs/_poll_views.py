"""Poll messages: rendering, the persistent vote buttons/select (DynamicItem) and coalesced live-count edits."""

from __future__ import annotations

import asyncio
import functools
import logging
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import discord

from bot.domain.discord_text import neutralise, truncate
from bot.domain.polls import MAX_BUTTONS, CollabPoll, Tally, bar, pairing_label
from bot.i18n import Lang, display_width, pad
from bot.i18n.choose import reader_lang, server_lang
from bot.replies import report_error
from bot.services.polls import LeaderboardEntry, Results
from bot.storage.polls import BAD_OPTION, CLOSED, FULL, OK, SAME, UNKNOWN, VoteOutcome

if TYPE_CHECKING:
    from bot.client import FanBot

log = logging.getLogger(__name__)

BUTTON_TEMPLATE = r"fanbot:poll:(?P<poll>\d{1,19}):(?P<option>\d{1,2})"
SELECT_TEMPLATE = r"fanbot:poll:(?P<poll>\d{1,19}):pick"
_BUTTON_ID = re.compile(BUTTON_TEMPLATE)
_NUMBERING = re.compile(r"^\d+\.\s*")
POLL_COLOUR = discord.Colour(0xE8A0BF)
MAX_DESCRIPTION = 4096
MAX_EMBED = 6000  # Discord's limit on all of an embed's text together
EMBED_MARGIN = 50


def ts(moment: Any, style: str = "R") -> str:
    return f"<t:{int(moment.timestamp())}:{style}>"


@functools.lru_cache(maxsize=4096)
def option_text(label: str, limit: int = 200) -> str:
    # Cached: every vote reply shows the same few labels, and neutralising them was a visible part of
    # fanbot's own CPU per click under a burst.
    return truncate(neutralise(label), limit)


async def in_language(bot: "FanBot", poll: CollabPoll, counts: Tally | None,
                      lang: Lang) -> tuple[CollabPoll, Tally | None]:
    """The poll and counts with each option named as `lang` names stars: 송혜교 × 한소희 in Korean.

    Stored labels carry the display names, so English needs no lookup; a star no longer followed (or
    without a Hangul name) keeps the stored label."""
    if not lang.korean:
        return poll, counts
    hangul = await hangul_names(bot, poll.guild_id)
    labels = {o.position: pairing_label(hangul[o.pairing.star_low], hangul[o.pairing.star_high])
              for o in poll.options if o.pairing.star_low in hangul and o.pairing.star_high in hangul}
    if not labels:
        return poll, counts
    poll = replace(poll, options=tuple(replace(o, label=labels.get(o.position, o.label)) for o in poll.options))
    if counts is not None:
        counts = replace(counts, options=tuple(replace(r, label=labels.get(r.position, r.label))
                                               for r in counts.options))
    return poll, counts


async def hangul_names(bot: "FanBot", guild_id: int) -> dict[int, str]:
    return {s.id: s.hangul for s in await bot.services.stars.list(guild_id) if s.hangul}


async def leaderboard_in_language(bot: "FanBot", guild_id: int, rows: list[LeaderboardEntry],
                                  lang: Lang) -> list[LeaderboardEntry]:
    """Leaderboard rows named in Hangul for a Korean reader (stored display names otherwise)."""
    if not lang.korean:
        return rows
    hangul = await hangul_names(bot, guild_id)
    return [replace(row, label=pairing_label(hangul[row.pairing.star_low], hangul[row.pairing.star_high]))
            if row.pairing and row.pairing.star_low in hangul and row.pairing.star_high in hangul else row
            for row in rows]


def votes_text(lang: Lang, n: int) -> str:
    return lang.n_("{n} vote", "{n} votes", n)


def share_line(lang: Lang, votes: int, share: float, percent: int) -> str:
    """`██████░░░░  60%` 3 votes: bar and percentage in one code span, so they line up in any language."""
    return f"`{bar(share)} {percent:>3}%` {votes_text(lang, votes)}"


def winner_sentence(result: Tally, lang: Lang, names: list[str] | None = None) -> str:
    """"Winner: X (12 votes, 60%)", "Tie between X and Y (7 votes each)", or "No votes were cast."."""
    winners = result.winners
    if not winners:
        return lang._("No votes were cast.")
    shown = list(names) if names is not None else [w.label for w in winners]
    if len(winners) == 1:
        return lang._("Winner: {option} ({votes}, {percent}%)", option=shown[0],
                      votes=votes_text(lang, winners[0].votes), percent=winners[0].percent)
    return lang.n_("Tie between {options} ({n} vote each)", "Tie between {options} ({n} votes each)",
                   winners[0].votes, options=lang._("{first} and {last}", first=", ".join(shown[:-1]),
                                                    last=shown[-1]))


def outcome_text(counts: Tally, lang: Lang) -> str:
    """The winner, or the tie, with option names made inert."""
    return truncate(winner_sentence(counts, lang, [option_text(w.label, 150) for w in counts.winners]), 1024)


# -- rendering -------------------------------------------------------------------------------
def _fit_options(render: Callable[[int], list[str]], budget: int) -> str:
    """Every option's line, shortening labels (never dropping an option) until all fit `budget`."""
    for limit in (200, 120, 80, 60, 40, 24):
        text = "\n".join(render(limit))
        if len(text) <= budget:
            return text
    return truncate(text, budget)  # only with absurd budgets; 25 lines of 24-char labels fit in ~1,700


def _describe(embed: discord.Embed, question: str, render: Callable[[int], list[str]]) -> discord.Embed:
    """Question then option lines as the description: up to 4,096 characters and whatever the rest of the
    embed leaves of Discord's 6,000 in total, so no option is ever cut off (a 1,024 field held ~15)."""
    head = truncate(neutralise(question), 600) + "\n\n"
    budget = min(MAX_DESCRIPTION, MAX_EMBED - EMBED_MARGIN - len(embed)) - len(head)
    embed.description = head + _fit_options(render, budget)
    return embed


def pick_text(lang: Lang, max_choices: int) -> str:
    return lang.n_("Pick up to {n}", "Pick up to {n}", max_choices) if max_choices > 1 else lang._("Pick one")


def poll_embed(poll: CollabPoll, counts: Tally | None, lang: Lang, *, closed: bool = False) -> discord.Embed:
    """The poll message (in the server's language): question, options (with bars when counts are given)."""
    embed = discord.Embed(title=lang._("Dream collab poll #{id}", id=poll.id), colour=POLL_COLOUR)

    def render(limit: int) -> list[str]:
        lines = []
        for option in poll.options:
            line = f"**{option.position + 1}.** {option_text(option.label, limit)}"
            if counts is not None:
                result = counts.options[option.position]
                line += "\n" + share_line(lang, result.votes, result.share, result.percent)
            lines.append(line)
        return lines

    if closed and counts is not None:
        embed.add_field(name=lang._("Result"), value=outcome_text(counts, lang), inline=False)
    when = poll.closed_at if closed and poll.closed_at else poll.closes_at
    embed.add_field(name=lang._("Closed") if closed else lang._("Closes"), value=f"{ts(when)} ({ts(when, 'f')})")
    notes = [pick_text(lang, poll.max_choices)]
    if not closed:
        notes.append(lang._("you can change your vote until it closes"))
    if poll.anonymous:
        notes.append(lang._("anonymous: nobody sees who voted for what"))
    if poll.hide_results and not closed:
        notes.append(lang._("results hidden until it closes"))
    elif counts is not None:
        notes.append(lang.n_("{n} fan voted", "{n} fans voted", counts.voters))
    embed.set_footer(text=" · ".join(notes))
    return _describe(embed, poll.question, render)


def leaderboard_text(rows: list[LeaderboardEntry], lang: Lang) -> str:
    """One line a pairing: rank and counts in a code span padded by display width (Hangul counts twice),
    so the columns line up in Korean as in English; the pairing's name follows."""
    cells = [[f"{rank}.", lang.n_("{n} win", "{n} wins", row.wins), votes_text(lang, row.votes),
              lang.n_("{n} proposal", "{n} proposals", row.proposals)] for rank, row in enumerate(rows, start=1)]
    widths = [max(display_width(line[i]) for line in cells) for i in range(4)]
    lines = []
    for line, row in zip(cells, rows, strict=True):
        rank = pad(line[0], widths[0], right=True)
        counts = " · ".join(pad(cell, width, right=True) for cell, width in zip(line[1:], widths[1:], strict=True))
        lines.append(f"`{rank} {counts}` {option_text(row.label, 150)}")
    return "\n".join(lines)[:4000]


def poll_view(poll: CollabPoll, lang: Lang) -> discord.ui.View:
    """Buttons for up to 5 options, a select menu beyond; custom ids carry the poll id so they survive restarts."""
    # Only DynamicItems: discord.py then keeps no per-message copy of the view, which would answer
    # every click a second time (an extra task and item refresh per click) and live as long as the bot.
    view = discord.ui.View(timeout=None)
    if len(poll.options) <= MAX_BUTTONS:
        for option in poll.options:
            label = truncate(f"{option.position + 1}. {option.label}", 80)
            view.add_item(PollButton(poll.id, option.position, label))
    else:
        choices = [discord.SelectOption(label=truncate(f"{o.position + 1}. {o.label}", 100), value=str(o.position))
                   for o in poll.options]
        select = PollSelect(poll.id, choices)
        select.item.max_values = poll.max_choices
        select.item.placeholder = pick_text(lang, poll.max_choices)
        view.add_item(select)
    return view


def results_embed(results: Results, lang: Lang, *, final: bool = True) -> discord.Embed:
    """Final results (or the counts so far), ranked, in `lang`."""
    poll, counts = results.poll, results.tally
    title = (lang._("Results: poll #{id}", id=poll.id) if final else lang._("Counts so far: poll #{id}", id=poll.id))
    embed = discord.Embed(title=truncate(title, 256), colour=POLL_COLOUR)
    ranked = sorted(counts.options, key=lambda r: (-r.votes, r.position))

    def render(limit: int) -> list[str]:
        return [f"**{option_text(result.label, limit)}**\n" + share_line(lang, result.votes, result.share,
                                                                           result.percent)
                for result in ranked]

    embed.add_field(name=lang._("Winner") if not counts.is_tie else lang._("Tie"),
                    value=outcome_text(counts, lang), inline=False)
    if results.voters is not None and not poll.anonymous:
        who = []
        for option in poll.options:
            ids = results.voters.get(option.position, [])
            if ids:
                shown = " ".join(f"<@{i}>" for i in ids[:10]) + (f" +{len(ids) - 10}" if len(ids) > 10 else "")
                who.append(f"{option.position + 1}. {shown}")
        if who:
            embed.add_field(name=lang._("Who voted"), value=truncate("\n".join(who), 1024), inline=False)
    state = lang._("poll open") if poll.closed_at is None else lang._("poll closed")
    embed.set_footer(text=lang.n_("{n} fan voted", "{n} fans voted", counts.voters) + " · " + state)
    return _describe(embed, poll.question, render)


# -- voting ----------------------------------------------------------------------------------
def _labels_on_message(item: discord.ui.Item[Any]) -> Mapping[int, str]:
    """Option labels as shown on the message, so a vote needs no extra database read to confirm."""
    shown: list[tuple[str, str]] = []  # (option position as text, label with its number)
    for child in item.view.children if item.view is not None else []:
        child = child.item if isinstance(child, discord.ui.DynamicItem) else child
        custom_id = getattr(child, "custom_id", "") or ""
        if isinstance(child, discord.ui.Button) and (m := _BUTTON_ID.fullmatch(custom_id)):
            shown.append((m.group("option"), child.label or ""))
        elif isinstance(child, discord.ui.Select):
            shown += [(choice.value, choice.label) for choice in child.options if choice.value.isdigit()]
    return _labels(tuple(shown))


@functools.lru_cache(maxsize=1024)
def _labels(shown: tuple[tuple[str, str], ...]) -> Mapping[int, str]:  # one read-only copy per poll, not per click
    return MappingProxyType({int(position): _NUMBERING.sub("", label) for position, label in shown})


def vote_reply(outcome: VoteOutcome, labels: Mapping[int, str], lang: Lang, *, menu: bool = False) -> str:
    def label(choice: int) -> str:
        return labels.get(choice) or lang._("option {number}", number=choice + 1)

    def names(choices: frozenset[int]) -> str:
        return ", ".join(f"**{option_text(label(c), 100)}**" for c in sorted(choices)) or lang._("nothing")

    if outcome.status == UNKNOWN:
        return lang._("This poll no longer exists (it may have been removed). Vote on a current poll instead.")
    if outcome.status == CLOSED:
        return lang._("This poll is closed, so votes are no longer counted. See the outcome with /poll results.")
    if outcome.status == BAD_OPTION:
        return lang._("That option is not on this poll any more; pick one of the options shown.")
    if outcome.status == FULL:
        return lang.n_("You can pick up to {n}: you chose {choices}. Press one of your choices again to remove it "
                       "first.", "You can pick up to {n}: you chose {choices}. Press one of your choices again to "
                       "remove it first.", outcome.max_choices, choices=names(outcome.choices))
    if outcome.status == SAME:
        return lang._("You already voted for {choices}. Press another option to change your vote.",
                      choices=names(outcome.choices))
    if not outcome.choices:
        return lang._("Your vote was removed. Press an option to vote again.")
    if outcome.max_choices == 1:
        return lang._("Your vote for {choices} is counted. You can change it until the poll closes.",
                      choices=names(outcome.choices))
    change = lang._("Pick again in the menu to change them.") if menu else lang._("Press a choice again to remove it.")
    return lang._("Your choices ({count} of up to {limit}): {choices}. {change}", count=len(outcome.choices),
                  limit=outcome.max_choices, choices=names(outcome.choices), change=change)


async def _record_vote(interaction: discord.Interaction, item: discord.ui.Item[Any], poll_id: int,
                       option: int | None, picked: list[str] | None) -> None:
    bot: FanBot = interaction.client  # type: ignore[assignment]
    try:
        labels, lang = _labels_on_message(item), reader_lang(interaction)
        # The reply needs only the interaction's id and token: drop Discord's copy of the poll message
        # (embed, components and their JSON), which otherwise lives as long as the vote waits for its
        # batch and the reply for Discord. Under a burst it was the largest part of a click in flight.
        interaction.message = None
        if interaction.guild_id is None:
            outcome = VoteOutcome(UNKNOWN)
        elif picked is None:
            assert option is not None
            outcome = await bot.services.polls.press(interaction.guild_id, poll_id, interaction.user.id, option)
        else:
            values = [int(v) for v in picked if v.isdigit()]
            outcome = await bot.services.polls.choose(interaction.guild_id, poll_id, interaction.user.id, values)
        if outcome.status == OK and interaction.guild_id is not None:
            # The vote is stored: the poll message must show it even if the reply below fails.
            cog = bot.get_cog("PollsCog")
            if cog is not None:
                cog.live.touch(interaction.guild_id, poll_id)  # type: ignore[attr-defined]
        reply = vote_reply(outcome, labels, lang, menu=picked is not None)
        await interaction.response.send_message(reply, ephemeral=True, allowed_mentions=discord.AllowedMentions.none())
    except Exception as error:  # DynamicItem callbacks are otherwise logged and dropped by discord.py
        await report_error(interaction, error)


class PollButton(discord.ui.DynamicItem[discord.ui.Button], template=BUTTON_TEMPLATE):
    def __init__(self, poll_id: int, option: int, label: str = "vote") -> None:
        super().__init__(discord.ui.Button(label=label, style=discord.ButtonStyle.primary,
                                           custom_id=f"fanbot:poll:{poll_id}:{option}"))
        self.poll_id = poll_id
        self.option = option

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Item[Any],
                             match: re.Match[str], /) -> "PollButton":
        return cls(int(match["poll"]), int(match["option"]), getattr(item, "label", None) or "vote")

    async def callback(self, interaction: discord.Interaction) -> None:
        await _record_vote(interaction, self, self.poll_id, self.option, None)


class PollSelect(discord.ui.DynamicItem[discord.ui.Select], template=SELECT_TEMPLATE):
    def __init__(self, poll_id: int, options: list[discord.SelectOption] | None = None) -> None:
        super().__init__(discord.ui.Select(custom_id=f"fanbot:poll:{poll_id}:pick", options=options or []))
        self.poll_id = poll_id

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Item[Any],
                             match: re.Match[str], /) -> "PollSelect":
        return cls(int(match["poll"]), list(getattr(item, "options", None) or []))

    async def callback(self, interaction: discord.Interaction) -> None:
        await _record_vote(interaction, self, self.poll_id, None, list(self.item.values))


# -- live counts -----------------------------------------------------------------------------
class LiveCounts:
    """Keeps poll messages' counts current without tripping Discord's rate limits: at most one edit
    per poll every `interval` seconds; the edit reads the counts when it runs, so the latest win, and
    a press during the wait schedules one more edit after it."""

    def __init__(self, bot: "FanBot", interval: float = 5.0) -> None:
        self._bot = bot
        self.interval = interval
        self._dirty: dict[int, bool] = {}
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self._last_edit: dict[int, float] = {}
        self.edits = 0

    def touch(self, guild_id: int, poll_id: int) -> None:
        self._dirty[poll_id] = True
        if poll_id not in self._tasks:
            self._tasks[poll_id] = asyncio.create_task(self._run(guild_id, poll_id), name=f"fanbot-poll-{poll_id}")

    def forget(self, poll_id: int) -> None:
        """Stop live edits of a poll (it closed; the close writes the final message)."""
        task = self._tasks.pop(poll_id, None)
        self._dirty.pop(poll_id, None)
        if task is not None and task is not asyncio.current_task():
            task.cancel()

    async def _run(self, guild_id: int, poll_id: int) -> None:
        try:
            while self._dirty.get(poll_id):
                wait = self._last_edit.get(poll_id, float("-inf")) + self.interval - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
                self._dirty[poll_id] = False
                await self._edit(guild_id, poll_id)
                self._last_edit[poll_id] = time.monotonic()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("could not update the counts of poll %s", poll_id)
        finally:
            if self._tasks.get(poll_id) is asyncio.current_task():
                self._tasks.pop(poll_id, None)
                self._dirty.pop(poll_id, None)

    async def _edit(self, guild_id: int, poll_id: int) -> None:
        service = self._bot.services.polls
        poll = await service.get(guild_id, poll_id)
        now = self._bot.clock.now()
        if not poll.is_open(now) or not poll.shows_counts(now) or poll.message_id is None or poll.channel_id is None:
            return
        lang = await server_lang(self._bot, guild_id)
        poll, counts = await in_language(self._bot, poll, await service.counts(poll), lang)
        message = self._bot.get_partial_messageable(poll.channel_id, guild_id=guild_id).get_partial_message(poll.message_id)
        try:
            await message.edit(embed=poll_embed(poll, counts, lang), allowed_mentions=discord.AllowedMentions.none())
            self.edits += 1
        except discord.NotFound:
            log.info("poll %s message is gone; not updating its counts", poll_id)

    async def aclose(self) -> None:
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._tasks.clear()
