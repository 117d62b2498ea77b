"""Helpers for the reference server's own tests: an in-process app and a loopback receiver."""

from __future__ import annotations

import json
import threading
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from starlette.exceptions import StarletteDeprecationWarning

from reference_server.app import create_app
from reference_server.config import Settings, TokenGrant

with warnings.catch_warnings():
    # Starlette 1.x prefers `httpx2` for its TestClient; plain httpx works the same here.
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient

TOKEN_A = "token-team-a-0001"
TOKEN_B = "token-team-b-0002"
TOKEN_RO = "token-team-a-read"
AUTH_A = {"Authorization": f"Bearer {TOKEN_A}"}
AUTH_B = {"Authorization": f"Bearer {TOKEN_B}"}
AUTH_RO = {"Authorization": f"Bearer {TOKEN_RO}"}
GRANTS = (TokenGrant("team-a", TOKEN_A), TokenGrant("team-b", TOKEN_B),
          TokenGrant("team-a", TOKEN_RO, read_only=True))
SAFE_URL = "https://hooks.invalid/incoming"  # never contacted: the egress guard refuses it


def settings(tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {"db_path": str(tmp_path / "reference.sqlite3"), "tokens": GRANTS,
                              "retry_delays": (0.01, 0.01), "timeout": 2.0}
    values.update(overrides)
    for name in ("faults", "variants"):
        if name in values:
            values[name] = frozenset(values[name])
    return Settings(**values)


@contextmanager
def client(tmp_path: Path, **overrides: Any) -> Iterator[TestClient]:
    """The app in-process (no network), lifespan running so deliveries are worked."""
    app = create_app(settings(tmp_path, **overrides))
    with TestClient(app, base_url="http://testserver") as test_client:
        yield test_client


def wait_idle(test_client: TestClient, timeout: float = 5.0) -> None:
    assert test_client.app.state.dispatcher.wait_idle(timeout), "deliveries did not settle"


def create_v2(test_client: TestClient, url: str = SAFE_URL, events: list[str] | None = None,
              headers: dict[str, str] | None = None, **extra: Any) -> dict[str, Any]:
    response = test_client.post("/api/v2/webhooks", headers=headers or AUTH_A,
                                json={"url": url, "events": events or ["*"], **extra})
    assert response.status_code == 201, response.text
    return response.json()


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """A loopback HTTP server on port 0 that records POSTs and answers `status`."""

    status: int = 204
    delay: float = 0.0
    port: int = 0
    requests: list[Received] = field(default_factory=list)
    _cond: threading.Condition = field(default_factory=threading.Condition)

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def wait(self, count: int, timeout: float = 5.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self.requests) < count:
                left = deadline - time.monotonic()
                assert left > 0, f"expected {count} deliveries, got: {self.requests}"
                self._cond.wait(left)
            return list(self.requests)

    def record(self, item: Received) -> None:
        with self._cond:
            self.requests.append(item)
            self._cond.notify_all()


@contextmanager
def receiver(status: int = 204, delay: float = 0.0) -> Iterator[Receiver]:
    state = Receiver(status=status, delay=delay)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            state.record(Received(self.path, dict(self.headers.items()), body))
            if state.delay:
                time.sleep(state.delay)
            self.send_response(state.status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:  # keep test output clean
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
