"""Benchmark: StarMatcher (one pass per text) against one compiled regex per alias, on the same headlines.

Run: .venv/bin/python benchmarks/bench_matcher.py [--stars 1000] [--headlines 10000] [--repeats 5]
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

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


if __name__ == "__main__":
    main()
