"""Re-run every mutant that survived `mutmut run` in a fresh interpreter, then print each module's score.

mutmut tests one mutant after another in workers forked from a single warmed-up process, and in a
long run some kills are lost there (a mutant the same tests kill when run on their own is reported
as survived). A survivor counts only if it also survives a clean `python -m pytest` of the tests
mutmut linked to its function. Verdicts found here are written back, so `mutmut results` agrees.

Mutants set aside (equivalent, or changing only log or message text) are listed in
tests/MUTATION.md as table rows: | `name` | equivalent or text or accepted | why |. Accepted ones
still count as survivors in the score.

From the project root, after `mutmut run 'bot.net.addresses*'`:
    .venv/bin/python tests/mutation_recheck.py 'bot.net.addresses*'
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import re
import subprocess
import sys
import tomllib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MUTANTS = ROOT / "mutants"
LEDGER = ROOT / "tests" / "MUTATION.md"
SURVIVED, KILLED, TIMEOUT = 0, 1, 36
_ROW = re.compile(r"^\|\s*`([^`]+__mutmut_\d+)`\s*\|\s*(equivalent|text|accepted)\s*\|")


def module_of(mutant: str) -> str:
    """'bot.net.addresses.x_check_url__mutmut_3' -> 'bot.net.addresses'."""
    head = mutant.rsplit("__mutmut_", 1)[0]
    return ".".join(part for part in head.split(".") if not part.startswith("x"))


def ledger() -> dict[str, str]:
    """Set-aside mutants and their kind, from the tables in tests/MUTATION.md."""
    if not LEDGER.exists():
        return {}
    return {m.group(1): m.group(2) for line in LEDGER.read_text("utf-8").splitlines() if (m := _ROW.match(line))}


def recheck(mutant: str, tests: list[str], timeout: float) -> int:
    env = {**os.environ, "MUTANT_UNDER_TEST": mutant}
    command = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "--rootdir=.", *sorted(tests)]
    try:
        done = subprocess.run(command, cwd=MUTANTS, env=env, capture_output=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return TIMEOUT
    return SURVIVED if done.returncode == 0 else KILLED


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("patterns", nargs="*", default=["*"], help="mutant name globs, e.g. 'bot.net.addresses*'")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds for one mutant's tests")
    parser.add_argument("--no-recheck", action="store_true", help="only print the scores of what is recorded")
    parser.add_argument("--skip-listed", action="store_true", help="recheck only survivors not in tests/MUTATION.md")
    args = parser.parse_args()

    config = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["tool"]["mutmut"]
    stats = json.loads((MUTANTS / "mutmut-stats.json").read_text("utf-8"))["tests_by_mangled_function_name"]
    set_aside = ledger()
    metas = {path: MUTANTS / f"{path}.meta" for path in config["only_mutate"]}
    results: dict[str, tuple[Path, dict]] = {}
    for path, meta in metas.items():
        if meta.exists():
            data = json.loads(meta.read_text("utf-8"))
            results[path] = (meta, data)

    wanted = {name: (path, code) for path, (_meta, data) in results.items()
              for name, code in data["exit_code_by_key"].items()
              if any(fnmatch.fnmatch(name, p) for p in args.patterns) and code is not None}
    survivors = [name for name, (_path, code) in wanted.items()
                 if code == SURVIVED and not (args.skip_listed and name in set_aside)]
    if survivors and not args.no_recheck:
        print(f"re-running {len(survivors)} survivors, each in a fresh interpreter ...", flush=True)
        with ThreadPoolExecutor(args.jobs) as pool:
            verdicts = dict(zip(survivors, pool.map(
                lambda m: recheck(m, list(stats.get(m.rsplit("__mutmut_", 1)[0], [])), args.timeout), survivors), strict=True))
        changed = set()
        for name, verdict in verdicts.items():
            path = wanted[name][0]
            if verdict != SURVIVED:
                results[path][1]["exit_code_by_key"][name] = verdict
                wanted[name] = (path, verdict)
                changed.add(path)
        for path in changed:
            meta, data = results[path]
            meta.write_text(json.dumps(data, indent=4), "utf-8")

    status = 0
    by_module: dict[str, list[tuple[str, int]]] = {}
    for name, (_path, code) in wanted.items():
        by_module.setdefault(module_of(name), []).append((name, code))
    for module, mutants in sorted(by_module.items()):
        total = len(mutants)
        alive = [n for n, c in mutants if c == SURVIVED]
        aside = [n for n in alive if set_aside.get(n) in ("equivalent", "text")]
        accepted = [n for n in alive if set_aside.get(n) == "accepted"]
        unlisted = [n for n in alive if n not in set_aside]
        scored = total - len(aside)
        score = 100.0 * (scored - len(accepted) - len(unlisted)) / scored if scored else 100.0
        print(f"{module}: {total} mutants, {total - len(alive)} killed, {len(aside)} set aside "
              f"(equivalent or text only), {len(accepted)} accepted, {len(unlisted)} unexplained "
              f"-> score {score:.1f} %")
        for name in unlisted:
            print(f"    unexplained survivor: {name}")
            status = 1
    stale = [n for n in set_aside if n in wanted and wanted[n][1] != SURVIVED]
    for name in stale:
        print(f"    listed in tests/MUTATION.md but now killed: {name}")
    return status


if __name__ == "__main__":
    sys.exit(main())
