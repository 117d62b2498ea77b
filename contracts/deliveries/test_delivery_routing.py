"""Delivery contracts: which webhooks receive an event (fired through POST /_sandbox/events).

Only enabled webhooks of the calling team whose `events` match receive an event (`*` all,
`cat.*` a category, else the exact name), each event once per webhook. Other tests of the
same team fire events at the same time, so each test marks its events' data and counts
only its own deliveries; the 202 count N covers the whole team, so it is checked as >=.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable

import pytest

from contract_suite.core.http import ApiClient
from contract_suite.core.session import require_other_team
from contract_suite.core.target import Target
from contract_suite.deliveries.checks import DeliverySpec, assert_delivery_valid
from contract_suite.deliveries.events import Only, alias_of
from contract_suite.deliveries.subscriptions import Subscription
from contract_suite.deliveries.timing import SETTLE, DeliveryTiming

pytestmark = [pytest.mark.sandbox, pytest.mark.writes, pytest.mark.v2]


def matches(subscription: list[str], event: str) -> bool:
    """The brief's rule, restated here so the contract does not trust the target's."""
    category = event.split(".", 1)[0]
    return any(name in ("*", event, f"{category}.*") for name in subscription)


def test_each_subscription_receives_exactly_the_events_it_matches_once(
    subscribed_webhook: Callable[..., Subscription], fire_event: Callable[..., int],
    delivery_marker: str, delivery_spec: DeliverySpec, delivery_timing: DeliveryTiming,
) -> None:
    hooks = [
        subscribed_webhook(["*"], name="star"),
        subscribed_webhook(["client.*"], name="client-star"),
        subscribed_webhook(["client.created"], name="client-created"),
        subscribed_webhook(["record.created", "form.sent"], name="two-concrete"),
    ]
    fired = ["client.created", "record.created", "client.updated", "form.sent"]
    counts = {event: fire_event(event) for event in fired}
    mine = Only(marker=delivery_marker)

    expected = {hook.endpoint.slug: sorted(e for e in fired if matches(hook.events, e))
                for hook in hooks}
    for hook in hooks:  # the positive waits first: then a misroute has had time to land
        hook.endpoint.wait(len(expected[hook.endpoint.slug]), delivery_timing.first_arrival,
                           match=mine)
    time.sleep(SETTLE)  # once for all four: a duplicate or a misroute would be here by now
    for hook in hooks:
        wanted = expected[hook.endpoint.slug]
        got = hook.endpoint.assert_no_more(than=len(wanted), within=0, match=mine)
        assert sorted(alias_of(r) for r in got) == wanted, (
            f"webhook subscribed to {hook.events} received {sorted(map(alias_of, got))}, "
            f"documented {wanted} (each matching event once)"
        )
        for request in got:
            assert_delivery_valid(delivery_spec, request, secret=hook.secret,
                                  event=alias_of(request) or "?", webhook_uuid=hook.uuid)
    for event, count in counts.items():
        ours = sum(matches(hook.events, event) for hook in hooks)
        assert count >= ours, (
            f"POST /_sandbox/events {event} answered deliveries={count}, but {ours} of this "
            "test's enabled webhooks match it"
        )


def test_a_delivery_is_one_per_webhook_even_when_several_subscriptions_match(
    subscribed_webhook: Callable[..., Subscription], fire_event: Callable[..., int],
    delivery_marker: str, delivery_timing: DeliveryTiming,
) -> None:
    hook = subscribed_webhook(["*", "form.*", "form.attached"], name="overlapping")
    fire_event("form.attached")
    mine = Only(marker=delivery_marker)
    hook.endpoint.wait(1, delivery_timing.first_arrival, match=mine)
    hook.endpoint.assert_no_more(than=1, within=SETTLE, match=mine)


def test_disabled_and_deleted_webhooks_receive_nothing(
    subscribed_webhook: Callable[..., Subscription], fire_event: Callable[..., int],
    delivery_marker: str, delivery_timing: DeliveryTiming, api: ApiClient,
) -> None:
    control = subscribed_webhook(["case.*"], name="enabled-control")
    disabled = subscribed_webhook(["case.*"], enabled=False, name="disabled")
    deleted = subscribed_webhook(["case.*"], name="deleted")
    response = api.request("DELETE", f"/api/v2/webhooks/{deleted.id}")
    assert response.status_code == 204, f"setup: DELETE answered {response.status_code}"
    fire_event("case.created")
    mine = Only(marker=delivery_marker)
    control.endpoint.wait(1, delivery_timing.first_arrival, match=mine)
    disabled.endpoint.assert_no_delivery(within=SETTLE, match=mine)
    deleted.endpoint.assert_no_delivery(within=0.1, match=mine)


@pytest.mark.other_team
def test_another_teams_webhooks_receive_nothing(
    target: Target, subscribed_webhook: Callable[..., Subscription],
    fire_event: Callable[..., int], delivery_marker: str, delivery_timing: DeliveryTiming,
) -> None:
    require_other_team(target)
    ours = subscribed_webhook(["*"], name="main-team")
    theirs = subscribed_webhook(["*"], name="other-team", credentials="other_team")
    fire_event("case.updated")
    fire_event("case.updated", credentials="other_team")
    mine = Only(marker=delivery_marker)
    for hook in (ours, theirs):
        hook.endpoint.wait(1, delivery_timing.first_arrival, match=mine)
    time.sleep(SETTLE)
    for hook, team in ((ours, "token"), (theirs, "other_team")):
        got = hook.endpoint.assert_no_more(than=1, within=0, match=mine)
        senders = Counter(_fired_by(r.body) for r in got)
        assert senders == {team: 1}, (
            f"the {team} team's webhook received events fired by {dict(senders)}; "
            "a team's events reach only its own webhooks"
        )


def _fired_by(body: bytes) -> str:
    try:
        return json.loads(body)["data"]["aqid_contracts"]["by"]
    except (ValueError, KeyError, TypeError):
        return "?"
