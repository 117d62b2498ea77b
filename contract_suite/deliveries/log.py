"""Reading a webhook's delivery log (v2 and v1) until it shows what the test expects.

`poll_delivery_log` is the one bounded poll loop over GET .../webhooks/{id}/deliveries
(spaced by the target's own timing, capped in time and requests, every request through the
session's ApiClient, which waits out a 429); `by_uuid` indexes the entries by their uuid
(the X-AQID-Delivery-Id the receiver saw).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from ..core.http import ApiClient
from .timing import MAX_POLLS, SLACK, DeliveryTiming

LOG_PAGE = 100  # the largest page the brief allows: the default page size is not promised

LogSettled = Callable[[dict[str, dict[str, Any]]], bool]


def poll_delivery_log(
    api: ApiClient, webhook_id: int, timing: DeliveryTiming, settled: LogSettled, *,
    version: str = "v2", within: float = SLACK,
) -> tuple[list[dict[str, Any]], bool]:
    """The newest page of a webhook's delivery log once `settled(by_uuid)` holds.

    Bounded in time (`within` seconds) and in requests (MAX_POLLS), spaced by the timing's
    poll interval. Asks for an explicit page size (the default is not promised). Returns
    the entries (log order) and whether `settled` held; the caller's assertion names what
    is missing. A log that does not answer 200 fails the test, saying so.
    """
    if version == "v2":
        path, params = f"/api/v2/webhooks/{webhook_id}/deliveries", {"limit": LOG_PAGE}
    else:
        path, params = f"/api/webhooks/{webhook_id}/deliveries", {"per_page": LOG_PAGE}
    deadline = time.monotonic() + within
    entries: list[dict[str, Any]] = []
    for _ in range(MAX_POLLS):
        response = api.request("GET", path, params=params)
        if response.status_code != 200:
            pytest.fail(f"GET {path} answered {response.status_code}, documented 200 with the "
                        f"delivery log: {api.secrets(response.text[:200])}")
        body = response.json()
        data = body.get("data") if isinstance(body, dict) else None
        entries = [e for e in data if isinstance(e, dict)] if isinstance(data, list) else []
        if settled(by_uuid(entries)):
            return entries, True
        if time.monotonic() + timing.poll_interval > deadline:
            break
        time.sleep(timing.poll_interval)
    return entries, False


def by_uuid(entries: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Log entries by their uuid (entries without a string uuid are left out)."""
    return {e["uuid"]: e for e in entries if isinstance(e.get("uuid"), str)}
