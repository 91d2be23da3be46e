"""copy-db: a populated database round-trips SQLite -> PostgreSQL -> SQLite row for row."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from bot.domain.polls import Pairing
from bot.domain.stars import StarDraft
from bot.errors import StorageError
from bot.storage.announcements import AnnouncementRepository
from bot.storage.copy import copy_database
from bot.storage.database import Database
from bot.storage.feeds import FeedRepository
from bot.storage.media import DailyRepository, MediaRepository, NewMedia
from bot.storage.polls import PollRepository, VoteRequest
from bot.storage.postgres import PostgresDatabase
from bot.storage.stars import StarRepository

NOW = datetime(2026, 11, 29, 3, 0, tzinfo=timezone.utc)
G = 1_234_567_890_123_456_789  # a real-sized snowflake: needs BIGINT on PostgreSQL


async def populate(db: Database) -> None:
    stars = StarRepository(db)
    song = await stars.upsert_follow(G, StarDraft("Song Hye-kyo", "송혜교", ("Hye-kyo", "SHK"), date(1981, 11, 22)),
                                     from_catalogue=True, actor_id=G + 1, now=NOW)
    han = await stars.upsert_follow(G, StarDraft("Han So-hee", "한소희", ("So-hee",)), from_catalogue=True,
                                    actor_id=None, now=NOW)
    async with db.transaction() as tx:
        await FeedRepository(db).upsert(tx, G, "https://news.example/rss", name="News", kind="manual", star_id=song,
                                         added_by=G + 1, now=NOW, next_poll_at=NOW + timedelta(minutes=10))
    journal = AnnouncementRepository(db)
    for n in range(3):
        await journal.record_story(G, title=f"Story {n}", link=f"https://news.example/{n}", star_ids=[song, han], now=NOW)
    due = await journal.due(G, NOW)
    await journal.begin_send(due[0].id, 555, NOW)
    await journal.record_sent(due[0].id, 555, 9_000_000_000_000_000_001, NOW)
    await journal.begin_digest(G, 555, [a.id for a in due[1:]], NOW)
    polls = PollRepository(db)
    await polls.add_proposal(G, Pairing.of(song, han), G + 2, "a thriller", NOW)
    poll = await polls.create_poll(G, "Dream pairing?", G + 1, NOW, NOW + timedelta(days=1), 2, False, False,
                                   [("Song x Han", Pairing.of(song, han))])
    await polls.apply_votes([VoteRequest(G, poll, G + 10 + i, option=0) for i in range(5)], NOW)
    media = MediaRepository(db)
    await media.add_item(NewMedia(G, "Stills", "link", url="https://m.example/a", url_key="m.example/a",
                                  star_id=song, tags=("stills", "drama")), added_by=G + 1, now=NOW)
    await media.add_submission(NewMedia(G, "Fan art", "link", url="https://m.example/b", url_key="m.example/b"),
                               submitter_id=G + 3, now=NOW)
    await DailyRepository(db).claim_birthday(G, song, date(2026, 11, 22), "b1-abc", NOW)


async def dump(db: Database) -> dict[str, list[tuple]]:
    found = {}
    for table in await db.tables():
        rows = await db.fetchall(f"SELECT * FROM {table}")
        found[table] = sorted((tuple(r) for r in rows), key=repr)
    return found


async def test_a_populated_database_round_trips_sqlite_postgres_sqlite(pg_cluster, tmp_path):
    original = await Database.open(tmp_path / "original.db")
    pg = await PostgresDatabase.open_url(await pg_cluster.empty_database(), migrate=False)
    back = await Database.open(tmp_path / "back.db", migrate=False)
    try:
        await populate(original)
        expected = await dump(original)
        assert all(expected[t] for t in ("stars", "star_aliases", "feeds", "news_stories", "announcements",
                                         "announcement_digests", "polls", "poll_votes", "media_items", "media_tags",
                                         "media_submissions", "daily_posts", "collab_proposals"))
        there = await copy_database(original, pg, page=2)  # small pages: several per table
        assert there.rows == sum(len(rows) for rows in expected.values())
        assert await dump(pg) == expected
        again = await copy_database(pg, back, page=3)
        assert again == there
        assert await dump(back) == expected
        # The ids count on after the copied ones: a new star on PostgreSQL does not collide.
        new_id = await StarRepository(pg).upsert_follow(G, StarDraft("Kim Ji-won"), from_catalogue=False,
                                                        actor_id=None, now=NOW)
        assert new_id == max(r[0] for r in expected["stars"]) + 1
    finally:
        for db in (original, pg, back):
            await db.close()


async def test_copy_db_refuses_a_target_that_is_not_empty(any_db, tmp_path):
    source = await Database.open(tmp_path / "source.db")
    try:
        await populate(source)
        await any_db.execute("INSERT INTO bot_state (key, value) VALUES ('mine', 'keep')")
        with pytest.raises(StorageError, match="not empty"):
            await copy_database(source, any_db)
        assert [tuple(r) for r in await any_db.fetchall("SELECT key, value FROM bot_state")] == [("mine", "keep")]
        assert await any_db.fetchval("SELECT COUNT(*) FROM stars") == 0
    finally:
        await source.close()


async def test_a_copy_that_fails_midway_leaves_the_target_empty_and_can_run_again(pg_cluster, tmp_path):
    source = await Database.open(tmp_path / "source.db")
    target = await PostgresDatabase.open_url(await pg_cluster.empty_database(), migrate=False)
    try:
        await populate(source)
        # SQLite keeps text in an INTEGER column; PostgreSQL's BIGINT refuses it, late in the copy.
        await source.execute("UPDATE media_submissions SET submitter_id = 'not a number'")
        with pytest.raises(StorageError, match="media_submissions"):
            await copy_database(source, target)
        assert all(not rows for rows in (await dump(target)).values())
        await source.execute("UPDATE media_submissions SET submitter_id = 42")
        report = await copy_database(source, target)
        assert await dump(target) == await dump(source) and report.rows > 0
    finally:
        await source.close()
        await target.close()
