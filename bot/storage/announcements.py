"""The announcement journal: pending stories per server, the send/record steps, digests and recent sends."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from ..domain.announcements import MatchedStar, Story
from ..domain.routing import Routing
from ..domain.shards import ALL_SHARDS, ShardScope
from ..domain.text import name_key
from .database import Database
from .shards import owned
from .timefmt import from_db, to_db

WAITING = ("pending", "sending")


@dataclass(frozen=True, slots=True)
class Announcement:
    """A story's journal row in one server: waiting, sending or sent, with its nonce and attempts."""

    id: int
    story_id: int
    guild_id: int
    status: str
    nonce: str
    attempts: int
    channel_id: int | None
    message_id: int | None
    digest_id: int | None
    story: Story
    # When the first send that may have posted it began (None: never tried): Discord's nonce memory
    # dates from then, so later resends must not move it forward.
    sending_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class DigestJob:
    """A digest being sent: its announcements, channel, nonce and attempts."""

    id: int
    guild_id: int
    channel_id: int
    nonce: str
    attempts: int
    announcements: tuple[Announcement, ...]


def new_nonce(prefix: str, number: int) -> str:
    """Discord accepts nonces of at most 25 characters; the random tail keeps them unique across databases."""
    return f"{prefix}{number}-{secrets.token_hex(5)}"[:25]


_SELECT = (
    "SELECT a.id, a.story_id, a.guild_id, a.status, a.nonce, a.attempts, a.channel_id, a.message_id, a.digest_id, "
    "a.sending_at, "
    "s.title, s.link, s.source_name, s.summary, s.image_url, s.published_at, s.discovered_at, s.post_platform "
    "FROM announcements a JOIN news_stories s ON s.id = a.story_id "
)


class AnnouncementRepository:
    """The announcement journal and its digests (SQL)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    @property
    def db(self) -> Database:
        return self._db

    # -- what ingestion writes (the contract), for tests and tools -------------------------------
    async def record_story(
        self,
        guild_id: int,
        *,
        title: str,
        now: datetime,
        link: str | None = None,
        star_ids: Iterable[int] = (),
        summary: str | None = None,
        source_name: str | None = None,
        image_url: str | None = None,
        published_at: datetime | None = None,
    ) -> int:
        """A story, its stars and its 'pending' announcement in one transaction, as ingestion records them.
        Returns the announcement id."""
        async with self._db.transaction() as tx:
            story_id = await tx.fetchval(
                "INSERT INTO news_stories (guild_id, guid, link, canonical_link, title, title_key, summary, "
                "source_name, image_url, published_at, discovered_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "RETURNING id",
                (guild_id, link or title, link, link, title, name_key(title), summary, source_name, image_url,
                 to_db(published_at) if published_at else None, to_db(now)),
            )
            await tx.executemany(
                "INSERT INTO news_story_stars (story_id, star_id) VALUES (?, ?)", [(story_id, s) for s in star_ids]
            )
            return await tx.fetchval(
                "INSERT INTO announcements (story_id, guild_id, status, nonce, created_at) "
                "VALUES (?, ?, 'pending', ?, ?) RETURNING id",
                (story_id, guild_id, new_nonce("n", story_id), to_db(now)),
            )

    # -- reading ---------------------------------------------------------------------------------
    async def guilds_with_work(self, now: datetime, shards: ShardScope = ALL_SHARDS) -> list[int]:
        mine = owned(shards)
        rows = await self._db.fetchall(
            "SELECT DISTINCT guild_id FROM announcements WHERE status IN ('pending', 'sending') "
            f"AND (next_attempt_at IS NULL OR next_attempt_at <= ?) AND {mine} "
            "UNION SELECT DISTINCT guild_id FROM announcement_digests WHERE status = 'sending' "
            f"AND (next_attempt_at IS NULL OR next_attempt_at <= ?) AND {mine}",
            (to_db(now), to_db(now)),
        )
        return [r[0] for r in rows]

    async def due(self, guild_id: int, now: datetime, limit: int = 100, *,
                  channel_id: int | None = None) -> list[Announcement]:
        """Announcements waiting to go out on their own, oldest first (interrupted sends included); with
        `channel_id`, only that channel's."""
        where, params = ("AND a.channel_id = ? ", (channel_id,)) if channel_id is not None else ("", ())
        rows = await self._db.fetchall(
            _SELECT + "WHERE a.guild_id = ? AND a.status IN ('pending', 'sending') AND a.digest_id IS NULL "
            f"{where}AND (a.next_attempt_at IS NULL OR a.next_attempt_at <= ?) ORDER BY a.id LIMIT ?",
            (guild_id, *params, to_db(now), limit),
        )
        return await self._with_stars(rows)

    async def channels_with_work(self, guild_id: int, now: datetime) -> list[int]:
        """The channels of one server with a post or a digest due now, in order."""
        rows = await self._db.fetchall(
            "SELECT DISTINCT channel_id FROM announcements WHERE guild_id = ? AND status IN ('pending', 'sending') "
            "AND channel_id IS NOT NULL AND digest_id IS NULL AND (next_attempt_at IS NULL OR next_attempt_at <= ?) "
            "UNION SELECT DISTINCT channel_id FROM announcement_digests WHERE guild_id = ? AND status = 'sending' "
            "AND (next_attempt_at IS NULL OR next_attempt_at <= ?)",
            (guild_id, to_db(now), guild_id, to_db(now)),
        )
        return sorted(r[0] for r in rows)

    async def route_waiting(self, guild_id: int, routing: Routing, now: datetime, limit: int = 500) -> int:
        """Give never-posted rows their channels by today's routes: a story gets one row per channel it
        goes to (each with its own nonce), never a second row for a channel it already has. A 'pending'
        row whose channel is no longer a destination (the news channel or a route moved) is routed
        again: 'pending' means no attempt may have posted it. Returns how many rows changed."""
        live = sorted(routing.channels)
        if not live:
            return 0  # nowhere to post yet: every story waits unrouted, as it is
        stale = f"a.channel_id NOT IN ({','.join('?' * len(live))})"
        unrouted, params = "a.channel_id IS NULL", [guild_id]
        if routing.news_channel is None:
            # Without a news channel, an unrouted row only has work while one of its stars' routes still
            # lacks its row; the others wait for the news channel, and are not read again every tick.
            pending_route = " OR ".join(
                "(ss.star_id = ? AND NOT EXISTS (SELECT 1 FROM announcements b WHERE b.story_id = a.story_id "
                "AND b.channel_id = ?))" for _ in routing.routes)
            unrouted += (f" AND EXISTS (SELECT 1 FROM news_story_stars ss WHERE ss.story_id = a.story_id "
                         f"AND ({pending_route}))")
            params += [v for pair in sorted(routing.routes.items()) for v in pair]
        select = ("SELECT a.id, a.story_id, a.channel_id FROM announcements a WHERE a.guild_id = ? "
                  f"AND a.status = 'pending' AND a.digest_id IS NULL AND (({unrouted}) OR {stale}) "
                  "ORDER BY a.id LIMIT ?")
        params += live
        if not await self._db.fetchall(select, (*params, 1)):
            return 0  # the usual case, read without taking the writer
        changed = 0
        async with self._db.transaction() as tx:
            rows = await tx.fetchall(select, (*params, limit))
            if not rows:
                return 0
            story_ids = sorted({r["story_id"] for r in rows})
            marks = ",".join("?" * len(story_ids))
            stars: dict[int, list[int]] = {}
            for r in await tx.fetchall(
                    f"SELECT story_id, star_id FROM news_story_stars WHERE story_id IN ({marks}) ORDER BY star_id",
                    story_ids):
                stars.setdefault(r["story_id"], []).append(r["star_id"])
            held: dict[int, dict[int, int | None]] = {}  # story -> row id -> its channel
            for r in await tx.fetchall(
                    f"SELECT id, story_id, channel_id FROM announcements WHERE story_id IN ({marks})", story_ids):
                held.setdefault(r["story_id"], {})[r["id"]] = r["channel_id"]
            for row in rows:
                channels, waits = routing.targets(stars.get(row["story_id"], []))
                wanted: list[int | None] = [*channels, *([None] if waits else [])]
                others = {c for i, c in held[row["story_id"]].items() if i != row["id"]}
                missing = [c for c in wanted if c not in others and c != row["channel_id"]]
                if row["channel_id"] not in wanted:
                    if not missing:
                        # Every destination already has its row: this one would only be a second post.
                        await tx.execute("DELETE FROM announcements WHERE id = ?", (row["id"],))
                        held[row["story_id"]].pop(row["id"])
                        changed += 1
                        continue
                    first, missing = missing[0], missing[1:]
                    await tx.execute("UPDATE announcements SET channel_id = ? WHERE id = ?", (first, row["id"]))
                    held[row["story_id"]][row["id"]] = first
                    changed += 1
                for channel_id in missing:
                    new_id = await tx.fetchval(
                        "INSERT INTO announcements (story_id, guild_id, status, nonce, channel_id, created_at) "
                        "VALUES (?, ?, 'pending', ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id",
                        (row["story_id"], guild_id, new_nonce("n", row["story_id"]), channel_id, to_db(now)),
                    )
                    if new_id is not None:
                        held[row["story_id"]][new_id] = channel_id
                        changed += 1
        return changed

    async def get(self, announcement_id: int) -> Announcement | None:
        rows = await self._db.fetchall(_SELECT + "WHERE a.id = ?", (announcement_id,))
        found = await self._with_stars(rows)
        return found[0] if found else None

    async def open_digests(self, guild_id: int, now: datetime, *, channel_id: int | None = None) -> list[DigestJob]:
        """Digests begun but not recorded as sent (a crash or a server error): resent with the same nonce.
        With `channel_id`, only that channel's."""
        where, params = ("AND channel_id = ? ", (channel_id,)) if channel_id is not None else ("", ())
        rows = await self._db.fetchall(
            f"SELECT * FROM announcement_digests WHERE guild_id = ? AND status = 'sending' {where}"
            "AND (next_attempt_at IS NULL OR next_attempt_at <= ?) ORDER BY id",
            (guild_id, *params, to_db(now)),
        )
        jobs = []
        for row in rows:
            members = await self._with_stars(
                await self._db.fetchall(_SELECT + "WHERE a.digest_id = ? ORDER BY a.id", (row["id"],))
            )
            jobs.append(DigestJob(row["id"], row["guild_id"], row["channel_id"], row["nonce"], row["attempts"],
                                  tuple(members)))
        return jobs

    async def sent_since(self, channel_id: int, since: datetime) -> int:
        return int(await self._db.fetchval(
            "SELECT COUNT(*) FROM announcements WHERE channel_id = ? AND status = 'sent' AND sent_at > ?",
            (channel_id, to_db(since)),
        ))

    async def digests_since(self, channel_id: int, since: datetime) -> int:
        return int(await self._db.fetchval(
            "SELECT COUNT(*) FROM announcement_digests WHERE channel_id = ? AND status = 'sent' AND sent_at > ?",
            (channel_id, to_db(since)),
        ))

    async def stats(self, guild_id: int) -> tuple[int, datetime | None]:
        """(announcements waiting, when the last one went out)."""
        row = await self._db.fetchone(
            "SELECT COUNT(*) FILTER (WHERE status IN ('pending', 'sending')) AS waiting, MAX(sent_at) AS last_sent "
            "FROM announcements WHERE guild_id = ?",
            (guild_id,),
        )
        return int(row["waiting"] or 0), from_db(row["last_sent"])

    # -- the send / record steps -----------------------------------------------------------------
    async def begin_send(self, announcement_id: int, channel_id: int, now: datetime) -> bool:
        """Journal the attempt (committed before anything is sent); False if it is no longer waiting."""
        changed = await self._db.execute(
            "UPDATE announcements SET status = 'sending', attempts = attempts + 1, channel_id = ?, "
            # A row still 'sending' may be in the channel since its first attempt: keep that time, so
            # the history check runs once Discord may have forgotten the nonce.
            "sending_at = CASE WHEN status = 'sending' AND sending_at IS NOT NULL THEN sending_at ELSE ? END "
            "WHERE id = ? AND status IN ('pending', 'sending') AND digest_id IS NULL",
            (channel_id, to_db(now), announcement_id),
        )
        return changed == 1

    async def record_sent(self, announcement_id: int, channel_id: int, message_id: int, now: datetime) -> None:
        await self._db.execute(
            "UPDATE announcements SET status = 'sent', channel_id = ?, message_id = ?, sent_at = ?, "
            "next_attempt_at = NULL, last_error = NULL WHERE id = ?",
            (channel_id, message_id, to_db(now), announcement_id),
        )

    async def postpone(self, announcement_id: int, error: str, retry_at: datetime | None, *,
                       maybe_sent: bool = False) -> None:
        """Try again at retry_at (None: as soon as the channel works), with the same nonce. A row that may
        have been posted after all (server error, timeout, or an earlier attempt of it did) stays 'sending'
        so its resend looks for it in the channel first; only a never-ambiguous refused one is 'pending'."""
        await self._db.execute(
            "UPDATE announcements SET status = ?, last_error = ?, next_attempt_at = ? WHERE id = ?",
            ("sending" if maybe_sent else "pending", error[:300], to_db(retry_at) if retry_at else None,
             announcement_id),
        )

    async def give_up(self, announcement_id: int, error: str) -> None:
        """Discord keeps refusing this post as malformed: stop retrying it (kept in the journal as failed)."""
        await self._db.execute(
            "UPDATE announcements SET status = 'failed', last_error = ?, next_attempt_at = NULL WHERE id = ?",
            (error[:300], announcement_id),
        )

    async def begin_digest(self, guild_id: int, channel_id: int, announcement_ids: list[int],
                           now: datetime) -> DigestJob | None:
        """Put these waiting announcements into a new digest, atomically; None if none is waiting any more."""
        async with self._db.transaction() as tx:
            digest_id = await tx.fetchval(
                "INSERT INTO announcement_digests (guild_id, channel_id, nonce, created_at) VALUES (?, ?, '', ?) "
                "RETURNING id",
                (guild_id, channel_id, to_db(now)),
            )
            nonce = new_nonce("d", digest_id)
            await tx.execute("UPDATE announcement_digests SET nonce = ? WHERE id = ?", (nonce, digest_id))
            taken = 0
            for announcement_id in announcement_ids:
                taken += await tx.execute(
                    "UPDATE announcements SET status = 'sending', attempts = attempts + 1, digest_id = ?, "
                    # Only 'pending': a 'sending' row may already be in the channel, and a digest has
                    # its own nonce, so folding it in could post the story twice.
                    "channel_id = ?, sending_at = ? WHERE id = ? AND status = 'pending' "
                    "AND digest_id IS NULL",
                    (digest_id, channel_id, to_db(now), announcement_id),
                )
            if not taken:
                await tx.execute("DELETE FROM announcement_digests WHERE id = ?", (digest_id,))
                return None
        jobs = [j for j in await self.open_digests(guild_id, now) if j.id == digest_id]
        return jobs[0] if jobs else None

    async def begin_digest_retry(self, digest_id: int, channel_id: int) -> None:
        await self._db.execute(
            "UPDATE announcement_digests SET attempts = attempts + 1, channel_id = ? WHERE id = ?",
            (channel_id, digest_id),
        )

    async def record_digest_sent(self, digest_id: int, channel_id: int, message_id: int, now: datetime) -> None:
        async with self._db.transaction() as tx:
            await tx.execute(
                "UPDATE announcement_digests SET status = 'sent', channel_id = ?, message_id = ?, sent_at = ?, "
                "next_attempt_at = NULL, last_error = NULL WHERE id = ?",
                (channel_id, message_id, to_db(now), digest_id),
            )
            await tx.execute(
                "UPDATE announcements SET status = 'digested', channel_id = ?, message_id = ?, sent_at = ?, "
                "next_attempt_at = NULL, last_error = NULL WHERE digest_id = ?",
                (channel_id, message_id, to_db(now), digest_id),
            )

    async def postpone_digest(self, digest_id: int, error: str, retry_at: datetime) -> None:
        """A server error: the digest keeps its stories and nonce, so a retry cannot post them twice."""
        await self._db.execute(
            "UPDATE announcement_digests SET last_error = ?, next_attempt_at = ? WHERE id = ?",
            (error[:300], to_db(retry_at), digest_id),
        )

    async def dissolve_digest(self, digest_id: int, error: str) -> None:
        """Discord refused the digest outright (nothing was posted): its stories go back to pending."""
        async with self._db.transaction() as tx:
            await tx.execute(
                "UPDATE announcement_digests SET status = 'dissolved', last_error = ? WHERE id = ?",
                (error[:300], digest_id),
            )
            await tx.execute(
                "UPDATE announcements SET status = 'pending', digest_id = NULL, last_error = ? WHERE digest_id = ?",
                (error[:300], digest_id),
            )

    async def fail_digest(self, digest_id: int, error: str) -> None:
        """Discord keeps refusing this digest as malformed: its stories stop waiting (kept as failed), since
        dissolved they would only gather into the same refused digest again."""
        async with self._db.transaction() as tx:
            await tx.execute(
                "UPDATE announcement_digests SET status = 'dissolved', last_error = ?, next_attempt_at = NULL "
                "WHERE id = ?",
                (error[:300], digest_id),
            )
            await tx.execute(
                "UPDATE announcements SET status = 'failed', last_error = ?, next_attempt_at = NULL "
                "WHERE digest_id = ?",
                (error[:300], digest_id),
            )

    # -- helpers ---------------------------------------------------------------------------------
    async def _with_stars(self, rows: list) -> list[Announcement]:
        if not rows:
            return []
        story_ids = [r["story_id"] for r in rows]
        marks = ",".join("?" * len(story_ids))
        star_rows = await self._db.fetchall(
            "SELECT ss.story_id, st.id, st.name, st.hangul, st.notify_role_id, st.followed FROM news_story_stars ss "
            f"JOIN stars st ON st.id = ss.star_id WHERE ss.story_id IN ({marks}) ORDER BY st.name COLLATE NOCASE",
            story_ids,
        )
        stars: dict[int, list[MatchedStar]] = {}
        for s in star_rows:
            # An unfollowed star is still named, but her role is not pinged any more.
            role = s["notify_role_id"] if s["followed"] else None
            stars.setdefault(s["story_id"], []).append(MatchedStar(s["id"], s["name"], role, s["hangul"]))
        return [_announcement(r, tuple(stars.get(r["story_id"], ()))) for r in rows]


def _announcement(row, stars: tuple[MatchedStar, ...]) -> Announcement:
    story = Story(
        title=row["title"], link=row["link"], source_name=row["source_name"], summary=row["summary"],
        image_url=row["image_url"], published_at=from_db(row["published_at"]),
        discovered_at=from_db(row["discovered_at"]), stars=stars, platform=row["post_platform"],
    )
    return Announcement(row["id"], row["story_id"], row["guild_id"], row["status"], row["nonce"], row["attempts"],
                        row["channel_id"], row["message_id"], row["digest_id"], story, from_db(row["sending_at"]))
