"""Settings: read once from the environment (after .env is loaded) into a frozen object that is passed in."""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from dotenv import load_dotenv

from .domain.socials import PLATFORMS, default_templates

DEFAULT_STAR_SEARCH_FEEDS = (
    "https://news.google.com/rss/search?q={query}&hl=en-US&gl=US&ceid=US:en",
    "https://news.google.com/rss/search?q={query}&hl=ko&gl=KR&ceid=KR:ko",
)
LOG_LEVELS = ("CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG")
PROCESS_ROLES = ("gateway", "feeds", "leader")
MAX_SHARD_COUNT = 65_536  # far above any bot's need; it only keeps a typo from meaning a million shards


class SettingsError(ValueError):
    """A setting has a value fanbot cannot use; the message names the setting."""


class Secret:
    """A string that never shows itself in logs, reprs or tracebacks."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def get(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    __str__ = __repr__

    def __bool__(self) -> bool:
        return bool(self._value)


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything fanbot reads from the environment, once, frozen."""

    discord_token: Secret | None = None
    database_path: Path = Path("data/fanbot.db")
    # PostgreSQL instead of the SQLite file; a Secret because it usually carries a password.
    database_url: Secret | None = None
    discord_api_base: str | None = None
    dev_guild_id: int | None = None
    feed_poll_interval: int = 600
    feed_allow_private_networks: bool = False
    star_search_feeds: tuple[str, ...] = DEFAULT_STAR_SEARCH_FEEDS
    # (platform, URL template with {handle}) for a star's own accounts (SPEC §10).
    social_feed_templates: tuple[tuple[str, str], ...] = tuple(default_templates(None).items())
    rsshub_base: str | None = None
    log_level: str = "INFO"
    media_path: Path = Path("data/media")
    media_max_bytes: int = 25 * 1024 * 1024
    feed_max_bytes: int = 5 * 1024 * 1024
    shard_count: int | None = None  # None: one process, one shard, as before sharding
    shard_ids: tuple[int, ...] | None = None  # None: every shard of shard_count
    process_roles: frozenset[str] = frozenset(PROCESS_ROLES)
    # Seconds within which a standby takes over once the leader's database connection is gone.
    leader_lease: int = 15
    # Seconds a server's news delivery lease lasts unrenewed: how long a process that died mid-delivery
    # holds that server's posts back before another process on its shard takes over.
    delivery_lease: int = 60
    # Lets a test split the work across processes on one SQLite file, which production refuses.
    sqlite_split_for_tests: bool = False
    # For subprocess tests only, which cannot move a clock: a faster scheduler tick and the double's
    # shorter IDENTIFY spacing instead of Discord's 5 s. None: the real values.
    test_tick_seconds: float | None = None
    test_identify_seconds: float | None = None

    @property
    def social_templates(self) -> dict[str, str]:
        return dict(self.social_feed_templates)

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, *, dotenv_path: str | os.PathLike[str] | None = ".env"
    ) -> "Settings":
        """Build settings from `environ` (default: os.environ after loading `.env`, which never overrides)."""
        if environ is None:
            if dotenv_path is not None:
                load_dotenv(dotenv_path, override=False)
            environ = os.environ
        env = {k: v.strip() for k, v in environ.items() if v is not None}

        def get(name: str) -> str | None:
            value = env.get(name, "")
            return value or None

        token = get("DISCORD_TOKEN")
        poll = _int(env, "FEED_POLL_INTERVAL", 600)
        if poll < 10:
            raise SettingsError("FEED_POLL_INTERVAL must be at least 10 seconds")
        level = (get("LOG_LEVEL") or "INFO").upper()
        if level not in LOG_LEVELS:
            raise SettingsError(f"LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}")
        api_base = get("DISCORD_API_BASE")
        if api_base is not None:
            if not api_base.startswith(("http://", "https://")):
                raise SettingsError("DISCORD_API_BASE must be an http(s) URL such as http://127.0.0.1:8080/api/v10")
            api_base = api_base.rstrip("/")
        templates: tuple[str, ...]
        if "STAR_SEARCH_FEEDS" in env:
            templates = tuple(env["STAR_SEARCH_FEEDS"].split())
            for template in templates:
                if "{query}" not in template or not template.startswith(("http://", "https://")):
                    raise SettingsError("STAR_SEARCH_FEEDS entries must be http(s) URLs containing {query}")
        else:
            templates = DEFAULT_STAR_SEARCH_FEEDS
        database_url = get("DATABASE_URL")
        if database_url is not None and not database_url.startswith(("postgresql://", "postgres://")):
            # The value itself is never echoed: it may hold a password.
            raise SettingsError("DATABASE_URL must be a PostgreSQL URL: postgresql://user:password@host:5432/dbname")
        allow_private = _bool(env, "FEED_ALLOW_PRIVATE_NETWORKS", False)
        rsshub = _rsshub_base(get("RSSHUB_BASE"), allow_private)
        social = _social_templates(env.get("SOCIAL_FEED_TEMPLATES"), rsshub)
        media_mb = _int(env, "MEDIA_MAX_MB", 25)
        if not 1 <= media_mb <= 500:
            raise SettingsError("MEDIA_MAX_MB must be between 1 and 500")
        shard_count = _int(env, "SHARD_COUNT", None)
        if shard_count is not None and not 1 <= shard_count <= MAX_SHARD_COUNT:
            raise SettingsError(f"SHARD_COUNT must be between 1 and {MAX_SHARD_COUNT}, not {shard_count}")
        shard_ids = _shard_ids(get("SHARD_IDS"), shard_count)
        lease = _int(env, "LEADER_LEASE_SECONDS", 15)
        if not 1 <= lease <= 3600:
            raise SettingsError("LEADER_LEASE_SECONDS must be between 1 and 3600")
        delivery_lease = _int(env, "DELIVERY_LEASE_SECONDS", 60)
        if not 3 <= delivery_lease <= 3600:
            raise SettingsError("DELIVERY_LEASE_SECONDS must be between 3 and 3600")
        return cls(
            discord_token=Secret(token) if token else None,
            database_path=Path(get("DATABASE_PATH") or "data/fanbot.db"),
            database_url=Secret(database_url) if database_url else None,
            discord_api_base=api_base,
            dev_guild_id=_int(env, "DEV_GUILD_ID", None),
            feed_poll_interval=poll,
            feed_allow_private_networks=allow_private,
            star_search_feeds=templates,
            social_feed_templates=social,
            rsshub_base=rsshub,
            log_level=level,
            media_path=Path(get("MEDIA_PATH") or "data/media"),
            media_max_bytes=media_mb * 1024 * 1024,
            shard_count=shard_count,
            shard_ids=shard_ids,
            process_roles=_roles(get("PROCESS_ROLES")),
            leader_lease=lease,
            delivery_lease=delivery_lease,
            sqlite_split_for_tests=_bool(env, "FANBOT_TEST_SQLITE_SPLIT", False),
            test_tick_seconds=_seconds(env, "FANBOT_TEST_TICK_SECONDS"),
            test_identify_seconds=_seconds(env, "FANBOT_TEST_IDENTIFY_SECONDS"),
        )


def database_password(url: str) -> str | None:
    """The password inside a database URL, so logging can blank it (None: there is none)."""
    return urlsplit(url).password


def _int(env: Mapping[str, str], name: str, default: int | None) -> int | None:  # type: ignore[return]
    raw = env.get(name, "")
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, not {raw[:40]!r}") from None


def _seconds(env: Mapping[str, str], name: str) -> float | None:
    raw = env.get(name, "")
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number of seconds, not {raw[:40]!r}") from None
    if not 0 < value <= 60:
        raise SettingsError(f"{name} must be between 0 and 60 seconds")
    return value


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name, "").lower()
    if not raw:
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise SettingsError(f"{name} must be true or false, not {raw[:40]!r}")


def _rsshub_base(raw: str | None, allow_private: bool) -> str | None:
    if raw is None:
        return None
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SettingsError("RSSHUB_BASE must be an http(s) URL such as https://rsshub.example.org")
    if not allow_private:
        reason = _private_host(parts.hostname)
        if reason:
            raise SettingsError(f"RSSHUB_BASE points at {reason}; set FEED_ALLOW_PRIVATE_NETWORKS=true for a "
                                "self-hosted RSSHub on your own network")
    return raw.rstrip("/")


def _private_host(host: str) -> str | None:
    """Why a host written in a setting is private ("a loopback address"), judged without DNS: names
    that resolve privately are still refused by the guarded fetcher when fetched."""
    from .net.addresses import blocked_reason  # the network package is not needed to read other settings

    if host.lower() == "localhost" or host.lower().endswith(".localhost"):
        return "a loopback address"
    try:
        return blocked_reason(ipaddress.ip_address(host))
    except ValueError:
        return None


def _social_templates(raw: str | None, rsshub: str | None) -> tuple[tuple[str, str], ...]:
    """`platform=URL` pairs (URL with {handle}, and {RSSHUB_BASE} if wanted); default: see default_templates."""
    if raw is None:
        return tuple(default_templates(rsshub).items())
    found: dict[str, str] = {}
    for pair in raw.split():
        platform, _, template = pair.partition("=")
        platform = platform.strip().lower()
        if platform not in PLATFORMS:
            raise SettingsError(f"SOCIAL_FEED_TEMPLATES platforms are {', '.join(PLATFORMS)}, not {platform[:20]!r}")
        if "{RSSHUB_BASE}" in template:
            if rsshub is None:
                raise SettingsError(f"SOCIAL_FEED_TEMPLATES uses {{RSSHUB_BASE}} for {platform}, but RSSHUB_BASE is not set")
            template = template.replace("{RSSHUB_BASE}", rsshub)
        if "{handle}" not in template or not template.startswith(("http://", "https://")):
            raise SettingsError("SOCIAL_FEED_TEMPLATES entries must look like platform=https://...{handle}...")
        found[platform] = template
    return tuple(found.items())


def _shard_ids(raw: str | None, count: int | None) -> tuple[int, ...] | None:
    """`0-3` or `0,2` (or both: `0-1,4`) into sorted shard ids below SHARD_COUNT."""
    if raw is None:
        return None
    if count is None:
        raise SettingsError("SHARD_IDS needs SHARD_COUNT (the total number of shards of the bot)")
    ids: set[int] = set()
    for part in raw.split(","):
        low, dash, high = part.strip().partition("-")
        try:
            first, last = int(low), int(high if dash else low)
        except ValueError:
            raise SettingsError(f"SHARD_IDS must look like 0-3 or 0,2, not {raw[:40]!r}") from None
        if first > last or first < 0 or last >= count:
            raise SettingsError(f"SHARD_IDS must be shards 0 to {count - 1} (SHARD_COUNT is {count}), not {part.strip()!r}")
        ids.update(range(first, last + 1))
    return tuple(sorted(ids))


def _roles(raw: str | None) -> frozenset[str]:
    if raw is None:
        return frozenset(PROCESS_ROLES)
    roles = {r.strip().lower() for r in raw.split(",") if r.strip()}
    unknown = sorted(roles - set(PROCESS_ROLES))
    if unknown or not roles:
        raise SettingsError(f"PROCESS_ROLES must be a comma-separated list of {', '.join(PROCESS_ROLES)}, not {raw[:40]!r}")
    return frozenset(roles)
