"""Small key/value facts the bot keeps about itself (e.g. the hash of the last synced command tree)."""

from __future__ import annotations

from .database import Database


class BotState:
    """Small key-value facts the bot keeps between runs (e.g. the synced command hash)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, key: str) -> str | None:
        return await self._db.fetchval("SELECT value FROM bot_state WHERE key = ?", (key,))

    async def set(self, key: str, value: str) -> None:
        await self._db.execute(
            "INSERT INTO bot_state (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )
