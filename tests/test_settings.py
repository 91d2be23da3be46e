"""Settings: defaults, validation, and the token never showing itself."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.settings import DEFAULT_STAR_SEARCH_FEEDS, Settings, SettingsError


def test_defaults_need_no_token():
    s = Settings.from_env({})
    assert s.discord_token is None
    assert s.database_path == Path("data/fanbot.db")
    assert s.feed_poll_interval == 600
    assert s.feed_allow_private_networks is False
    assert s.star_search_feeds == DEFAULT_STAR_SEARCH_FEEDS
    assert s.discord_api_base is None


def test_values_are_read_and_typed():
    s = Settings.from_env(
        {
            "DISCORD_TOKEN": "abc.def.ghijklmnop",
            "DATABASE_PATH": "/tmp/x.db",
            "DISCORD_API_BASE": "http://127.0.0.1:9/api/v10/",
            "DEV_GUILD_ID": "123",
            "FEED_POLL_INTERVAL": "30",
            "FEED_ALLOW_PRIVATE_NETWORKS": "true",
            "STAR_SEARCH_FEEDS": "",
            "LOG_LEVEL": "debug",
        }
    )
    assert s.discord_token is not None and s.discord_token.get() == "abc.def.ghijklmnop"
    assert s.discord_api_base == "http://127.0.0.1:9/api/v10"
    assert s.dev_guild_id == 123 and s.feed_poll_interval == 30
    assert s.feed_allow_private_networks is True
    assert s.star_search_feeds == ()
    assert s.log_level == "DEBUG"


def test_token_is_hidden_from_repr():
    s = Settings.from_env({"DISCORD_TOKEN": "super-secret-token-value"})
    assert "super-secret" not in repr(s)
    assert "super-secret" not in str(s.discord_token)


@pytest.mark.parametrize(
    ("env", "needle"),
    [
        ({"FEED_POLL_INTERVAL": "5"}, "FEED_POLL_INTERVAL"),
        ({"FEED_POLL_INTERVAL": "often"}, "FEED_POLL_INTERVAL"),
        ({"DEV_GUILD_ID": "x"}, "DEV_GUILD_ID"),
        ({"FEED_ALLOW_PRIVATE_NETWORKS": "maybe"}, "FEED_ALLOW_PRIVATE_NETWORKS"),
        ({"LOG_LEVEL": "LOUD"}, "LOG_LEVEL"),
        ({"DISCORD_API_BASE": "ftp://x"}, "DISCORD_API_BASE"),
        ({"STAR_SEARCH_FEEDS": "https://example.com/no-placeholder"}, "STAR_SEARCH_FEEDS"),
    ],
)
def test_bad_values_name_the_setting(env, needle):
    with pytest.raises(SettingsError, match=needle):
        Settings.from_env(env)


def test_env_example_lists_every_setting():
    example = (Path(__file__).resolve().parents[1] / ".env.example").read_text()
    for name in (
        "DISCORD_TOKEN", "DATABASE_PATH", "DISCORD_API_BASE", "DEV_GUILD_ID", "FEED_POLL_INTERVAL",
        "FEED_ALLOW_PRIVATE_NETWORKS", "STAR_SEARCH_FEEDS", "LOG_LEVEL", "MEDIA_PATH", "MEDIA_MAX_MB",
    ):
        assert name in example
