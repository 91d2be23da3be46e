"""Benchmark: the journal work of one news delivery tick, before per-star routing and leases and after.

Both sides run the same stories on fresh databases of the same engine, in one run:
- before: the one-channel path (due rows of the server, the minute's budget, open digests, then
  begin_send + record_sent per post), as the announcer did it;
- after: the lease claim, routing the stories (routes for some stars: more rows, one per channel),
  then per channel the same reads and per post begin_send + record_sent, and the lease release (the
  announcer renews the lease only every LEASE_TIME / 3, so a tick of a few posts never does).
Discord is left out on purpose: its sends are the same on both sides and would drown the difference.

Run: .venv/bin/python benchmarks/bench_delivery.py [--servers 200] [--stories 5] [--repeats 5] [--database-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._db import add_option, engine, open_bench_db  # noqa: E402
from bot.domain.announcements import WINDOW  # noqa: E402
from bot.domain.stars import StarDraft  # noqa: E402
from bot.storage.announcements import AnnouncementRepository  # noqa: E402
from bot.storage.guilds import GuildRepository  # noqa: E402
from bot.storage.leases import LeaseRepository  # noqa: E402
from bot.storage.stars import StarRepository  # noqa: E402

NOW = datetime(2026, 11, 29, 3, 0, tzinfo=timezone.utc)
TTL = timedelta(seconds=60)
NEWS = 1_000_000


async def populate(db, servers: int, stories: int, *, routed: bool) -> list[int]:
    """Servers following three stars, `stories` stories each naming one or two of them."""
    stars, guilds, journal = StarRepository(db), GuildRepository(db), AnnouncementRepository(db)
    ids = []
    for g in range(1, servers + 1):
        followed = [await stars.upsert_follow(g, StarDraft(name), from_catalogue=False, actor_id=None, now=NOW)
                    for name in ("Song Hye-kyo", "Han So-hee", "Kim Go-eun")]
        await guilds.set_channel(g, "news", NEWS + g)
        if routed:  # two of the three have channels of their own
            await guilds.set_route(g, followed[0], NEWS + 10_000 + g)
            await guilds.set_route(g, followed[1], NEWS + 20_000 + g)
        for n in range(stories):
            named = [followed[n % 3]] + ([followed[(n + 1) % 3]] if n % 2 else [])
            await journal.record_story(g, title=f"Story {n}", link=f"https://n.example/{g}/{n}", star_ids=named,
                                       now=NOW)
        ids.append(g)
    return ids


async def before(db, guild_ids: list[int]) -> int:
    guilds, journal = GuildRepository(db), AnnouncementRepository(db)
    posts, message = 0, 1
    for g in guild_ids:
        channel = (await guilds.get(g)).channel("news").channel_id
        await journal.open_digests(g, NOW)
        for row in await journal.due(g, NOW):
            await journal.sent_since(channel, NOW - WINDOW)
            await journal.digests_since(channel, NOW - WINDOW)
            await journal.begin_send(row.id, channel, NOW)
            await journal.record_sent(row.id, channel, message, NOW)
            posts, message = posts + 1, message + 1
    return posts


async def after(db, guild_ids: list[int]) -> int:
    guilds, journal, leases = GuildRepository(db), AnnouncementRepository(db), LeaseRepository(db)
    posts, message = 0, 1
    for g in guild_ids:
        assert await leases.claim(g, "bench", NOW, TTL)
        config = await guilds.get(g)
        await journal.route_waiting(g, config.routing, NOW)
        for channel in await journal.channels_with_work(g, NOW):
            await journal.open_digests(g, NOW, channel_id=channel)
            for row in await journal.due(g, NOW, channel_id=channel):
                await journal.sent_since(channel, NOW - WINDOW)
                await journal.digests_since(channel, NOW - WINDOW)
                await journal.begin_send(row.id, channel, NOW)
                await journal.record_sent(row.id, channel, message, NOW)
                posts, message = posts + 1, message + 1
        await leases.release(g, "bench")
    return posts


async def once(args, side, *, routed: bool) -> tuple[float, int]:
    with tempfile.TemporaryDirectory() as tmp:
        db = await open_bench_db(args.database_url, Path(tmp) / "bench.db")
        try:
            guild_ids = await populate(db, args.servers, args.stories, routed=routed)
            start = time.perf_counter()
            posts = await side(db, guild_ids)
            return time.perf_counter() - start, posts
        finally:
            await db.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--servers", type=int, default=200)
    parser.add_argument("--stories", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=5)
    add_option(parser)
    args = parser.parse_args()
    print(f"{engine(args.database_url)}: {args.servers} servers x {args.stories} stories, "
          f"median of {args.repeats} runs")
    sides = {"before (one channel, no lease)": (before, False), "after, no routes": (after, False),
             "after, 2 of 3 stars routed": (after, True)}
    times: dict[str, list[float]] = {label: [] for label in sides}
    posts: dict[str, int] = {}
    for _ in range(args.repeats):  # interleaved, so a busy moment of the machine hits every side alike
        for label, (side, routed) in sides.items():
            seconds, posts[label] = await once(args, side, routed=routed)
            times[label].append(seconds)
    median = {label: statistics.median(t) for label, t in times.items()}
    base = median["before (one channel, no lease)"] / posts["before (one channel, no lease)"]
    print(f"{'':34}{'total ms':>10}{'posts':>8}{'µs/post':>10}{'× before':>10}")
    for label in sides:
        seconds, count = median[label], posts[label]
        print(f"{label:34}{seconds * 1000:>10.1f}{count:>8}{seconds * 1e6 / count:>10.0f}{seconds / count / base:>10.2f}")

if __name__ == "__main__":
    asyncio.run(main())
