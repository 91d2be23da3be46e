"""Social subscriptions on SQLite and PostgreSQL: kind, star, platform and handle survive the round trip."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from bot.errors import ConstraintViolation
from bot.storage.feeds import FeedRepository

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)


async def test_a_social_subscription_remembers_her_and_the_platform(any_db):
    star_id = await any_db.fetchval(
        "INSERT INTO stars (guild_id, name, name_key) VALUES (?, ?, ?) RETURNING id", (7, "Han So-hee", "hansohee"))
    repo = FeedRepository(any_db)
    url = "http://rsshub.example/instagram/user/xeesoxee"
    assert await repo.insert_if_absent(7, url, name="Han So-hee · Instagram @xeesoxee", kind="social", star_id=star_id,
                                       now=NOW, next_poll_at=NOW, platform="instagram", handle="xeesoxee")
    assert not await repo.insert_if_absent(7, url, name="again", kind="social", star_id=star_id, now=NOW,
                                           next_poll_at=NOW, platform="instagram", handle="xeesoxee")
    [feed] = await repo.socials_of(7, star_id)
    assert (feed.kind, feed.star_id, feed.platform, feed.handle, feed.social) == ("social", star_id, "instagram",
                                                                                   "xeesoxee", True)
    assert await repo.socials_of(8, star_id) == []  # another server sees none of it
    assert await repo.delete_social(7, star_id) == 1
    assert await repo.list(7) == []


async def test_an_unknown_kind_is_still_refused(any_db):
    with pytest.raises(ConstraintViolation):
        await FeedRepository(any_db).insert_if_absent(7, "http://a.example/rss", name="x", kind="bogus", star_id=None,
                                                      now=NOW, next_poll_at=NOW)
