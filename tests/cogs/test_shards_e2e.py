"""Shards end to end: the real bot on discord.py's AutoShardedBot against the double's shards.

Two bots on one SQLite file stand for two processes here: the SQLite refusal lives in `fanbot run`,
which a test's in-process bots do not go through (the subprocess tests use FANBOT_TEST_SQLITE_SPLIT)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from bot.client import FanBot, ShardedFanBot
from bot.sharding import LocalIdentifyCoordinator
from bot.storage.database import Database
from tests.conftest import FanServer
from tests.feedserver import FeedServer, Item


def servers_on_two_shards(double, count: int = 4) -> list[FanServer]:
    double.shards = 2
    return [FanServer(double, f"Fan club {i}", shard=(i % 2, 2)) for i in range(count)]


async def start_poll(server: FanServer) -> None:
    for name in ("Song Hye-kyo", "Han So-hee", "Kim Go-eun"):
        assert not (await server.invoke(server.mod, "stars follow", name=name)).ephemeral
    ix = await server.invoke(server.mod, "poll create", question="Who together?", duration="1h",
                             pairings="Song Hye-kyo x Han So-hee; Han So-hee x Kim Go-eun")
    polls = [m for m in server.messages("polls") if m["embeds"] and "Who together?" in str(m["embeds"][0])]
    assert len(polls) == 1, ix.all_text


def results_posts(server: FanServer) -> list[dict]:
    return [m for m in server.messages("polls") if m["embeds"] and m["embeds"][0]["title"].startswith("Results")]


async def test_one_process_on_both_shards_answers_and_posts_in_every_server(start_bot, double, clock):
    servers = servers_on_two_shards(double)
    bot = await start_bot(shard_count=2)
    assert isinstance(bot, ShardedFanBot) and bot.shard_count == 2 and len(bot.guilds) == 4
    assert sorted(tuple(i["shard"]) for i in double.identifies) == [(0, 2), (1, 2)]
    for server in servers:
        await server.configure(bot)
        await start_poll(server)
    # Each command reached the session of its server's shard, and only that one.
    for session in double.gateway.sessions:
        got = {f["d"]["guild_id"] for f in session.replay if f["t"] == "INTERACTION_CREATE"}
        assert got == {s.guild.id for s in servers if session.owns(s.guild.id)}
    clock.advance(timedelta(hours=1, minutes=1))
    await bot.scheduler.run_once(force=True)
    assert [len(results_posts(s)) for s in servers] == [1, 1, 1, 1]


async def test_a_process_on_shard_1_of_2_sees_and_posts_only_for_shard_1(start_bot, double, clock):
    servers = servers_on_two_shards(double)
    zero = await start_bot(shard_count=2, shard_ids=(0,))
    one = await start_bot(shard_count=2, shard_ids=(1,))
    assert sorted(g.name for g in one.guilds) == ["Fan club 1", "Fan club 3"]
    assert sorted(g.name for g in zero.guilds) == ["Fan club 0", "Fan club 2"]
    assert not one.services.shards.everything and one.services.shards.owns(int(servers[1].guild.id))
    for server in servers:
        await server.configure(one)
        await start_poll(server)  # answered by whichever process owns the server
    clock.advance(timedelta(hours=1, minutes=1))
    await one.scheduler.run_once(force=True)
    assert [len(results_posts(s)) for s in servers] == [0, 1, 0, 1]
    open_polls = await one.services.db.fetchall("SELECT guild_id FROM polls WHERE closed_at IS NULL")
    assert sorted(r[0] for r in open_polls) == sorted(int(s.guild.id) for s in servers[0::2])
    await zero.scheduler.run_once(force=True)
    await one.scheduler.run_once(force=True)
    assert [len(results_posts(s)) for s in servers] == [1, 1, 1, 1]  # each once, by its own shard's process


async def test_identify_is_spaced_per_max_concurrency_bucket(start_bot, double):
    servers_on_two_shards(double, 2)
    double.identify_interval = 0.3
    bot = await start_bot(shard_count=2, bot_options={"identify": LocalIdentifyCoordinator(0.3, margin=0.05)})
    log = double.gateway.identify_log
    assert [(a.shard, a.accepted) for a in log] == [((0, 2), True), ((1, 2), True)]  # no op 9 needed
    assert log[1].time - log[0].time >= 0.3
    assert bot.max_concurrency == 1 and len(bot.guilds) == 2


async def test_shards_in_different_buckets_identify_without_waiting(start_bot, double):
    servers_on_two_shards(double, 2)
    double.identify_interval, double.max_concurrency = 30.0, 2
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    gate = LocalIdentifyCoordinator(30.0, sleep=sleep)
    bot = await start_bot(shard_count=2, bot_options={"identify": gate})
    assert bot.max_concurrency == 2 and waits == []
    assert all(a.accepted for a in double.gateway.identify_log) and len(double.gateway.identify_log) == 2


async def test_the_unsharded_bot_is_the_plain_one_as_before(start_bot, double):
    FanServer(double)
    bot = await start_bot()
    assert type(bot) is FanBot and [i.get("shard") for i in double.identifies] in ([None], [[0, 1]])


async def test_a_gateway_process_without_the_feeds_role_never_polls(start_bot, server, clock):
    feeds = await FeedServer().start()
    try:
        feeds.feed("wire.xml", Item("Song Hye-kyo news", "http://wire.example/1", "1"))
        bot = await start_bot(process_roles=frozenset({"gateway", "leader"}))
        await server.invoke(server.mod, "feeds add", url=feeds.url("wire.xml"), name="Wire")
        checked = len(feeds.hits("wire.xml"))  # /feeds add reads the feed once to check it
        clock.advance(700)
        await bot.scheduler.run_once(force=True)
        assert len(feeds.hits("wire.xml")) == checked
        everything = await start_bot.restart(bot, process_roles=frozenset({"gateway", "feeds", "leader"}))
        clock.advance(700)
        await everything.scheduler.run_once(force=True)
        assert len(feeds.hits("wire.xml")) == checked + 1
    finally:
        await feeds.stop()


async def test_only_the_leader_syncs_commands(start_bot, server, double):
    await start_bot(process_roles=frozenset({"gateway", "feeds"}))
    assert double.sync_count == 0 and not double.commands.get(None)


async def test_processes_that_cannot_coordinate_back_off_after_op_9_instead_of_hammering(start_bot, double):
    # Two processes, one bucket (max_concurrency 1), each spacing only its own IDENTIFYs: the later one
    # identifies too early, gets op 9, and waits its own interval before trying again. (With the shared
    # database's coordinator there would be no op 9 at all.)
    servers_on_two_shards(double)
    double.identify_interval = 0.3
    await (await Database.open(start_bot.settings.database_path)).close()  # migrated before both start
    zero, one = await asyncio.gather(*(
        start_bot(shard_count=2, shard_ids=(shard_id,),
                  bot_options={"identify": LocalIdentifyCoordinator(0.3, margin=0.05)})
        for shard_id in (0, 1)))
    assert len(zero.guilds) == 2 and len(one.guilds) == 2
    log = double.gateway.identify_log
    refused = [a for a in log if not a.accepted]
    assert len(refused) <= 1, log  # at most the one early attempt, then a spaced retry
    accepted = [a for a in log if a.accepted]
    assert sorted(a.shard for a in accepted) == [(0, 2), (1, 2)]
    assert abs(accepted[1].time - accepted[0].time) >= 0.3
