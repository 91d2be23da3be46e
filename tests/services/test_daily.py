"""The daily-post decision: local hour and date per time zone, DST, missed days, leap-day birthdays, once per day."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from bot.clock import ManualClock
from bot.domain.catalogue import Catalogue
from bot.domain.daily import age_turning, due_date, is_birthday
from bot.services.daily import DailyService
from bot.services.guilds import GuildConfigService
from bot.services.stars import StarService
from bot.storage.guilds import GuildRepository
from bot.storage.media import DailyRepository, MediaRepository, NewMedia
from bot.storage.stars import StarRepository

UTC = timezone.utc
G = 42


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_due_only_from_the_servers_hour_in_its_time_zone():
    # 02:59 UTC is 11:59 in Seoul, 03:00 UTC is noon.
    assert due_date(at(2026, 11, 22, 2, 59), "Asia/Seoul", 12) is None
    assert due_date(at(2026, 11, 22, 3, 0), "Asia/Seoul", 12) == date(2026, 11, 22)
    # 20:00 UTC on the 21st is already the 22nd in Seoul (05:00): the local date counts, not UTC's.
    assert due_date(at(2026, 11, 21, 20, 0), "Asia/Seoul", 5) == date(2026, 11, 22)
    assert due_date(at(2026, 11, 22, 1, 0), "America/Los_Angeles", 12) == date(2026, 11, 21)  # 17:00 on the 21st


def test_dst_days_in_new_york():
    # 2026-03-08: clocks jump from 02:00 to 03:00 EST→EDT; an hour-2 post happens at 03:00.
    assert due_date(at(2026, 3, 8, 6, 59), "America/New_York", 2) is None  # 01:59 EST
    assert due_date(at(2026, 3, 8, 7, 0), "America/New_York", 2) == date(2026, 3, 8)  # 03:00 EDT
    # Noon is 16:00 UTC in summer and 17:00 UTC in winter.
    assert due_date(at(2026, 7, 1, 15, 59), "America/New_York", 12) is None
    assert due_date(at(2026, 7, 1, 16, 0), "America/New_York", 12) == date(2026, 7, 1)
    assert due_date(at(2026, 12, 1, 16, 30), "America/New_York", 12) is None
    # 2026-11-01: 01:00-02:00 happens twice; both are the same local date, so one post.
    first, second = at(2026, 11, 1, 5, 30), at(2026, 11, 1, 6, 30)
    assert due_date(first, "America/New_York", 1) == due_date(second, "America/New_York", 1) == date(2026, 11, 1)


def test_an_unknown_zone_falls_back_to_seoul():
    assert due_date(at(2026, 11, 22, 3, 0), "Mars/Olympus", 12) == date(2026, 11, 22)


def test_leap_day_birthdays_are_greeted_on_28_february_in_other_years():
    born = date(1992, 2, 29)
    assert is_birthday(born, date(2024, 2, 29))
    assert not is_birthday(born, date(2024, 2, 28))  # a leap year has her real day
    assert is_birthday(born, date(2026, 2, 28)) and not is_birthday(born, date(2026, 3, 1))
    assert age_turning(born, date(2026, 2, 28)) == 34
    assert is_birthday(date(1981, 11, 22), date(2026, 11, 22)) and age_turning(date(1981, 11, 22), date(2026, 11, 22)) == 45


@pytest.fixture
async def world(any_db):
    db = any_db
    clock = ManualClock(at(2026, 11, 22, 2, 0))
    stars = StarService(StarRepository(db), Catalogue.load(), clock)
    guilds = GuildConfigService(GuildRepository(db))
    media = MediaRepository(db)
    service = DailyService(DailyRepository(db), media, guilds, stars, clock)
    await guilds.set_channel(G, "media", 1)
    await guilds.set_channel(G, "birthdays", 2)
    await stars.follow(G, "Song Hye-kyo")
    return service, media, clock, guilds, db


async def always(guild_id: int, kind: str) -> bool:
    return True


async def test_each_day_posts_once_and_a_missed_day_is_not_caught_up(world):
    service, media, clock, _, _ = world
    await media.add_item(NewMedia(G, "a", "link", url="https://e.com/a", url_key="https://e.com/a"), added_by=1,
                         now=clock.now())
    posts = await service.due(clock.now(), always)  # 11:00 KST on her birthday
    assert [(p.kind, p.age) for p in posts] == [("birthday", 45)]
    await service.sent(posts[0], 1)
    clock.set(at(2026, 11, 22, 3, 0))
    posts = await service.due(clock.now(), always)
    assert [p.kind for p in posts] == ["media"]
    await service.sent(posts[0], 2)
    assert await service.due(clock.now() + timedelta(hours=5), always) == []
    clock.advance(timedelta(days=4))  # the bot was away for three days
    posts = await service.due(clock.now(), always)
    assert [(p.kind, p.day) for p in posts] == [("media", date(2026, 11, 26))]


async def test_a_claim_never_confirmed_is_resent_with_its_nonce_briefly_then_given_up(world):
    service, media, clock, _, db = world
    await media.add_item(NewMedia(G, "a", "link", url="https://e.com/a", url_key="https://e.com/a"), added_by=1,
                         now=clock.now())
    clock.set(at(2026, 11, 22, 3, 0))
    first = {p.kind: p for p in await service.due(clock.now(), always)}
    # Crash: nothing marked sent. A minute later the same posts come back with the same nonces.
    clock.advance(60)
    again = {p.kind: p for p in await service.due(clock.now(), always)}
    assert {k: p.nonce for k, p in again.items()} == {k: p.nonce for k, p in first.items()}
    # Ten minutes later Discord no longer deduplicates the nonce: they are given up, not sent twice.
    clock.advance(600)
    assert await service.due(clock.now(), always) == []
    statuses = await db.fetchall("SELECT status FROM daily_posts")
    assert {r["status"] for r in statuses} == {"skipped"}


async def test_nothing_is_claimed_without_a_channel_or_items(world):
    service, media, clock, _, db = world
    clock.set(at(2026, 11, 22, 3, 0))

    async def nowhere(guild_id: int, kind: str) -> bool:
        return False
    assert await service.due(clock.now(), nowhere) == []
    assert await db.fetchval("SELECT COUNT(*) FROM daily_posts") == 0
    # With channels but an empty library, only the birthday is claimed; an item added later still posts today.
    assert [p.kind for p in await service.due(clock.now(), always)] == ["birthday"]
    await media.add_item(NewMedia(G, "a", "link", url="https://e.com/a", url_key="https://e.com/a"), added_by=1,
                         now=clock.now())
    assert "media" in [p.kind for p in await service.due(clock.now(), always)]
