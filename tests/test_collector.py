"""The collector end to end in pytester: items and marks, one-line collection errors,
and the failure text (YAML lines, Where/Expected/Received, the request with its token masked).
The target is the in-memory fake API (tests/fake_api.py), put in place of the session."""

from __future__ import annotations

import fnmatch
import textwrap
from pathlib import Path

import pytest

CONFTEST = """\
import fake_api
from contract_suite.curated.collector import SESSION_OVERRIDE

FAULTS = {faults!r}


def pytest_configure(config):
    session, _ = fake_api.fake_session(*FAULTS)
    config.stash[SESSION_OVERRIDE] = session
"""
INI = """\
[pytest]
markers =
    v1: v1
    v2: v2
    cross_version: both
    writes: writes
    other_team: other team
    read_only_token: read-only token
    sandbox: sandbox
    slow: slow
"""
GOOD = """\
title: lifecycle
scenarios:
  create-and-disable:
    steps:
      - name: create
        request:
          method: POST
          path: /api/v2/webhooks
          json: {url: "{tagged_url}", events: ["*"]}
        expect: {status: 201}
        capture: {id: $.id}
      - name: disable
        request: {method: PATCH, path: "/api/v2/webhooks/{id}", json: {is_enabled: false}}
        expect:
          body: [{path: $.is_enabled, equals: false}]
      - name: read back
        request: {method: GET, path: "/api/v2/webhooks/{id}"}
        expect:
          status: 200
          body:
            - {path: $.is_enabled, equals: false}
      - request: {method: DELETE, path: "/api/v2/webhooks/{id}"}
        expect: {status: 204}
  list-only:
    steps:
      - request: {method: GET, path: /api/v2/webhooks, query: {limit: 5}}
        expect: {pagination: consistent}
  other-team:
    marks: [other_team]
    steps:
      - request: {method: GET, path: /api/v2/webhooks, credentials: other_team}
"""


@pytest.fixture
def suite(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.syspathinsert(Path(__file__).resolve().parent)
    pytester.makeini(INI)
    pytester.makeconftest(CONFTEST.format(faults=[]))
    return pytester


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest("-p", "contract_suite.curated.collector", "-p", "no:cacheprovider",
                              *args)


def test_each_scenario_is_an_item_with_its_marks(suite: pytest.Pytester) -> None:
    suite.makefile(".contract.yaml", lifecycle=GOOD)
    result = run(suite, "--collect-only", "-q", "-m", "writes and v2")
    result.stdout.fnmatch_lines(["lifecycle.contract.yaml::create-and-disable",
                                 "1/3 tests collected (2 deselected)*"])


def test_a_correct_api_passes_and_other_team_skips_without_a_token(
        suite: pytest.Pytester) -> None:
    suite.makefile(".contract.yaml", lifecycle=GOOD)
    result = run(suite, "-rs")
    result.assert_outcomes(passed=2, skipped=1)
    result.stdout.fnmatch_lines(["*needs a second team: pass --other-team-token*"])


def test_read_only_credentials_mark_the_item_and_skip_without_a_read_only_token(
        suite: pytest.Pytester) -> None:
    suite.makefile(".contract.yaml", readonly="""\
title: read-only token
scenarios:
  lists:
    steps:
      - request: {method: GET, path: /api/v2/webhooks, credentials: read_only}
""")
    result = run(suite, "-rs", "-m", "read_only_token")
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(["SKIPPED [[]1] *: needs a read-only token of the main "
                                 "team: pass --read-only-token (or AQID_READ_ONLY_TOKEN)"])


def test_a_broken_api_prints_the_step_lines_and_received_vs_expected(
        suite: pytest.Pytester) -> None:
    suite.makeconftest(CONFTEST.format(faults=["patch-not-stored"]))
    suite.makefile(".contract.yaml", lifecycle=GOOD)
    result = run(suite)
    result.assert_outcomes(passed=1, failed=1, skipped=1)
    result.stdout.fnmatch_lines([
        "Contract broken: scenario 'create-and-disable', step 3 \"read back\"",
        "  body check failed: not equal",
        "lifecycle.contract.yaml, lines 16-21:",
        "  16 |       - name: read back",
        '  17 |         request: {method: GET, path: "/api/v2/webhooks/{id}"}',
        "  21 |             - {path: $.is_enabled, equals: false}",
        "Where:    $.is_enabled",
        "Expected: false",
        "Received: true",
        "Request:  GET http://fake/api/v2/webhooks/1  (credentials: token, bearer token fake…)",
        'Response: 200 {"object":"webhook",*"secret":"fake…"*',
    ])
    text = result.stdout.str()
    assert "fake-token-abcdef" not in text
    assert "fake-secret-0123" not in text
    assert "Traceback" not in text and "contract_suite/curated/steps.py" not in text



def test_a_scenario_that_fails_deletes_its_webhooks_at_its_end(suite: pytest.Pytester) -> None:
    """The failing scenario never reaches its DELETE step: what it created goes at once,
    not at the run's end (later list walks must not see it), and only what it created."""
    suite.makeconftest(CONFTEST.format(faults=["patch-not-stored"]) + textwrap.dedent("""
        import pytest

        @pytest.hookimpl(wrapper=True)
        def pytest_runtest_call(item):
            session = item.config.stash[SESSION_OVERRIDE]
            fake = session.api._http._transport.handler.__self__
            if not fake.webhooks:  # someone else's webhook, there before the scenario
                fake.webhooks[99] = {"object": "webhook", "id": 99, "url": "https://x.test/"}
            try:
                return (yield)
            finally:
                print(f"LEFT after {item.name}: {sorted(fake.webhooks)}")
    """))
    suite.makefile(".contract.yaml", lifecycle=GOOD)
    result = run(suite, "-s", "-k", "create-and-disable")
    result.assert_outcomes(failed=1, deselected=2)
    assert "LEFT after create-and-disable: [99]" in result.stdout.str()
    deletes = [line for line in result.stdout.lines if "DELETE" in line]
    assert deletes == [], deletes  # the tidy-up is not a contract step: nothing reported


@pytest.mark.parametrize(("contract", "message"), [
    (GOOD.replace("expect: {status: 201}", "expct: {status: 201}"),
     "contract file error: bad.contract.yaml:10: unknown key 'expct' at "
     "scenarios.create-and-disable.steps[0] (allowed: capture, expect, name, only_if, pause, "
     "reason, request, spec, walk_pages)"),
    (GOOD.replace("{path: $.is_enabled, equals: false}]", "{path: $.is_enabled, same: false}]"),
     "contract file error: bad.contract.yaml:15: unknown key 'same' at "
     "scenarios.create-and-disable.steps[1].expect.body[0] (allowed: each, equals, "
     "equals_capture, has_key_matching, instant, length, matching_items, not_equals, one_of, "
     "path, present, regex, same_items, same_webhook_as, subset, type)"),
    (GOOD.replace('"/api/v2/webhooks/{id}", json', '"/api/v2/webhooks/{webhook}", json'),
     "contract file error: bad.contract.yaml:13: step 2 of scenario 'create-and-disable': "
     "undefined placeholder {webhook} (capture it in an earlier step, or use one of: "
     "absent_id, base_url, id, run_id, tagged_url)"),
    (GOOD.replace("method: PATCH", "method: PUT"),
     "contract file error: bad.contract.yaml:13: step 2 of scenario 'create-and-disable': "
     "PUT /api/v2/webhooks/{id} is not in the spec (documented methods: GET, PATCH, DELETE); "
     "fix the path or method, or add `spec: {skip: <why>}` to the step for a deliberately "
     "undocumented request"),
    (GOOD.replace("path: /api/v2/webhooks, query", "path: /api/v2/hooks, query"),
     "contract file error: bad.contract.yaml:26: step 1 of scenario 'list-only': "
     "GET /api/v2/hooks is not in the spec (no spec has this path); *"),
    (GOOD.replace("  list-only:", "  list-only: [\n"),
     "contract file error: bad.contract.yaml:*: not valid YAML: *(fix the YAML at this line)"),
], ids=["unknown-key", "unknown-matcher", "undefined-placeholder", "method-not-in-spec",
        "path-not-in-spec", "yaml-syntax"])
def test_a_malformed_file_is_one_clear_collection_error(
        suite: pytest.Pytester, contract: str, message: str) -> None:
    suite.makefile(".contract.yaml", bad=contract)
    result = run(suite)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*ERROR collecting bad.contract.yaml*"])
    lines = result.stdout.lines
    error_line = lines[lines.index(next(x for x in lines if "ERROR collecting" in x)) + 1]
    assert fnmatch.fnmatchcase(error_line, message.replace("[", "[[]")), error_line
    text = result.stdout.str()
    assert "Traceback" not in text and "contract_suite/" not in text


def test_only_double_suffix_files_are_collected(suite: pytest.Pytester) -> None:
    suite.makefile(".yaml", plain=textwrap.dedent("scenarios: {}\n"))
    result = run(suite, "--collect-only", "-q")
    result.stdout.fnmatch_lines(["no tests collected*"])
