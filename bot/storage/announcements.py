"""The announcement journal: pending stories per server, the send/record steps, digests and recent sends."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from ..domain.announcements import MatchedStar, Story
from ..domain.shards import ALL_SHARDS, ShardScope
from ..domain.text import name_key
from .database import Database
from .shards import owned
from .timefmt import from_db, to_db

WAITING = ("pending", "sending")


@dataclass(frozen=True, slots=True)
class Announcement:
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
    def __init__(self, db: Database) -> None:
        self._db = db

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

    async def due(self, guild_id: int, now: datetime, limit: int = 100) -> list[Announcement]:
        """Announcements waiting to go out on their own, oldest first (interrupted sends included)."""
        rows = await self._db.fetchall(
            _SELECT + "WHERE a.guild_id = ? AND a.status IN ('pending', 'sending') AND a.digest_id IS NULL "
            "AND (a.next_attempt_at IS NULL OR a.next_attempt_at <= ?) ORDER BY a.id LIMIT ?",
            (guild_id, to_db(now), limit),
        )
        return await self._with_stars(rows)

    async def get(self, announcement_id: int) -> Announcement | None:
        rows = await self._db.fetchall(_SELECT + "WHERE a.id = ?", (announcement_id,))
        found = await self._with_stars(rows)
        return found[0] if found else None

    async def open_digests(self, guild_id: int, now: datetime) -> list[DigestJob]:
        """Digests begun but not recorded as sent (a crash or a server error): resent with the same nonce."""
        rows = await self._db.fetchall(
            "SELECT * FROM announcement_digests WHERE guild_id = ? AND status = 'sending' "
            "AND (next_attempt_at IS NULL OR next_attempt_at <= ?) ORDER BY id",
            (guild_id, to_db(now)),
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
