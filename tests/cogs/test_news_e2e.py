"""News ingest end to end: the real bot, the Discord double, and a local feed server the test rewrites."""

from __future__ import annotations

import discord
import pytest

from bot.error_text import ERROR_TEXT
from tests.feedserver import FeedServer, Item

INTERVAL = 600


@pytest.fixture
async def feeds():
    server = await FeedServer().start()
    yield server
    await server.stop()


async def _count(bot, table: str) -> int:
    return int(await bot.services.db.fetchval(f"SELECT COUNT(*) FROM {table}"))


async def _tick(bot, clock, seconds: float = INTERVAL * 1.1) -> None:
    clock.advance(seconds)
    await bot.scheduler.run_once()


async def _add(server, url: str, **options):
    ix = await server.invoke(server.mod, "feeds add", url=url, **options)
    await ix.wait_done()
    return ix


async def test_feeds_are_polled_stories_recorded_once_and_failures_reported(start_bot, server, double, clock, feeds):
    bot = await start_bot()
    await server.configure(bot)
    ix = await server.invoke(server.mod, "stars follow", name="Song Hye-kyo")
    assert "Now following" in ix.content

    a = feeds.feed("a.xml", Item("Song Hye-kyo old story", "http://press.example/old", "old"))
    b = feeds.feed("b.xml")
    ix = await _add(server, feeds.url("a.xml"), name="Press A")
    assert ix.deferred and ix.ephemeral
    assert "Added the feed **Press A**" in ix.all_text and "1 current item was recorded" in ix.all_text
    await _add(server, feeds.url("b.xml"))
    await _tick(bot, clock)
    assert await _count(bot, "news_stories") == 0 and await _count(bot, "announcements") == 0

    # A new story in both feeds (tracking junk on one link): one story, one announcement row.
    a.items.insert(0, Item("Song Hye-kyo cast in new thriller", "http://press.example/new?utm_source=rss", "a-new"))
    b.items.insert(0, Item("Song Hye-kyo cast in new thriller", "http://press.example/new", "b-new"))
    await _tick(bot, clock)
    assert await _count(bot, "news_stories") == 1
    row = await bot.services.db.fetchone("SELECT * FROM announcements")
    assert row["guild_id"] == int(server.guild.id)
    assert [h.get("If-None-Match") is not None for h in feeds.hits("a.xml")] == [False, True, True]

    # A restart on the same database records nothing twice.
    bot = await start_bot.restart(bot)
    await _tick(bot, clock)
    a.items.reverse()
    await _tick(bot, clock)
    assert await _count(bot, "news_stories") == 1 and await _count(bot, "announcements") == 1

    # A feed that keeps failing backs off, is disabled, and the moderators are told.
    a.status = 500
    for _ in range(6):
        (feed,) = [f for f in await bot.services.news.list_feeds(int(server.guild.id)) if f.name == "Press A"]
        clock.set(feed.next_poll_at)
        await bot.scheduler.run_once()
    notices = [m["content"] for m in server.messages("modlog")]
    assert len(notices) == 1 and "stopped polling the feed Press A after 6 failures" in notices[0]
    assert "500 Internal Server Error" in notices[0]

    ix = await server.invoke(server.mod, "feeds list")
    assert ix.ephemeral
    (embed,) = ix.embeds
    fields = {f["name"]: f["value"] for f in embed["fields"]}
    assert "Disabled" in fields["⛔ Press A"] and "Failures in a row: 6" in fields["⛔ Press A"]
    assert "Last error" in fields["⛔ Press A"] and "500 Internal Server Error" in fields["⛔ Press A"]
    assert "Next poll: <t:" in fields["Local news"] and "Failures in a row: 0" in fields["Local news"]

    # Adding the same URL again re-enables it.
    a.status = 200
    ix = await _add(server, feeds.url("a.xml"))
    assert "Re-enabled the feed **Press A**" in ix.all_text
    ix = await server.invoke(server.mod, "feeds list")
    assert "⛔ Press A" not in {f["name"] for f in ix.embeds[0]["fields"]}


async def test_a_new_story_reaches_the_news_channel_through_delivery(start_bot, server, double, clock, feeds):
    bot = await start_bot()
    await server.configure(bot)
    await server.invoke(server.mod, "stars follow", name="Han So-hee")
    feed = feeds.feed("h.xml")
    await _add(server, feeds.url("h.xml"))
    feed.items.append(Item("Han So-hee to star in Netflix series", "http://press.example/hs", "hs"))
    await _tick(bot, clock)
    posted = await double.wait_for_message(
        server.channels["news"].id,
        lambda m: any("Han So-hee to star in Netflix series" in (e.get("title") or "") for e in m["embeds"]),
    )
    assert posted["embeds"]


async def test_news_latest_shows_hostile_titles_inert(start_bot, server, double, clock, feeds):
    bot = await start_bot()
    await server.configure(bot)  # /news latest lists announced stories: they need a news channel
    await server.invoke(server.mod, "stars follow", name="IU")
    feed = feeds.feed("iu.xml")
    await _add(server, feeds.url("iu.xml"))
    ix = await server.invoke(server.fan, "news latest")
    assert ix.ephemeral and "No stories" in ix.content
    feed.items.append(Item("@everyone IU <@&123456789> [click](https://evil.example) tour", "http://press.example/iu", "iu"))
    feed.items.append(Item("IU second story", "http://press.example/iu2", "iu2"))
    await _tick(bot, clock)

    ix = await server.invoke(server.fan, "news latest", count=1)
    assert not ix.ephemeral and ix.data["allowed_mentions"] == {"parse": []}
    (embed,) = ix.embeds
    text = embed["description"]
    assert text.count("\n") == 0  # count=1
    ix = await server.invoke(server.fan, "news latest", star="IU", count=10)
    text = ix.embeds[0]["description"]
    assert "@\u200beveryone" in text and "@everyone" not in text
    assert "<\u200b@&123456789>" in text and "<@&" not in text
    assert "\\[click\\]\\(https://evil.example" in text and "[click](" not in text
    assert "([link](http://press.example/iu))" in text and "[IU second story](http://press.example/iu2)" in text
    assert "IU second story" in text and text.index("IU second story") > text.index("tour")
    assert ix.embeds[0]["title"] == "Latest news about IU"


async def test_feeds_refresh_remove_and_status(start_bot, server, double, clock, feeds):
    bot = await start_bot()
    await server.configure(bot)  # /stars info lists announced stories: they need a news channel
    await server.invoke(server.mod, "stars follow", name="Suzy")
    feed = feeds.feed("s.xml")
    await _add(server, feeds.url("s.xml"), name="Suzy news")
    feed.items.append(Item("Suzy returns to dramas", "http://press.example/suzy", "suzy"))
    ix = await server.invoke(server.mod, "feeds refresh")
    await ix.wait_done()
    assert "Polled 1 feed: 1 new story" in ix.all_text and ix.ephemeral
    ix = await server.invoke(server.mod, "fanbot status")
    assert "1 (0 failing, 0 disabled)" in ix.all_text
    ix = await server.invoke(server.fan, "stars info", star="Suzy")
    assert "Suzy returns to dramas" in ix.all_text

    choices = await server.autocomplete(server.mod, "feeds remove", focused="feed", value="suzy")
    assert [c["name"] for c in choices] == ["Suzy news"]
    ix = await server.invoke(server.mod, "feeds remove", feed=choices[0]["value"])
    assert "Removed the feed **Suzy news**" in ix.content
    ix = await server.invoke(server.mod, "feeds list")
    assert "no feeds" in ix.content
    ix = await server.invoke(server.mod, "feeds remove", feed="id:999")
    assert ix.ephemeral and "no such feed" in ix.content


BAD_URLS = [
    ("file:///etc/passwd", "Only http and https"),
    ("/etc/passwd", "Only http and https"),
    ("javascript:alert(1)", "Only http and https"),
    ("http://127.0.0.1/feed", "127.0.0.1 is a loopback address"),
    ("http://[::1]/feed", "::1 is a loopback address"),
    ("http://[::ffff:127.0.0.1]/feed", "127.0.0.1, a loopback address"),
    ("http://2130706433/feed", "127.0.0.1 is a loopback address"),
    ("http://169.254.169.254/latest/meta-data/", "169.254.169.254 is a link-local address"),
]


async def test_feeds_add_refuses_bad_addresses_and_non_feeds(start_bot, server, double, feeds):
    bot = await start_bot(feed_allow_private_networks=False)
    for url, reason in BAD_URLS:
        ix = await server.invoke(server.mod, "feeds add", url=url)
        assert ix.ephemeral and not ix.deferred, url
        assert reason in ix.content, (url, ix.content)
    assert await _count(bot, "feeds") == 0
    assert feeds.requests == []

    bot = await start_bot.restart(bot, feed_allow_private_networks=True)
    feeds.feed("page", body=b"<!doctype html><html><body>Our news</body></html>", content_type="text/html")
    ix = await _add(server, feeds.url("page"))
    assert ix.ephemeral and "not an RSS or Atom feed" in ix.all_text
    feeds.feed("huge", body=b"<rss>" + b" " * (50 * 1024 * 1024))
    ix = await _add(server, feeds.url("huge"))
    assert "too large" in ix.all_text
    assert await _count(bot, "feeds") == 0


async def test_a_fan_cannot_add_feeds(start_bot, server, double, feeds):
    bot = await start_bot()
    double.enforce_command_visibility = False  # as if an admin had shown the command to everyone
    feeds.feed("f.xml")
    ix = await server.invoke(server.fan, "feeds add", url=feeds.url("f.xml"))
    assert ix.ephemeral and ix.content == ERROR_TEXT["not_moderator"]
    assert await _count(bot, "feeds") == 0 and feeds.requests == []


async def test_following_a_star_adds_search_feeds_that_prime_then_announce(start_bot, server, double, clock, feeds):
    templates = (feeds.url("search?q={query}&hl=en-US"), feeds.url("search?q={query}&hl=ko&ceid=KR:ko"))
    bot = await start_bot(star_search_feeds=templates)
    en = feeds.feed("search", Item("Song Hye-kyo archive", "http://press.example/arch", "arch"))
    await server.invoke(server.mod, "stars follow", name="Song Hye-kyo")
    ix = await server.invoke(server.mod, "feeds list")
    names = [f["name"] for f in ix.embeds[0]["fields"]]
    assert names == ["Search: Song Hye-kyo (English)", "Search: 송혜교 (Korean)"]
    await bot.scheduler.run_once(force=True)
    assert await _count(bot, "news_stories") == 0  # the first poll only primes
    en.items.append(Item("Song Hye-kyo new project", "http://press.example/p", "p"))
    await _tick(bot, clock)
    assert await _count(bot, "news_stories") == 1
    ix = await server.invoke(server.mod, "feeds add-star-search", star="Song Hye-kyo")
    assert "already there" in ix.content


async def test_feeds_list_stays_under_discords_embed_limit_and_says_what_is_left_out(start_bot, server, clock):
    bot = await start_bot()
    gid = int(server.guild.id)
    now = "2026-01-01T00:00:00Z"

    async def insert(n: int, *, big: bool) -> None:
        url = f"https://press{n}.example/" + ("a" * 400 if big else "b" * 19)
        source_id = await bot.db.execute_returning(
            "INSERT INTO feed_sources (url, next_poll_at, created_at, last_error, last_error_at, consecutive_failures) "
            "VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
            (url, now, now, "E" * 400 if big else None, now if big else None, 6 if big else 0),
        )
        await bot.db.execute(
            "INSERT INTO feeds (guild_id, url, source_id, name, kind, added_at, disabled_at, disabled_reason) "
            "VALUES (?, ?, ?, ?, 'star_search', ?, ?, ?)",
            (gid, url, source_id, f"{n:02d} " + ("N" * 300 if big else ""), now, now if big else None,
             "R" * 400 if big else None),
        )

    # Four long fields and several short ones bring the embed just under 5,000 characters; one more long
    # field would take it past Discord's 6,000.
    for n in range(4):
        await insert(n, big=True)
    for n in range(4, 9):
        await insert(n, big=False)
    for n in range(9, 12):
        await insert(n, big=True)

    ix = await server.invoke(server.mod, "feeds list")
    (embed,) = ix.embeds
    total = len(discord.Embed.from_dict(embed))
    assert total <= 6000, total
    shown = len(embed["fields"])
    assert shown == 9
    assert embed["footer"]["text"] == "Showing 9 of 12 feeds; 3 not shown."
