"""Delivery leases: the one process that may post a server's news right now (SPEC §9, rolling restarts)."""

from __future__ import annotations

from datetime import datetime, timedelta

from .database import Database
from .timefmt import to_db


class LeaseRepository:
    """One row per server. Claimed in one statement (an upsert whose update only applies when the row
    is expired or already ours), so two processes can never both hold it; PostgreSQL's row lock on the
    conflicting row makes the second claimant wait and then see the first one's lease."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def claim(self, guild_id: int, holder: str, now: datetime, ttl: timedelta) -> bool:
        taken = await self._db.execute_returning(
            "INSERT INTO delivery_leases (guild_id, holder, expires_at) VALUES (?, ?, ?) "
            "ON CONFLICT (guild_id) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at "
            "WHERE delivery_leases.holder = excluded.holder OR delivery_leases.expires_at <= ? RETURNING guild_id",
            (guild_id, holder, to_db(now + ttl), to_db(now)),
        )
        return taken is not None

    async def renew(self, guild_id: int, holder: str, now: datetime, ttl: timedelta) -> bool:
        """Extend our lease; False if it is not ours any more (we stalled past it and another took it)."""
        return await self._db.execute(
            "UPDATE delivery_leases SET expires_at = ? WHERE guild_id = ? AND holder = ?",
            (to_db(now + ttl), guild_id, holder),
        ) == 1

    async def release(self, guild_id: int, holder: str) -> None:
        await self._db.execute("DELETE FROM delivery_leases WHERE guild_id = ? AND holder = ?", (guild_id, holder))

    async def holder(self, guild_id: int, now: datetime) -> str | None:
        """Who holds the server's lease now (None: nobody, or it expired)."""
        return await self._db.fetchval(
            "SELECT holder FROM delivery_leases WHERE guild_id = ? AND expires_at > ?", (guild_id, to_db(now)))
