"""Per-server settings and the channels that receive automatic posts."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..clock import Clock, SystemClock
from ..domain.channels import CHANNEL_KINDS
from ..domain.routing import Routing
from ..domain.shards import ALL_SHARDS, ShardScope
from .database import Database
from .shards import owned
from .timefmt import to_db

__all__ = ["CHANNEL_KINDS", "ChannelTarget", "GuildConfig", "GuildRepository"]


@dataclass(frozen=True, slots=True)
class ChannelTarget:
    """Where one kind of automatic post goes, and why it is paused if it is."""

    kind: str
    channel_id: int
    blocked_reason: str | None = None


@dataclass(frozen=True, slots=True)
class GuildConfig:
    """A server's settings as stored, with defaults for a server that never changed them."""

    guild_id: int
    timezone: str = "Asia/Seoul"
    mod_role_id: int | None = None
    media_hour: int = 12
    language: str = "auto"  # 'auto' (the server's Discord locale), 'en' or 'ko'
    channels: dict[str, ChannelTarget] = field(default_factory=dict)
    # Per-star news channels (SPEC §10), by star id: her news goes there instead of the news channel.
    routes: dict[int, ChannelTarget] = field(default_factory=dict)

    def channel(self, kind: str) -> ChannelTarget | None:
        return self.channels.get(kind)

    @property
    def routing(self) -> Routing:
        news = self.channel("news")
        return Routing(news.channel_id if news else None, {s: t.channel_id for s, t in self.routes.items()})

    def channel_target(self, channel_id: int) -> ChannelTarget | None:
        """The news target of this channel (the news channel or a route), paused if any of them is."""
        found = [t for t in (self.channel("news"), *self.routes.values()) if t is not None and t.channel_id == channel_id]
        return next((t for t in found if t.blocked_reason), found[0] if found else None)


class GuildRepository:
    """Per-server settings and channels (SQL)."""

    def __init__(self, db: Database, clock: Clock | None = None) -> None:
        self._db = db
        self._clock = clock or SystemClock()

    async def get(self, guild_id: int) -> GuildConfig:
        row = await self._db.fetchone("SELECT * FROM guild_settings WHERE guild_id = ?", (guild_id,))
        chans = await self._db.fetchall(
            "SELECT kind, channel_id, blocked_reason FROM guild_channels WHERE guild_id = ?", (guild_id,)
        )
        channels = {r["kind"]: ChannelTarget(r["kind"], r["channel_id"], r["blocked_reason"]) for r in chans}
        routes = {r["star_id"]: ChannelTarget("news", r["channel_id"], r["blocked_reason"]) for r in await self._db.fetchall(
            "SELECT star_id, channel_id, blocked_reason FROM news_routes WHERE guild_id = ?", (guild_id,))}
        if row is None:
            return GuildConfig(guild_id=guild_id, channels=channels, routes=routes)
        return GuildConfig(
            guild_id=guild_id,
            timezone=row["timezone"],
            mod_role_id=row["mod_role_id"],
            media_hour=row["media_hour"],
            language=row["language"],
            channels=channels,
            routes=routes,
        )

    async def guild_ids(self, shards: ShardScope = ALL_SHARDS) -> list[int]:
        mine = owned(shards)
        rows = await self._db.fetchall(
            f"SELECT guild_id FROM guild_settings WHERE {mine} UNION SELECT guild_id FROM guild_channels WHERE {mine} "
            f"UNION SELECT guild_id FROM stars WHERE followed = 1 AND {mine}"
        )
        return [r[0] for r in rows]

    async def _set(self, guild_id: int, column: str, value: object) -> None:
        assert column in ("timezone", "mod_role_id", "media_hour", "language")
        await self._db.execute(
            f"INSERT INTO guild_settings (guild_id, {column}, updated_at) VALUES (?, ?, ?) "
            f"ON CONFLICT (guild_id) DO UPDATE SET {column} = excluded.{column}, updated_at = excluded.updated_at",
            (guild_id, value, to_db(self._clock.now())),
        )

    async def set_timezone(self, guild_id: int, tz: str) -> None:
        await self._set(guild_id, "timezone", tz)

    async def set_mod_role(self, guild_id: int, role_id: int | None) -> None:
        await self._set(guild_id, "mod_role_id", role_id)

    async def set_media_hour(self, guild_id: int, hour: int) -> None:
        await self._set(guild_id, "media_hour", hour)

    async def set_language(self, guild_id: int, language: str) -> None:
        await self._set(guild_id, "language", language)

    async def set_channel(self, guild_id: int, kind: str, channel_id: int | None) -> None:
        if channel_id is None:
            await self._db.execute("DELETE FROM guild_channels WHERE guild_id = ? AND kind = ?", (guild_id, kind))
            return
        await self._db.execute(
            "INSERT INTO guild_channels (guild_id, kind, channel_id) VALUES (?, ?, ?) "
            "ON CONFLICT (guild_id, kind) DO UPDATE SET channel_id = excluded.channel_id, "
            "blocked_reason = NULL, blocked_at = NULL",
            (guild_id, kind, channel_id),
        )
        if kind == "news":
            await self._unblock_news(guild_id, channel_id)

    async def _unblock_news(self, guild_id: int, channel_id: int) -> None:
        """Setting a channel again resumes it: a pause is per channel, so every news target there resumes."""
        for table in ("news_routes", "guild_channels"):
            kind = " AND kind = 'news'" if table == "guild_channels" else ""
            await self._db.execute(
                f"UPDATE {table} SET blocked_reason = NULL, blocked_at = NULL WHERE guild_id = ? AND channel_id = ?"
                f"{kind} AND blocked_reason IS NOT NULL",
                (guild_id, channel_id),
            )

    async def set_route(self, guild_id: int, star_id: int, channel_id: int) -> None:
        await self._db.execute(
            "INSERT INTO news_routes (guild_id, star_id, channel_id) VALUES (?, ?, ?) "
            "ON CONFLICT (guild_id, star_id) DO UPDATE SET channel_id = excluded.channel_id, "
            "blocked_reason = NULL, blocked_at = NULL",
            (guild_id, star_id, channel_id),
        )
        await self._unblock_news(guild_id, channel_id)

    async def remove_route(self, guild_id: int, star_id: int) -> bool:
        return await self._db.execute(
            "DELETE FROM news_routes WHERE guild_id = ? AND star_id = ?", (guild_id, star_id)) == 1

    async def block_channel(self, guild_id: int, channel_id: int, reason: str) -> list[str]:
        """Stop posting to a channel Discord refused; returns the kinds that pointed at it (a star's
        route counts as news)."""
        async with self._db.transaction() as tx:
            rows = await tx.fetchall(
                "UPDATE guild_channels SET blocked_reason = ?, blocked_at = ? "
                "WHERE guild_id = ? AND channel_id = ? AND blocked_reason IS NULL RETURNING kind",
                (reason[:200], to_db(self._clock.now()), guild_id, channel_id),
            )
            routes = await tx.fetchall(
                "UPDATE news_routes SET blocked_reason = ?, blocked_at = ? "
                "WHERE guild_id = ? AND channel_id = ? AND blocked_reason IS NULL RETURNING star_id",
                (reason[:200], to_db(self._clock.now()), guild_id, channel_id),
            )
        kinds = [r[0] for r in rows]
        if routes and "news" not in kinds:
            kinds.append("news")
        return kinds
