"""Start-up and unhandled errors: a fresh server answers at once; a 500 explains itself.

Investigated: a fresh server seen twice answering its first request with `500 text/plain`.
256 launcher starts (clean, prepopulated, latency/extra-headers/reordered-keys, every
fault and variant, two loops side by side), each with 5 concurrent first requests, gave
no 500: the store and its schema exist before the socket listens, the lifespan (delivery
workers) completes before it, and the ready file is written after. The one way found to
get that exact answer is a hook naming a fault the catalogue lacks (a half-made edit):
`has_fault` raises KeyError on every request through that hook. These tests pin both.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
import warnings
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.exceptions import StarletteDeprecationWarning

from reference_server import views_v2
from reference_server.app import create_app
from reference_server.launcher import PACKAGE_ROOT, start_reference_server
from reference_server.ratelimit import RateLimitMiddleware
from reference_server.store import Store
from tests.server_helpers import AUTH_A, TOKEN_A, client, settings

with warnings.catch_warnings():
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient

TOKENS = {"team-a": "startup-token-a-0001", "team-b": "startup-token-b-0002"}
FIRST_REQUEST = "/api/v2/webhooks?limit=1"


def _assert_json_500(response: httpx.Response, exception: str) -> None:
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/json"
    assert response.json()["exception"] == exception
    assert response.json()["error"] == "Internal Server Error."


@pytest.mark.parametrize("variants", [(), ("prepopulated", "latency-50ms")])
def test_a_fresh_server_answers_concurrent_first_requests(tmp_path: Path,
                                                          variants: tuple[str, ...]) -> None:
    auth = {"Authorization": f"Bearer {TOKENS['team-a']}"}
    with start_reference_server(db_path=tmp_path / "db.sqlite3", tokens=TOKENS,
                                variants=variants) as server:
        answers: list[tuple[int, str]] = []

        def first_request() -> None:
            response = httpx.get(server.base_url + FIRST_REQUEST, headers=auth, timeout=10)
            answers.append((response.status_code, response.headers["content-type"]))

        threads = [threading.Thread(target=first_request) for _ in range(5)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(15)
        assert answers == [(200, "application/json")] * 5, server.output()


def test_an_unhandled_error_is_a_json_500_with_rate_limit_headers_and_a_logged_traceback(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("list_webhooks broke")

    monkeypatch.setattr(Store, "list_webhooks", broken)
    with client(tmp_path) as api:
        response = api.get(FIRST_REQUEST, headers=AUTH_A)
        assert api.get("/api/v2/webhooks/1", headers=AUTH_A).status_code == 404  # still serving
    _assert_json_500(response, "RuntimeError")
    assert {"x-ratelimit-limit", "x-ratelimit-remaining"} <= set(response.headers)
    stderr = capsys.readouterr().err
    assert "reference_server: unhandled error on GET /api/v2/webhooks\n" in stderr
    assert "Traceback" in stderr and "RuntimeError: list_webhooks broke" in stderr
    assert TOKEN_A not in stderr  # headers are never logged


def test_a_hook_naming_an_uncatalogued_fault_is_a_diagnosable_500(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The likely cause of the 500s seen: a hook saved before its catalogue line."""
    shown = views_v2.webhook_v2

    def half_edited(hook: Any, settings: Any) -> Any:
        settings.has_fault("not-yet-catalogued")
        return shown(hook, settings)

    monkeypatch.setattr(views_v2, "webhook_v2", half_edited)
    with client(tmp_path) as api:
        api.post("/api/v2/webhooks", headers=AUTH_A,
                 json={"url": "https://hooks.invalid/x", "events": ["*"], "is_enabled": False})
        response = api.get(FIRST_REQUEST, headers=AUTH_A)
    _assert_json_500(response, "KeyError")
    assert "fault 'not-yet-catalogued' is not in faults.FAULTS" in capsys.readouterr().err


def test_an_error_in_the_outermost_middleware_is_still_a_json_500(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(self: RateLimitMiddleware, scope: Any) -> str:
        raise ValueError("limiter broke")

    monkeypatch.setattr(RateLimitMiddleware, "_key", broken)
    app = create_app(settings(tmp_path))
    with TestClient(app, raise_server_exceptions=False) as api:
        _assert_json_500(api.get(FIRST_REQUEST, headers=AUTH_A), "ValueError")


BROKEN_SERVER = """
import sys
from reference_server import cli, store
def broken(*args, **kwargs):
    raise RuntimeError("list_webhooks broke in a real process")
store.Store.list_webhooks = broken
sys.exit(cli.main(sys.argv[1:]))
"""


def test_a_real_server_logs_the_traceback_to_its_stderr(tmp_path: Path) -> None:
    ready, stderr = tmp_path / "ready.json", tmp_path / "stderr.txt"
    token = TOKENS["team-a"]
    with open(stderr, "wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-c", BROKEN_SERVER, "--port", "0", "--db",
             str(tmp_path / "db.sqlite3"), "--token", f"team-a:{token}", "--ready-file",
             str(ready)], cwd=PACKAGE_ROOT, stdout=subprocess.DEVNULL, stderr=sink)
    try:
        deadline = time.monotonic() + 20
        while not ready.exists() and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        base_url = json.loads(ready.read_text())["base_url"]
        response = httpx.get(base_url + FIRST_REQUEST,
                             headers={"Authorization": f"Bearer {token}"}, timeout=10)
    finally:
        process.terminate()
        process.wait(10)
    _assert_json_500(response, "RuntimeError")
    logged = stderr.read_text()
    assert "unhandled error on GET /api/v2/webhooks" in logged
    assert "RuntimeError: list_webhooks broke in a real process" in logged
    assert token not in logged
