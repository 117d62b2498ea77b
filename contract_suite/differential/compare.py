"""Noise learning and comparison: what the candidate changed beyond what the baseline
itself varies on, grouped into one finding per behaviour per operation.

Noise, the Diffy way, from two baseline runs of one seed: an exchange whose status
differs between them, or that only one of them made, is unstable (ignored whole); a JSON
path that differs (same status) is noisy for its operation in that test (`$.data[*].url`
for every exchange of `v2 GET /webhooks` the test makes). With one baseline run, only
normalisation applies.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .approvals import Approval
from .normalise import ANY, Normalised, Normaliser, RunFacts, delivery_order
from .recording import Run

INDEX = re.compile(r"\[\d+\]")
MISSING = object()
ALSO_FAILURE = "also a contract failure"
TO_REVIEW = "a change to review"


@dataclass(frozen=True)
class Change:
    kind: str  # "changed" | "added" | "removed"
    path: str  # "status", "headers.allow", "$.data[0].url", "exchange"
    baseline: Any = None
    candidate: Any = None

    @property
    def general_path(self) -> str:
        return INDEX.sub("[*]", self.path)


def diff(baseline: Any, candidate: Any, path: str = "") -> list[Change]:
    """Paths that changed, were added or removed, between two normalised documents."""
    if isinstance(baseline, dict) and isinstance(candidate, dict):
        changes: list[Change] = []
        for name in sorted(set(baseline) | set(candidate)):
            child = _child(path, name)
            if name not in candidate:
                changes.append(Change("removed", child, baseline[name], None))
            elif name not in baseline:
                changes.append(Change("added", child, None, candidate[name]))
            else:
                changes.extend(diff(baseline[name], candidate[name], child))
        return changes
    if isinstance(baseline, list) and isinstance(candidate, list):
        changes = []
        for index in range(max(len(baseline), len(candidate))):
            child = f"{path}[{index}]"
            if index >= len(candidate):
                changes.append(Change("removed", child, baseline[index], None))
            elif index >= len(baseline):
                changes.append(Change("added", child, None, candidate[index]))
            else:
                changes.extend(diff(baseline[index], candidate[index], child))
        return changes
    if baseline == candidate and type(baseline) is type(candidate):
        return []
    if ANY in (baseline, candidate):  # normalised as unknowable for this test
        return []
    return [Change("changed", path or "$", baseline, candidate)]


def _child(path: str, name: str) -> str:
    if path == "":  # the document's top: status, headers, body
        return "$" if name == "body" else name
    if path == "headers":
        return f"headers.{name}"
    return f"{path}.{name}" if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]*", name) else \
        f"{path}[{name!r}]"


def normalised(run: Run, ping_tests: frozenset[str] | None = None,
               signature_checks: bool | None = None) -> dict[tuple[str, ...], Normalised]:
    """`ping_tests`: whose pings are compared (default: the tests this run marked `pings`);
    `signature_checks`: compare the recorder's verdict on each delivery's signature
    (default: when this run has them). A comparison passes both the same for every run."""
    meta = run.meta
    normaliser = Normaliser(RunFacts(
        base_url=meta.get("base_url", ""), run_id=meta.get("run_id", ""),
        ping_tests=frozenset(run.ping_tests) if ping_tests is None else ping_tests,
        signature_checks=run.signature_checked if signature_checks is None
        else signature_checks))
    out: dict[tuple[str, ...], Normalised] = {}
    records = without_poll_repeats(run.exchanges)
    # Per test, its API exchanges first, in the order it made them, then what the receiver
    # got: a ping may arrive before the create's answer is recorded, and ids and uuids are
    # numbered in the order the test saw them from the API.
    records.sort(key=lambda r: (r.get("kind") == "delivery",
                                delivery_order(r) if r.get("kind") == "delivery" else ()))
    for record in records:
        item = normaliser.exchange(record)
        if item is not None:
            out[item.key] = item
    return out


def without_poll_repeats(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A test that polls (GET the delivery log until the retries are in) sends the same GET
    a number of times that depends on timing: only the last of such a run of identical
    GETs, the state the test waited for, is compared."""
    kept: list[dict[str, Any]] = []
    last_by_test: dict[Any, int] = {}  # test -> index in kept of its latest API exchange
    for record in records:
        if record.get("kind") == "delivery":
            kept.append(record)
            continue
        previous = last_by_test.get(record.get("test"))
        if (previous is not None and record["method"] == "GET"
                and _same_request(kept[previous], record)):
            kept[previous] = record
            continue
        kept.append(record)
        last_by_test[record.get("test")] = len(kept) - 1
    return kept


def _same_request(one: dict[str, Any], other: dict[str, Any]) -> bool:
    return (one["method"] == other["method"] and one["url"] == other["url"]
            and one.get("request_body") == other.get("request_body"))


@dataclass
class Noise:
    unstable: set[tuple[str, ...]] = field(default_factory=set)
    # (test, operation, general path): a scenario's own noise (a poll's timing) does not
    # blind the same operation in other tests.
    paths: set[tuple[str, str, str]] = field(default_factory=set)
    learned_from: int = 0  # baseline runs compared (0: one baseline, normalisation only)

    def ignores(self, item: Normalised, change: Change) -> bool:
        return (item.key in self.unstable
                or (item.test, item.operation, change.general_path) in self.paths)


def learn_noise(baselines: list[dict[tuple[str, ...], Normalised]]) -> Noise:
    noise = Noise(learned_from=len(baselines) if len(baselines) > 1 else 0)
    for first, second in zip(baselines, baselines[1:], strict=False):
        for key in set(first) ^ set(second):
            noise.unstable.add(key)
        for key in set(first) & set(second):
            changes = diff(first[key].document, second[key].document)
            if any(change.path == "status" for change in changes):
                noise.unstable.add(key)
                continue
            noise.paths.update((first[key].test, first[key].operation, c.general_path)
                               for c in changes)
    return noise


@dataclass
class Finding:
    """One behaviour difference of one operation, with its first example."""

    operation: str
    changes: list[Change]  # of the first example
    baseline: dict[str, Any] | None  # the recorded exchange (masked)
    candidate: dict[str, Any] | None
    tests: set[str] = field(default_factory=set)
    count: int = 0
    verdict: str = TO_REVIEW

    @property
    def status_change(self) -> tuple[Any, Any] | None:
        for change in self.changes:
            if change.path == "status":
                return change.baseline, change.candidate
        return None


@dataclass
class Comparison:
    findings: list[Finding]
    operations: list[str]  # every operation seen, in either run
    compared: int  # exchanges compared (present in both)
    noise: Noise
    approved: int = 0  # changes silenced by the approvals file
    unused_approvals: list[Approval] = field(default_factory=list)
    candidate_failures: set[str] = field(default_factory=set)
    cut_short: int = 0  # baseline exchanges a failing candidate test never reached


def compare(baseline: dict[tuple[str, ...], Normalised],
            candidate: dict[tuple[str, ...], Normalised], noise: Noise,
            approvals: Iterable[Approval] = (), candidate_failures: set[str] | None = None,
            baseline_seen: set[tuple[str, ...]] | None = None) -> Comparison:
    """`baseline_seen`: every key any baseline run made (an extra candidate exchange that
    one of them made too is no finding)."""
    approvals = list(approvals)
    failures = candidate_failures or set()
    used: set[int] = set()
    groups: dict[tuple[Any, ...], Finding] = {}
    approved = compared = cut_short = 0
    seen = baseline_seen if baseline_seen is not None else set(baseline)
    for key in sorted(set(baseline) | set(candidate)):
        old, new = baseline.get(key), candidate.get(key)
        item = old or new
        assert item is not None
        if old is not None and new is not None:
            compared += 1
            changes = diff(old.document, new.document)
        elif key in noise.unstable or (new is not None and key in seen):
            continue
        elif new is None and item.test in failures and item.raw.get("kind") != "delivery":
            cut_short += 1  # the test stopped at its failure: the contract run reports it
            continue
        elif new is None:
            changes = [Change("removed", "exchange", _summary(old), None)]
        else:
            changes = [Change("added", "exchange", None, _summary(new))]
        kept = []
        for change in changes:
            if noise.ignores(item, change):
                continue
            approval = next((i for i, a in enumerate(approvals) if a.covers(
                item.operation, change.general_path, change.baseline, change.candidate)), None)
            if approval is not None:
                used.add(approval)
                approved += 1
                continue
            kept.append(change)
        if not kept:
            continue
        status = next(((c.baseline, c.candidate) for c in kept if c.path == "status"), None)
        signature = (item.operation, status, tuple(sorted({(c.kind, c.general_path)
                                                           for c in kept})))
        finding = groups.get(signature)
        if finding is None:
            finding = groups[signature] = Finding(
                item.operation, kept, old.raw if old else None, new.raw if new else None)
        finding.count += 1
        finding.tests.add(item.test)
    findings = sorted(groups.values(), key=lambda f: (f.operation, -f.count))
    for finding in findings:
        finding.verdict = ALSO_FAILURE if finding.tests & failures else TO_REVIEW
    operations = sorted({i.operation for i in (*baseline.values(), *candidate.values())})
    return Comparison(findings, operations, compared, noise, approved,
                      [a for i, a in enumerate(approvals) if i not in used], failures,
                      cut_short)


def _summary(item: Normalised | None) -> str:
    if item is None:
        return ""
    raw = item.raw
    return f"{raw['method']} {item.document.get('status', '')} {item.operation}".strip()
