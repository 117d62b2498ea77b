"""Rate limiting: one budget per user per team in a fixed window, headers on every response.

A pure ASGI middleware, outermost, so that every answer - 401s, 404s, 405s and 429s
included - carries X-RateLimit-Limit and X-RateLimit-Remaining. Callers without a valid
token are budgeted by client address.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from reference_server.auth import grant_from_header
from reference_server.config import Settings
from reference_server.responses import json_media_type, render_json
from reference_server.seams import seam


class FixedWindowLimiter:
    def __init__(self, limit: int, window: float) -> None:
        self.limit, self.window = limit, window
        self._lock = threading.Lock()
        self._windows: dict[str, tuple[float, int]] = {}  # key -> (window start, used)

    def hit(self, key: str, now: float | None = None) -> tuple[bool, int, float]:
        """Spend one request: (allowed, remaining, window reset time)."""
        now = time.time() if now is None else now
        with self._lock:
            start, used = self._windows.get(key, (now, 0))
            if now - start >= self.window:
                start, used = now, 0
            allowed = used < self.limit
            used = used + 1 if allowed else used
            self._windows[key] = (start, used)
        return allowed, self.limit - used, start + self.window


@dataclass(frozen=True)
class RateLimitPolicy:
    limit: int  # requests a window
    window: float  # seconds
    message: str  # the 429 body's message


@seam("rate limit")
def rate_limit_policy(settings: Settings) -> RateLimitPolicy:
    """--rate-limit a --rate-window (room "rate-limits": any limit is correct)."""
    return RateLimitPolicy(settings.rate_limit, settings.rate_window, "Too Many Attempts.")


class RateLimitMiddleware:
    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app, self.settings = app, settings
        self.policy = rate_limit_policy(settings)
        self.limiter = FixedWindowLimiter(self.policy.limit, self.policy.window)

    def _key(self, scope: Scope) -> str:
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        grant = grant_from_header(self.settings, headers.get("authorization"))
        if grant is not None:
            return f"{grant.user}|{grant.team}"
        client = scope.get("client") or ("unknown", 0)
        return f"anonymous|{client[0]}"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        allowed, remaining, reset_at = self.limiter.hit(self._key(scope))
        limit_headers = [(b"x-ratelimit-limit", str(self.limiter.limit).encode()),
                         (b"x-ratelimit-remaining", str(max(remaining, 0)).encode())]
        if not allowed:
            await self._too_many(send, limit_headers, reset_at)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = self.with_limit_headers(message, limit_headers)
            await send(message)

        await self.app(scope, receive, send_with_headers)

    @seam("rate limit headers")
    def with_limit_headers(self, start: Message, limit_headers: list[tuple[bytes, bytes]]
                           ) -> Message:
        """Every response start, errors included, carries the budget's headers."""
        return {**start, "headers": [*start.get("headers", []), *limit_headers]}

    async def _too_many(self, send: Send, headers: list[tuple[bytes, bytes]],
                        reset_at: float) -> None:
        retry_after = max(1, math.ceil(reset_at - time.time()))
        body = render_json({"message": self.policy.message}, self.settings)
        extra: list[Any] = [(b"retry-after", str(retry_after).encode()),
                            (b"x-ratelimit-reset", str(math.ceil(reset_at)).encode()),
                            (b"content-type", json_media_type(self.settings).encode()),
                            (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 429, "headers": [*headers, *extra]})
        await send({"type": "http.response.body", "body": body})
