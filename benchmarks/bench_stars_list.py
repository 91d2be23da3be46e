"""Benchmark: CPU per /stars list interaction through the Discord double, this tree against a baseline commit.

Issue 9 moved every reply through the gettext catalogues; the lookups are cached, so a reply must cost
about what it did before (target: within 10 %). Both trees are measured in the same run: the baseline
is exported with `git archive` into a temporary folder (no worktree is registered), and each tree runs
in its own fresh process, alternately, so machine noise falls on both alike. The CPU counted is the
whole process's (the bot and the in-process double), per interaction; medians over the rounds.

Run: .venv/bin/python benchmarks/bench_stars_list.py [--base 01b58ff] [--rounds 15] [--interactions 200]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STARS = ["Song Hye-kyo", "Han So-hee", "Kim Go-eun", "Jun Ji-hyun", "IU", "Suzy", "Kim Tae-ri", "Kim Yoo-jung",
         "Park Eun-bin", "Kim Ji-won"]

WORKER = r'''
import asyncio, json, sys, tempfile, time
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from bot.client import FanBot
from bot.settings import Settings
from bot.storage.database import Database
from tests.discord_double import DiscordDouble, run_bot

async def main(stars, interactions, locale):
    with tempfile.TemporaryDirectory() as tmp:
        async with DiscordDouble() as double:
            guild = double.add_guild("bench")
            general = guild.add_text_channel("general")
            fan = guild.add_member("fan")
            settings = Settings(database_path=Path(tmp) / "b.db", discord_api_base=double.api_base,
                                star_search_feeds=(), media_path=Path(tmp) / "media")
            db = await Database.open(settings.database_path)
            bot = FanBot(settings, db, scheduler_tick=None)
            async with run_bot(bot, double, double.token):
                for name in stars:
                    await bot.services.stars.follow(int(guild.id), name)
                async def one():
                    handle = await double.invoke_localized(locale, guild, fan, general, "stars list")
                    await handle.wait_done()
                    return handle
                for _ in range(20):  # warm caches, JIT-free but import- and catalogue-warm
                    await one()
                start = time.process_time()
                for _ in range(interactions):
                    handle = await one()
                spent = time.process_time() - start
                assert handle.embeds, "no reply"
            await db.close()
    print(json.dumps({"us_per_interaction": spent / interactions * 1e6}))

asyncio.run(main(json.loads(sys.argv[2]), int(sys.argv[3]), sys.argv[4]))
'''


def measure(tree: Path, interactions: int, locale: str) -> float:
    out = subprocess.run([sys.executable, "-c", WORKER, str(tree), json.dumps(STARS), str(interactions), locale],
                         cwd=tree, capture_output=True, text=True, check=True, timeout=600)
    return json.loads(out.stdout.strip().splitlines()[-1])["us_per_interaction"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="01b58ff", help="the commit to compare with (default: before issue 9)")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--interactions", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp) / "base"
        base.mkdir()
        archive = subprocess.run(["git", "archive", args.base], cwd=ROOT, capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(base)], input=archive, check=True)
        runs: dict[str, list[float]] = {"base en-US": [], "this en-US": [], "this ko": []}
        order = [("base en-US", base, "en-US"), ("this en-US", ROOT, "en-US"), ("this ko", ROOT, "ko")]
        for round_ in range(args.rounds):
            # Rotate who goes first, so a slow spell of the (shared) machine does not fall on one side.
            for name, tree, locale in order[round_ % 3:] + order[: round_ % 3]:
                runs[name].append(measure(tree, args.interactions, locale))
    medians = {k: statistics.median(v) for k, v in runs.items()}
    baseline = medians["base en-US"]
    print(f"/stars list, {len(STARS)} stars, {args.interactions} interactions x {args.rounds} rounds "
          f"(CPU per interaction; base = {args.base})")
    ratios = {}
    for name, values in runs.items():
        # Each round's ratio to the base run of the same round: robust to the machine's slow drifts.
        ratios[name] = statistics.median(v / b for v, b in zip(values, runs["base en-US"], strict=True))
        print(f"  {name:<11} median {medians[name]:6.0f} µs ({medians[name] / baseline:.3f}x)  "
              f"median of per-round ratios {ratios[name]:.3f}x   runs: " + ", ".join(f"{v:.0f}" for v in values))
    verdict = ratios["this en-US"]
    print(f"target: English replies within 10 % of the base -> {'met' if verdict <= 1.10 else 'NOT met'} "
          f"({verdict:.3f}x); Korean replies {ratios['this ko']:.3f}x (Hangul text is longer to encode)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
