#!/usr/bin/env python3
"""Fault self-test: does the contract suite catch every fault, and pass every benign variant?

    make selftest                                  # clean + every fault + every variant
    .venv/bin/python scripts/selftest.py --quick   # a representative slice
    .venv/bin/python scripts/selftest.py --faults signature-hex,no-retries --profile smoke
    .venv/bin/python scripts/selftest.py --faults "" --no-clean --variants rate-limited-200 \
        --integrity                    # the rate-limited run and the integrity runs only

For each target (clean server, each fault in reference_server/faults.py, each benign
variant) it starts a reference server, runs `pytest contracts` against it (CI profile,
fixed seed, hard timeout) and reads the JUnit file. The rate-limited target
(rate-limited-200) runs with its own profile and timeout. With the whole catalogue (or
--integrity) come the integrity runs: a pre-populated server snapshotted through the API
before and after a full run and after runs interrupted by SIGINT; a changed, missing or
left-over webhook, or a wrong exit code, is a finding (contract_suite/selftest/integrity.py).
Prints the table and the score, writes results/selftest.json and results/selftest.md
(JUnit files in results/selftest-junit/). Exit 0 when every fault is caught, the clean run
passes, no variant is flagged and no integrity run has a finding; 1 otherwise; 2 on a
usage error.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from contract_suite.core.profiles import PROFILES  # noqa: E402
from contract_suite.selftest.catalogue import SelectionError, select  # noqa: E402
from contract_suite.selftest.runs import ROOT, RunSettings, SuiteRun, run_many  # noqa: E402
from contract_suite.selftest.verdicts import (  # noqa: E402
    evidence,
    exit_status,
    markdown_table,
    median_first_failure,
    results_json,
    score,
    verdict,
)

DEFAULT_SEED = 20240601
# Measured on the 2-core box (see results/selftest.md "how"): two suite processes side by
# side, each without xdist, beat one process at a time with -n 2.
DEFAULT_JOBS = 2
DEFAULT_WORKERS = 0


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--faults", help="comma-separated fault names (default: all)")
    parser.add_argument("--variants", help="comma-separated benign variant names (default: all)")
    parser.add_argument("--quick", action="store_true", help="a representative slice only")
    parser.add_argument("--no-clean", action="store_true", help="skip the clean-server run")
    parser.add_argument("--profile", default="ci", choices=tuple(PROFILES))
    parser.add_argument("--integrity", action=argparse.BooleanOptionalAction, default=None,
                        help="the integrity runs (default: with the whole catalogue only)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--full-fault-runs", action="store_true",
                        help="run each fault's suite to its end (default: stop at its first "
                             "failure, which is the catch; every failing test is then listed)")
    parser.add_argument("--jobs", type=int, default=DEFAULT_JOBS,
                        help=f"suite runs side by side (default {DEFAULT_JOBS})")
    parser.add_argument("--workers", type=int, default=DEFAULT_WORKERS,
                        help="xdist workers per suite run (0: none, the default)")
    parser.add_argument("--run-timeout", type=float, default=300.0,
                        help="hard bound on one suite run, seconds (default 300; the "
                             "slowest target, latency-50ms, takes ~160 s on 2 busy cores)")
    parser.add_argument("--budget", type=float, default=3600.0,
                        help="runs not started within this many seconds are not run and "
                             "count as errors (default 3600: CI's 90 minutes hold "
                             "make test + make selftest)")
    parser.add_argument("--results", type=Path, default=ROOT / "results",
                        help="folder for selftest.json / selftest.md (default results/)")
    args = parser.parse_args(argv)
    if args.jobs < 1 or args.workers < 0 or args.run_timeout <= 0 or args.budget <= 0:
        parser.error("--jobs must be >= 1, --workers >= 0, --run-timeout and --budget > 0")
    return args


def progress_line(run: SuiteRun, done: int, total: int) -> str:
    shown = evidence(run)
    by = f" by {', '.join(shown[:3])}{' …' if len(shown) > 3 else ''}" if shown else ""
    return f"[{done}/{total}] {run.target.kind:7} {run.target.name}: {verdict(run)} " \
           f"({run.seconds:.1f} s){by}"


INFO_SHOWN = 3  # informational findings listed per integrity run (the JSON has all)
FAILING_SHOWN = 12  # failing findings listed per integrity run


def integrity_markdown(runs: list[SuiteRun]) -> str:
    """Per integrity run: what it compared, its failing findings, its informational ones."""
    lines: list[str] = []
    for run in runs:
        if run.target.kind != "integrity":
            continue
        how = (f"SIGINT as test {run.target.interrupt_at_test} started"
               + (f" ({run.interrupted_at:.0f} s after start)" if run.interrupted_at else "")
               if run.target.interrupt_at_test else "full run")
        how += f", -n {run.target.xdist_workers}" if run.target.xdist_workers else ""
        result = run.integrity
        if result is None:
            lines.append(f"- **{run.target.name}** ({how}): {verdict(run)}: "
                         f"{run.problem or 'no result'}")
            continue
        lines.append(f"- **{run.target.name}** ({how}, variant {', '.join(run.target.variants)},"
                     f" exit code {run.exit_code}, {run.seconds:.1f} s): {verdict(run)}; "
                     f"{result.webhooks_before} webhooks before, {result.webhooks_after} after; "
                     f"{len(result.failing)} failing, {len(result.informational)} "
                     "informational finding(s)")
        lines += [f"  - {finding.line()}" for finding in result.failing[:FAILING_SHOWN]]
        if len(result.failing) > FAILING_SHOWN:
            lines.append(f"  - … {len(result.failing) - FAILING_SHOWN} more failing in "
                         "selftest.json")
        info = result.informational
        lines += [f"  - (info) {finding.line()}" for finding in info[:INFO_SHOWN]]
        if len(info) > INFO_SHOWN:
            lines.append(f"  - (info) … {len(info) - INFO_SHOWN} more in selftest.json")
    return "\n".join(lines)


def special_markdown(runs: list[SuiteRun]) -> str:
    """Runs with their own settings (the rate-limited target): profile, timeout, wall time."""
    return "\n".join(
        f"- **{run.target.name}**: {verdict(run)}; profile `{run.profile}`, limit "
        f"{run.target.rate_limit} requests per {run.target.rate_window or 60:.0f} s, timeout "
        f"{run.target.timeout:.0f} s; wall time {run.seconds:.0f} s"
        + (f"; {run.requests} requests" if run.requests is not None else "")
        for run in runs if run.target.rate_limit is not None)


def details_markdown(runs: list[SuiteRun]) -> str:
    """Per run that failed or erred: every failing test and the first line of why."""
    lines: list[str] = []
    for run in runs:
        if run.outcome == "pass" or run.target.kind == "integrity":
            continue
        lines.append(f"- **{run.target.name}** ({run.target.kind}, {verdict(run)}, "
                     f"seed {run.seed}):")
        for test in run.failed:
            lines.append(f"  - `{test.name}`: {test.why}")
        for note in (run.refused, run.problem):
            if note and not run.failed:
                lines.append(f"  - {note}")
    return "\n".join(lines) or "(none: every run passed)"


def git_commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, text=True,
                              capture_output=True, timeout=10, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    try:
        targets = select(args.faults, args.variants, quick=args.quick,
                         with_clean=not args.no_clean, integrity=args.integrity)
    except SelectionError as exc:
        print(f"selftest: {exc}", file=sys.stderr)
        return 2
    junit_dir = args.results / "selftest-junit"
    junit_dir.mkdir(parents=True, exist_ok=True)
    settings = RunSettings(profile=args.profile, seed=args.seed, xdist_workers=args.workers,
                           timeout=args.run_timeout, junit_dir=junit_dir,
                           faults_stop_at_first_failure=not args.full_fault_runs)
    print(f"selftest: {len(targets)} runs (profile {args.profile}, seed {args.seed}, "
          f"{args.jobs} side by side, xdist workers {args.workers or 'none'}, "
          f"timeout {args.run_timeout:.0f} s each, budget {args.budget:.0f} s)", flush=True)
    for target in targets:
        if target.profile or target.timeout:
            print(f"selftest: {target.name} runs with profile {target.profile or args.profile}"
                  f", timeout {target.timeout or args.run_timeout:.0f} s"
                  + (f", limit {target.rate_limit} requests per {target.rate_window or 60:.0f} s"
                     if target.rate_limit else ""), flush=True)
    checks = [target for target in targets if target.kind == "integrity"]
    if checks:
        print(f"selftest: {len(checks)} integrity runs on {', '.join(checks[0].variants)}: "
              "snapshots of both teams' webhooks before and after", flush=True)
    done: list[SuiteRun] = []

    def report(run: SuiteRun) -> None:
        done.append(run)
        print(progress_line(run, len(done), len(targets)), flush=True)

    commit = git_commit()  # at the start: others may commit while the runs go on
    started = time.monotonic()
    runs = run_many(targets, settings, args.jobs, on_done=report, budget=args.budget)
    wall = time.monotonic() - started
    result = score(runs)
    median = median_first_failure(runs)
    table = markdown_table(runs)
    how = (f"profile `{args.profile}`, seed {args.seed}, {args.jobs} run(s) side by side, "
           + ("fault runs in full, " if args.full_fault_runs
              else "fault runs stop at their first failure (-x), ")
           + f"xdist workers per run: {args.workers or 'none'}; commit {commit}; "
           f"wall time {wall:.0f} s")
    markdown = "\n\n".join([
        "# Fault self-test", f"Command: `scripts/selftest.py {' '.join(argv)}`".rstrip(),
        f"How: {how}.", table, result.line(),
        "Median time to first failure (caught faults): "
        + (f"{median:.1f} s" if median is not None else "n/a"),
        *(["## Rate-limited target", special] if (special := special_markdown(runs)) else []),
        *(["## Integrity: nothing touched, nothing left behind", checks]
          if (checks := integrity_markdown(runs)) else []),
        "## Failing tests per run", details_markdown(runs)]) + "\n"
    meta = {"generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "command": ["scripts/selftest.py", *argv], "profile": args.profile,
            "seed": args.seed, "jobs": args.jobs, "xdist_workers": args.workers,
            "commit": commit, "wall_seconds": round(wall, 1)}
    args.results.mkdir(parents=True, exist_ok=True)
    (args.results / "selftest.json").write_text(results_json(runs, meta))
    (args.results / "selftest.md").write_text(markdown)
    print()
    print(table)
    print()
    print(result.line())
    print(f"wall time {wall:.0f} s; written {args.results / 'selftest.md'} and selftest.json")
    checks = integrity_markdown(runs)
    if checks:
        print(f"\n{checks}")
    for run in runs:
        if run.target.kind == "integrity" and verdict(run) == "ok":
            continue  # an interrupted run's output is expected to be an interrupted run's
        if (run.outcome == "error" or verdict(run) == "BAD EXIT") and run.output_tail:
            print(f"\n--- {run.target.name}: last lines of the suite's output ---\n"
                  f"{run.output_tail}")
    return exit_status(runs)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
