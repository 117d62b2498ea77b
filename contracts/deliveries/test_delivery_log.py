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

from contract_suite.core.http import ApiClient
from contract_suite.deliveries.events import Only
from contract_suite.deliveries.log import by_uuid, poll_delivery_log
from contract_suite.deliveries.receiver import DeliveryWaitTimeout, ReceivedRequest
from contract_suite.deliveries.subscriptions import Subscription
from contract_suite.deliveries.timing import DeliveryTiming

pytestmark = [pytest.mark.sandbox, pytest.mark.writes, pytest.mark.v1, pytest.mark.v2]

EVENT = "form.submitted"
# Newest first is the brief's decision, but a log may order by a whole-second timestamp
# with any tie-break: each delivery starts over a second after the previous one settled,
# so "newer" is never a tie on any clock.
ORDER_GAP = 1.1


@pytest.mark.pings  # it waits for the ping and checks its log entry
def test_the_delivery_log_lists_each_delivery_as_it_was_sent_newest_first(
    subscribed_webhook: Callable[..., Subscription], fire_event: Callable[..., int],
    api: ApiClient, delivery_marker: str, delivery_timing: DeliveryTiming,
) -> None:
    if delivery_timing.attempts < 2:
        pytest.skip("the target makes a single attempt (retry_delays is empty)")
    waits = delivery_timing.schedule(2) + delivery_timing.schedule(delivery_timing.attempts)
    if reason := delivery_timing.beyond_reach(waits, "a recovered and a failed delivery"):
        pytest.skip(reason)
    mine, ping = Only(marker=delivery_marker), Only(event="ping")
    hook = subscribed_webhook([EVENT])
    with contextlib.suppress(DeliveryWaitTimeout):  # the ping contracts judge the ping
        hook.endpoint.wait(1, delivery_timing.first_arrival, match=ping)
    expected = [Expected.of(hook, p) for p in hook.endpoint.matching(ping)[:1]]  # newest first
    settle_apart(api, hook, delivery_timing, expected)

    # Delivery A fails once then succeeds; delivery B (fired after A is done) always fails.
    hook.endpoint.respond_with(500, then=204, to=mine)
    fire_event(EVENT)
    recovered = hook.endpoint.wait(2, delivery_timing.schedule(2), match=mine)
    expected.insert(0, Expected.of(hook, recovered[-1]))
    settle_apart(api, hook, delivery_timing, expected)
    hook.endpoint.respond_with(then=500, to=mine)
    fire_event(EVENT)
    total = 2 + delivery_timing.attempts
    failed = hook.endpoint.wait(total, delivery_timing.schedule(delivery_timing.attempts),
                                match=mine)
    expected.insert(0, Expected.of(hook, failed[-1]))

    v2 = settled_log(api, hook, delivery_timing, expected, "v2")
    v1 = settled_log(api, hook, delivery_timing, expected, "v1")
    for want in expected:
        entry = v2[want.uuid]
        assert {"event": entry.get("event"), "attempts": entry.get("attempts"),
                "status_code": _get(entry, "response", "status_code")} == want.v2_view(), (
            f"v2 log entry {want.uuid}: {_short(entry)}")
        assert _get(entry, "request", "body", "data") == want.payload["data"], (
            f"v2 log request.body.data differs from the data that arrived: {_short(entry)}")
        entry = v1[want.uuid]
        assert {"status": entry.get("status"), "failed": entry.get("failed"),
                "attempts": entry.get("attempts")} == want.v1_view(), (
            f"v1 log entry {want.uuid}: {_short(entry)}")
        assert _as_json(_get(entry, "request", "body")) == want.payload, (
            f"v1 log request.body is not the payload that arrived: {_short(entry)}")


class Expected:
    """What the log must say about one delivery, from the attempts that arrived."""

    def __init__(self, last: ReceivedRequest, *, attempts: int) -> None:
        self.uuid = last.header("X-AQID-Delivery-Id") or "?"
        self.payload: dict[str, Any] = json.loads(last.body)
        self.event = self.payload["trigger"]["alias"]
        self.attempts, self.status = attempts, str(last.answered.status)

    @classmethod
    def of(cls, hook: Subscription, last: ReceivedRequest) -> Expected:
        """`last` is the delivery's last attempt; its attempts are those with its id."""
        uuid = last.header("X-AQID-Delivery-Id")
        attempts = sum(r.header("X-AQID-Delivery-Id") == uuid for r in hook.endpoint.requests)
        return cls(last, attempts=attempts)

    def v2_view(self) -> dict[str, Any]:
        return {"event": self.event, "attempts": self.attempts, "status_code": self.status}

    def v1_view(self) -> dict[str, Any]:
        return {"status": self.status, "failed": not self.status.startswith("2"),
                "attempts": self.attempts}


def _all_settled(expected: list[Expected]) -> Callable[[dict[str, dict[str, Any]]], bool]:
    return lambda log: all(log.get(w.uuid, {}).get("attempts") == w.attempts for w in expected)


def settle_apart(api: ApiClient, hook: Subscription, timing: DeliveryTiming,
                 expected: list[Expected]) -> None:
    """Wait (bounded) until the log shows these deliveries' final state, then ORDER_GAP.

    Not settling is not judged here: the final check names what the log lacks.
    """
    if expected:
        poll_delivery_log(api, hook.id, timing, _all_settled(expected))
        time.sleep(ORDER_GAP)


def settled_log(api: ApiClient, hook: Subscription, timing: DeliveryTiming,
                expected: list[Expected], version: str) -> dict[str, dict[str, Any]]:
    """The log by uuid, once it shows every expected delivery's final state (bounded)."""
    entries, _ = poll_delivery_log(api, hook.id, timing, _all_settled(expected),
                                   version=version)
    logged = by_uuid(entries)
    path = f"{'/api/v2' if version == 'v2' else '/api'}/webhooks/{hook.id}/deliveries"
    missing = [w.uuid for w in expected if w.uuid not in logged]
    assert not missing, (
        f"{version} log {path} lacks deliveries that arrived (X-AQID-Delivery-Id {missing}); "
        f"it lists {list(logged)}"
    )
    order = [e["uuid"] for e in entries if e.get("uuid") in {w.uuid for w in expected}]
    assert order == [w.uuid for w in expected], (
        f"{version} log {path} is not newest first: lists {order}, deliveries were sent "
        f"in the order {[w.uuid for w in reversed(expected)]}, each over {ORDER_GAP}s "
        "after the previous one settled"
    )
    return logged


def _get(entry: Any, *keys: str) -> Any:
    for key in keys:
        entry = entry.get(key) if isinstance(entry, dict) else None
    return entry


def _as_json(body: Any) -> Any:
    """v1 request.body is "the payload as sent": a JSON value, or that JSON as a string."""
    if isinstance(body, str):
        with contextlib.suppress(ValueError):
            return json.loads(body)
    return body


def _short(entry: dict[str, Any]) -> str:
    return json.dumps(entry)[:400]
