"""Who may work on what, and until when, on SQLite and PostgreSQL: a server's delivery lease, and the
feed sources a feeds process claims for one cycle (issue 12: the scale-out's claims, pinned)."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

from bot.storage.feeds import LEASE, FeedRepository
from bot.storage.leases import LeaseRepository
from bot.storage.timefmt import from_db

GUILD = 7
NOW = datetime(2026, 11, 29, 3, 0, tzinfo=timezone.utc)
TTL = timedelta(seconds=60)
TICK = timedelta(microseconds=1)  # the stored times' resolution


async def _expiry(db, guild_id: int = GUILD) -> datetime | None:
    return from_db(await db.fetchval("SELECT expires_at FROM delivery_leases WHERE guild_id = ?", (guild_id,)))


# -- delivery leases -------------------------------------------------------------------------------
async def test_a_claimed_lease_lasts_exactly_its_time_from_the_claim(any_db):
    leases = LeaseRepository(any_db)
    assert await leases.claim(GUILD, "a", NOW, TTL) is True
    assert await _expiry(any_db) == NOW + TTL
    assert await leases.holder(GUILD, NOW + TTL - TICK) == "a"
    assert await leases.holder(GUILD, NOW + TTL) is None  # expired at that instant, not a tick later
    assert await leases.claim(GUILD, "b", NOW + TTL - TICK, TTL) is False
    assert await _expiry(any_db) == NOW + TTL  # a refused claim changes nothing
    assert await leases.claim(GUILD, "b", NOW + TTL, TTL) is True
    assert await leases.holder(GUILD, NOW + TTL) == "b" and await _expiry(any_db) == NOW + 2 * TTL


async def test_a_holder_reclaiming_its_own_lease_extends_it_from_now(any_db):
    leases = LeaseRepository(any_db)
    await leases.claim(GUILD, "a", NOW, TTL)
    assert await leases.claim(GUILD, "a", NOW + timedelta(seconds=50), TTL) is True
    assert await _expiry(any_db) == NOW + timedelta(seconds=110)


async def test_renewing_a_lease_moves_its_end_to_a_full_lease_time_from_now(any_db):
    leases = LeaseRepository(any_db)
    await leases.claim(GUILD, "a", NOW, TTL)
    assert await leases.renew(GUILD, "a", NOW + timedelta(seconds=40), TTL) is True
    assert await _expiry(any_db) == NOW + timedelta(seconds=100)
    assert await leases.claim(GUILD, "b", NOW + timedelta(seconds=99), TTL) is False
    assert await leases.holder(GUILD, NOW + timedelta(seconds=99)) == "a"
    assert await leases.claim(GUILD, "b", NOW + timedelta(seconds=100), TTL) is True


async def test_a_lease_run_out_but_not_taken_can_still_be_renewed_by_its_holder(any_db):
    """Nobody else delivered meanwhile, so the stalled holder may go on: renew says yes."""
    leases = LeaseRepository(any_db)
    await leases.claim(GUILD, "a", NOW, TTL)
    assert await leases.renew(GUILD, "a", NOW + 2 * TTL, TTL) is True
    assert await leases.holder(GUILD, NOW + 2 * TTL) == "a" and await _expiry(any_db) == NOW + 3 * TTL


async def test_renewing_or_releasing_touches_only_that_servers_lease(any_db):
    leases = LeaseRepository(any_db)
    for guild in (GUILD, GUILD + 1):
        await leases.claim(guild, "a", NOW, TTL)
    assert await leases.renew(GUILD, "a", NOW + timedelta(seconds=30), TTL) is True
    assert await _expiry(any_db, GUILD + 1) == NOW + TTL
    await leases.release(GUILD, "a")
    assert await leases.holder(GUILD, NOW) is None and await leases.holder(GUILD + 1, NOW) == "a"
    assert await leases.renew(GUILD, "a", NOW, TTL) is False  # released: nothing left to renew
    assert await any_db.fetchval("SELECT COUNT(*) FROM delivery_leases") == 1


async def test_nobody_holds_a_server_never_claimed(any_db):
    assert await LeaseRepository(any_db).holder(GUILD, NOW) is None


# -- feed-source claims ----------------------------------------------------------------------------
async def _source(db, url: str, due_at: datetime, *, guilds: tuple[int, ...] = (GUILD,)) -> int:
    """A feed URL some servers subscribe to, first due at `due_at`; its source id."""
    repo = FeedRepository(db)
    for guild in guilds:
        async with db.transaction() as tx:
            await repo.upsert(tx, guild, url, name=None, default_name="Feed", kind="manual", star_id=None,
                              added_by=None, now=NOW, next_poll_at=due_at)
    return int(await db.fetchval("SELECT id FROM feed_sources WHERE url = ?", (url,)))


async def test_a_cycle_claims_the_longest_overdue_sources_first_up_to_its_limit(any_db):
    repo = FeedRepository(any_db)
    late = await _source(any_db, "http://a.example/late", NOW - timedelta(minutes=1))
    oldest = await _source(any_db, "http://a.example/oldest", NOW - timedelta(minutes=9))
    older = await _source(any_db, "http://a.example/older", NOW - timedelta(minutes=5))
    await _source(any_db, "http://a.example/not-yet", NOW + TICK)

    assert [f.source_id for f in await repo.due(NOW, 2)] == [oldest, older]
    assert [f.source_id for f in await repo.due(NOW, 2)] == [late]  # the two claimed are skipped
    assert await repo.due(NOW) == []
    assert [f.url for f in await repo.due(NOW + TICK)] == ["http://a.example/not-yet"]  # due at that instant


async def test_a_claim_without_a_limit_takes_every_due_source_with_all_its_subscriptions(any_db):
    repo = FeedRepository(any_db)
    shared = await _source(any_db, "http://a.example/shared", NOW, guilds=(GUILD, GUILD + 1, GUILD + 2))
    alone = await _source(any_db, "http://a.example/alone", NOW)
    claimed = await repo.due(NOW)
    assert [(f.source_id, f.guild_id) for f in claimed] == [
        (shared, GUILD), (shared, GUILD + 1), (shared, GUILD + 2), (alone, GUILD)]


async def test_a_claimed_source_is_left_alone_for_exactly_the_claim_time(any_db):
    repo = FeedRepository(any_db)
    source = await _source(any_db, "http://a.example/rss", NOW)
    assert [f.source_id for f in await repo.due(NOW)] == [source]
    stored = await any_db.fetchval("SELECT lease_until FROM feed_sources WHERE id = ?", (source,))
    assert from_db(stored) == NOW + LEASE
    assert await repo.due(NOW + LEASE - TICK) == []  # the claimant may still be fetching it
    assert [f.source_id for f in await repo.due(NOW + LEASE)] == [source]  # it died: taken over


async def test_a_source_only_disabled_servers_read_is_never_claimed(any_db):
    repo = FeedRepository(any_db)
    source = await _source(any_db, "http://a.example/shared", NOW, guilds=(GUILD, GUILD + 1))
    await any_db.execute("UPDATE feeds SET disabled_at = ? WHERE guild_id = ?", ("2026-11-28T00:00:00.000000Z", GUILD))
    assert [(f.source_id, f.guild_id) for f in await repo.due(NOW)] == [(source, GUILD + 1)]
    await any_db.execute("UPDATE feeds SET disabled_at = ?", ("2026-11-28T00:00:00.000000Z",))
    await any_db.execute("UPDATE feed_sources SET lease_until = NULL")
    assert await repo.due(NOW) == []
    assert await any_db.fetchval("SELECT lease_until FROM feed_sources WHERE id = ?", (source,)) is None


async def test_subscribers_of_many_sources_are_read_in_chunks_and_none_is_lost(any_db):
    """More sources than one statement's parameters take in one chunk (400): all are read, once."""
    repo = FeedRepository(any_db)
    ids = []
    async with any_db.transaction() as tx:
        for n in range(401):
            await tx.execute("INSERT INTO feed_sources (url, next_poll_at, created_at) VALUES (?, ?, ?)",
                             (f"http://a.example/{n}", "2026-11-29T03:00:00.000000Z", "2026-11-29T03:00:00.000000Z"))
            source = await tx.fetchval("SELECT id FROM feed_sources WHERE url = ?", (f"http://a.example/{n}",))
            await tx.execute("INSERT INTO feeds (guild_id, url, kind, source_id, added_at) VALUES (?, ?, 'manual', ?, ?)",
                             (GUILD, f"http://a.example/{n}", source, "2026-11-29T03:00:00.000000Z"))
            ids.append(source)
    found = await repo.subscribers(list(reversed(ids)) + ids[:3])
    assert sorted(f.source_id for f in found) == sorted(ids)
    assert [f.source_id for f in await repo.due(NOW)] == ids


async def test_two_feeds_processes_claiming_at_once_never_share_a_source(open_db):
    first = await open_db("one.db")
    # A second connection to the same database, as another process has (PostgreSQL: the pool's others).
    second = first if first.dialect.is_postgres else await open_db("one.db")
    sources = [await _source(first, f"http://a.example/{n}", NOW - timedelta(seconds=n)) for n in range(12)]
    claims = await asyncio.gather(*(FeedRepository(db).due(NOW, 3) for db in (first, second) * 3))
    taken = [f.source_id for claim in claims for f in claim]
    assert sorted(taken) == sorted(sources)  # each one claimed, by exactly one of them
