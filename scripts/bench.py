#!/usr/bin/env python3
"""Benchmark: our contract suite (CI profile) against schemathesis' own CLI, on this machine.

    make bench
    .venv/bin/python scripts/bench.py --ours-from results/selftest.json   # reuse our catalogue run
    .venv/bin/python scripts/bench.py --faults v2-create-returns-200,signature-hex

1. The clean target (a reference server with the embedded target's settings), one tool at a
   time, nothing else of ours running: wall time, requests sent, pass/fail.
2. The catalogue: every fault (caught = the tool exits non-zero) and every benign variant
   (a non-zero exit = a false positive), two runs side by side; the time to the first
   failure per caught fault, median.
Ours runs as one pytest process (no xdist), st as `st run` for v2 then v1 with
--checks all --continue-on-failure --max-examples = the CI profile's. Requests: ours from
the suite's own "requests sent" total, st from its HAR report (one entry per request).
Writes results/bench.md. Exit 0; 1 when a run gave no result (timeout...); 2: usage error.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from contract_suite.core.profiles import PROFILES  # noqa: E402
from contract_suite.selftest.catalogue import (  # noqa: E402
    SelectionError,
    clean,
    fault_targets,
    select,
    variant_targets,
)
from contract_suite.selftest.runs import (  # noqa: E402
    ROOT,
    RunSettings,
    SuiteRun,
    TargetSpec,
    run_many,
)
from contract_suite.selftest.st_cli import StRun, run_st_against  # noqa: E402

PROFILE = "ci"
SEED = 20240601


@dataclass(frozen=True)
class Outcome:
    """One tool against one target: pass | fail | error, and when it first failed."""

    outcome: str
    first_failure_seconds: float | None = None
    seconds: float | None = None


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--faults", help="comma-separated fault names (default: all)")
    parser.add_argument("--variants", help="comma-separated variant names (default: all)")
    parser.add_argument("--ours-from", type=Path, default=None,
                        help="take our suite's catalogue results from a selftest.json "
                             "(same profile) instead of running them again")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--jobs", type=int, default=2, help="catalogue runs side by side")
    parser.add_argument("--run-timeout", type=float, default=600.0,
                        help="hard bound on one run of either tool, seconds")
    parser.add_argument("--results", type=Path, default=ROOT / "results")
    args = parser.parse_args(argv)
    if args.jobs < 1 or args.run_timeout <= 0:
        parser.error("--jobs must be >= 1 and --run-timeout > 0")
    return args


def ours_from_file(path: Path, names: set[str]) -> tuple[dict[str, Outcome], str]:
    try:
        data = json.loads(path.read_text())
        records = {r["target"]: r for r in data["runs"]}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise SelectionError(f"{path}: not a readable selftest.json ({exc})") from None
    if data.get("profile") != PROFILE:
        raise SelectionError(f"{path}: profile {data.get('profile')!r}, the bench needs {PROFILE}")
    missing = sorted(names - set(records))
    if missing:
        raise SelectionError(f"{path}: has no run for {', '.join(missing)}; run make selftest")
    outcomes = {name: Outcome(records[name]["outcome"], records[name]["first_failure_seconds"],
                              records[name]["seconds"]) for name in names}
    return outcomes, f"{path.name} of commit {data.get('commit')} ({data.get('generated_at')})"


def caught(outcomes: dict[str, Outcome], targets: list[TargetSpec]) -> list[str]:
    return [t.name for t in targets if t.kind == "fault" and outcomes[t.name].outcome == "fail"]


def flagged(outcomes: dict[str, Outcome], targets: list[TargetSpec]) -> list[str]:
    return [t.name for t in targets if t.kind != "fault" and outcomes[t.name].outcome != "pass"]


def median_ttff(outcomes: dict[str, Outcome], names: list[str]) -> str:
    times = [outcomes[n].first_failure_seconds for n in names
             if outcomes[n].first_failure_seconds is not None]
    return f"{statistics.median(times):.1f} s" if times else "n/a"


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    try:
        targets = (select(args.faults, args.variants, with_clean=False)
                   if args.faults or args.variants else fault_targets() + variant_targets())
        reuse = (ours_from_file(args.ours_from, {t.name for t in targets})
                 if args.ours_from else None)
    except SelectionError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 2
    max_examples = PROFILES[PROFILE].max_examples
    settings = RunSettings(profile=PROFILE, seed=args.seed, timeout=args.run_timeout)
    faults = [t for t in targets if t.kind == "fault"]
    variants = [t for t in targets if t.kind != "fault"]

    print("bench 1/2: the clean target, one tool at a time", flush=True)
    ours_clean = run_many([clean()], settings, 1)[0]
    print(f"  ours: {ours_clean.outcome} in {ours_clean.seconds:.1f} s, "
          f"{ours_clean.requests} requests", flush=True)
    st_clean = run_st_against(clean(), max_examples, args.seed, args.run_timeout)
    print(f"  st:   {st_clean.outcome} in {st_clean.seconds:.1f} s, {st_clean.requests} "
          f"requests{'; ' + ', '.join(st_clean.failures) if st_clean.failures else ''}",
          flush=True)

    print(f"bench 2/2: {len(faults)} faults + {len(variants)} variants "
          f"({args.jobs} side by side)", flush=True)
    started = time.monotonic()
    if reuse:
        ours, ours_source = reuse
    else:
        ours = {run.target.name: Outcome(run.outcome, run.first_failure_seconds, run.seconds)
                for run in run_many(targets, settings, args.jobs,
                                    on_done=lambda r: print(f"  ours {r.target.name}: "
                                                            f"{r.outcome}", flush=True))}
        ours_source = "this run"
    st_runs = _st_catalogue(targets, max_examples, args)
    st = {name: Outcome(r.outcome, r.first_failure_seconds, r.seconds)
          for name, r in st_runs.items()}
    wall = time.monotonic() - started

    markdown = render(args, argv, ours_clean, st_clean, ours, st, st_runs, faults, variants,
                      ours_source, wall, max_examples)
    args.results.mkdir(parents=True, exist_ok=True)
    (args.results / "bench.md").write_text(markdown)
    print()
    print(markdown)
    errors = [name for name, o in {**ours, **st}.items() if o.outcome == "error"]
    if "error" in (ours_clean.outcome, st_clean.outcome) or errors:
        print(f"bench: runs without a result: {', '.join(sorted(set(errors))) or 'clean'}")
        return 1
    return 0


def _st_catalogue(targets: list[TargetSpec], max_examples: int,
                  args: argparse.Namespace) -> dict[str, StRun]:
    def one(target: TargetSpec) -> StRun:
        run = run_st_against(target, max_examples, args.seed, args.run_timeout)
        print(f"  st {target.name}: {run.outcome} ({run.seconds:.1f} s)", flush=True)
        return run

    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        return {run.target.name: run for run in pool.map(one, targets)}


def render(args: argparse.Namespace, argv: list[str], ours_clean: SuiteRun, st_clean: StRun,
           ours: dict[str, Outcome], st: dict[str, Outcome], st_runs: dict[str, StRun],
           faults: list[TargetSpec], variants: list[TargetSpec], ours_source: str,
           wall: float, max_examples: int) -> str:
    ours_caught, st_caught = caught(ours, faults), caught(st, faults)
    n = len(faults)
    rows = [
        ("wall time, clean target", f"{ours_clean.seconds:.1f} s", f"{st_clean.seconds:.1f} s"),
        ("requests sent, clean target", f"{ours_clean.requests} (the suite's own total)",
         f"{st_clean.requests} (HAR entries, v1+v2)"),
        ("clean target", ours_clean.outcome, st_clean.outcome
         + (f" ({'; '.join(st_clean.failures)})" if st_clean.failures else "")),
        (f"faults caught (of {n})", f"{len(ours_caught)}/{n}", f"{len(st_caught)}/{n}"),
        (f"benign variants flagged (of {len(variants)})",
         f"{len(flagged(ours, variants))}" + _names(flagged(ours, variants)),
         f"{len(flagged(st, variants))}" + _names(flagged(st, variants))),
        ("median time to first failure, caught faults", median_ttff(ours, ours_caught),
         median_ttff(st, st_caught)),
    ]
    lines = [f"# Benchmark: aqid-contracts vs `st run` ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC)",
             "", f"Command: `scripts/bench.py {' '.join(argv)}`".rstrip(), "",
             f"Same 2-core machine, same reference server build and settings; seed {args.seed}; "
             f"ours: `pytest contracts --profile {PROFILE}` in one process (no xdist); st: "
             f"`st run spec/v2.yaml` then `spec/v1.yaml`, `--checks all --continue-on-failure "
             f"--max-examples {max_examples}` (the CI profile's fuzzing count; both tools add "
             f"examples, coverage and stateful phases). Caught = non-zero exit. Our catalogue "
             f"results: {ours_source}. Catalogue wall time {wall:.0f} s.", "",
             "| | aqid-contracts (CI profile) | schemathesis CLI |", "|---|---|---|"]
    lines += [f"| {a} | {b} | {c} |" for a, b, c in rows]
    only_ours = [f for f in ours_caught if f not in st_caught]
    only_st = [f for f in st_caught if f not in ours_caught]
    lines += ["", f"Caught by ours only ({len(only_ours)}): {', '.join(only_ours) or 'none'}.",
              "", f"Caught by st only ({len(only_st)}): {', '.join(only_st) or 'none'}.", "",
              "## Per target", "",
              "| target | kind | ours | st | ours: first failure | st: first failure "
              "| st checks failing |", "|---|---|---|---|---:|---:|---|"]
    for target in faults + variants:
        o, s = ours[target.name], st[target.name]
        lines.append(f"| {target.name} | {target.kind} | {o.outcome} | {s.outcome} "
                     f"| {_secs(o.first_failure_seconds)} | {_secs(s.first_failure_seconds)} "
                     f"| {'; '.join(st_runs[target.name].failures) or '-'} |")
    return "\n".join(lines) + "\n"


def _names(names: list[str]) -> str:
    return f" ({', '.join(names)})" if names else ""


def _secs(value: float | None) -> str:
    return f"{value:.1f} s" if value is not None else "-"


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
