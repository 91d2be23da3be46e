"""Failing feeds: exponential backoff, disabling after six failures with a notice, re-enabling by adding again."""

from __future__ import annotations

from datetime import timedelta

from bot.services.ingest import MAX_FAILURES, backoff
from tests.feedserver import Item
from tests.services.conftest import GUILD

INTERVAL = 600


def test_backoff_doubles_and_stops_at_a_day():
    assert backoff(600, 1) == timedelta(seconds=1200)
    assert backoff(600, 3) == timedelta(seconds=4800)
    assert backoff(600, 9) == timedelta(hours=24)
    assert backoff(600, 10_000) == timedelta(hours=24)


async def test_a_failing_feed_backs_off_is_disabled_and_comes_back_when_added_again(
    db, stars, make_news, feed_server, news_clock
):
    await stars.follow(GUILD, "Song Hye-kyo")
    news = await make_news()
    notices: list[tuple[int, str]] = []

    async def notify(guild_id: int, notice) -> None:
        from bot.i18n import Catalogues
        from bot.notice_text import notice_text

        notices.append((guild_id, notice_text(Catalogues.load().english, notice)))

    news.notify_mods = notify
    feed = feed_server.feed("f.xml", Item("old", "http://news.example/old", "old"))
    await news.add_feed(GUILD, feed_server.url("f.xml"), name="Flaky <@&1> feed")
    feed.status = 503
    delays = []
    for attempt in range(1, MAX_FAILURES + 1):
        (current,) = await news.list_feeds(GUILD)
        news_clock.set(current.next_poll_at)
        report = await news.poll_due()
        assert report.polled == 1 and report.failed == 1
        (after,) = await news.list_feeds(GUILD)
        assert after.consecutive_failures == attempt
        assert after.last_error == "the server answered 503 Service Unavailable"
        assert after.last_error_at == news_clock.now()
        delays.append((after.next_poll_at - news_clock.now()).total_seconds())
    assert delays[:5] == [INTERVAL * 2**n for n in range(1, 6)]
    assert after.disabled and after.disabled_reason == "the server answered 503 Service Unavailable"
    assert len(notices) == 1 and notices[0][0] == GUILD
    assert "after 6 failures" in notices[0][1] and "/feeds add" in notices[0][1]
    assert "<@&1>" not in notices[0][1]

    # Disabled: never fetched again, however long we wait.
    hits = len(feed_server.hits("f.xml"))
    news_clock.advance(timedelta(days=3))
    assert (await news.poll_due()).polled == 0 and len(feed_server.hits("f.xml")) == hits

    # Adding the same URL re-enables it; what appeared meanwhile is announced (not lost).
    feed.status = 200
    feed.items.append(Item("Song Hye-kyo while we were away", "http://news.example/new", "new"))
    added = await news.add_feed(GUILD, feed_server.url("f.xml"))
    assert not added.created and added.new_stories == 1
    assert not added.feed.disabled and added.feed.consecutive_failures == 0
    assert added.feed.name == "Flaky <@&1> feed"
    assert len(await news.list_feeds(GUILD)) == 1


async def test_one_broken_feed_never_stops_the_others(db, stars, make_news, feed_server, news_clock):
    await stars.follow(GUILD, "Han So-hee")
    news = await make_news()
    good = feed_server.feed("good.xml")
    page = feed_server.feed("page.xml")
    big = feed_server.feed("big.xml")
    for path in ("good.xml", "page.xml", "big.xml"):
        await news.add_feed(GUILD, feed_server.url(path))
    page.body, page.content_type = b"<!doctype html><html><p>moved</p></html>", "text/html"
    big.body = b"<rss>" + b" " * (6 * 1024 * 1024)
    good.items.append(Item("Han So-hee news", "http://news.example/hs", "hs"))
    news_clock.advance(INTERVAL * 1.1)
    report = await news.poll_due()
    assert report.polled == 3 and report.failed == 2 and report.new_stories == 1
    errors = {f.url.rsplit("/", 1)[1]: f.last_error for f in await news.list_feeds(GUILD)}
    assert "web page" in errors["page.xml"] and "too large" in errors["big.xml"] and errors["good.xml"] is None


async def test_refresh_polls_every_enabled_feed_of_the_server_now(db, stars, make_news, feed_server, news_clock):
    await stars.follow(GUILD, "Suzy")
    news = await make_news()
    feed = feed_server.feed("r.xml")
    await news.add_feed(GUILD, feed_server.url("r.xml"))
    feed.items.append(Item("Suzy now on Netflix", "http://news.example/suzy", "suzy"))
    report = await news.refresh(GUILD)  # not due for minutes yet
    assert report.polled == 1 and report.new_stories == 1


async def test_a_delivery_error_after_re_adding_a_feed_does_not_fail_the_add(db, stars, make_news, feed_server,
                                                                            news_clock):
    await stars.follow(GUILD, "Song Hye-kyo")
    news = await make_news()
    calls = []

    async def broken_delivery(now):
        calls.append(now)
        raise RuntimeError("Discord is having a bad day")

    news.after_new_stories = broken_delivery
    feed = feed_server.feed("f.xml", Item("old", "http://news.example/old", "old"))
    await news.add_feed(GUILD, feed_server.url("f.xml"))
    feed.items.append(Item("Song Hye-kyo in a new drama", "http://news.example/drama", "drama"))
    added = await news.add_feed(GUILD, feed_server.url("f.xml"))  # re-adding reads it again and finds a story
    assert added.new_stories == 1 and calls == [news_clock.now()]
    assert int(await db.fetchval("SELECT COUNT(*) FROM announcements WHERE status = 'pending'")) == 1


async def test_star_info_keeps_only_whole_story_lines_within_a_field(db, stars, make_news, news_clock):
    from bot.storage.announcements import AnnouncementRepository

    song = await stars.follow(GUILD, "Song Hye-kyo")
    news = await make_news()
    repo = AnnouncementRepository(db)
    for n in range(3):
        await repo.record_story(GUILD, title=f"Song Hye-kyo story {n} " + "word " * 30, now=news_clock.now(),
                                link=f"https://news.example/{n}/" + "x" * 400, star_ids=[song.id])
        news_clock.advance(60)
    await db.execute("UPDATE announcements SET status = 'sent', sent_at = created_at")

    from bot.i18n import Catalogues
    from cogs._news_text import story_lines

    value = story_lines(await news.latest(GUILD, star=song, count=3), 1024, Catalogues.load().english)
    assert len(value) <= 1024
    lines = value.split("\n")
    assert len(lines) == 1 and "Song Hye-kyo story 2" in lines[0]
    assert lines[0].endswith(":R>")  # whole: the masked link and the time are both there
    assert f"(https://news.example/2/{'x' * 400})" in lines[0]


async def test_shutting_down_mid_refresh_does_not_count_as_feed_failures(db, stars, make_news, feed_server):
    import asyncio

    await stars.follow(GUILD, "Song Hye-kyo")
    news = await make_news()
    slow = feed_server.feed("slow.xml", Item("old", "http://news.example/old", "old"))
    await news.add_feed(GUILD, feed_server.url("slow.xml"))
    slow.delay = 0.5
    refresh = asyncio.create_task(news.refresh(GUILD))
    await feed_server.wait_for_request("slow.xml")  # the fetch is under way
    await news.close()
    await asyncio.gather(refresh, return_exceptions=True)
    (feed,) = await news.list_feeds(GUILD)
    assert feed.consecutive_failures == 0 and feed.last_error is None
