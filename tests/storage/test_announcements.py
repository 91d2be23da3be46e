"""The announcement journal on a real temp database: due rows, send/record steps, digests, recent-send counts."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from bot.clock import ManualClock
from bot.domain.stars import StarDraft
from bot.storage.announcements import AnnouncementRepository
from bot.storage.stars import StarRepository

GUILD, OTHER = 10, 20
CHANNEL = 555


@pytest.fixture
async def journal_db(any_db):
    return any_db


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime(2026, 11, 29, 3, 0, tzinfo=timezone.utc))


@pytest.fixture
def repo(journal_db) -> AnnouncementRepository:
    return AnnouncementRepository(journal_db)


async def star(journal_db, name, role_id=None, guild=GUILD):
    stars = StarRepository(journal_db)
    star_id = await stars.upsert_follow(guild, StarDraft(name), from_catalogue=False, actor_id=None,
                                        now=datetime(2026, 11, 29, tzinfo=timezone.utc))
    if role_id:
        await stars.set_notify_role(star_id, role_id)
    return star_id


async def test_record_story_writes_story_stars_and_a_pending_row_with_a_short_unique_nonce(repo, journal_db, clock):
    song = await star(journal_db, "Song Hye-kyo", role_id=900)
    first = await repo.record_story(GUILD, title="A", link="https://x.example/a", star_ids=[song], now=clock.now())
    second = await repo.record_story(GUILD, title="B", link="https://x.example/b", now=clock.now())
    rows = await journal_db.fetchall("SELECT * FROM announcements ORDER BY id")
    assert [r["status"] for r in rows] == ["pending", "pending"]
    assert all(len(r["nonce"]) <= 25 for r in rows) and rows[0]["nonce"] != rows[1]["nonce"]
    [due_a, due_b] = await repo.due(GUILD, clock.now())
    assert (due_a.id, due_b.id) == (first, second)
    assert [(s.name, s.role_id) for s in due_a.story.stars] == [("Song Hye-kyo", 900)]
    assert due_a.story.discovered_at == clock.now() and due_b.story.stars == ()


async def test_due_is_per_server_oldest_first_and_respects_next_attempt(repo, clock):
    a = await repo.record_story(GUILD, title="A", link="https://x.example/a", now=clock.now())
    b = await repo.record_story(GUILD, title="B", link="https://x.example/b", now=clock.now())
    await repo.record_story(OTHER, title="C", link="https://x.example/c", now=clock.now())
    assert sorted(await repo.guilds_with_work(clock.now())) == [GUILD, OTHER]
    await repo.postpone(a, "503 boom", clock.now() + timedelta(seconds=30))
    assert [x.id for x in await repo.due(GUILD, clock.now())] == [b]
    assert [x.id for x in await repo.due(GUILD, clock.now() + timedelta(seconds=30))] == [a, b]


async def test_a_row_left_sending_is_still_due_and_keeps_its_nonce(repo, journal_db, clock):
    a = await repo.record_story(GUILD, title="A", link="https://x.example/a", now=clock.now())
    nonce = (await repo.get(a)).nonce
    assert await repo.begin_send(a, CHANNEL, clock.now())
    row = await journal_db.fetchone("SELECT * FROM announcements WHERE id = ?", (a,))
    assert row["status"] == "sending" and row["attempts"] == 1 and row["channel_id"] == CHANNEL
    [again] = await repo.due(GUILD, clock.now())
    assert again.status == "sending" and again.nonce == nonce
    assert await repo.begin_send(a, CHANNEL, clock.now())
    await repo.record_sent(a, CHANNEL, 4242, clock.now())
    assert await repo.due(GUILD, clock.now()) == []
    assert not await repo.begin_send(a, CHANNEL, clock.now())  # sent rows are never sent again
    row = await journal_db.fetchone("SELECT * FROM announcements WHERE id = ?", (a,))
    assert (row["status"], row["message_id"], row["attempts"]) == ("sent", 4242, 2)


async def test_sent_since_counts_only_recent_sends_in_that_channel(repo, clock):
    ids = [await repo.record_story(GUILD, title=f"T{n}", link=f"https://x.example/{n}", now=clock.now())
           for n in range(3)]
    for n, announcement_id in enumerate(ids):
        await repo.begin_send(announcement_id, CHANNEL if n < 2 else CHANNEL + 1, clock.now())
        await repo.record_sent(announcement_id, CHANNEL if n < 2 else CHANNEL + 1, 100 + n,
                               clock.now() - timedelta(seconds=50 * n))
    since = clock.now() - timedelta(seconds=60)
    assert await repo.sent_since(CHANNEL, since) == 2
    assert await repo.sent_since(CHANNEL, clock.now() - timedelta(seconds=30)) == 1
    assert await repo.sent_since(CHANNEL + 1, since) == 0  # sent 100 s ago


async def test_a_digest_takes_its_stories_atomically_and_records_them_digested(repo, journal_db, clock):
    ids = [await repo.record_story(GUILD, title=f"T{n}", link=f"https://x.example/{n}", now=clock.now())
           for n in range(3)]
    job = await repo.begin_digest(GUILD, CHANNEL, ids, clock.now())
    assert job is not None and [a.id for a in job.announcements] == ids and len(job.nonce) <= 25
    assert await repo.due(GUILD, clock.now()) == []  # in the digest now, not sent alone
    assert [j.id for j in await repo.open_digests(GUILD, clock.now())] == [job.id]
    assert await repo.begin_digest(GUILD, CHANNEL, ids, clock.now()) is None  # already taken
    await repo.record_digest_sent(job.id, CHANNEL, 777, clock.now())
    rows = await journal_db.fetchall("SELECT status, message_id FROM announcements ORDER BY id")
    assert [tuple(r) for r in rows] == [("digested", 777)] * 3
    assert await repo.open_digests(GUILD, clock.now()) == []
    assert await repo.digests_since(CHANNEL, clock.now() - timedelta(seconds=60)) == 1


async def test_a_refused_digest_is_dissolved_and_its_stories_wait_again(repo, journal_db, clock):
    ids = [await repo.record_story(GUILD, title=f"T{n}", link=f"https://x.example/{n}", now=clock.now())
           for n in range(2)]
    job = await repo.begin_digest(GUILD, CHANNEL, ids, clock.now())
    await repo.dissolve_digest(job.id, "403 Missing Permissions")
    assert [a.id for a in await repo.due(GUILD, clock.now())] == ids
    assert await repo.open_digests(GUILD, clock.now()) == []


async def test_stats_report_waiting_and_last_sent(repo, clock):
    a = await repo.record_story(GUILD, title="A", link="https://x.example/a", now=clock.now())
    await repo.record_story(GUILD, title="B", link="https://x.example/b", now=clock.now())
    assert await repo.stats(GUILD) == (2, None)
    await repo.begin_send(a, CHANNEL, clock.now())
    await repo.record_sent(a, CHANNEL, 1, clock.now())
    assert await repo.stats(GUILD) == (1, clock.now())


async def test_an_unfollowed_star_is_named_but_not_pinged(repo, journal_db, clock):
    song = await star(journal_db, "Song Hye-kyo", role_id=900)
    a = await repo.record_story(GUILD, title="A", link="https://x.example/a", star_ids=[song], now=clock.now())
    await StarRepository(journal_db).set_followed(song, False)
    [matched] = (await repo.get(a)).story.stars
    assert matched.name == "Song Hye-kyo" and matched.role_id is None


async def test_postpone_keeps_a_maybe_sent_row_sending_and_a_refused_one_pending(repo, journal_db, clock):
    a = await repo.record_story(GUILD, title="A", link="https://x.example/a", now=clock.now())
    b = await repo.record_story(GUILD, title="B", link="https://x.example/b", now=clock.now())
    for announcement_id in (a, b):
        await repo.begin_send(announcement_id, CHANNEL, clock.now())
    await repo.postpone(a, "503 Service Unavailable", clock.now() + timedelta(seconds=30), maybe_sent=True)
    await repo.postpone(b, "403 Missing Permissions", None)
    rows = {r["id"]: r for r in await journal_db.fetchall("SELECT * FROM announcements")}
    assert (rows[a]["status"], rows[b]["status"]) == ("sending", "pending")
    assert rows[a]["sending_at"] is not None and rows[b]["next_attempt_at"] is None
    assert [x.id for x in await repo.due(GUILD, clock.now())] == [b]


@pytest.mark.parametrize("db_kind", ["sqlite"])  # reads SQLite's own query plan
async def test_a_digests_stories_are_found_through_the_partial_digest_index(journal_db, repo, clock):
    ids = [await repo.record_story(GUILD, title=f"Story {n}", now=clock.now()) for n in range(3)]
    job = await repo.begin_digest(GUILD, CHANNEL, ids[:2], clock.now())
    assert job is not None and [a.id for a in job.announcements] == ids[:2]
    plan = await journal_db.fetchall(
        "EXPLAIN QUERY PLAN SELECT id FROM announcements WHERE digest_id = ? ORDER BY id", (job.id,))
    assert any("announcements_digest" in row[3] for row in plan), [tuple(r) for r in plan]
    # Partial: stories travelling alone are not in it.
    [sql] = [r[0] for r in await journal_db.fetchall(
        "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = 'announcements_digest'")]
    assert "WHERE digest_id IS NOT NULL" in sql
