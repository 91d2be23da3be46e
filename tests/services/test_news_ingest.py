"""Ingest against a real temp database and a real local feed server: priming, stories, dedup, 304s."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.errors import UserError
from bot.services.news import NewsService
from bot.storage.timefmt import from_db
from tests.feedserver import Item
from tests.services.conftest import GUILD, OTHER_GUILD

INTERVAL = 600


async def _count(db, table: str, where: str = "TRUE", params: tuple = ()) -> int:
    return int(await db.fetchval(f"SELECT COUNT(*) FROM {table} WHERE {where}", params))


async def _poll_later(news: NewsService, clock, seconds: float = INTERVAL * 1.1):
    clock.advance(seconds)
    return await news.poll_due()


async def test_a_new_feeds_items_are_seen_not_announced_and_later_items_become_stories(
    db, stars, make_news, feed_server, news_clock
):
    hye_kyo = await stars.follow(GUILD, "Song Hye-kyo")
    news = await make_news()
    feed = feed_server.feed(
        "k.xml",
        Item("Song Hye-kyo at the festival", "http://news.example/a", "a"),
        Item("Song Hye-kyo interview", "http://news.example/b", "b"),
    )
    added = await news.add_feed(GUILD, feed_server.url("k.xml"), actor_id=5)
    assert added.created and added.items == 2 and added.new_stories == 0
    assert await _count(db, "feed_entries_seen") == 2
    assert await _count(db, "news_stories") == 0
    assert added.feed.primed and added.feed.name == "Local news"

    feed.items.insert(0, Item("송혜교, 새 드라마 확정", "http://news.example/c", "c"))
    feed.items.insert(0, Item("Weather: sunny all week", "http://news.example/d", "d"))
    report = await _poll_later(news, news_clock)
    assert report.polled == 1 and report.new_stories == 1
    story = await db.fetchone("SELECT * FROM news_stories")
    assert story["title"] == "송혜교, 새 드라마 확정" and story["guild_id"] == GUILD
    assert [r[0] for r in await db.fetchall("SELECT star_id FROM news_story_stars")] == [hye_kyo.id]
    ann = await db.fetchone("SELECT * FROM announcements")
    assert ann["story_id"] == story["id"] and ann["status"] == "pending" and ann["guild_id"] == GUILD
    assert 1 <= len(ann["nonce"]) <= 25
    # The story about nobody is remembered as seen, so it is never reconsidered.
    assert await _count(db, "feed_entries_seen") == 4

    # Polled again with nothing new: no second story.
    feed.items.reverse()
    report = await _poll_later(news, news_clock)
    assert report.new_stories == 0 and await _count(db, "news_stories") == 1


async def test_conditional_get_sends_stored_validators_and_a_304_keeps_the_schedule(
    db, stars, make_news, feed_server, news_clock
):
    await stars.follow(GUILD, "Han So-hee")
    news = await make_news()
    feed_server.feed("h.xml", Item("Han So-hee cast", "http://news.example/h1", "h1"))
    added = await news.add_feed(GUILD, feed_server.url("h.xml"))
    assert "If-None-Match" not in feed_server.hits("h.xml")[0]
    etag = added.feed.etag
    assert etag

    start = news_clock.now()
    report = await _poll_later(news, news_clock)
    assert report.not_modified == 1 and report.failed == 0
    sent = feed_server.hits("h.xml")[-1]
    assert sent["If-None-Match"] == etag and "If-Modified-Since" not in sent
    row = await db.fetchone("SELECT * FROM feed_sources")
    polled = start + timedelta(seconds=INTERVAL * 1.1)
    assert from_db(row["last_success_at"]) == polled and row["etag"] == etag
    assert polled + timedelta(seconds=INTERVAL) <= from_db(row["next_poll_at"]) <= polled + timedelta(seconds=INTERVAL * 1.05)
    # Not due yet: nothing fetched.
    before = len(feed_server.requests)
    assert (await news.poll_due()).polled == 0 and len(feed_server.requests) == before


async def test_first_polls_are_spread_over_the_interval(db, make_news, feed_server, news_clock):
    news = await make_news()
    dues = []
    for n in range(6):
        feed_server.feed(f"s{n}.xml", Item("x", f"http://news.example/s{n}", f"s{n}"))
        added = await news.add_feed(GUILD, feed_server.url(f"s{n}.xml"))
        offset = (added.feed.next_poll_at - news_clock.now()).total_seconds()
        assert INTERVAL / 2 <= offset <= INTERVAL
        dues.append(offset)
    assert len(set(dues)) == 6


async def test_the_same_story_from_two_feeds_is_recorded_once_per_server(db, stars, make_news, feed_server, news_clock):
    await stars.follow(GUILD, "Song Hye-kyo")
    await stars.follow(OTHER_GUILD, "Song Hye-kyo")
    news = await make_news()
    a = feed_server.feed("a.xml")
    b = feed_server.feed("b.xml")
    c = feed_server.feed("c.xml")
    for path in ("a.xml", "b.xml"):
        await news.add_feed(GUILD, feed_server.url(path))
    await news.add_feed(OTHER_GUILD, feed_server.url("c.xml"))
    when = news_clock.now() - timedelta(hours=1)
    a.items.append(Item("Song Hye-kyo wins Baeksang", "https://Press.example/story/1?utm_source=rss", "a1", published=when))
    b.items.append(Item("Song Hye-kyo wins Baeksang award", "https://press.example/story/1#top", "b1", published=when))
    # Same headline, other link, a few hours apart; and the same headline a week later (a new story).
    a.items.append(Item("Song Hye-kyo joins new film", "https://one.example/x", "a2", published=when))
    b.items.append(Item("SONG HYE-KYO JOINS NEW FILM!", "https://two.example/y", "b2", published=when + timedelta(hours=5)))
    c.items.append(Item("Song Hye-kyo wins Baeksang", "https://press.example/story/1", "c1", published=when))
    report = await _poll_later(news, news_clock)
    assert report.polled == 3 and report.new_stories == 3
    rows = await db.fetchall("SELECT guild_id, title FROM news_stories ORDER BY guild_id, id")
    assert [r["guild_id"] for r in rows] == [GUILD, GUILD, OTHER_GUILD]
    assert await _count(db, "announcements") == 3

    b.items.append(Item("Song Hye-kyo joins new film", "https://three.example/z", "b3", published=when + timedelta(days=8)))
    report = await _poll_later(news, news_clock)
    assert report.new_stories == 1


async def test_reordered_redated_and_restarted_feeds_announce_nothing_twice(db, stars, make_news, feed_server, news_clock):
    await stars.follow(GUILD, "Kim Go-eun")
    news = await make_news()
    feed = feed_server.feed("r.xml")
    await news.add_feed(GUILD, feed_server.url("r.xml"))
    feed.items = [
        Item(f"Kim Go-eun story {n}", f"http://news.example/r{n}", f"r{n}", published=news_clock.now()) for n in range(3)
    ]
    assert (await _poll_later(news, news_clock)).new_stories == 3
    feed.items = [
        Item(i.title + " (updated)", i.link, i.guid, published=news_clock.now() + timedelta(hours=3))
        for i in reversed(feed.items)
    ]
    assert (await _poll_later(news, news_clock)).new_stories == 0
    await news.close()

    restarted = await make_news()
    assert (await _poll_later(restarted, news_clock)).new_stories == 0
    assert await _count(db, "news_stories") == 3 and await _count(db, "announcements") == 3


async def test_items_without_guid_date_or_absolute_link_and_a_truncated_feed(db, stars, make_news, feed_server, news_clock):
    await stars.follow(GUILD, "Jun Ji-hyun")
    news = await make_news()
    feed = feed_server.feed("n.xml")
    await news.add_feed(GUILD, feed_server.url("n.xml"))
    feed.items = [Item("Jun Ji-hyun returns", "/articles/7"), Item("Jun Ji-hyun, no link at all")]
    assert (await _poll_later(news, news_clock)).new_stories == 2
    links = [r[0] for r in await db.fetchall("SELECT link FROM news_stories ORDER BY id")]
    assert feed_server.url("articles/7") in links and None in links
    assert (await _poll_later(news, news_clock)).new_stories == 0

    # Malformed XML: the items before the break are still read, nothing crashes.
    feed.body = (
        b"<?xml version='1.0'?><rss version='2.0'><channel><item><title>Jun Ji-hyun cut short</title>"
        b"<link>http://news.example/cut</link></item><item><title"
    )
    assert (await _poll_later(news, news_clock)).new_stories == 1


async def test_an_euc_kr_feed_without_declared_encoding_is_read_as_korean(db, stars, make_news, feed_server, news_clock, corpus):
    await stars.follow(GUILD, "TypeKey")
    news = await make_news()
    feed = feed_server.feed("euc.xml")
    await news.add_feed(GUILD, feed_server.url("euc.xml"))
    feed.body = (corpus / "feeds" / "feedparser" / "illformed__chardet__euckr.xml").read_bytes()
    feed.content_type = "application/rss+xml"
    assert (await _poll_later(news, news_clock)).new_stories == 1
    assert await db.fetchval("SELECT title FROM news_stories") == "EUC-KR 에서 TypeKey 한글닉네임 표시하기"


async def test_hostile_titles_are_stored_as_written(db, stars, make_news, feed_server, news_clock):
    await stars.follow(GUILD, "IU")
    news = await make_news()
    feed = feed_server.feed("x.xml")
    await news.add_feed(GUILD, feed_server.url("x.xml"))
    title = "@everyone IU <@&123> [read](https://evil.example) now"
    feed.items.append(Item(title, "http://news.example/iu", "iu"))
    assert (await _poll_later(news, news_clock)).new_stories == 1
    await db.execute("UPDATE announcements SET status = 'sent'")  # /news latest lists announced stories
    (story,) = await news.latest(GUILD, count=3)
    assert story.title == title and story.star_names == ("IU",)


async def test_the_matcher_is_built_once_and_rebuilt_only_when_names_change(db, stars, make_news, feed_server, news_clock):
    await stars.follow(GUILD, "Song Hye-kyo")
    news = await make_news()
    feed = feed_server.feed("m.xml")
    await news.add_feed(GUILD, feed_server.url("m.xml"))
    for n in range(3):
        feed.items.append(Item(f"Suzy drama news {n}", f"http://news.example/m{n}", f"m{n}"))
        await _poll_later(news, news_clock)
    assert news.matcher.builds == 1 and await _count(db, "news_stories") == 0
    suzy = await stars.follow(GUILD, "Suzy")
    feed.items.append(Item("Suzy drama news again", "http://news.example/m9", "m9"))
    assert (await _poll_later(news, news_clock)).new_stories == 1
    assert news.matcher.builds == 2
    assert [r[0] for r in await db.fetchall("SELECT star_id FROM news_story_stars")] == [suzy.id]
    # Another server's star never tags this server's story.
    await stars.follow(OTHER_GUILD, "Han So-hee")
    feed.items.append(Item("Han So-hee and Suzy", "http://news.example/m10", "m10"))
    assert (await _poll_later(news, news_clock)).new_stories == 1
    assert await _count(db, "news_story_stars") == 2


async def test_star_search_feeds_follow_the_star(db, stars, make_news, feed_server, news_clock):
    templates = (
        feed_server.url("search?q={query}&hl=en-US&gl=US"),
        feed_server.url("search?q={query}&hl=ko&gl=KR&ceid=KR:ko"),
    )
    news = await make_news(star_search_feeds=templates)
    star = await stars.follow(GUILD, "Song Hye-kyo")
    feeds = await news.list_feeds(GUILD)
    assert [f.url for f in feeds] == [
        feed_server.url("search?q=%22Song+Hye-kyo%22&hl=en-US&gl=US"),
        feed_server.url("search?q=%22%EC%86%A1%ED%98%9C%EA%B5%90%22&hl=ko&gl=KR&ceid=KR:ko"),
    ]
    assert all(f.kind == "star_search" and f.star_id == star.id and not f.primed for f in feeds)
    assert await news.add_star_search(GUILD, star) == []
    # A new Hangul name moves the Korean search to it; the English one stays as it was.
    await stars.edit(GUILD, f"id:{star.id}", hangul="송혜교님")
    assert [f.url for f in await news.list_feeds(GUILD)] == [
        feed_server.url("search?q=%22Song+Hye-kyo%22&hl=en-US&gl=US"),
        feed_server.url("search?q=%22%EC%86%A1%ED%98%9C%EA%B5%90%EB%8B%98%22&hl=ko&gl=KR&ceid=KR:ko"),
    ]
    await stars.unfollow(GUILD, f"id:{star.id}")
    assert await news.list_feeds(GUILD) == []


async def test_star_search_feed_primes_on_its_first_poll(db, stars, make_news, feed_server, news_clock):
    news = await make_news(star_search_feeds=(feed_server.url("search?q={query}"),))
    feed = feed_server.feed("search", Item("Han So-hee old news", "http://news.example/old", "old"))
    await stars.follow(GUILD, "Han So-hee")
    report = await news.poll_due()
    assert report.polled == 1 and report.new_stories == 0
    feed.items.append(Item("Han So-hee new news", "http://news.example/new", "new"))
    assert (await _poll_later(news, news_clock)).new_stories == 1


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("file:///etc/passwd", "link.scheme"),
        ("/etc/passwd", "link.scheme"),
        ("javascript:alert(1)", "link.scheme"),
        ("http://127.0.0.1/feed", "127.0.0.1 is a loopback address"),
        ("http://[::1]/feed", "::1 is a loopback address"),
        ("http://[::ffff:127.0.0.1]/feed", "127.0.0.1, a loopback address"),
        ("http://2130706433/feed", "127.0.0.1 is a loopback address"),
        ("http://169.254.169.254/latest/meta-data/", "169.254.169.254 is a link-local address"),
    ],
)
async def test_add_refuses_addresses_it_must_not_fetch(db, make_news, url, reason):
    news = await make_news(feed_allow_private_networks=False)
    with pytest.raises(UserError, match=reason):
        await news.add_feed(GUILD, url)
    assert await _count(db, "feeds") == 0


async def test_add_refuses_a_redirect_to_a_private_address(db, make_news, feed_server):
    from bot.net.addresses import AddressPolicy

    news = await make_news(feed_allow_private_networks=False)
    await news.close()
    news.policy = AddressPolicy(extra_allowed=frozenset({("127.0.0.1", feed_server.port)}))
    await news.start()
    feed_server.feed("go.xml", redirect="http://169.254.169.254/latest/meta-data/")
    with pytest.raises(UserError, match="169.254.169.254 is a link-local address"):
        await news.add_feed(GUILD, feed_server.url("go.xml"))
    assert await _count(db, "feeds") == 0


@pytest.mark.parametrize(
    ("body", "content_type", "reason"),
    [
        (b"<!doctype html><html><body>Welcome</body></html>", "text/html", "web page, not an RSS or Atom feed"),
        (b"x" * (50 * 1024 * 1024), "application/rss+xml", "too large: over 5 MiB"),
        (b"", "application/rss+xml", "the feed is empty"),
    ],
)
async def test_add_refuses_what_is_not_a_working_feed(db, make_news, feed_server, body, content_type, reason):
    news = await make_news()
    feed_server.feed("bad", body=body, content_type=content_type)
    with pytest.raises(UserError, match=reason):
        await news.add_feed(GUILD, feed_server.url("bad"))
    feed_server.feed("gone", status=404)
    with pytest.raises(UserError, match="404 Not Found"):
        await news.add_feed(GUILD, feed_server.url("gone"))
    assert await _count(db, "feeds") == 0


async def test_a_star_change_mid_cycle_keeps_matching_with_the_old_index():
    """A follow in another server while a cycle runs must not make match() answer [] (the cycle
    would then mark those stories seen and they would never be announced)."""
    from bot.domain.catalogue import Catalogue
    from bot.domain.stars import Star
    from bot.services.matching import NewsMatcher

    stars = [Star(id=1, guild_id=10, name="Song Hye-kyo", hangul="송혜교")]

    async def load():
        return list(stars)

    matcher = NewsMatcher(load, Catalogue.load())
    await matcher.ready()
    assert matcher.match(10, "송혜교, 새 드라마") == [1]
    stars.append(Star(id=2, guild_id=20, name="Han So-hee", hangul="한소희"))
    matcher.invalidate()  # what a StarChange does
    assert matcher.match(10, "송혜교, 새 드라마") == [1]
    await matcher.ready()
    assert matcher.match(20, "한소희 주연") == [2] and matcher.builds == 2
