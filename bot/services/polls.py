"""Dream-collaboration polls: proposals, creating, voting (batched writes), closing once, results, leaderboard."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime

from ..clock import Clock
from ..domain.polls import (
    MAX_OPTIONS,
    CollabPoll,
    LeaderboardRow,
    Pairing,
    Tally,
    check_max_choices,
    check_options,
    clean_project,
    clean_question,
    pairing_label,
    parse_duration,
    parse_pairings,
    rank_leaderboard,
    tally,
)
from ..domain.shards import ALL_SHARDS, ShardScope
from ..domain.stars import Star
from ..errors import Conflict, NotFound, UserError
from ..storage.database import Database
from ..storage.polls import PollRepository, VoteOutcome, VoteRequest
from .stars import StarService

log = logging.getLogger(__name__)

UNKNOWN_POLL = "poll.unknown"
# Under a burst a batch costs a fixed few trips to the database thread, each waiting a whole turn of a
# busy event loop: at 500 that capped the votes stored per second below what the bot could answer.
BATCH_LIMIT = 5000


@dataclass(frozen=True, slots=True)
class Proposal:
    """A fan's proposed pairing and how many fans proposed it."""

    pairing: Pairing
    label: str
    project: str | None
    proposals: int  # how many fans proposed this pairing, this one included


@dataclass(frozen=True, slots=True)
class Results:
    """A poll's counts and, unless it is anonymous, who voted for each option."""

    poll: CollabPoll
    tally: Tally
    voters: dict[int, list[int]] | None  # option position → voter ids; None for anonymous polls


@dataclass(frozen=True, slots=True)
class LeaderboardEntry:
    """One line of the most-wanted pairings: label, wins, votes and proposals."""

    label: str
    wins: int
    votes: int
    proposals: int
    pairing: Pairing | None = None  # so a reader's language can name the stars its own way


class _VoteQueue:
    """Write-behind for votes: presses that arrive while a transaction runs are applied together in
    the next one. Each voter is answered only after the transaction holding the vote committed."""

    def __init__(self, repo: PollRepository, clock: Clock) -> None:
        self._repo = repo
        self._clock = clock
        self._pending: list[tuple[VoteRequest, asyncio.Future[VoteOutcome]]] = []
        self._task: asyncio.Task[None] | None = None

    async def submit(self, request: VoteRequest) -> VoteOutcome:
        future: asyncio.Future[VoteOutcome] = asyncio.get_running_loop().create_future()
        self._pending.append((request, future))
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._drain(), name="fanbot-vote-writer")
        return await future

    async def _drain(self) -> None:
        while self._pending:
            batch, self._pending = self._pending[:BATCH_LIMIT], self._pending[BATCH_LIMIT:]
            try:
                outcomes = await self._repo.apply_votes([r for r, _ in batch], self._clock.now())
            except Exception as exc:  # the batch rolled back: every voter in it hears it failed
                log.exception("a batch of %d votes failed", len(batch))
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for (_, future), outcome in zip(batch, outcomes, strict=False):
                if not future.done():
                    future.set_result(outcome)

    async def aclose(self) -> None:
        if self._task is not None:
            await asyncio.shield(self._task)


class PollService:
    """Dream-collaboration proposals and polls: creating, voting, closing and results."""

    def __init__(self, repo: PollRepository, stars: StarService, clock: Clock, *,
                 shards: ShardScope = ALL_SHARDS) -> None:
        self._repo = repo
        self._shards = shards
        self._stars = stars
        self._clock = clock
        self._votes = _VoteQueue(repo, clock)

    # -- proposals ------------------------------------------------------------------------------
    async def propose(self, guild_id: int, proposer_id: int, star_a: str, star_b: str,
                      project: str | None = None) -> Proposal:
        first = await self._stars.resolve(guild_id, star_a)
        second = await self._stars.resolve(guild_id, star_b)
        pairing = Pairing.of(first.id, second.id)
        cleaned = clean_project(project)
        await self._repo.add_proposal(guild_id, pairing, proposer_id, cleaned, self._clock.now())
        count = await self._repo.proposal_count(guild_id, pairing)
        return Proposal(pairing, pairing_label(first.name, second.name), cleaned, count)

    async def top_proposals(self, guild_id: int, limit: int = MAX_OPTIONS) -> list[Proposal]:
        names = await self._names(guild_id)
        found = []
        for count in (await self._repo.proposal_counts(guild_id))[:limit]:
            found.append(Proposal(count.pairing, self._label(count.pairing, names), None, count.proposals))
        return found

    # -- polls ----------------------------------------------------------------------------------
    async def create(
        self,
        guild_id: int,
        creator_id: int,
        question: str,
        *,
        pairings: str | None = None,
        from_top_proposals: int | None = None,
        duration: str | None = None,
        max_choices: int = 1,
        anonymous: bool = False,
        hide_results: bool = False,
    ) -> CollabPoll:
        """Validate everything first, then store the poll in one transaction (nothing on refusal)."""
        text = clean_question(question)
        length = parse_duration(duration)
        if pairings and from_top_proposals:
            raise UserError("poll.options_twice")
        if pairings:
            options = [await self._option(guild_id, a, b) for a, b in parse_pairings(pairings)]
        elif from_top_proposals:
            if not 2 <= from_top_proposals <= MAX_OPTIONS:
                raise UserError("poll.top_out_of_range", limit=MAX_OPTIONS)
            top = await self.top_proposals(guild_id, from_top_proposals)
            if len(top) < 2:
                raise UserError("poll.too_few_proposals", n=len(top))
            options = [(p.label, p.pairing) for p in top]
        else:
            raise UserError("poll.no_options")
        check_options([p for _, p in options])
        check_max_choices(max_choices, len(options))
        now = self._clock.now()
        poll_id = await self._repo.create_poll(guild_id, text, creator_id, now, now + length, max_choices,
                                               anonymous, hide_results, options)
        return await self.get(guild_id, poll_id)

    async def _option(self, guild_id: int, name_a: str, name_b: str) -> tuple[str, Pairing]:
        first: Star = await self._stars.resolve(guild_id, name_a)
        second: Star = await self._stars.resolve(guild_id, name_b)
        return pairing_label(first.name, second.name), Pairing.of(first.id, second.id)

    async def attach_message(self, poll: CollabPoll, channel_id: int, message_id: int) -> None:
        await self._repo.attach_message(poll.id, channel_id, message_id)

    async def discard(self, poll: CollabPoll) -> None:
        """Forget a poll whose message could not be posted, so nothing half-made remains."""
        await self._repo.delete_poll(poll.id)

    async def get(self, guild_id: int, poll_id: int) -> CollabPoll:
        poll = await self._repo.get(guild_id, poll_id)
        if poll is None:
            raise NotFound(UNKNOWN_POLL)
        return poll

    async def resolve(self, guild_id: int, ref: str | int) -> CollabPoll:
        """A poll of this server from an autocomplete value or what was typed ("12", "#12")."""
        text = str(ref).strip().lstrip("#")
        if not text.isdigit() or len(text) > 18:
            raise NotFound(UNKNOWN_POLL)
        return await self.get(guild_id, int(text))

    async def autocomplete(self, guild_id: int, current: str) -> list[tuple[int, str, bool]]:
        polls = await self._repo.list_polls(guild_id, limit=100)
        needle = current.strip().lstrip("#").lower()
        if needle:
            polls = [p for p in polls if needle in str(p[0]) or needle in p[1].lower()]
        return polls[:25]

    # -- votes ----------------------------------------------------------------------------------
    async def press(self, guild_id: int, poll_id: int, voter_id: int, option: int) -> VoteOutcome:
        return await self._votes.submit(VoteRequest(guild_id, poll_id, voter_id, option=option))

    async def choose(self, guild_id: int, poll_id: int, voter_id: int, options: list[int]) -> VoteOutcome:
        return await self._votes.submit(VoteRequest(guild_id, poll_id, voter_id, choices=frozenset(options)))

    async def counts(self, poll: CollabPoll) -> Tally:
        return tally(poll.labels, *await self._repo.counts_and_voters(poll.id))

    # -- closing and results --------------------------------------------------------------------
    async def close(self, guild_id: int, ref: str, closed_by: int) -> CollabPoll:
        poll = await self.resolve(guild_id, ref)
        if not await self._repo.close(poll.id, self._clock.now(), closed_by):
            raise Conflict("poll.already_closed")
        return await self.get(guild_id, poll.id)

    async def close_due(self, now: datetime) -> list[CollabPoll]:
        """Close every poll whose time has come (also those that came due while the bot was down)."""
        closed = []
        for guild_id, poll_id in await self._repo.due(now, self._shards):
            if await self._repo.close(poll_id, now, None):
                closed.append(await self.get(guild_id, poll_id))
        return closed

    async def unannounced(self) -> list[CollabPoll]:
        return [await self.get(g, p) for g, p in await self._repo.unannounced(self._shards)]

    async def claim_announcement(self, poll: CollabPoll) -> bool:
        return await self._repo.claim_announcement(poll.id, self._clock.now())

    async def release_announcement(self, poll: CollabPoll) -> None:
        await self._repo.release_announcement(poll.id)

    async def results(self, guild_id: int, ref: str) -> Results:
        poll = await self.resolve(guild_id, ref)
        if not poll.shows_counts(self._clock.now()):
            raise UserError("poll.results_hidden")
        return await self.results_of(poll)

    async def results_of(self, poll: CollabPoll) -> Results:
        voters = None if poll.anonymous else await self._repo.voters_by_option(poll.id)
        return Results(poll, await self.counts(poll), voters)

    async def leaderboard(self, guild_id: int, limit: int = 10) -> list[LeaderboardEntry]:
        rows: dict[Pairing, list[int]] = {}  # pairing → [wins, votes, proposals]
        for _, options in await self._repo.closed_poll_counts(guild_id):
            top = max(n for _, n in options)
            for pairing, n in options:
                entry = rows.setdefault(pairing, [0, 0, 0])
                entry[1] += n
                if top > 0 and n == top:  # ties count as a win for each tied pairing
                    entry[0] += 1
        for count in await self._repo.proposal_counts(guild_id):
            rows.setdefault(count.pairing, [0, 0, 0])[2] = count.proposals
        ranked = rank_leaderboard((LeaderboardRow(p, *v) for p, v in rows.items()), limit)
        names = await self._names(guild_id)
        return [LeaderboardEntry(self._label(r.pairing, names), r.wins, r.votes, r.proposals, r.pairing) for r in ranked]

    async def count_open(self, guild_id: int) -> int:
        return await self._repo.count_open(guild_id)

    async def aclose(self) -> None:
        """Let votes in flight reach the database before it closes."""
        await self._votes.aclose()

    # -- helpers --------------------------------------------------------------------------------
    async def _names(self, guild_id: int) -> dict[int, str]:
        return {s.id: s.name for s in await self._stars.list(guild_id)}

    @staticmethod
    def _label(pairing: Pairing, names: dict[int, str]) -> str:
        return pairing_label(names.get(pairing.star_low, "(unfollowed)"), names.get(pairing.star_high, "(unfollowed)"))


def build_poll_service(db: Database, stars: StarService, clock: Clock, *,
                       shards: ShardScope = ALL_SHARDS) -> PollService:
    return PollService(PollRepository(db), stars, clock, shards=shards)
