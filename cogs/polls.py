"""/collab and /poll: propose dream pairings, run button polls that survive restarts, post results."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, NamedTuple

import discord
from discord import app_commands
from discord.ext import commands

from bot.checks import moderator_only
from bot.domain.discord_text import neutralise, truncate
from bot.domain.polls import CollabPoll
from bot.i18n.choose import server_lang
from bot.services.polls import LeaderboardEntry

from ._common import followed_star_autocomplete, guild_id, reader_lang
from ._poll_views import (
    LiveCounts,
    PollButton,
    PollSelect,
    in_language,
    leaderboard_in_language,
    leaderboard_text,
    option_text,
    poll_embed,
    poll_view,
    results_embed,
)

if TYPE_CHECKING:
    from bot.client import FanBot

log = logging.getLogger(__name__)

CLOSE_JOB = "polls-close"
CLOSE_EVERY_S = 5.0


class Announced(NamedTuple):
    """What posting a closed poll's results did: `claimed` False when another path is posting them;
    `message` None when nothing was posted (no usable polls channel)."""

    claimed: bool
    message: discord.Message | None


class PollsCog(commands.Cog):
    """/collab and /poll: proposals, polls, closing and results."""

    collab = app_commands.Group(name="collab", description="Dream collaborations fans want to see",
                                guild_only=True)
    poll = app_commands.Group(name="poll", description="Polls on dream collaborations", guild_only=True)

    def __init__(self, bot: "FanBot") -> None:
        self.bot = bot
        self.live = LiveCounts(bot)

    async def cog_load(self) -> None:
        self.bot.scheduler.add(CLOSE_JOB, self.close_due, every=CLOSE_EVERY_S)

    async def cog_unload(self) -> None:
        self.bot.scheduler.remove(CLOSE_JOB)
        await self.live.aclose()
        await self.bot.services.polls.aclose()

    # -- /collab -----------------------------------------------------------------------------
    @collab.command(name="propose", description="Propose two followed stars you would love to see together")
    @app_commands.describe(star_a="A followed star", star_b="Another followed star",
                           project="What they would make together, e.g. thriller drama (80 characters)")
    @app_commands.autocomplete(star_a=followed_star_autocomplete, star_b=followed_star_autocomplete)
    async def propose(self, interaction: discord.Interaction, star_a: str, star_b: str,
                      project: str | None = None) -> None:
        proposal = await self.bot.services.polls.propose(guild_id(interaction), interaction.user.id, star_a, star_b,
                                                         project)
        lang = reader_lang(interaction)
        [named] = await leaderboard_in_language(  # the same naming as the leaderboard the fan will read
            self.bot, guild_id(interaction), [LeaderboardEntry(proposal.label, 0, 0, 0, proposal.pairing)], lang)
        pairing = f"**{option_text(named.label)}**"
        text = (lang._("Proposed {pairing} in a {project}.", pairing=pairing,
                       project=truncate(neutralise(proposal.project), 120)) if proposal.project
                else lang._("Proposed {pairing}.", pairing=pairing))
        text += " " + lang.n_("{n} fan has proposed this pairing.", "{n} fans have proposed this pairing.",
                              proposal.proposals)
        await interaction.response.send_message(text, allowed_mentions=discord.AllowedMentions.none())

    @collab.command(name="leaderboard", description="The most-wanted pairings: poll wins, votes and proposals")
    async def leaderboard(self, interaction: discord.Interaction) -> None:
        rows = await self.bot.services.polls.leaderboard(guild_id(interaction))
        lang = reader_lang(interaction)
        if not rows:
            await interaction.response.send_message(
                lang._("No pairings yet. Propose one with /collab propose; closed polls count here too."),
                ephemeral=True)
            return
        rows = await leaderboard_in_language(self.bot, guild_id(interaction), rows, lang)
        embed = discord.Embed(title=lang._("Most-wanted pairings"), description=leaderboard_text(rows, lang),
                              colour=discord.Colour(0xE8A0BF))
        embed.set_footer(text=lang._("Wins and votes from closed polls; a tie counts as a win for each tied pairing."))
        await interaction.response.send_message(embed=embed, allowed_mentions=discord.AllowedMentions.none())

    # -- /poll -------------------------------------------------------------------------------
    @poll.command(name="create", description="Start a dream-collaboration poll (2 to 25 pairings)")
    @app_commands.describe(
        question="What fans are asked (200 characters)",
        pairings="Options separated by ; like: Song Hye-kyo x Han So-hee; Song Hye-kyo x Kim Go-eun",
        from_top_proposals="Or: use this many of the most proposed pairings",
        duration="How long it runs: 30m, 6h, 3d (1 minute to 32 days; default 1d)",
        max_choices="How many options each fan may pick (default 1)",
        anonymous="Never show who voted for what",
        hide_results="Hide the counts until the poll closes",
    )
    @moderator_only()
    async def create(
        self,
        interaction: discord.Interaction,
        question: str,
        pairings: str | None = None,
        from_top_proposals: app_commands.Range[int, 2, 25] | None = None,
        duration: str | None = None,
        max_choices: app_commands.Range[int, 1, 25] = 1,
        anonymous: bool = False,
        hide_results: bool = False,
    ) -> None:
        service = self.bot.services.polls
        gid = guild_id(interaction)
        # Answer before any database or REST work: past Discord's 3 s the mod sees "did not respond",
        # retries, and gets a duplicate poll. Public only when the poll itself will be posted right here.
        has_channel = await self.bot.poster.channel_for(gid, "polls") is not None
        await interaction.response.defer(ephemeral=has_channel, thinking=True)
        try:
            poll = await service.create(gid, interaction.user.id, question, pairings=pairings,
                                        from_top_proposals=from_top_proposals, duration=duration,
                                        max_choices=max_choices, anonymous=anonymous, hide_results=hide_results)
        except Exception:
            if not has_channel:
                await drop_original(interaction)  # so the error that follows is shown to the mod alone
            raise
        counts = None if poll.hide_results else await service.counts(poll)
        lang, posts = reader_lang(interaction), await server_lang(self.bot, gid)
        shown, counts = await in_language(self.bot, poll, counts, posts)
        attached = False
        posted: discord.Message | None = None
        try:
            message = None
            if has_channel:
                message = await self.bot.poster.send(gid, "polls", embed=poll_embed(shown, counts, posts),
                                                     view=poll_view(shown, posts))
            if message is not None:
                posted = message
                await service.attach_message(poll, message.channel.id, message.id)
                attached = True
                await interaction.followup.send(
                    lang._("Poll #{id} is up in {channel}: {link}", id=poll.id, channel=message.channel.mention,
                           link=message.jump_url), ephemeral=True)
                return
            if has_channel:
                # Discord refused the polls channel just now (the mod-log says why): the first follow-up
                # fills the private "thinking" reply, so the poll goes in a second, public one.
                await interaction.followup.send(
                    lang._("The polls channel cannot be used right now (see the mod-log), so the poll is posted here."),
                    ephemeral=True)
            # No working polls channel: the poll goes where the command was run.
            sent = await interaction.followup.send(embed=poll_embed(shown, counts, posts), view=poll_view(shown, posts),
                                                   wait=True,
                                                   allowed_mentions=discord.AllowedMentions.none())
            posted = sent
            await service.attach_message(poll, sent.channel.id, sent.id)
            attached = True
        except BaseException:
            if not attached:
                if posted is not None:
                    await delete_quietly(posted)  # its buttons would point at a poll that no longer exists
                await service.discard(poll)  # a poll nobody can see must not linger (no votes can exist yet)
            raise

    @poll.command(name="close", description="Close a poll now and post its results")
    @app_commands.describe(poll="An open poll: its number or question")
    @moderator_only()
    async def close(self, interaction: discord.Interaction, poll: str) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        closed = await self.bot.services.polls.close(guild_id(interaction), poll, interaction.user.id)
        lang = reader_lang(interaction)
        try:
            announced = await self.finish(closed)
        except Exception:
            # The close is committed: saying "nothing was changed" would be wrong. The poll stays
            # unannounced, so the close job retries the edit and the results post.
            log.exception("poll %s closed by /poll close, but finishing it failed", closed.id)
            await interaction.followup.send(
                lang._("Poll #{id} is closed and takes no more votes, but its results could not be posted just now; "
                       "fanbot will retry shortly.", id=closed.id), ephemeral=True)
            return
        if announced.message is not None:
            text = lang._("Poll #{id} is closed; results are posted in {channel}.", id=closed.id,
                          channel=announced.message.channel.mention)
        elif not announced.claimed:
            text = lang._("Poll #{id} is closed; its results are already being posted by fanbot's timer.", id=closed.id)
        else:
            text = lang._("Poll #{id} is closed; the final counts are on the poll, but no results were posted "
                          "because no polls channel is set or it cannot be used (see /config channel).", id=closed.id)
        await interaction.followup.send(text, ephemeral=True)

    @poll.command(name="results", description="The current or final counts of a poll")
    @app_commands.describe(poll="A poll: its number or question")
    async def results(self, interaction: discord.Interaction, poll: str) -> None:
        found = await self.bot.services.polls.results(guild_id(interaction), poll)
        lang = reader_lang(interaction)
        shown, tally = await in_language(self.bot, found.poll, found.tally, lang)
        embed = results_embed(replace(found, poll=shown, tally=tally), lang, final=found.poll.closed_at is not None)
        await interaction.response.send_message(embed=embed, ephemeral=True,
                                                allowed_mentions=discord.AllowedMentions.none())

    @close.autocomplete("poll")
    @results.autocomplete("poll")
    async def poll_autocomplete(self, interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        if interaction.guild_id is None:
            return []
        found = await self.bot.services.polls.autocomplete(interaction.guild_id, current)
        lang = reader_lang(interaction)
        opened, closed = lang._("open"), lang._("closed")
        return [app_commands.Choice(name=truncate(f"#{pid} · {opened if is_open else closed} · {q}", 100),
                                    value=str(pid)) for pid, q, is_open in found]

    # -- closing -----------------------------------------------------------------------------
    async def close_due(self, now: datetime) -> None:
        """Scheduler job: close polls whose time came (also while the bot was down), then post any
        results still owed (a post that failed before is retried here)."""
        service = self.bot.services.polls
        tried: set[int] = set()
        # One poll's failure (a 5xx, the network) must not hold up the others, in any server: the
        # closes are committed, and a poll whose post failed stays unannounced for the next tick.
        for poll in await service.close_due(now):
            tried.add(poll.id)
            await self._finish_logged(poll)
        for poll in await service.unannounced():
            if poll.id not in tried:
                # finish, not just announce: the bot may have stopped between the close and the edit
                # of the poll message (editing it again is harmless).
                await self._finish_logged(poll)

    async def _finish_logged(self, poll: CollabPoll) -> None:
        try:
            await self.finish(poll)
        except Exception:
            log.exception("could not finish closed poll %s (guild %s); retrying on the next tick", poll.id,
                          poll.guild_id)

    async def finish(self, poll: CollabPoll) -> Announced:
        """After a close: final counts on the poll message (buttons removed), then the results post."""
        self.live.forget(poll.id)
        results = await self.bot.services.polls.results_of(poll)
        if poll.channel_id is not None and poll.message_id is not None:
            channel = self.bot.get_partial_messageable(poll.channel_id, guild_id=poll.guild_id)
            lang = await server_lang(self.bot, poll.guild_id)
            shown, tally = await in_language(self.bot, poll, results.tally, lang)
            try:
                await channel.get_partial_message(poll.message_id).edit(
                    embed=poll_embed(shown, tally, lang, closed=True), view=None,
                    allowed_mentions=discord.AllowedMentions.none())
            except discord.HTTPException as exc:
                log.warning("could not mark poll %s closed on its message: %s", poll.id, exc)
        return await self.announce(poll)

    async def announce(self, poll: CollabPoll) -> Announced:
        service = self.bot.services.polls
        if not await service.claim_announcement(poll):
            return Announced(claimed=False, message=None)  # another close path is posting them
        try:
            results = await service.results_of(poll)
            lang = await server_lang(self.bot, poll.guild_id)
            shown, tally = await in_language(self.bot, poll, results.tally, lang)
            results = replace(results, poll=shown, tally=tally)
            # The nonce (enforced by discord.py when given) makes a resend after a post that reached Discord
            # but raised here (a timeout, a 5xx after the write) return the first message, not a second one.
            message = await self.bot.poster.send(poll.guild_id, "polls", embed=results_embed(results, lang),
                                                 nonce=results_nonce(poll))
            return Announced(claimed=True, message=message)
        except Exception:
            await service.release_announcement(poll)  # try again on the next tick
            raise


def results_nonce(poll: CollabPoll) -> str:
    return f"poll{poll.id}"  # Discord allows 25 characters; a SQLite id has at most 19 digits


async def delete_quietly(message: discord.Message) -> None:
    try:
        await message.delete()
    except discord.HTTPException as exc:
        log.warning("could not delete the message of a poll that failed to start: %s", exc)


async def drop_original(interaction: discord.Interaction) -> None:
    """Remove a public "thinking" reply, best effort, so a later follow-up can be private."""
    try:
        await interaction.delete_original_response()
    except discord.HTTPException as exc:
        log.info("could not remove the thinking reply: %s", exc)


async def setup(bot: "FanBot") -> None:
    bot.add_dynamic_items(PollButton, PollSelect)
    await bot.add_cog(PollsCog(bot))
