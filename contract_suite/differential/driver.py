"""The differential run: `python -m contract_suite.differential` (or `make diff`).

One seed, three suite runs as subprocesses (`pytest contracts --record-exchanges …`): the
baseline twice (what differs between those two is noise, the Diffy way), the candidate
once; then the comparison, the reports and the exit code (0 no difference, 1 differences
or candidate contract failures, 4 the run never started: one line, no traceback).

Targets: `--baseline-url`/`--base-url` with their tokens (options or AQID_* variables), or,
with no URLs, the embedded reference server: a fresh one per run, the candidate with
`--fault`/`--variant` switched on (how the differential run itself is tested). The
baseline can be kept (`--record FILE`) and a later candidate compared with it
(`--against-recording FILE`): the recording's seed, profile and pytest arguments are
reused, and its two baseline runs give the noise.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..core.paths import ROOT
from ..core.probe import url_problem
from ..core.redact import mask
from . import recording
from .approvals import ApprovalsError, load_approvals
from .compare import compare, learn_noise, normalised
from .recording import RecordingError, Run
from .report import summary_lines, write_reports

NEVER_STARTED = 4
DEFAULT_TIMEOUT = 900.0  # seconds per suite run
_REFUSAL = re.compile(r"^(?:ERROR: )?(aqid-contracts: .*)$", re.MULTILINE)
_ROLES = (("token", "AQID_TOKEN"), ("other_team_token", "AQID_OTHER_TEAM_TOKEN"),
          ("read_only_token", "AQID_READ_ONLY_TOKEN"))


class NeverStarted(Exception):
    """The differential run could not start (one line)."""


class RunCutShort(Exception):
    """A suite run did not finish (timeout): no comparison (one line)."""


@dataclass(frozen=True)
class Side:
    """One build: a URL and its tokens, or the embedded server with faults/variants."""

    label: str
    base_url: str | None
    tokens: dict[str, str]  # role -> token (token, other_team_token, read_only_token)
    faults: tuple[str, ...] = ()
    variants: tuple[str, ...] = ()

    def describe(self) -> str:
        if self.base_url:
            return self.base_url
        switched = [*(f"fault {f}" for f in self.faults),
                    *(f"variant {v}" for v in self.variants)]
        return "embedded reference server" + (f" ({', '.join(switched)})" if switched else "")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m contract_suite.differential",
        description="Compare a candidate build with a baseline build on the same seeded suite.",
        epilog="Arguments after -- go to every pytest run (e.g. -- -k pagination, or paths "
               "under contracts/ to run only those).")
    env = os.environ.get
    p.add_argument("--baseline-url", default=env("AQID_BASELINE_URL") or None)
    p.add_argument("--baseline-token", default=env("AQID_BASELINE_TOKEN") or None)
    p.add_argument("--baseline-other-team-token",
                   default=env("AQID_BASELINE_OTHER_TEAM_TOKEN") or None)
    p.add_argument("--baseline-read-only-token",
                   default=env("AQID_BASELINE_READ_ONLY_TOKEN") or None)
    p.add_argument("--base-url", default=env("AQID_BASE_URL") or None, help="the candidate")
    p.add_argument("--token", default=env("AQID_TOKEN") or None)
    p.add_argument("--other-team-token", default=env("AQID_OTHER_TEAM_TOKEN") or None)
    p.add_argument("--read-only-token", default=env("AQID_READ_ONLY_TOKEN") or None)
    p.add_argument("--fault", action="append", default=[],
                   help="embedded candidate: switch on this fault (reference_server/faults.py)")
    p.add_argument("--variant", action="append", default=[],
                   help="embedded candidate: switch on this benign variant")
    p.add_argument("--baseline-fault", action="append", default=[],
                   help="embedded baseline: switch on this fault (e.g. to --record a "
                        "faulty build and check that a candidate is compared with it)")
    p.add_argument("--baseline-variant", action="append", default=[],
                   help="embedded baseline: switch on this benign variant")
    p.add_argument("--seed", type=int, default=None, help="default: a new one, printed")
    p.add_argument("--profile", default=None, help="suite profile (default ci)")
    p.add_argument("--workers", type=int, default=0,
                   help="xdist workers per run (default 0: one process, so the team's lists "
                        "are the same in every run; -n 2 works, with more noise learned)")
    p.add_argument("--approvals", type=Path, default=None, help="YAML file of approved "
                   "differences")
    p.add_argument("--record", type=Path, default=None,
                   help="save the baseline runs here (.jsonl or .jsonl.gz)")
    p.add_argument("--save-candidate", type=Path, default=None,
                   help="save the candidate run too (a recording of one run)")
    p.add_argument("--against-recording", type=Path, default=None,
                   help="compare with a saved baseline instead of running one")
    p.add_argument("--candidate-recording", type=Path, default=None,
                   help="with --against-recording: a saved candidate (--save-candidate) "
                        "instead of a run, e.g. to re-read it with a new approvals file")
    p.add_argument("--reports", type=Path, default=ROOT / "reports",
                   help="where differential.md/.html/-junit.xml go (default reports/)")
    p.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT,
                   help="seconds per suite run")
    return p


def sides(args: argparse.Namespace) -> tuple[Side, Side]:
    for url in (args.baseline_url, args.base_url):
        if url and (problem := url_problem(url)):
            raise NeverStarted(problem)
    if bool(args.baseline_url) != bool(args.base_url) and not args.against_recording:
        raise NeverStarted("aqid-contracts: differential: give both --baseline-url and "
                           "--base-url (or neither, for the embedded reference server)")
    if args.base_url and (args.fault or args.variant):
        raise NeverStarted("aqid-contracts: differential: --fault/--variant apply to the "
                           "embedded reference server, not to --base-url")
    if (args.baseline_url or args.against_recording) and (args.baseline_fault
                                                          or args.baseline_variant):
        raise NeverStarted("aqid-contracts: differential: --baseline-fault/--baseline-variant "
                           "apply to the embedded baseline, not to --baseline-url or a "
                           "recording")
    if args.base_url and not args.token:
        raise NeverStarted(f"aqid-contracts: differential: --base-url {args.base_url} needs "
                           "--token (or AQID_TOKEN)")
    if args.baseline_url and not args.baseline_token:
        raise NeverStarted(f"aqid-contracts: differential: --baseline-url {args.baseline_url} "
                           "needs --baseline-token (or AQID_BASELINE_TOKEN)")
    if args.fault or args.variant or args.baseline_fault or args.baseline_variant:
        from reference_server.faults import FAULTS, VARIANTS

        for flag, names, catalogue in (("--fault", args.fault, FAULTS),
                                       ("--variant", args.variant, VARIANTS),
                                       ("--baseline-fault", args.baseline_fault, FAULTS),
                                       ("--baseline-variant", args.baseline_variant, VARIANTS)):
            for name in names:
                if name not in catalogue:
                    raise NeverStarted(f"aqid-contracts: differential: {flag} {name!r} is not "
                                       "in the catalogue (python -m reference_server "
                                       "--list-faults)")

    def tokens(prefix: str) -> dict[str, str]:
        return {role: value for role, _ in _ROLES
                if (value := getattr(args, prefix + role, None))}

    baseline = Side("baseline", args.baseline_url, tokens("baseline_"),
                    tuple(args.baseline_fault), tuple(args.baseline_variant))
    candidate = Side("candidate", args.base_url, tokens(""), tuple(args.fault),
                     tuple(args.variant))
    return baseline, candidate


@dataclass(frozen=True)
class SuiteArgs:
    seed: int
    profile: str
    workers: int
    pytest_args: tuple[str, ...]
    timeout: float


def run_side(side: Side, name: str, suite: SuiteArgs, folder: Path,
             say: Callable[[str], None]) -> Run:
    """One recorded suite run against one side; NeverStarted when the suite refused it."""
    record_dir = folder / name
    started = time.monotonic()
    if side.base_url:
        run = _suite(side.base_url, side.tokens, suite, record_dir)
    else:
        from ..selftest.runs import TargetSpec, new_tokens, start_target

        tokens = new_tokens()
        spec = TargetSpec(name, "fault" if side.faults else "clean", faults=side.faults,
                          variants=side.variants)
        with tempfile.TemporaryDirectory(prefix=f"aqid-diff-{name}-") as tmp:
            server = start_target(spec, Path(tmp), tokens)
            try:
                roles = {"token": tokens["main"], "other_team_token": tokens["other"],
                         "read_only_token": tokens["read-only"]}
                run = _suite(server.base_url, roles, suite, record_dir)
            finally:
                server.stop()
    code, output = run
    seconds = time.monotonic() - started
    if code is None:
        raise RunCutShort(f"aqid-contracts: differential: the {name} run {output} (--timeout)")
    if code == NEVER_STARTED or not record_dir.is_dir():
        refusal = _REFUSAL.search(output)
        raise NeverStarted(refusal.group(1) if refusal else
                           f"aqid-contracts: differential: the {name} run did not start "
                           f"(exit {code}): {output.strip().splitlines()[-1:]}")
    say(f"{name}: {side.describe()}: exit {code} in {seconds:.1f} s")
    return recording.load_folder(name, record_dir)


def _suite(base_url: str, tokens: dict[str, str], suite: SuiteArgs,
           record_dir: Path) -> tuple[int | None, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AQID_")}
    env.update({variable: tokens[role] for role, variable in _ROLES if role in tokens})
    # The whole suite, unless the pytest arguments name parts of it (contracts/v2/…).
    paths = [] if any(a.startswith("contracts") for a in suite.pytest_args) else ["contracts"]
    command = [sys.executable, "-m", "pytest", *paths, "-q", "-p", "no:cacheprovider",
               "--base-url", base_url, "--seed", str(suite.seed), "--profile", suite.profile,
               "--record-exchanges", str(record_dir), "-o", "console_output_style=classic"]
    command += ["-n", str(suite.workers)] if suite.workers > 0 else ["-p", "no:xdist"]
    command += list(suite.pytest_args)
    try:
        done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=suite.timeout, check=False)
    except subprocess.TimeoutExpired:
        return None, f"timed out after {suite.timeout:.0f} s"
    output = done.stdout + done.stderr
    for token in tokens.values():
        output = output.replace(token, mask(token))
    return done.returncode, output


def main(argv: Sequence[str] | None = None, say: Callable[[str], None] = print) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    pytest_args: list[str] = []
    if "--" in argv:
        cut = argv.index("--")
        argv, pytest_args = argv[:cut], argv[cut + 1:]
    args = parser().parse_args(argv)
    try:
        return _main(args, tuple(pytest_args), say)
    except KeyboardInterrupt:
        print("ERROR: aqid-contracts: differential: interrupted", file=sys.stderr)
        return 2
    except RunCutShort as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return 1
    except (NeverStarted, ApprovalsError, RecordingError) as exc:
        print(f"ERROR: {exc}" if str(exc).startswith("aqid-contracts")
              else f"ERROR: aqid-contracts: differential: {exc}", file=sys.stderr)
        return NEVER_STARTED


def _main(args: argparse.Namespace, pytest_args: tuple[str, ...],
          say: Callable[[str], None]) -> int:
    approvals = load_approvals(args.approvals)  # a bad file stops us before any run
    if args.candidate_recording and not args.against_recording:
        raise NeverStarted("aqid-contracts: differential: --candidate-recording needs "
                           "--against-recording (the baseline it is compared with)")
    baseline, candidate = sides(args)
    header: dict[str, object] = {}
    saved: list[Run] = []
    if args.against_recording:
        header, saved = recording.load(args.against_recording)
        if args.seed is not None and args.seed != header.get("seed"):
            raise NeverStarted(f"aqid-contracts: differential: {args.against_recording} was "
                               f"recorded with seed {header.get('seed')}, not {args.seed}")
        pytest_args = tuple(header.get("pytest_args") or ()) + pytest_args
    seed = int(header.get("seed") or (args.seed if args.seed is not None
                                      else int.from_bytes(os.urandom(3), "big")))
    profile = str(header.get("profile") or args.profile or "ci")
    suite = SuiteArgs(seed, profile, args.workers, pytest_args, args.timeout)
    say(f"differential run: seed {seed} (repeat with --seed {seed}), profile {profile}")
    folder = Path(tempfile.mkdtemp(prefix="aqid-diff-"))
    try:
        if saved:
            baselines = saved
            source = f"recording {args.against_recording} ({len(saved)} baseline run(s))"
        else:
            baselines = [run_side(baseline, f"baseline-{n}", suite, folder, say)
                         for n in (1, 2)]
            source = f"{baseline.describe()} (2 runs)"
            if args.record:
                recording.save(args.record, baselines, seed=seed, profile=profile,
                               pytest_args=pytest_args)
                say(f"recorded the baseline runs in {args.record}")
        if args.candidate_recording:
            _, (cand, *_) = recording.load(args.candidate_recording)
            candidate = Side("candidate", f"recording {args.candidate_recording}", {})
        else:
            cand = run_side(candidate, "candidate", suite, folder, say)
        if args.save_candidate:
            recording.save(args.save_candidate, [cand], seed=seed, profile=profile,
                           pytest_args=pytest_args)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    # A test's pings are compared where every run marked it `pings` (a recording made
    # by older contracts may not have): elsewhere they race the test, on both sides.
    runs = (*baselines, cand)
    ping_tests = frozenset.intersection(*(frozenset(r.ping_tests) for r in runs))
    signatures = all(r.signature_checked for r in runs)
    maps = [normalised(run, ping_tests, signatures) for run in baselines]
    noise = learn_noise(maps)
    seen = set().union(*maps)
    comparison = compare(maps[0], normalised(cand, ping_tests, signatures), noise, approvals,
                         candidate_failures=cand.failed_tests, baseline_seen=seen)
    title = (f"baseline: {source} | candidate: {candidate.describe()} | seed {seed}, "
             f"profile {profile}" + (f", pytest {' '.join(pytest_args)}" if pytest_args else ""))
    for line in summary_lines(comparison, title):
        say(line)
    for path in write_reports(comparison, title, args.reports):
        say(f"report: {path}")
    return 1 if comparison.findings or comparison.candidate_failures else 0

