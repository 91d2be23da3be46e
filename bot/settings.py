"""Settings: read once from the environment (after .env is loaded) into a frozen object that is passed in."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from dotenv import load_dotenv

DEFAULT_STAR_SEARCH_FEEDS = (
    "https://news.google.com/rss/search?q={query}&hl=en-US&gl=US&ceid=US:en",
    "https://news.google.com/rss/search?q={query}&hl=ko&gl=KR&ceid=KR:ko",
)
LOG_LEVELS = ("CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG")


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
    discord_api_base: str | None = None
    dev_guild_id: int | None = None
    feed_poll_interval: int = 600
    feed_allow_private_networks: bool = False
    star_search_feeds: tuple[str, ...] = DEFAULT_STAR_SEARCH_FEEDS
    log_level: str = "INFO"
    media_path: Path = Path("data/media")
    media_max_bytes: int = 25 * 1024 * 1024
    feed_max_bytes: int = 5 * 1024 * 1024

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
        media_mb = _int(env, "MEDIA_MAX_MB", 25)
        if not 1 <= media_mb <= 500:
            raise SettingsError("MEDIA_MAX_MB must be between 1 and 500")
        return cls(
            discord_token=Secret(token) if token else None,
            database_path=Path(get("DATABASE_PATH") or "data/fanbot.db"),
            discord_api_base=api_base,
            dev_guild_id=_int(env, "DEV_GUILD_ID", None),
            feed_poll_interval=poll,
            feed_allow_private_networks=_bool(env, "FEED_ALLOW_PRIVATE_NETWORKS", False),
            star_search_feeds=templates,
            log_level=level,
            media_path=Path(get("MEDIA_PATH") or "data/media"),
            media_max_bytes=media_mb * 1024 * 1024,
        )


def _int(env: Mapping[str, str], name: str, default: int | None) -> int | None:  # type: ignore[return]
    raw = env.get(name, "")
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, not {raw[:40]!r}") from None


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name, "").lower()
    if not raw:
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise SettingsError(f"{name} must be true or false, not {raw[:40]!r}")
