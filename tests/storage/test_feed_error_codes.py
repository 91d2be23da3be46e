"""A feed's last error and disabled reason keep their code and data on SQLite and PostgreSQL, so
/feeds list can write them per language; text stored before codes reads back as text."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from bot.storage.feeds import FeedRepository, PollFailure, StoredError

NOW = datetime(2026, 11, 29, 3, 0, tzinfo=timezone.utc)
GUILD = 7


async def _source(db, url: str) -> tuple[int, int]:
    repo = FeedRepository(db)
    async with db.transaction() as tx:
        feed_id, _ = await repo.upsert(tx, GUILD, url, name=None, default_name="A", kind="manual", star_id=None,
                                       added_by=None, now=NOW, next_poll_at=NOW)
    feed = await repo.get(GUILD, feed_id)
    return feed_id, feed.source_id


async def test_a_coded_failure_reads_back_with_its_english_code_and_data(any_db):
    repo = FeedRepository(any_db)
    feed_id, source_id = await _source(any_db, "http://a.example/rss")
    why = StoredError("fetch.dns", {"host": "한국.example" + "x" * 400})
    english = "could not find the server 한국.example (DNS lookup failed)"
    await repo.save_outcomes([], [PollFailure(source_id, NOW, NOW + timedelta(hours=1), english, 6, True, why)])
    feed = await repo.get(GUILD, feed_id)
    assert feed.last_error == feed.disabled_reason == english
    assert feed.last_error_why == feed.disabled_why
    assert feed.last_error_why.code == "fetch.dns" and feed.last_error_why.data["host"] == ("한국.example" + "x" * 400)[:300]


async def test_text_stored_before_codes_and_text_that_only_looks_like_json_read_back_as_text(any_db):
    repo = FeedRepository(any_db)
    feed_id, source_id = await _source(any_db, "http://b.example/rss")
    await repo.save_outcomes([], [PollFailure(source_id, NOW, NOW + timedelta(hours=1), "boom", 1, False)])
    feed = await repo.get(GUILD, feed_id)
    assert (feed.last_error, feed.last_error_why) == ("boom", None)
    await any_db.execute("UPDATE feed_sources SET last_error = ? WHERE id = ?", ('{"code": broken', source_id))
    feed = await repo.get(GUILD, feed_id)
    assert (feed.last_error, feed.last_error_why) == ('{"code": broken', None)
