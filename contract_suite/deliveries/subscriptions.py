"""Webhooks the delivery contracts create on the target, pointing at receiver endpoints.

`subscribe` creates one (v2 or v1, with the given team's credentials) for an endpoint and
returns a `Subscription`: its id, uuid, secret, events, and the endpoint its deliveries
arrive at. `delete_subscriptions` deletes exactly those a test made, going on past any that
fails, and says which it could not delete. All requests go through the session's ApiClient
(rate limits waited out; created ids remembered for the session-end cleanup; every secret
it sees learned by the session's Secrets, so failure text is masked with `api.secrets`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest

from ..core.http import ApiClient, Credentials
from ..core.ratelimit import RateLimitBudgetSpent
from ..core.target import Target
from .receiver import Endpoint, ReceivedRequest

Made = tuple[int, Credentials]  # a created webhook's id, and the team that created it


@dataclass(frozen=True)
class Subscription:
    """A webhook created for one test, and the receiver endpoint it points at."""

    id: int
    uuid: str | None  # None when the target has no v2 to read it from
    secret: str = field(repr=False)  # never in a failure's repr; the session's secrets know it too
    events: list[str]
    endpoint: Endpoint
    version: str  # the API version that created it
    created: dict[str, Any] = field(repr=False)  # the create response body (holds the secret)

    def wait(self, count: int, timeout: float) -> list[ReceivedRequest]:
        return self.endpoint.wait(count, timeout)


def subscribe(api: ApiClient, target: Target, endpoint: Endpoint, events: Sequence[str], *,
              version: str = "v2", enabled: bool = True, credentials: Credentials = "token",
              made: list[Made] | None = None) -> Subscription:
    """Create a webhook for `endpoint`; anything but 201 with a webhook fails the test (setup).

    `made` gets (id, credentials) as soon as the webhook exists, so a caller deletes it
    even when the rest of the set-up (reading its uuid) fails.
    """
    if version == "v2":
        body: dict[str, Any] = {"url": endpoint.url, "events": list(events),
                                "is_enabled": enabled}
    else:
        body = {"url": endpoint.url, "events": ",".join(events), "active": enabled}
    path = f"{target.api_url(version).removeprefix(target.base_url)}/webhooks"
    response = api.request("POST", path, json=body, credentials=credentials)
    created = response.json() if response.status_code == 201 else None
    if not isinstance(created, dict) or not isinstance(created.get("id"), int):
        pytest.fail(f"setup: POST {path} answered {response.status_code}, not 201 with a "
                    f"webhook: {api.secrets(response.text[:300])}")
    if made is not None:
        made.append((created["id"], credentials))
    return Subscription(created["id"], uuid_of(api, target, created, credentials),
                        str(created.get("secret", "")), list(events), endpoint, version,
                        created)


def uuid_of(api: ApiClient, target: Target, created: dict[str, Any],
            credentials: Credentials) -> str | None:
    """The webhook's uuid: from the create answer (v2), else a v2 GET, else None (v1 only)."""
    if isinstance(created.get("uuid"), str):
        return created["uuid"]
    if "v2" not in target.api_versions:
        return None
    response = api.request("GET", f"/api/v2/webhooks/{created['id']}", credentials=credentials)
    return response.json().get("uuid") if response.status_code == 200 else None


def delete_subscriptions(api: ApiClient, target: Target, made: Sequence[Made]) -> str | None:
    """Delete each of these webhooks (only those), going on past any that fails.

    A 404 is fine (the test deleted it itself); a 429 the client could not wait out (or
    the run's wait budget spent) is left to the session-end cleanup (room "rate-limits":
    never a failure). Anything else comes back as one line naming what is left (the
    session-end cleanup by run tag tries again); None when nothing is.
    """
    version = "v2" if "v2" in target.api_versions else "v1"
    prefix = target.api_url(version).removeprefix(target.base_url)
    left = []
    for webhook_id, credentials in made:
        try:
            status: int | str = api.request("DELETE", f"{prefix}/webhooks/{webhook_id}",
                                            credentials=credentials).status_code
        except RateLimitBudgetSpent:
            status = 429
        except Exception as error:  # noqa: BLE001 - a broken connection must not stop the rest
            status = f"{type(error).__name__}"
        if status not in (200, 204, 404, 429):
            left.append(f"{webhook_id} ({credentials}: {status})")
    if not left:
        return None
    return (f"delivery contracts: could not delete webhook(s) {', '.join(left)} at "
            f"{target.base_url}; the session-end cleanup retries, else run scripts/cleanup.py")
