#!/usr/bin/env python3
"""Flake check: the contract suite against the clean reference server N times, new seed each.

    make flake-check            # 10 runs
    make flake-check N=20
    .venv/bin/python scripts/flake_check.py --runs 5 --first-seed 100 --profile ci

Every run gets a fresh server and its own seed (random unless --first-seed is given, then
consecutive); any failing run is reported with its seed, the failing tests and the
command that repeats it. Writes results/flake-check.md. Exit 0 when every run passed, 1
when any failed or gave no result, 2 on a usage error.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from contract_suite.selftest.catalogue import clean  # noqa: E402
from contract_suite.selftest.runs import ROOT, RunSettings, SuiteRun, run_many  # noqa: E402
from contract_suite.selftest.verdicts import evidence  # noqa: E402


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=10, help="how many runs (default 10)")
    parser.add_argument("--first-seed", type=int, default=None,
                        help="seeds first-seed, first-seed+1, ... (default: random seeds)")
    parser.add_argument("--profile", default="ci", choices=("smoke", "ci", "thorough"))
    parser.add_argument("--jobs", type=int, default=2, help="runs side by side (default 2)")
    parser.add_argument("--workers", type=int, default=0,
                        help="xdist workers per run (0: none, the default)")
    parser.add_argument("--run-timeout", type=float, default=600.0,
                        help="hard bound on one run, seconds (default 600)")
    parser.add_argument("--results", type=Path, default=ROOT / "results")
    args = parser.parse_args(argv)
    if args.runs < 1 or args.jobs < 1 or args.workers < 0 or args.run_timeout <= 0:
        parser.error("--runs and --jobs must be >= 1, --workers >= 0, --run-timeout > 0")
    return args


def seeds_for(runs: int, first_seed: int | None) -> list[int]:
    if first_seed is not None:
        return [first_seed + i for i in range(runs)]
    return random.sample(range(1, 2**31), runs)


def repeat_command(run: SuiteRun, profile: str) -> str:
    return (f".venv/bin/python scripts/flake_check.py --runs 1 --first-seed {run.seed} "
            f"--profile {profile}   # or: make contract PYTEST_ARGS='--seed {run.seed}'")


def run_line(run: SuiteRun, index: int, total: int) -> str:
    state = {"pass": "ok", "fail": "FAILED", "error": "NO RESULT"}[run.outcome]
    line = f"[{index}/{total}] seed {run.seed}: {state} ({run.seconds:.1f} s)"
    return line + (f": {', '.join(evidence(run))}" if run.outcome != "pass" else "")


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    seeds = seeds_for(args.runs, args.first_seed)
    settings = RunSettings(profile=args.profile, xdist_workers=args.workers,
                           timeout=args.run_timeout)
    print(f"flake-check: {args.runs} clean runs, profile {args.profile}, seeds "
          f"{', '.join(map(str, seeds))}", flush=True)
    finished: list[SuiteRun] = []

    def report(run: SuiteRun) -> None:
        finished.append(run)
        print(run_line(run, len(finished), args.runs), flush=True)

    started = time.monotonic()
    runs = run_many([clean()] * args.runs, settings, args.jobs, on_done=report, seeds=seeds)
    wall = time.monotonic() - started
    bad = [run for run in runs if run.outcome != "pass"]
    lines = [f"# Flake check: {args.runs} clean runs, profile `{args.profile}`",
             "", f"Seeds: {', '.join(map(str, seeds))}; wall time {wall:.0f} s.", "",
             f"Result: {args.runs - len(bad)}/{args.runs} passed; "
             f"{len(bad)} failed{' (flaky)' if bad else ''}.", ""]
    for run in bad:
        lines.append(f"- seed {run.seed}: {run.outcome}")
        lines.extend(f"  - `{t.name}`: {t.why}" for t in run.failed)
        lines.extend(f"  - {note}" for note in (run.refused, run.problem) if note)
        lines.append(f"  - repeat: `{repeat_command(run, args.profile)}`")
    args.results.mkdir(parents=True, exist_ok=True)
    (args.results / "flake-check.md").write_text("\n".join(lines) + "\n")
    print()
    print(f"flake-check: {args.runs - len(bad)}/{args.runs} runs passed in {wall:.0f} s"
          + (f"; FAILED seeds: {', '.join(str(r.seed) for r in bad)}" if bad else "; no flakes"))
    for run in bad:
        print(f"  repeat: {repeat_command(run, args.profile)}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
