"""Feed sources in SQLite: adding, listing, what is due, and the outcome of each poll (batched per cycle)."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from .database import Database, Transaction
from .timefmt import to_db


@dataclass(slots=True)  # not frozen: a frozen __init__ costs 10x, and every due feed is built each cycle
class FeedSource:
    """A feed a server reads, with its health: last success, last error, failures, next poll."""

    id: int
    guild_id: int
    url: str
    name: str | None
    kind: str  # "manual" or "star_search"
    star_id: int | None
    etag: str | None
    last_modified: str | None
    next_poll_at: datetime
    last_polled_at: datetime | None
    last_success_at: datetime | None
    last_error: str | None
    last_error_at: datetime | None
    consecutive_failures: int
    disabled_at: datetime | None
    disabled_reason: str | None
    primed: bool
    added_at: datetime

    @property
    def label(self) -> str:
        return self.name or self.url

    @property
    def disabled(self) -> bool:
        return self.disabled_at is not None


@dataclass(frozen=True, slots=True)
class PollSuccess:
    """A feed answered: when, the next poll, and its validators."""

    feed_id: int
    polled_at: datetime
    next_poll_at: datetime
    etag: str | None
    last_modified: str | None


@dataclass(frozen=True, slots=True)
class PollFailure:
    """A feed failed: when, why, and when to try again."""

    feed_id: int
    polled_at: datetime
    next_poll_at: datetime
    error: str
    failures: int
    disabled: bool


# In FeedSource's field order, so a row unpacks straight into it.
_COLUMNS = (
    "id, guild_id, url, name, kind, star_id, etag, last_modified, next_poll_at, last_polled_at, last_success_at, "
    "last_error, last_error_at, consecutive_failures, disabled_at, disabled_reason, primed, added_at"
)
_SUCCESS_SQL = (
    "UPDATE feeds SET last_polled_at = ?, last_success_at = ?, next_poll_at = ?, etag = ?, "
    "last_modified = ?, consecutive_failures = 0, primed = 1 WHERE id = ?"
)
_FAILURE_SQL = (
    "UPDATE feeds SET last_polled_at = ?, next_poll_at = ?, last_error = ?, last_error_at = ?, "
    "consecutive_failures = ?, disabled_at = CASE WHEN ? THEN ? ELSE disabled_at END, "
    "disabled_reason = CASE WHEN ? THEN ? ELSE disabled_reason END WHERE id = ?"
)


def _success_row(s: PollSuccess, stamps: dict[datetime, str]) -> tuple:
    # A cycle shares one poll time: format it once, not once per feed.
    polled = stamps.get(s.polled_at) or stamps.setdefault(s.polled_at, to_db(s.polled_at))
    return (polled, polled, to_db(s.next_poll_at), s.etag, s.last_modified, s.feed_id)


def _failure_row(f: PollFailure) -> tuple:
    now = to_db(f.polled_at)
    return (now, to_db(f.next_poll_at), f.error[:300], now, f.failures, f.disabled, now, f.disabled, f.error[:300], f.feed_id)


class FeedRepository:
    """Feeds per server and their health (SQL)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def upsert(
        self,
        tx: Transaction,
        guild_id: int,
        url: str,
        *,
        name: str | None,
        default_name: str | None = None,
        kind: str,
        star_id: int | None,
        added_by: int | None,
        now: datetime,
        next_poll_at: datetime,
    ) -> tuple[int, bool]:
        """Add a feed, or re-enable the one with this URL (failures reset; renamed only if `name` is
        given); (id, created). `default_name` (the feed's own title) names a new feed given no name."""
        existing = await tx.fetchval("SELECT id FROM feeds WHERE guild_id = ? AND url = ?", (guild_id, url))
        if existing is not None:
            await tx.execute(
                "UPDATE feeds SET disabled_at = NULL, disabled_reason = NULL, consecutive_failures = 0, "
                "name = COALESCE(?, name) WHERE id = ?",
                (name, existing),
            )
            return int(existing), False
        feed_id = await tx.fetchval(
            "INSERT INTO feeds (guild_id, url, name, kind, star_id, next_poll_at, added_by, added_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (guild_id, url, name or default_name, kind, star_id, to_db(next_poll_at), added_by, to_db(now)),
        )
        return int(feed_id), True

    async def insert_if_absent(
        self, guild_id: int, url: str, *, name: str, kind: str, star_id: int | None, now: datetime, next_poll_at: datetime
    ) -> bool:
        """Star search feeds: added once, never re-enabled behind a moderator's back."""
        async with self._db.transaction() as tx:
            feed_id = await tx.fetchval(
                "INSERT INTO feeds (guild_id, url, name, kind, star_id, next_poll_at, added_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (guild_id, url) DO NOTHING RETURNING id",
                (guild_id, url, name, kind, star_id, to_db(next_poll_at), to_db(now)),
            )
        return feed_id is not None

    async def get(self, guild_id: int, feed_id: int) -> FeedSource | None:
        row = await self._db.fetchone(f"SELECT {_COLUMNS} FROM feeds WHERE guild_id = ? AND id = ?", (guild_id, feed_id))
        return _row(row) if row else None

    async def get_tx(self, tx: Transaction, feed_id: int) -> FeedSource | None:
        row = await tx.fetchone(f"SELECT {_COLUMNS} FROM feeds WHERE id = ?", (feed_id,))
        return _row(row) if row else None

    async def list(self, guild_id: int) -> list[FeedSource]:
        rows = await self._db.fetchall(f"SELECT {_COLUMNS} FROM feeds WHERE guild_id = ? ORDER BY id", (guild_id,))
        return [_row(r) for r in rows]

    async def due(self, now: datetime, limit: int | None = None) -> list[FeedSource]:
        rows = await self._db.fetchall(
            f"SELECT {_COLUMNS} FROM feeds WHERE disabled_at IS NULL AND next_poll_at <= ? ORDER BY next_poll_at LIMIT ?",
            (to_db(now), -1 if limit is None else limit),
        )
        return [_row(r) for r in rows]

    async def enabled_in(self, guild_id: int) -> list[FeedSource]:
        rows = await self._db.fetchall(
            f"SELECT {_COLUMNS} FROM feeds WHERE guild_id = ? AND disabled_at IS NULL ORDER BY id", (guild_id,)
        )
        return [_row(r) for r in rows]

    async def delete(self, guild_id: int, feed_id: int) -> bool:
        return bool(await self._db.execute("DELETE FROM feeds WHERE guild_id = ? AND id = ?", (guild_id, feed_id)))

    async def delete_star_search(self, guild_id: int, star_id: int) -> int:
        return await self._db.execute(
            "DELETE FROM feeds WHERE guild_id = ? AND star_id = ? AND kind = 'star_search'", (guild_id, star_id)
        )

    async def save_success(self, tx: Transaction, success: PollSuccess) -> None:
        await tx.execute(_SUCCESS_SQL, _success_row(success, {}))

    async def save_outcomes(self, successes: Sequence[PollSuccess], failures: Sequence[PollFailure]) -> None:
        """One transaction for a whole cycle's unchanged feeds and failures: nothing per feed."""
        if not successes and not failures:
            return
        async with self._db.transaction() as tx:
            await self.save_outcomes_tx(tx, successes, failures)

    @staticmethod
    async def save_outcomes_tx(tx: Transaction, successes: Sequence[PollSuccess], failures: Sequence[PollFailure]) -> None:
        if successes:
            stamps: dict[datetime, str] = {}
            await tx.executemany(_SUCCESS_SQL, [_success_row(s, stamps) for s in successes])
        if failures:
            await tx.executemany(_FAILURE_SQL, [_failure_row(f) for f in failures])

    @staticmethod
    async def primed_flags(tx: Transaction, feed_ids: Sequence[int]) -> dict[int, bool]:
        """{feed id: primed} for those of these feeds that still exist."""
        flags: dict[int, bool] = {}
        for start in range(0, len(feed_ids), 400):
            chunk = list(feed_ids[start : start + 400])
            rows = await tx.fetchall(f"SELECT id, primed FROM feeds WHERE id IN ({','.join('?' * len(chunk))})", chunk)
            flags.update((r[0], bool(r[1])) for r in rows)
        return flags

    async def health(self, guild_id: int) -> tuple[int, int, int, datetime | None]:
        """(feeds, failing, disabled, last poll) for /fanbot status."""
        row = await self._db.fetchone(
            "SELECT COUNT(*), SUM(consecutive_failures > 0 AND disabled_at IS NULL), "
            "SUM(disabled_at IS NOT NULL), MAX(last_polled_at) FROM feeds WHERE guild_id = ?",
            (guild_id,),
        )
        assert row is not None
        return int(row[0]), int(row[1] or 0), int(row[2] or 0), _time(row[3])


def _time(text: str | None) -> datetime | None:
    # Every due feed is read each cycle; fromisoformat is ~40x faster than timefmt's strptime, and
    # reads both forms timefmt writes (with and without a fraction, "Z" suffix) the same way.
    return datetime.fromisoformat(text) if text else None


def _row(row: sqlite3.Row) -> FeedSource:
    (id_, guild_id, url, name, kind, star_id, etag, last_modified, next_poll_at, last_polled_at, last_success_at,
     last_error, last_error_at, failures, disabled_at, disabled_reason, primed, added_at) = row
    return FeedSource(
        id_, guild_id, url, name, kind, star_id, etag, last_modified, _time(next_poll_at), _time(last_polled_at),  # type: ignore[arg-type]
        _time(last_success_at), last_error, _time(last_error_at), failures, _time(disabled_at), disabled_reason,
        bool(primed), _time(added_at),  # type: ignore[arg-type]
    )
