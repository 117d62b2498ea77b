"""The delivery fixtures against a stand-in session (httpx.MockTransport, no server)."""

from __future__ import annotations

import socket

import pytest

# The stand-in: a SuiteSession whose client answers GET /_sandbox from SANDBOX (None: 404)
# and counts those requests, so a test can see how many the fixtures made.
CONFTEST = '''
import httpx
import pytest

from contract_suite.http import ApiClient
from contract_suite.options import Options
from contract_suite.session import SuiteSession
from contract_suite.target import Target

SANDBOX = {sandbox!r}
sandbox_gets = []


def answer(request):
    if request.url.path == "/_sandbox":
        sandbox_gets.append(request)
        return httpx.Response(404 if SANDBOX is None else 200,
                              json={{"error": "Not Found."}} if SANDBOX is None else SANDBOX)
    return httpx.Response(404, json={{"error": "Not Found."}})


@pytest.fixture(scope="session")
def suite_session():
    target = Target(base_url="http://127.0.0.1:9", token="tok-0123456789")
    options = Options(base_url=target.base_url, token=target.token, other_team_token=None,
                      receiver_url=None, api_versions=frozenset({{"v2"}}), profile="ci",
                      read_only=False, seed=1, allow_production=False)
    session = SuiteSession(target, options, seed=1)
    session.api = ApiClient(target, transport=httpx.MockTransport(answer))
    return session
'''

TESTS = '''
import pytest

from conftest import sandbox_gets


def test_timing_comes_from_the_sessions_one_get(delivery_timing, suite_session):
    expected = suite_session.sandbox
    assert len(sandbox_gets) == 1, "delivery_timing and session.sandbox share one GET /_sandbox"
    print(f"TIMING {delivery_timing.retry_delays} {delivery_timing.timeout} "
          f"{delivery_timing.disable_after} SANDBOX {expected is not None}")
'''


def run_with_sandbox(pytester: pytest.Pytester, sandbox: dict | None) -> pytest.RunResult:
    pytester.makeconftest(CONFTEST.format(sandbox=sandbox))
    pytester.makepyfile(test_timing=TESTS)
    return pytester.runpytest("-p", "contract_suite.delivery_fixtures", "-p", "no:cacheprovider",
                              "-s", "-q")


def test_delivery_timing_uses_the_sessions_sandbox_settings_with_one_request(
        pytester: pytest.Pytester) -> None:
    sandbox = {"retry_delays": [0.5, 1], "timeout": 2, "disable_after": 3}
    result = run_with_sandbox(pytester, sandbox)
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*TIMING (0.5, 1.0) 2.0 3 SANDBOX True*"])


def test_without_a_sandbox_delivery_timing_uses_the_briefs_production_schedule(
        pytester: pytest.Pytester) -> None:
    result = run_with_sandbox(pytester, None)
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*TIMING (60.0, 120.0, 600.0, 900.0) 5.0 10 SANDBOX False*"])


RECEIVER_CONFTEST = '''
import pytest

from contract_suite.target import Target


@pytest.fixture(scope="session")
def target():
    return Target(base_url="http://127.0.0.1:9", token="tok-0123456789", receiver_port={port})
'''

RECEIVER_TEST = '''
def test_bound(webhook_receiver):
    print("RECEIVER", webhook_receiver.local_url)
'''


def run_receiver(pytester: pytest.Pytester, port: int) -> pytest.RunResult:
    pytester.makeconftest(RECEIVER_CONFTEST.format(port=port))
    pytester.makepyfile(test_receiver_port=RECEIVER_TEST)
    return pytester.runpytest("-p", "contract_suite.delivery_fixtures", "-p", "no:cacheprovider",
                              "-s", "-q")


def test_the_receiver_binds_the_receiver_port_on_loopback(pytester: pytest.Pytester) -> None:
    with socket.socket() as probe:  # a port that was free a moment ago
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = run_receiver(pytester, port)
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines([f"*RECEIVER http://127.0.0.1:{port}*"])


def test_a_receiver_port_in_use_fails_with_one_line(pytester: pytest.Pytester) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run_receiver(pytester, port)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([f"*delivery contracts: the receiver cannot bind 127.0.0.1:{port} "
                                 "(*); free the port or pass another --receiver-port"])
    assert "Traceback" not in result.stdout.str()
