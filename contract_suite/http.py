"""The one HTTP client the engine uses to talk to the target (curated contracts, probes, cleanup).

Credentials are named, not passed: "token" (the main team), "other_team", "read_only" (a
read-only token of the main team), "none" (no Authorization header) and "invalid" (a
well-formed bearer token the target cannot know).
429 answers are waited out per Retry-After, bounded, so a rate limit is never reported as
a broken contract. Every webhook created through it is remembered for cleanup.
"""

from __future__ import annotations

import re
import threading
import time
from typing import Any, Literal

import httpx

from .target import API_PREFIX, Target

Credentials = Literal["token", "other_team", "read_only", "none", "invalid"]
INVALID_TOKEN = "aqid-contracts-invalid-token-0000000000"
MAX_429_RETRIES = 5
MAX_429_WAIT = 30.0  # seconds, in all, per request
REQUEST_TIMEOUT = 30.0

_CREATE_PATHS = {f"{prefix}/webhooks" for prefix in API_PREFIX.values()}
_WEBHOOK_PATH = re.compile(r"^/api(?:/v2)?/webhooks/(\d+)$")


class MissingCredentials(Exception):
    """A contract asked for credentials this run was not given (e.g. --other-team-token)."""


class ApiClient:
    def __init__(self, target: Target, *, transport: httpx.BaseTransport | None = None) -> None:
        self.target = target
        self._http = httpx.Client(
            base_url=target.base_url, timeout=REQUEST_TIMEOUT, transport=transport,
            follow_redirects=False, headers={"Accept": "application/json"},
        )
        self._lock = threading.Lock()
        self.created_ids: set[int] = set()  # webhooks created through this client, not yet deleted
        self.requests_sent = 0

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
        waited = 0.0
        for _ in range(MAX_429_RETRIES + 1):
            response = self._http.request(
                method, path, json=json, content=content, params=params, headers=all_headers
            )
            with self._lock:
                self.requests_sent += 1
            delay = retry_after(response)
            if delay is None or waited + delay > MAX_429_WAIT:
                break
            time.sleep(delay)
            waited += delay
        self._remember(method.upper(), path, credentials, response)
        return response

    def _remember(self, method: str, path: str, credentials: str, response: httpx.Response) -> None:
        if credentials not in ("token", "read_only"):
            return  # only the main team's webhooks are ours to clean up (a read-only token
            # is the main team's: what it wrongly managed to create is ours too)
        with self._lock:
            if method == "POST" and path in _CREATE_PATHS and response.status_code == 201:
                webhook_id = _json_id(response)
                if webhook_id is not None:
                    self.created_ids.add(webhook_id)
            elif (
                method == "DELETE"
                and (match := _WEBHOOK_PATH.match(path))
                and response.status_code in (200, 204, 404)
            ):
                self.created_ids.discard(int(match.group(1)))

    def close(self) -> None:
        self._http.close()


def retry_after(response: httpx.Response) -> float | None:
    """Seconds to wait before retrying a 429, or None when the response is not a 429."""
    if response.status_code != 429:
        return None
    try:
        return max(0.0, float(response.headers.get("Retry-After", "1")))
    except ValueError:
        return 1.0


def _json_id(response: httpx.Response) -> int | None:
    try:
        body = response.json()
    except ValueError:
        return None
    value = body.get("id") if isinstance(body, dict) else None
    return value if isinstance(value, int) else None
