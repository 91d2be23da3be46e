"""Feed sources (one per URL) and servers' subscriptions to them: adding, listing, claiming what is due,
and the outcome of each fetch (batched per cycle)."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from ..domain.filters import StoryFilter, from_stored, stored
from .database import Database, Row, Transaction
from .timefmt import to_db


@dataclass(slots=True)  # not frozen: a frozen __init__ costs 10x, and every due feed is built each cycle
class FeedSource:
    """A server's subscription to a feed URL, with the shared source's fetch state (validators,
    schedule, failures) read alongside: one source per URL however many servers read it."""

    id: int
    guild_id: int
    url: str
    name: str | None
    kind: str  # "manual", "star_search" or "social" (one of the star's own accounts)
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
    source_id: int = 0
    include: tuple[str, ...] = ()  # the subscription's story filter (bot.domain.filters)
    exclude: tuple[str, ...] = ()
    # last_error and disabled_reason as codes for bot/error_text.py; None for a row stored as text only.
    last_error_why: StoredError | None = None
    disabled_why: StoredError | None = None
    platform: str | None = None  # social feeds: whose account it is (star_id), on which platform
    handle: str | None = None

    @property
    def social(self) -> bool:
        return self.kind == "social" and self.star_id is not None and self.platform is not None

    @property
    def label(self) -> str:
        return self.name or self.url

    @property
    def story_filter(self) -> StoryFilter:
        return StoryFilter(self.include, self.exclude)

    @property
    def disabled(self) -> bool:
        return self.disabled_at is not None


@dataclass(frozen=True, slots=True)
class StoredError:
    """Why a fetch failed as an error_text code and its data, so each reader sees it in their language."""

    code: str
    data: Mapping[str, object]


@dataclass(frozen=True, slots=True)
class PollSuccess:
    """A source answered: when, the next poll, and its validators."""

    source_id: int
    polled_at: datetime
    next_poll_at: datetime
    etag: str | None
    last_modified: str | None
    # The subscriptions that saw this fetch: each is primed (its first look recorded) from now on.
    subscriptions: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class PollFailure:
    """A source failed: when, why, and when to try again."""

    source_id: int
    polled_at: datetime
    next_poll_at: datetime
    error: str  # English, for logs and for readers of the column that know no codes
    failures: int
    disabled: bool  # every subscription of the source is disabled
    why: StoredError | None = None


# In FeedSource's field order, so a row unpacks straight into it.
_COLUMNS = (
    "f.id, f.guild_id, f.url, f.name, f.kind, f.star_id, s.etag, s.last_modified, s.next_poll_at, s.last_polled_at, "
    "s.last_success_at, s.last_error, s.last_error_at, s.consecutive_failures, f.disabled_at, f.disabled_reason, "
    "f.primed, f.added_at, f.source_id, f.include_words, f.exclude_words, f.platform, f.handle"
)
_FROM = " FROM feeds f JOIN feed_sources s ON s.id = f.source_id "
_SELECT = "SELECT " + _COLUMNS + _FROM
_SUCCESS_SQL = (
    "UPDATE feed_sources SET last_polled_at = ?, last_success_at = ?, next_poll_at = ?, etag = ?, "
    "last_modified = ?, consecutive_failures = 0, lease_until = NULL WHERE id = ?"
)
_PRIMED_SQL = "UPDATE feeds SET primed = 1 WHERE id = ? AND primed = 0"
_FAILURE_SQL = (
    "UPDATE feed_sources SET last_polled_at = ?, next_poll_at = ?, last_error = ?, last_error_at = ?, "
    "consecutive_failures = ?, lease_until = NULL WHERE id = ?"
)
_DISABLE_SQL = "UPDATE feeds SET disabled_at = ?, disabled_reason = ? WHERE source_id = ? AND disabled_at IS NULL"
# A process that claimed a source and died lets it go again after this long.
LEASE = timedelta(minutes=10)


def _success_row(s: PollSuccess, stamps: dict[datetime, str]) -> tuple:
    # A cycle shares one poll time: format it once, not once per feed.
    polled = stamps.get(s.polled_at) or stamps.setdefault(s.polled_at, to_db(s.polled_at))
    return (polled, polled, to_db(s.next_poll_at), s.etag, s.last_modified, s.source_id)


ERROR_LIMIT = 300


def _stored_error(f: PollFailure) -> str:
    """The error column's text: JSON with the code, data and English when there is a code (the column
    predates codes, and a new one would be a migration for one optional detail), else the English."""
    if f.why is None:
        return f.error[:ERROR_LIMIT]
    data = {k: v[:ERROR_LIMIT] if isinstance(v, str) else v for k, v in f.why.data.items()}
    return json.dumps({"code": f.why.code, "data": data, "text": f.error[:ERROR_LIMIT]}, ensure_ascii=False)


def _read_error(stored: str | None) -> tuple[str | None, StoredError | None]:
    """(English text, code) of an error column; rows written before codes are text, with no code."""
    if not stored or not stored.startswith('{"code"'):
        return stored, None
    try:
        found = json.loads(stored)
        return str(found["text"]), StoredError(str(found["code"]), dict(found["data"]))
    except (ValueError, KeyError, TypeError):
        return stored, None


def _failure_row(f: PollFailure) -> tuple:
    now = to_db(f.polled_at)
    return (now, to_db(f.next_poll_at), _stored_error(f), now, f.failures, f.source_id)


def _chunks(ids: Sequence[int], size: int = 400) -> Iterator[list[int]]:
    for start in range(0, len(ids), size):
        yield list(ids[start : start + size])


class FeedRepository:
    """Feeds per server and their health (SQL)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    @staticmethod
    async def _source(tx: Transaction, url: str, now: datetime, next_poll_at: datetime) -> int:
        """The shared source of this URL, created if new; a source polled later than `next_poll_at`
        is brought forward, so a new subscriber is primed soon."""
        await tx.execute(
            "INSERT INTO feed_sources (url, next_poll_at, created_at) VALUES (?, ?, ?) ON CONFLICT (url) DO NOTHING",
            (url, to_db(next_poll_at), to_db(now)),
        )
        source_id = await tx.fetchval("SELECT id FROM feed_sources WHERE url = ?", (url,))
        await tx.execute("UPDATE feed_sources SET next_poll_at = ? WHERE id = ? AND next_poll_at > ?",
                         (to_db(next_poll_at), source_id, to_db(next_poll_at)))
        return int(source_id)

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
        """Subscribe the server to a feed, or re-enable its subscription to this URL (the source's
        failures reset; renamed only if `name` is given); (id, created). `default_name` (the feed's
        own title) names a new subscription given no name."""
        existing = await tx.fetchone("SELECT id, source_id FROM feeds WHERE guild_id = ? AND url = ?", (guild_id, url))
        if existing is not None:
            await tx.execute(
                "UPDATE feeds SET disabled_at = NULL, disabled_reason = NULL, name = COALESCE(?, name) WHERE id = ?",
                (name, existing[0]),
            )
            await tx.execute("UPDATE feed_sources SET consecutive_failures = 0 WHERE id = ?", (existing[1],))
            return int(existing[0]), False
        source_id = await self._source(tx, url, now, next_poll_at)
        feed_id = await tx.fetchval(
            "INSERT INTO feeds (guild_id, url, name, kind, star_id, source_id, added_by, added_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (guild_id, url, name or default_name, kind, star_id, source_id, added_by, to_db(now)),
        )
        return int(feed_id), True

    async def insert_if_absent(
        self, guild_id: int, url: str, *, name: str, kind: str, star_id: int | None, now: datetime, next_poll_at: datetime,
        platform: str | None = None, handle: str | None = None, added_by: int | None = None,
    ) -> bool:
        """Star search and social feeds: added once, never re-enabled behind a moderator's back."""
        async with self._db.transaction() as tx:
            if await tx.fetchval("SELECT 1 FROM feeds WHERE guild_id = ? AND url = ?", (guild_id, url)):
                return False
            source_id = await self._source(tx, url, now, next_poll_at)
            feed_id = await tx.fetchval(
                "INSERT INTO feeds (guild_id, url, name, kind, star_id, source_id, added_at, platform, handle, added_by) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (guild_id, url) DO NOTHING RETURNING id",
                (guild_id, url, name, kind, star_id, source_id, to_db(now), platform, handle, added_by),
            )
        return feed_id is not None

    async def get(self, guild_id: int, feed_id: int) -> FeedSource | None:
        row = await self._db.fetchone(_SELECT + "WHERE f.guild_id = ? AND f.id = ?", (guild_id, feed_id))
        return _row(row) if row else None

    async def get_tx(self, tx: Transaction, feed_id: int) -> FeedSource | None:
        row = await tx.fetchone(_SELECT + "WHERE f.id = ?", (feed_id,))
        return _row(row) if row else None

    async def list(self, guild_id: int) -> list[FeedSource]:
        rows = await self._db.fetchall(_SELECT + "WHERE f.guild_id = ? ORDER BY f.id", (guild_id,))
        return [_row(r) for r in rows]

    async def due(self, now: datetime, limit: int | None = None) -> list[FeedSource]:
        """Claim the sources due now (at most `limit`) and return every enabled subscription to them.
        The claim is a lease: another process polling feeds skips them until it ends or expires."""
        stamp = to_db(now)
        pick = ("SELECT s.id FROM feed_sources s WHERE s.next_poll_at <= ? AND (s.lease_until IS NULL OR s.lease_until <= ?) "
                "AND EXISTS (SELECT 1 FROM feeds f WHERE f.source_id = s.id AND f.disabled_at IS NULL) "
                "ORDER BY s.next_poll_at")
        params: tuple = (stamp, stamp)
        if limit is not None:
            pick += " LIMIT ?"
            params += (limit,)
        async with self._db.transaction() as tx:
            rows = await tx.fetchall(
                f"UPDATE feed_sources SET lease_until = ? WHERE id IN ({pick}{self._db.dialect.skip_locked}) RETURNING id",
                (to_db(now + LEASE), *params),
            )
        return await self.subscribers([r[0] for r in rows])

    async def subscribers(self, source_ids: Sequence[int]) -> list[FeedSource]:
        """Every enabled subscription to these sources, by source: a fetched source is written for all."""
        found: list[FeedSource] = []
        for chunk in _chunks(sorted(set(source_ids))):
            rows = await self._db.fetchall(
                _SELECT + f"WHERE f.disabled_at IS NULL AND f.source_id IN ({','.join('?' * len(chunk))}) "
                "ORDER BY s.next_poll_at, f.source_id, f.id", chunk)
            found += [_row(r) for r in rows]
        return found

    async def set_filter(self, guild_id: int, feed_id: int, story_filter: StoryFilter) -> bool:
        """Replace the subscription's filter; False if this server has no such feed."""
        changed = await self._db.execute(
            "UPDATE feeds SET include_words = ?, exclude_words = ? WHERE guild_id = ? AND id = ?",
            (stored(story_filter.include), stored(story_filter.exclude), guild_id, feed_id),
        )
        return changed > 0

    async def enabled_in(self, guild_id: int) -> list[FeedSource]:
        rows = await self._db.fetchall(_SELECT + "WHERE f.guild_id = ? AND f.disabled_at IS NULL ORDER BY f.id", (guild_id,))
        return [_row(r) for r in rows]

    async def delete(self, guild_id: int, feed_id: int) -> bool:
        return bool(await self._db.execute("DELETE FROM feeds WHERE guild_id = ? AND id = ?", (guild_id, feed_id)))

    async def delete_star_search(self, guild_id: int, star_id: int) -> int:
        return await self._db.execute(
            "DELETE FROM feeds WHERE guild_id = ? AND star_id = ? AND kind = 'star_search'", (guild_id, star_id)
        )

    async def delete_social(self, guild_id: int, star_id: int) -> int:
        return await self._db.execute(
            "DELETE FROM feeds WHERE guild_id = ? AND star_id = ? AND kind = 'social'", (guild_id, star_id)
        )

    async def socials_of(self, guild_id: int, star_id: int) -> list[FeedSource]:
        rows = await self._db.fetchall(
            _SELECT + "WHERE f.guild_id = ? AND f.star_id = ? AND f.kind = 'social' ORDER BY f.id", (guild_id, star_id))
        return [_row(r) for r in rows]

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
            await tx.executemany(_PRIMED_SQL, [(i,) for s in successes for i in s.subscriptions])
        if failures:
            await tx.executemany(_FAILURE_SQL, [_failure_row(f) for f in failures])
            disabled = [(to_db(f.polled_at), _stored_error(f), f.source_id) for f in failures if f.disabled]
            if disabled:
                await tx.executemany(_DISABLE_SQL, disabled)

    @staticmethod
    async def primed_flags(tx: Transaction, feed_ids: Sequence[int]) -> dict[int, bool]:
        """{feed id: primed} for those of these feeds that still exist."""
        flags: dict[int, bool] = {}
        for chunk in _chunks(feed_ids):
            rows = await tx.fetchall(f"SELECT id, primed FROM feeds WHERE id IN ({','.join('?' * len(chunk))})", chunk)
            flags.update((r[0], bool(r[1])) for r in rows)
        return flags

    async def health(self, guild_id: int) -> tuple[int, int, int, datetime | None]:
        """(feeds, failing, disabled, last poll) for /fanbot status."""
        row = await self._db.fetchone(
            "SELECT COUNT(*), COUNT(*) FILTER (WHERE s.consecutive_failures > 0 AND f.disabled_at IS NULL), "
            "COUNT(*) FILTER (WHERE f.disabled_at IS NOT NULL), MAX(s.last_polled_at)" + _FROM + "WHERE f.guild_id = ?",
            (guild_id,),
        )
        assert row is not None
        return int(row[0]), int(row[1] or 0), int(row[2] or 0), _time(row[3])


def _time(text: str | None) -> datetime | None:
    # Every due feed is read each cycle; fromisoformat is ~40x faster than timefmt's strptime, and
    # reads both forms timefmt writes (with and without a fraction, "Z" suffix) the same way.
    return datetime.fromisoformat(text) if text else None


def _row(row: Row) -> FeedSource:
    (id_, guild_id, url, name, kind, star_id, etag, last_modified, next_poll_at, last_polled_at, last_success_at,
     last_error, last_error_at, failures, disabled_at, disabled_reason, primed, added_at, source_id, include,
     exclude, platform, handle) = row
    last_error, last_error_why = _read_error(last_error)
    disabled_reason, disabled_why = _read_error(disabled_reason)
    return FeedSource(
        id_, guild_id, url, name, kind, star_id, etag, last_modified, _time(next_poll_at), _time(last_polled_at),  # type: ignore[arg-type]
        _time(last_success_at), last_error, _time(last_error_at), failures, _time(disabled_at), disabled_reason,
        bool(primed), _time(added_at), source_id, from_stored(include), from_stored(exclude),  # type: ignore[arg-type]
        last_error_why, disabled_why, platform, handle,
    )
