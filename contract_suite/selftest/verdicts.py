"""From suite runs to the self-test's verdicts: the table, the score, the exit status.

A fault run must FAIL (caught); the clean run and every benign variant must PASS (a
failure there is a false positive: the suite cries wolf). A run with no result (timeout,
server that did not start, pytest internal error) is an error: never counted as a catch.
An integrity run (integrity.py) is judged by its findings, not by its tests: ok, or
TOUCHED / LEFT BEHIND / BAD EXIT / ERROR; any of those fails the self-test.
"""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass, field
from typing import Any

from .integrity import integrity_verdict
from .runs import SuiteRun

SHOWN_TESTS = 3  # failing tests named per row in the Markdown table; the JSON has all

VERDICT_BY_OUTCOME = {
    "fault": {"fail": "caught", "pass": "MISSED", "error": "ERROR"},
    "clean": {"pass": "ok", "fail": "FALSE POSITIVE", "error": "ERROR"},
    "variant": {"pass": "ok", "fail": "FALSE POSITIVE", "error": "ERROR"},
}
GOOD_VERDICTS = {"caught", "ok"}
LEFT_VERDICTS = {"LEFT BEHIND", "TOUCHED", "BAD EXIT"}  # a passing variant's integrity findings


def verdict(run: SuiteRun) -> str:
    if run.target.kind == "integrity":
        if run.integrity is None and run.problem:  # not run (budget) or no server
            return "ERROR"
        return integrity_verdict(run.integrity)
    judged = VERDICT_BY_OUTCOME[run.target.kind][run.outcome]
    if judged == "ok" and run.integrity is not None:  # a variant that must leave nothing
        return integrity_verdict(run.integrity)
    return judged


def evidence(run: SuiteRun) -> list[str]:
    """What the run's verdict rests on: failing tests, the refusal, or the problem."""
    if run.target.kind == "integrity":
        if run.integrity is None:
            return [run.problem or "no integrity result"]
        return [finding.line() for finding in run.integrity.failing]
    if run.outcome == "pass" and run.integrity is not None and run.integrity.failing:
        return [finding.line() for finding in run.integrity.failing]
    if run.failed:
        return [test.name for test in run.failed]
    if run.refused:
        return [f"probe refused the target: {run.refused}"]
    if run.problem:
        return [run.problem]
    if run.outcome == "error":
        return [f"pytest exit code {run.exit_code} with no failing test"]
    return []


@dataclass(frozen=True)
class Score:
    caught: int
    faults: int
    false_positives: list[str]  # clean/variant runs that failed (names)
    errors: list[str]  # runs without a result
    missed: list[str]
    integrity_runs: int = 0
    integrity_failed: list[str] = field(default_factory=list)  # integrity runs not ok

    @property
    def ok(self) -> bool:
        return (self.caught == self.faults and not self.false_positives and not self.errors
                and not self.integrity_failed)

    def line(self) -> str:
        percent = 100.0 * self.caught / self.faults if self.faults else 100.0
        return (f"score: {self.caught}/{self.faults} faults caught ({percent:.0f} %); "
                f"false positives: {len(self.false_positives)}"
                f"{' (' + ', '.join(self.false_positives) + ')' if self.false_positives else ''}"
                f"; missed: {', '.join(self.missed) or 'none'}"
                f"{'; errors: ' + ', '.join(self.errors) if self.errors else ''}"
                + (f"; integrity: {self.integrity_runs - len(self.integrity_failed)}/"
                   f"{self.integrity_runs} runs ok"
                   + (f" ({', '.join(self.integrity_failed)} not)" if self.integrity_failed
                      else "") if self.integrity_runs else ""))


def score(runs: list[SuiteRun]) -> Score:
    checks = [run for run in runs if run.target.kind == "integrity"]
    verdicts = [(run, verdict(run)) for run in runs if run.target.kind != "integrity"]
    faults = [run for run in runs if run.target.kind == "fault"]
    return Score(
        caught=sum(1 for run, v in verdicts if v == "caught"),
        faults=len(faults),
        false_positives=[run.target.name for run, v in verdicts if v == "FALSE POSITIVE"],
        errors=[run.target.name for run, v in verdicts if v == "ERROR"],
        missed=[run.target.name for run, v in verdicts if v == "MISSED"],
        integrity_runs=len(checks),
        integrity_failed=[run.target.name for run in runs
                          if (verdict(run) != "ok" if run.target.kind == "integrity"
                              else verdict(run) in LEFT_VERDICTS)],
    )


def exit_status(runs: list[SuiteRun]) -> int:
    """0 when every fault is caught and nothing else failed; 1 otherwise."""
    return 0 if runs and score(runs).ok else 1


def median_first_failure(runs: list[SuiteRun]) -> float | None:
    times = [run.first_failure_seconds for run in runs
             if run.target.kind == "fault" and verdict(run) == "caught"
             and run.first_failure_seconds is not None]
    return statistics.median(times) if times else None


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown_table(runs: list[SuiteRun]) -> str:
    lines = ["| target | kind | result | by which test(s) | seconds |",
             "|---|---|---|---|---:|"]
    for run in runs:
        shown = evidence(run)
        tests = run.failed and run.target.kind != "integrity"
        cell = ", ".join(f"`{name}`" if tests else name for name in shown[:SHOWN_TESTS])
        if len(shown) > SHOWN_TESTS:
            cell += f" (+{len(shown) - SHOWN_TESTS} more)"
        lines.append(f"| {_cell(run.target.name)} | {run.target.kind} | {verdict(run)} "
                     f"| {_cell(cell) or '-'} | {run.seconds:.1f} |")
    return "\n".join(lines)


def integrity_record(run: SuiteRun) -> dict[str, Any] | None:
    result = run.integrity
    if result is None:
        return None
    return {"webhooks_before": result.webhooks_before, "webhooks_after": result.webhooks_after,
            "expected_exit_code": result.expected_exit,
            "interrupted_at_seconds": run.interrupted_at,
            "findings": [{"severity": f.severity, "kind": f.kind, "team": f.team,
                          "webhook_id": f.webhook_id, "field": f.field, "detail": f.detail}
                         for f in result.findings]}


def run_record(run: SuiteRun) -> dict[str, Any]:
    return {
        "target": run.target.name, "kind": run.target.kind, "verdict": verdict(run),
        "outcome": run.outcome, "exit_code": run.exit_code, "seed": run.seed,
        "seconds": round(run.seconds, 2), "passed": run.passed, "skipped": run.skipped,
        "failed_tests": [{"test": t.name, "why": t.why} for t in run.failed],
        "evidence": evidence(run), "requests": run.requests,
        "first_failure_seconds": (round(run.first_failure_seconds, 2)
                                  if run.first_failure_seconds is not None else None),
        "problem": run.problem, "refused": run.refused,
        "profile": run.profile, "timeout_seconds": run.target.timeout,
        "integrity": integrity_record(run),
    }


def results_json(runs: list[SuiteRun], meta: dict[str, Any]) -> str:
    result = score(runs)
    median = median_first_failure(runs)
    return json.dumps({
        **meta,
        "score": {"caught": result.caught, "faults": result.faults,
                  "percent": round(100.0 * result.caught / result.faults, 1)
                  if result.faults else None},
        "false_positives": result.false_positives, "missed": result.missed,
        "errors": result.errors, "integrity_failed": result.integrity_failed,
        "ok": result.ok,
        "median_first_failure_seconds": round(median, 2) if median is not None else None,
        "runs": [run_record(run) for run in runs],
    }, indent=2) + "\n"
