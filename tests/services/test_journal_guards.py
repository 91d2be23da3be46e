"""The journal's exactly-once rules, on the shared database fixture: what may join a digest, what stays due."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from bot.domain.stars import StarDraft
from bot.services.announcer import Announcer
from bot.services.guilds import GuildConfigService
from bot.storage.announcements import AnnouncementRepository
from bot.storage.guilds import GuildRepository
from bot.storage.stars import StarRepository

GUILD, OTHER = 10, 20
CHANNEL = 555


async def _stories(repo, clock, count, guild=GUILD):
    return [await repo.record_story(guild, title=f"Story {n}", link=f"https://x.example/{guild}/{n}", now=clock.now())
            for n in range(count)]


async def _row(db, announcement_id):
    return await db.fetchone("SELECT * FROM announcements WHERE id = ?", (announcement_id,))


@pytest.mark.parametrize("where", [0, 1, 2])
async def test_a_row_that_may_already_be_posted_is_never_folded_into_a_digest(db, news_clock, where):
    repo = AnnouncementRepository(db)
    a, maybe_posted, c = await _stories(repo, news_clock, 3)
    assert await repo.begin_send(maybe_posted, CHANNEL, news_clock.now())
    offered = [a, c]
    offered.insert(where, maybe_posted)

    job = await repo.begin_digest(GUILD, CHANNEL, offered, news_clock.now())
    assert [x.id for x in job.announcements] == [a, c]
    row = await _row(db, maybe_posted)
    assert (row["status"], row["digest_id"], row["attempts"]) == ("sending", None, 1)
    # It goes out on its own, with its own nonce (and its own history check).
    assert [x.id for x in await repo.due(GUILD, news_clock.now())] == [maybe_posted]


async def test_a_digest_of_only_maybe_posted_rows_is_not_started(db, news_clock):
    repo = AnnouncementRepository(db)
    [maybe_posted] = await _stories(repo, news_clock, 1)
    await repo.begin_send(maybe_posted, CHANNEL, news_clock.now())
    assert await repo.begin_digest(GUILD, CHANNEL, [maybe_posted], news_clock.now()) is None
    assert await db.fetchval("SELECT COUNT(*) FROM announcement_digests") == 0
    assert (await _row(db, maybe_posted))["digest_id"] is None


async def test_a_digest_takes_only_its_own_servers_rows_in_id_order(db, news_clock):
    repo = AnnouncementRepository(db)
    mine = await _stories(repo, news_clock, 3)
    job = await repo.begin_digest(GUILD, CHANNEL, list(reversed(mine)), news_clock.now())
    assert [x.id for x in job.announcements] == mine
    assert (job.guild_id, job.channel_id, job.attempts) == (GUILD, CHANNEL, 1)
    assert job.nonce.startswith(f"d{job.id}-") and len(job.nonce) <= 25
    assert all(x.sending_at == news_clock.now() and x.status == "sending" for x in job.announcements)
    assert await repo.open_digests(OTHER, news_clock.now()) == []


async def test_a_resend_keeps_the_time_of_the_first_send_that_may_have_posted(db, news_clock):
    repo = AnnouncementRepository(db)
    [a] = await _stories(repo, news_clock, 1)
    first = news_clock.now()
    await repo.begin_send(a, CHANNEL, first)
    await repo.postpone(a, "503 Service Unavailable", first + timedelta(seconds=30), maybe_sent=True)
    await repo.begin_send(a, CHANNEL, first + timedelta(minutes=10))
    assert (await repo.get(a)).sending_at == first  # Discord's nonce memory dates from the first send

    # Refused outright (nothing posted), the next send starts the clock afresh.
    await repo.postpone(a, "403 Missing Permissions", None)
    later = first + timedelta(minutes=20)
    await repo.begin_send(a, CHANNEL, later)
    assert (await repo.get(a)).sending_at == later


async def test_a_row_inside_a_digest_cannot_be_sent_alone(db, news_clock):
    repo = AnnouncementRepository(db)
    ids = await _stories(repo, news_clock, 2)
    await repo.begin_digest(GUILD, CHANNEL, ids, news_clock.now())
    assert not await repo.begin_send(ids[0], CHANNEL, news_clock.now())
    assert (await _row(db, ids[0]))["attempts"] == 1


async def test_a_postponed_digest_keeps_its_stories_and_nonce_until_its_time(db, news_clock):
    repo = AnnouncementRepository(db)
    ids = await _stories(repo, news_clock, 2)
    job = await repo.begin_digest(GUILD, CHANNEL, ids, news_clock.now())
    retry_at = news_clock.now() + timedelta(seconds=30)
    await repo.postpone_digest(job.id, "503 " + "x" * 400, retry_at)
    assert await repo.open_digests(GUILD, news_clock.now()) == []
    [again] = await repo.open_digests(GUILD, retry_at)
    assert (again.id, again.nonce, [x.id for x in again.announcements]) == (job.id, job.nonce, ids)
    digest = await db.fetchone("SELECT * FROM announcement_digests WHERE id = ?", (job.id,))
    assert len(digest["last_error"]) == 300

    await repo.begin_digest_retry(job.id, CHANNEL + 1)
    [moved] = await repo.open_digests(GUILD, retry_at)
    assert (moved.attempts, moved.channel_id) == (job.attempts + 1, CHANNEL + 1)


async def test_a_digest_given_up_takes_its_stories_out_of_the_queue_for_good(db, news_clock):
    repo = AnnouncementRepository(db)
    ids = await _stories(repo, news_clock, 2)
    [alone] = await _stories(repo, news_clock, 1, guild=OTHER)
    job = await repo.begin_digest(GUILD, CHANNEL, ids, news_clock.now())
    await repo.fail_digest(job.id, "400 Invalid Form Body")
    assert await repo.open_digests(GUILD, news_clock.now()) == []
    assert await repo.due(GUILD, news_clock.now()) == []
    rows = [await _row(db, i) for i in ids]
    assert {(r["status"], r["last_error"]) for r in rows} == {("failed", "400 Invalid Form Body")}
    assert await repo.guilds_with_work(news_clock.now()) == [OTHER]
    assert (await _row(db, alone))["status"] == "pending"


async def test_a_post_given_up_is_failed_and_no_longer_waiting(db, news_clock):
    repo = AnnouncementRepository(db)
    a, b = await _stories(repo, news_clock, 2)
    await repo.begin_send(a, CHANNEL, news_clock.now())
    await repo.postpone(a, "400", news_clock.now() + timedelta(minutes=5))
    await repo.give_up(a, "400 Invalid Form Body " + "x" * 400)
    row = await _row(db, a)
    assert row["status"] == "failed" and row["next_attempt_at"] is None and len(row["last_error"]) == 300
    assert [x.id for x in await repo.due(GUILD, news_clock.now())] == [b]
    assert await repo.stats(GUILD) == (1, None)
    assert await repo.stats(OTHER) == (0, None)  # a server with no news at all


async def test_waiting_rows_of_every_server_are_found_and_only_when_due(db, news_clock):
    repo = AnnouncementRepository(db)
    [a] = await _stories(repo, news_clock, 1)
    [b] = await _stories(repo, news_clock, 1, guild=OTHER)
    later = news_clock.now() + timedelta(minutes=1)
    await repo.postpone(b, "503", later, maybe_sent=True)
    assert await repo.guilds_with_work(news_clock.now()) == [GUILD]
    assert sorted(await repo.guilds_with_work(later)) == [GUILD, OTHER]
    await repo.begin_send(a, CHANNEL, news_clock.now())
    await repo.record_sent(a, CHANNEL, 1, news_clock.now())
    assert await repo.guilds_with_work(later) == [OTHER]


async def test_status_says_how_long_ago_the_last_story_went_out(db, news_clock):
    repo = AnnouncementRepository(db)
    announcer = Announcer(repo, GuildConfigService(GuildRepository(db)), news_clock)
    a, _waiting = await _stories(repo, news_clock, 2)
    await repo.begin_send(a, CHANNEL, news_clock.now())
    await repo.record_sent(a, CHANNEL, 1, news_clock.now())
    # The numbers /fanbot status renders (cogs/status.py, in the reader's language).
    assert await announcer.stats(GUILD) == (1, news_clock.now())


async def test_every_stored_error_is_cut_to_300_characters(db, news_clock):
    repo = AnnouncementRepository(db)
    long_error = "503 " + "x" * 400
    a, b, c, d = await _stories(repo, news_clock, 4)
    await repo.begin_send(a, CHANNEL, news_clock.now())
    await repo.postpone(a, long_error, None, maybe_sent=True)
    dissolved = await repo.begin_digest(GUILD, CHANNEL, [b, c], news_clock.now())
    await repo.dissolve_digest(dissolved.id, long_error)
    failed = await repo.begin_digest(GUILD, CHANNEL, [d], news_clock.now())
    await repo.fail_digest(failed.id, long_error)
    errors = [r["last_error"] for r in await db.fetchall("SELECT last_error FROM announcements ORDER BY id")]
    errors += [r["last_error"] for r in await db.fetchall("SELECT last_error FROM announcement_digests ORDER BY id")]
    assert [len(e) for e in errors] == [300] * 6 and all(e == long_error[:300] for e in errors)


async def test_due_hands_out_at_most_a_hundred_rows_at_a_time(db, news_clock):
    repo = AnnouncementRepository(db)
    ids = await _stories(repo, news_clock, 101)
    assert [a.id for a in await repo.due(GUILD, news_clock.now())] == ids[:100]
    assert [a.id for a in await repo.due(GUILD, news_clock.now(), limit=3)] == ids[:3]


async def test_an_unknown_announcement_is_none(db, news_clock):
    repo = AnnouncementRepository(db)
    [a] = await _stories(repo, news_clock, 1)
    assert (await repo.get(a)).id == a
    assert await repo.get(a + 1) is None


async def test_a_recorded_story_keeps_what_ingestion_gave_and_a_readable_nonce(db, news_clock):
    repo = AnnouncementRepository(db)
    published = news_clock.now() - timedelta(hours=3)
    linked = await repo.record_story(GUILD, title="Linked", link="https://x.example/linked", now=news_clock.now(),
                                     published_at=published, summary="S", source_name="Src",
                                     image_url="https://img.example/a.jpg")
    bare = await repo.record_story(GUILD, title="No link at all", now=news_clock.now())
    stories = {r["title"]: r for r in await db.fetchall("SELECT * FROM news_stories")}
    assert stories["Linked"]["guid"] == "https://x.example/linked"
    assert stories["No link at all"]["guid"] == "No link at all"
    story = (await repo.get(linked)).story
    assert (story.published_at, story.summary, story.source_name, story.image_url) == (
        published, "S", "Src", "https://img.example/a.jpg")
    assert (await repo.get(bare)).story.published_at is None
    for announcement_id in (linked, bare):
        row = await _row(db, announcement_id)
        assert re.fullmatch(rf"n{row['story_id']}-[0-9a-f]{{10}}", row["nonce"]), row["nonce"]


async def test_an_announcement_reads_back_every_field_the_journal_holds(db, news_clock):
    repo = AnnouncementRepository(db)
    song = await StarRepository(db).upsert_follow(GUILD, StarDraft("Song Hye-kyo"), from_catalogue=False,
                                                   actor_id=None, now=news_clock.now())
    a = await repo.record_story(GUILD, title="A", link="https://x.example/a", star_ids=[song], now=news_clock.now())
    b, c = await _stories(repo, news_clock, 2)
    await repo.begin_send(a, CHANNEL, news_clock.now())
    await repo.record_sent(a, CHANNEL, 4242, news_clock.now())
    job = await repo.begin_digest(GUILD, CHANNEL, [b, c], news_clock.now())
    sent = await repo.get(a)
    row = await _row(db, a)
    assert (sent.story_id, sent.guild_id, sent.channel_id, sent.message_id, sent.digest_id) == (
        row["story_id"], GUILD, CHANNEL, 4242, None)
    assert [s.star_id for s in sent.story.stars] == [song]
    assert {x.digest_id for x in job.announcements} == {job.id}
