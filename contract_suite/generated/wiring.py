"""Schemathesis wiring: the two specs, configured for this run's target, profile and seed.

The plugin builds one `GeneratedRun(session)` when, and only when, contracts/test_generated.py
is collected (in every process that collects it: each xdist worker), from its
`pytest_make_collect_report` wrapper around that module, and hands it to the module's
import through `collecting(run)`: the module then parametrizes over schemas that already
know their base URL, auth, phases and seed, which gives one pytest item per operation
(SCHEMATHESIS-NOTES trap 4) and works under -n. Runs without the generated tests never
import this module (start-up cost, trap 13).

Auth goes in the schema config's `headers`, never in call_and_validate(headers=...)
(trap 2: schemathesis would re-authenticate its own "no auth" cases).
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import os
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import hypothesis
import hypothesis.errors
import pytest
import requests
import schemathesis
from schemathesis import Case, Response
from schemathesis.generation import GenerationMode
from schemathesis.openapi.checks import EnsureResourceAvailability

from ..core.exchanges import Exchange, headers_of
from ..core.http import addressed_id
from ..core.ratelimit import RateGovernor, RateLimitBudgetSpent, key_for
from ..core.spec_index import load_yaml
from ..core.target import api_version_of
from . import checks as _custom_checks  # noqa: F401 - registers our checks with schemathesis
from .room import is_false_alarm

if TYPE_CHECKING:
    from schemathesis.schemas import BaseSchema

    from ..core.session import SuiteSession

SPEC_FILES = {"v1": "v1.yaml", "v2": "v2.yaml"}
REQUEST_TIMEOUT = 20.0
WRITE_METHODS = frozenset({"PUT", "PATCH", "DELETE"})
RUN_ATTRIBUTE = "aqid_run"  # where a schema keeps its GeneratedRun (on its hook dispatcher)

# The built-in checks the brief names, on by name; every other built-in is off.
BUILTIN_CHECKS = (
    "not_a_server_error", "status_code_conformance", "content_type_conformance",
    "response_schema_conformance", "response_headers_conformance", "negative_data_rejection",
    "positive_data_acceptance", "use_after_free", "ensure_resource_availability",
    "ignored_auth", "missing_required_header", "unsupported_method",
)
OFF_CHECKS = ("object_level_authorization", "allow_header_conformance")
# TRACE and QUERY are often answered by a proxy or web server before the application
# (nginx: 405 without Allow, or 400/501), so probing them tests the host, not the API.
UNEXPECTED_METHODS = ["get", "put", "post", "delete", "patch"]


def schemathesis_config(session: SuiteSession, version: str) -> schemathesis.Config:
    profile, target = session.profile, session.target
    checks: dict[str, Any] = {name: {"enabled": True} for name in BUILTIN_CHECKS}
    checks.update({name: {"enabled": False} for name in OFF_CHECKS})
    # No values captured from responses (schemathesis >= 4.17 reuses ids seen in 2xx answers,
    # e.g. GET /webhooks, for every operation with that parameter): on a shared team those
    # are other people's webhooks (brief, Room "foreign-data"). Writes are guarded anyway.
    no_captures = {"extra-data-sources": {"responses": False}}
    return schemathesis.Config.from_dict({
        "seed": session.seed,
        "suppress-health-check": ["too_slow", "filter_too_much", "data_too_large"],
        "base-url": target.api_url(version),
        "headers": {"Authorization": f"Bearer {target.token}"},
        "request-timeout": REQUEST_TIMEOUT,
        "checks": checks,
        "generation": {
            "max-examples": profile.max_examples,
            "database": "none",  # no replay of old failures: a run is its seed, nothing else
            # Unknown query parameters and body fields are ignored by contract, so a request
            # carrying extras is not negative data (it would be a false alarm).
            "allow-extra-parameters": False,
        },
        "phases": {
            "examples": {"enabled": True, **no_captures},
            "coverage": {"enabled": profile.coverage, "unexpected-methods": UNEXPECTED_METHODS,
                         **no_captures},
            "fuzzing": {"enabled": True, **no_captures},
            # Kept on even for smoke (trap 9): the stateful items are deselected instead.
            "stateful": {"enabled": True, "max-steps": max(2, profile.stateful_max_steps)},
        },
    })


class GeneratedRun:
    """The generated tests of one session: its two schemas, the governed HTTP session every
    generated call goes through, and what the write guard re-pointed.

    Owned by the session (the plugin keeps it in config.stash); each schema carries it as
    `schema.hooks.aqid_run`, so a schemathesis hook finds the run of the case it is given
    (`run_of(case)`) and nothing lives at module level.
    """

    def __init__(self, session: SuiteSession) -> None:
        self.session = session
        self.http = GovernedSession(session.api.governor)
        self.repointed: set[str] = set()  # ids of cases the write guard sent to the absent id
        self.lock = threading.Lock()
        self.schemas: dict[str, BaseSchema] = {}
        for version, filename in SPEC_FILES.items():
            path = session.spec_dir / filename
            if not path.exists():
                continue
            schema = schemathesis.openapi.from_dict(
                without_extensions(load_yaml(path)),
                config=schemathesis_config(session, version))
            setattr(schema.hooks, RUN_ATTRIBUTE, self)
            # Schema-scoped hooks (clones share them). before_call has no schema scope in
            # schemathesis 4, so it is the one global hook below, which asks run_of(case).
            self._hook_into(schema)
            self.schemas[version] = schema

    def _hook_into(self, schema: BaseSchema) -> None:
        # Plain functions: schemathesis checks a hook's arity and marks it with attributes,
        # which a bound method cannot carry.
        def after_call(context: Any, case: Case, response: Response) -> None:
            self.after_call(context, case, response)

        def after_validate(context: Any, case: Case, response: Response,
                           results: list[Any]) -> None:
            self.after_validate(context, case, response, results)

        def filter_failure(context: Any, failure: Any, case: Case, response: Response) -> bool:
            return self.filter_failure(context, failure, case, response)

        for hook in (after_call, after_validate, filter_failure):
            schema.hook(hook)

    def schema_for(self, version: str) -> BaseSchema | None:
        return self.schemas.get(version)

    def call_and_validate(self, case: Case) -> None:
        """What each generated test does: one call through the governed session, validated.

        A 429 never reaches the checks: the session waits it out and sends again. When the
        run's rate-limit budget is spent the test is skipped with that reason (no finding).
        """
        try:
            case.call_and_validate(session=self.http)
        except RateLimitBudgetSpent as exc:
            pytest.skip(f"rate limited: {exc}")

    def stateful_test_case(self, version: str) -> type | None:
        """`schema.as_state_machine().TestCase` sized by the profile and seeded, or None."""
        schema, session = self.schemas.get(version), self.session
        if schema is None:
            return None
        machine = schema.as_state_machine()
        hypothesis.seed(session.seed)(machine)
        base = machine.TestCase
        http = self.http

        class StatefulTestCase(base):  # type: ignore[misc, valid-type]
            settings = hypothesis.settings(
                base.settings, max_examples=max(1, session.profile.stateful_examples),
                stateful_step_count=max(2, session.profile.stateful_max_steps), database=None,
            )

            def runTest(self) -> None:  # noqa: N802 - unittest's name
                try:
                    super().runTest()
                except RateLimitBudgetSpent as exc:
                    pytest.skip(f"rate limited: {exc}")
                except hypothesis.errors.FlakyStrategyDefinition:
                    # Which links apply depends on the live server's answers, so Hypothesis
                    # may fail to replay a sequence it generated (measured on `thorough`).
                    # That is no finding about the contract; a real check failure is raised
                    # as such.
                    pytest.skip("stateful: Hypothesis could not replay a sequence against the "
                                "live server (FlakyStrategyDefinition); not a contract failure")

        StatefulTestCase.__name__ = StatefulTestCase.__qualname__ = f"{version.upper()}Stateful"
        machine.get_call_kwargs = lambda self, case: {"session": http}  # type: ignore[method-assign]
        return StatefulTestCase

    # --- hooks: they see every call, generated and stateful alike --------------------------

    def before_call(self, case: Case) -> None:
        if self.session.api.interrupted:
            raise KeyboardInterrupt  # a Ctrl-C swallowed by a finaliser: stop here, not at the end
        self._log_case(case)
        self._guard_writes(case)
        self._tag_webhook_url(case)

    def after_call(self, context: schemathesis.HookContext, case: Case,
                   response: Response) -> None:
        session = self.session
        session.stats.record_call(version_of(case), case.operation.label)
        sent = response.request
        session.exchanges.record(Exchange(
            "generated", session.exchanges.current_test, case.method.upper(), str(sent.url),
            headers_of(sent.headers), _as_bytes(sent.body), response.status_code,
            headers_of(response.headers), response.content or None, response.elapsed))
        # What it created or deleted, the client's ownership record reads from the exchange.

    def after_validate(self, context: schemathesis.HookContext, case: Case, response: Response,
                       results: list[Any]) -> None:
        for result in results:
            failure = result.failure
            curl = None
            if failure is not None:
                curl = case.as_curl_command(headers=dict(response.request.headers))
            self.session.stats.record_check(version_of(case), case.operation.label,
                                            result.name, failure, curl)

    def filter_failure(self, context: schemathesis.HookContext, failure: Any, case: Case,
                       response: Response) -> bool:
        if isinstance(failure, EnsureResourceAvailability) and case.id in self.repointed:
            # The write guard sent this case to an absent id (it named no webhook of the
            # run), so its 404 says nothing about the resource the previous step created.
            return False
        return not is_false_alarm(failure, case, response)

    def _log_case(self, case: Case) -> None:
        """With AQID_CASE_LOG=path, append each generated request (as generated, before
        tagging): how the project's tests show that one --seed gives the same requests twice."""
        path = os.environ.get("AQID_CASE_LOG")
        if not path:
            return
        line = json.dumps(
            [version_of(case), case.operation.label, case.path_parameters, case.query,
             case.body if isinstance(case.body, (dict, list, str, int, float)) else None],
            sort_keys=True, default=repr)
        # A case replayed after tagging carries the run id, which is not generated.
        line = self.session.secrets(line.replace(self.session.target.run_id, "<run-id>"))
        with self.lock, open(path, "a", encoding="utf-8") as log:
            log.write(line + "\n")

    def _guard_writes(self, case: Case) -> None:
        """A generated write goes only to a webhook this run created, or to an absent id.

        Generated ids (0, 1, 2 … come up first) and ids from examples name other people's
        webhooks on a shared team (brief, Room "foreign-data": the suite never changes or
        deletes them). Any PUT/PATCH/DELETE whose id could name a webhook the run did not
        create is re-pointed at an id verified absent, in the same type, so the case keeps
        its positive or negative nature (a 404 is then the documented answer).
        """
        if case.method.upper() not in WRITE_METHODS or not case.path_parameters:
            return
        value = case.path_parameters.get("id")
        identifier = addressed_id(value)
        if identifier is None or identifier in self.session.api.owned_ids:
            return
        absent = self.session.absent_webhook_id()
        case.path_parameters["id"] = absent if isinstance(value, int) else str(absent)
        self.repointed.add(case.id)

    def _tag_webhook_url(self, case: Case) -> None:
        """Positive create/update bodies get this run's tagged URL, so leftovers can be found.

        Only positive cases: a valid URL replaced by another valid URL leaves the case
        positive (and schemathesis re-validates edits made in before_call), while a
        negative case may be negative *because of* its URL and must keep it (trap 2).
        """
        if case.method.upper() not in ("POST", "PUT", "PATCH"):
            return
        if not isinstance(case.body, dict) or not isinstance(case.body.get("url"), str):
            return
        if case.meta is None or case.meta.generation.mode != GenerationMode.POSITIVE:
            return
        label = f"{version_of(case)}-{case.method.lower()}"
        case.body["url"] = self.session.target.tagged_url(label)


def run_of(case: Case) -> GeneratedRun | None:
    """The GeneratedRun whose schema made this case (None: a schema not configured by us)."""
    run = getattr(case.operation.schema.hooks, RUN_ATTRIBUTE, None)
    return run if isinstance(run, GeneratedRun) else None


# The run whose generated test module is being imported right now (the plugin sets it just
# around that module's collection, in this context only): how contracts/test_generated.py,
# which parametrizes at import time (trap 4), gets its session's schemas without any
# module-level state.
_COLLECTING: contextvars.ContextVar[GeneratedRun] = contextvars.ContextVar("aqid_generated_run")


@contextlib.contextmanager
def collecting(run: GeneratedRun) -> Iterator[None]:
    token = _COLLECTING.set(run)
    try:
        yield
    finally:
        _COLLECTING.reset(token)


def run_being_collected() -> GeneratedRun | None:
    return _COLLECTING.get(None)


def without_extensions(node: Any) -> Any:
    """The spec without its `x-` notes (x-decision, x-room …): they document the contract
    for people, and schemathesis would otherwise treat a note inside a schema as one more
    keyword to negate (a case "violating x-room" is no negative case at all)."""
    if isinstance(node, dict):
        return {key: without_extensions(value) for key, value in node.items()
                if not (isinstance(key, str) and key.startswith("x-"))}
    if isinstance(node, list):
        return [without_extensions(item) for item in node]
    return node


class GovernedSession(requests.Session):
    """A requests session whose every send is paced and 429-retried by the run's governor
    (schemathesis' own checks re-send through the same session, so they are governed too)."""

    def __init__(self, governor: RateGovernor) -> None:
        super().__init__()
        self.governor = governor

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        def once() -> requests.Response:
            return super(GovernedSession, self).send(request, **kwargs)

        response = self.governor.send(key_for(request.headers.get("Authorization")), once,
                                      lambda r: (r.status_code, r.headers))  # type: ignore[attr-defined]
        assert isinstance(response, requests.Response)
        return response


def version_of(case: Case) -> str:
    """The API version of a case: its schema's base URL path names it."""
    base_path = urlsplit(case.operation.schema.config.base_url or "").path.rstrip("/")
    return api_version_of(base_path) or "v1"


@schemathesis.hook
def before_call(context: schemathesis.HookContext, case: Case, kwargs: dict[str, Any]) -> None:
    """Every call schemathesis makes for our schemas, its own checks' extra calls included,
    goes through the run's write guard and tagging first."""
    run = run_of(case)
    if run is not None:
        run.before_call(case)


def _as_bytes(body: Any) -> bytes | None:
    if body is None or body == b"" or body == "":
        return None
    return body.encode() if isinstance(body, str) else bytes(body)
