"""Benchmark: StarMatcher (one pass per text) against one compiled regex per alias, on the same headlines;
then this tree against a base commit, with the feeds' per-server matching and story filters.

1. StarMatcher against the regex per alias, in this process, rounds interleaved (target >= 300x).
2. --base REV (default 69f36db, the last main commit before /feeds filter and per-star routes): the
   base is exported with `git archive` into a temporary folder, and each round runs the same workload
   in a fresh process of each tree, alternately (issue 10: "no slower than before, side by side with
   the previous commit in one run, filters and routing active"):
   - the domain matcher: the stars and headlines of part 1, µs per headline;
   - the feeds path: --servers servers following catalogued stars (every one Song Hye-kyo, half Han
     So-hee, a seventh Kim Go-eun, one in fifty with an alias of its own), the labelled headlines of
     tests/domain/data as items each read by two of those servers, µs per item: on this tree matched
     once per item and given to each server, and a third of the subscriptions' story filters
     (English and Hangul words) applied to what matched; the base, one match per server and no
     filters. Routing is not part of matching (it is the gateways' delivery: bench_delivery.py).
   Both trees get the same texts; the ratio is the median of the per-round ratios.

Run: .venv/bin/python benchmarks/bench_matcher.py [--stars 1000] [--headlines 10000] [--repeats 5]
     [--base 69f36db | --base ''] [--servers 2000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import json
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks._trees import export  # noqa: E402
from bot.domain.catalogue import Catalogue  # noqa: E402
from bot.domain.matcher import StarMatcher  # noqa: E402
from bot.domain.text import name_key  # noqa: E402

SURNAMES = "Kim Lee Park Choi Jung Kang Cho Yoon Jang Lim Han Oh Seo Shin Kwon Hwang Ahn Song Jeon Hong Yoo Ko Moon Yang".split()
SYLLABLES = (
    "ah bin bo chae chan da dong eun gyu ha hee ho hwa hye hyun in jae ji jin joo jun ki kyung mi min "
    "na ra rin seo seok sol soo sun tae woo won ye yeon yong young yu"
).split()
FILLER = (
    "confirmed to star in a new drama opposite as the agency announced on Monday that the film will "
    "premiere this fall while fans praised the trailer for its cinematography and the director said"
).split()


def synthetic_stars(count: int, rng: random.Random) -> list[tuple[str, list[str]]]:
    """count stars x 5 plausible romanised aliases: hyphenated, spaced, glued, reversed, revised spelling."""
    stars, seen = [], set()
    while len(stars) < count:
        family, a, b = rng.choice(SURNAMES), rng.choice(SYLLABLES), rng.choice(SYLLABLES)
        display = f"{family} {a.title()}-{b}"
        if display.lower() in seen:
            continue
        seen.add(display.lower())
        revised = f"{family} {a.replace('oo', 'u').title()}-{b.replace('ee', 'i')}x"  # keeps the 5 distinct
        aliases = [display, f"{family} {a.title()} {b.title()}", f"{family} {a.title()}{b}", f"{a.title()}-{b} {family}", revised]
        stars.append((display, aliases))
    return stars


def other_person(taken: set[str], rng: random.Random) -> str:
    """A name built like the stars' that is none of them; its given name spells real syllables, so
    the typo rule must not take it for the star it is one letter from."""
    while True:
        name = f"{rng.choice(SURNAMES)} {rng.choice(SYLLABLES).title()}-{rng.choice(SYLLABLES)}"
        if name_key(name) not in taken:
            return name


def headlines(count: int, names: list[str], rng: random.Random) -> list[str]:
    """About 10% of the texts mention one alias, written exactly as in the catalogue."""
    taken = {name_key(n) for n in names}
    out = []
    for _ in range(count):
        words = rng.sample(FILLER, 12)
        if rng.random() < 0.10:
            words.insert(rng.randrange(len(words)), rng.choice(names))
        else:  # near-misses: other people, often one letter from a star ("Kim Ha-jun" for "Kim Ha-jin")
            words.insert(0, other_person(taken, rng))
        out.append(" ".join(words).capitalize())
    return out


class RegexBaseline:
    """What the SPEC forbids: one case-insensitive regex per alias, all tried on every text."""

    def __init__(self, stars: list[tuple[str, list[str]]]) -> None:
        self.patterns = [
            (key, re.compile(r"\b" + re.escape(alias) + r"\b", re.I)) for key, aliases in stars for alias in aliases
        ]

    def match(self, text: str) -> list[str]:
        found: dict[str, None] = {}
        for key, pattern in self.patterns:
            if key not in found and pattern.search(text):
                found[key] = None
        return list(found)


def timed(fn, texts: list[str], repeats: int) -> tuple[float, list[list[str]]]:
    """Median over repeats of the time per text (seconds), and the answers of the last run."""
    runs, answers = [], []
    for _ in range(repeats):
        started = time.perf_counter()
        answers = [fn(text) for text in texts]
        runs.append((time.perf_counter() - started) / len(texts))
    return statistics.median(runs), answers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stars", type=int, default=1000)
    parser.add_argument("--headlines", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument(
        "--baseline-texts", type=int, default=2000, help="time the slow regex baseline on the first N texts (0: all)"
    )
    parser.add_argument("--base", default="69f36db",
                        help="the commit to compare with, exported with git archive ('' to skip; default: "
                             "before /feeds filter and per-star routes)")
    parser.add_argument("--servers", type=int, default=2000, help="servers following stars, for the feeds path")
    parser.add_argument("--rounds", type=int, default=5, help="fresh processes of each tree, alternately")
    args = parser.parse_args()
    rng = random.Random(20240517)

    stars = synthetic_stars(args.stars, rng)
    # The real catalogue joins the synthetic one, plain names only (the regex baseline has no rules).
    stars += [(s.name, [n for n in s.all_names if n.isascii()]) for s in Catalogue.load()]
    names = [n for _, aliases in stars for n in aliases]
    texts = headlines(args.headlines, names, rng)

    builds = []
    for _ in range(args.repeats):
        started = time.perf_counter()
        matcher = StarMatcher.build(stars)
        builds.append(time.perf_counter() - started)
    build_matcher = statistics.median(builds)
    started = time.perf_counter()
    baseline = RegexBaseline(stars)
    build_regex = time.perf_counter() - started

    # Rounds interleave the two, so a neighbour's load slows both alike; the speedup is the median of
    # the per-round ratios. The baseline is slow, so it runs on a sample of the same texts.
    sample = texts[: args.baseline_texts] if args.baseline_texts else texts
    matcher_runs, regex_runs, ratios = [], [], []
    for _ in range(args.repeats):
        t_m, got = timed(matcher.match, texts, 1)
        t_r, want = timed(baseline.match, sample, 1)
        matcher_runs.append(t_m)
        regex_runs.append(t_r)
        ratios.append(t_r / t_m)
    t_matcher, t_regex = statistics.median(matcher_runs), statistics.median(regex_runs)

    # Sanity: on plain aliases written as in the catalogue, both must find the same stars.
    # `got` covers every text, `want` only the sample (its first texts): compare the sample.
    disagree = [(t, g, w) for t, g, w in zip(sample, got, want, strict=False) if set(g) != set(w)]
    mentioning = sum(1 for g in got if g)

    print(f"names: {len(names)} aliases of {len(stars)} stars; texts: {len(texts)} ({mentioning} mention someone)")
    print(f"{'':22}{'build':>10}{'median/text':>14}{'texts/s':>12}")
    print(f"{'StarMatcher':22}{build_matcher * 1e3:>8.1f}ms{t_matcher * 1e6:>12.1f}µs{1 / t_matcher:>12,.0f}")
    print(f"{'regex per alias':22}{build_regex * 1e3:>8.1f}ms{t_regex * 1e6:>12.1f}µs{1 / t_regex:>12,.0f}")
    print(f"speedup: {statistics.median(ratios):.1f}x (median of {args.repeats} interleaved rounds; target >= 300x)")
    print(f"matcher build: {build_matcher * 1e3:.1f}ms (median of {args.repeats}; target < 100ms)")
    print(f"(regex timed on the first {len(sample)} of the same texts)")
    print(f"agreement on plain aliases: {len(sample) - len(disagree)}/{len(sample)}")
    for text, g, w in disagree[:5]:
        print(f"  differ: {text!r}: matcher={g} regex={w}")
    if args.base:
        against_base(args, stars[: args.stars], texts)


# -- this tree against the base, each in fresh processes ----------------------------------------------
LABELLED = ROOT / "tests" / "domain" / "data" / "headlines_extra.jsonl"

WORKER = r'''
import gc, json, sys, time
tree, data_path = sys.argv[1], sys.argv[2]
sys.path.insert(0, tree)
import bot
from pathlib import Path
assert Path(bot.__file__).resolve().is_relative_to(Path(tree).resolve()), bot.__file__
import asyncio
from bot.domain.catalogue import Catalogue
from bot.domain.matcher import StarMatcher
from bot.domain.stars import Star
from bot.services.matching import NewsMatcher

data = json.loads(Path(data_path).read_text(encoding="utf-8"))
catalogue = Catalogue.load()
out = {}

# The domain matcher: part 1's stars plus the tree's own catalogue, plain names as part 1 gives them.
stars = [(k, v) for k, v in data["stars"]] + [(s.name, [n for n in s.all_names if n.isascii()]) for s in catalogue]
started = time.perf_counter()
matcher = StarMatcher.build(stars)
out["build_ms"] = (time.perf_counter() - started) * 1e3
texts = data["headlines"]
for text in texts[:1000]:
    matcher.match(text)  # warm
gc.collect()
started = time.perf_counter()
found = sum(1 for text in texts if matcher.match(text))
out["domain_us"] = (time.perf_counter() - started) / len(texts) * 1e6
out["domain_found"] = found

# The feeds path: servers following catalogued stars, each item read by two servers.
servers = data["servers"]
followed, n = [], 0
for g in range(1, servers + 1):
    for name, every in (("Song Hye-kyo", 1), ("Han So-hee", 2), ("Kim Go-eun", 7)):
        if g % every:
            continue
        known = catalogue.find(name)
        extra = ("Sunny Song",) if name == "Song Hye-kyo" and g % 50 == 0 else ()
        n += 1
        followed.append(Star(id=n, guild_id=g, name=known.name, hangul=known.hangul, aliases=known.aliases + extra,
                             from_catalogue=True))

async def load():
    return followed

news = NewsMatcher(load, catalogue)
started = time.perf_counter()
asyncio.run(news.ready())
out["feeds_build_ms"] = (time.perf_counter() - started) * 1e3
items = data["items"]
readers = [(1 + i % servers, 1 + (i + servers // 2) % servers) for i in range(len(items))]
try:
    from bot.domain.filters import StoryFilter
    story_filter = StoryFilter(include=("drama", "film", "드라마", "영화"), exclude=("rumour", "루머", "dating"))
except ImportError:  # the base has no story filters
    story_filter = None
shared = hasattr(news, "named")  # this tree matches an item once and gives the hit to each server

def feeds_pass():
    matched = kept = 0
    for i, text in enumerate(items):
        named = news.named(text) if shared else None
        for k, guild in enumerate(readers[i]):
            got = news.match(guild, text, named) if shared else news.match(guild, text)
            matched += bool(got)
            if got and (story_filter is None or (i + k) % 3 or story_filter.allows(text)):
                kept += 1
    return matched, kept

feeds_pass()  # warm
gc.collect()
repeats = data["feeds_repeats"]
started = time.perf_counter()
for _ in range(repeats):
    out["feeds_matched"], out["feeds_kept"] = feeds_pass()
out["feeds_us"] = (time.perf_counter() - started) / (repeats * len(items)) * 1e6
print(json.dumps(out))
'''


def against_base(args, stars: list[tuple[str, list[str]]], texts: list[str]) -> None:
    items = [json.loads(line)["text"] for line in LABELLED.read_text(encoding="utf-8").splitlines() if line.strip()]
    with tempfile.TemporaryDirectory(prefix="fanbot-bench-") as tmp:
        base = export(args.base, Path(tmp) / "base")
        data = Path(tmp) / "data.json"
        data.write_text(json.dumps({"stars": stars, "headlines": texts, "servers": args.servers, "items": items,
                                    "feeds_repeats": 3}), encoding="utf-8")
        trees = {"base": base, "this": ROOT}
        runs: dict[str, list[dict]] = {name: [] for name in trees}
        for r in range(args.rounds):
            for name in (list(trees) if r % 2 == 0 else list(trees)[::-1]):
                done = subprocess.run([sys.executable, "-c", WORKER, str(trees[name]), str(data)], cwd=trees[name],
                                      capture_output=True, text=True, check=True, timeout=1800)
                runs[name].append(json.loads(done.stdout.strip().splitlines()[-1]))
    print(f"\nthis tree against {args.base}: {args.rounds} rounds, each tree in a fresh process per round "
          f"(medians; ratio = median of per-round ratios, base/this: > 1 is faster)")
    print(f"{'':34}{'base':>12}{'this':>12}{'ratio':>9}")
    for key, label, unit in (("domain_us", "domain matcher, per headline", "µs"),
                             ("build_ms", "domain matcher build", "ms"),
                             ("feeds_us", f"feeds path, {args.servers} servers, per item", "µs"),
                             ("feeds_build_ms", "feeds index build", "ms")):
        b = statistics.median(run[key] for run in runs["base"])
        t = statistics.median(run[key] for run in runs["this"])
        ratio = statistics.median(rb[key] / rt[key] for rb, rt in zip(runs["base"], runs["this"], strict=True))
        print(f"{label:34}{b:>10.1f}{unit}{t:>10.1f}{unit}{ratio:>8.2f}x")
    b, t = runs["base"][0], runs["this"][0]
    print(f"headlines naming someone: base {b['domain_found']}, this {t['domain_found']}; items matched for "
          f"their two servers: base {b['feeds_matched']}, this {t['feeds_matched']}, kept after this tree's "
          f"filters {t['feeds_kept']}")
    print("target: no slower than the base (ratio >= 1.0x on the per-text rows)")


if __name__ == "__main__":
    main()
