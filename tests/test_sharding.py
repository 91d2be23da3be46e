"""Shard ownership (in Python and in SQL on a real database), roles, the SQLite refusal, IDENTIFY spacing."""

from __future__ import annotations

import asyncio
import random
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from bot.domain.polls import Pairing
from bot.settings import Settings
from bot.sharding import (
    ALL_SHARDS,
    LocalIdentifyCoordinator,
    ProcessRoles,
    ShardScope,
    scope_of,
    shard_of,
    single_process_problem,
)
from bot.storage.polls import PollRepository
from bot.storage.shards import owned

NOW = datetime(2026, 11, 29, 3, 0, tzinfo=timezone.utc)


def guild_on(shard_id: int, count: int, rng: random.Random) -> int:
    """A realistic guild id (a 2015-2026 timestamp in the top bits) on that shard."""
    ms = rng.randrange(0, 12 * 365 * 86_400_000)
    ms -= (ms - shard_id) % count
    return (ms << 22) | rng.randrange(1 << 22)


def test_scope_owns_exactly_its_shards() -> None:
    rng = random.Random(8)
    scope = ShardScope(4, (1, 3))
    for shard_id in range(4):
        for _ in range(50):
            guild_id = guild_on(shard_id, 4, rng)
            assert shard_of(guild_id, 4) == shard_id
            assert scope.owns(guild_id) == (shard_id in (1, 3))
            assert ALL_SHARDS.owns(guild_id) and ShardScope(4, (0, 1, 2, 3)).owns(guild_id)
    assert not scope.everything and ShardScope(2, (1, 0)).everything


def test_scope_refuses_shards_outside_the_count() -> None:
    with pytest.raises(ValueError):
        ShardScope(2, (2,))
    with pytest.raises(ValueError):
        ShardScope(2, ())


def test_scope_of_settings() -> None:
    assert scope_of(Settings()) == ALL_SHARDS
    assert scope_of(Settings(shard_count=3)) == ShardScope(3, (0, 1, 2))
    assert scope_of(Settings(shard_count=3, shard_ids=(2,))) == ShardScope(3, (2,))


async def test_the_sql_predicate_agrees_with_python(any_db) -> None:
    rng = random.Random(22)
    ids = [guild_on(s, 5, rng) for s in range(5) for _ in range(40)] + [(1 << 63) - 1, 1 << 22, 0]
    db = any_db
    # The PostgreSQL database is shared by the tests of one worker and only emptied between them, so
    # the probe table goes again: left behind, it would show up in the schema comparison of another test.
    await db.execute("CREATE TABLE shard_probe (guild_id BIGINT NOT NULL)")
    try:
        async with db.transaction() as tx:
            await tx.executemany("INSERT INTO shard_probe (guild_id) VALUES (?)", [(guild_id,) for guild_id in ids])
        for scope in (ShardScope(5, (0,)), ShardScope(5, (1, 4)), ShardScope(5, tuple(range(5))), ALL_SHARDS):
            rows = await db.fetchall(f"SELECT guild_id FROM shard_probe WHERE {owned(scope)}")
            assert sorted(r[0] for r in rows) == sorted(i for i in ids if scope.owns(i)), scope
    finally:
        await db.execute("DROP TABLE shard_probe")
    assert owned(ALL_SHARDS) == "1 = 1"
    assert owned(ShardScope(4, (3, 1)), "p.guild_id") == "((p.guild_id >> 22) % 4) IN (1, 3)"


async def test_due_polls_are_selected_only_for_owned_guilds(any_db) -> None:
    rng = random.Random(3)
    db = any_db
    repo = PollRepository(db)
    polls = {}
    for shard_id in (0, 1):
        guild_id = guild_on(shard_id, 2, rng)
        stars = [await db.execute_returning(
            "INSERT INTO stars (guild_id, name, name_key) VALUES (?, ?, ?) RETURNING id", (guild_id, n, n.lower())
        ) for n in ("A", "B", "C")]
        options = [("a x b", Pairing.of(stars[0], stars[1])), ("a x c", Pairing.of(stars[0], stars[2]))]
        polls[shard_id] = (guild_id, await repo.create_poll(
            guild_id, "Who?", 1, NOW, NOW + timedelta(minutes=5), 1, False, False, options))
    later = NOW + timedelta(hours=1)
    assert await repo.due(later, ShardScope(2, (1,))) == [polls[1]]
    assert await repo.due(later, ShardScope(2, (0,))) == [polls[0]]
    assert sorted(await repo.due(later)) == sorted(polls.values())
    for _guild_id, poll_id in polls.values():
        assert await repo.close(poll_id, later, None)
    assert await repo.unannounced(ShardScope(2, (0,))) == [polls[0]]


def test_roles() -> None:
    assert ProcessRoles().all and ProcessRoles().needs_token
    feeds = ProcessRoles(frozenset({"feeds"}))
    assert feeds.feeds and not feeds.gateway and not feeds.leader and not feeds.needs_token
    assert ProcessRoles(frozenset({"leader"})).needs_token


@pytest.mark.parametrize(("changes", "needle"), [
    ({"shard_count": 2, "shard_ids": (1,)}, "SHARD_IDS=1 of SHARD_COUNT=2"),
    ({"process_roles": frozenset({"feeds"})}, "PROCESS_ROLES=feeds"),
    ({"shard_count": 4, "shard_ids": (0, 2), "process_roles": frozenset({"gateway", "leader"})},
     "SHARD_IDS=0,2 of SHARD_COUNT=4 and PROCESS_ROLES=gateway,leader"),
])
def test_a_split_on_sqlite_is_refused_in_one_line(changes, needle) -> None:
    problem = single_process_problem(replace(Settings(), **changes))
    assert problem is not None and needle in problem and "DATABASE_URL" in problem and "\n" not in problem
    assert single_process_problem(replace(Settings(), sqlite_split_for_tests=True, **changes)) is None


def test_one_process_doing_everything_is_fine_on_sqlite() -> None:
    assert single_process_problem(Settings()) is None
    assert single_process_problem(Settings(shard_count=4)) is None
    assert single_process_problem(Settings(shard_count=2, shard_ids=(0, 1))) is None


class FakeTime:
    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 6))
        self.now += seconds


async def test_identify_waits_for_its_bucket_only() -> None:
    fake = FakeTime()
    gate = LocalIdentifyCoordinator(5.0, margin=0, monotonic=fake.monotonic, sleep=fake.sleep)
    await gate.wait_turn(0, 2)
    await gate.wait_turn(1, 2)  # bucket 1: no wait
    assert fake.sleeps == []
    fake.now += 1.5
    await gate.wait_turn(2, 2)  # bucket 0 again, 1.5 s after shard 0
    assert fake.sleeps == [3.5]
    fake.now += 10
    await gate.wait_turn(3, 2)  # bucket 1, long after shard 1
    assert fake.sleeps == [3.5]


async def test_concurrent_identifies_in_one_bucket_queue_up() -> None:
    fake = FakeTime()
    gate = LocalIdentifyCoordinator(5.0, margin=0.5, monotonic=fake.monotonic, sleep=fake.sleep)
    times: list[float] = []

    async def identify(shard_id: int) -> None:
        await gate.wait_turn(shard_id, 1)
        times.append(fake.now)

    await asyncio.gather(*(identify(i) for i in range(3)))
    assert times == [1000.0, 1005.5, 1011.0]


async def test_every_query_that_selects_due_work_keeps_to_its_shards(any_db) -> None:
    """One server on each of two shards with work of every kind: each process sees only its own."""
    from bot.storage.announcements import AnnouncementRepository
    from bot.storage.guilds import GuildRepository
    from bot.storage.media import DailyRepository, MediaRepository
    from bot.storage.stars import StarRepository
    from bot.storage.timefmt import to_db

    rng = random.Random(5)
    guilds = {shard_id: guild_on(shard_id, 2, rng) for shard_id in (0, 1)}
    old = to_db(NOW - timedelta(hours=1))
    db = any_db
    for guild_id in guilds.values():
        await db.execute("INSERT INTO guild_settings (guild_id) VALUES (?)", (guild_id,))
        await db.execute("INSERT INTO guild_channels (guild_id, kind, channel_id) VALUES (?, 'news', 1)",
                         (guild_id,))
        await db.execute("INSERT INTO stars (guild_id, name, name_key) VALUES (?, 'IU', 'iu')", (guild_id,))
        story = await db.execute_returning(
            "INSERT INTO news_stories (guild_id, title, title_key, discovered_at) VALUES (?, 't', 't', ?) RETURNING id",
            (guild_id, old))
        await db.execute("INSERT INTO announcements (story_id, guild_id, nonce, created_at) VALUES (?, ?, ?, ?)",
                         (story, guild_id, f"n{story}", old))
        await db.execute("INSERT INTO announcement_digests (guild_id, channel_id, nonce, created_at) "
                         "VALUES (?, 1, ?, ?)", (guild_id, f"d{guild_id}", old))
        await db.execute("INSERT INTO media_submissions (guild_id, submitter_id, title, kind, url, url_key, "
                         "submitted_at) VALUES (?, 1, 't', 'link', 'https://x.example/', 'x', ?)", (guild_id, old))
        await db.execute("INSERT INTO daily_posts (guild_id, kind, local_date, nonce, claimed_at) "
                         "VALUES (?, 'media', '2026-11-29', 'n', ?)", (guild_id, old))
    for shard_id, guild_id in guilds.items():
        mine = ShardScope(2, (shard_id,))
        assert await AnnouncementRepository(db).guilds_with_work(NOW, mine) == [guild_id]
        assert [s.guild_id for s in await MediaRepository(db).cardless(NOW, mine)] == [guild_id]
        assert [r["guild_id"] for r in await DailyRepository(db).unsent(mine)] == [guild_id]
        assert await GuildRepository(db).guild_ids(mine) == [guild_id]
        assert [s.guild_id for s in await StarRepository(db).all_followed(mine)] == [guild_id]
    assert sorted(await AnnouncementRepository(db).guilds_with_work(NOW)) == sorted(guilds.values())
    assert len(await StarRepository(db).all_followed()) == 2
