"""Every exchange the run makes with the target, as plain data, for whoever wants to see it.

One seam for the features that judge a run by what it actually sent and received (API
coverage, differential runs, recordings): the session owns one `ExchangeLog`; the HTTP
client (curated contracts, delivery fixtures, probe, cleanup), the generated tests' hook
and the delivery receiver `record()` into it, and observers subscribe with `subscribe()`.
Nothing is kept unless an observer keeps it, so a run without observers pays a function
call per request.

`test` is the node id of the test that made the exchange (None for the probe, cleanup and
anything outside a test): the plugin sets `current_test` around each test. Headers are as
sent, Authorization included: an observer that writes anything out masks it (core/redact).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

# "generated": a schemathesis call; "client": a call through core/http.ApiClient (curated
# contracts, delivery tests' own API calls, probe, cleanup); "delivery": a request the
# delivery receiver got from the target (its answer in status/response_*).
Kind = str


@dataclass(frozen=True)
class Exchange:
    kind: Kind
    test: str | None
    method: str
    url: str  # absolute, as sent (for a delivery: the receiver's URL)
    request_headers: Mapping[str, str]
    request_body: bytes | None
    status: int | None  # None: no answer (a delivery carries the receiver's answer here)
    response_headers: Mapping[str, str]
    response_body: bytes | None
    elapsed: float | None = None  # seconds

    @property
    def path(self) -> str:
        return urlsplit(self.url).path

    @property
    def query(self) -> list[tuple[str, str]]:
        return parse_qsl(urlsplit(self.url).query, keep_blank_values=True)

    def header(self, name: str, *, response: bool = True) -> str | None:
        headers = self.response_headers if response else self.request_headers
        wanted = name.lower()
        return next((value for key, value in headers.items() if key.lower() == wanted), None)

    def request_json(self) -> Any:
        return _json(self.request_body)

    def response_json(self) -> Any:
        return _json(self.response_body)


def _json(raw: bytes | None) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None


@dataclass
class ExchangeLog:
    """The session's fan-out point: record() hands each exchange to every observer."""

    current_test: str | None = None
    _observers: list[Callable[[Exchange], None]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def subscribe(self, observer: Callable[[Exchange], None]) -> None:
        with self._lock:
            self._observers.append(observer)

    def record(self, exchange: Exchange) -> None:
        with self._lock:
            observers = list(self._observers)
        for observer in observers:
            observer(exchange)


def headers_of(headers: Any) -> dict[str, str]:
    """A plain str→str copy of an httpx/requests/werkzeug header collection."""
    if headers is None:
        return {}
    items = headers.items() if hasattr(headers, "items") else headers
    return {str(key): ", ".join(map(str, value)) if isinstance(value, (list, tuple)) else str(value)
            for key, value in items}
