"""Media storage: duplicate links and files refused by constraints, racing approvals, the daily journal."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timezone

import pytest

from bot.errors import Conflict, NotFound
from bot.storage.media import DailyRepository, MediaRepository, NewMedia

NOW = datetime(2026, 11, 22, 3, 0, tzinfo=timezone.utc)
G = 111


@pytest.fixture
async def media_db(any_db):
    return any_db


def link(title: str, key: str, guild: int = G) -> NewMedia:
    return NewMedia(guild, title, "link", url=key, url_key=key, tags=("cute", "kitten"))


async def test_the_same_link_twice_in_one_server_is_refused_by_the_constraint(media_db):
    repo = MediaRepository(media_db)
    first = await repo.add_item(link("a", "https://e.com/x"), added_by=1, now=NOW)
    with pytest.raises(Conflict, match="media.link_in_library"):
        await repo.add_item(link("b", "https://e.com/x"), added_by=1, now=NOW)
    await repo.add_item(link("other server", "https://e.com/x", guild=222), added_by=1, now=NOW)
    assert await repo.count(G) == 1
    item = await repo.get(G, first)
    assert item is not None and item.tags == ("cute", "kitten") and item.title == "a"


async def test_the_same_file_twice_is_refused_and_a_row_is_a_link_or_a_file(media_db):
    repo = MediaRepository(media_db)
    photo = NewMedia(G, "p", "image", file_name="111/ab.png", file_type="image/png", file_sha256="ab")
    await repo.add_item(photo, added_by=1, now=NOW)
    with pytest.raises(Conflict, match="media.file_in_"):
        await repo.add_item(photo, added_by=1, now=NOW)
    with pytest.raises(Exception):  # noqa: B017 - the CHECK constraint; the driver's error type varies
        await repo.add_item(NewMedia(G, "empty", "link"), added_by=1, now=NOW)


async def test_two_moderators_approving_at_once_add_exactly_one_item(media_db):
    repo = MediaRepository(media_db)
    sub_id = await repo.add_submission(link("fan pick", "https://e.com/fan"), submitter_id=7, now=NOW)
    results = await asyncio.gather(repo.approve(G, sub_id, 1, NOW), repo.approve(G, sub_id, 2, NOW),
                                   return_exceptions=True)
    wins = [r for r in results if not isinstance(r, BaseException)]
    losses = [r for r in results if isinstance(r, BaseException)]
    assert len(wins) == 1 and len(losses) == 1
    assert isinstance(losses[0], Conflict) and losses[0].code == "submission.already_approved_by"
    assert await repo.count(G) == 1
    sub = await repo.get_submission(G, sub_id)
    assert sub is not None and sub.status == "approved" and sub.item_id == wins[0][1]
    with pytest.raises(Conflict):
        await repo.reject(G, sub_id, 3, NOW)


async def test_approving_a_link_that_reached_the_library_meanwhile_changes_nothing(media_db):
    repo = MediaRepository(media_db)
    sub_id = await repo.add_submission(link("fan pick", "https://e.com/fan"), submitter_id=7, now=NOW)
    await repo.add_item(link("mod added it", "https://e.com/fan"), added_by=1, now=NOW)
    with pytest.raises(Conflict, match="media.link_in_library"):
        await repo.approve(G, sub_id, 1, NOW)
    sub = await repo.get_submission(G, sub_id)
    assert sub is not None and sub.status == "pending"  # rolled back: still there to reject
    assert (await repo.reject(G, sub_id, 1, NOW)).status == "rejected"
    with pytest.raises(NotFound):
        await repo.approve(G, 999, 1, NOW)


async def test_one_pending_submission_per_link(media_db):
    repo = MediaRepository(media_db)
    await repo.add_submission(link("a", "https://e.com/q"), submitter_id=7, now=NOW)
    with pytest.raises(Conflict, match="_in_queue"):
        await repo.add_submission(link("b", "https://e.com/q"), submitter_id=8, now=NOW)
    assert await repo.pending_count(G) == 1


async def test_a_day_is_claimed_once_and_the_least_recently_featured_item_is_picked(media_db):
    repo, daily = MediaRepository(media_db), DailyRepository(media_db)
    assert await daily.claim_media(G, date(2026, 11, 22), "n0", NOW) is None  # empty library: nothing claimed
    a = await repo.add_item(link("a", "https://e.com/a"), added_by=1, now=NOW)
    b = await repo.add_item(link("b", "https://e.com/b"), added_by=1, now=NOW)
    first = await daily.claim_media(G, date(2026, 11, 22), "n1", NOW)
    assert first in (a, b)
    assert await daily.claim_media(G, date(2026, 11, 22), "n2", NOW) is None
    second = await daily.claim_media(G, date(2026, 11, 23), "n3", NOW)
    assert second == ({a, b} - {first}).pop()
    assert await daily.claim_birthday(G, 5, date(2026, 11, 22), "n4", NOW)
    assert not await daily.claim_birthday(G, 5, date(2026, 11, 22), "n5", NOW)
    racing = await asyncio.gather(*(daily.claim_birthday(G, 6, date(2026, 11, 22), f"r{i}", NOW) for i in range(5)))
    assert racing.count(True) == 1
