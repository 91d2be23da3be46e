"""Aggregated sources against a real database and feed server: a Google News item and the publisher's own."""

from __future__ import annotations

from datetime import timedelta

from tests.feedserver import Item
from tests.services.conftest import GUILD


async def test_a_google_news_story_and_the_publishers_own_item_are_one_story(db, stars, make_news, feed_server, news_clock):
    await stars.follow(GUILD, "Han So-hee")
    news = await make_news()
    google = feed_server.feed("google.xml", title='"Han So-hee" - Google News')
    own = feed_server.feed("fandaily.xml", title="Fan Daily")
    await news.add_feed(GUILD, feed_server.url("google.xml"))
    await news.add_feed(GUILD, feed_server.url("fandaily.xml"))
    when = news_clock.now() - timedelta(hours=2)
    google.items.append(Item(
        "Han So-hee cast in a new mystery series - Fan Daily",
        "https://news.google.com/rss/articles/CBMiTestOne?oc=5", "CBMiTestOne", published=when, source="Fan Daily",
    ))
    own.items.append(Item(
        "Han So-hee cast in a new mystery series", "https://fandaily.example/2026/12/mystery", "fd-1",
        published=when + timedelta(minutes=20),
    ))
    news_clock.advance(660)
    report = await news.poll_due()
    assert report.polled == 2 and report.new_stories == 1
    (story,) = await db.fetchall("SELECT title, source_name FROM news_stories")
    # The announcement names the publisher once, as its source, whichever feed came first.
    assert story["title"] == "Han So-hee cast in a new mystery series"
    assert story["source_name"] == "Fan Daily"


async def test_the_same_headline_from_another_publisher_on_google_news_is_still_one_story(db, stars, make_news, feed_server, news_clock):
    await stars.follow(GUILD, "Han So-hee")
    news = await make_news()
    google = feed_server.feed("google.xml")
    await news.add_feed(GUILD, feed_server.url("google.xml"))
    when = news_clock.now() - timedelta(hours=1)
    google.items.append(Item("Han So-hee wins an award - Fan Daily", "https://news.google.com/rss/articles/A", "A",
                             published=when, source="Fan Daily"))
    google.items.append(Item("Han So-hee wins an award - Screen Weekly", "https://news.google.com/rss/articles/B", "B",
                             published=when, source="Screen Weekly"))
    google.items.append(Item("Han So-hee to star in a thriller - Fan Daily", "https://news.google.com/rss/articles/C", "C",
                             published=when, source="Fan Daily"))
    news_clock.advance(660)
    report = await news.poll_due()
    assert report.new_stories == 2
    titles = sorted(r["title"] for r in await db.fetchall("SELECT title FROM news_stories"))
    assert titles == ["Han So-hee to star in a thriller", "Han So-hee wins an award"]
