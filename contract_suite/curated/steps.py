"""Running the steps of one scenario: templating, the request, the expectations, captures.

A step that the API answers wrongly raises `StepFailure` (an AssertionError) holding
everything the report prints: the step, the request (token masked), Received vs
Expected and the JSON path. Every response is also checked against the spec operation it
belongs to (spec_index), unless the step says `spec: {skip: <why>}`.

Only the run's own items of a webhook list are judged for shape (brief, Room
"foreign-data"): an item is the run's own when its url carries this run's tag or its id
was captured by the scenario. Checks about the server's behaviour that hold for any data a
team may hold (the `enabled` filter, isolation) still look at every item.
"""

from __future__ import annotations

import json
import re
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from ..core.http import ApiClient
from ..core.redact import mask
from ..core.spec_index import SpecIndex
from ..core.target import Target, is_tagged
from .contract_format import PLACEHOLDER, MarkedDict, step_kind
from .matchers import MISSING, MatchFailure, resolve, run_check
from .pages import order_problem, page_items, page_problems, walk

WALK_ATTEMPTS = 3  # a concurrent delete can shift one of ours across a page boundary
_UNRENDERED = frozenset({"regex", "has_key_matching", "equals_capture", "same_webhook_as",
                         "only_if"})


@dataclass
class RequestRecord:
    method: str
    url: str
    credentials: str
    authorization: str | None  # already masked
    body: str | None = None

    def lines(self) -> list[str]:
        auth = f"  (credentials: {self.credentials}"
        auth += f", bearer token {self.authorization})" if self.authorization else ")"
        shown = [f"{self.method} {self.url}{auth}"]
        if self.body:
            shown.append(f"body: {self.body}")
        return shown


class StepFailure(AssertionError):
    """The API broke the contract at one step (a test FAILURE, not an error)."""

    def __init__(self, headline: str, *, path: str | None = None, expected: Any = MISSING,
                 received: Any = MISSING, request: RequestRecord | None = None,
                 response: str | None = None) -> None:
        self.headline, self.path, self.expected, self.received = headline, path, expected, received
        self.request, self.response = request, response
        self.scenario = ""
        self.step_index = 0
        self.step: MarkedDict | None = None
        super().__init__(headline)


@dataclass
class ScenarioRun:
    """The state one scenario carries from step to step."""

    api: ApiClient
    target: Target
    spec: SpecIndex
    scenario: str
    captures: dict[str, Any] = field(default_factory=dict)
    # SuiteSession.absent_webhook_id: an id verified to answer 404 (the `{absent_id}`
    # placeholder); writes to "an unknown id" go there, never to a guessed id.
    absent_id: Callable[[], int] | None = None

    def value_of(self, name: str) -> Any:
        if name == "tagged_url":  # fresh per use: two webhooks of one scenario never share it
            return self.target.tagged_url(f"{self.scenario}-{secrets.token_hex(3)}")
        if name == "run_id":
            return self.target.run_id
        if name == "base_url":
            return self.target.base_url
        if name == "absent_id" and name not in self.captures:
            if self.absent_id is None:
                raise RuntimeError("{absent_id} needs the suite session's absent_webhook_id() "
                                   "(run the contract through the aqid-contracts plugin)")
            return self.absent_id()
        return self.captures[name]

    def own_ids(self) -> set[Any]:
        """Ids this scenario captured: integers, and the `id` of captured objects."""
        ids: set[Any] = set()
        for value in self.captures.values():
            if isinstance(value, dict):
                value = value.get("id")
            if isinstance(value, int) and not isinstance(value, bool):
                ids.add(value)
        return ids

    def is_own(self, item: Any) -> bool:
        """Whether a list item is one this run made (its tag in the url, or a captured id)."""
        if not isinstance(item, dict):
            return True  # not a webhook at all: judge it, so the spec names the problem
        if is_tagged(item.get("url"), self.target.run_id):
            return True
        item_id = item.get("id")
        return isinstance(item_id, int) and not isinstance(item_id, bool) and (
            item_id in self.own_ids())

    def render(self, value: Any, *, key: str | None = None) -> Any:
        """Replace `{placeholders}`; regexes and capture names are left alone."""
        if key in _UNRENDERED:
            return value
        if isinstance(value, dict):
            return {k: self.render(v, key=k) for k, v in value.items()}
        if isinstance(value, list):
            return [self.render(v) for v in value]
        if not isinstance(value, str):
            return value
        whole = PLACEHOLDER.fullmatch(value)
        if whole:  # "{id}" alone keeps the captured value's type (an integer stays one)
            return self.value_of(whole.group(1))
        text = PLACEHOLDER.sub(lambda m: _as_text(self.value_of(m.group(1))), value)
        return text.replace("{{", "{").replace("}}", "}")


def _as_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def run_scenario(run: ScenarioRun, steps: list[MarkedDict]) -> None:
    for index, step in enumerate(steps, start=1):
        if "only_if" in step and step["only_if"] not in run.captures:
            continue  # the branch that makes this capture was not taken (`either`)
        try:
            STEP_RUNNERS[step_kind(step)](run, step)
        except StepFailure as failure:
            failure.scenario, failure.step_index, failure.step = run.scenario, index, step
            raise


# ---- sending ---------------------------------------------------------------------------


def _leave_foreign_subscribers_alone(run: ScenarioRun, credentials: str, body: Any) -> None:
    """Skip the scenario rather than fire an event that would reach webhooks the run did
    not create (the target fans it out to all the team's matching ones: their logs and
    failure tallies would move). The same rule as the delivery contracts' fire_event."""
    from ..deliveries.events import FOREIGN_SUBSCRIBERS, event_matches, foreign_subscribers

    event = body.get("event") if isinstance(body, dict) else None
    if not isinstance(event, str):
        return
    known = foreign_subscribers(run.api, run.target, credentials)  # type: ignore[arg-type]
    others = [hook for hook in known if event_matches(hook[1], event)]
    if others:
        pytest.skip(FOREIGN_SUBSCRIBERS.format(
            event=event, count=len(others), ids=", ".join(str(h[0]) for h in others[:5])
            + (", …" if len(others) > 5 else "")))


def send(run: ScenarioRun, request: Mapping[str, Any]) -> tuple[httpx.Response, RequestRecord]:
    """Send one rendered request; return the response and how to show the request."""
    method, path = request["method"], request["path"]
    credentials = request.get("credentials", "token")
    if method == "POST" and path == "/_sandbox/events":
        _leave_foreign_subscribers_alone(run, credentials, request.get("json"))
    headers = dict(request.get("headers", {}))
    content: bytes | None = None
    if "raw_body" in request:
        content = request["raw_body"].encode()
    elif "pad_json_to" in request:
        content = _padded_json(request.get("json") or {}, request["pad_json_to"])
    elif "json" in request:
        content = json.dumps(request["json"]).encode()
    if content is not None:
        headers.setdefault("Content-Type", "application/json")
    response = run.api.request(method, path, credentials=credentials, content=content,
                               params=request.get("query"), headers=headers)
    query = urlencode(request.get("query") or {})
    authorization = run.api.auth_headers(credentials).get("Authorization")
    shown_auth = mask(authorization.partition(" ")[2]) if authorization else None
    record = RequestRecord(
        method, run.target.base_url + path + (f"?{query}" if query else ""), credentials,
        shown_auth, _preview(content.decode("utf-8", "replace"), 300) if content else None,
    )
    return response, record


def _padded_json(body: dict[str, Any], size: int) -> bytes:
    """The body plus an unknown `padding` field, `size` bytes in all (an oversize body)."""
    base = json.dumps({**body, "padding": ""})
    return json.dumps({**body, "padding": "x" * max(0, size - len(base))}).encode()


def _body(response: httpx.Response) -> Any:
    if not response.content.strip():
        return MISSING
    try:
        return response.json()
    except ValueError:
        return response.text


def response_summary(response: httpx.Response) -> str:
    return f"{response.status_code} {_preview(response.text) or '<empty body>'}"


def _preview(text: str, limit: int = 600) -> str:
    return text if len(text) <= limit else text[:limit] + f"… ({len(text)} chars)"


Fail = Callable[..., StepFailure]


def _failer(record: RequestRecord, response: httpx.Response, prefix: str = "") -> Fail:
    def fail(headline: str, **details: Any) -> StepFailure:
        return StepFailure(prefix + headline, request=record,
                           response=response_summary(response), **details)
    return fail


# ---- request steps ---------------------------------------------------------------------


def run_request_step(run: ScenarioRun, step: MarkedDict) -> None:
    request = run.render(step["request"])
    response, record = send(run, request)
    fail = _failer(record, response)
    expect = _chosen_expectation(step.get("expect", {}), response.status_code, fail)
    check_against_spec(run, step, request, response, fail)
    for name, check in expect.get("headers", {}).items():
        _check_header(name, run.render(check), response, fail)
    body = _body(response)
    checks = expect.get("body")
    if checks == "empty":
        if response.content:
            raise fail("the body should be empty", path="$", expected="an empty body",
                       received=_preview(response.text))
    elif checks:
        for check in checks:
            try:
                run_check(run.render(check), body, run.captures)
            except MatchFailure as failure:
                raise fail(f"body check failed: {failure.detail}", path=failure.path,
                           expected=failure.expected, received=failure.received) from None
    if expect.get("pagination") == "consistent":
        for problem in page_problems(body, request.get("query") or {}, request["path"]):
            raise fail(f"pagination is inconsistent: {problem.detail}", path=problem.path,
                       expected=problem.expected, received=problem.received)
    for name, path in {**step.get("capture", {}), **expect.get("capture", {})}.items():
        value = resolve(body, path)
        if value is MISSING:
            raise fail(f"cannot capture {name!r}: nothing at {path}", path=path,
                       expected="a value to capture", received="nothing")
        run.captures[name] = value


def _statuses(expect: Mapping[str, Any]) -> list[int]:
    statuses = expect.get("status", list(range(200, 300)))
    return [statuses] if isinstance(statuses, int) else list(statuses)


def _chosen_expectation(expect: Mapping[str, Any], status: int, fail: Fail) -> Mapping[str, Any]:
    """The expectation that applies to this status: `expect`, or the `either` branch of it.

    `either` lists alternatives a correct server may choose between (brief, Room), each with
    its own status(es) and checks; the answer must fit one of them, judged by its status.
    """
    alternatives = expect.get("either")
    if not alternatives:
        if status not in _statuses(expect):
            raise fail("unexpected status", path="status",
                       expected=_statuses(expect) if "status" in expect else "2xx",
                       received=status)
        return expect
    for alternative in alternatives:
        if status in _statuses(alternative):
            return alternative
    allowed = [code for alternative in alternatives for code in _statuses(alternative)]
    raise fail("unexpected status (none of the allowed alternatives)", path="status",
               expected=allowed, received=status)


def check_against_spec(run: ScenarioRun, step: Mapping[str, Any], request: Mapping[str, Any],
                       response: httpx.Response, fail: Fail) -> None:
    """The automatic check: the response is one the spec documents for this operation."""
    if "spec" in step:
        return
    operation = run.spec.find(request["method"], request["path"])
    if operation is None:  # the collector refuses such steps; a rendered path may still miss
        raise fail("the request matches no spec operation", path="request",
                   expected="a documented operation",
                   received=f"{request['method']} {request['path']}")
    judge = run.is_own if lists_webhooks(operation.method, operation.template) else None
    for problem in run.spec.check_response(operation, response.status_code,
                                           dict(response.headers), response.content,
                                           judge_item=judge):
        raise fail(f"the response does not conform to the spec: {operation}",
                   path=problem.where, expected=problem.documented, received=problem.received)


def lists_webhooks(method: str, template: str) -> bool:
    """A v1 or v2 webhook list: the one response that holds webhooks the run did not make.

    (A delivery log belongs to one webhook, always the run's own.)
    """
    return method.upper() == "GET" and template.rstrip("/").endswith("/webhooks")


def _check_header(name: str, check: Mapping[str, Any], response: httpx.Response,
                  fail: Fail) -> None:
    value = response.headers.get(name)
    shown = value if value is not None else "<absent>"
    if "present" in check and (value is not None) != check["present"]:
        raise fail(f"header {name}", path=f"header {name}",
                   expected="present" if check["present"] else "<absent>", received=shown)
    if "equals" in check and value != check["equals"]:
        raise fail(f"header {name}", path=f"header {name}", expected=check["equals"],
                   received=shown)
    if "regex" in check and (value is None or not re.search(check["regex"], value)):
        raise fail(f"header {name}", path=f"header {name}",
                   expected=f"matching /{check['regex']}/", received=shown)


# ---- other steps -------------------------------------------------------------------------


def run_pause_step(run: ScenarioRun, step: MarkedDict) -> None:
    time.sleep(float(step["pause"]))  # bounded to 5 s by the format


def run_walk_step(run: ScenarioRun, step: MarkedDict) -> None:
    """Page through a list; check every page, the order, and that ours appear once."""
    spec = run.render(step["walk_pages"])
    include, exclude = spec.get("includes_once", []), spec.get("excludes", [])
    for attempt in range(1, WALK_ATTEMPTS + 1):
        missing = _walk_once(run, step, spec, include, exclude)
        if not missing:
            return
        if attempt == WALK_ATTEMPTS:
            raise StepFailure(
                f"walking every page ({WALK_ATTEMPTS} times) did not yield each webhook once",
                path="$.data[*].id", expected=f"ids {include} once each",
                received=f"missing: {missing}",
            )


def _walk_once(run: ScenarioRun, step: MarkedDict, spec: Mapping[str, Any],
               include: list[Any], exclude: list[Any]) -> list[Any]:
    """One walk; raise StepFailure on a definite problem, return those of ours it missed."""
    request = {"method": "GET", "path": spec["path"],
               "credentials": spec.get("credentials", "token")}
    last: dict[str, Any] = {}

    def fetch(page: int) -> Any:
        query = {**spec.get("query", {}), "page": page}
        response, record = send(run, {**request, "query": query})
        last.update(record=record, response=response)
        fail = _failer(record, response, prefix=f"page {page}: ")
        if response.status_code != 200:
            raise fail("unexpected status", path="status", expected=200,
                       received=response.status_code)
        check_against_spec(run, step, request, response, fail)
        body = _body(response)
        for problem in page_problems(body, query, spec["path"]):
            raise fail(f"pagination is inconsistent: {problem.detail}", path=problem.path,
                       expected=problem.expected, received=problem.received)
        for index, item in enumerate(page_items(body)):
            checks = list(spec.get("each_item", []))
            if run.is_own(item):  # shape checks: only the run's own items (Room foreign-data)
                checks += spec.get("each_own_item", [])
            for check in checks:
                try:
                    run_check(check, item, run.captures, base=f"$.data[{index}]")
                except MatchFailure as failure:
                    raise fail(f"an item fails a check: {failure.detail}", path=failure.path,
                               expected=failure.expected, received=failure.received) from None
        return body

    def fail_walk(headline: str, **details: Any) -> StepFailure:
        return _failer(last["record"], last["response"])(headline, **details)

    max_pages = spec.get("max_pages", 100)
    try:
        result = walk(fetch, max_pages)
    except OverflowError:
        raise fail_walk("the walk did not end", path="$.total_pages",
                        expected=f"at most max_pages={max_pages} pages",
                        received="more pages") from None
    problem = order_problem(result.ids)
    if problem:
        raise fail_walk(f"walking the pages: {problem.detail}", path=problem.path,
                        expected=problem.expected, received=problem.received)
    for item_id in include:
        if len(result.where.get(item_id, [])) > 1:
            raise fail_walk(f"webhook {item_id} appears more than once in the walk",
                            path="$.data[*].id", expected="once",
                            received=f"on pages {result.where[item_id]}")
    for item_id in exclude:
        if item_id in result.where:
            raise fail_walk(f"webhook {item_id} should not be listed", path="$.data[*].id",
                            expected="absent", received=f"on page(s) {result.where[item_id]}")
    return [item_id for item_id in include if item_id not in result.where]


STEP_RUNNERS: dict[str, Callable[[ScenarioRun, MarkedDict], None]] = {
    "request": run_request_step, "pause": run_pause_step, "walk_pages": run_walk_step,
}
