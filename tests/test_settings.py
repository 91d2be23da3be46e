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


def test_shards_and_roles():
    default = Settings.from_env({})
    assert default.shard_count is None and default.shard_ids is None
    assert default.process_roles == {"gateway", "feeds", "leader"} and not default.sqlite_split_for_tests
    s = Settings.from_env({"SHARD_COUNT": "8", "SHARD_IDS": "4-5, 0,2", "PROCESS_ROLES": " Gateway ,leader"})
    assert s.shard_count == 8 and s.shard_ids == (0, 2, 4, 5)
    assert s.process_roles == {"gateway", "leader"}
    assert Settings.from_env({"SHARD_COUNT": "2"}).shard_ids is None  # every shard of the two
    assert Settings.from_env({"SHARD_COUNT": "4", "SHARD_IDS": "0-3"}).shard_ids == (0, 1, 2, 3)


def test_bad_settings_are_one_line_messages():
    for env in ({"SHARD_COUNT": "4", "SHARD_IDS": "9"}, {"PROCESS_ROLES": "everything"}):
        with pytest.raises(SettingsError) as caught:
            Settings.from_env(env)
        assert "\n" not in str(caught.value) and len(str(caught.value)) < 200


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
        ({"SHARD_COUNT": "0"}, "SHARD_COUNT"),
        ({"SHARD_COUNT": "two"}, "SHARD_COUNT"),
        ({"SHARD_IDS": "0"}, "SHARD_IDS needs SHARD_COUNT"),
        ({"SHARD_COUNT": "4", "SHARD_IDS": "0-4"}, "SHARD_IDS must be shards 0 to 3"),
        ({"SHARD_COUNT": "4", "SHARD_IDS": "3-1"}, "SHARD_IDS"),
        ({"SHARD_COUNT": "4", "SHARD_IDS": "0;2"}, "SHARD_IDS must look like 0-3 or 0,2"),
        ({"SHARD_COUNT": "4", "SHARD_IDS": "-1"}, "SHARD_IDS"),
        ({"PROCESS_ROLES": "gateway,web"}, "PROCESS_ROLES must be a comma-separated list of gateway, feeds, leader"),
        ({"PROCESS_ROLES": ","}, "PROCESS_ROLES"),
        ({"FANBOT_TEST_SQLITE_SPLIT": "sometimes"}, "FANBOT_TEST_SQLITE_SPLIT"),
        ({"LEADER_LEASE_SECONDS": "0"}, "LEADER_LEASE_SECONDS"),
        ({"DELIVERY_LEASE_SECONDS": "1"}, "DELIVERY_LEASE_SECONDS must be between 3 and 3600"),
        ({"DELIVERY_LEASE_SECONDS": "soon"}, "DELIVERY_LEASE_SECONDS"),
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
        "SHARD_COUNT", "SHARD_IDS", "PROCESS_ROLES",
    ):
        assert name in example


def test_social_feed_templates_default_to_youtube_and_rsshub_when_set():
    assert Settings.from_env({}).social_templates == {
        "youtube": "https://www.youtube.com/feeds/videos.xml?channel_id={handle}"}
    s = Settings.from_env({"RSSHUB_BASE": "https://rsshub.example.org/"})
    assert s.rsshub_base == "https://rsshub.example.org"
    assert s.social_templates["instagram"] == "https://rsshub.example.org/instagram/user/{handle}"
    assert s.social_templates["x"] == "https://rsshub.example.org/twitter/user/{handle}"
    assert s.social_templates["weibo"] == "https://rsshub.example.org/weibo/user/{handle}"
    own = Settings.from_env({"RSSHUB_BASE": "https://hub.example", "SOCIAL_FEED_TEMPLATES":
                             "instagram={RSSHUB_BASE}/picnob/user/{handle} youtube=https://yt.example/{handle}"})
    assert own.social_templates == {"instagram": "https://hub.example/picnob/user/{handle}",
                                    "youtube": "https://yt.example/{handle}"}
    assert Settings.from_env({"SOCIAL_FEED_TEMPLATES": ""}).social_templates == {}


@pytest.mark.parametrize("env, needle", [
    ({"RSSHUB_BASE": "ftp://rsshub.example"}, "RSSHUB_BASE must be an http(s) URL"),
    ({"RSSHUB_BASE": "rsshub.example"}, "RSSHUB_BASE must be an http(s) URL"),
    ({"RSSHUB_BASE": "http://127.0.0.1:1200"}, "FEED_ALLOW_PRIVATE_NETWORKS"),
    ({"RSSHUB_BASE": "http://192.168.1.20:1200"}, "a private address"),
    ({"RSSHUB_BASE": "http://localhost:1200"}, "a loopback address"),
    ({"SOCIAL_FEED_TEMPLATES": "myspace=https://a.example/{handle}"}, "platforms are"),
    ({"SOCIAL_FEED_TEMPLATES": "instagram=https://a.example/user"}, "{handle}"),
    ({"SOCIAL_FEED_TEMPLATES": "instagram={RSSHUB_BASE}/instagram/user/{handle}"}, "RSSHUB_BASE is not set"),
])
def test_bad_social_settings_are_refused_in_one_line(env, needle):
    with pytest.raises(SettingsError) as caught:
        Settings.from_env(env)
    assert needle in str(caught.value) and "\n" not in str(caught.value)


def test_a_private_rsshub_is_fine_when_private_networks_are_allowed():
    s = Settings.from_env({"RSSHUB_BASE": "http://127.0.0.1:1200", "FEED_ALLOW_PRIVATE_NETWORKS": "true"})
    assert s.social_templates["instagram"] == "http://127.0.0.1:1200/instagram/user/{handle}"
