"""Delivery contracts: retries of failed deliveries, timeouts, and disabling after failures.

A delivery not answered 2xx within the target's `timeout` is retried, `len(retry_delays)`
times at most, waiting at least those delays; every attempt carries the same delivery id,
body and signature and the attempt number. A payload that fails all its attempts counts
one failure; at `disable_after` the webhook is disabled (v2 is_enabled, v1 active).
All timing comes from the target's own GET /_sandbox settings.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from typing import Any

import pytest

from contract_suite.core.http import ApiClient
from contract_suite.deliveries.checks import DeliverySpec, assert_delivery_valid
from contract_suite.deliveries.events import Only, delivery_ids
from contract_suite.deliveries.log import LOG_PAGE, poll_delivery_log
from contract_suite.deliveries.receiver import Answer, DeliveryWaitTimeout, ReceivedRequest
from contract_suite.deliveries.subscriptions import Subscription
from contract_suite.deliveries.timing import MAX_POLLS, SETTLE, SLACK, DeliveryTiming

pytestmark = [pytest.mark.sandbox, pytest.mark.writes, pytest.mark.v2]

MAX_SLOW_TIMEOUT = 10.0  # seconds: a slower target timeout makes the timeout contract skip
MAX_DISABLE_SECONDS = 60.0  # beyond this the disable-after contract skips
PING = Only(event="ping")


def assert_same_delivery_retried(
    attempts: list[ReceivedRequest], hook: Subscription, spec: DeliverySpec, event: str
) -> None:
    """Same id, body and signature on every attempt; attempt header 1..n; each valid."""
    ids = {r.header("X-AQID-Delivery-Id") for r in attempts}
    bodies = {r.body for r in attempts}
    signatures = {r.header("X-AQID-Signature") for r in attempts}
    assert len(ids) == 1, f"every attempt carries the same X-AQID-Delivery-Id, received {ids}"
    assert len(bodies) == 1, "every attempt carries the same body bytes; they differ:\n" + (
        "\n".join(r.describe() for r in attempts))
    assert len(signatures) == 1, f"every attempt has the same signature, received {signatures}"
    numbers = [r.header("X-AQID-Delivery-Attempt") for r in attempts]
    assert numbers == [str(n) for n in range(1, len(attempts) + 1)], (
        f"X-AQID-Delivery-Attempt in arrival order: {numbers}, documented 1..{len(attempts)}"
    )
    for number, request in enumerate(attempts, 1):
        assert_delivery_valid(spec, request, secret=hook.secret, event=event,
                              webhook_uuid=hook.uuid, attempt=number)


def expect_retries(hook: Subscription, count: int, timeout: float, mine: Only,
                   what: str) -> list[ReceivedRequest]:
    __tracebackhide__ = True
    try:
        return hook.endpoint.wait(count, timeout, match=mine)
    except DeliveryWaitTimeout as failure:
        raise DeliveryWaitTimeout(f"{what} must be retried: {count} attempts expected.\n"
                                  f"{failure}") from None


def test_a_failed_delivery_is_retried_with_the_same_id_body_and_signature(
    subscribed_webhook: Callable[..., Subscription], fire_event: Callable[..., int],
    delivery_marker: str, delivery_spec: DeliverySpec, delivery_timing: DeliveryTiming,
) -> None:
    if delivery_timing.attempts < 2:
        pytest.skip("the target makes a single attempt (retry_delays is empty)")
    failures = min(2, delivery_timing.attempts - 1)
    if reason := delivery_timing.beyond_reach(delivery_timing.schedule(failures + 1),
                                              f"{failures} retries of a delivery"):
        pytest.skip(reason)
    mine = Only(marker=delivery_marker)
    hook = subscribed_webhook(["record.finished"])
    hook.endpoint.respond_with(*[500] * failures, then=204, to=mine)
    fire_event("record.finished")

    attempts = expect_retries(hook, failures + 1, delivery_timing.schedule(failures + 1),
                              mine, f"a delivery answered 500 {failures} time(s)")
    hook.endpoint.assert_no_more(than=failures + 1, within=SETTLE, match=mine)  # 2xx ends it
    assert_same_delivery_retried(attempts, hook, delivery_spec, "record.finished")
    for index in range(failures):
        gap = attempts[index + 1].arrived_at - attempts[index].arrived_at
        least = delivery_timing.retry_delays[index]
        assert gap >= least * 0.9 - 0.01, (
            f"attempt {index + 2} came {gap:.3f}s after attempt {index + 1}; the target's "
            f"retry_delays say it waits {least}s"
        )


def test_a_subscriber_slower_than_the_timeout_is_a_failed_attempt(
    subscribed_webhook: Callable[..., Subscription], fire_event: Callable[..., int],
    delivery_marker: str, delivery_spec: DeliverySpec, delivery_timing: DeliveryTiming,
) -> None:
    if delivery_timing.attempts < 2:
        pytest.skip("the target makes a single attempt (retry_delays is empty)")
    if delivery_timing.timeout > MAX_SLOW_TIMEOUT:
        pytest.skip(f"the target's timeout is {delivery_timing.timeout}s: too slow to test "
                    f"here (limit {MAX_SLOW_TIMEOUT}s)")
    if reason := delivery_timing.beyond_reach(
            delivery_timing.schedule(2, slow_answers=True), "a retry after a timeout"):
        pytest.skip(reason)
    mine = Only(marker=delivery_marker)
    hook = subscribed_webhook(["record.reviewed"])
    hook.endpoint.respond_with(Answer(204, delay=delivery_timing.timeout + 1.0), then=204,
                               to=mine)
    fire_event("record.reviewed")
    attempts = expect_retries(hook, 2, delivery_timing.schedule(2, slow_answers=True), mine,
                              f"a delivery not answered within timeout={delivery_timing.timeout}s")
    assert_same_delivery_retried(attempts[:2], hook, delivery_spec, "record.reviewed")


def test_a_webhook_is_disabled_after_disable_after_fully_failed_payloads(
    subscribed_webhook: Callable[..., Subscription], fire_event: Callable[..., int],
    api: ApiClient, delivery_marker: str, delivery_timing: DeliveryTiming,
) -> None:
    threshold, attempts = delivery_timing.disable_after, delivery_timing.attempts
    payload_time = sum(delivery_timing.retry_delays) + attempts * 0.1
    if 2 * payload_time > MAX_DISABLE_SECONDS or threshold * attempts > 500:
        pytest.skip(f"disable_after={threshold} with retry_delays="
                    f"{list(delivery_timing.retry_delays)} takes too long to run here")
    mine = Only(marker=delivery_marker)
    hook = subscribed_webhook(["watchlist.updated"])
    hook.endpoint.respond_with(then=500, to=mine)  # the ping (if any) succeeds; events fail
    # A ping's success resets the tally (brief): let it be recorded before the failures.
    with contextlib.suppress(DeliveryWaitTimeout):
        hook.endpoint.wait(1, delivery_timing.first_arrival, match=PING)
    wait_logged(api, hook, delivery_timing, hook.endpoint.matching(PING)[:1], 1)
    # Payloads may run side by side or one after another: allow for the latter.
    wait = threshold * payload_time + SLACK

    # Up to one short of the threshold the webhook stays enabled.
    for _ in range(threshold - 1):
        fire_event("watchlist.updated")
    failed = hook.endpoint.wait((threshold - 1) * attempts, wait, match=mine)
    if threshold > 1:
        # Judged once the log shows each payload's last attempt (the target records the
        # outcome after our answer), not after a guess at the target's speed.
        wait_logged(api, hook, delivery_timing, failed, attempts)
        assert webhook_state(api, hook) == {"v2 is_enabled": True, "v1 active": True}, (
            f"after {threshold - 1} fully failed payloads (disable_after={threshold}) the "
            "webhook must still be enabled"
        )
    fire_event("watchlist.updated")
    hook.endpoint.wait(threshold * attempts, wait, match=mine)
    deadline = time.monotonic() + SLACK
    for _ in range(MAX_POLLS):  # bounded in requests and time, spaced (rate limits)
        if not v2_is_enabled(api, hook) or time.monotonic() > deadline:
            break
        time.sleep(delivery_timing.poll_interval)
    state = webhook_state(api, hook)
    assert state == {"v2 is_enabled": False, "v1 active": False}, (
        f"after {threshold} fully failed payloads (disable_after={threshold}) the webhook "
        f"reads {state}; documented disabled in both versions"
    )


def wait_logged(api: ApiClient, hook: Subscription, timing: DeliveryTiming,
                requests: list[ReceivedRequest], attempts: int) -> None:
    """Until the log shows `attempts` for each of these deliveries (bounded; not judged)."""
    ids = delivery_ids(requests)
    if ids:
        poll_delivery_log(api, hook.id, timing, lambda log: all(
            log.get(i, {}).get("attempts") == attempts for i in ids))


def v2_is_enabled(api: ApiClient, hook: Subscription) -> Any:
    response = api.request("GET", f"/api/v2/webhooks/{hook.id}")
    assert response.status_code == 200, f"GET v2 webhook answered {response.status_code}"
    return response.json().get("is_enabled")


def webhook_state(api: ApiClient, hook: Subscription) -> dict[str, Any]:
    """is_enabled from v2 GET, active from the v1 list (v1 has no single-webhook GET)."""
    return {"v2 is_enabled": v2_is_enabled(api, hook),
            "v1 active": v1_webhook(api, hook.id).get("active")}


def v1_webhook(api: ApiClient, webhook_id: int, max_pages: int = 50) -> dict[str, Any]:
    """The v1 list's entry for this webhook.

    Room "foreign-data": the team may hold any number of other webhooks. Lists are in
    ascending id (brief), so a webhook the run just made is near the end: page 1 says how
    many pages there are, then the walk goes from the last page back (bounded).
    """
    def read(number: int) -> tuple[dict[str, Any] | None, int]:
        response = api.request("GET", "/api/webhooks",
                               params={"page": number, "per_page": LOG_PAGE})
        assert response.status_code == 200, f"GET /api/webhooks answered {response.status_code}"
        body = response.json()
        found = [w for w in body.get("data", []) if isinstance(w, dict)
                 and w.get("id") == webhook_id]
        pages = body.get("meta", {}).get("pagination", {}).get("total_pages", 1)
        return (found[0] if found else None), (pages if isinstance(pages, int) else 1)

    found, last = read(1)
    for number in range(last, max(1, last - max_pages), -1):
        if found is not None:
            break
        found, _ = read(number)
    if found is None:
        pytest.fail(f"webhook {webhook_id} is missing from the v1 list (GET /api/webhooks, "
                    f"page 1 and up to {max_pages} page(s) of {LOG_PAGE} from the end)")
    return found
