"""Media library, submission queue and daily-post journal tables: the only SQL the media features run."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from ..domain.media import MediaItem, Submission
from ..domain.notices import UserMention
from ..domain.shards import ALL_SHARDS, ShardScope
from ..errors import Conflict, NotFound, UniqueViolation
from .database import Database, Row, Transaction
from .shards import owned
from .timefmt import from_db, to_db


def _item_select(db: Database) -> str:
    tags = db.dialect.joined("tag", "media_tags t WHERE t.item_id = m.id", ",")
    return f"SELECT m.*, s.name AS star_name, {tags} AS tag_list FROM media_items m LEFT JOIN stars s ON s.id = m.star_id"


@dataclass(frozen=True, slots=True)
class NewMedia:
    """Everything stored for an item or a submission; exactly one of url / file_name is set."""

    guild_id: int
    title: str
    kind: str
    url: str | None = None
    url_key: str | None = None
    file_name: str | None = None
    file_type: str | None = None
    file_sha256: str | None = None
    star_id: int | None = None
    tags: tuple[str, ...] = ()
    credit: str | None = None
    spoiler: bool = False
    post_link: str | None = None  # her post it came from (suggestions), shown beside a kept file


def _duplicate(error: UniqueViolation, where: str) -> Conflict:
    """`where` is "library" or "queue"; the error code says which thing is already there."""
    if "url_key" in error.columns:
        return Conflict(f"media.link_in_{where}")
    if "file_sha256" in error.columns:
        return Conflict(f"media.file_in_{where}")
    raise error


class MediaRepository:
    """The media library and the submission queue (SQL)."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._item_select = _item_select(db)

    # -- library ----------------------------------------------------------------------------
    async def add_item(self, new: NewMedia, *, added_by: int | None, now: datetime,
                       submission_id: int | None = None) -> int:
        async with self._db.transaction() as tx:
            return await self._insert_item(tx, new, added_by, now, submission_id)

    async def _insert_item(self, tx: Transaction, new: NewMedia, added_by: int | None, now: datetime,
                           submission_id: int | None) -> int:
        try:
            item_id = await tx.fetchval(
                "INSERT INTO media_items (guild_id, title, kind, url, url_key, file_name, file_type, file_sha256,"
                " star_id, credit, spoiler, added_by, added_at, submission_id, post_link)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                (new.guild_id, new.title, new.kind, new.url, new.url_key, new.file_name, new.file_type,
                 new.file_sha256, new.star_id, new.credit, int(new.spoiler), added_by, to_db(now), submission_id,
                 new.post_link),
            )
        except UniqueViolation as error:
            raise _duplicate(error, "library") from None
        await tx.executemany("INSERT INTO media_tags (item_id, tag) VALUES (?, ?)", [(item_id, t) for t in new.tags])
        return int(item_id)

    async def get(self, guild_id: int, item_id: int) -> MediaItem | None:
        row = await self._db.fetchone(self._item_select + " WHERE m.guild_id = ? AND m.id = ?", (guild_id, item_id))
        return _item(row) if row else None

    async def by_title(self, guild_id: int, title: str) -> MediaItem | None:
        row = await self._db.fetchone(
            self._item_select + " WHERE m.guild_id = ? AND m.title = ? COLLATE NOCASE ORDER BY m.id LIMIT 1",
            (guild_id, title))
        return _item(row) if row else None

    async def list_items(self, guild_id: int) -> list[MediaItem]:
        rows = await self._db.fetchall(self._item_select + " WHERE m.guild_id = ? ORDER BY m.id DESC", (guild_id,))
        return [_item(r) for r in rows]

    async def random_item(self, guild_id: int, *, star_id: int | None = None, tag: str | None = None) -> MediaItem | None:
        where, params = ["m.guild_id = ?"], [guild_id]
        if star_id is not None:
            where.append("m.star_id = ?")
            params.append(star_id)
        if tag is not None:
            where.append("EXISTS (SELECT 1 FROM media_tags t WHERE t.item_id = m.id AND t.tag = ?)")
            params.append(tag)
        row = await self._db.fetchone(self._item_select + " WHERE " + " AND ".join(where) + " ORDER BY random() LIMIT 1",
                                      params)
        return _item(row) if row else None

    async def remove(self, guild_id: int, item_id: int) -> MediaItem | None:
        item = await self.get(guild_id, item_id)
        if item is None:
            return None
        gone = await self._db.execute("DELETE FROM media_items WHERE guild_id = ? AND id = ?", (guild_id, item_id))
        return item if gone else None

    async def file_in_use(self, file_name: str) -> bool:
        return bool(await self._db.fetchval(
            "SELECT EXISTS (SELECT 1 FROM media_items WHERE file_name = ?)"
            " OR EXISTS (SELECT 1 FROM media_submissions WHERE file_name = ? AND status = 'pending')",
            (file_name, file_name)))

    async def count(self, guild_id: int, *, star_id: int | None = None) -> int:
        if star_id is None:
            return int(await self._db.fetchval("SELECT COUNT(*) FROM media_items WHERE guild_id = ?", (guild_id,)))
        return int(await self._db.fetchval(
            "SELECT COUNT(*) FROM media_items WHERE guild_id = ? AND star_id = ?", (guild_id, star_id)))

    async def has_url(self, guild_id: int, url_key: str) -> bool:
        return bool(await self._db.fetchval(
            "SELECT EXISTS (SELECT 1 FROM media_items WHERE guild_id = ? AND url_key = ?)", (guild_id, url_key)))

    async def has_file(self, guild_id: int, sha256: str) -> bool:
        return bool(await self._db.fetchval(
            "SELECT EXISTS (SELECT 1 FROM media_items WHERE guild_id = ? AND file_sha256 = ?)", (guild_id, sha256)))

    # -- submissions --------------------------------------------------------------------------
    async def add_submission(self, new: NewMedia, *, submitter_id: int, now: datetime) -> int:
        try:
            return int(await self._db.execute_returning(
                "INSERT INTO media_submissions (guild_id, submitter_id, title, kind, url, url_key, file_name,"
                " file_type, file_sha256, star_id, tags, spoiler, submitted_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                (new.guild_id, submitter_id, new.title, new.kind, new.url, new.url_key, new.file_name, new.file_type,
                 new.file_sha256, new.star_id, ",".join(new.tags), int(new.spoiler), to_db(now)),
            ))
        except UniqueViolation as error:
            raise _duplicate(error, "queue") from None

    async def withdraw(self, guild_id: int, submission_id: int) -> None:
        """Forget a submission that never reached the moderators (its card could not be posted)."""
        await self._db.execute("DELETE FROM media_submissions WHERE guild_id = ? AND id = ? AND status = 'pending'",
                               (guild_id, submission_id))

    async def set_card(self, submission_id: int, channel_id: int, message_id: int) -> None:
        await self._db.execute("UPDATE media_submissions SET card_channel_id = ?, card_message_id = ? WHERE id = ?",
                               (channel_id, message_id, submission_id))

    async def claim_card(self, submission_id: int, now: datetime, stale_before: datetime) -> bool:
        """True for exactly one caller: the one that posts this submission's missing card."""
        return await self._db.execute_returning(
            "UPDATE media_submissions SET card_claimed_at = ? WHERE id = ? AND status = 'pending' "
            "AND card_message_id IS NULL AND (card_claimed_at IS NULL OR card_claimed_at < ?) RETURNING id",
            (to_db(now), submission_id, to_db(stale_before))) is not None

    async def get_submission(self, guild_id: int, submission_id: int) -> Submission | None:
        row = await self._db.fetchone("SELECT * FROM media_submissions WHERE guild_id = ? AND id = ?",
                                      (guild_id, submission_id))
        return _submission(row) if row else None

    async def cardless(self, submitted_before: datetime, shards: ShardScope = ALL_SHARDS) -> list[Submission]:
        """Pending submissions whose card never reached the mod-log (a crash between storing and posting)."""
        rows = await self._db.fetchall(
            "SELECT * FROM media_submissions WHERE status = 'pending' AND card_message_id IS NULL"
            f" AND submitted_at < ? AND {owned(shards)} ORDER BY id", (to_db(submitted_before),))
        return [_submission(r) for r in rows]

    async def pending_count(self, guild_id: int) -> int:
        return int(await self._db.fetchval(
            "SELECT COUNT(*) FROM media_submissions WHERE guild_id = ? AND status = 'pending'", (guild_id,)))

    async def approve(self, guild_id: int, submission_id: int, moderator_id: int, now: datetime) -> tuple[Submission, int]:
        """Mark pending → approved and add the item, atomically; exactly one of two racing moderators wins.

        If the item cannot be added (its link or file reached the library another way meanwhile),
        the whole transaction rolls back and the submission stays pending for a Reject."""
        async with self._db.transaction() as tx:
            row = await tx.fetchone(
                "UPDATE media_submissions SET status = 'approved', decided_by = ?, decided_at = ?"
                " WHERE guild_id = ? AND id = ? AND status = 'pending' RETURNING *",
                (moderator_id, to_db(now), guild_id, submission_id))
            if row is None:
                raise await self._not_pending(tx, guild_id, submission_id)
            sub = _submission(row)
            new = NewMedia(guild_id, sub.title, sub.kind, sub.url, row["url_key"], sub.file_name, sub.file_type,
                           row["file_sha256"], sub.star_id, sub.tags, sub.credit, sub.spoiler, sub.post_link)
            # A suggestion of her post was added by the moderator who approved it, not by a fan.
            item_id = await self._insert_item(tx, new, sub.submitter_id or moderator_id, now, sub.id)
            await tx.execute("UPDATE media_submissions SET item_id = ? WHERE id = ?", (item_id, sub.id))
        return sub, item_id

    async def reject(self, guild_id: int, submission_id: int, moderator_id: int, now: datetime) -> Submission:
        async with self._db.transaction() as tx:
            row = await tx.fetchone(
                "UPDATE media_submissions SET status = 'rejected', decided_by = ?, decided_at = ?"
                " WHERE guild_id = ? AND id = ? AND status = 'pending' RETURNING *",
                (moderator_id, to_db(now), guild_id, submission_id))
            if row is None:
                raise await self._not_pending(tx, guild_id, submission_id)
        return _submission(row)

    @staticmethod
    async def _not_pending(tx: Transaction, guild_id: int, submission_id: int) -> Exception:
        row = await tx.fetchone("SELECT status, decided_by FROM media_submissions WHERE guild_id = ? AND id = ?",
                                (guild_id, submission_id))
        if row is None:
            return NotFound("submission.gone")
        if row["decided_by"]:
            return Conflict(f"submission.already_{row['status']}_by", moderator=UserMention(row["decided_by"]))
        return Conflict(f"submission.already_{row['status']}")


class DailyRepository:
    """The journal of daily posts: a row is claimed before sending, so each day posts at most once."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def claim_media(self, guild_id: int, day: date, nonce: str, now: datetime) -> int | None:
        """Claim today's media of the day and pick its item (least recently featured first), or None
        if today is already claimed or the library is empty (then a later tick may still post)."""
        async with self._db.transaction() as tx:
            if await tx.fetchval("SELECT 1 FROM daily_posts WHERE guild_id = ? AND kind = 'media' AND subject_id = 0"
                                 " AND local_date = ?", (guild_id, day.isoformat())):
                return None
            item_id = await tx.fetchval(
                "SELECT id FROM media_items WHERE guild_id = ?"
                " ORDER BY last_daily_at IS NOT NULL, last_daily_at, random() LIMIT 1", (guild_id,))
            if item_id is None:
                return None
            # Another process may have claimed the day since the check above: then it is theirs.
            if await tx.fetchval(
                    "INSERT INTO daily_posts (guild_id, kind, subject_id, local_date, item_id, nonce, claimed_at)"
                    " VALUES (?, 'media', 0, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING item_id",
                    (guild_id, day.isoformat(), item_id, nonce, to_db(now))) is None:
                return None
            await tx.execute("UPDATE media_items SET last_daily_at = ? WHERE id = ?", (to_db(now), item_id))
            return int(item_id)

    async def claim_birthday(self, guild_id: int, star_id: int, day: date, nonce: str, now: datetime) -> bool:
        """True if this call claimed her birthday greeting for `day` (False: already claimed)."""
        async with self._db.transaction() as tx:
            inserted = await tx.fetchval(
                "INSERT INTO daily_posts (guild_id, kind, subject_id, local_date, nonce, claimed_at)"
                " VALUES (?, 'birthday', ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING subject_id",
                (guild_id, star_id, day.isoformat(), nonce, to_db(now)))
        return inserted is not None

    async def unsent(self, shards: ShardScope = ALL_SHARDS) -> list[Row]:
        return await self._db.fetchall(f"SELECT * FROM daily_posts WHERE status = 'claimed' AND {owned(shards)}")

    async def mark(self, guild_id: int, kind: str, subject_id: int, day: date, status: str, *,
                   message_id: int | None = None, now: datetime | None = None, note: str | None = None) -> None:
        await self._db.execute(
            "UPDATE daily_posts SET status = ?, message_id = ?, sent_at = ?, note = ?"
            " WHERE guild_id = ? AND kind = ? AND subject_id = ? AND local_date = ? AND status = 'claimed'",
            (status, message_id, to_db(now) if now else None, note, guild_id, kind, subject_id, day.isoformat()))

    async def posts(self, guild_id: int, kind: str) -> list[Row]:
        return await self._db.fetchall("SELECT * FROM daily_posts WHERE guild_id = ? AND kind = ? ORDER BY local_date",
                                       (guild_id, kind))


def _item(row: Row) -> MediaItem:
    tags = tuple(sorted(row["tag_list"].split(","))) if row["tag_list"] else ()
    return MediaItem(
        id=row["id"], guild_id=row["guild_id"], title=row["title"], kind=row["kind"], url=row["url"],
        file_name=row["file_name"], file_type=row["file_type"], star_id=row["star_id"], star_name=row["star_name"],
        tags=tags, credit=row["credit"], spoiler=bool(row["spoiler"]), added_by=row["added_by"],
        added_at=from_db(row["added_at"]), post_link=row["post_link"],
    )


def _submission(row: Row) -> Submission:
    return Submission(
        id=row["id"], guild_id=row["guild_id"], submitter_id=row["submitter_id"], title=row["title"],
        kind=row["kind"], status=row["status"], url=row["url"], file_name=row["file_name"],
        file_type=row["file_type"], star_id=row["star_id"], tags=tuple(t for t in row["tags"].split(",") if t),
        spoiler=bool(row["spoiler"]), item_id=row["item_id"], decided_by=row["decided_by"],
        card_channel_id=row["card_channel_id"], card_message_id=row["card_message_id"],
        credit=row["credit"], post_link=row["post_link"],
    )
