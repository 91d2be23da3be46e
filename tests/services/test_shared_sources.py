"""Shared feed sources: a URL read by many servers is fetched once per cycle, and each server gets
only the items that appeared after it subscribed."""

from __future__ import annotations

import sqlite3

from bot.storage.database import Database, available_migrations
from tests.feedserver import Item

INTERVAL = 600
SERVERS = 100


async def _stories_per_guild(db) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {}
    for row in await db.fetchall("SELECT guild_id, title FROM news_stories ORDER BY id"):
        found.setdefault(row[0], []).append(row[1])
    return found


async def _subscribe(news, guild_id: int, url: str) -> None:
    now = news.clock.now()
    async with news.db.transaction() as tx:
        await news.feeds.upsert(tx, guild_id, url, name=None, default_name="Press", kind="manual", star_id=None,
                                added_by=None, now=now, next_poll_at=now)


async def test_a_url_read_by_many_servers_is_fetched_once_and_each_gets_only_what_came_after(
    db, stars, make_news, feed_server, news_clock
):
    feed = feed_server.feed("shared.xml", Item("Song Hye-kyo at the festival", "http://news.example/a", "a"))
    url = feed_server.url("shared.xml")
    news = await make_news()
    guilds = list(range(1000, 1000 + SERVERS))
    for guild_id in guilds:
        await stars.follow(guild_id, "Song Hye-kyo")
        await _subscribe(news, guild_id, url)
    assert await db.fetchval("SELECT COUNT(*) FROM feed_sources") == 1

    first = await news.poll_due()  # every subscriber's first look: recorded, not announced
    assert len(feed_server.hits("shared.xml")) == 1 and first.new_stories == 0

    feed.items.insert(0, Item("Song Hye-kyo cast in a new film", "http://news.example/b", "b"))
    news_clock.advance(INTERVAL * 1.1)
    second = await news.poll_due()
    assert len(feed_server.hits("shared.xml")) == 2  # once more for all of them, not once per server
    assert second.new_stories == SERVERS
    assert await _stories_per_guild(db) == {g: ["Song Hye-kyo cast in a new film"] for g in guilds}

    # A server subscribing now gets neither of the old items, only what appears after.
    late = 9999
    await stars.follow(late, "Song Hye-kyo")
    await _subscribe(news, late, url)
    news_clock.advance(1)
    priming = await news.poll_due()
    assert priming.new_stories == 0 and "If-None-Match" not in feed_server.hits("shared.xml")[-1]
    feed.items.insert(0, Item("Song Hye-kyo wins an award", "http://news.example/c", "c"))
    news_clock.advance(INTERVAL * 1.1)
    third = await news.poll_due()
    assert third.new_stories == SERVERS + 1
    per_guild = await _stories_per_guild(db)
    assert per_guild[late] == ["Song Hye-kyo wins an award"]
    assert all(per_guild[g] == ["Song Hye-kyo cast in a new film", "Song Hye-kyo wins an award"] for g in guilds)


async def test_a_failing_url_is_disabled_for_every_server_reading_it(db, stars, make_news, feed_server, news_clock):
    feed_server.feed("down.xml", Item("x", "http://news.example/x", "x"), status=500)
    news = await make_news()
    for guild_id in (1, 2):
        await _subscribe(news, guild_id, feed_server.url("down.xml"))
    for _ in range(6):
        report = await news.poll_due()
        news_clock.set(max(f.next_poll_at for f in await news.feeds.list(1)))
    assert len(feed_server.hits("down.xml")) == 6  # one fetch per attempt for both servers
    assert sorted(f.guild_id for f, _ in report.disabled) == [1, 2]
    subscriptions = [*await news.feeds.list(1), *await news.feeds.list(2)]
    assert len(subscriptions) == 2 and all(f.disabled for f in subscriptions)


async def test_existing_feeds_of_one_url_become_one_source_with_a_subscription_each(tmp_path):
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT)")
    for version, name, sql in available_migrations("sqlite"):
        if version < 9:
            conn.executescript(sql)
            conn.execute("INSERT INTO schema_migrations (version, name) VALUES (?, ?)", (version, name))
    feeds = [(1, "http://a.example/rss", '"e1"', "2026-11-29T03:10:00.000000Z", 2),
             (2, "http://a.example/rss", '"e2"', "2026-11-29T03:05:00.000000Z", 0),
             (2, "http://b.example/rss", None, "2026-11-29T04:00:00.000000Z", 1)]
    for guild_id, url, etag, due, failures in feeds:
        conn.execute("INSERT INTO feeds (guild_id, url, etag, next_poll_at, consecutive_failures, primed, added_at) "
                     "VALUES (?, ?, ?, ?, ?, 1, '2026-11-01T00:00:00.000000Z')", (guild_id, url, etag, due, failures))
    conn.execute("INSERT INTO feed_entries_seen VALUES (1, 'k1', '2026-11-29T03:00:00.000000Z')")
    conn.commit()
    conn.close()

    db = await Database.open(path)  # applies 0009 to the rows above
    try:
        sources = [tuple(r) for r in await db.fetchall(
            "SELECT url, etag, next_poll_at, consecutive_failures FROM feed_sources ORDER BY url")]
        assert sources == [("http://a.example/rss", None, "2026-11-29T03:05:00.000000Z", 0),
                           ("http://b.example/rss", None, "2026-11-29T04:00:00.000000Z", 1)]
        subs = [tuple(r) for r in await db.fetchall(
            "SELECT f.guild_id, s.url, f.primed FROM feeds f JOIN feed_sources s ON s.id = f.source_id ORDER BY f.id")]
        assert subs == [(1, "http://a.example/rss", 1), (2, "http://a.example/rss", 1), (2, "http://b.example/rss", 1)]
        assert await db.fetchval("SELECT COUNT(*) FROM feed_entries_seen WHERE feed_id = 1") == 1
    finally:
        await db.close()
