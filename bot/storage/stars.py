"""Stars and their aliases in SQLite, always scoped to one server."""

from __future__ import annotations

import sqlite3
from datetime import date

from ..domain.stars import Star, StarDraft, name_key
from .database import Database, Transaction


class StarRepository:
    """Followed stars and their aliases (SQL)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def upsert_follow(self, guild_id: int, draft: StarDraft, *, from_catalogue: bool, actor_id: int | None) -> int:
        """Follow a star (or follow again one unfollowed before); returns its id."""
        async with self._db.transaction() as tx:
            star_id = await tx.fetchval(
                "INSERT INTO stars (guild_id, name, name_key, hangul, birthday, from_catalogue, followed_by) "
                "VALUES (?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (guild_id, name_key) DO UPDATE SET followed = 1, name = excluded.name, "
                " hangul = excluded.hangul, birthday = excluded.birthday, "
                " from_catalogue = excluded.from_catalogue, followed_by = excluded.followed_by, "
                " followed_at = strftime('%Y-%m-%dT%H:%M:%SZ','now') "
                "RETURNING id",
                (guild_id, draft.name, name_key(draft.name), draft.hangul, _iso(draft.birthday),
                 int(from_catalogue), actor_id),
            )
            await self._replace_aliases(tx, star_id, draft.aliases)
            return int(star_id)

    async def update(self, star_id: int, draft: StarDraft) -> None:
        async with self._db.transaction() as tx:
            await tx.execute(
                "UPDATE stars SET hangul = ?, birthday = ? WHERE id = ?",
                (draft.hangul, _iso(draft.birthday), star_id),
            )
            await self._replace_aliases(tx, star_id, draft.aliases)

    async def set_followed(self, star_id: int, followed: bool) -> None:
        await self._db.execute("UPDATE stars SET followed = ? WHERE id = ?", (int(followed), star_id))

    async def set_notify_role(self, star_id: int, role_id: int | None) -> None:
        await self._db.execute("UPDATE stars SET notify_role_id = ? WHERE id = ?", (role_id, star_id))

    async def get(self, guild_id: int, star_id: int) -> Star | None:
        rows = await self._select("s.guild_id = ? AND s.id = ?", (guild_id, star_id))
        return rows[0] if rows else None

    async def by_key(self, guild_id: int, key: str, *, followed_only: bool = True) -> Star | None:
        where = "s.guild_id = ? AND s.name_key = ?" + (" AND s.followed = 1" if followed_only else "")
        rows = await self._select(where, (guild_id, key))
        return rows[0] if rows else None

    async def list_followed(self, guild_id: int) -> list[Star]:
        return await self._select("s.guild_id = ? AND s.followed = 1", (guild_id,))

    async def all_followed(self) -> list[Star]:
        """Every followed star of every server (the news matcher is built from these)."""
        return await self._select("s.followed = 1", ())

    async def _select(self, where: str, params: tuple) -> list[Star]:
        rows = await self._db.fetchall(
            "SELECT s.*, (SELECT group_concat(alias, char(31)) FROM "
            "  (SELECT alias FROM star_aliases a WHERE a.star_id = s.id ORDER BY rowid)) AS alias_list "
            f"FROM stars s WHERE {where} ORDER BY s.name COLLATE NOCASE",
            params,
        )
        return [_row_to_star(r) for r in rows]

    @staticmethod
    async def _replace_aliases(tx: Transaction, star_id: int, aliases: tuple[str, ...]) -> None:
        await tx.execute("DELETE FROM star_aliases WHERE star_id = ?", (star_id,))
        await tx.executemany(
            "INSERT OR IGNORE INTO star_aliases (star_id, alias) VALUES (?, ?)",
            [(star_id, a) for a in aliases],
        )


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _row_to_star(row: sqlite3.Row) -> Star:
    aliases = tuple(row["alias_list"].split("\x1f")) if row["alias_list"] else ()
    return Star(
        id=row["id"],
        guild_id=row["guild_id"],
        name=row["name"],
        hangul=row["hangul"],
        aliases=aliases,
        birthday=date.fromisoformat(row["birthday"]) if row["birthday"] else None,
        notify_role_id=row["notify_role_id"],
        from_catalogue=bool(row["from_catalogue"]),
        followed=bool(row["followed"]),
    )
