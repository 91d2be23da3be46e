"""The per-channel journal and the delivery leases on real databases (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import re
import sqlite3
from datetime import datetime, timedelta, timezone

import pytest

from bot.domain.routing import Routing
from bot.domain.stars import StarDraft
from bot.errors import UniqueViolation
from bot.storage.announcements import AnnouncementRepository
from bot.storage.database import Database, available_migrations
from bot.storage.guilds import GuildRepository
from bot.storage.leases import LeaseRepository
from bot.storage.stars import StarRepository

GUILD = 10
NEWS, SONG_CH, HAN_CH = 500, 501, 502
NOW = datetime(2026, 11, 29, 3, 0, tzinfo=timezone.utc)
TTL = timedelta(seconds=60)


async def star(db, name):
    return await StarRepository(db).upsert_follow(GUILD, StarDraft(name), from_catalogue=False, actor_id=None, now=NOW)


async def rows_of(db, announcement_id):
    """(channel, status) of every journal row of this announcement's story."""
    rows = await db.fetchall(
        "SELECT channel_id, status FROM announcements WHERE story_id = (SELECT story_id FROM announcements "
        "WHERE id = ?) ORDER BY channel_id", (announcement_id,))
    return sorted((r["channel_id"], r["status"]) for r in rows if r["channel_id"] is not None) + [
        (None, r["status"]) for r in rows if r["channel_id"] is None]


async def test_a_story_gets_one_row_per_channel_it_routes_to_and_routing_again_adds_none(any_db):
    repo = AnnouncementRepository(any_db)
    song, han = await star(any_db, "Song Hye-kyo"), await star(any_db, "Han So-hee")
    routing = Routing(NEWS, {song: SONG_CH})
    both = await repo.record_story(GUILD, title="Both", link="https://n.example/1", star_ids=[song, han], now=NOW)
    only_song = await repo.record_story(GUILD, title="Song", link="https://n.example/2", star_ids=[song], now=NOW)
    nobody = await repo.record_story(GUILD, title="None", link="https://n.example/3", now=NOW)

    assert await repo.route_waiting(GUILD, routing, NOW) == 4
    assert await rows_of(any_db, both) == [(NEWS, "pending"), (SONG_CH, "pending")]
    assert await rows_of(any_db, only_song) == [(SONG_CH, "pending")]
    assert await rows_of(any_db, nobody) == [(NEWS, "pending")]
    assert await repo.route_waiting(GUILD, routing, NOW) == 0
    assert await repo.channels_with_work(GUILD, NOW) == [NEWS, SONG_CH]
    assert [a.id for a in await repo.due(GUILD, NOW, channel_id=SONG_CH)] != [
        a.id for a in await repo.due(GUILD, NOW, channel_id=NEWS)]
    nonces = [r[0] for r in await any_db.fetchall("SELECT nonce FROM announcements")]
    assert len(set(nonces)) == len(nonces) == 4 and all(len(n) <= 25 for n in nonces)


async def test_without_a_news_channel_the_unrouted_part_waits_and_the_routed_part_goes(any_db):
    repo = AnnouncementRepository(any_db)
    song, han = await star(any_db, "Song Hye-kyo"), await star(any_db, "Han So-hee")
    both = await repo.record_story(GUILD, title="Both", link="https://n.example/1", star_ids=[song, han], now=NOW)
    only_han = await repo.record_story(GUILD, title="Han", link="https://n.example/2", star_ids=[han], now=NOW)
    assert await repo.route_waiting(GUILD, Routing(None, {}), NOW) == 0  # nowhere to post: all wait
    assert await repo.route_waiting(GUILD, Routing(None, {song: SONG_CH}), NOW) == 1
    assert await rows_of(any_db, both) == [(SONG_CH, "pending"), (None, "pending")]
    assert await rows_of(any_db, only_han) == [(None, "pending")]
    assert await repo.channels_with_work(GUILD, NOW) == [SONG_CH]
    # What waits for the news channel has nothing to do until it is set: the next runs change nothing.
    assert await repo.route_waiting(GUILD, Routing(None, {song: SONG_CH}), NOW) == 0

    await repo.route_waiting(GUILD, Routing(NEWS, {song: SONG_CH}), NOW)  # the news channel is set
    assert await rows_of(any_db, both) == [(NEWS, "pending"), (SONG_CH, "pending")]
    assert await rows_of(any_db, only_han) == [(NEWS, "pending")]


async def test_a_never_posted_row_follows_a_moved_route_but_a_maybe_posted_one_stays(any_db):
    repo = AnnouncementRepository(any_db)
    song, _han = await star(any_db, "Song Hye-kyo"), await star(any_db, "Han So-hee")
    a = await repo.record_story(GUILD, title="A", link="https://n.example/a", star_ids=[song], now=NOW)
    b = await repo.record_story(GUILD, title="B", link="https://n.example/b", star_ids=[song], now=NOW)
    await repo.route_waiting(GUILD, Routing(NEWS, {song: SONG_CH}), NOW)
    assert await repo.begin_send(b, SONG_CH, NOW)  # b may be in #song already

    await repo.route_waiting(GUILD, Routing(NEWS, {}), NOW)  # unrouted: her news goes back to the news channel
    assert await rows_of(any_db, a) == [(NEWS, "pending")]
    assert await rows_of(any_db, b) == [(SONG_CH, "sending")]  # resent where it may be, with its nonce


async def test_a_moved_row_whose_new_channel_already_has_the_story_is_dropped_not_doubled(any_db):
    repo = AnnouncementRepository(any_db)
    song, han = await star(any_db, "Song Hye-kyo"), await star(any_db, "Han So-hee")
    both = await repo.record_story(GUILD, title="Both", link="https://n.example/1", star_ids=[song, han], now=NOW)
    await repo.route_waiting(GUILD, Routing(NEWS, {song: SONG_CH}), NOW)
    [news_row] = await repo.due(GUILD, NOW, channel_id=NEWS)
    assert await repo.begin_send(news_row.id, NEWS, NOW)
    await repo.record_sent(news_row.id, NEWS, 9000, NOW)

    await repo.route_waiting(GUILD, Routing(NEWS, {}), NOW)  # #song's row would now go to the news channel
    assert await rows_of(any_db, both) == [(NEWS, "sent")]


async def test_routes_are_stored_paused_per_channel_and_resumed_by_setting_them_again(any_db):
    guilds = GuildRepository(any_db)
    song, han = await star(any_db, "Song Hye-kyo"), await star(any_db, "Han So-hee")
    await guilds.set_channel(GUILD, "news", NEWS)
    await guilds.set_route(GUILD, song, SONG_CH)
    await guilds.set_route(GUILD, han, HAN_CH)
    assert await guilds.block_channel(GUILD, SONG_CH, "channel_gone") == ["news"]
    config = await guilds.get(GUILD)
    assert config.routes[song].blocked_reason == "channel_gone" and config.routes[han].blocked_reason is None
    assert config.channel("news").blocked_reason is None
    assert config.channel_target(SONG_CH).blocked_reason == "channel_gone"
    assert config.routing == Routing(NEWS, {song: SONG_CH, han: HAN_CH})
    assert (await guilds.get(GUILD + 1)).routes == {}  # another server sees none of them

    await guilds.set_route(GUILD, song, SONG_CH)
    assert (await guilds.get(GUILD)).routes[song].blocked_reason is None
    assert await guilds.remove_route(GUILD, song) and not await guilds.remove_route(GUILD, song)
    assert set((await guilds.get(GUILD)).routes) == {han}


async def test_a_lease_is_held_by_one_holder_until_released_or_expired(any_db):
    leases = LeaseRepository(any_db)
    assert await leases.claim(GUILD, "a", NOW, TTL)
    assert not await leases.claim(GUILD, "b", NOW + timedelta(seconds=59), TTL)
    assert await leases.claim(GUILD, "a", NOW + timedelta(seconds=30), TTL)  # its own: renewed
    assert await leases.claim(GUILD + 1, "b", NOW, TTL)  # per server
    assert not await leases.claim(GUILD, "b", NOW + timedelta(seconds=89), TTL)
    assert await leases.claim(GUILD, "b", NOW + timedelta(seconds=90), TTL)  # a's lease expired
    assert not await leases.renew(GUILD, "a", NOW + timedelta(seconds=91), TTL)  # a learns it lost it
    assert await leases.holder(GUILD, NOW + timedelta(seconds=91)) == "b"
    await leases.release(GUILD, "a")  # not a's to release
    assert await leases.holder(GUILD, NOW + timedelta(seconds=91)) == "b"
    await leases.release(GUILD, "b")
    assert await leases.holder(GUILD, NOW + timedelta(seconds=91)) is None
    assert await leases.claim(GUILD, "a", NOW + timedelta(seconds=92), TTL)


async def test_racing_claims_leave_exactly_one_holder(open_db):
    first, second = await open_db("one.db"), None
    # Two connections to one database, as two processes have (a second SQLite connection to the file,
    # or another PostgreSQL pool).
    if first.dialect.is_postgres:
        second = first
    else:
        second = await open_db("one.db")
    holders = [f"p{n}" for n in range(8)]
    won = await asyncio.gather(*(LeaseRepository(first if n % 2 else second).claim(GUILD, h, NOW, TTL)
                                 for n, h in enumerate(holders)))
    assert won.count(True) == 1
    assert await LeaseRepository(first).holder(GUILD, NOW) == holders[won.index(True)]


async def test_existing_journal_rows_become_per_channel_rows(tmp_path):
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT)")
    for version, name, sql in available_migrations("sqlite"):
        if version < 11:
            conn.executescript(sql)
            conn.execute("INSERT INTO schema_migrations (version, name) VALUES (?, ?)", (version, name))
    for n in range(1, 4):
        conn.execute("INSERT INTO news_stories (id, guild_id, title, title_key, link, canonical_link, discovered_at) "
                     "VALUES (?, ?, ?, ?, ?, ?, '2026-11-29T03:00:00.000000Z')",
                     (n, GUILD, f"S{n}", f"s{n}", f"https://n.example/{n}", f"https://n.example/{n}"))
    # Sent, interrupted mid-send, and refused once (pending, with the channel that refused it).
    for n, status, channel in ((1, "sent", NEWS), (2, "sending", NEWS), (3, "pending", NEWS)):
        conn.execute("INSERT INTO announcements (id, story_id, guild_id, status, nonce, channel_id, created_at) "
                     "VALUES (?, ?, ?, ?, ?, ?, '2026-11-29T03:00:00.000000Z')",
                     (100 + n, n, GUILD, status, f"n{n}-abc", channel))
    conn.commit()
    conn.close()

    db = await Database.open(path)  # applies 0011 to the rows above
    try:
        rows = [tuple(r) for r in await db.fetchall(
            "SELECT id, story_id, status, nonce, channel_id FROM announcements ORDER BY id")]
        assert rows == [(101, 1, "sent", "n1-abc", NEWS), (102, 2, "sending", "n2-abc", NEWS),
                        (103, 3, "pending", "n3-abc", None)]
        # A second channel for a story is now a row of its own; a second row for one channel is refused.
        await db.execute("INSERT INTO announcements (story_id, guild_id, nonce, channel_id, created_at) "
                         "VALUES (1, ?, 'x', ?, 'now')", (GUILD, SONG_CH))
        with pytest.raises(UniqueViolation):
            await db.execute("INSERT INTO announcements (story_id, guild_id, nonce, channel_id, created_at) "
                             "VALUES (1, ?, 'y', ?, 'now')", (GUILD, SONG_CH))
        assert await db.fetchval("SELECT MAX(id) FROM announcements") == 104
    finally:
        await db.close()



async def test_without_a_news_channel_each_of_two_star_routes_gets_its_stars_stories(any_db):
    repo = AnnouncementRepository(any_db)
    song, han = await star(any_db, "Song Hye-kyo"), await star(any_db, "Han So-hee")
    hers = await repo.record_story(GUILD, title="Song", link="https://n.example/1", star_ids=[song], now=NOW)
    theirs = await repo.record_story(GUILD, title="Both", link="https://n.example/2", star_ids=[song, han], now=NOW)
    nobody = await repo.record_story(GUILD, title="None", link="https://n.example/3", now=NOW)

    assert await repo.route_waiting(GUILD, Routing(None, {song: SONG_CH, han: HAN_CH}), NOW) == 3
    assert await rows_of(any_db, hers) == [(SONG_CH, "pending")]
    assert await rows_of(any_db, theirs) == [(SONG_CH, "pending"), (HAN_CH, "pending")]
    assert await rows_of(any_db, nobody) == [(None, "pending")]  # waits for a news channel
    assert await repo.channels_with_work(GUILD, NOW) == [SONG_CH, HAN_CH]


async def test_when_both_star_routes_move_a_story_keeps_one_row_per_new_channel_and_later_rows_are_routed_too(any_db):
    repo = AnnouncementRepository(any_db)
    song, han = await star(any_db, "Song Hye-kyo"), await star(any_db, "Han So-hee")
    song_new, han_new = 503, 504
    theirs = await repo.record_story(GUILD, title="Both", link="https://n.example/1", star_ids=[song, han], now=NOW)
    assert await repo.route_waiting(GUILD, Routing(None, {song: SONG_CH, han: HAN_CH}), NOW) == 2
    # Recorded after the first routing, so its row comes after both of the first story's rows.
    hers = await repo.record_story(GUILD, title="Song", link="https://n.example/2", star_ids=[song], now=NOW)

    # The first row moves to #song-new and a new row goes to #han-new; the second row, whose channels all
    # have their rows now, is dropped, and the rows after it are still routed in the same run.
    assert await repo.route_waiting(GUILD, Routing(None, {song: song_new, han: han_new}), NOW) == 4
    assert await rows_of(any_db, theirs) == [(song_new, "pending"), (han_new, "pending")]
    assert await rows_of(any_db, hers) == [(song_new, "pending")]
    assert await repo.route_waiting(GUILD, Routing(None, {song: song_new, han: han_new}), NOW) == 0
    for row in await any_db.fetchall("SELECT story_id, nonce FROM announcements"):
        assert re.fullmatch(rf"n{row['story_id']}-[0-9a-f]{{10}}", row["nonce"]), row["nonce"]
