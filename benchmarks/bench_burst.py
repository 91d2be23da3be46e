"""Issue 8's burst: 10,000 poll clicks, each bot in its own process, fanbot against a bare discord.py bot.

The Discord double runs in this process; each bot runs in a child process of its own, so the CPU time
and the memory read from /proc are the bot's alone. Clicks are dispatched one after another as fast as
the double manages (it yields to its event loop after each, so its gateway writer and the bots'
callbacks share its time as they would share Discord's), and each is timed from its dispatch to the
interaction callback. Discord drops a callback later than 3 s ("This interaction failed"); here nothing
is refused, so late answers are counted instead. Rounds alternate bare/fanbot, each in a fresh double,
process and database; fanbot's votes are then counted in its database (every vote exactly once).

    .venv/bin/python benchmarks/bench_burst.py [--clicks 10000] [--rounds 3] [--rate CLICKS_PER_S]
                                               [--database-url URL]

Linux only (reads /proc/PID/stat and /proc/PID/status). "of it GC" is the bot's cyclic collector
(gc.callbacks, CPU time) per click over the run. Diagnostics: --profile DIR (py-spy, unmodified bots);
environment BENCH_CPROFILE=PATH (cProfile in each bot), BENCH_HEAP=1 (where tasks wait at the peak,
to stderr), BENCH_TRACEMALLOC=FRAMES with
BENCH_TRACEMALLOC_TO=PATH (a tracemalloc snapshot at that peak), BENCH_GC_THRESHOLD=a,b,c (override each bot's collector thresholds once it is up).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import json
import logging
import os
import signal
import statistics
import sys
import tempfile
import time
import tracemalloc
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.discord_double import DiscordDouble, InteractionHandle, Member, Perm  # noqa: E402

DEADLINE_S = 3.0  # Discord's limit for the first response to an interaction
STARS = ("Song Hye-kyo", "Han So-hee", "Kim Go-eun")
TICK = os.sysconf("SC_CLK_TCK")


# -- the bot side (a child process) -------------------------------------------------------------
async def child(kind: str, guild_id: int, polls_channel: int) -> None:
    """Run one bot against the double named in the environment; stdin says when to stop."""
    import discord
    from bench_votes import BareBot

    from benchmarks._db import open_bench_db
    from bot.client import FanBot
    from bot.settings import Settings
    from tests.discord_double import point_discord_py_at

    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("discord").setLevel(logging.ERROR)
    restore = point_discord_py_at(os.environ["DISCORD_API_BASE"], os.environ["BENCH_GATEWAY"])
    db = None
    if kind == "bare":
        bot: discord.Client = BareBot()
    else:
        # The same settings and database the `fanbot run` entry point builds (bot.cli.run); on
        # PostgreSQL the tables are emptied first, so each round starts from nothing as on SQLite.
        settings = Settings.from_env(dotenv_path=None)
        db = await open_bench_db(settings.database_url.get() if settings.database_url else None,
                                 settings.database_path)
        bot = FanBot(settings, db)
    task = asyncio.create_task(bot.start(os.environ["DISCORD_TOKEN"]))
    while bot.get_guild(guild_id) is None:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    if isinstance(bot, FanBot):
        await bot.services.guilds.set_channel(guild_id, "polls", polls_channel)
        for name in STARS:
            await bot.services.stars.follow(guild_id, name)
    if os.environ.get("BENCH_GC_THRESHOLD"):
        gc.set_threshold(*map(int, os.environ["BENCH_GC_THRESHOLD"].split(",")))
    collections = watch_gc()
    if os.environ.get("BENCH_TRACEMALLOC"):
        tracemalloc.start(int(os.environ["BENCH_TRACEMALLOC"]))
    heap = asyncio.create_task(watch_heap()) if os.environ.get("BENCH_HEAP") or tracemalloc.is_tracing() else None
    profiler = cProfile.Profile() if os.environ.get("BENCH_CPROFILE") else None
    if profiler is not None:
        profiler.enable()
    print("ready", flush=True)
    command = (await asyncio.to_thread(sys.stdin.readline)).split()
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(os.environ["BENCH_CPROFILE"] + f".{kind}")
    if heap is not None:
        heap.cancel()
    await bot.close()
    await asyncio.gather(task, return_exceptions=True)
    report: dict[str, Any] = {"gc": collections}
    if db is not None and command[1:]:
        poll_id = int(command[1])
        report["stored"] = await db.fetchval("SELECT COUNT(*) FROM poll_votes WHERE poll_id = ?", (poll_id,))
        report["voters"] = await db.fetchval(
            "SELECT COUNT(DISTINCT voter_id) FROM poll_votes WHERE poll_id = ?", (poll_id,))
        report["per_option"] = [r[0] for r in await db.fetchall(
            "SELECT COUNT(*) FROM poll_votes WHERE poll_id = ? GROUP BY position ORDER BY position", (poll_id,))]
        await db.close()
    restore()
    print(json.dumps(report), flush=True)


async def watch_heap() -> None:
    """Diagnostics: the most common object types when the most tasks are alive (to stderr)."""
    import collections as counters
    most, snapshot, snapped = 0, None, 0
    try:
        while True:
            await asyncio.sleep(0.5)
            tasks = len(asyncio.all_tasks())
            if tasks > most:
                most = tasks
                kinds = counters.Counter(type(o).__qualname__ for o in gc.get_objects())
                top = kinds.most_common(12)
                waits = counters.Counter(_awaiting(t) for t in asyncio.all_tasks()).most_common(8)
                print(f"  {tasks} tasks waiting in {waits}", file=sys.stderr)
                if tracemalloc.is_tracing() and tasks > 1.1 * snapped:  # a snapshot takes seconds
                    snapshot, snapped = tracemalloc.take_snapshot(), tasks
    except asyncio.CancelledError:
        if most:
            print(f"  heap at {most} tasks: {len(gc.get_objects())} objects now; then: {top}", file=sys.stderr)
        if snapshot is not None:  # read it with tracemalloc.Snapshot.load; printing here would take minutes
            snapshot.dump(os.environ["BENCH_TRACEMALLOC_TO"])
            print(f"  tracemalloc snapshot at the peak: {os.environ['BENCH_TRACEMALLOC_TO']}", file=sys.stderr)
        raise


def _awaiting(task: asyncio.Task[Any]) -> str:
    coro, where = task.get_coro(), "?"
    while coro is not None and hasattr(coro, "cr_frame"):
        if coro.cr_frame is not None:
            where = f"{coro.cr_code.co_name}:{coro.cr_frame.f_lineno}"
        coro = coro.cr_await
    return where


def watch_gc() -> dict[str, float]:
    """CPU seconds and runs of the cyclic garbage collector per generation, from now on."""
    found = {"s0": 0.0, "s1": 0.0, "s2": 0.0, "n0": 0, "n1": 0, "n2": 0}
    started = [0.0]

    def callback(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            started[0] = time.thread_time()
        else:
            found[f"s{info['generation']}"] += time.thread_time() - started[0]
            found[f"n{info['generation']}"] += 1
    gc.callbacks.append(callback)
    return found


# -- the driver ----------------------------------------------------------------------------------
@dataclass
class Usage:
    cpu_s: float
    rss_mb: float
    peak_mb: float


def usage(pid: int) -> Usage:
    with open(f"/proc/{pid}/stat") as f:
        stat = f.read().rsplit(")", 1)[1].split()
    cpu = (int(stat[11]) + int(stat[12])) / TICK  # utime + stime, fields 14 and 15 of proc(5)
    status = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines())
    return Usage(cpu, int(status["VmRSS"].split()[0]) / 1024, int(status["VmHWM"].split()[0]) / 1024)


class Child:
    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process

    @classmethod
    async def start(cls, kind: str, double: DiscordDouble, guild: Any, env: dict[str, str]) -> "Child":
        env = {**os.environ, **env, "DISCORD_API_BASE": double.api_base, "BENCH_GATEWAY": double.gateway_url,
               "DISCORD_TOKEN": double.token, "PYTHONPATH": str(ROOT)}
        process = await asyncio.create_subprocess_exec(
            sys.executable, __file__, "--child", kind, "--guild", guild.id, "--polls-channel", guild.polls.id,
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, env=env, cwd=ROOT)
        found = cls(process)
        line = await asyncio.wait_for(found.readline(), 60)
        if line != "ready":
            raise RuntimeError(f"the {kind} bot did not start (said {line!r})")
        return found

    async def readline(self) -> str:
        assert self.process.stdout is not None
        return (await self.process.stdout.readline()).decode().strip()

    async def stop(self, poll_id: int | None = None) -> dict[str, Any]:
        assert self.process.stdin is not None
        self.process.stdin.write(f"stop {poll_id or ''}\n".encode())
        await self.process.stdin.drain()
        report = json.loads(await asyncio.wait_for(self.readline(), 60) or "{}")
        await self.process.wait()
        return report


async def burst(double: DiscordDouble, message: dict[str, Any], custom_ids: list[str],
                fans: list[Member], rate: float | None) -> list[InteractionHandle]:
    handles = []
    start = time.monotonic()
    for i, fan in enumerate(fans):
        handles.append(await double.click(message, custom_ids[i % len(custom_ids)], fan))
        ahead = start + i / rate - time.monotonic() if rate else 0.0
        await asyncio.sleep(max(ahead, 0.0))
    await asyncio.wait_for(asyncio.gather(*(h.responded.wait() for h in handles)), 300)
    return handles


def make_double(clicks: int) -> tuple[DiscordDouble, Any, list[Member]]:
    double = DiscordDouble(interaction_deadline=None)  # measure late answers rather than refuse them
    guild = double.add_guild("bench")
    guild.general = guild.add_text_channel("general")
    guild.polls = guild.add_text_channel("polls")
    guild.mod = guild.add_member("mod", permissions=Perm.MANAGE_GUILD)
    return double, guild, [guild.add_member(f"fan{i}") for i in range(clicks)]


async def start_profile(directory: Path | None, pid: int, name: str) -> asyncio.subprocess.Process | None:
    """py-spy sampling the bot during the burst (its own process, so the bot runs unmodified)."""
    if directory is None:
        return None
    directory.mkdir(parents=True, exist_ok=True)
    spy = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).parent / "py-spy"), "record", "--pid", str(pid), "--format", "raw", "--nonblocking",
        "--output", str(directory / f"{name}.txt"),
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
    await asyncio.sleep(1)  # py-spy attaches before the first click
    return spy


async def stop_profile(spy: asyncio.subprocess.Process | None) -> None:
    if spy is not None:
        spy.send_signal(signal.SIGINT)
        await spy.wait()


async def run_once(kind: str, clicks: int, tmp: Path, round_no: int, database_url: str | None,
                   profile: Path | None = None, rate: float | None = None) -> dict[str, Any]:
    double, guild, fans = make_double(clicks)
    env = {"DATABASE_PATH": str(tmp / f"fanbot-{round_no}.db"), "MEDIA_PATH": str(tmp / "media"),
           "STAR_SEARCH_FEEDS": "", "FEED_ALLOW_PRIVATE_NETWORKS": "true", "LOG_LEVEL": "WARNING"}
    if database_url:
        env["DATABASE_URL"] = database_url
    async with double:
        bot = await Child.start(kind, double, guild, env)
        poll_id = None
        try:
            if kind == "bare":
                custom_ids = [f"bench:ack:{round_no}"]
                button = {"type": 2, "style": 1, "label": "ack", "custom_id": custom_ids[0]}
                message, _ = double.messages.create(guild.general.id, guild.id, {
                    "content": "bench", "components": [{"type": 1, "components": [button]}]}, [])
            else:
                ix = await double.invoke(guild, guild.mod, guild.general, "poll create", question="Burst",
                                         pairings="; ".join(f"{a} x {b}" for i, a in enumerate(STARS)
                                                            for b in STARS[i + 1:]),
                                         duration="1d")
                await ix.wait_done(timeout=30)
                message = double.channel_messages(guild.polls.id)[-1]
                custom_ids = [c["custom_id"] for row in message["components"] for c in row["components"]]
                poll_id = int(custom_ids[0].split(":")[2])
            spy = await start_profile(profile, bot.process.pid, f"{kind}-{round_no + 1}")
            # The double's world (10,000 members) is built: keep the collector from walking it again and
            # again during the burst, which made the double the slower side of the pair.
            gc.collect()
            gc.freeze()
            me_before, bot_before = time.process_time(), usage(bot.process.pid)
            start = time.monotonic()
            handles = await burst(double, message, custom_ids, fans, rate)
            end = max(h.sent_at + (h.response_latency or 0) for h in handles)
            bot_after, me_after = usage(bot.process.pid), time.process_time()
            await stop_profile(spy)
        finally:
            gc.unfreeze()
            report = await bot.stop(poll_id)
    latencies = [h.response_latency or 0.0 for h in handles]
    result = {"rate": clicks / (end - start), "cpu_ms": (bot_after.cpu_s - bot_before.cpu_s) * 1000 / clicks,
              "double_cpu_ms": (me_after - me_before) * 1000 / clicks,
              "in_time": sum(lat <= DEADLINE_S for lat in latencies),
              "p50": statistics.median(latencies), "max": max(latencies),
              "gc_ms": sum(report["gc"][f"s{g}"] for g in range(3)) * 1000 / clicks,
              "rss_before": bot_before.rss_mb, "rss_after": bot_after.rss_mb, "peak": bot_after.peak_mb}
    if kind == "fanbot":
        expected = [len(range(i, clicks, len(custom_ids))) for i in range(len(custom_ids))]
        counted = sum("is counted" in (h.content or "") for h in handles)
        result["exact"] = (report.get("stored") == report.get("voters") == clicks == counted
                           and report.get("per_option") == expected)
    else:
        result["exact"] = all(h.content == "ok" for h in handles)
    return result


COLUMNS = (("clicks/s", "rate", "{:8.0f}"), ("CPU ms/click", "cpu_ms", "{:12.3f}"), ("of it GC", "gc_ms", "{:8.3f}"),
           ("in 3 s", "in_time", "{:6.0f}"), ("p50 ms", "p50", "{:8.1f}"), ("max ms", "max", "{:8.1f}"),
           ("RSS before MB", "rss_before", "{:13.1f}"), ("after MB", "rss_after", "{:8.1f}"),
           ("peak MB", "peak", "{:7.1f}"), ("double ms/click", "double_cpu_ms", "{:15.3f}"))


def row(name: str, result: dict[str, Any]) -> str:
    cells = []
    for title, key, fmt in COLUMNS:
        value = result[key] * (1000 if key in ("p50", "max") else 1)
        cells.append(fmt.format(value).rjust(len(title)))
    return f"{name:8s} " + "  ".join(cells)


def header() -> str:
    return f"{'':8s} " + "  ".join(title for title, _, _ in COLUMNS)


async def main(args: argparse.Namespace) -> int:
    results: dict[str, list[dict[str, Any]]] = {"bare": [], "fanbot": []}
    with tempfile.TemporaryDirectory() as tmp:
        for round_no in range(args.rounds):
            print(f"round {round_no + 1}\n{header()}")
            for kind in args.only or ("bare", "fanbot"):
                results[kind].append(await run_once(kind, args.clicks, Path(tmp), round_no, args.database_url,
                                                    args.profile, args.rate))
                print(row(kind, results[kind][-1]) + ("" if results[kind][-1]["exact"] else "   NOT EXACT"), flush=True)
    if args.only:
        return 0
    med = {kind: {key: statistics.median(r[key] for r in rs) for _, key, _ in COLUMNS} for kind, rs in results.items()}
    where = "PostgreSQL" if args.database_url else "SQLite"
    pace = f"{args.rate:.0f} clicks/s dispatched" if args.rate else "dispatched as fast as the double can"
    print(f"\n{args.clicks} clicks, {pace}, median of {args.rounds} rounds, fanbot on {where}\n{header()}")
    for kind in ("bare", "fanbot"):
        print(row(kind, med[kind]))
    bare, ours = med["bare"], med["fanbot"]
    exact = all(r["exact"] for rs in results.values() for r in rs)
    checks = [
        (f"throughput {ours['rate'] / bare['rate']:.2f}x the bare bot's (target >= 0.9)",
         ours["rate"] >= 0.9 * bare["rate"]),
        (f"answered within 3 s: {ours['in_time']:.0f} of {args.clicks} (bare: {bare['in_time']:.0f}; target: all "
         "whenever the bare bot manages all)", bare["in_time"] < args.clicks or ours["in_time"] == args.clicks),
        (f"memory after the burst {ours['rss_after'] / bare['rss_after']:.2f}x the bare bot's (target <= 1.3)",
         ours["rss_after"] <= 1.3 * bare["rss_after"]),
    ]
    for text, ok in checks:
        print(f"{text}: {'met' if ok else 'MISSED'}")
    print(f"every click answered, every vote stored exactly once: {exact}")
    return 0 if exact else 1


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clicks", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--rate", type=float, help="dispatch this many clicks per second (default: as fast as "
                        "the double can)")
    parser.add_argument("--database-url", help="run fanbot on this DATABASE_URL (PostgreSQL; ITS TABLES ARE EMPTIED) "
                        "instead of SQLite")
    parser.add_argument("--only", choices=("bare", "fanbot"), action="append", help="run only this bot (profiling)")
    parser.add_argument("--profile", type=Path, help="write py-spy profiles (raw, for flamegraphs) of each bot here")
    parser.add_argument("--child", choices=("bare", "fanbot"), help=argparse.SUPPRESS)
    parser.add_argument("--guild", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--polls-channel", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.database_url:
        from bot.settings import Settings
        if "database_url" not in {f.name for f in fields(Settings)}:
            parser.error("this fanbot has no DATABASE_URL support yet; run without --database-url")
    return args


if __name__ == "__main__":
    options = parse_args()
    if options.child:
        asyncio.run(child(options.child, options.guild, options.polls_channel))
        raise SystemExit(0)
    raise SystemExit(asyncio.run(main(options)))
