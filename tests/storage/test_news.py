"""Feed and story storage on a real temp database: dedup rules, the delivery row, due feeds, batched outcomes."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from bot.domain.feeds import FeedEntry
from bot.storage.database import Database
from bot.storage.feeds import FeedRepository, PollFailure, PollSuccess
from bot.storage.news import NewsRepository

NOW = datetime(2026, 11, 29, 3, 0, tzinfo=timezone.utc)
GUILD = 7


@pytest.fixture
async def db(any_db):
    return any_db


async def _feed(db: Database, url: str = "http://a.example/rss", guild: int = GUILD) -> int:
    async with db.transaction() as tx:
        feed_id, created = await FeedRepository(db).upsert(
            tx, guild, url, name=None, default_name="A", kind="manual", star_id=None, added_by=None,
            now=NOW, next_poll_at=NOW + timedelta(minutes=5),
        )
    assert created
    return feed_id


async def _star(db: Database, guild: int = GUILD, name: str = "Song Hye-kyo") -> int:
    async with db.transaction() as tx:
        return int(await tx.fetchval(
            "INSERT INTO stars (guild_id, name, name_key) VALUES (?, ?, ?) RETURNING id", (guild, name, name.lower())
        ))


def entry(title: str, link: str | None, guid: str, published: datetime | None = NOW) -> FeedEntry:
    return FeedEntry(guid=guid, link=link, title=title, summary="", published=published, image_url=None, source_name="Press")


async def _record(db: Database, feed_id: int, star: int, item: FeedEntry, guild: int = GUILD, now: datetime = NOW):
    async with db.transaction() as tx:
        return await NewsRepository(db).record_story(tx, guild, feed_id, item, [star], now)


async def test_a_story_is_recorded_with_its_stars_and_a_pending_announcement(db):
    feed_id, star = await _feed(db), await _star(db)
    story_id = await _record(db, feed_id, star, entry("Song Hye-kyo wins", "http://p.example/1", "g1"))
    assert story_id is not None
    ann = await db.fetchone("SELECT * FROM announcements WHERE story_id = ?", (story_id,))
    assert ann["status"] == "pending" and ann["guild_id"] == GUILD and len(ann["nonce"]) <= 25
    assert await NewsRepository(db).latest(GUILD) == []  # /news latest lists announced stories only
    for status in ("failed", "sending"):
        await db.execute("UPDATE announcements SET status = ? WHERE story_id = ?", (status, story_id))
        assert await NewsRepository(db).latest(GUILD) == []
    await db.execute("UPDATE announcements SET status = 'sent' WHERE story_id = ?", (story_id,))
    (story,) = await NewsRepository(db).latest(GUILD)
    assert story.star_names == ("Song Hye-kyo",) and story.link == "http://p.example/1"


async def test_the_same_link_or_headline_within_a_day_is_the_same_story(db):
    feed_id, star = await _feed(db), await _star(db)
    assert await _record(db, feed_id, star, entry("Song Hye-kyo wins big award", "http://p.example/1?utm_medium=x", "g1"))
    assert await _record(db, feed_id, star, entry("Other words entirely", "HTTP://P.example/1/", "g2")) is None
    assert await _record(db, feed_id, star, entry("Song Hye-kyo Wins Big Award!", "http://q.example/9", "g3",
                                                  published=NOW + timedelta(hours=20))) is None
    assert await _record(db, feed_id, star, entry("Song Hye-kyo wins big award", "http://r.example/2", "g4",
                                                  published=NOW + timedelta(days=2)))
    # Another server keeps its own copy.
    other_feed, other_star = await _feed(db, guild=8), await _star(db, guild=8)
    assert await _record(db, other_feed, other_star, entry("Song Hye-kyo wins big award", "http://p.example/1", "g1"), guild=8)
    assert await db.fetchval("SELECT COUNT(*) FROM announcements") == 3


async def test_short_headlines_and_linkless_items_use_guid(db):
    feed_id, star = await _feed(db), await _star(db)
    assert await _record(db, feed_id, star, entry("News", "http://p.example/a", "a"))
    assert await _record(db, feed_id, star, entry("News", "http://p.example/b", "b"))  # too short to merge on
    assert await _record(db, feed_id, star, entry("Song Hye-kyo linkless one", None, "sha256:x"))
    assert await _record(db, feed_id, star, entry("A different linkless two", None, "sha256:x")) is None


async def test_unseen_and_mark_seen(db):
    feed_id = await _feed(db)
    repo = NewsRepository(db)
    keys = [f"k{n}" for n in range(900)]
    assert await repo.unseen(feed_id, keys) == keys
    async with db.transaction() as tx:
        await repo.mark_seen(tx, feed_id, keys[:500], NOW)
    assert await repo.unseen(feed_id, keys + ["k1"]) == keys[500:]


async def test_due_feeds_and_batched_outcomes(db):
    repo = FeedRepository(db)
    a, b = await _feed(db, "http://a.example/1"), await _feed(db, "http://a.example/2")
    assert await repo.due(NOW) == []
    later = NOW + timedelta(minutes=6)
    claimed = await repo.due(later)
    assert [f.id for f in claimed] == [a, b]
    assert await repo.due(later) == []  # leased to this poller until it writes the outcome
    sa, sb = (f.source_id for f in claimed)
    await repo.save_outcomes(
        [PollSuccess(sa, later, later + timedelta(minutes=10), '"e"', None, (a,))],
        [PollFailure(sb, later, later + timedelta(minutes=20), "boom", 6, True)],
    )
    fa, fb = await repo.get(GUILD, a), await repo.get(GUILD, b)
    assert fa.etag == '"e"' and fa.primed and fa.last_success_at == later and fa.consecutive_failures == 0
    assert fb.disabled and fb.disabled_reason == "boom" and fb.consecutive_failures == 6 and fb.last_error_at == later
    assert [f.id for f in await repo.due(later + timedelta(days=9))] == [a]
    assert await repo.health(GUILD) == (2, 0, 1, later)


async def test_servers_reading_one_url_share_one_source_and_a_lease_expires(db):
    repo = FeedRepository(db)
    mine, theirs = await _feed(db, "http://a.example/shared"), await _feed(db, "http://a.example/shared", guild=GUILD + 1)
    a, b = await repo.get(GUILD, mine), await repo.get(GUILD + 1, theirs)
    assert a.source_id == b.source_id and await db.fetchval("SELECT COUNT(*) FROM feed_sources") == 1
    later = NOW + timedelta(minutes=6)
    assert [f.id for f in await repo.due(later)] == [mine, theirs]  # both subscriptions, one source
    # A poller that claimed it and died: the next one takes it over once the lease has run out.
    assert await repo.due(later + timedelta(minutes=5)) == []
    assert [f.id for f in await repo.due(later + timedelta(minutes=11))] == [mine, theirs]
