"""Benchmark: one feed cycle over many shared feed URLs, with 1 and with 2 `feeds` processes on PostgreSQL,
this tree side by side with a base commit.

10,000 feed URLs (default) read by 20,000 server subscriptions (each URL by two servers, ten
subscriptions per server: 2,000 servers), served by a local feed server in another process that
answers 304 for unchanged feeds and a new item for a changed share of them (10% by default) each
cycle. A cycle is every URL due at once; each `feeds` process (a separate OS process, as in
production) claims due sources in batches the way the poll job does (`FOR UPDATE SKIP LOCKED` plus a
lease) until none is left. Every server follows Song Hye-kyo (half also Han So-hee, a seventh Kim
Go-eun). On this tree a third of the subscriptions have a story filter (English and Hangul words)
and a quarter of the servers route her news to her own channel (issue 10: "no slower, filters and
routing active"; routes are read by the gateways' delivery, not by the feeds process, see
bench_delivery.py).

--base REV (default 69f36db, the last main commit before /feeds filter and per-star routes) is
exported with `git archive` into a temporary folder and set up in a database of its own with the
same feeds, servers and stars; the rounds alternate trees and process counts, each cycle in fresh
processes, so a busy machine weighs on both alike. Printed, medians over the rounds: cycle time and
URLs/s per tree with 1 and with 2 processes, each tree's 2-vs-1 ratio (target >= 1.5x on 2 cores),
this tree against the base (median of per-round ratios; target >= 1.0x), and whether every URL was
fetched exactly once per cycle (the server counts each URL's requests).

Run: .venv/bin/python benchmarks/bench_feed_cycle.py [--urls 10000] [--subscriptions 20000] [--servers N]
     [--changed 0.1] [--rounds 3] [--base 69f36db | --base ''] [--database-url URL]
Without --database-url a throwaway PostgreSQL cluster is started (tests/pgcluster.py; needs the
PostgreSQL server binaries). With --profile, one 1-process cycle of each tree is profiled and its top
functions printed (and those of the matcher, the filters and the poller).
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

from benchmarks._trees import ROOT, CpuMeter, export, tree_database, use_tree  # noqa: E402

BASE = datetime(2026, 11, 29, 3, 0, tzinfo=timezone.utc)
STEP = timedelta(days=2)  # past every next_poll_at and lease from the round before
BATCH = 200  # what one poll job claims at a time (bot/services/news.py MAX_PER_CYCLE)


# -- the feed server (another process) ---------------------------------------------------------------
def serve(port_out, versions, hits, urls: int) -> None:  # pragma: no cover - runs in the child process
    def body(n: int, v: int) -> bytes:
        # Every second feed also carries Hangul, so the Hangul matcher and Hangul filter words have work.
        summary = "<description>송혜교가 새 영화에서 주연을 맡았다</description>" if n % 2 else ""
        items = "".join(
            f"<item><title>Story {k} of feed {n}: Song Hye-kyo in a new film</title>{summary}"
            f"<link>http://press{n}.example/{k}</link><guid>f{n}-s{k}</guid></item>"
            for k in range(v + 4, v - 1, -1))
        return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Feed {n}</title>'
                f"<link>http://press{n}.example/</link>{items}</channel></rss>").encode()

    async def handle(request: web.Request) -> web.Response:
        # /t/f/N.xml: tree t (this tree, the base) has URLs of its own, so each sees its own changes.
        i = int(request.match_info["t"]) * urls + int(request.match_info["n"])
        hits[i] += 1
        etag = f'"v{versions[i]}"'
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers={"ETag": etag})
        return web.Response(body=body(i % urls, versions[i]), headers={"ETag": etag, "Content-Type": "application/rss+xml"})

    async def main() -> None:
        app = web.Application()
        app.router.add_get("/{t}/f/{n}.xml", handle)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0, backlog=4096)
        await site.start()
        port_out.value = runner.addresses[0][1]
        await asyncio.Event().wait()

    asyncio.run(main())


# -- a feeds process ------------------------------------------------------------------------------------
def feeds_worker(tree: str, url: str, orders, results, profile: bool) -> None:  # pragma: no cover - child
    use_tree(tree)

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
        # A running feeds process built its index when the stars last changed, not in every cycle.
        await news.matcher.ready()
        loop = asyncio.get_running_loop()
        results.put("ready")
        while True:
            order = await loop.run_in_executor(None, orders.get)
            if order is None:
                break
            now = BASE + STEP * order
            clock.set(now)
            polled = stories = 0
            started, cpu = time.perf_counter(), time.process_time()
            while True:
                report = await news.poll_due(now, limit=BATCH)
                if report.polled == 0:
                    break
                polled += report.polled
                stories += report.new_stories
            results.put((polled, stories, time.perf_counter() - started, time.process_time() - cpu))
        await news.close()
        await db.close()

    if profile:
        import cProfile
        import pstats

        prof = cProfile.Profile()
        prof.enable()
        asyncio.run(main())
        prof.disable()
        stats = pstats.Stats(prof).sort_stats("cumulative")
        stats.print_stats(25)
        stats.print_stats(r"matcher\.py|matching\.py|filters\.py|ingest\.py", 12)
    else:
        asyncio.run(main())


# -- set-up (in a child process of the tree it sets up) ----------------------------------------------------
FILTERED_EVERY = 3  # a third of the subscriptions have a story filter (this tree only)
ROUTED_EVERY = 4  # a quarter of the servers route Song Hye-kyo's news to her own channel (this tree only)


def set_up(tree: str, url: str, port: int, t: int, urls: int, subscriptions: int, servers: int | None,
           step: str, done) -> None:  # pragma: no cover - child process
    use_tree(tree)
    done.put(asyncio.run(_set_up(url, port, t, urls, subscriptions, servers, step)))


def guild_count(subscriptions: int, servers: int | None) -> int:
    return max(2, servers or subscriptions // 10)  # ten subscriptions per server unless told


async def _set_up(url: str, port: int, t: int, urls: int, subscriptions: int, servers: int | None,
                  step: str) -> str:
    from bot.clock import ManualClock
    from bot.services import build_services
    from bot.settings import Settings
    from bot.storage.postgres import PostgresDatabase

    db = await PostgresDatabase.open_url(url)
    services = build_services(Settings(star_search_feeds=()), db, ManualClock(BASE))
    guilds = guild_count(subscriptions, servers)
    sem = asyncio.Semaphore(8)
    filters = hasattr(services.news, "set_filter")  # the base has none, nor per-star routes

    async def subscribe(k: int) -> None:
        n, copy = k % urls, k // urls  # the copies of one URL go to different servers
        guild = 1 + (n + copy) % guilds
        async with sem:
            await services.news.feeds.insert_if_absent(guild, f"http://127.0.0.1:{port}/{t}/f/{n}.xml", name=f"Feed {n}",
                                                       kind="manual", star_id=None, now=BASE, next_poll_at=BASE)

    async def follow(g: int) -> None:
        # Everyone follows Song Hye-kyo; half the servers Han So-hee too, a seventh Kim Go-eun.
        async with sem:
            await services.guilds.set_channel(g, "news", 800_000 + g)
            shk = await services.stars.follow(g, "Song Hye-kyo")
            if g % 2 == 0:
                await services.stars.follow(g, "Han So-hee")
            if g % 7 == 0:
                await services.stars.follow(g, "Kim Go-eun")
            if filters and g % ROUTED_EVERY == 0:
                await services.guilds.route_star(g, "news", shk.id, 900_000 + g)

    if step == "subscribe":
        tables = await db.tables()
        async with db.transaction() as tx:
            await tx.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
        await asyncio.gather(*(subscribe(k) for k in range(subscriptions)))
        if filters:
            from bot.domain.filters import StoryFilter

            # Filters that let every story through: their whole cost is paid and the same stories are
            # written as in the base. English and Hangul words, a phrase, a Hangul word with a particle.
            story_filter = StoryFilter(include=("new film", "영화"), exclude=("rumour", "루머", "dating"))
            rows = await db.fetchall("SELECT id, guild_id FROM feeds ORDER BY id")
            for feed_id, guild in rows[::FILTERED_EVERY]:
                await services.news.feeds.set_filter(guild, feed_id, story_filter)
    else:
        await asyncio.gather(*(follow(g) for g in range(1, guilds + 1)))
    counts = await db.fetchone(
        "SELECT (SELECT COUNT(*) FROM feed_sources), (SELECT COUNT(*) FROM feeds), (SELECT COUNT(*) FROM stars), "
        + ("(SELECT COUNT(*) FROM feeds WHERE include_words IS NOT NULL AND include_words <> ''), "
           "(SELECT COUNT(*) FROM news_routes)" if filters else "0, 0"))
    await db.close()
    return (f"{counts[0]} feed URLs, {counts[1]} subscriptions in {guilds} servers, {counts[2]} stars followed, "
            f"{counts[3]} filtered subscriptions, {counts[4]} routed stars")


class Workers:
    """Fresh feeds processes of one tree, started for one cycle (the index built before the clock runs)."""

    def __init__(self, ctx, tree: Path, url: str, count: int, profile: bool = False) -> None:
        self.orders = [ctx.Queue() for _ in range(count)]
        self.results = ctx.Queue()
        self.procs = [ctx.Process(target=feeds_worker, args=(str(tree), url, q, self.results, profile), daemon=True)
                      for q in self.orders]
        for proc in self.procs:
            proc.start()
        for _ in self.procs:
            assert self.results.get(timeout=300) == "ready"

    def cycle(self, round_no: int) -> tuple[float, int, int, float]:
        started = time.perf_counter()
        for q in self.orders:
            q.put(round_no)
        done = [self.results.get(timeout=1800) for _ in self.procs]
        elapsed = time.perf_counter() - started
        return elapsed, sum(d[0] for d in done), sum(d[1] for d in done), sum(d[3] for d in done)

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
    parser.add_argument("--base", default="69f36db",
                        help="the commit to compare with, exported with git archive ('' for this tree alone; "
                             "default: before /feeds filter and per-star routes)")
    parser.add_argument("--database-url", default=None, metavar="URL",
                        help="PostgreSQL server to use (databases fanbot_bench_this/_base are created there and emptied)")
    parser.add_argument("--profile", action="store_true",
                        help="profile one 1-process cycle of each tree (--base '' for this tree alone) and print the top functions")
    args = parser.parse_args()

    cluster = None
    with tempfile.TemporaryDirectory(prefix="fanbot-bench-") as tmp:
        trees = {"this": ROOT}
        if args.base:
            trees["base"] = export(args.base, Path(tmp) / "base")
        if args.database_url is None:
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
            server_url = cluster.url()
        else:
            server_url = args.database_url
        try:
            pg_pid = int((cluster.data / "postmaster.pid").read_text().split()[0]) if cluster is not None else None
            run(args, trees, {name: asyncio.run(tree_database(server_url, f"fanbot_bench_{name}")) for name in trees}, pg_pid)
        finally:
            if cluster is not None:
                cluster.stop()


def run(args, trees: dict[str, Path], urls: dict[str, str], pg_pid: int | None) -> None:
    ctx = mp.get_context("spawn")
    count = len(trees) * args.urls
    port, versions, hits = ctx.Value("i", 0), ctx.Array("i", count, lock=False), ctx.Array("i", count, lock=False)
    server = ctx.Process(target=serve, args=(port, versions, hits, args.urls), daemon=True)
    server.start()
    while not port.value:
        time.sleep(0.05)
    meter = CpuMeter(server.pid, pg_pid)
    index = {name: t for t, name in enumerate(trees)}
    changed_every = max(1, round(1 / args.changed)) if args.changed > 0 else 0
    cycles = dict.fromkeys(trees, 0)

    def set_up_step(name: str, step: str) -> None:
        done = ctx.Queue()
        proc = ctx.Process(target=set_up, args=(str(trees[name]), urls[name], port.value, index[name], args.urls,
                                                args.subscriptions, args.servers, step, done))
        proc.start()
        print(f"  {name}: {done.get(timeout=1800)}", flush=True)
        proc.join()

    def one_cycle(name: str, workers: Workers) -> tuple[float, int, int, bool, dict[str, float]]:
        # Each tree's own URLs change alike (the same 10% in its n-th cycle), whatever the order of the runs.
        cycles[name] += 1
        lo = index[name] * args.urls
        if changed_every:
            for n in range(cycles[name] % changed_every, args.urls, changed_every):
                versions[lo + n] += 1
        for n in range(args.urls):
            hits[lo + n] = 0
        before = meter.read()
        elapsed, polled, stories, worker_cpu = workers.cycle(cycles[name])
        after = meter.read()
        once = all(h == 1 for h in hits[lo:lo + args.urls])
        cpu = {k: after[k] - before[k] for k in after}
        cpu["feeds"] = worker_cpu
        cpu["others"] = max(0.0, cpu["busy"] - worker_cpu - cpu["server"] - cpu["pg"])
        return elapsed, polled, stories, once, cpu

    def fresh_cycle(name: str, processes: int, profile: bool = False) -> tuple[float, int, int, bool, dict[str, float]]:
        workers = Workers(ctx, trees[name], urls[name], processes, profile)
        try:
            return one_cycle(name, workers)
        finally:
            workers.stop()

    try:
        for name in trees:
            started = time.perf_counter()
            set_up_step(name, "subscribe")
            # The first look of a new subscription is marked seen and never announced, so nothing it
            # would match counts: the stars are followed after it. (The base matches it anyway, checking
            # every server's row of her for each item: ~10 minutes for nothing at 2,000 servers.)
            prime = fresh_cycle(name, 1)
            print(f"  {name}: priming cycle (every URL new): {prime[0]:.1f} s, {prime[1]} polled", flush=True)
            set_up_step(name, "follow")
            print(f"  {name}: set up in {time.perf_counter() - started:.0f} s", flush=True)
        if args.profile:
            for name in trees:
                print(f"== profile of one cycle of {name} ({trees[name]})", flush=True)
                print("profiled cycle (s, polled, stories):", fresh_cycle(name, 1, profile=True)[:3], flush=True)
            return
        plan = [(name, n) for n in (1, 2) for name in trees]
        runs: dict[tuple[str, int], list[tuple[float, int, int, bool, dict[str, float]]]] = {key: [] for key in plan}
        for r in range(args.rounds):
            # Rotate who goes first, so a slow spell of the (shared) machine does not fall on one side.
            for key in plan[r % len(plan):] + plan[:r % len(plan)]:
                runs[key].append(fresh_cycle(*key))
                row = runs[key][-1]
                print(f"  round {r + 1}: {key[0]}, {key[1]} process(es): {row[0]:.2f} s, {row[2]} stories, "
                      f"machine busy {row[4]['busy'] / row[4]['all']:.0%}", flush=True)
        report(args, trees, runs)
    finally:
        server.terminate()
        server.join()


def report(args, trees: dict[str, Path], runs) -> None:
    print(f"{args.urls} URLs, {args.subscriptions} subscriptions in {guild_count(args.subscriptions, args.servers)} "
          f"servers, {args.changed:.0%} changed per cycle, {args.rounds} rounds (medians), fresh processes; PostgreSQL")
    if "base" in trees:
        print(f"a third of the subscriptions filtered (English and Hangul words), a quarter of the servers "
              f"routing Song Hye-kyo to her own channel, in each tree that has them; base = {args.base}")
    print(f"{'tree':6}{'feeds processes':>16}{'cycle':>10}{'URLs/s':>10}{'stories':>9}{'each URL once':>15}")
    rate: dict[tuple[str, int], float] = {}
    for (name, count), rows in runs.items():
        cycle = statistics.median(r[0] for r in rows)
        rate[name, count] = statistics.median(r[1] / r[0] for r in rows)
        once = all(r[3] and r[1] == args.urls for r in rows)
        print(f"{name:6}{count:>16}{cycle:>9.2f}s{rate[name, count]:>10.0f}{statistics.median(r[2] for r in rows):>9.0f}"
              f"{'yes' if once else 'NO':>15}")
    print("CPU seconds per cycle (medians): the feeds processes, the feed server, PostgreSQL, the rest of the "
          "machine (other work), and how busy the cores were")
    print(f"{'tree':6}{'feeds processes':>16}{'feeds':>8}{'server':>8}{'PG':>8}{'others':>8}{'busy':>7}")
    for (name, count), rows in runs.items():
        cpu = {k: statistics.median(r[4][k] for r in rows) for k in ("feeds", "server", "pg", "others")}
        busy = statistics.median(r[4]["busy"] / r[4]["all"] for r in rows)
        print(f"{name:6}{count:>16}{cpu['feeds']:>8.2f}{cpu['server']:>8.2f}{cpu['pg']:>8.2f}{cpu['others']:>8.2f}"
              f"{busy:>7.0%}")
    for name in trees:
        ratio = rate[name, 2] / rate[name, 1]
        print(f"{name}: 2 vs 1 process: {ratio:.2f}x (target >= 1.5x: {'ok' if ratio >= 1.5 else 'MISSED'})")
    if "base" in trees:
        for n in (1, 2):
            # Per-round ratios, so the machine's slow drifts cancel out.
            ratios = [b[0] / t[0] for t, b in zip(runs["this", n], runs["base", n], strict=True)]
            print(f"{n} process(es): this tree {statistics.median(ratios):.2f}x the base's URLs/s "
                  f"(median of per-round ratios; target: no slower, >= 1.0x)")


if __name__ == "__main__":
    main()
