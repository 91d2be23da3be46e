"""Benchmark: one news poll cycle over many local feeds against plain aiohttp (+ feedparser), side by side.

Measures, with medians over several rounds:
- unchanged feeds (every answer a 304): NewsService.poll_due vs concurrent aiohttp GETs of the same
  URLs with the same validators and concurrency (target <= 1.5x);
- changed feeds (one new item naming a followed star in each, every round): poll_due (fetch, parse,
  match, record stories and their announcement rows) vs aiohttp GET + feedparser.parse alone
  (target <= 3x);
- the longest event-loop stall during each cycle, from a ticker that sleeps 5 ms (target < 100 ms).
The feeds are served by an aiohttp server in another process, so its CPU does not count here.

Run: .venv/bin/python benchmarks/bench_poll.py [--feeds 1000] [--rounds 5] [--concurrency 20] [--database-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import io
import multiprocessing as mp
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import aiohttp  # noqa: E402
import feedparser  # noqa: E402
from aiohttp import web  # noqa: E402

from benchmarks._db import add_option, engine, open_bench_db  # noqa: E402
from bot.clock import ManualClock  # noqa: E402
from bot.domain.catalogue import Catalogue  # noqa: E402
from bot.services.news import NewsService  # noqa: E402
from bot.services.stars import StarService  # noqa: E402
from bot.settings import Settings  # noqa: E402
from bot.storage.stars import StarRepository  # noqa: E402

ITEMS = 10
FILLER = ("The agency said on Monday that filming begins next month, and fans praised the first stills "
          "released with the announcement. ") * 2


# -- the feed server (another process) --------------------------------------------------------------
@lru_cache(maxsize=4096)
def feed_body(n: int, version: int) -> bytes:
    items = []
    for k in range(version + ITEMS - 1, version - 1, -1):  # newest first; one new item per version
        who = "Song Hye-kyo" if k % 2 == 0 else "a rookie actor"
        items.append(
            f"<item><title>Story {k} of feed {n}: {who} in new project</title>"
            f"<link>http://press{n}.example/story/{k}</link><guid>feed{n}-story{k}</guid>"
            f"<description>{FILLER}</description><pubDate>Sun, 29 Nov 2026 03:00:00 GMT</pubDate></item>"
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>Feed {n}</title><link>http://press{n}.example/</link>{''.join(items)}</channel></rss>"
    ).encode()


def serve(port_out, version) -> None:  # pragma: no cover - runs in the child process
    async def handle(request: web.Request) -> web.Response:
        n = int(request.match_info["n"])
        v = version.value
        etag = f'"v{v}"'
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers={"ETag": etag})
        return web.Response(body=feed_body(n, v), headers={"ETag": etag, "Content-Type": "application/rss+xml"})

    async def main() -> None:
        app = web.Application()
        app.router.add_get("/f/{n}.xml", handle)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0, backlog=2048)
        await site.start()
        port_out.value = runner.addresses[0][1]
        await asyncio.Event().wait()

    asyncio.run(main())


# -- measuring ---------------------------------------------------------------------------------------
class StallMeter:
    """A task that sleeps 5 ms at a time and records the worst lateness: how long the loop was blocked."""

    def __init__(self) -> None:
        self.worst = 0.0
        self._task: asyncio.Task | None = None

    async def _run(self) -> None:
        while True:
            start = time.perf_counter()
            await asyncio.sleep(0.005)
            self.worst = max(self.worst, time.perf_counter() - start - 0.005)

    async def __aenter__(self) -> "StallMeter":
        self._task = asyncio.create_task(self._run())
        await asyncio.sleep(0)
        return self

    async def __aexit__(self, *exc) -> None:
        assert self._task is not None
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)


async def timed(coro_factory) -> tuple[float, float, object]:
    async with StallMeter() as meter:
        start = time.perf_counter()
        result = await coro_factory()
        elapsed = time.perf_counter() - start
    return elapsed, meter.worst, result


async def plain_gets(session: aiohttp.ClientSession, urls: list[str], etag: str | None, limit: int, parse: bool) -> int:
    semaphore = asyncio.Semaphore(limit)
    headers = {"If-None-Match": etag} if etag else {}

    async def one(url: str) -> int:
        async with semaphore:
            async with session.get(url, headers=headers) as resp:
                body = await resp.read()
            if parse and resp.status == 200:
                parsed = await asyncio.to_thread(feedparser.parse, io.BytesIO(body))
                return len(parsed.entries)
            return resp.status

    return len(await asyncio.gather(*(one(u) for u in urls)))


async def bench(feeds: int, rounds: int, concurrency: int, database_url: str | None) -> None:
    ctx = mp.get_context("spawn")
    port, version = ctx.Value("i", 0), ctx.Value("i", 1)
    server = ctx.Process(target=serve, args=(port, version), daemon=True)
    server.start()
    while not port.value:
        await asyncio.sleep(0.05)
    urls = [f"http://127.0.0.1:{port.value}/f/{n}.xml" for n in range(feeds)]

    tmp = tempfile.TemporaryDirectory()
    db = await open_bench_db(database_url, Path(tmp.name) / "bench.db")
    clock = ManualClock(datetime(2026, 11, 29, 3, 0, tzinfo=timezone.utc))
    settings = Settings(database_path=Path(tmp.name) / "bench.db", feed_allow_private_networks=True, star_search_feeds=())
    stars = StarService(StarRepository(db), Catalogue.load(), clock)
    news = NewsService(settings, db, clock, stars, concurrency=concurrency)
    await news.start()
    await stars.follow(1, "Song Hye-kyo")
    for n, url in enumerate(urls):
        await news.feeds.insert_if_absent(1, url, name=f"Feed {n}", kind="manual", star_id=None, now=clock.now(), next_poll_at=clock.now())
    primed = await news.poll_due(limit=None)
    assert primed.polled == feeds and primed.failed == 0, primed

    plain = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency))

    async def bot_cycle():
        clock.advance(timedelta(seconds=settings.feed_poll_interval * 2))
        return await news.poll_due(limit=None)

    results: dict[str, list[tuple[float, float]]] = {k: [] for k in ("304 plain", "304 bot", "new plain", "new bot")}
    stories = []
    # Warm both sides' connections and code paths once before measuring.
    await plain_gets(plain, urls, f'"v{version.value}"', concurrency, parse=False)
    await bot_cycle()
    for _ in range(rounds):
        etag = f'"v{version.value}"'
        t, stall, _r = await timed(lambda etag=etag: plain_gets(plain, urls, etag, concurrency, parse=False))
        results["304 plain"].append((t, stall))
        t, stall, report = await timed(bot_cycle)
        assert report.not_modified == feeds, report  # type: ignore[union-attr]
        results["304 bot"].append((t, stall))

        version.value += 1
        t, stall, _r = await timed(lambda: plain_gets(plain, urls, None, concurrency, parse=True))
        results["new plain"].append((t, stall))
        version.value += 1
        t, stall, report = await timed(bot_cycle)
        assert report.failed == 0 and report.not_modified == 0, report  # type: ignore[union-attr]
        stories.append(report.new_stories)  # type: ignore[union-attr]
        results["new bot"].append((t, stall))

    med = {k: statistics.median(t for t, _ in v) for k, v in results.items()}
    stall = {k: max(s for _, s in v) for k, v in results.items()}
    print(f"{feeds} feeds, concurrency {concurrency}, {rounds} rounds (medians), bot on {engine(database_url)}; "
          f"stories per changed cycle: {stories}")
    print(f"{'':28}{'plain':>10}{'bot':>10}{'ratio':>8}{'target':>8}   worst loop stall (plain / bot)")
    for label, key, target in (("unchanged (all 304)", "304", 1.5), ("changed (new items)", "new", 3.0)):
        p, b = med[f"{key} plain"], med[f"{key} bot"]
        verdict = "ok" if b / p <= target else "MISSED"
        print(
            f"{label:28}{p * 1000:>8.0f}ms{b * 1000:>8.0f}ms{b / p:>7.2f}x{'<=' + str(target) + 'x':>8}   "
            f"{stall[f'{key} plain'] * 1000:.1f} / {stall[f'{key} bot'] * 1000:.1f} ms ({verdict})"
        )
    worst = max(stall["304 bot"], stall["new bot"]) * 1000
    print(f"longest event-loop stall during a bot cycle: {worst:.1f} ms (target < 100 ms: {'ok' if worst < 100 else 'MISSED'})")

    await plain.close()
    await news.close()
    await db.close()
    tmp.cleanup()
    server.terminate()
    server.join()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=20)
    add_option(parser)
    args = parser.parse_args()
    asyncio.run(bench(args.feeds, args.rounds, args.concurrency, args.database_url))


if __name__ == "__main__":
    main()
