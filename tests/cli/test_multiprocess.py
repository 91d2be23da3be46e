"""The bot as several real `python -m bot` processes on one PostgreSQL, through the Discord double: two
gateway processes (shards 0 and 1 of 2), a feeds process, 4 servers reading one feed URL.

Timing knobs keep this fast: the double spaces IDENTIFY by 1 s instead of 5 s (and the bot is told so),
the processes tick every 0.1 s, and the leader lease is 2 s."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest

from bot.clock import SystemClock
from bot.services import build_services
from bot.settings import Settings
from bot.storage.postgres import PostgresDatabase
from bot.storage.timefmt import to_db
from tests.cli.multiproc import BotProcess
from tests.conftest import FanServer
from tests.feedserver import FeedServer, Item

LEASE = 2
ELECTED = "this process is now the leader"


@pytest.fixture
async def cluster_env(pg_cluster, double, tmp_path):
    url = await pg_cluster.clean_database()
    double.shards, double.max_concurrency, double.identify_interval = 2, 1, 1.0
    feeds = await FeedServer().start()
    db = await PostgresDatabase.open_url(url, migrate=False)
    procs: list[BotProcess] = []

    async def start(name: str, *, shard: int | None = None, roles: str) -> BotProcess:
        env = dict(DISCORD_TOKEN=double.token, DISCORD_API_BASE=double.api_base, DATABASE_URL=url, SHARD_COUNT="2",
                   PROCESS_ROLES=roles, FEED_ALLOW_PRIVATE_NETWORKS="true", LEADER_LEASE_SECONDS=str(LEASE),
                   # A killed process's delivery leases run out in 3 s, so the rolling restart test waits for
                   # the takeover a few seconds, not the production minute.
                   DELIVERY_LEASE_SECONDS="3",
                   FANBOT_TEST_TICK_SECONDS="0.1", FANBOT_TEST_IDENTIFY_SECONDS="1", LOG_LEVEL="DEBUG")
        if shard is not None:
            env["SHARD_IDS"] = str(shard)
        proc = await BotProcess.start(name, tmp_path, **env)
        procs.append(proc)
        return proc

    yield SimpleNamespace(url=url, feeds=feeds, db=db, start=start, procs=procs,
                          services=build_services(Settings(), db, SystemClock()))
    for proc in procs:
        await proc.stop()
    await feeds.stop()
    await db.close()
    for proc in procs:
        assert "Traceback" not in proc.output, f"{proc.name}:\n{proc.output}"
        assert double.token not in proc.output


async def make_due(db: PostgresDatabase) -> None:
    """The next cycle, now: the test cannot move the processes' clocks, so it moves the schedule."""
    await db.execute("UPDATE feed_sources SET next_poll_at = ?", (to_db(datetime.now(timezone.utc) - timedelta(seconds=1)),))


async def test_two_gateways_and_a_feeds_process_post_every_story_once_per_server_and_the_leader_is_replaced(
        cluster_env, double):
    env = cluster_env
    servers = [FanServer(double, f"Fan club {i}", shard=(i % 2, 2)) for i in range(4)]
    gateway0 = await env.start("gateway 0", shard=0, roles="gateway,leader")
    gateway1 = await env.start("gateway 1", shard=1, roles="gateway")
    await gateway0.wait_for_line(ELECTED)
    await double.wait_for_identify(2, timeout=30)
    await double.wait_ready(2, timeout=30)
    # Both shards share max_concurrency bucket 0: the second IDENTIFY waited its turn across processes.
    attempts = double.gateway.identify_log
    assert [a.accepted for a in attempts] == [True, True], attempts
    assert attempts[1].time - attempts[0].time >= 1.0

    for server in servers:
        await server.configure(SimpleNamespace(services=env.services))
        followed = await server.invoke(server.mod, "stars follow", name="Song Hye-kyo")
        assert "Song Hye-kyo" in followed.content, followed.all_text
    wire = env.feeds.feed("wire.xml", Item("Song Hye-kyo at an old premiere", "http://wire.example/old", "old"))
    for server in servers:
        added = await server.invoke(server.mod, "feeds add", url=env.feeds.url("wire.xml"), name="Wire")
        assert "Wire" in added.all_text, added.all_text
    assert await env.db.fetchval("SELECT COUNT(*) FROM feed_sources") == 1  # one URL, one source
    wire.items.insert(0, Item("송혜교, 새 드라마 출연 확정", "http://wire.example/new", "new"))
    await make_due(env.db)
    fetched = len(env.feeds.hits("wire.xml"))

    feeds = await env.start("feeds", roles="feeds,leader")
    # Woken by the feeds process's NOTIFY, each gateway posts for the servers of its own shard.
    await double.wait_for(lambda: all(server.messages("news") for server in servers), 30, "a post in every server")
    await feeds.wait_for_line("scheduled job news-poll done")
    assert len(env.feeds.hits("wire.xml")) - fetched == 1
    assert feeds.count(ELECTED) == 0  # a standby while gateway 0 leads

    killed = time.monotonic()
    gateway0.kill()
    took = await feeds.wait_for_line(ELECTED, timeout=LEASE * 5) - killed
    assert took < LEASE, f"the leader was replaced after {took:.2f} s"
    # Commands still answered on the shard whose process lives, and nothing was posted twice.
    for server in servers[1::2]:
        listed = await server.invoke(server.fan, "stars list")
        assert "Song Hye-kyo" in listed.all_text
    for server in servers:
        [post] = server.messages("news")
        assert post["embeds"][0]["url"] == "http://wire.example/new"
    assert await env.db.fetchval("SELECT COUNT(*) FROM announcements WHERE status = 'pending'") == 0
    await gateway1.stop()
    await feeds.stop()
    assert gateway1.proc.returncode == 0 and feeds.proc.returncode == 0


async def test_two_processes_racing_to_close_one_poll_close_it_once_with_one_results_post(cluster_env, double):
    env = cluster_env
    server = FanServer(double, "Shard 1 fans", shard=(1, 2))
    first = await env.start("shard 1", shard=1, roles="gateway,leader")
    await double.wait_ready(1, timeout=30)
    await server.configure(SimpleNamespace(services=env.services))
    for name in ("Song Hye-kyo", "Han So-hee", "Kim Go-eun"):
        await server.invoke(server.mod, "stars follow", name=name)
    created = await server.invoke(server.mod, "poll create", question="Who should star together?",
                                  pairings="Song Hye-kyo x Han So-hee; Song Hye-kyo x Kim Go-eun", duration="1h")
    assert len(server.messages("polls")) == 1, (created.all_text, first.output[-3000:])
    await first.stop()
    await env.db.execute("UPDATE polls SET closes_at = ?", (to_db(datetime.now(timezone.utc) - timedelta(seconds=1)),))

    # A rolling restart gone wrong: two processes for shard 1 start at once, each closing due polls at
    # its first tick.
    racers = [await env.start(f"shard 1 #{n}", shard=1, roles="gateway") for n in (1, 2)]
    for racer in racers:
        await racer.wait_for_line("scheduled job polls-close done")
    await double.wait_for(lambda: len(server.messages("polls")) == 2, 10, "the results post")
    [poll_message, results] = server.messages("polls")
    assert poll_message["components"] == []  # final counts, buttons gone
    assert results["embeds"] and results["id"] != poll_message["id"]
    assert await env.db.fetchval("SELECT COUNT(*) FROM polls WHERE closed_at IS NOT NULL") == 1


async def feed_with_new_stories(env, servers, double, count: int):
    """Servers following a star and reading one feed, with `count` new stories on it, due now."""
    for server in servers:
        await server.configure(SimpleNamespace(services=env.services))
        await server.invoke(server.mod, "stars follow", name="Han So-hee")
    wire = env.feeds.feed("wire.xml", Item("Han So-hee at an old premiere", "http://wire.example/old", "old"))
    for server in servers:
        await server.invoke(server.mod, "feeds add", url=env.feeds.url("wire.xml"), name="Wire")
    for n in range(count):
        wire.items.insert(0, Item(f"Han So-hee news {n}", f"http://wire.example/{n}", f"n{n}"))
    await make_due(env.db)
    return {f"http://wire.example/{n}" for n in range(count)}


def posted_urls(server: FanServer) -> list[str]:
    return [e.get("url") for m in server.messages("news") for e in m.get("embeds", [])]


async def test_a_rolling_restart_and_a_process_killed_mid_delivery_lose_and_double_nothing(cluster_env, double):
    env = cluster_env
    servers = [FanServer(double, f"Shard 1 club {i}", shard=(1, 2)) for i in range(2)]
    old = await env.start("shard 1 old", shard=1, roles="gateway,leader")
    await double.wait_ready(1, timeout=30)
    urls = await feed_with_new_stories(env, servers, double, 4)
    # The rolling restart: the new process for shard 1 is up while the old one still runs.
    new = await env.start("shard 1 new", shard=1, roles="gateway")
    await double.wait_ready(2, timeout=30)
    await env.start("feeds", roles="feeds")
    await double.wait_for(lambda: any(posted_urls(s) for s in servers), 30, "the first post")
    old.kill()  # the old process dies in the middle of delivering; the new one finishes the queue
    await double.wait_for(lambda: all(set(posted_urls(s)) == urls for s in servers), 30, "every story posted")
    await new.wait_for_line("scheduled job news-deliver done", count=2)
    for server in servers:
        assert sorted(posted_urls(server)) == sorted(urls)
    assert await env.db.fetchval("SELECT COUNT(*) FROM announcements WHERE status IN ('pending', 'sending')") == 0
