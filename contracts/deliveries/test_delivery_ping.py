"""Delivery contracts: the `ping` a webhook receives when it is created or re-enabled.

Decision (API-BRIEF, "Deliveries"): creating an enabled webhook sends it one `ping`;
re-enabling one sends another; a disabled webhook gets none. A ping is signed with the
webhook's secret like any delivery and its `data` is ["ping"].

That decision is this project's reference server's, not documented upstream: a staging
target may well send no ping. So these contracts run only where the target has the
reference server's sandbox control surface (GET /_sandbox), and skip elsewhere, saying why.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from contract_suite.core.http import ApiClient
from contract_suite.core.session import SuiteSession
from contract_suite.deliveries.checks import DeliverySpec, assert_delivery_valid
from contract_suite.deliveries.events import Only
from contract_suite.deliveries.subscriptions import Subscription
from contract_suite.deliveries.timing import SETTLE, DeliveryTiming

pytestmark = [pytest.mark.sandbox, pytest.mark.writes, pytest.mark.pings]

PINGS_NEED_SANDBOX = ("pings on create/re-enable are the reference server's decision (brief); "
                      "this target has no /_sandbox")

PING = Only(event="ping")
# Events no contract fires, so only pings arrive at these webhooks. Two of them, so that
# the payload's webhook.events is compared without an order (room "events-order").
QUIET_EVENTS = ["client.deletion_reminder_deleted", "client.deletion_reminder_due"]
VERSIONS = [pytest.param("v2", marks=pytest.mark.v2), pytest.param("v1", marks=pytest.mark.v1)]


@pytest.fixture(autouse=True)
def _pings_are_the_reference_servers_decision(suite_session: SuiteSession) -> None:
    if suite_session.sandbox is None:
        pytest.skip(PINGS_NEED_SANDBOX)


def assert_one_valid_ping(hook: Subscription, spec: DeliverySpec, timing: DeliveryTiming,
                          *, already: int = 0) -> dict[str, Any]:
    """Exactly one more ping arrives (after `already`), and it is a valid delivery."""
    pings = hook.endpoint.wait(already + 1, timing.first_arrival, match=PING)
    hook.endpoint.assert_no_more(than=already + 1, within=SETTLE, match=PING)
    payload = assert_delivery_valid(spec, pings[already], secret=hook.secret, event="ping",
                                    webhook_uuid=hook.uuid)
    assert payload["data"] == ["ping"], f"a ping's data is [\"ping\"], received {payload['data']!r}"
    # Room "events-order": no order is promised inside events, so they compare as sets.
    assert sorted(payload["webhook"]["events"]) == sorted(hook.events), (
        f"payload webhook.events {payload['webhook']['events']!r}, "
        f"the webhook subscribes to {hook.events!r}"
    )
    return payload


@pytest.mark.parametrize("version", VERSIONS)
def test_creating_an_enabled_webhook_sends_exactly_one_signed_ping(
    version: str, subscribed_webhook: Callable[..., Subscription],
    delivery_spec: DeliverySpec, delivery_timing: DeliveryTiming,
) -> None:
    hook = subscribed_webhook(QUIET_EVENTS, version=version)
    assert_one_valid_ping(hook, delivery_spec, delivery_timing)


@pytest.mark.parametrize("version", VERSIONS)
def test_creating_a_disabled_webhook_sends_no_ping(
    version: str, subscribed_webhook: Callable[..., Subscription],
    delivery_timing: DeliveryTiming,
) -> None:
    # An enabled twin, created just after, calibrates the wait: once its ping has come,
    # a ping to the disabled one would have come too.
    disabled = subscribed_webhook(QUIET_EVENTS, version=version, enabled=False, name="disabled")
    enabled = subscribed_webhook(QUIET_EVENTS, version=version, name="enabled-twin")
    enabled.endpoint.wait(1, delivery_timing.first_arrival, match=PING)
    disabled.endpoint.assert_no_delivery(within=SETTLE)


@pytest.mark.parametrize("version", VERSIONS)
def test_re_enabling_a_webhook_sends_exactly_one_more_ping(
    version: str, subscribed_webhook: Callable[..., Subscription], api: ApiClient,
    delivery_spec: DeliverySpec, delivery_timing: DeliveryTiming,
) -> None:
    hook = subscribed_webhook(QUIET_EVENTS, version=version)
    hook.endpoint.wait(1, delivery_timing.first_arrival, match=PING)
    set_enabled(api, hook, False)
    hook.endpoint.assert_no_more(than=1, within=SETTLE, match=PING)  # disabling sends none
    set_enabled(api, hook, True)
    assert_one_valid_ping(hook, delivery_spec, delivery_timing, already=1)


def set_enabled(api: ApiClient, hook: Subscription, enabled: bool) -> None:
    """v2 PATCH is_enabled, or v1 PUT (a full replacement) with active."""
    if hook.version == "v2":
        method, path = "PATCH", f"/api/v2/webhooks/{hook.id}"
        body: dict[str, Any] = {"is_enabled": enabled}
    else:
        method, path = "PUT", f"/api/webhooks/{hook.id}"
        body = {"url": hook.endpoint.url, "events": ",".join(hook.events), "active": enabled}
    response = api.request(method, path, json=body)
    assert response.status_code == 200, (
        f"setup: {method} {path} {body} answered {response.status_code}: "
        f"{api.secrets(response.text[:200])}"
    )
