"""A subscription's filter against a real database (SQLite and PostgreSQL) and a real feed server."""

from __future__ import annotations

import pytest

from bot.errors import UserError
from tests.feedserver import Item
from tests.services.conftest import GUILD, OTHER_GUILD


async def _titles(db, guild_id: int) -> list[str]:
    rows = await db.fetchall("SELECT title FROM news_stories WHERE guild_id = ? ORDER BY id", (guild_id,))
    return [r["title"] for r in rows]


async def test_each_server_filters_the_shared_feed_its_own_way(db, stars, make_news, feed_server, news_clock):
    for guild in (GUILD, OTHER_GUILD):
        await stars.follow(guild, "Han So-hee")
    news = await make_news()
    feed = feed_server.feed("k.xml")
    mine = (await news.add_feed(GUILD, feed_server.url("k.xml"))).feed
    await news.add_feed(OTHER_GUILD, feed_server.url("k.xml"))
    updated = await news.set_filter(GUILD, f"id:{mine.id}", "drama, 드라마", "rumor, 열애설")
    assert (updated.include, updated.exclude) == (("drama", "드라마"), ("rumor", "열애설"))

    feed.items[:0] = [
        Item("Han So-hee confirms a new drama", "http://news.example/1", "1"),
        Item("한소희, 새 드라마에서 주연", "http://news.example/2", "2"),
        Item("Han So-hee drama rumor denied", "http://news.example/3", "3"),
        Item("한소희 열애설에 소속사 입장", "http://news.example/4", "4"),
        Item("Han So-hee at a fashion week", "http://news.example/5", "5"),
    ]
    news_clock.advance(660)
    report = await news.poll_due()
    assert report.polled == 1  # one fetch for both servers
    assert sorted(await _titles(db, GUILD)) == ["Han So-hee confirms a new drama", "한소희, 새 드라마에서 주연"]
    assert len(await _titles(db, OTHER_GUILD)) == 5

    # Kept-out items were seen: clearing the filter later does not bring them back.
    cleared = await news.set_filter(GUILD, f"id:{mine.id}", None, None)
    assert not cleared.story_filter.active
    news_clock.advance(660)
    await news.poll_due()
    assert len(await _titles(db, GUILD)) == 2


async def test_a_bad_filter_changes_nothing(db, stars, make_news, feed_server):
    news = await make_news()
    feed_server.feed("k.xml")
    feed = (await news.add_feed(GUILD, feed_server.url("k.xml"))).feed
    await news.set_filter(GUILD, f"id:{feed.id}", "drama", None)
    with pytest.raises(UserError) as refused:
        await news.set_filter(GUILD, f"id:{feed.id}", ", ".join(f"w{i}" for i in range(100)), None)
    assert refused.value.code == "filter.include_too_many"
    (kept,) = await news.list_feeds(GUILD)
    assert kept.include == ("drama",)
    with pytest.raises(UserError) as unknown:
        await news.set_filter(OTHER_GUILD, f"id:{feed.id}", "drama", None)  # another server's feed
    assert unknown.value.code == "feed.not_found"
