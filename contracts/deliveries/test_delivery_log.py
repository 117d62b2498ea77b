"""Delivery contracts: the delivery log (v2 and v1) tells the truth about what was sent.

Each delivery the receiver got appears in GET /api/v2/webhooks/{id}/deliveries and
GET /api/webhooks/{id}/deliveries with uuid == X-AQID-Delivery-Id, its event, the number
of attempts, the last response status as a string (v2 response.status_code, v1 status),
v1 `failed` true when the last attempt was not 2xx, and the request body that arrived.
Logs are newest first.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable
from typing import Any

import pytest

from contract_suite.delivery_fixtures import SLACK, DeliveryTiming, Only, Subscription
from contract_suite.http import ApiClient
from contract_suite.receiver import DeliveryWaitTimeout, ReceivedRequest

pytestmark = [pytest.mark.sandbox, pytest.mark.writes, pytest.mark.v1, pytest.mark.v2]

EVENT = "form.submitted"


def test_the_delivery_log_lists_each_delivery_as_it_was_sent_newest_first(
    subscribed_webhook: Callable[..., Subscription], fire_event: Callable[..., int],
    api: ApiClient, delivery_marker: str, delivery_timing: DeliveryTiming,
) -> None:
    if delivery_timing.attempts < 2:
        pytest.skip("the target makes a single attempt (retry_delays is empty)")
    mine, ping = Only(marker=delivery_marker), Only(event="ping")
    hook = subscribed_webhook([EVENT])
    with contextlib.suppress(DeliveryWaitTimeout):  # the ping contracts judge the ping
        hook.endpoint.wait(1, delivery_timing.first_arrival, match=ping)

    # Delivery A fails once then succeeds; delivery B (fired after A is done) always fails.
    hook.endpoint.respond_with(500, then=204, to=mine)
    fire_event(EVENT)
    recovered = hook.endpoint.wait(2, delivery_timing.schedule(2), match=mine)
    hook.endpoint.respond_with(then=500, to=mine)
    fire_event(EVENT)
    total = 2 + delivery_timing.attempts
    failed = hook.endpoint.wait(total, delivery_timing.schedule(delivery_timing.attempts),
                                match=mine)[2:]
    pings = hook.endpoint.matching(ping)[:1]
    expected = [  # newest first
        Expected(failed[-1], attempts=delivery_timing.attempts, status="500"),
        Expected(recovered[-1], attempts=2, status="204"),
        *[Expected(p, attempts=1, status="204") for p in pings],
    ]

    v2 = poll_log(api, f"/api/v2/webhooks/{hook.id}/deliveries", {"limit": 100}, expected, "v2")
    v1 = poll_log(api, f"/api/webhooks/{hook.id}/deliveries", {"per_page": 100}, expected, "v1")
    for want in expected:
        entry = v2[want.uuid]
        assert {"event": entry["event"], "attempts": entry["attempts"],
                "status_code": entry["response"]["status_code"]} == want.v2_view(), (
            f"v2 log entry {want.uuid}: {_short(entry)}")
        assert entry["request"]["body"]["data"] == want.payload["data"], (
            f"v2 log request.body.data differs from the data that arrived: {_short(entry)}")
        entry = v1[want.uuid]
        assert {"status": entry["status"], "failed": entry["failed"],
                "attempts": entry["attempts"]} == want.v1_view(), (
            f"v1 log entry {want.uuid}: {_short(entry)}")
        assert entry["request"]["body"] == want.payload, (
            f"v1 log request.body is not the payload that arrived: {_short(entry)}")


class Expected:
    """What the log must say about one delivery, from the last attempt that arrived."""

    def __init__(self, last: ReceivedRequest, *, attempts: int, status: str) -> None:
        self.uuid = last.header("X-AQID-Delivery-Id") or "?"
        self.payload: dict[str, Any] = json.loads(last.body)
        self.event = self.payload["trigger"]["alias"]
        self.attempts, self.status = attempts, status

    def v2_view(self) -> dict[str, Any]:
        return {"event": self.event, "attempts": self.attempts, "status_code": self.status}

    def v1_view(self) -> dict[str, Any]:
        return {"status": self.status, "failed": not self.status.startswith("2"),
                "attempts": self.attempts}


def poll_log(api: ApiClient, path: str, params: dict[str, Any], expected: list[Expected],
             version: str) -> dict[str, dict[str, Any]]:
    """The log by uuid, once it shows every expected delivery's final state (bounded)."""
    deadline = time.monotonic() + SLACK
    while True:
        response = api.request("GET", path, params=params)
        assert response.status_code == 200, f"GET {path} answered {response.status_code}"
        entries = response.json().get("data", [])
        by_uuid = {e.get("uuid"): e for e in entries if isinstance(e, dict)}
        settled = all(by_uuid.get(w.uuid, {}).get("attempts") == w.attempts for w in expected)
        if settled or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    missing = [w.uuid for w in expected if w.uuid not in by_uuid]
    assert not missing, (
        f"{version} log {path} lacks deliveries that arrived (X-AQID-Delivery-Id {missing}); "
        f"it lists {list(by_uuid)}"
    )
    order = [e.get("uuid") for e in entries if e.get("uuid") in {w.uuid for w in expected}]
    assert order == [w.uuid for w in expected], (
        f"{version} log {path} is not newest first: lists {order}, deliveries were sent "
        f"in the order {[w.uuid for w in reversed(expected)]}"
    )
    return by_uuid


def _short(entry: dict[str, Any]) -> str:
    return json.dumps(entry)[:400]
