"""Schemathesis' own CLI (`st run`) against a reference server: the benchmark's baseline.

One `st run` per API version (spec/v2.yaml at BASE/api/v2, spec/v1.yaml at BASE/api),
all checks, --continue-on-failure, a fixed seed and the CI profile's example count, each
bounded by a timeout. Requests are counted from st's HAR report (one entry per request it
recorded); the time to its first failure comes from its NDJSON event stream (the first
scenario finished with status "failure").
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from reference_server.launcher import ServerStartError

from .runs import ROOT, TargetSpec, new_tokens, start_target

ST = Path(sys.executable).with_name("st")
API_PATHS = {"v2": "/api/v2", "v1": "/api"}  # v2 first: the version the brief leads with


@dataclass
class StRun:
    """st against one target: both versions, one after the other."""

    target: TargetSpec
    exit_codes: dict[str, int | None] = field(default_factory=dict)  # None: timed out
    seconds: float = 0.0
    requests: int | None = 0  # None when a HAR report is missing (a run timed out)
    first_failure_seconds: float | None = None  # from the first st start
    failures: list[str] = field(default_factory=list)  # "v2 ST108 Response violates schema"
    problem: str | None = None

    @property
    def outcome(self) -> str:
        """pass | fail | error, as for a suite run: non-zero exit of either version = fail."""
        if self.problem or any(code is None for code in self.exit_codes.values()):
            return "error"
        return "fail" if any(self.exit_codes.values()) else "pass"


def st_command(version: str, base_url: str, token: str, max_examples: int, seed: int,
               report_dir: Path) -> list[str]:
    return [str(ST), "run", str(ROOT / "spec" / f"{version}.yaml"),
            "--url", base_url + API_PATHS[version],
            "-H", f"Authorization: Bearer {token}",
            "--checks", "all", "--continue-on-failure",
            "--max-examples", str(max_examples), "--seed", str(seed),
            "--report", "ndjson,har,json", "--report-dir", str(report_dir)]


def run_st_against(target: TargetSpec, max_examples: int, seed: int,
                   timeout: float) -> StRun:
    result = StRun(target)
    with tempfile.TemporaryDirectory(prefix=f"aqid-st-{target.name[:40]}-") as tmp:
        folder = Path(tmp)
        tokens = new_tokens()
        try:
            server = start_target(target, folder, tokens)
        except ServerStartError as exc:
            result.problem = f"server did not start: {exc}"
            return result
        try:
            wall_start, started = time.time(), time.monotonic()
            for version in API_PATHS:
                report_dir = folder / f"report-{version}"
                command = st_command(version, server.base_url, tokens["main"],
                                     max_examples, seed, report_dir)
                result.exit_codes[version] = _bounded(command, timeout, folder)
                _read_reports(result, version, report_dir, wall_start)
            result.seconds = time.monotonic() - started
        finally:
            server.stop()
    return result


def _bounded(command: list[str], timeout: float, cwd: Path) -> int | None:
    process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        return process.wait(timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        return None


def _read_reports(result: StRun, version: str, report_dir: Path, wall_start: float) -> None:
    har = next(iter(report_dir.glob("har-*.json")), None)
    if har is None or result.requests is None:
        result.requests = None
    else:
        result.requests += len(json.loads(har.read_text())["log"]["entries"])
    report = next(iter(report_dir.glob("json-*.json")), None)
    if report is not None:
        for failure in json.loads(report.read_text()).get("failures", []):
            result.failures.append(f"{version} {failure.get('code', '')} "
                                   f"{failure.get('title', '')}".strip())
    ndjson = next(iter(report_dir.glob("ndjson-*.ndjson")), None)
    if ndjson is None or result.first_failure_seconds is not None:
        return
    for line in ndjson.read_text().splitlines():
        event = json.loads(line).get("ScenarioFinished")
        if event and event.get("status") in ("failure", "error"):
            result.first_failure_seconds = float(event["timestamp"]) - wall_start
            return
