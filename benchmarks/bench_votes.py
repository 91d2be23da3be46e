"""A burst of poll votes through the Discord double: fanbot against a bare bot that only acknowledges.

Each run: 10,000 fans each press a button once (bounded in-flight clicks, like a busy server), measured
from INTERACTION_CREATE sent to the interaction callback received. fanbot's votes are then counted in
its database (every vote exactly once). Rounds alternate bare/fanbot so both see the same machine state.

    .venv/bin/python benchmarks/bench_votes.py [--fans 10000] [--in-flight 64] [--rounds 2] [--database-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import discord

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._db import add_option, engine, open_bench_db  # noqa: E402
from bot.client import FanBot  # noqa: E402
from bot.clock import ManualClock  # noqa: E402
from bot.settings import Settings  # noqa: E402
from tests.discord_double import DiscordDouble, Member, Perm, run_bot  # noqa: E402


# -- the baseline: a bare discord.py bot whose button only acknowledges ------------------------
class AckButton(discord.ui.DynamicItem[discord.ui.Button], template=r"bench:ack:(?P<n>\d+)"):
    def __init__(self, n: int) -> None:
        super().__init__(discord.ui.Button(label="ack", custom_id=f"bench:ack:{n}"))

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: Any, match: re.Match[str], /) -> "AckButton":
        return cls(int(match["n"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message("ok", ephemeral=True)


class BareBot(discord.Client):
    def __init__(self) -> None:
        intents = discord.Intents.none()
        intents.guilds = True
        super().__init__(intents=intents)

    async def setup_hook(self) -> None:
        self.add_dynamic_items(AckButton)


# -- the burst ---------------------------------------------------------------------------------
async def burst(double: DiscordDouble, message: dict[str, Any], custom_ids: list[str], fans: list[Member],
                in_flight: int) -> tuple[float, list[float], list[Any]]:
    """Every fan presses once; returns (seconds, latencies, handles)."""
    gate = asyncio.Semaphore(in_flight)
    latencies: list[float] = []
    handles: list[Any] = []

    async def press(i: int, fan: Member) -> None:
        async with gate:
            handle = await double.click(message, custom_ids[i % len(custom_ids)], fan)
            await handle.wait_response(timeout=30)
            latencies.append(handle.response_latency)
            handles.append(handle)

    start = time.perf_counter()
    await asyncio.gather(*(press(i, fan) for i, fan in enumerate(fans)))
    return time.perf_counter() - start, latencies, handles


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def run_bare(double: DiscordDouble, guild: Any, fans: list[Member], in_flight: int, round_no: int) -> dict:
    bot = BareBot()
    async with run_bot(bot, double, double.token):
        message, _ = double.messages.create(
            guild.general.id, guild.id,
            {"content": "bench", "components": [{"type": 1, "components": [
                {"type": 2, "style": 1, "label": "ack", "custom_id": f"bench:ack:{round_no}"}]}]}, [])
        seconds, latencies, handles = await burst(double, message, [f"bench:ack:{round_no}"], fans, in_flight)
    assert all(h.content == "ok" for h in handles)
    return {"seconds": seconds, "latencies": latencies}


async def run_fanbot(double: DiscordDouble, guild: Any, fans: list[Member], in_flight: int, tmp: Path,
                     round_no: int, database_url: str | None) -> dict:
    settings = Settings(database_path=tmp / f"fanbot-{round_no}.db", discord_api_base=double.api_base,
                        star_search_feeds=(), feed_allow_private_networks=True, media_path=tmp / "media")
    db = await open_bench_db(database_url, settings.database_path)
    bot = FanBot(settings, db, clock=ManualClock(), scheduler_tick=None)
    try:
        async with run_bot(bot, double, double.token):
            gid = int(guild.id)
            await bot.services.guilds.set_channel(gid, "polls", int(guild.polls.id))
            for name in ("Song Hye-kyo", "Han So-hee", "Kim Go-eun"):
                await bot.services.stars.follow(gid, name)
            ix = await double.invoke(guild, guild.mod, guild.general, "poll create", question="Burst",
                                     pairings="Song Hye-kyo x Han So-hee; Song Hye-kyo x Kim Go-eun; "
                                              "Han So-hee x Kim Go-eun", duration="1d")
            await ix.wait_done(timeout=60)  # the poll message is posted before the deferred answer is filled in
            message = double.channel_messages(guild.polls.id)[-1]
            ids = [c["custom_id"] for row in message["components"] for c in row["components"]]
            poll_id = int(ids[0].split(":")[2])
            seconds, latencies, handles = await burst(double, message, ids, fans, in_flight)
            counted = sum("is counted" in (h.content or "") for h in handles)
            stored = await db.fetchval("SELECT COUNT(*) FROM poll_votes WHERE poll_id = ?", (poll_id,))
            voters = await db.fetchval("SELECT COUNT(DISTINCT voter_id) FROM poll_votes WHERE poll_id = ?", (poll_id,))
            per_option = [r[0] for r in await db.fetchall(
                "SELECT COUNT(*) FROM poll_votes WHERE poll_id = ? GROUP BY position ORDER BY position", (poll_id,))]
            edits = bot.get_cog("PollsCog").live.edits
    finally:
        await db.close()
    expected = [len(range(i, len(fans), 3)) for i in range(3)]
    exact = stored == voters == len(fans) == counted and per_option == expected
    return {"seconds": seconds, "latencies": latencies, "exact": exact, "stored": stored, "edits": edits,
            "per_option": per_option, "expected": expected}


def line(name: str, result: dict, fans: int) -> str:
    lat = result["latencies"]
    return (f"{name:8s} {fans / result['seconds']:8.0f} votes/s   p50 {pct(lat, 0.5) * 1000:6.2f} ms"
            f"   p99 {pct(lat, 0.99) * 1000:6.2f} ms")


async def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--fans", type=int, default=10_000)
    parser.add_argument("--in-flight", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=2)
    add_option(parser)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("discord").setLevel(logging.ERROR)

    async with DiscordDouble() as double:
        double.interaction_deadline = None  # measure, do not time out
        guild = double.add_guild("bench")
        guild.general = guild.add_text_channel("general")
        guild.polls = guild.add_text_channel("polls")
        guild.mod = guild.add_member("mod", permissions=Perm.MANAGE_GUILD)
        fans = [guild.add_member(f"fan{i}") for i in range(args.fans)]
        bare: list[dict] = []
        ours: list[dict] = []
        with tempfile.TemporaryDirectory() as tmp:
            for round_no in range(args.rounds):
                bare.append(await run_bare(double, guild, fans, args.in_flight, round_no))
                ours.append(await run_fanbot(double, guild, fans, args.in_flight, Path(tmp), round_no,
                                             args.database_url))
                print(f"round {round_no + 1}: {line('bare', bare[-1], args.fans)}")
                print(f"         {line('fanbot', ours[-1], args.fans)}   exact: {ours[-1]['exact']} "
                      f"({ours[-1]['stored']} rows, per option {ours[-1]['per_option']}), "
                      f"{ours[-1]['edits']} live edits")
    def med(rs: list[dict], f) -> float:
        return statistics.median(f(r) for r in rs)

    bare_rate = med(bare, lambda r: args.fans / r["seconds"])
    our_rate = med(ours, lambda r: args.fans / r["seconds"])
    bare_p50, our_p50 = med(bare, lambda r: pct(r["latencies"], 0.5)), med(ours, lambda r: pct(r["latencies"], 0.5))
    bare_p99, our_p99 = med(bare, lambda r: pct(r["latencies"], 0.99)), med(ours, lambda r: pct(r["latencies"], 0.99))
    print(f"\n{args.fans} fans, {args.in_flight} clicks in flight, median of {args.rounds} rounds, "
          f"fanbot on {engine(args.database_url)}")
    print(f"{'':8s} {'votes/s':>8s}   {'p50 ms':>6s}   {'p99 ms':>6s}")
    print(f"{'bare':8s} {bare_rate:8.0f}   {bare_p50 * 1000:6.2f}   {bare_p99 * 1000:6.2f}")
    print(f"{'fanbot':8s} {our_rate:8.0f}   {our_p50 * 1000:6.2f}   {our_p99 * 1000:6.2f}")
    ok_rate = our_rate >= 0.5 * bare_rate
    ok_p99 = our_p99 <= 2 * bare_p99
    exact = all(r["exact"] for r in ours)
    print(f"throughput ratio {our_rate / bare_rate:.2f} (target >= 0.5): {'met' if ok_rate else 'MISSED'}")
    print(f"p99 ratio {our_p99 / bare_p99:.2f} (target <= 2): {'met' if ok_p99 else 'MISSED'}")
    print(f"every vote counted exactly once: {exact}")
    return 0 if exact else 1


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
