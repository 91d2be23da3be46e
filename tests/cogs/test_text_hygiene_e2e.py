"""Stored display texts lose control and direction characters (issue 11): seen through the double."""

from __future__ import annotations

import pytest

from tests.feedserver import FeedServer, Item


@pytest.fixture
async def feeds():
    server = await FeedServer().start()
    yield server
    await server.stop()


async def test_feed_name_with_nul_and_right_to_left_override_is_stored_and_shown_clean(start_bot, server, feeds):
    bot = await start_bot()
    feeds.feed("a.xml", Item("old story", "http://press.example/old", "old"))
    ix = await server.invoke(server.mod, "feeds add", url=feeds.url("a.xml"), name="Press\x00A\u202e gpj.exe\u2066")
    await ix.wait_done()
    assert "Press A gpj.exe" in ix.all_text
    assert "\x00" not in ix.all_text and "\u202e" not in ix.all_text and "\u2066" not in ix.all_text
    listing = await server.invoke(server.mod, "feeds list")
    assert "Press A gpj.exe" in listing.all_text and "\u202e" not in listing.all_text
    stored = await bot.services.db.fetchval("SELECT name FROM feeds")
    assert stored == "Press A gpj.exe"


async def test_a_feed_name_of_only_control_characters_falls_back_to_the_feed_title(start_bot, server, feeds):
    bot = await start_bot()
    feeds.feed("a.xml", Item("old story", "http://press.example/old", "old"), title="Wire Korea")
    ix = await server.invoke(server.mod, "feeds add", url=feeds.url("a.xml"), name="\u202e\x00\u200f")
    await ix.wait_done()
    assert await bot.services.db.fetchval("SELECT name FROM feeds") == "Wire Korea"
