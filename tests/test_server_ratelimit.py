"""Rate limiting: one budget per user per team; headers on every response."""

from __future__ import annotations

import time
from pathlib import Path

from reference_server.ratelimit import FixedWindowLimiter
from tests.server_helpers import AUTH_A, AUTH_B, client


def test_every_response_carries_the_rate_limit_headers(tmp_path: Path) -> None:
    with client(tmp_path, rate_limit=50) as api:
        responses = [api.get("/api/v2/webhooks", headers=AUTH_A),
                     api.get("/api/v2/webhooks"),  # 401
                     api.get("/api/v2/webhooks/abc", headers=AUTH_A),  # 404
                     api.get("/nowhere", headers=AUTH_A),  # unknown route
                     api.put("/api/v2/webhooks", headers=AUTH_A),  # 405
                     api.post("/api/v2/webhooks", headers=AUTH_A, json={}),  # 422
                     api.delete("/api/webhooks/1", headers=AUTH_A),  # v1 404
                     api.get("/_sandbox", headers=AUTH_A)]
        for response in responses:
            assert response.headers["X-RateLimit-Limit"] == "50", response.request.url
            assert int(response.headers["X-RateLimit-Remaining"]) >= 0


def test_over_the_limit_is_429_with_retry_after_and_reset(tmp_path: Path) -> None:
    with client(tmp_path, rate_limit=3, rate_window=30) as api:
        remaining = [api.get("/api/v2/webhooks", headers=AUTH_A).headers["X-RateLimit-Remaining"]
                     for _ in range(3)]
        assert remaining == ["2", "1", "0"]
        refused = api.get("/api/v2/webhooks", headers=AUTH_A)
        assert refused.status_code == 429
        assert refused.headers["X-RateLimit-Limit"] == "3"
        assert refused.headers["X-RateLimit-Remaining"] == "0"
        assert 1 <= int(refused.headers["Retry-After"]) <= 30
        assert time.time() < int(refused.headers["X-RateLimit-Reset"]) <= time.time() + 31
        assert isinstance(refused.json(), dict)
        # another user's budget is untouched
        assert api.get("/api/v2/webhooks", headers=AUTH_B).status_code == 200


def test_the_window_resets() -> None:
    limiter = FixedWindowLimiter(limit=1, window=10)
    assert limiter.hit("k", now=100)[0] is True
    assert limiter.hit("k", now=105)[0] is False
    allowed, remaining, reset_at = limiter.hit("k", now=110)
    assert (allowed, remaining, reset_at) == (True, 0, 120)
