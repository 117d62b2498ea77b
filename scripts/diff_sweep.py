#!/usr/bin/env python3
"""Differential runs over the fault catalogue: does every fault show up as a difference?

    .venv/bin/python scripts/diff_sweep.py                      # every fault and variant
    .venv/bin/python scripts/diff_sweep.py --faults list-order-descending --variants ""
    .venv/bin/python scripts/diff_sweep.py --seeds 1,2,3 --faults "" --variants ""  # noise

1. For each seed: a differential run of the clean embedded server against itself, which
   also records its two baseline runs (`--record`): it must find no difference.
2. The clean server compared against the first seed's recording: no difference either.
3. For each fault and benign variant: the candidate with it switched on, compared against
   the first seed's recording (one suite run each). A fault must show at least one
   difference (exit 1); a variant must show none, or only differences the report counts
   "to review" (inside the spec), never "also a contract failure".
Runs go `--jobs` side by side (default 2), each bounded by `--timeout`. Writes
results/diff-sweep.md and prints one line per run. Exit 0 when every expectation held.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from reference_server.faults import FAULTS, VARIANTS  # noqa: E402

_SUMMARY = re.compile(r"^differences: (\d+) \((\d+) also a contract failure, (\d+) to review\)",
                      re.MULTILINE)


@dataclass
class Result:
    kind: str  # "clean" | "fault" | "variant"
    name: str
    exit_code: int | None
    seconds: float
    differences: int | None = None
    contract: int | None = None  # differences that are also contract failures
    review: int | None = None
    tail: str = ""

    @property
    def verdict(self) -> str:
        if self.exit_code not in (0, 1):
            return "ERROR"
        if self.kind == "fault":  # a named difference, not merely a failing contract
            return "shown" if self.exit_code == 1 and self.differences else "MISSED"
        if self.kind == "clean":
            return "ok" if self.exit_code == 0 else "FALSE DIFFERENCE"
        return "ok" if not self.contract and (self.exit_code == 0 or self.review) else "FLAGGED"


def _names(value: str | None, catalogue: dict[str, object]) -> list[str]:
    if value is None:
        return list(catalogue)
    names = [name for name in value.split(",") if name]
    unknown = [name for name in names if name not in catalogue]
    if unknown:
        raise SystemExit(f"diff_sweep: unknown name(s): {', '.join(unknown)}")
    return names


def _run(kind: str, name: str, args: list[str], timeout: float) -> Result:
    command = [sys.executable, "-m", "contract_suite.differential", *args]
    started = time.monotonic()
    try:
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True,
                              timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return Result(kind, name, None, time.monotonic() - started, tail="timed out")
    output = done.stdout + done.stderr
    result = Result(kind, name, done.returncode, time.monotonic() - started,
                    tail=" | ".join(output.strip().splitlines()[-2:])[:300])
    if match := _SUMMARY.search(output):
        result.differences, result.contract, result.review = map(int, match.groups())
    elif done.returncode == 0:
        result.differences = result.contract = result.review = 0
    return result


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--faults", help="comma-separated fault names (default: all)")
    parser.add_argument("--variants", help="comma-separated variant names (default: all)")
    parser.add_argument("--seeds", default="1", help="comma-separated seeds (default 1)")
    parser.add_argument("--profile", default="smoke")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per run")
    parser.add_argument("--results", type=Path, default=ROOT / "results")
    args = parser.parse_args(argv)
    seeds = [int(seed) for seed in args.seeds.split(",") if seed]
    if not seeds:
        parser.error("--seeds needs at least one seed")
    faults, variants = _names(args.faults, FAULTS), _names(args.variants, VARIANTS)
    folder = Path(tempfile.mkdtemp(prefix="aqid-diff-sweep-"))
    print(f"each run's reports (differential.md): {folder}", flush=True)
    recording = folder / f"clean-seed-{seeds[0]}.jsonl.gz"
    started = time.monotonic()
    results: list[Result] = []

    def say(result: Result) -> None:
        results.append(result)
        found = ("" if result.differences is None else
                 f"{result.differences} difference(s), {result.contract} also a contract "
                 f"failure, {result.review} to review")
        print(f"[{len(results)}] {result.kind:7} {result.name}: {result.verdict} "
              f"({result.seconds:.0f} s) {found}".rstrip(), flush=True)

    def clean(seed: int) -> Result:
        extra = ["--record", str(recording)] if seed == seeds[0] else []
        return _run("clean", f"seed {seed}", ["--seed", str(seed), "--profile", args.profile,
                                              "--reports", str(folder / f"clean-{seed}"),
                                              *extra], args.timeout * 3)

    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        for result in pool.map(clean, seeds):
            say(result)
        if recording.exists():
            # The clean server against its own recording first: it must be quiet too.
            jobs = [("clean", "against the recording", [])]
            jobs += [("fault", name, ["--fault", name]) for name in faults]
            jobs += [("variant", name, ["--variant", name]) for name in variants]
            for result in pool.map(lambda job: _run(
                    job[0], job[1], [*job[2], "--against-recording", str(recording),
                                     "--reports", str(folder / job[1])], args.timeout), jobs):
                say(result)
    wall = time.monotonic() - started
    shown = sum(1 for r in results if r.kind == "fault" and r.verdict == "shown")
    bad = [r for r in results if r.verdict not in ("ok", "shown")]
    quiet = sum(1 for r in results if r.kind == "clean" and r.name.startswith("seed")
                and r.verdict == "ok")
    replayed = next((r.verdict for r in results if r.name == "against the recording"),
                    "not run")
    line = (f"faults shown as differences: {shown}/{len(faults)}; clean seeds without a "
            f"difference: {quiet}/{len(seeds)}; clean against its recording: {replayed}; "
            f"variants ok: "
            f"{sum(1 for r in results if r.kind == 'variant' and r.verdict == 'ok')}"
            f"/{len(variants)}; wall {wall:.0f} s")
    print(line)
    rows = "\n".join(f"| {r.kind} | {r.name} | {r.verdict} | {r.differences} | {r.contract} | "
                     f"{r.review} | {r.seconds:.0f} |" for r in results)
    args.results.mkdir(parents=True, exist_ok=True)
    (args.results / "diff-sweep.md").write_text(
        f"# Differential sweep\n\nCommand: `scripts/diff_sweep.py {' '.join(argv)}`; profile "
        f"`{args.profile}`, seeds {args.seeds}.\n\n{line}\n\n| kind | name | verdict | "
        "differences | also contract failures | to review | seconds |\n|---|---|---|---:|---:|"
        f"---:|---:|\n{rows}\n" + "".join(f"\n- {r.name}: {r.tail}" for r in bad))
    return 0 if not bad and recording.exists() else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
