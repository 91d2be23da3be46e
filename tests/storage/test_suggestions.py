"""Her posts' suggestions on SQLite and PostgreSQL: one per post and server, a kept file, approval into the library."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone

from bot.storage.media import MediaRepository
from bot.storage.suggestions import NewSuggestion, SuggestionRepository

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)
LINK = "https://www.instagram.com/p/Post1/"


async def _star(db, guild: int = 7) -> int:
    return await db.fetchval("INSERT INTO stars (guild_id, name, name_key) VALUES (?, ?, ?) RETURNING id",
                             (guild, "Han So-hee", "hansohee"))


def _new(star_id: int, guild: int = 7) -> NewSuggestion:
    return NewSuggestion(guild, "New kitten", "link", LINK, LINK, LINK, star_id, "Instagram @xeesoxee",
                         "https://cdn.example/v/1.mp4", 5000)


async def test_a_post_is_suggested_once_per_server_for_good(any_db):
    star_id = await _star(any_db)
    repo = SuggestionRepository(any_db)
    async with any_db.transaction() as tx:
        first = await repo.record(tx, _new(star_id), NOW)
        again = await repo.record(tx, replace(_new(star_id), title="Same post, other feed"), NOW)
    assert first is not None and again is None
    other_star = await _star(any_db, 8)
    async with any_db.transaction() as tx:
        other_server = await repo.record(tx, _new(other_star, guild=8), NOW)
    assert other_server is not None
    media = MediaRepository(any_db)
    await media.reject(7, first, 99, NOW)
    async with any_db.transaction() as tx:
        assert await repo.record(tx, _new(star_id), NOW) is None  # rejected once is not asked again


async def test_a_kept_file_goes_into_the_library_with_credit_and_post_link(any_db):
    star_id = await _star(any_db)
    repo = SuggestionRepository(any_db)
    async with any_db.transaction() as tx:
        sub_id = await repo.record(tx, _new(star_id), NOW)
    [pending] = await repo.files_to_keep()
    assert (pending.id, pending.media_url, pending.media_length) == (sub_id, "https://cdn.example/v/1.mp4", 5000)
    assert await repo.keep_file(sub_id, kind="video", file_name="7/abc.mp4", file_type="video/mp4", sha256="abc")
    assert await repo.files_to_keep() == []
    media = MediaRepository(any_db)
    sub, item_id = await media.approve(7, sub_id, 42, NOW)
    assert sub.from_post and sub.credit == "Instagram @xeesoxee"
    item = await media.get(7, item_id)
    assert (item.kind, item.file_name, item.url, item.star_id) == ("video", "7/abc.mp4", None, star_id)
    assert (item.credit, item.post_link, item.added_by) == ("Instagram @xeesoxee", LINK, 42)
    assert await media.get(8, item_id) is None


async def test_link_only_keeps_the_post_link(any_db):
    star_id = await _star(any_db)
    repo = SuggestionRepository(any_db)
    async with any_db.transaction() as tx:
        sub_id = await repo.record(tx, _new(star_id), NOW)
    await repo.link_only(sub_id, "link")
    assert await repo.files_to_keep() == []
    _, item_id = await MediaRepository(any_db).approve(7, sub_id, 42, NOW)
    item = await MediaRepository(any_db).get(7, item_id)
    assert (item.url, item.file_name, item.post_link) == (LINK, None, LINK)
