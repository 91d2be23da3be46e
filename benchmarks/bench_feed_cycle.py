"""Benchmark: one feed cycle over many shared feed URLs, with 1 and with 2 `feeds` processes on PostgreSQL.

10,000 feed URLs (default) read by 20,000 server subscriptions (each URL by two servers), served by a
local feed server in another process that answers 304 for unchanged feeds and a new item for a
changed share of them (10% by default) each round. A cycle is every URL due at once; each `feeds`
process (a separate OS process, as in production) claims due sources in batches the way the poll job
does (`FOR UPDATE SKIP LOCKED` plus a lease) until none is left. Printed side by side, medians over
the rounds: cycle time and URLs/s with 1 and with 2 processes, the ratio (target >= 1.5x on 2 cores),
and whether every URL was fetched exactly once per cycle (the server counts each URL's requests).
The rounds alternate 1 and 2 processes so that a busy machine weighs on both alike.

Run: .venv/bin/python benchmarks/bench_feed_cycle.py [--urls 10000] [--subscriptions 20000] [--servers N]
     [--changed 0.1] [--rounds 3] [--database-url URL]
Without --database-url a throwaway PostgreSQL cluster is started (tests/pgcluster.py; needs the
PostgreSQL server binaries). With --profile, one 1-process cycle is profiled and its top functions printed.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aiohttp import web  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
BASE = datetime(2026, 11, 29, 3, 0, tzinfo=timezone.utc)
STEP = timedelta(days=2)  # past every next_poll_at and lease from the round before
BATCH = 200  # what one poll job claims at a time (bot/services/news.py MAX_PER_CYCLE)


# -- the feed server (another process) ---------------------------------------------------------------
def serve(port_out, versions, hits) -> None:  # pragma: no cover - runs in the child process
    def body(n: int, v: int) -> bytes:
        items = "".join(
            f"<item><title>Story {k} of feed {n}: Song Hye-kyo in a new film</title>"
            f"<link>http://press{n}.example/{k}</link><guid>f{n}-s{k}</guid></item>"
            for k in range(v + 4, v - 1, -1))
        return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Feed {n}</title>'
                f"<link>http://press{n}.example/</link>{items}</channel></rss>").encode()

    async def handle(request: web.Request) -> web.Response:
        n = int(request.match_info["n"])
        hits[n] += 1
        etag = f'"v{versions[n]}"'
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers={"ETag": etag})
        return web.Response(body=body(n, versions[n]), headers={"ETag": etag, "Content-Type": "application/rss+xml"})

    async def main() -> None:
        app = web.Application()
        app.router.add_get("/f/{n}.xml", handle)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0, backlog=4096)
        await site.start()
        port_out.value = runner.addresses[0][1]
        await asyncio.Event().wait()

    asyncio.run(main())


# -- a feeds process ------------------------------------------------------------------------------------
def feeds_worker(url: str, orders, results, profile: bool) -> None:  # pragma: no cover - child process
    sys.path.insert(0, str(ROOT))

    async def main() -> None:
        from bot.clock import ManualClock
        from bot.services import build_services
        from bot.settings import Settings
        from bot.storage.postgres import PostgresDatabase

        db = await PostgresDatabase.open_url(url, migrate=False)
        clock = ManualClock(BASE)
        services = build_services(Settings(feed_allow_private_networks=True, star_search_feeds=()), db, clock)
        news = services.news
        await news.start()
        loop = asyncio.get_running_loop()
        results.put("ready")
        while True:
            order = await loop.run_in_executor(None, orders.get)
            if order is None:
                break
            now = BASE + STEP * order
            clock.set(now)
            polled = stories = 0
            started = time.perf_counter()
            while True:
                report = await news.poll_due(now, limit=BATCH)
                if report.polled == 0:
                    break
                polled += report.polled
                stories += report.new_stories
            results.put((polled, stories, time.perf_counter() - started))
        await news.close()
        await db.close()

    if profile:
        import cProfile
        import pstats

        prof = cProfile.Profile()
        prof.enable()
        asyncio.run(main())
        prof.disable()
        pstats.Stats(prof).sort_stats("cumulative").print_stats(25)
    else:
        asyncio.run(main())


# -- set-up -----------------------------------------------------------------------------------------------
async def populate(url: str, port: int, urls: int, subscriptions: int, servers: int | None) -> None:
    from bot.clock import ManualClock
    from bot.services import build_services
    from bot.settings import Settings
    from bot.storage.postgres import PostgresDatabase

    db = await PostgresDatabase.open_url(url)
    tables = await db.tables()
    async with db.transaction() as tx:
        await tx.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
    services = build_services(Settings(star_search_feeds=()), db, ManualClock(BASE))
    guilds = max(2, servers or subscriptions // 10)  # ten subscriptions per server unless told
    sem = asyncio.Semaphore(8)

    async def follow(g: int) -> None:
        async with sem:
            await services.stars.follow(g, "Song Hye-kyo")

    async def subscribe(k: int) -> None:
        n, copy = k % urls, k // urls  # the copies of one URL go to different servers
        guild = 1 + (n + copy) % guilds
        async with sem:
            await services.news.feeds.insert_if_absent(guild, f"http://127.0.0.1:{port}/f/{n}.xml", name=f"Feed {n}",
                                                       kind="manual", star_id=None, now=BASE, next_poll_at=BASE)
    await asyncio.gather(*(follow(g) for g in range(1, guilds + 1)))
    await asyncio.gather(*(subscribe(k) for k in range(subscriptions)))
    counts = await db.fetchone("SELECT (SELECT COUNT(*) FROM feed_sources), (SELECT COUNT(*) FROM feeds)")
    await db.close()
    print(f"{counts[0]} feed URLs, {counts[1]} subscriptions in {guilds} servers")


class Workers:
    def __init__(self, ctx, url: str, count: int, profile: bool = False) -> None:
        self.orders = [ctx.Queue() for _ in range(count)]
        self.results = ctx.Queue()
        self.procs = [ctx.Process(target=feeds_worker, args=(url, q, self.results, profile), daemon=True)
                      for q in self.orders]
        for proc in self.procs:
            proc.start()
        for _ in self.procs:
            assert self.results.get(timeout=120) == "ready"

    def cycle(self, round_no: int) -> tuple[float, int, int]:
        started = time.perf_counter()
        for q in self.orders:
            q.put(round_no)
        done = [self.results.get(timeout=600) for _ in self.procs]
        elapsed = time.perf_counter() - started
        return elapsed, sum(d[0] for d in done), sum(d[1] for d in done)

    def stop(self) -> None:
        for q in self.orders:
            q.put(None)
        for proc in self.procs:
            proc.join(60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--urls", type=int, default=10_000)
    parser.add_argument("--subscriptions", type=int, default=20_000)
    parser.add_argument("--servers", type=int, default=None,
                        help="how many servers hold the subscriptions (default: ten subscriptions each)")
    parser.add_argument("--changed", type=float, default=0.1, help="share of the URLs with a new item each round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--database-url", default=None, metavar="URL", help="PostgreSQL to use (ITS TABLES ARE EMPTIED)")
    parser.add_argument("--profile", action="store_true", help="profile one 1-process cycle and print the top functions")
    args = parser.parse_args()

    cluster = None
    url = args.database_url
    if url is None:
        from tests.pgcluster import PgCluster, find_bindir

        bindir = find_bindir()
        if bindir is None:
            sys.exit("no PostgreSQL binaries found: install postgresql or pass --database-url")
        cluster = PgCluster(bindir)
        # Its own prefix: tidying up stale test clusters (/tmp/fanbot-pg-*) must not pull this one's
        # data directory away mid-run (PostgreSQL stops once its lock file is gone).
        cluster.root.rmdir()
        cluster.root = Path(tempfile.mkdtemp(prefix="fanbot-bench-pg-"))
        cluster.data = cluster.root / "data"
        cluster.start()
        url = asyncio.run(cluster.empty_database("bench"))

    ctx = mp.get_context("spawn")
    port, versions, hits = ctx.Value("i", 0), ctx.Array("i", args.urls, lock=False), ctx.Array("i", args.urls, lock=False)
    server = ctx.Process(target=serve, args=(port, versions, hits), daemon=True)
    server.start()
    while not port.value:
        time.sleep(0.05)
    try:
        started = time.perf_counter()
        asyncio.run(populate(url, port.value, args.urls, args.subscriptions, args.servers))
        print(f"(set up in {time.perf_counter() - started:.0f} s)")
        changed_every = max(1, round(1 / args.changed)) if args.changed > 0 else 0
        round_no = 0

        def one_cycle(workers: Workers) -> tuple[float, int, int, bool]:
            nonlocal round_no
            round_no += 1
            if changed_every:
                for n in range(round_no % changed_every, args.urls, changed_every):
                    versions[n] += 1
            for n in range(args.urls):
                hits[n] = 0
            elapsed, polled, stories = workers.cycle(round_no)
            once = all(h == 1 for h in hits[:args.urls])
            return elapsed, polled, stories, once

        if args.profile:
            workers = Workers(ctx, url, 1, profile=True)
            one_cycle(workers)  # the priming cycle: every URL answers 200 the first time
            print("profiled cycle:", one_cycle(workers)[:3])
            workers.stop()
            return

        pools = {1: Workers(ctx, url, 1), 2: Workers(ctx, url, 2)}
        prime = one_cycle(pools[1])  # first fetch of every URL: 200s, validators stored
        print(f"priming cycle (every URL new): {prime[0]:.1f} s, {prime[1]} polled, {prime[2]} stories")
        runs: dict[int, list[tuple[float, int, int, bool]]] = {1: [], 2: []}
        for _ in range(args.rounds):
            for count in (1, 2):
                runs[count].append(one_cycle(pools[count]))
        for workers in pools.values():
            workers.stop()

        print(f"{args.urls} URLs, {args.subscriptions} subscriptions, {args.changed:.0%} changed per round, "
              f"{args.rounds} rounds each (medians); PostgreSQL")
        print(f"{'feeds processes':18}{'cycle':>10}{'URLs/s':>10}{'stories':>9}{'each URL once':>15}")
        rate = {}
        for count, rows in runs.items():
            cycle = statistics.median(r[0] for r in rows)
            rate[count] = statistics.median(r[1] / r[0] for r in rows)
            polled_ok = all(r[1] == args.urls for r in rows)
            once = all(r[3] for r in rows) and polled_ok
            print(f"{count:<18}{cycle:>9.2f}s{rate[count]:>10.0f}{statistics.median(r[2] for r in rows):>9.0f}"
                  f"{'yes' if once else 'NO':>15}")
        ratio = rate[2] / rate[1]
        print(f"2 vs 1 process: {ratio:.2f}x (target >= 1.5x: {'ok' if ratio >= 1.5 else 'MISSED'})")
    finally:
        server.terminate()
        server.join()
        if cluster is not None:
            cluster.stop()


if __name__ == "__main__":
    main()
