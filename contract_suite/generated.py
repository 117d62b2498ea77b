"""Schemathesis wiring: the two specs, configured for this run's target, profile and seed.

`configure(session)` runs from the plugin's pytest_collect_file when, and only when,
contracts/test_generated.py is collected (in every process that collects it: each xdist
worker), BEFORE that module is imported: it then parametrizes over schemas that already
know their base URL, auth, phases and seed, which gives one pytest item per operation
(SCHEMATHESIS-NOTES trap 4) and works under -n. Runs without the generated tests never
import this module (start-up cost, trap 13).

Auth goes in the schema config's `headers`, never in call_and_validate(headers=...)
(trap 2: schemathesis would re-authenticate its own "no auth" cases).
"""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import hypothesis
import hypothesis.errors
import pytest
import schemathesis
from schemathesis import Case, Response
from schemathesis.generation import GenerationMode

from . import checks as custom_checks
from .exclusions import is_false_alarm
from .redact import redactor
from .reporting import stats

if TYPE_CHECKING:
    from schemathesis.schemas import BaseSchema

    from .session import SuiteSession

SPEC_FILES = {"v1": "v1.yaml", "v2": "v2.yaml"}
MAX_RATE_LIMIT_PAUSE = 60.0  # seconds; a longer Retry-After is not waited out
REQUEST_TIMEOUT = 20.0

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


class _State:
    schemas: dict[str, BaseSchema] = {}
    session: SuiteSession | None = None
    pause_until = 0.0
    lock = threading.Lock()


state = _State()


def schemathesis_config(session: SuiteSession, version: str) -> schemathesis.Config:
    profile, target = session.profile, session.target
    checks: dict[str, Any] = {name: {"enabled": True} for name in BUILTIN_CHECKS}
    checks.update({name: {"enabled": False} for name in OFF_CHECKS})
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
            "examples": {"enabled": True},
            "coverage": {"enabled": profile.coverage, "unexpected-methods": UNEXPECTED_METHODS},
            "fuzzing": {"enabled": True},
            # Kept on even for smoke (trap 9): the stateful items are deselected instead.
            "stateful": {"enabled": True, "max-steps": max(2, profile.stateful_max_steps)},
        },
    })


def configure(session: SuiteSession) -> dict[str, BaseSchema]:
    """Load both specs for this target (idempotent per process)."""
    if state.session is session:
        return state.schemas
    state.session = session
    custom_checks.credentials.authorization = f"Bearer {session.target.token}"
    state.schemas = {}
    for version, filename in SPEC_FILES.items():
        path = session.spec_dir / filename
        if not path.exists():
            continue
        schema = schemathesis.openapi.from_path(path, config=schemathesis_config(session, version))
        state.schemas[version] = schema
    return state.schemas


def schema_for(version: str) -> BaseSchema | None:
    return state.schemas.get(version)


def stateful_test_case(version: str) -> type | None:
    """`schema.as_state_machine().TestCase` sized by the profile and seeded, or None."""
    schema, session = state.schemas.get(version), state.session
    if schema is None or session is None:
        return None
    machine = schema.as_state_machine()
    hypothesis.seed(session.seed)(machine)
    base = machine.TestCase

    class StatefulTestCase(base):  # type: ignore[misc, valid-type]
        settings = hypothesis.settings(
            base.settings, max_examples=max(1, session.profile.stateful_examples),
            stateful_step_count=max(2, session.profile.stateful_max_steps), database=None,
        )

        def runTest(self) -> None:  # noqa: N802 - unittest's name
            try:
                super().runTest()
            except hypothesis.errors.FlakyStrategyDefinition:
                # Which links apply depends on the live server's answers, so Hypothesis may
                # fail to replay a sequence it generated (measured on `thorough`). That is
                # no finding about the contract; a real check failure is raised as such.
                pytest.skip("stateful: Hypothesis could not replay a sequence against the live "
                            "server (FlakyStrategyDefinition); not a contract failure")

    StatefulTestCase.__name__ = StatefulTestCase.__qualname__ = f"{version.upper()}Stateful"
    return StatefulTestCase


def version_of(case: Case) -> str:
    # The schema a case carries may be a per-test copy; its base URL names the version.
    base_url = case.operation.schema.config.base_url or ""
    return "v2" if base_url.rstrip("/").endswith("/v2") else "v1"


def spec_path(session: SuiteSession, version: str) -> Path:
    return session.spec_dir / SPEC_FILES[version]


# --- hooks: they see every call, generated and stateful alike -----------------------------


@schemathesis.hook
def before_call(context: schemathesis.HookContext, case: Case, kwargs: dict[str, Any]) -> None:
    _wait_out_rate_limit()
    _log_case(case)
    _tag_webhook_url(case)


@schemathesis.hook
def after_call(context: schemathesis.HookContext, case: Case, response: Response) -> None:
    session = state.session
    _remember_secrets(response)
    if response.status_code == 429:
        _pause_for(response)
    if session is None:
        return
    stats.record_call(version_of(case), case.operation.label)
    webhook_id = _created_id(case, response)
    if webhook_id is not None:
        session.api.created_ids.add(webhook_id)
    elif case.method.upper() == "DELETE" and 200 <= response.status_code < 300:
        identifier = case.path_parameters.get("id") if case.path_parameters else None
        if isinstance(identifier, int):
            session.api.created_ids.discard(identifier)


@schemathesis.hook
def after_validate(context: schemathesis.HookContext, case: Case, response: Response,
                   results: list[Any]) -> None:
    for result in results:
        failure = result.failure
        curl = None
        if failure is not None:
            curl = case.as_curl_command(headers=dict(response.request.headers))
        stats.record_check(version_of(case), case.operation.label, result.name, failure, curl)


@schemathesis.hook
def filter_failure(context: schemathesis.HookContext, failure: Any, case: Case,
                   response: Response) -> bool:
    return not is_false_alarm(failure, case, response)


def _log_case(case: Case) -> None:
    """With AQID_CASE_LOG=path, append each generated request (as generated, before tagging):
    how the project's tests show that one --seed gives the same requests twice."""
    path = os.environ.get("AQID_CASE_LOG")
    if not path:
        return
    line = json.dumps([version_of(case), case.operation.label, case.path_parameters, case.query,
                       case.body if isinstance(case.body, (dict, list, str, int, float)) else None],
                      sort_keys=True, default=repr)
    if state.session is not None:  # a case replayed after tagging: the run id is not generated
        line = line.replace(state.session.target.run_id, "<run-id>")
    with state.lock, open(path, "a", encoding="utf-8") as log:
        log.write(redactor(line) + "\n")


def _tag_webhook_url(case: Case) -> None:
    """Positive create/update bodies get this run's tagged URL, so leftovers can be found.

    Only positive cases: a valid URL replaced by another valid URL leaves the case
    positive (and schemathesis re-validates edits made in before_call), while a
    negative case may be negative *because of* its URL and must keep it (trap 2).
    """
    session = state.session
    if session is None or case.method.upper() not in ("POST", "PUT", "PATCH"):
        return
    if not isinstance(case.body, dict) or not isinstance(case.body.get("url"), str):
        return
    if case.meta is None or case.meta.generation.mode != GenerationMode.POSITIVE:
        return
    case.body["url"] = session.target.tagged_url(f"{version_of(case)}-{case.method.lower()}")


def _created_id(case: Case, response: Response) -> int | None:
    if case.method.upper() != "POST" or response.status_code != 201:
        return None
    try:
        body = response.json()
    except Exception:  # noqa: BLE001 - a non-JSON 201 is for the checks to report
        return None
    value = body.get("id") if isinstance(body, dict) else None
    return value if isinstance(value, int) else None


def _remember_secrets(response: Response) -> None:
    """Register every webhook `secret` seen, so no report shows one in full."""
    try:
        body = response.json()
    except Exception:  # noqa: BLE001
        return
    items = body.get("data") if isinstance(body, dict) and "data" in body else body
    for item in items if isinstance(items, list) else [items]:
        if isinstance(item, dict) and isinstance(item.get("secret"), str):
            redactor.add(item["secret"])


def _pause_for(response: Response) -> None:
    values = response.headers.get("retry-after") or ["1"]
    try:
        delay = min(float(values[0]), MAX_RATE_LIMIT_PAUSE)
    except ValueError:
        delay = 1.0
    with state.lock:
        state.pause_until = max(state.pause_until, time.monotonic() + delay)


def _wait_out_rate_limit() -> None:
    """After a 429, later calls wait for Retry-After (bounded): the limit is not the contract."""
    remaining = state.pause_until - time.monotonic()
    if remaining > 0:
        time.sleep(min(remaining, MAX_RATE_LIMIT_PAUSE))
