"""The checks made before any generated request: production guard, URL shape, the probe.

No network: a closed loopback port, and httpx.MockTransport targets for every answer.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from contract_suite.core.probe import (
    PROBE_429_TRIES,
    PROBE_429_WAIT,
    ProbeFailure,
    ProbeResult,
    probe_target,
    production_refusal,
    url_problem,
)
from reference_server.launcher import start_reference_server

TOKEN = "probe-token-0123456789abcdef"
BASE = "http://target.invalid"  # MockTransport only: never resolved, never connected to
E2E_TOKEN = "probe-e2e-token-5f2a9c0d8e7b6a1f"
ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("url", ["https://id.amiqus.co", "https://ID.amiqus.co/",
                                 "https://eu.id.amiqus.co", "http://id.amiqus.co:8443"])
def test_production_host_is_refused_without_allow_production(url: str) -> None:
    reason = production_refusal(url, allow_production=False, no_writes=True)
    assert reason is not None and "--allow-production" in reason


def test_production_host_needs_no_writes_even_when_allowed() -> None:
    reason = production_refusal("https://id.amiqus.co", allow_production=True, no_writes=False)
    assert reason is not None and "--no-writes" in reason
    assert production_refusal("https://id.amiqus.co", allow_production=True, no_writes=True) is None


@pytest.mark.parametrize("url", ["https://staging.amiqus.example", "http://127.0.0.1:8000",
                                 "https://notid.amiqus.co.example", "https://id.amiqus.com"])
def test_other_hosts_are_not_production(url: str) -> None:
    assert production_refusal(url, allow_production=False, no_writes=False) is None


@pytest.mark.parametrize("url", ["127.0.0.1:8000", "ftp://host", "http://127.0.0.1:8000/api/v2"])
def test_malformed_base_urls_are_named(url: str) -> None:
    assert url_problem(url) is not None


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_unreachable_target_is_one_line_naming_it() -> None:
    base_url = f"http://127.0.0.1:{_closed_port()}"
    with pytest.raises(ProbeFailure) as failure:
        probe_target(base_url, TOKEN)
    message = str(failure.value)
    assert message.count("\n") == 0
    assert f"target {base_url} is unreachable (connection refused)" in message


def _probe(handler, **kwargs):
    """probe_target against a MockTransport target (no network); returns (result, requests)."""
    sent: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return handler(request)

    result = probe_target(BASE, TOKEN, transport=httpx.MockTransport(record), **kwargs)
    return result, sent


def _failure(handler, **kwargs) -> str:
    with pytest.raises(ProbeFailure) as failure:
        _probe(handler, **kwargs)
    return str(failure.value)


def _answer(status: int, body: bytes = b"", content_type: str = "application/json",
            **headers: str):
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, content=body, headers={
            "Content-Type": content_type, **{k.replace("_", "-"): v for k, v in headers.items()}})
    return handler


def _answers(*handlers):
    """A target answering with each handler in turn, the last one for ever after."""
    queue = list(handlers)

    def handler(request: httpx.Request) -> httpx.Response:
        return (queue.pop(0) if len(queue) > 1 else queue[0])(request)
    return handler


JSON_LIST = b'{"object": "paginated_list", "data": [], "total_pages": 1}'
RATE = {"X_RateLimit_Limit": "200", "X_RateLimit_Remaining": "199",
        "X_RateLimit_Reset": "1767225600"}


def test_html_instead_of_json_is_named() -> None:
    message = _failure(_answer(200, b"<html><body>Welcome</body></html>", "text/html"))
    assert "answered 200 with an HTML page on GET /api/v2/webhooks" in message


def test_refused_token_is_named_and_masked() -> None:
    message = _failure(_answer(401, b'{"error": "Unauthenticated."}'), who="--other-team-token")
    assert "refused --other-team-token (prob…) with 401" in message
    assert TOKEN not in message


def test_a_json_list_passes_the_probe_with_one_request() -> None:
    _, sent = _probe(_answer(200, JSON_LIST))
    assert [(r.method, r.url.path, dict(r.url.params)) for r in sent] == [
        ("GET", "/api/v2/webhooks", {"limit": "1"})]


def test_the_probe_returns_the_rate_limit_headers_it_saw() -> None:
    result, _ = _probe(_answer(200, JSON_LIST, **RATE))
    assert result == ProbeResult(rate_limit=200, rate_remaining=199, rate_reset=1767225600.0)


def test_absent_or_unreadable_rate_limit_headers_are_none() -> None:
    result, _ = _probe(_answer(200, JSON_LIST, X_RateLimit_Limit="lots"))
    assert result == ProbeResult(None, None, None)


def test_a_429_is_waited_out_per_retry_after_and_the_probe_passes() -> None:
    slept: list[float] = []
    result, sent = _probe(_answers(_answer(429, b'{"message": "Too Many Attempts."}',
                                           Retry_After="3", X_RateLimit_Limit="200",
                                           X_RateLimit_Remaining="0"),
                                   _answer(200, JSON_LIST, **RATE)), sleep=slept.append)
    assert slept == [3.0]
    assert len(sent) == 2
    assert result.rate_remaining == 199  # from the answer that passed, not the 429


def test_a_429_without_retry_after_waits_until_the_reset_time() -> None:
    slept: list[float] = []
    reset = str(int(time.time()) + 5)
    _probe(_answers(_answer(429, X_RateLimit_Reset=reset), _answer(200, JSON_LIST)),
           sleep=slept.append)
    assert len(slept) == 1 and 3.0 <= slept[0] <= 5.0


def test_a_target_still_rate_limiting_after_the_bound_is_named_with_its_retry_after() -> None:
    slept: list[float] = []
    message = _failure(_answer(429, Retry_After="20"), sleep=slept.append)
    assert sum(slept) <= PROBE_429_WAIT and slept == [20.0, 20.0, 20.0]
    assert "still answered 429 to --token (prob…) on GET /api/v2/webhooks" in message
    assert "after 60 s of waiting: rate limited: retry after 20 s" in message


def test_the_429_retries_are_bounded_in_count_too() -> None:
    slept: list[float] = []
    with pytest.raises(ProbeFailure, match="rate limited: retry after 1 s"):
        _probe(_answer(429, Retry_After="1"), sleep=slept.append)
    assert len(slept) == PROBE_429_TRIES


def test_a_retry_after_beyond_the_bound_fails_at_once_naming_the_seconds() -> None:
    slept: list[float] = []
    message = _failure(_answer(429, Retry_After="120"), sleep=slept.append)
    assert slept == []
    assert "after 0 s of waiting: rate limited: retry after 120 s" in message


def test_a_5xx_says_the_target_is_failing_with_its_masked_message() -> None:
    body = json.dumps({"message": f"upstream down for Bearer {TOKEN}\nretry later"}).encode()
    message = _failure(_answer(503, body))
    assert (f"target {BASE} is failing: GET /api/v2/webhooks answered 503 "
            '("upstream down for Bearer prob… retry later")') in message
    assert TOKEN not in message and "not the JSON list" not in message


def test_a_5xx_without_a_json_message_names_the_status_alone() -> None:
    message = _failure(_answer(500, b"<h1>Internal Server Error</h1>", "text/html"))
    assert "is failing: GET /api/v2/webhooks answered 500 — check the target's logs" in message


def test_a_long_5xx_message_is_cut_short() -> None:
    message = _failure(_answer(502, json.dumps({"error": "x" * 500}).encode()))
    assert "x" * 79 + "…" in message and "x" * 80 not in message


def test_a_redirect_is_not_followed_and_names_the_base_url_it_points_to() -> None:
    location = "https://api.example.invalid/api/v2/webhooks?limit=1"
    message = _failure(_answer(301, Location=location))
    _check_one_request_on_redirect(location)
    assert (f"answered 301 redirecting to {location} on GET /api/v2/webhooks — use "
            "https://api.example.invalid as --base-url?") in message


def _check_one_request_on_redirect(location: str) -> None:
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(301, headers={"Location": location})

    with pytest.raises(ProbeFailure):
        probe_target(BASE, TOKEN, transport=httpx.MockTransport(handler))
    assert len(sent) == 1


def test_a_redirect_elsewhere_names_where_it_points() -> None:
    message = _failure(_answer(302, Location="/login"))
    assert (f"answered 302 redirecting to {BASE}/login on GET /api/v2/webhooks — use that "
            "host as --base-url?") in message


def test_a_404_asks_whether_the_base_url_is_the_api_host() -> None:
    message = _failure(_answer(404, b'{"message": "Not Found"}'))
    assert "answered 404 with application/json on GET /api/v2/webhooks" in message
    assert "is --base-url the API host (without /api)?" in message


def test_a_json_list_labelled_text_html_starts_the_run() -> None:
    # A broken contract for the generated tests to report (exit 1), not a wrong target.
    result, _ = _probe(_answer(200, JSON_LIST, "text/html; charset=UTF-8", **RATE))
    assert result.rate_limit == 200


def test_invalid_json_labelled_json_is_named() -> None:
    assert "answered invalid JSON on GET /api/v2/webhooks" in _failure(_answer(200, b"{oops"))


def test_the_v1_probe_lists_v1_webhooks() -> None:
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json={"data": []})

    probe_target(BASE, TOKEN, version="v1", transport=httpx.MockTransport(handler))
    assert [(r.url.path, dict(r.url.params)) for r in sent] == [("/api/webhooks",
                                                                 {"per_page": "1"})]


@pytest.mark.parametrize("handler", [
    _answer(200, b"<html></html>", "text/html"), _answer(401), _answer(403),
    _answer(429, Retry_After="90"), _answer(503, json.dumps({"message": TOKEN}).encode()),
    _answer(301, Location=f"https://other.invalid/?token={TOKEN}"), _answer(404),
    _answer(200, b"{oops"), _answer(418, b"teapot", "text/plain"),
], ids=["html", "401", "403", "429", "503", "301", "404", "bad-json", "418"])
def test_every_probe_failure_is_one_masked_line_naming_target_and_request(handler) -> None:
    message = _failure(handler, sleep=lambda _: None)
    assert "\n" not in message and message.startswith("aqid-contracts: ")
    assert f"target {BASE}" in message and "GET /api/v2/webhooks" in message
    assert TOKEN not in message


# --- end to end: a JSON API that labels its JSON text/html is a broken contract (exit 1) ----


@pytest.fixture
def html_labelled_target(tmp_path: Path) -> Iterator[str]:
    """The reference server behind a loopback proxy that relabels application/json as text/html."""
    with start_reference_server(db_path=tmp_path / "db.sqlite3", tokens={"team-a": E2E_TOKEN},
                                rate_limit=1_000_000) as server, \
            httpx.Client(base_url=server.base_url, timeout=30) as upstream:

        class Relabel(BaseHTTPRequestHandler):
            def _forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                answer = upstream.request(
                    self.command, self.path, content=self.rfile.read(length) if length else None,
                    headers={k: v for k, v in self.headers.items()
                             if k.lower() not in ("host", "content-length", "connection")})
                self.send_response(answer.status_code)
                for name, value in answer.headers.items():
                    if name.lower() in ("content-length", "transfer-encoding", "connection",
                                        "content-encoding", "date", "server"):
                        continue
                    if name.lower() == "content-type" and "json" in value:
                        value = "text/html; charset=UTF-8"
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(answer.content)))
                self.end_headers()
                self.wfile.write(answer.content)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _forward  # noqa: N815

            def log_message(self, *args: object) -> None:
                pass

        proxy = ThreadingHTTPServer(("127.0.0.1", 0), Relabel)
        proxy.daemon_threads = True
        thread = threading.Thread(target=proxy.serve_forever, kwargs={"poll_interval": 0.05},
                                  daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{proxy.server_address[1]}"
        finally:
            proxy.shutdown()
            proxy.server_close()


@pytest.mark.slow
def test_a_json_api_labelling_its_json_text_html_fails_the_run_naming_the_content_type(
    html_labelled_target: str,
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AQID_")}
    env.update(AQID_BASE_URL=html_labelled_target, AQID_TOKEN=E2E_TOKEN)
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "contracts/test_generated.py", "-k",
         "test_v2_operation and GET and not id", "-p", "no:cacheprovider", "-p", "no:xdist",
         "-q", "--profile", "smoke", "--api-version", "v2"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)
    output = run.stdout + run.stderr
    assert run.returncode == 1, output[-3000:]  # a failed contract, not a refused target (4)
    assert "aqid-contracts: target" not in output, output[-3000:]
    assert "Undocumented Content-Type" in output, output[-3000:]
    assert "Received: text/html; charset=UTF-8" in output, output[-3000:]
