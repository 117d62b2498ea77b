"""The one HTTP client the engine uses to talk to the target (curated contracts, probes, cleanup).

Credentials are named, not passed: "token" (the main team), "other_team", "read_only" (a
read-only token of the main team), "none" (no Authorization header) and "invalid" (a
well-formed bearer token the target cannot know).
Every request goes through the run's rate-limit governor (contract_suite/core/ratelimit.py): a
429 is waited out per Retry-After within the run's budget and sent again, so a rate limit is
never reported as a broken contract. The client keeps the run's ownership record: every
webhook the run created (through this client or by a generated test: it reads both from the
session's exchange log) is remembered with the credentials that created it, for cleanup and
for the write guard.
"""

from __future__ import annotations

import re
import threading
from typing import Any, Literal
from urllib.parse import unquote

import httpx

from .exchanges import Exchange, ExchangeLog, headers_of
from .ratelimit import RateGovernor, key_for
from .redact import Secrets
from .target import API_PREFIX, Target

Credentials = Literal["token", "other_team", "read_only", "none", "invalid"]
INVALID_TOKEN = "aqid-contracts-invalid-token-0000000000"
REQUEST_TIMEOUT = 30.0

_CREATE_PATHS = {f"{prefix}/webhooks" for prefix in API_PREFIX.values()}
_WEBHOOK_PATH = re.compile(r"^/api(?:/v2)?/webhooks/([^/]+)$")


class MissingCredentials(Exception):
    """A contract asked for credentials this run was not given (e.g. --other-team-token)."""


class ApiClient:
    def __init__(self, target: Target, *, transport: httpx.BaseTransport | None = None,
                 governor: RateGovernor | None = None,
                 exchanges: ExchangeLog | None = None, secrets: Secrets | None = None) -> None:
        self.target = target
        self.governor = governor or RateGovernor()
        self.exchanges = exchanges or ExchangeLog()
        self.exchanges.subscribe(self._track_ownership)
        # The session's secrets (masks any text a caller prints about an answer).
        self.secrets = secrets or Secrets(target.token, target.other_team_token,
                                          target.read_only_token)
        self._http = httpx.Client(
            base_url=target.base_url, timeout=REQUEST_TIMEOUT, transport=transport,
            follow_redirects=False, headers={"Accept": "application/json"},
        )
        self._lock = threading.Lock()
        # Webhooks created through this client and not yet deleted, by the credentials that
        # created them: cleanup deletes each with its own team's token.
        self.created: dict[Credentials, set[int]] = {}
        self._ever_created: set[int] = set()
        self.requests_sent = 0
        # Per team: (id, events) of its enabled webhooks this run did not create, read once
        # by whatever is about to fire a sandbox event (deliveries/events.foreign_subscribers)
        self.foreign_webhooks: dict[str, Any] = {}
        self.interrupted = False  # a SIGINT arrived (the plugin sets it; tests stop at the next)

    def auth_headers(self, credentials: Credentials) -> dict[str, str]:
        if credentials == "none":
            return {}
        if credentials == "invalid":
            return {"Authorization": f"Bearer {INVALID_TOKEN}"}
        token, option = {
            "token": (self.target.token, "--token"),
            "other_team": (self.target.other_team_token, "--other-team-token"),
            "read_only": (self.target.read_only_token, "--read-only-token"),
        }[credentials]
        if not token:
            raise MissingCredentials(f"this contract needs {option} ({credentials})")
        return {"Authorization": f"Bearer {token}"}

    def request(
        self, method: str, path: str, *, credentials: Credentials = "token",
        json: Any = None, content: bytes | None = None, params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        """Send one request; `path` starts at the host root, e.g. /api/v2/webhooks."""
        all_headers = {**self.auth_headers(credentials), **(headers or {})}

        def send_once() -> httpx.Response:
            response = self._http.request(
                method, path, json=json, content=content, params=params, headers=all_headers)
            with self._lock:
                self.requests_sent += 1
            return response

        response = self.governor.send(
            key_for(all_headers.get("Authorization")), send_once,
            lambda r: (r.status_code, r.headers))  # type: ignore[attr-defined]
        assert isinstance(response, httpx.Response)
        self.exchanges.record(Exchange(
            "client", self.exchanges.current_test, method.upper(), str(response.request.url),
            headers_of(response.request.headers), response.request.content or None,
            response.status_code, headers_of(response.headers), response.content or None,
            _elapsed(response)))
        return response

    @property
    def created_ids(self) -> set[int]:
        """The main team's webhooks created by this client (a read-only token is the main
        team's: what it wrongly managed to create is ours too)."""
        return self.created.get("token", set()) | self.created.get("read_only", set())

    @property
    def owned_ids(self) -> set[int]:
        """Every webhook id this run created, deleted since or not: writes may address them
        (a second DELETE of the run's own webhook is how use-after-free is checked)."""
        with self._lock:
            return set(self._ever_created)

    def created_now(self) -> dict[Credentials, set[int]]:
        """Webhooks created through this client and not deleted since, by credentials (a
        copy: compare two to see what a test left behind)."""
        with self._lock:
            return {credentials: set(ids) for credentials, ids in self.created.items()}

    def remember_created(self, webhook_id: int, credentials: Credentials = "token") -> None:
        with self._lock:
            self.created.setdefault(credentials, set()).add(webhook_id)
            self._ever_created.add(webhook_id)

    def forget_created(self, webhook_id: int) -> None:
        with self._lock:
            for ids in self.created.values():
                ids.discard(webhook_id)

    def _credentials_of(self, authorization: str | None) -> Credentials | None:
        tokens: dict[str | None, Credentials] = {
            self.target.read_only_token: "read_only", self.target.other_team_token: "other_team",
            self.target.token: "token"}
        token = authorization.partition(" ")[2] if authorization else None
        return tokens.get(token) if token else None

    def _track_ownership(self, exchange: Exchange) -> None:
        """Remember a webhook the exchange created, forget one it deleted."""
        if exchange.kind not in ("client", "generated") or exchange.status is None:
            return
        credentials = self._credentials_of(exchange.header("Authorization", response=False))
        if credentials is None:
            if exchange.kind == "client":
                # A create that a faulty target accepted without a valid token cannot be
                # attributed to a team we hold a token for; the tag sweep still finds it.
                return
            credentials = "token"  # a generated case sent without (or with a bad) token
        path = exchange.path
        if exchange.method == "POST" and path in _CREATE_PATHS and exchange.status == 201:
            body = exchange.response_json()
            webhook_id = body.get("id") if isinstance(body, dict) else None
            if isinstance(webhook_id, int) and not isinstance(webhook_id, bool):
                self.remember_created(webhook_id, credentials)
        elif (exchange.method == "DELETE" and (match := _WEBHOOK_PATH.match(path))
              and (200 <= exchange.status < 300 or exchange.status == 404)):
            identifier = addressed_id(unquote(match.group(1)))
            if identifier is not None:
                with self._lock:
                    self.created.get(credentials, set()).discard(identifier)

    def close(self) -> None:
        self._http.close()


def addressed_id(value: Any) -> int | None:
    """The webhook id a path value could name on a lenient server ("+5", "05", "5.0" and 5
    all read as 5), or None when it cannot name any webhook."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, float):
        return int(value) if value.is_integer() and value >= 0 else None
    if not isinstance(value, str):
        return None
    text = value.strip()
    text = text[1:] if text.startswith("+") else text
    if text.isascii() and text.isdigit():
        return int(text)
    try:
        number = float(text)
    except ValueError:
        return None
    return int(number) if number.is_integer() and number >= 0 else None


def _elapsed(response: httpx.Response) -> float | None:
    try:
        return response.elapsed.total_seconds()
    except RuntimeError:  # a transport that never timed it (httpx.MockTransport in tests)
        return None
