"""Her posts as media suggestions: queued with the fans' submissions (media_submissions), once per post."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ..domain.shards import ALL_SHARDS, ShardScope
from .database import Database, Transaction
from .shards import owned
from .timefmt import to_db

# A suggestion has no fan behind it; the card and the outcome say whose post it was instead.
NO_SUBMITTER = 0


@dataclass(frozen=True, slots=True)
class NewSuggestion:
    """A post of hers to put in the media queue, as the ingest found it."""

    guild_id: int
    title: str
    kind: str
    post_link: str
    post_key: str
    url_key: str
    star_id: int
    credit: str
    media_url: str | None
    media_length: int | None


@dataclass(frozen=True, slots=True)
class PendingFile:
    """A suggestion whose file the bot has yet to try to keep."""

    id: int
    guild_id: int
    media_url: str
    media_length: int | None
    post_link: str


class SuggestionRepository:
    """Her posts as media suggestions (SQL): one per server and post, in the submissions queue."""

    def __init__(self, db: Database) -> None:
        self._db = db

    @staticmethod
    async def record(tx: Transaction, new: NewSuggestion, now: datetime) -> int | None:
        """Queue her post (inside the poll's transaction); None if this server had it already, in the
        queue or decided, or has the link in its library."""
        if await tx.fetchval("SELECT 1 FROM media_items WHERE guild_id = ? AND url_key = ?", (new.guild_id, new.url_key)):
            return None
        value = await tx.fetchval(
            "INSERT INTO media_submissions (guild_id, submitter_id, title, kind, url, url_key, star_id, credit,"
            " post_link, post_key, media_url, media_length, submitted_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT DO NOTHING RETURNING id",
            (new.guild_id, NO_SUBMITTER, new.title, new.kind, new.post_link, new.url_key, new.star_id, new.credit,
             new.post_link, new.post_key, new.media_url, new.media_length, to_db(now)),
        )
        return int(value) if value is not None else None

    async def files_to_keep(self, shards: ShardScope = ALL_SHARDS) -> list[PendingFile]:
        rows = await self._db.fetchall(
            "SELECT id, guild_id, media_url, media_length, post_link FROM media_submissions WHERE status = 'pending'"
            f" AND media_url IS NOT NULL AND file_name IS NULL AND card_message_id IS NULL AND {owned(shards)} ORDER BY id")
        return [PendingFile(r[0], r[1], r[2], r[3], r[4]) for r in rows]

    async def keep_file(self, suggestion_id: int, *, kind: str, file_name: str, file_type: str, sha256: str) -> bool:
        """The file replaces the link as what the library will hold (the post link stays as post_link);
        False if the same file is already queued or in the library (the link is kept instead)."""
        async with self._db.transaction() as tx:
            row = await tx.fetchone("SELECT guild_id FROM media_submissions WHERE id = ?", (suggestion_id,))
            if row is None:
                return False
            taken = await tx.fetchval(
                "SELECT 1 FROM media_items WHERE guild_id = ? AND file_sha256 = ? UNION ALL "
                "SELECT 1 FROM media_submissions WHERE guild_id = ? AND file_sha256 = ? AND status = 'pending'",
                (row[0], sha256, row[0], sha256))
            if taken:
                await tx.execute("UPDATE media_submissions SET media_url = NULL WHERE id = ?", (suggestion_id,))
                return False
            changed = await tx.execute(
                "UPDATE media_submissions SET kind = ?, url = NULL, url_key = NULL, file_name = ?, file_type = ?,"
                " file_sha256 = ?, media_url = NULL WHERE id = ? AND status = 'pending' AND card_message_id IS NULL",
                (kind, file_name, file_type, sha256, suggestion_id))
        return changed > 0

    async def link_only(self, suggestion_id: int, kind: str) -> None:
        """Nothing to keep (too big, not media, unreachable): the suggestion is the post's link."""
        await self._db.execute("UPDATE media_submissions SET media_url = NULL, kind = ? WHERE id = ?",
                               (kind, suggestion_id))
