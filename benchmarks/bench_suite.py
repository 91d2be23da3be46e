"""The whole test suite's wall and CPU time, at HEAD and at a base revision, side by side.

    python benchmarks/bench_suite.py [--base REV] [--rounds 3]

Each revision is cloned into a temp folder with its own venv (as `.ci/run` does from a fresh clone);
the two suites then run in turn, round after round, so both see the same machine load. CPU is the
user+sys time of pytest and every process it waited for (workers, `python -m bot`, initdb); the
PostgreSQL servers the tests start are daemons and are not counted. Prints medians.

Each run is preceded by a fixed pure-Python loop, timed: on a shared virtual machine the CPU's speed
can change by half within minutes, and this figure shows when it did.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def checkout(rev: str, into: Path) -> Path:
    subprocess.run(["git", "clone", "-q", str(ROOT), str(into)], check=True)
    subprocess.run(["git", "-C", str(into), "checkout", "-q", rev], check=True)
    # The corpus is read from ../shared/corpus relative to the project: the same one for both clones.
    shared = ROOT.parent / "shared"
    if shared.is_dir() and not (into.parent / "shared").exists():
        (into.parent / "shared").symlink_to(shared)
    subprocess.run([sys.executable, "-m", "venv", ".venv"], cwd=into, check=True)
    subprocess.run([".venv/bin/pip", "install", "-q", "-e", ".[test]"], cwd=into, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return into


def gauge() -> float:
    """Seconds for a fixed pure-Python loop in a fresh interpreter: the machine's speed right now."""
    code = "import time\nt = time.perf_counter()\nn = 0\nfor i in range(10**7):\n    n += i\nprint(time.perf_counter() - t)"
    return float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)


def run_suite(clone: Path) -> tuple[float, float, str]:
    """(wall seconds, CPU seconds, pytest's summary line) of one run of the README's test command."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run([".venv/bin/python", "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=clone,
                          env={**os.environ, "CI": "true"}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    lines = done.stdout.splitlines()
    summary = next((line for line in reversed(lines) if re.search(r"\d+ (passed|failed)", line)), "?")
    for line in lines:
        if line.startswith(("FAILED", "ERROR")):
            print(f"  {clone.parent.name}: {line}", flush=True)
    return wall, cpu, summary.strip("= ")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="HEAD~1", help="the revision to compare with (default HEAD~1)")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="fanbot-bench-suite-") as tmp:
        clones = {name: checkout(rev, Path(tmp) / name / "fanbot")
                  for name, rev in (("base", args.base), ("head", "HEAD"))}
        figures: dict[str, list[tuple[float, float]]] = {name: [] for name in clones}
        for round_ in range(args.rounds):
            for name, clone in clones.items():
                speed = gauge()
                wall, cpu, summary = run_suite(clone)
                figures[name].append((wall, cpu))
                print(f"round {round_ + 1} {name}: {wall:5.1f} s wall, {cpu:5.1f} s CPU ({summary}); "
                      f"speed gauge {speed:.2f} s", flush=True)
    load = os.getloadavg()[0]
    print(f"\nmedians over {args.rounds} rounds (load average at the end: {load:.1f}, {os.cpu_count()} CPUs):")
    for name, rows in figures.items():
        print(f"  {name:4}  {statistics.median(w for w, _ in rows):5.1f} s wall  "
              f"{statistics.median(c for _, c in rows):5.1f} s CPU")
    base, head = (statistics.median(w for w, _ in figures[n]) for n in ("base", "head"))
    print(f"  head/base wall: {head / base:.2f}")


if __name__ == "__main__":
    main()
