"""What a person reads after a run: the header, the per-operation summary, masked reports.

Each process counts its own calls and check results in its session's `Stats` (the
schemathesis hooks feed it);
xdist workers send theirs to the controller in `workeroutput`, which merges them. Every
report pytest writes (terminal, JUnit XML, HTML) is built from test reports, which
`redact_report` masks on the process that made them, before xdist ships them anywhere.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field
from typing import Any

import pytest

from .redact import Secrets, mask

MAX_FAILURES_SHOWN = 12


@dataclass
class OperationStats:
    calls: int = 0
    checks: int = 0
    failures: dict[str, dict[str, str]] = field(default_factory=dict)  # key -> details


class Stats:
    """Calls and check results per operation in one process (the session owns one)."""

    def __init__(self, secrets: Secrets) -> None:
        self._secrets = secrets
        self._lock = threading.Lock()
        self.operations: dict[str, OperationStats] = {}

    def _op(self, version: str, label: str) -> OperationStats:
        return self.operations.setdefault(f"{version} {label}", OperationStats())

    def record_call(self, version: str, label: str) -> None:
        with self._lock:
            self._op(version, label).calls += 1

    def record_check(self, version: str, label: str, check: str, failure: Any,
                     curl: str | None) -> None:
        with self._lock:
            op = self._op(version, label)
            op.checks += 1
            if failure is None:
                return
            title = str(getattr(failure, "title", "") or type(failure).__name__)
            # Shrinking repeats a failure many times; the last one seen is the smallest.
            op.failures[f"{check}: {title}"] = {
                "check": check, "title": title,
                "message": self._secrets(str(getattr(failure, "message", "") or "")),
                "curl": self._secrets(curl or ""),
            }

    def to_dict(self) -> dict[str, Any]:
        with self._lock:
            return {key: {"calls": op.calls, "checks": op.checks, "failures": dict(op.failures)}
                    for key, op in self.operations.items()}

    def merge(self, data: dict[str, Any]) -> None:
        with self._lock:
            for key, values in data.items():
                op = self.operations.setdefault(key, OperationStats())
                op.calls += values["calls"]
                op.checks += values["checks"]
                op.failures.update(values["failures"])



def header_lines(session: Any) -> list[str]:
    target = session.target
    origin = "embedded reference server" if target.embedded else "given by --base-url"
    other = mask(target.other_team_token) if target.other_team_token else "none (isolation skipped)"
    read_only = (mask(target.read_only_token) if target.read_only_token
                 else "none (read-only-token contracts skipped)")
    versions = ", ".join(sorted(target.api_versions))
    return [
        f"target: {target.base_url} ({origin})",
        f"tokens: main {mask(target.token)}, other team {other}, read-only {read_only}",
        f"profile: {session.profile.name} ({session.profile.purpose}); seed: {session.seed} "
        f"(repeat with --seed {session.seed}); api versions: {versions}"
        f"{'; no writes (GET only)' if target.no_writes else ''}; run id: {target.run_id}",
        *([rate_header(session.rate_limit, session.profile)]
          if getattr(session, "rate_limit", None) else []),
    ]


def rate_header(limit: int, profile: Any) -> str:
    """The rate limit the probe saw and what it means for this run's duration."""
    line = f"rate limit: {limit} requests per window (X-RateLimit-Limit at the probe)"
    if profile.approx_requests:
        windows = profile.approx_requests / limit
        line += (f"; profile {profile.name} sends ~{profile.approx_requests} requests: "
                 + (f"expect ~{windows:.1f} windows (~{math.ceil(windows)} min at a window a "
                    "minute)" if windows >= 1 else "no waiting expected"))
    return line


def summary_lines(data: dict[str, Any], requests_by_client: int) -> list[str]:
    lines: list[str] = []
    total_calls = sum(op["calls"] for op in data.values())
    failures: list[tuple[str, dict[str, str]]] = []
    for key in sorted(data):
        op = data[key]
        mark = "FAIL" if op["failures"] else "ok  "
        lines.append(f"{mark} {key:44} {op['calls']:6} requests {op['checks']:7} checks"
                     f"{'  ' + str(len(op['failures'])) + ' failing' if op['failures'] else ''}")
        failures.extend((key, details) for details in op["failures"].values())
    for key, details in failures[:MAX_FAILURES_SHOWN]:
        lines.append("")
        lines.append(f"{key} — {details['check']}: {details['title']}")
        lines.extend("    " + line for line in details["message"].splitlines() if line.strip())
        if details["curl"]:
            lines.append("    reproduce: " + details["curl"].splitlines()[0])
    if len(failures) > MAX_FAILURES_SHOWN:
        hidden = len(failures) - MAX_FAILURES_SHOWN
        lines.append(f"... and {hidden} more (see the test failures above)")
    lines.append("")
    lines.append(f"requests sent: {total_calls + requests_by_client} "
                 f"({total_calls} generated, {requests_by_client} by contracts, probe and cleanup)")
    return lines


def redact_report(report: pytest.TestReport, secrets: Secrets) -> None:
    """Mask secrets in a test report (its failure text and captured output)."""
    if report.longrepr is not None and not isinstance(report.longrepr, tuple):
        text = str(report.longrepr)
        cleaned = secrets(text)
        if cleaned != text:
            report.longrepr = cleaned
    elif isinstance(report.longrepr, tuple):  # a skip: (path, line, reason)
        path, line, reason = report.longrepr
        report.longrepr = (path, line, secrets(reason))
    report.sections = [(title, secrets(content)) for title, content in report.sections]


def rate_summary(governor: Any) -> dict[str, Any]:
    """What one process's rate-limit governor saw, as plain data (xdist ships it)."""
    return {"limit": governor.limit_seen, "rate_limited": governor.rate_limited,
            "waited": round(governor.waited, 1), "spent": governor.spent}


def rate_line(summaries: list[dict[str, Any]]) -> str | None:
    """One line on the target's rate limit: what it allowed, how often it said 429, how long
    the run waited (brief, Room "rate-limits": waiting is correct behaviour, not a finding)."""
    limits = [s["limit"] for s in summaries if s.get("limit") is not None]
    answered = sum(int(s.get("rate_limited") or 0) for s in summaries)
    if not answered:
        return None  # the limit itself is in the header; no 429, nothing to say
    waited = sum(float(s.get("waited") or 0.0) for s in summaries)
    limit = f"X-RateLimit-Limit {min(limits)}" if limits else "no X-RateLimit-Limit seen"
    line = (f"rate limit: {limit}; {answered} answer(s) 429 waited out "
            f"({waited:.0f} s spent waiting, summed over test processes)")
    if any(s.get("spent") for s in summaries):
        line += "; the --rate-limit-budget ran out: tests skipped as 'rate limited' did not run"
    return line
