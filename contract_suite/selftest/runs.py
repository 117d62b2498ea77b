"""One bounded contract-suite run against one freshly started reference server.

`run_suite_against(target, settings)` starts the reference server through the launcher
(its own temporary DB, two teams and a read-only token, delivery delays tiny so retry
contracts take well under a second, no rate limit in reach), runs `pytest contracts`
against it as a subprocess with a hard timeout, and reads the JUnit file back. The same
function serves the self-test, the flake check and the benchmark, so their figures are
measured the same way.

A target may carry its own run settings (profile, timeout, rate limit: the rate-limited
variant), an interrupt (SIGINT to the suite's process group after N seconds, as a Ctrl-C
in a terminal sends it) and an observer called before and after the suite with the
server's address and tokens (the integrity check's snapshots, contract_suite/selftest/
integrity.py).
"""

from __future__ import annotations

import os
import re
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

from contract_suite.core.paths import ROOT
from contract_suite.core.redact import mask
from reference_server.launcher import RunningServer, ServerStartError, start_reference_server

from .first_failure import ENV_VAR as FIRST_FAILURE_ENV
from .first_failure import STARTED_ENV_VAR, read_first_failure, tests_started
from .junit import FailedTest, JunitError, read_junit

# The embedded target's delivery settings (contract_suite/core/embedded.py), so a fault run
# measures the suite a developer runs with `make contract`.
RETRY_DELAYS = (0.05, 0.05, 0.05, 0.05)
DELIVERY_TIMEOUT = 1.0
RATE_LIMIT = 1_000_000
_REQUESTS_LINE = re.compile(r"^requests sent: (\d+)", re.MULTILINE)
_USAGE_LINE = re.compile(r"^(?:ERROR: )?(aqid-contracts: .*)$", re.MULTILINE)


class Observer(Protocol):
    """Called around one suite run with the server's base URL and the run's tokens."""

    def before(self, base_url: str, tokens: dict[str, str]) -> None: ...

    def after(self, base_url: str, tokens: dict[str, str], run: SuiteRun) -> None: ...


@dataclass(frozen=True)
class TargetSpec:
    """What to switch on in the reference server for one run (and how to run it)."""

    name: str  # "clean", or the fault / variant name (integrity runs: a label)
    kind: str  # "clean" | "fault" | "variant" | "integrity"
    faults: tuple[str, ...] = ()
    variants: tuple[str, ...] = ()
    # Overrides of the batch's RunSettings for this target only (None: the batch's).
    profile: str | None = None
    timeout: float | None = None
    xdist_workers: int | None = None
    rate_limit: int | None = None  # requests per window (None: RATE_LIMIT, out of reach)
    rate_window: float | None = None
    interrupt_at_test: int | None = None  # SIGINT just after the N-th test started
    observer: Callable[[], Observer] | None = None  # a fresh observer per run

    def settings_for(self, settings: RunSettings) -> RunSettings:
        """The batch's settings with this target's overrides applied."""
        changes: dict[str, Any] = {key: value for key, value in (
            ("profile", self.profile), ("timeout", self.timeout),
            ("xdist_workers", self.xdist_workers)) if value is not None}
        return replace(settings, **changes) if changes else settings


@dataclass(frozen=True)
class RunSettings:
    profile: str = "ci"
    seed: int = 1
    xdist_workers: int = 0  # 0: no xdist (one process)
    timeout: float = 600.0  # hard bound on the suite subprocess, seconds
    junit_dir: Path | None = None  # keep each run's JUnit file here (else a temp dir)
    interrupt_grace: float = 90.0  # after a SIGINT, how long the suite may take to stop
    # Fault runs end at their first failing test (-x): one failure is the catch, and the
    # rest of the run would only say it again. Clean, variant and integrity runs always
    # run in full (their point is that nothing fails, or what the whole run touched).
    faults_stop_at_first_failure: bool = True


@dataclass
class SuiteRun:
    target: TargetSpec
    seed: int
    exit_code: int | None  # None: no result (timed out, or the server did not start)
    seconds: float
    failed: list[FailedTest] = field(default_factory=list)
    passed: int = 0
    skipped: int = 0
    requests: int | None = None  # the suite's own "requests sent" total
    first_failure_seconds: float | None = None  # from suite start to its first failure
    problem: str | None = None  # one line: why there is no (complete) result
    refused: str | None = None  # the suite's one-line refusal of the target (exit 4)
    output_tail: str = ""
    profile: str | None = None  # the profile it ran with
    interrupted_at: float | None = None  # seconds after the process start SIGINT was sent
    integrity: Any = None  # integrity.IntegrityResult when the target had an observer

    @property
    def outcome(self) -> str:
        """pass | fail | error: what the run says about its target."""
        if self.exit_code == 0 and not self.failed:
            return "pass"
        if (self.exit_code in (1, 2) and self.failed) or (self.exit_code == 4 and self.refused):
            return "fail"  # failing tests, or the probe's refusal of the target
        return "error"


def new_tokens() -> dict[str, str]:
    """Three tokens, as the embedded target has: main team, other team, main team read-only."""
    return {"main": "selftest-main-" + secrets.token_hex(12),
            "other": "selftest-other-" + secrets.token_hex(12),
            "read-only": "selftest-read-" + secrets.token_hex(12)}


def token_grants(tokens: dict[str, str]) -> list[tuple[str, str, bool]]:
    """The launcher's (team, token, read_only) triples for `new_tokens()`."""
    return [("team-main", tokens["main"], False), ("team-other", tokens["other"], False),
            ("team-main", tokens["read-only"], True)]


def start_target(target: TargetSpec, folder: Path, tokens: dict[str, str]) -> RunningServer:
    """The reference server for `target`, with the embedded target's delivery settings."""
    return start_reference_server(
        db_path=folder / "reference.sqlite3", tokens=token_grants(tokens), faults=target.faults,
        variants=target.variants, retry_delays=RETRY_DELAYS, timeout=DELIVERY_TIMEOUT,
        rate_limit=target.rate_limit or RATE_LIMIT, rate_window=target.rate_window,
        sandbox=True)


# Tokens travel in the suite's environment variables, not on its command line (which
# any local user can read in `ps`).
TOKEN_ENV = {"main": "AQID_TOKEN", "other": "AQID_OTHER_TEAM_TOKEN",
             "read-only": "AQID_READ_ONLY_TOKEN"}


def suite_env(tokens: dict[str, str], first_failure_file: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AQID_")}
    env.update({TOKEN_ENV[role]: token for role, token in tokens.items()})
    env[FIRST_FAILURE_ENV] = str(first_failure_file)
    return env


def default_sigint() -> None:
    """In a suite run's child, before exec: SIGINT as a terminal's foreground job has it.

    A shell starts background jobs (`make selftest &`, nohup, some CI runners) with SIGINT
    ignored, an ignored signal stays ignored across exec, and the interrupted runs would
    then run to their end instead of showing what a Ctrl-C does."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def suite_command(base_url: str, settings: RunSettings, junit_path: Path) -> list[str]:
    command = [sys.executable, "-m", "pytest", "contracts", "-q", "-p", "no:cacheprovider",
               "-p", "contract_suite.selftest.first_failure", "--base-url", base_url,
               "--profile", settings.profile, "--seed", str(settings.seed),
               f"--junitxml={junit_path}"]
    if settings.xdist_workers > 0:
        return command + ["-n", str(settings.xdist_workers)]
    return command + ["-p", "no:xdist"]


def run_suite_against(target: TargetSpec, settings: RunSettings) -> SuiteRun:
    settings = target.settings_for(settings)
    with tempfile.TemporaryDirectory(prefix=f"aqid-selftest-{target.name[:40]}-") as tmp:
        folder = Path(tmp)
        junit_path = (settings.junit_dir / f"{target.name}.xml" if settings.junit_dir
                      else folder / "junit.xml")
        junit_path.unlink(missing_ok=True)
        tokens = new_tokens()
        started = time.monotonic()
        try:
            server = start_target(target, folder, tokens)
        except ServerStartError as exc:
            return SuiteRun(target, settings.seed, None, time.monotonic() - started,
                            problem=f"server did not start: {exc}")
        try:
            observer = target.observer() if target.observer else None
            if observer is not None:
                observer.before(server.base_url, tokens)
            run = _run(target, settings, server.base_url, tokens, junit_path, folder)
            if observer is not None:
                observer.after(server.base_url, tokens, run)
            return run
        finally:
            server.stop()


def _run(target: TargetSpec, settings: RunSettings, base_url: str, tokens: dict[str, str],
         junit_path: Path, folder: Path) -> SuiteRun:
    marker = folder / "first-failure"
    env = suite_env(tokens, marker)
    started_file = folder / "tests-started"
    env[STARTED_ENV_VAR] = str(started_file)
    command = suite_command(base_url, settings, junit_path)
    if target.kind == "fault" and settings.faults_stop_at_first_failure:
        command.append("-x")
    wall_start, started = time.time(), time.monotonic()
    # Own session: a timeout kills the whole group (pytest and its xdist workers).
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, start_new_session=True,
                               preexec_fn=default_sigint)
    interrupted_at: float | None = None
    try:
        output, interrupted_at = _wait(process, target.interrupt_at_test, settings,
                                       started_file)
    except subprocess.TimeoutExpired as exc:
        os.killpg(process.pid, signal.SIGKILL)
        output, _ = process.communicate()
        sent = getattr(exc, "sigint_sent_at", None)
        bound = (f"did not stop within {settings.interrupt_grace:.0f} s of the SIGINT"
                 if sent is not None else f"timed out after {settings.timeout:.0f} s"
                 + (f" before its test {target.interrupt_at_test} started"
                    if target.interrupt_at_test is not None
                    and tests_started(started_file) < target.interrupt_at_test else ""))
        return SuiteRun(target, settings.seed, None, time.monotonic() - started,
                        problem=bound, output_tail=_tail(_masked(output, tokens)),
                        profile=settings.profile, interrupted_at=sent)
    seconds = time.monotonic() - started
    output = _masked(output, tokens)  # the suite masks its output; this is belt and braces
    run = SuiteRun(target, settings.seed, process.returncode, seconds, output_tail=_tail(output),
                   profile=settings.profile, interrupted_at=interrupted_at)
    found = _REQUESTS_LINE.search(output)
    run.requests = int(found.group(1)) if found else None
    failure_at = read_first_failure(marker)
    run.first_failure_seconds = failure_at - wall_start if failure_at else None
    try:
        summary = read_junit(junit_path)
        run.failed, run.passed, run.skipped = summary.failed, summary.passed, summary.skipped
    except JunitError as exc:
        run.problem = str(exc)
    refusal = _USAGE_LINE.search(output)
    if refusal:
        run.refused = refusal.group(1)
    if run.first_failure_seconds is None and run.exit_code not in (0, None):
        run.first_failure_seconds = seconds  # refused before any test: known at exit
    return run


POLL = 0.1  # seconds between looks at the tests-started file
# From the N-th test's start to the SIGINT: inside that test's call, past its set-up.
INTERRUPT_SETTLE = 0.3


def _wait(process: subprocess.Popen[str], interrupt_at_test: int | None,
          settings: RunSettings, started_file: Path) -> tuple[str, float | None]:
    """The suite's output once it ends, and when it was interrupted (None: it was not).

    Without an interrupt: bounded by settings.timeout. With one: SIGINT to the whole
    process group (pytest and its xdist workers, as a terminal's Ctrl-C) INTERRUPT_SETTLE
    seconds after the `interrupt_at_test`-th test started (the started file's lines), then
    at most settings.interrupt_grace more. Counted in tests, not seconds: a point in
    seconds landed after the end of the run on a fast machine, or in its cleanup. Raises
    TimeoutExpired when a bound is passed (the caller kills the group).
    """
    if interrupt_at_test is None:
        return process.communicate(timeout=settings.timeout)[0], None
    begin = time.monotonic()
    deadline = begin + settings.timeout
    due: float | None = None
    while True:
        now = time.monotonic()
        if due is None and tests_started(started_file) >= interrupt_at_test:
            due = now + INTERRUPT_SETTLE
        if now >= deadline:
            raise subprocess.TimeoutExpired(process.args, settings.timeout)
        if due is not None and now >= due:
            break
        try:  # collects output as it goes; returns once the suite ended by itself
            return process.communicate(timeout=POLL)[0], None
        except subprocess.TimeoutExpired:
            continue
    os.killpg(process.pid, signal.SIGINT)
    sent = time.monotonic() - begin
    try:
        return process.communicate(timeout=settings.interrupt_grace)[0], sent
    except subprocess.TimeoutExpired as exc:
        exc.sigint_sent_at = sent  # type: ignore[attr-defined]  # read by the caller
        raise


def _masked(output: str, tokens: dict[str, str]) -> str:
    for token in tokens.values():
        output = output.replace(token, mask(token))
    return output


def _tail(output: str, lines: int = 15) -> str:
    return "\n".join(output.strip().splitlines()[-lines:])


def run_many(targets: list[TargetSpec], settings: RunSettings, jobs: int,
             on_done: Callable[[SuiteRun], None] | None = None,
             seeds: list[int] | None = None, budget: float | None = None) -> list[SuiteRun]:
    """Run the suite against each target, `jobs` at a time; results in the targets' order.

    `seeds`, when given, pairs one seed with each target (the flake check's repeats).
    `budget` (seconds): a run not started by then is not started at all and comes back
    as a run without a result, so a whole batch ends within budget + one run's timeout.
    """
    plans = [(target, replace(settings, seed=seeds[i]) if seeds else settings)
             for i, target in enumerate(targets)]
    # Longest first, so the slow ones (a rate-limited target) do not start last.
    order = sorted(range(len(plans)),
                   key=lambda i: -(plans[i][0].timeout or 0.0))
    deadline = time.monotonic() + budget if budget is not None else None

    def one(target: TargetSpec, plan: RunSettings) -> SuiteRun:
        if deadline is not None and time.monotonic() > deadline:
            return SuiteRun(target, plan.seed, None, 0.0,
                            problem=f"not run: the batch's time budget ({budget:.0f} s) was spent")
        return run_suite_against(target, plan)

    results: list[SuiteRun | None] = [None] * len(plans)
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = {pool.submit(one, *plans[index]): index for index in order}
        for future in as_completed(futures):
            run = future.result()
            results[futures[future]] = run
            if on_done:
                on_done(run)
    return [run for run in results if run is not None]
