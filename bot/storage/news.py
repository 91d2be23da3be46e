"""Seen feed entries and news stories: each story recorded once per server, with its delivery row."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from ..domain.feeds import FeedEntry, canonical_link, normalise_title
from .database import Database, Row, Transaction
from .timefmt import from_db, to_db

# Two feeds' headlines count as the same story only when they were published this close together.
SAME_TITLE_WINDOW = timedelta(days=1)
# Shorter normalised titles ("news", "photos") say too little to merge two stories on.
_MIN_TITLE_KEY = 12


@dataclass(frozen=True, slots=True)
class NewsStory:
    """A recorded story of a server, with the stars it names."""

    id: int
    guild_id: int
    title: str
    link: str | None
    source_name: str | None
    published_at: datetime | None
    discovered_at: datetime
    stars: tuple["StarName", ...]

    @property
    def star_names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.stars)


@dataclass(frozen=True, slots=True)
class StarName:
    """A star as a story line names her: the display name, and the Hangul name for Korean text."""

    name: str
    hangul: str | None


def _in_list(count: int) -> str:
    return ",".join("?" * count)


class NewsRepository:
    """Stories and their stars (SQL)."""

    def __init__(self, db: Database) -> None:
        self._db = db
        source = "news_story_stars ns JOIN stars st ON st.id = ns.star_id WHERE ns.story_id = s.id"
        # Both lists in the same order, so the n-th Hangul name is the n-th star's ('' when she has none).
        names = db.dialect.joined("st.name", source, "\x1f", order_by="st.id")
        hanguls = db.dialect.joined("COALESCE(st.hangul, '')", source, "\x1f", order_by="st.id")
        self._latest_sql = f"SELECT s.*, {names} AS star_list, {hanguls} AS hangul_list "

    async def unseen(self, feed_id: int, keys: list[str], tx: Transaction | None = None) -> list[str]:
        """The keys (in the order given) this feed has not delivered before."""
        if not keys:
            return []
        source = tx if tx is not None else self._db
        seen: set[str] = set()
        # SQLite caps bound parameters; feeds carry at most 500 items, chunks keep it safe anyway.
        for start in range(0, len(keys), 400):
            chunk = keys[start : start + 400]
            rows = await source.fetchall(
                f"SELECT entry_key FROM feed_entries_seen WHERE feed_id = ? AND entry_key IN ({_in_list(len(chunk))})",
                (feed_id, *chunk),
            )
            seen.update(r[0] for r in rows)
        return [k for k in dict.fromkeys(keys) if k not in seen]

    async def mark_seen(self, tx: Transaction, feed_id: int, keys: Iterable[str], now: datetime) -> None:
        stamp = to_db(now)
        await tx.executemany(
            "INSERT INTO feed_entries_seen (feed_id, entry_key, seen_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
            [(feed_id, k, stamp) for k in keys],
        )

    async def record_story(
        self, tx: Transaction, guild_id: int, feed_id: int, entry: FeedEntry, star_ids: list[int], now: datetime,
        *, platform: str | None = None,
    ) -> int | None:
        """Record a story and queue its announcement, unless this server already has it; its id or None.

        The same story is the same canonical link (a constraint), or the same normalised headline
        published within a day (a lookup; both run inside the caller's write transaction).
        """
        canon = canonical_link(entry.link) if entry.link else None
        title_key = normalise_title(entry.title, entry.source_name)
        when = entry.published or now
        if len(title_key) >= _MIN_TITLE_KEY:
            twin = await tx.fetchval(
                "SELECT id FROM news_stories WHERE guild_id = ? AND title_key = ? "
                "AND COALESCE(published_at, discovered_at) BETWEEN ? AND ? LIMIT 1",
                (guild_id, title_key, to_db(when - SAME_TITLE_WINDOW), to_db(when + SAME_TITLE_WINDOW)),
            )
            if twin is not None:
                return None
        if canon is None:
            # No link to hold a constraint on: the guid is all that identifies it.
            if await tx.fetchval(
                "SELECT id FROM news_stories WHERE guild_id = ? AND guid = ? LIMIT 1", (guild_id, entry.guid)
            ) is not None:
                return None
        story_id = await tx.fetchval(
            "INSERT INTO news_stories (guild_id, feed_id, guid, link, canonical_link, title, title_key, summary, "
            "source_name, image_url, published_at, discovered_at, post_platform) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (guild_id, canonical_link) DO NOTHING RETURNING id",
            (
                guild_id, feed_id, entry.guid, entry.link, canon, entry.title, title_key, entry.summary or None,
                entry.source_name or None, entry.image_url,
                to_db(entry.published) if entry.published else None, to_db(now), platform,
            ),
        )
        if story_id is None:
            return None
        await tx.executemany(
            "INSERT INTO news_story_stars (story_id, star_id) VALUES (?, ?) ON CONFLICT DO NOTHING",
            [(story_id, s) for s in star_ids],
        )
        # Sent with the Discord message so a resend after a crash is recognised (<= 25 characters).
        nonce = f"n{story_id}-{secrets.token_hex(4)}"[:25]
        await tx.execute(
            "INSERT INTO announcements (story_id, guild_id, status, nonce, created_at) VALUES (?, ?, 'pending', ?, ?)",
            (story_id, guild_id, nonce, to_db(now)),
        )
        return int(story_id)

    async def latest(self, guild_id: int, *, star_id: int | None = None, limit: int = 5) -> list[NewsStory]:
        where = "s.guild_id = ?"
        params: list = [guild_id]
        if star_id is not None:
            where += " AND EXISTS (SELECT 1 FROM news_story_stars x WHERE x.story_id = s.id AND x.star_id = ?)"
            params.append(star_id)
        rows = await self._db.fetchall(
            self._latest_sql +
            # Announced stories only (SPEC /news latest): not the ones still waiting or given up. EXISTS,
            # since a story routed to several channels has a journal row in each.
            f"FROM news_stories s WHERE {where} AND EXISTS (SELECT 1 FROM announcements a WHERE a.story_id = s.id "
            "AND a.status IN ('sent', 'digested')) ORDER BY s.discovered_at DESC, s.id DESC LIMIT ?",
            (*params, limit),
        )
        return [_story(r) for r in rows]

    async def count(self, guild_id: int) -> int:
        return int(await self._db.fetchval("SELECT COUNT(*) FROM news_stories WHERE guild_id = ?", (guild_id,)))


def _story(row: Row) -> NewsStory:
    return NewsStory(
        id=row["id"],
        guild_id=row["guild_id"],
        title=row["title"],
        link=row["link"],
        source_name=row["source_name"],
        published_at=from_db(row["published_at"]),
        discovered_at=from_db(row["discovered_at"]),  # type: ignore[arg-type]
        stars=_stars(row["star_list"], row["hangul_list"]),
    )


def _stars(names: str | None, hanguls: str | None) -> tuple[StarName, ...]:
    if not names:
        return ()
    paired = zip(names.split("\x1f"), (hanguls or "").split("\x1f"), strict=False)
    return tuple(sorted((StarName(n, h or None) for n, h in paired), key=lambda s: s.name))
