"""The integrity check: a suite run leaves others' webhooks untouched and nothing of its own.

Room entry `foreign-data` (contract_suite/generated/room.py): "A team may already hold any number of
webhooks and deliveries ... The suite never changes or deletes them". The self-test proves
it on a reference server started with a pre-populated variant (both teams hold webhooks,
some with deliveries):

1. `take_snapshot` reads, with BOTH teams' tokens, every webhook through the public v2 API:
   the list (all pages, `limit=100`, a bounded number of pages), `GET /webhooks/{id}` of
   each and the first page of its deliveries (`limit=100`). Keyed by (team, id).
2. The suite runs (to the end, or interrupted by SIGINT after N seconds).
3. A second snapshot; `diff(before, after)` gives the findings:
   - `missing` (fails): a webhook that was there before is no longer listed;
   - `changed` (fails): one per field whose value differs (url, updated_at, ...), in the
     retrieved body or the list item;
   - `leftover` (fails): a webhook that was not there before is there after the run (the
     suite tags what it creates with `/aqid-contracts/` in the URL; an untagged new one
     is reported too: nothing else writes to this server);
   - `deliveries` (informational): the first page of a pre-existing webhook's delivery log
     differs. The suite's `POST /_sandbox/events` fans out to ALL the calling team's
     matching enabled webhooks: that is the target's behaviour, not a write by the suite;
   - `unreadable` (fails): a snapshot could not be completed, so nothing is proven.

`diff` is pure (tests/test_integrity.py). Values in findings are shortened; a `secret` is
only ever shown masked (contract_suite.core.redact.mask), tokens never appear.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import httpx

from contract_suite.core.redact import mask

TAG = "/aqid-contracts/"  # what the suite puts in the URL of every webhook it creates
TEAMS = ("main", "other")  # token roles snapshotted (the read-only token is main's team)
PAGE_LIMIT = 100
MAX_PAGES = 30  # 3,000 webhooks a team: far more than any pre-populated variant holds
REQUEST_TIMEOUT = 10.0
MAX_429_WAITS = 3  # a rate-limited target: wait out Retry-After at most this many times
MAX_429_WAIT = 65.0  # seconds, per wait
SNAPSHOT_DEADLINE = 180.0  # one snapshot, all requests, seconds
SETTLE_SECONDS = 1.0  # after the suite ends: let in-flight delivery retries (50 ms) land
VALUE_WIDTH = 60  # characters of a value shown in a finding
SECRET_FIELDS = frozenset({"secret"})


@dataclass(frozen=True)
class WebhookState:
    """One webhook as seen through the API at snapshot time."""

    team: str  # token role: "main" | "other"
    id: str
    listed: Mapping[str, Any]  # the list item
    retrieved: Mapping[str, Any] | None  # GET /webhooks/{id} body; None if not 200
    retrieve_status: int | None  # None: no answer
    deliveries: Mapping[str, Mapping[str, Any]] | None  # delivery id -> entry (first page)

    @property
    def url(self) -> str:
        return str((self.retrieved or self.listed).get("url", ""))


@dataclass
class Snapshot:
    webhooks: dict[tuple[str, str], WebhookState] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)  # why the snapshot is incomplete
    requests: int = 0


@dataclass(frozen=True)
class Finding:
    severity: str  # "fail" | "info"
    kind: str  # "missing" | "changed" | "leftover" | "deliveries" | "unreadable" | "exit-code"
    team: str  # token role, or "-" when none applies
    webhook_id: str  # or "-"
    field: str  # the field that differs, or "-"
    detail: str

    @property
    def fails(self) -> bool:
        return self.severity == "fail"

    def line(self) -> str:
        where = f"webhook {self.webhook_id} ({self.team} team)" if self.webhook_id != "-" \
            else (f"{self.team} team" if self.team != "-" else "run")
        what = f" field `{self.field}`" if self.field != "-" else ""
        return f"{self.kind}: {where}{what}: {self.detail}"


@dataclass
class IntegrityResult:
    """What one integrity run found: the findings and how much was compared."""

    findings: list[Finding] = field(default_factory=list)
    webhooks_before: int = 0
    webhooks_after: int = 0
    expected_exit: int | None = None  # 0 for a full run, 2 for an interrupted one

    @property
    def failing(self) -> list[Finding]:
        return [f for f in self.findings if f.fails]

    @property
    def informational(self) -> list[Finding]:
        return [f for f in self.findings if not f.fails]


# --- the pure part: comparing snapshots -----------------------------------------------------


def show(field_name: str, value: Any) -> str:
    """A value for a finding: secrets masked, long values shortened, JSON otherwise."""
    if field_name in SECRET_FIELDS:
        return mask(value if isinstance(value, str) else json.dumps(value))
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    text = text if len(text) <= VALUE_WIDTH else text[: VALUE_WIDTH - 1] + "…"
    return json.dumps(text) if isinstance(value, str) else text


_ABSENT = object()


def changed_fields(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    """Names of the top-level fields whose values differ (present on one side only too)."""
    return sorted(name for name in set(before) | set(after)
                  if before.get(name, _ABSENT) != after.get(name, _ABSENT))


def _field_change(team: str, hook_id: str, name: str, before: Any, after: Any) -> Finding:
    shown_before = "(absent)" if before is _ABSENT else show(name, before)
    shown_after = "(absent)" if after is _ABSENT else show(name, after)
    return Finding("fail", "changed", team, hook_id, name, f"{shown_before} → {shown_after}")


def new_failed_deliveries(old: WebhookState, new: WebhookState) -> int:
    """Deliveries logged since `old` whose last attempt was not 2xx."""
    if old.deliveries is None or new.deliveries is None:
        return 0
    return sum(1 for key, entry in new.deliveries.items() if key not in old.deliveries
               and not str((entry.get("response") or {}).get("status_code", "")).startswith("2"))


def _compare_webhook(old: WebhookState, new: WebhookState) -> list[Finding]:
    findings: list[Finding] = []
    seen: set[str] = set()
    pairs = [(old.listed, new.listed)]
    if old.retrieved is not None and new.retrieved is not None:
        pairs.insert(0, (old.retrieved, new.retrieved))
    for before, after in pairs:
        for name in changed_fields(before, after):
            if name not in seen:
                seen.add(name)
                finding = _field_change(old.team, old.id, name, before.get(name, _ABSENT),
                                        after.get(name, _ABSENT))
                failed = new_failed_deliveries(old, new)
                if name == "is_enabled" and after.get(name) is False and failed:
                    finding = replace(finding, detail=finding.detail + (
                        f" after {failed} new failed deliveries: the target's auto-disable, "
                        "set off by the suite's sandbox events reaching this webhook"))
                findings.append(finding)
    if old.retrieve_status != new.retrieve_status:
        findings.append(Finding("fail", "changed", old.team, old.id, "retrieve status",
                                f"GET /api/v2/webhooks/{old.id} answered {old.retrieve_status}"
                                f" before, {new.retrieve_status} after"))
    findings.extend(_compare_deliveries(old, new))
    return findings


def _compare_deliveries(old: WebhookState, new: WebhookState) -> list[Finding]:
    if old.deliveries is None or new.deliveries is None:
        return []
    added = [key for key in new.deliveries if key not in old.deliveries]
    gone = [key for key in old.deliveries if key not in new.deliveries]
    moved = [key for key in old.deliveries
             if key in new.deliveries and old.deliveries[key] != new.deliveries[key]]
    if not (added or gone or moved):
        return []
    parts = []
    if added:
        events = sorted({str(new.deliveries[key].get("event", "?")) for key in added})
        parts.append(f"{len(added)} new ({', '.join(events)})")
    if moved:
        parts.append(f"{len(moved)} changed (ids {', '.join(moved[:5])})")
    if gone:
        parts.append(f"{len(gone)} no longer on the first page")
    return [Finding("info", "deliveries", old.team, old.id, "deliveries",
                    "; ".join(parts) + " (the target fans the suite's sandbox events out "
                    "to every matching webhook of the team: not a write by the suite)")]


def diff(before: Snapshot, after: Snapshot, *, tag: str = TAG) -> list[Finding]:
    """Every finding between two snapshots (see the module doc); failing ones first."""
    findings: list[Finding] = []
    for label, snapshot in (("before", before), ("after", after)):
        for problem in snapshot.problems:
            findings.append(Finding("fail", "unreadable", "-", "-", "-",
                                    f"snapshot {label} the run is incomplete: {problem}"))
    for key, old in before.webhooks.items():
        new = after.webhooks.get(key)
        if new is None:
            findings.append(Finding("fail", "missing", old.team, old.id, "-",
                                    f"listed before the run (url {show('url', old.url)}), "
                                    "not after: deleted or hidden by the run"))
        else:
            findings.extend(_compare_webhook(old, new))
    for key, new in after.webhooks.items():
        if key in before.webhooks:
            continue
        tagged = tag in new.url
        findings.append(Finding(
            "fail", "leftover", new.team, new.id, "-",
            f"created by the run and not deleted (url {show('url', new.url)}"
            f"{', tagged ' + tag.strip('/') if tagged else ', untagged'}); "
            "`make cleanup` removes tagged ones"))
    return sorted(findings, key=lambda f: not f.fails)


def exit_code_finding(expected: int, actual: int | None, why: str = "") -> Finding | None:
    """A failing finding when the suite's exit code is not the expected one."""
    if actual == expected:
        return None
    got = "no exit code (killed at a bound)" if actual is None else f"exit code {actual}"
    return Finding("fail", "exit-code", "-", "-", "-",
                   f"expected exit code {expected}{why}, got {got}")


# --- the impure part: reading the API -------------------------------------------------------


class SnapshotError(RuntimeError):
    """A snapshot could not be completed (the message says where)."""


Sleep = Callable[[float], None]


class _Reader:
    """GETs with one team's token: bounded in count and time, 429s waited out (bounded)."""

    def __init__(self, client: httpx.Client, token: str, deadline: float, snapshot: Snapshot,
                 sleep: Sleep) -> None:
        self.client, self.token, self.deadline = client, token, deadline
        self.snapshot, self.sleep = snapshot, sleep

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> httpx.Response:
        for _ in range(MAX_429_WAITS + 1):
            if time.monotonic() > self.deadline:
                raise SnapshotError(f"GET {path}: snapshot deadline ({SNAPSHOT_DEADLINE:.0f} s)"
                                    " passed")
            try:
                response = self.client.get(path, params=params,
                                           headers={"Authorization": f"Bearer {self.token}"})
            except httpx.HTTPError as exc:
                raise SnapshotError(f"GET {path}: {type(exc).__name__}") from None
            self.snapshot.requests += 1
            if response.status_code != 429:
                return response
            self.sleep(min(MAX_429_WAIT, _retry_after(response)))
        raise SnapshotError(f"GET {path}: still 429 after {MAX_429_WAITS} waits")

    def json(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        response = self.get(path, params)
        if response.status_code != 200:
            raise SnapshotError(f"GET {path} answered {response.status_code}, not 200")
        try:
            return response.json()
        except ValueError:
            raise SnapshotError(f"GET {path}: the body is not JSON") from None


def _retry_after(response: httpx.Response) -> float:
    try:
        return max(1.0, float(response.headers.get("Retry-After", "1")))
    except ValueError:
        return 1.0


def _list_items(reader: _Reader, path: str, max_pages: int) -> list[Mapping[str, Any]]:
    """Every item of a v2 list, walking ?page= (bounded); stops at an empty page."""
    items: list[Mapping[str, Any]] = []
    for page in range(1, max_pages + 1):
        body = reader.json(path, {"limit": PAGE_LIMIT, "page": page})
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, list):
            raise SnapshotError(f"GET {path}?page={page}: no `data` list")
        items.extend(item for item in data if isinstance(item, dict))
        total_pages = body.get("total_pages")
        if not data or (isinstance(total_pages, int) and page >= total_pages):
            return items
    raise SnapshotError(f"GET {path}: more than {max_pages} pages of {PAGE_LIMIT}")


def _team_webhooks(reader: _Reader, team: str, snapshot: Snapshot, max_pages: int) -> None:
    for item in _list_items(reader, "/api/v2/webhooks", max_pages):
        hook_id = str(item.get("id"))
        response = reader.get(f"/api/v2/webhooks/{hook_id}")
        retrieved = response.json() if response.status_code == 200 else None
        deliveries_response = reader.get(f"/api/v2/webhooks/{hook_id}/deliveries",
                                         {"limit": PAGE_LIMIT})
        deliveries = None
        if deliveries_response.status_code == 200:
            data = deliveries_response.json().get("data") or []
            deliveries = {str(entry.get("id")): entry for entry in data if isinstance(entry, dict)}
        snapshot.webhooks[(team, hook_id)] = WebhookState(
            team, hook_id, item, retrieved, response.status_code, deliveries)


def take_snapshot(base_url: str, tokens: Mapping[str, str], *, teams: Iterable[str] = TEAMS,
                  max_pages: int = MAX_PAGES, client: httpx.Client | None = None,
                  sleep: Sleep = time.sleep) -> Snapshot:
    """Every webhook each team's token sees; problems are recorded, never raised."""
    snapshot = Snapshot()
    deadline = time.monotonic() + SNAPSHOT_DEADLINE
    own = client is None
    client = client or httpx.Client(base_url=base_url, timeout=REQUEST_TIMEOUT,
                                    follow_redirects=False, trust_env=False)
    try:
        for team in teams:
            if team not in tokens:
                snapshot.problems.append(f"no {team} team token")
                continue
            try:
                _team_webhooks(_Reader(client, tokens[team], deadline, snapshot, sleep),
                               team, snapshot, max_pages)
            except (SnapshotError, ValueError) as exc:
                snapshot.problems.append(f"{team} team: {exc}")
    finally:
        if own:
            client.close()
    return snapshot


class IntegrityObserver:
    """runs.Observer: a snapshot before the suite, one after, the findings on the run."""

    def __init__(self, expected_exit: int | None, *, require_seeded: bool = True) -> None:
        """`expected_exit` None: the exit code is judged elsewhere (a variant's verdict);
        `require_seeded` False: an empty server before the run is fine (then only
        leftovers can be found)."""
        self.expected_exit, self.require_seeded = expected_exit, require_seeded
        self.before_snapshot: Snapshot | None = None

    def before(self, base_url: str, tokens: dict[str, str]) -> None:
        self.before_snapshot = take_snapshot(base_url, tokens)

    def after(self, base_url: str, tokens: dict[str, str], run: Any) -> None:
        time.sleep(SETTLE_SECONDS)
        after = take_snapshot(base_url, tokens)
        before = self.before_snapshot or Snapshot(problems=["not taken"])
        result = IntegrityResult(diff(before, after), len(before.webhooks),
                                 len(after.webhooks), self.expected_exit)
        if self.require_seeded and not before.webhooks and not before.problems:
            result.findings.insert(0, Finding(
                "fail", "unreadable", "-", "-", "-", "no webhook before the run: the "
                "pre-populated variant seeded nothing, so nothing is proven"))
        why = (f" (pytest's 'interrupted' after a SIGINT {run.interrupted_at:.0f} s into"
               " the run)"
               if run.interrupted_at is not None else
               " (the suite passes a pre-populated target)" if self.expected_exit == 0 else "")
        if self.expected_exit == 2 and run.interrupted_at is None:
            why = (" (SIGINT was due but the suite ended before it)" if run.exit_code is not None
                   else f" (no SIGINT sent: {run.problem})")
        finding = (exit_code_finding(self.expected_exit, run.exit_code, why)
                   if self.expected_exit is not None else None)
        if finding is not None:
            result.findings.insert(0, finding)
        run.integrity = result


# The verdict of an integrity run: the worst kind of failing finding decides.
VERDICT_BY_KIND = (("missing", "TOUCHED"), ("changed", "TOUCHED"), ("leftover", "LEFT BEHIND"),
                   ("unreadable", "ERROR"), ("exit-code", "BAD EXIT"))


def integrity_verdict(result: IntegrityResult | None) -> str:
    """ok, or TOUCHED / LEFT BEHIND / ERROR / BAD EXIT (no result at all: ERROR)."""
    if result is None:
        return "ERROR"
    kinds = {finding.kind for finding in result.failing}
    return next((verdict for kind, verdict in VERDICT_BY_KIND if kind in kinds), "ok")
