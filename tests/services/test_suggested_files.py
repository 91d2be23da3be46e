"""Keeping her posts' files: a private address is never fetched without FEED_ALLOW_PRIVATE_NETWORKS."""

from __future__ import annotations

from datetime import datetime, timezone

from bot.services.media import MediaService
from bot.settings import Settings
from bot.storage.media import MediaRepository
from bot.storage.suggestions import NewSuggestion, SuggestionRepository
from tests.services.conftest import GUILD

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)


async def test_a_private_address_keeps_the_link_only(db, stars, news_clock, tmp_path):
    star = await stars.follow(GUILD, "Han So-hee")
    suggestions = SuggestionRepository(db)
    link = "https://www.instagram.com/p/Private1/"
    async with db.transaction() as tx:
        sub_id = await suggestions.record(tx, NewSuggestion(
            GUILD, "Inside", "link", link, link, link, star.id, "Instagram @xeesoxee", "http://10.0.0.7/clip.mp4", 100), NOW)
    media = MediaService(MediaRepository(db), stars, Settings(media_path=tmp_path / "media"), news_clock,
                         suggestions=suggestions)
    try:
        assert await media.keep_suggested_files() == 0
    finally:
        await media.aclose()
    sub = await media.get_submission(GUILD, sub_id)
    assert (sub.url, sub.file_name, sub.post_link) == (link, None, link)
    assert await suggestions.files_to_keep() == []  # decided: not tried again
    assert not (tmp_path / "media").exists()
