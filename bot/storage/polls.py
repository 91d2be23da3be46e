"""Proposals, polls, options and votes, always scoped to one server."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from ..domain.polls import CollabPoll, Pairing, PollOption, toggle_choice
from ..domain.shards import ALL_SHARDS, ShardScope
from ..errors import Conflict, UniqueViolation
from .database import Database, Row, Steps
from .dialect import Dialect
from .shards import owned
from .timefmt import from_db, to_db

# Voter ids per IN (...) list on SQLite (PostgreSQL takes them as one array): a whole vote batch (up to
# 5,000) in one query, well below the 32,766 parameters SQLite allows since 3.32 (fanbot needs 3.35
# for RETURNING).
IN_CHUNK = 5000

# Outcomes of one vote request.
OK, SAME, FULL, CLOSED, UNKNOWN, BAD_OPTION = "ok", "same", "full", "closed", "unknown", "bad_option"


@dataclass(frozen=True, slots=True)
class VoteRequest:
    """A button press (option set, choices None) or a select-menu pick (choices: the whole new set)."""

    guild_id: int
    poll_id: int
    voter_id: int
    option: int | None = None
    choices: frozenset[int] | None = None


@dataclass(frozen=True, slots=True)
class VoteOutcome:
    """What a vote did: its status, the voter's choices now, and the poll's limit."""

    status: str
    choices: frozenset[int] = field(default_factory=frozenset)
    action: str = ""
    max_choices: int = 1


@dataclass(frozen=True, slots=True)
class ProposalCount:
    """How many fans proposed a pairing, and when first."""

    pairing: Pairing
    proposals: int
    first_at: datetime


@dataclass(slots=True)
class _PollMeta:
    guild_id: int
    closes_at: str
    closed: bool
    max_choices: int
    option_count: int


class PollRepository:
    """Proposals, polls, options and votes (SQL)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    # -- proposals ------------------------------------------------------------------------------
    async def add_proposal(self, guild_id: int, pairing: Pairing, proposer_id: int, project: str | None,
                           now: datetime) -> int:
        try:
            return int(await self._db.execute_returning(
                "INSERT INTO collab_proposals (guild_id, star_low, star_high, proposer_id, project, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
                (guild_id, pairing.star_low, pairing.star_high, proposer_id, project, to_db(now)),
            ))
        except UniqueViolation:
            raise Conflict("proposal.repeated") from None

    async def proposal_count(self, guild_id: int, pairing: Pairing) -> int:
        return int(await self._db.fetchval(
            "SELECT COUNT(*) FROM collab_proposals WHERE guild_id = ? AND star_low = ? AND star_high = ?",
            (guild_id, pairing.star_low, pairing.star_high),
        ) or 0)

    async def proposal_counts(self, guild_id: int) -> list[ProposalCount]:
        """Pairings of stars the server still follows, most proposed first (then oldest first)."""
        rows = await self._db.fetchall(
            "SELECT p.star_low, p.star_high, COUNT(*) AS n, MIN(p.created_at) AS first_at "
            "FROM collab_proposals p "
            "JOIN stars a ON a.id = p.star_low AND a.followed = 1 "
            "JOIN stars b ON b.id = p.star_high AND b.followed = 1 "
            "WHERE p.guild_id = ? GROUP BY p.star_low, p.star_high ORDER BY n DESC, first_at, p.star_low, p.star_high",
            (guild_id,),
        )
        return [ProposalCount(Pairing(r["star_low"], r["star_high"]), r["n"], from_db(r["first_at"])) for r in rows]  # type: ignore[arg-type]

    # -- polls ----------------------------------------------------------------------------------
    async def create_poll(self, guild_id: int, question: str, created_by: int, now: datetime, closes_at: datetime,
                          max_choices: int, anonymous: bool, hide_results: bool,
                          options: Sequence[tuple[str, Pairing]]) -> int:
        async with self._db.transaction() as tx:
            poll_id = await tx.fetchval(
                "INSERT INTO polls (guild_id, question, created_by, created_at, closes_at, max_choices, anonymous,"
                " hide_results) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                (guild_id, question, created_by, to_db(now), to_db(closes_at), max_choices, int(anonymous),
                 int(hide_results)),
            )
            await tx.executemany(
                "INSERT INTO poll_options (poll_id, position, label, star_low, star_high) VALUES (?, ?, ?, ?, ?)",
                [(poll_id, i, label, p.star_low, p.star_high) for i, (label, p) in enumerate(options)],
            )
            return int(poll_id)

    async def attach_message(self, poll_id: int, channel_id: int, message_id: int) -> None:
        await self._db.execute("UPDATE polls SET channel_id = ?, message_id = ? WHERE id = ?",
                               (channel_id, message_id, poll_id))

    async def delete_poll(self, poll_id: int) -> None:
        """Undo a poll whose message could not be posted (no votes can exist yet)."""
        await self._db.execute("DELETE FROM polls WHERE id = ?", (poll_id,))

    async def get(self, guild_id: int, poll_id: int) -> CollabPoll | None:
        row = await self._db.fetchone("SELECT * FROM polls WHERE id = ? AND guild_id = ?", (poll_id, guild_id))
        if row is None:
            return None
        options = await self._db.fetchall(
            "SELECT position, label, star_low, star_high FROM poll_options WHERE poll_id = ? ORDER BY position",
            (poll_id,),
        )
        return _poll(row, options)

    async def list_polls(self, guild_id: int, limit: int = 25) -> list[tuple[int, str, bool]]:
        """(id, question, open) for autocomplete: open polls first, newest first."""
        rows = await self._db.fetchall(
            "SELECT id, question, closed_at IS NULL AS open FROM polls WHERE guild_id = ? "
            "ORDER BY open DESC, id DESC LIMIT ?",
            (guild_id, limit),
        )
        return [(r["id"], r["question"], bool(r["open"])) for r in rows]

    async def count_open(self, guild_id: int) -> int:
        return int(await self._db.fetchval(
            "SELECT COUNT(*) FROM polls WHERE guild_id = ? AND closed_at IS NULL", (guild_id,)) or 0)

    # -- votes ----------------------------------------------------------------------------------
    async def apply_votes(self, requests: Sequence[VoteRequest], now: datetime) -> list[VoteOutcome]:
        """Apply a batch of votes in one transaction, in order; each gets its own outcome.

        The batch costs a fixed handful of statements (read the polls and the voters' current
        choices, then one DELETE and one INSERT batch), however many votes it holds, and on SQLite one
        trip to the writer's thread: under a burst the database work per vote shrinks instead of
        queueing. The caller answers each voter only after this returns, i.e. after the commit."""
        return await self._db.run_steps(_vote_steps(self._db.dialect, requests, to_db(now)))

    async def counts(self, poll_id: int) -> dict[int, int]:
        rows = await self._db.fetchall(
            "SELECT position, COUNT(*) AS n FROM poll_votes WHERE poll_id = ? GROUP BY position", (poll_id,))
        return {r["position"]: r["n"] for r in rows}

    async def counts_and_voters(self, poll_id: int) -> tuple[dict[int, int], int]:
        """Votes per option and how many fans voted, read in one statement so both come from one
        snapshot: read apart, a vote landing between them showed a new fan without her vote."""
        rows = await self._db.fetchall(
            "SELECT position, COUNT(*) AS n, "
            " (SELECT COUNT(DISTINCT voter_id) FROM poll_votes WHERE poll_id = ?) AS voters "
            "FROM poll_votes WHERE poll_id = ? GROUP BY position", (poll_id, poll_id))
        return {r["position"]: r["n"] for r in rows}, (rows[0]["voters"] if rows else 0)

    async def voter_count(self, poll_id: int) -> int:
        return int(await self._db.fetchval(
            "SELECT COUNT(DISTINCT voter_id) FROM poll_votes WHERE poll_id = ?", (poll_id,)) or 0)

    async def voters_by_option(self, poll_id: int) -> dict[int, list[int]]:
        """Who chose what; callers must never use this for anonymous polls."""
        rows = await self._db.fetchall(
            "SELECT position, voter_id FROM poll_votes WHERE poll_id = ? ORDER BY voted_at, voter_id", (poll_id,))
        found: dict[int, list[int]] = {}
        for r in rows:
            found.setdefault(r["position"], []).append(r["voter_id"])
        return found

    async def choices_of(self, poll_id: int, voter_id: int) -> frozenset[int]:
        rows = await self._db.fetchall(
            "SELECT position FROM poll_votes WHERE poll_id = ? AND voter_id = ?", (poll_id, voter_id))
        return frozenset(r["position"] for r in rows)

    # -- closing --------------------------------------------------------------------------------
    async def close(self, poll_id: int, now: datetime, closed_by: int | None) -> bool:
        """Close a poll; True for exactly one caller however many race (timer and /poll close)."""
        async with self._db.transaction() as tx:
            row = await tx.fetchone(
                "UPDATE polls SET closed_at = ?, closed_by = ? WHERE id = ? AND closed_at IS NULL RETURNING id",
                (to_db(now), closed_by, poll_id),
            )
        return row is not None

    async def due(self, now: datetime, shards: ShardScope = ALL_SHARDS) -> list[tuple[int, int]]:
        """(guild_id, poll_id) of open polls whose closing time has come, across the servers of `shards`."""
        rows = await self._db.fetchall(
            f"SELECT guild_id, id FROM polls WHERE closed_at IS NULL AND closes_at <= ? AND {owned(shards)} "
            "ORDER BY closes_at",
            (to_db(now),),
        )
        return [(r["guild_id"], r["id"]) for r in rows]

    async def unannounced(self, shards: ShardScope = ALL_SHARDS) -> list[tuple[int, int]]:
        rows = await self._db.fetchall(
            "SELECT guild_id, id FROM polls WHERE closed_at IS NOT NULL AND announced_at IS NULL "
            f"AND {owned(shards)} ORDER BY closed_at")
        return [(r["guild_id"], r["id"]) for r in rows]

    async def claim_announcement(self, poll_id: int, now: datetime) -> bool:
        """True for exactly one caller: the one that posts the results."""
        async with self._db.transaction() as tx:
            row = await tx.fetchone(
                "UPDATE polls SET announced_at = ? WHERE id = ? AND closed_at IS NOT NULL AND announced_at IS NULL "
                "RETURNING id",
                (to_db(now), poll_id),
            )
        return row is not None

    async def release_announcement(self, poll_id: int) -> None:
        await self._db.execute("UPDATE polls SET announced_at = NULL WHERE id = ?", (poll_id,))

    # -- leaderboard ----------------------------------------------------------------------------
    async def closed_poll_counts(self, guild_id: int) -> list[tuple[int, list[tuple[Pairing, int]]]]:
        """For each closed poll of the server: its options' pairings with their vote counts."""
        rows = await self._db.fetchall(
            "SELECT o.poll_id, o.position, o.star_low, o.star_high, "
            " (SELECT COUNT(*) FROM poll_votes v WHERE v.poll_id = o.poll_id AND v.position = o.position) AS n "
            "FROM poll_options o JOIN polls p ON p.id = o.poll_id "
            "WHERE p.guild_id = ? AND p.closed_at IS NOT NULL ORDER BY o.poll_id, o.position",
            (guild_id,),
        )
        polls: dict[int, list[tuple[Pairing, int]]] = {}
        for r in rows:
            polls.setdefault(r["poll_id"], []).append((Pairing(r["star_low"], r["star_high"]), r["n"]))
        return list(polls.items())


def _vote_steps(dialect: Dialect, requests: Sequence[VoteRequest], stamp: str) -> Steps[list[VoteOutcome]]:
    metas, before = yield from _snapshot(dialect, requests)
    state = {key: set(choices) for key, choices in before.items()}
    outcomes = [_decide(metas.get(r.poll_id), r, stamp, state) for r in requests]
    deletes, inserts = [], []
    for (poll_id, voter_id), final in state.items():
        initial = before.get((poll_id, voter_id), frozenset())
        deletes += [(poll_id, voter_id, p) for p in initial - final]
        inserts += [(poll_id, voter_id, p, stamp) for p in sorted(final - initial)]
    if deletes:
        yield "DELETE FROM poll_votes WHERE poll_id = ? AND voter_id = ? AND position = ?", deletes, True
    if inserts:
        yield ("INSERT INTO poll_votes (poll_id, voter_id, position, voted_at) VALUES (?, ?, ?, ?) "
               "ON CONFLICT DO NOTHING", inserts, True)
    return outcomes


def _snapshot(dialect: Dialect, requests: Sequence[VoteRequest],
              ) -> Steps[tuple[dict[int, _PollMeta], dict[tuple[int, int], frozenset[int]]]]:
    """The batch's polls and each requesting voter's choices before it: on PostgreSQL in one query
    (each is a round trip), on SQLite in one per IN_CHUNK voters.

    Choices are read for every request, also those naming another server's poll: _decide refuses
    them without touching their state, so nothing of theirs is written or shown."""
    poll_ids = sorted({r.poll_id for r in requests})
    voter_ids = sorted({r.voter_id for r in requests})
    metas: dict[int, _PollMeta] = {}
    current: dict[tuple[int, int], set[int]] = {(r.poll_id, r.voter_id): set() for r in requests}
    read = ("SELECT p.id, p.guild_id, p.closes_at, p.closed_at IS NOT NULL AS closed, p.max_choices, "
            " (SELECT COUNT(*) FROM poll_options o WHERE o.poll_id = p.id) AS n, v.voter_id, v.position "
            "FROM polls p LEFT JOIN poll_votes v ON v.poll_id = p.id AND v.voter_id {voters} WHERE p.id {polls}")
    if dialect.is_postgres:
        # Arrays keep each statement's text the same whatever the batch holds, so asyncpg prepares it
        # once instead of once per batch size (a prepare is a round trip of its own).
        # Two batches voting in one poll at once would both read the same choices before either
        # writes, so the polls' rows are locked first, in a statement of their own: under READ
        # COMMITTED the read below then takes a snapshot after the other batch's commit (a FOR UPDATE
        # on the join itself would re-check the polls' rows but keep the votes it read before the
        # wait). SQLite's single writer already runs batches one by one.
        yield "SELECT id FROM polls WHERE id = ANY(?::bigint[]) ORDER BY id FOR UPDATE", (poll_ids,), False
        chunks = [(read.format(voters="= ANY(?::bigint[])", polls="= ANY(?::bigint[])"), (voter_ids, poll_ids))]
    else:
        polls_in = f"IN ({','.join('?' * len(poll_ids))})"
        chunks = [(read.format(voters=f"IN ({','.join('?' * len(chunk))})", polls=polls_in), (*chunk, *poll_ids))
                  for chunk in (voter_ids[i : i + IN_CHUNK] for i in range(0, len(voter_ids), IN_CHUNK))]
    for sql, params in chunks:
        rows = yield sql, params, False
        for row in rows:
            if row["id"] not in metas:
                metas[row["id"]] = _PollMeta(row["guild_id"], row["closes_at"], bool(row["closed"]), row["max_choices"],
                                             row["n"])
            choices = current.get((row["id"], row["voter_id"]))
            if choices is not None:  # None: no vote, or a voter of the chunk who pressed another poll
                choices.add(row["position"])
    return metas, {key: frozenset(value) for key, value in current.items()}


def _decide(meta: _PollMeta | None, req: VoteRequest, stamp: str, state: dict[tuple[int, int], set[int]]) -> VoteOutcome:
    """The outcome of one vote given the choices so far in this batch; updates `state` in place."""
    # A poll of another server is as unknown as one that never existed.
    if meta is None or meta.guild_id != req.guild_id:
        return VoteOutcome(UNKNOWN)
    if meta.closed or stamp >= meta.closes_at:
        return VoteOutcome(CLOSED, max_choices=meta.max_choices)
    wanted = {req.option} if req.choices is None else set(req.choices)
    if any(o is None or not 0 <= o < meta.option_count for o in wanted):
        return VoteOutcome(BAD_OPTION, max_choices=meta.max_choices)
    key = (req.poll_id, req.voter_id)
    current = frozenset(state[key])
    if req.choices is None:
        assert req.option is not None
        new, action = toggle_choice(current, req.option, meta.max_choices)
    elif len(req.choices) > meta.max_choices:
        return VoteOutcome(FULL, current, "full", meta.max_choices)
    else:
        new, action = frozenset(req.choices), ("same" if frozenset(req.choices) == current else "set")
    if action == "full":
        return VoteOutcome(FULL, current, action, meta.max_choices)
    if action == "same":
        return VoteOutcome(SAME, current, action, meta.max_choices)
    state[key] = set(new)
    return VoteOutcome(OK, new, action, meta.max_choices)


def _poll(row: Row, options: Sequence[Row]) -> CollabPoll:
    return CollabPoll(
        id=row["id"],
        guild_id=row["guild_id"],
        question=row["question"],
        created_by=row["created_by"],
        created_at=from_db(row["created_at"]),  # type: ignore[arg-type]
        closes_at=from_db(row["closes_at"]),  # type: ignore[arg-type]
        closed_at=from_db(row["closed_at"]),
        max_choices=row["max_choices"],
        anonymous=bool(row["anonymous"]),
        hide_results=bool(row["hide_results"]),
        channel_id=row["channel_id"],
        message_id=row["message_id"],
        options=tuple(PollOption(o["position"], o["label"], Pairing(o["star_low"], o["star_high"])) for o in options),
    )
