"""The checks made before any generated request: production guard, URL shape, the probe.

Loopback only: a closed port, and tiny local servers answering HTML or 401.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from contract_suite.probe import ProbeFailure, probe_target, production_refusal, url_problem

TOKEN = "probe-token-0123456789abcdef"


@pytest.mark.parametrize("url", ["https://id.amiqus.co", "https://ID.amiqus.co/",
                                 "https://eu.id.amiqus.co", "http://id.amiqus.co:8443"])
def test_production_host_is_refused_without_allow_production(url: str) -> None:
    reason = production_refusal(url, allow_production=False, read_only=True)
    assert reason is not None and "--allow-production" in reason


def test_production_host_needs_read_only_even_when_allowed() -> None:
    reason = production_refusal("https://id.amiqus.co", allow_production=True, read_only=False)
    assert reason is not None and "--read-only" in reason
    assert production_refusal("https://id.amiqus.co", allow_production=True, read_only=True) is None


@pytest.mark.parametrize("url", ["https://staging.amiqus.example", "http://127.0.0.1:8000",
                                 "https://notid.amiqus.co.example", "https://id.amiqus.com"])
def test_other_hosts_are_not_production(url: str) -> None:
    assert production_refusal(url, allow_production=False, read_only=False) is None


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


def _serve(status: int, content_type: str, body: bytes) -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def html_server() -> Iterator[str]:
    yield from _serve(200, "text/html", b"<html><body>Welcome</body></html>")


@pytest.fixture
def unauthorized_server() -> Iterator[str]:
    yield from _serve(401, "application/json", b'{"error": "Unauthenticated."}')


@pytest.fixture
def json_server() -> Iterator[str]:
    yield from _serve(200, "application/json", b'{"object": "paginated_list", "data": []}')


def test_html_instead_of_json_is_named(html_server: str) -> None:
    with pytest.raises(ProbeFailure, match="answered 200 with an HTML page"):
        probe_target(html_server, TOKEN)


def test_refused_token_is_named_and_masked(unauthorized_server: str) -> None:
    with pytest.raises(ProbeFailure) as failure:
        probe_target(unauthorized_server, TOKEN, who="--other-team-token")
    message = str(failure.value)
    assert "refused --other-team-token (prob…) with 401" in message
    assert TOKEN not in message


def test_a_json_list_passes_the_probe(json_server: str) -> None:
    probe_target(json_server, TOKEN)
