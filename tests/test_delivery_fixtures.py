"""The delivery fixtures (and the library under them) against a stand-in session.

The session's client answers from httpx.MockTransport; the only server is the receiver.
"""

from __future__ import annotations

import socket

import pytest

# The stand-in: a SuiteSession whose client answers GET /_sandbox from SANDBOX (None: 404)
# and counts those requests, so a test can see how many the fixtures made.
CONFTEST = '''
import httpx
import pytest

from contract_suite.core.http import ApiClient
from contract_suite.core.options import Options
from contract_suite.core.session import SuiteSession
from contract_suite.core.target import Target

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
                      no_writes=False, seed=1, allow_production=False)
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
    return pytester.runpytest("-p", "contract_suite.deliveries.fixtures", "-p", "no:cacheprovider",
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

from contract_suite.core.options import Options
from contract_suite.core.session import SuiteSession
from contract_suite.core.target import Target


@pytest.fixture(scope="session")
def suite_session():
    target = Target(base_url="http://127.0.0.1:9", token="tok-0123456789", receiver_port={port})
    options = Options(base_url=target.base_url, token=target.token, other_team_token=None,
                      receiver_url=None, api_versions=frozenset({{"v2"}}), profile="ci",
                      no_writes=False, seed=1, allow_production=False)
    return SuiteSession(target, options, seed=1)
'''

RECEIVER_TEST = '''
def test_bound(webhook_receiver):
    print("RECEIVER", webhook_receiver.local_url)
'''


def run_receiver(pytester: pytest.Pytester, port: int) -> pytest.RunResult:
    pytester.makeconftest(RECEIVER_CONFTEST.format(port=port))
    pytester.makepyfile(test_receiver_port=RECEIVER_TEST)
    return pytester.runpytest("-p", "contract_suite.deliveries.fixtures", "-p", "no:cacheprovider",
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


@pytest.mark.parametrize(("delays", "timeout", "interval"), [
    ((0.05, 0.05), 1.0, 0.2),  # never under MIN_POLL, however tiny the delays
    ((1.0, 2.0), 1.0, 0.5),  # half the shortest retry delay
    ((60.0, 120.0), 5.0, 2.0),  # never over MAX_POLL: a slow schedule still polls
    ((), 0.3, 0.2),  # no retries: from the timeout
])
def test_poll_spacing_comes_from_the_reported_retry_delays_within_bounds(
    delays: tuple[float, ...], timeout: float, interval: float,
) -> None:
    from contract_suite.deliveries.timing import DeliveryTiming

    assert DeliveryTiming(delays, timeout, 3).poll_interval == pytest.approx(interval)


def test_a_log_poll_is_spaced_bounded_and_asks_for_an_explicit_page_size() -> None:
    import time

    import httpx

    from contract_suite.core.http import ApiClient
    from contract_suite.core.target import Target
    from contract_suite.deliveries.log import poll_delivery_log
    from contract_suite.deliveries.timing import DeliveryTiming

    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"data": [{"uuid": "u1", "attempts": 1}]})

    target = Target(base_url="http://127.0.0.1:9", token="tok-0123456789")
    api = ApiClient(target, transport=httpx.MockTransport(answer))
    timing = DeliveryTiming((0.4,), 1.0, 3)  # polls 0.2 s apart
    started = time.monotonic()
    entries, settled = poll_delivery_log(api, 7, timing, lambda log: log["u1"]["attempts"] == 2,
                                         within=1.0)
    elapsed = time.monotonic() - started
    assert not settled and entries == [{"uuid": "u1", "attempts": 1}]
    assert elapsed < 1.5 and 4 <= len(seen) <= 6, (elapsed, len(seen))
    assert {r.url.path for r in seen} == {"/api/v2/webhooks/7/deliveries"}
    assert {r.url.params.get("limit") for r in seen} == {"100"}
    _, settled = poll_delivery_log(api, 7, timing, lambda log: "u1" in log, within=1.0)
    assert settled and len(seen) <= 7  # settled at once: one more request


TEARDOWN_CONFTEST = '''
import httpx
import pytest

from contract_suite.core.http import ApiClient
from contract_suite.core.options import Options
from contract_suite.core.ratelimit import RateGovernor
from contract_suite.core.session import SuiteSession
from contract_suite.core.target import Target

calls = []


def answer(request):
    calls.append(f"{request.method} {request.url.path}")
    if request.method == "POST":
        return httpx.Response(201, json={"id": 100 + len(calls), "uuid":
                              "db6a2d91-b67e-4f88-b71a-b73da98c5168", "secret": "s3cr3t-value"})
    if request.url.path.endswith("/101"):
        raise httpx.ConnectError("connection reset")
    if request.url.path.endswith("/102"):
        return httpx.Response(500, json={})
    if request.url.path.endswith("/103"):  # a rate limit longer than the client waits
        return httpx.Response(429, headers={"Retry-After": "600"}, json={})
    return httpx.Response(204)


@pytest.fixture(scope="session")
def target():
    return Target(base_url="http://127.0.0.1:9", token="tok-0123456789",
                  api_versions=frozenset({"v2"}))


@pytest.fixture(scope="session")
def suite_session(target):  # the receiver's: only its exchange log is used
    options = Options(base_url=target.base_url, token=target.token, other_team_token=None,
                      receiver_url=None, api_versions=frozenset({"v2"}), profile="ci",
                      no_writes=False, seed=1, allow_production=False)
    return SuiteSession(target, options, seed=1)


@pytest.fixture(scope="session")
def api(target):
    # A wait budget of 1 s: the 429 below (Retry-After 600) is given up at once.
    return ApiClient(target, transport=httpx.MockTransport(answer),
                     governor=RateGovernor(budget=1.0))


def pytest_sessionfinish(session):
    print("CALLS", calls)
'''

TEARDOWN_TEST = '''
def test_makes_four_then_fails(subscribed_webhook):
    for name in ("a", "b", "c", "d"):
        subscribed_webhook(["*"], name=name)
    raise AssertionError("the contract failed")
'''


def test_teardown_deletes_every_webhook_it_made_even_past_failing_deletes(
        pytester: pytest.Pytester) -> None:
    pytester.makeconftest(TEARDOWN_CONFTEST)
    pytester.makepyfile(test_teardown=TEARDOWN_TEST)
    result = pytester.runpytest("-p", "contract_suite.deliveries.fixtures",
                                "-p", "no:cacheprovider",
                                "-s", "-q")
    result.assert_outcomes(failed=1, errors=1)  # the project's filterwarnings = error
    output = result.stdout.str()
    creates = ["POST /api/v2/webhooks"] * 4
    deletes = [f"DELETE /api/v2/webhooks/{n}" for n in (101, 102, 103, 104)]
    assert f"CALLS {creates + deletes}" in output, output[-2000:]
    # 103's 429 is left to the session-end cleanup, unsaid; the others are named.
    assert ("could not delete webhook(s) 101 (token: ConnectError), 102 (token: 500) at "
            "http://127.0.0.1:9; the session-end cleanup retries") in output, output[-2000:]


FOREIGN_CONFTEST = '''
import httpx
import pytest

from contract_suite.core.http import ApiClient
from contract_suite.core.options import Options
from contract_suite.core.session import SuiteSession
from contract_suite.core.target import Target

RUN = "r1d2c3"
LISTED = {listed!r}
fired = []


def answer(request):
    if request.url.path == "/_sandbox":
        return httpx.Response(200, json={{"retry_delays": [0.1], "timeout": 1,
                                          "disable_after": 3}})
    if request.url.path == "/api/v2/webhooks":
        assert request.url.params["enabled"] == "true" and request.url.params["limit"] == "100"
        return httpx.Response(200, json={{"object": "paginated_list", "data": LISTED,
                                          "total_pages": 1}})
    if request.url.path == "/_sandbox/events":
        fired.append(request)
        return httpx.Response(202, json={{"deliveries": 57}})  # the whole team's, not ours
    return httpx.Response(404, json={{"error": "Not Found."}})


@pytest.fixture(scope="session")
def suite_session():
    target = Target(base_url="http://127.0.0.1:9", token="tok-0123456789", run_id=RUN,
                    api_versions=frozenset({{"v2"}}))
    options = Options(base_url=target.base_url, token=target.token, other_team_token=None,
                      receiver_url=None, api_versions=frozenset({{"v2"}}), profile="ci",
                      no_writes=False, seed=1, allow_production=False)
    session = SuiteSession(target, options, seed=1)
    session.api = ApiClient(target, transport=httpx.MockTransport(answer))
    return session


@pytest.fixture(scope="session")
def api(suite_session):
    return suite_session.api
'''

FOREIGN_TEST = '''
from conftest import fired


def test_fire(fire_event):
    count = fire_event("case.created")
    print("FIRED", len(fired), "COUNT", count)
'''


def run_fire(pytester: pytest.Pytester, listed: list[dict]) -> pytest.RunResult:
    pytester.makeconftest(FOREIGN_CONFTEST.format(listed=listed))
    pytester.makepyfile(test_fire=FOREIGN_TEST)
    return pytester.runpytest("-p", "contract_suite.deliveries.fixtures", "-p", "no:cacheprovider",
                              "-s", "-q", "-rs")


def hook_of(hook_id: int, events: list[str], url: str, enabled: bool = True) -> dict:
    return {"id": hook_id, "events": events, "url": url, "is_enabled": enabled}


def test_an_event_no_foreign_webhook_matches_is_fired_and_a_larger_fan_out_count_passes(
        pytester: pytest.Pytester) -> None:
    listed = [hook_of(1, ["*"], "http://127.0.0.1:5/aqid-contracts/r1d2c3/star-1-abc"),  # ours
              hook_of(2, ["client.*", "record.created"], "https://hooks.invalid/a"),
              hook_of(3, ["*"], "https://hooks.invalid/b", enabled=False)]
    result = run_fire(pytester, listed)
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*FIRED 1 COUNT 57*"])


def test_an_event_that_would_reach_a_foreign_webhook_is_not_fired(
        pytester: pytest.Pytester) -> None:
    listed = [hook_of(7, ["case.*"], "https://hooks.invalid/c"),
              hook_of(8, ["*"], "http://127.0.0.1:5/aqid-contracts/another-run/x")]
    result = run_fire(pytester, listed)
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(["*firing case.created through POST /_sandbox/events would also "
                                 "deliver to 2 enabled webhook(s) of this team that the run did "
                                 "not create (ids 7, 8)*room foreign-data*"])
    assert "FIRED" not in result.stdout.str()


EXCHANGES_CONFTEST = RECEIVER_CONFTEST.format(port=0) + '''

seen = []


@pytest.fixture(scope="session", autouse=True)
def observe(suite_session):
    suite_session.exchanges.subscribe(seen.append)


@pytest.fixture(autouse=True)
def current_test(suite_session, request):  # what the plugin does around each test
    suite_session.exchanges.current_test = request.node.nodeid
    yield
    suite_session.exchanges.current_test = None


def pytest_sessionfinish(session):
    for exchange in seen:
        print("EXCHANGE", exchange.kind, exchange.test, exchange.method, exchange.url,
              exchange.status, exchange.request_body, exchange.header("X-AQID-Delivery-Id",
                                                                      response=False))
'''

# http.client, not httpx: httpx imports httpcore on first real use, and an in-process run
# drops the modules it imported, leaving httpx mapping exceptions of a stale httpcore.
EXCHANGES_TEST = '''
import http.client
from urllib.parse import urlsplit


def test_a_delivery_arrives(receiver_endpoint):
    endpoint = receiver_endpoint(500)
    print("ENDPOINT", endpoint.url)
    url = urlsplit(endpoint.url)
    for attempt in ("1", "2"):  # what the target does: a failed attempt, then a retry
        connection = http.client.HTTPConnection(url.hostname, url.port, timeout=5)
        connection.request("POST", url.path, body=b'{"trigger": {"alias": "ping"}}',
                           headers={"X-AQID-Delivery-Id": "d-1",
                                    "X-AQID-Delivery-Attempt": attempt})
        connection.getresponse().read()
        connection.close()
    endpoint.wait(2, timeout=5)
'''


def test_each_delivery_the_receiver_gets_is_an_exchange_of_the_test_running_then(
        pytester: pytest.Pytester) -> None:
    pytester.makeconftest(EXCHANGES_CONFTEST)
    pytester.makepyfile(test_exchanges=EXCHANGES_TEST)
    result = pytester.runpytest_inprocess("-p", "contract_suite.deliveries.fixtures",
                                          "-p", "no:cacheprovider", "-s", "-q")
    result.assert_outcomes(passed=1)
    url = next(line.split()[-1] for line in result.outlines if line.startswith("ENDPOINT"))
    exchanges = [line[line.index("EXCHANGE"):] for line in result.outlines if "EXCHANGE" in line]
    test = "test_exchanges.py::test_a_delivery_arrives"
    body = """b'{"trigger": {"alias": "ping"}}'"""
    assert exchanges == [f"EXCHANGE delivery {test} POST {url} 500 {body} d-1",
                         f"EXCHANGE delivery {test} POST {url} 204 {body} d-1"], result.outlines
