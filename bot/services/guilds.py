"""Server configuration: channels for each kind of post, time zone, moderator role, media hour."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from ..errors import UserError

LANGUAGE_SETTINGS = ("auto", "en", "ko")
from ..domain.channels import CHANNEL_KINDS
from ..storage.guilds import GuildConfig, GuildRepository


class GuildConfigService:
    """A server's settings: channels per kind of post, language, time zone, moderator role, media hour."""

    def __init__(self, repo: GuildRepository) -> None:
        self._repo = repo

    async def get(self, guild_id: int) -> GuildConfig:
        return await self._repo.get(guild_id)

    async def guild_ids(self) -> list[int]:
        return await self._repo.guild_ids()

    async def set_channel(self, guild_id: int, kind: str, channel_id: int | None) -> None:
        if kind not in CHANNEL_KINDS:
            raise UserError("config.unknown_kind", kind=kind[:20], kinds=", ".join(CHANNEL_KINDS))
        await self._repo.set_channel(guild_id, kind, channel_id)

    async def set_timezone(self, guild_id: int, tz: str) -> str:
        name = tz.strip()
        try:
            if not name or len(name) > 64 or name.startswith(("/", ".")):
                raise ValueError
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise UserError("config.bad_timezone", name=name[:40]) from None
        await self._repo.set_timezone(guild_id, name)
        return name

    async def set_mod_role(self, guild_id: int, role_id: int | None) -> None:
        await self._repo.set_mod_role(guild_id, role_id)

    async def set_media_hour(self, guild_id: int, hour: int) -> None:
        if not 0 <= hour <= 23:
            raise UserError("config.bad_media_hour")
        await self._repo.set_media_hour(guild_id, hour)

    async def set_language(self, guild_id: int, language: str) -> None:
        if language not in LANGUAGE_SETTINGS:
            raise UserError("config.bad_language", value=language[:20])
        await self._repo.set_language(guild_id, language)

    async def block_channel(self, guild_id: int, channel_id: int, reason: str) -> list[str]:
        return await self._repo.block_channel(guild_id, channel_id, reason)


def timezone_suggestions(current: str, limit: int = 25) -> list[str]:
    needle = current.strip().lower().replace(" ", "_")
    zones = sorted(available_timezones())
    if not needle:
        preferred = ["Asia/Seoul", "Asia/Tokyo", "America/New_York", "America/Los_Angeles", "Europe/London", "UTC"]
        return [z for z in preferred if z in zones][:limit]
    return [z for z in zones if needle in z.lower()][:limit]
