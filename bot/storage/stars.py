"""Stars and their aliases, always scoped to one server."""

from __future__ import annotations

from datetime import date, datetime

from ..domain.shards import ALL_SHARDS, ShardScope
from ..domain.stars import Star, StarDraft, name_key
from .database import Database, Row, Transaction
from .shards import owned
from .timefmt import to_db


class StarRepository:
    """Followed stars and their aliases (SQL)."""

    def __init__(self, db: Database) -> None:
        self._db = db
        aliases = db.dialect.joined("alias", "star_aliases a WHERE a.star_id = s.id", "\x1f", order_by="position")
        self._select_sql = f"SELECT s.*, {aliases} AS alias_list FROM stars s WHERE "

    async def upsert_follow(self, guild_id: int, draft: StarDraft, *, from_catalogue: bool, actor_id: int | None,
                            now: datetime) -> int:
        """Follow a star (or follow again one unfollowed before); returns its id."""
        async with self._db.transaction() as tx:
            star_id = await tx.fetchval(
                "INSERT INTO stars (guild_id, name, name_key, hangul, birthday, from_catalogue, followed_by, followed_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (guild_id, name_key) DO UPDATE SET followed = 1, name = excluded.name, "
                " hangul = excluded.hangul, birthday = excluded.birthday, "
                " from_catalogue = excluded.from_catalogue, followed_by = excluded.followed_by, "
                " followed_at = excluded.followed_at "
                "RETURNING id",
                (guild_id, draft.name, name_key(draft.name), draft.hangul, _iso(draft.birthday),
                 int(from_catalogue), actor_id, to_db(now)),
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

    async def all_followed(self, shards: ShardScope = ALL_SHARDS) -> list[Star]:
        """Every followed star of every server of `shards` (the news matcher is built from all of them)."""
        return await self._select(f"s.followed = 1 AND {owned(shards, 's.guild_id')}", ())

    async def _select(self, where: str, params: tuple) -> list[Star]:
        rows = await self._db.fetchall(self._select_sql + where + " ORDER BY s.name COLLATE NOCASE", params)
        return [_row_to_star(r) for r in rows]

    @staticmethod
    async def _replace_aliases(tx: Transaction, star_id: int, aliases: tuple[str, ...]) -> None:
        await tx.execute("DELETE FROM star_aliases WHERE star_id = ?", (star_id,))
        await tx.executemany(
            "INSERT INTO star_aliases (star_id, alias, position) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
            [(star_id, a, i) for i, a in enumerate(aliases)],
        )


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _row_to_star(row: Row) -> Star:
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
