"""Server configuration: channels for each kind of post, time zone, moderator role, media hour."""

from __future__ import annotations

from functools import cache
from zoneinfo import available_timezones

from ..domain.channels import CHANNEL_KINDS
from ..domain.shards import ALL_SHARDS, ShardScope
from ..domain.stars import Star
from ..errors import UserError
from ..storage.guilds import GuildConfig, GuildRepository

LANGUAGE_SETTINGS = ("auto", "en", "ko")


class GuildConfigService:
    """A server's settings: channels per kind of post, language, time zone, moderator role, media hour."""

    def __init__(self, repo: GuildRepository) -> None:
        self._repo = repo

    async def get(self, guild_id: int) -> GuildConfig:
        return await self._repo.get(guild_id)

    async def guild_ids(self, shards: ShardScope = ALL_SHARDS) -> list[int]:
        return await self._repo.guild_ids(shards)

    async def set_channel(self, guild_id: int, kind: str, channel_id: int | None) -> None:
        if kind not in CHANNEL_KINDS:
            raise UserError("config.unknown_kind", kind=kind[:20], kinds=", ".join(CHANNEL_KINDS))
        await self._repo.set_channel(guild_id, kind, channel_id)

    async def route_star(self, guild_id: int, kind: str, star_id: int, channel_id: int) -> None:
        """Send one star's news to a channel of its own (SPEC §10); only news is routed per star."""
        if kind != "news":
            raise UserError("config.route_not_news", kind=kind[:20])
        await self._repo.set_route(guild_id, star_id, channel_id)

    async def unroute_star(self, guild_id: int, star: Star) -> None:
        if not await self._repo.remove_route(guild_id, star.id):
            raise UserError("config.not_routed", star=star)

    async def set_timezone(self, guild_id: int, tz: str) -> str:
        name = iana_zones().get(tz.strip().casefold())
        if name is None:
            raise UserError("config.bad_timezone", name=tz.strip()[:40])
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


# Files in the zoneinfo directory that ZoneInfo() loads but that are not IANA zone names: "localtime" is
# the host's own zone (a symlink on Debian), "Factory" means "not set", "posixrules" is a template.
_NOT_ZONES = frozenset({"localtime", "Factory", "posixrules"})


@cache
def iana_zones() -> dict[str, str]:
    """IANA zone names by their case-folded form. available_timezones() walks the zoneinfo directory,
    so it is read once, not on every autocomplete keystroke."""
    return {z.casefold(): z for z in sorted(available_timezones() - _NOT_ZONES)}


def timezone_suggestions(current: str, limit: int = 25) -> list[str]:
    needle = current.strip().lower().replace(" ", "_")
    zones = list(iana_zones().values())
    if not needle:
        preferred = ["Asia/Seoul", "Asia/Tokyo", "America/New_York", "America/Los_Angeles", "Europe/London", "UTC"]
        return [z for z in preferred if z in zones][:limit]
    return [z for z in zones if needle in z.lower()][:limit]
