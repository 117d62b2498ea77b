"""Firing events through the sandbox, and telling one test's deliveries apart from others'.

`fire_sandbox_event` drives POST /_sandbox/events (the reference server's control surface)
and refuses to fire an event that would also reach webhooks the run did not create
(`foreign_subscribers`, read once per session and team; room "foreign-data"). Each test
marks its events' data with its own marker (`new_marker`); `Only` filters what a receiver
endpoint got to one event and/or one marker, since other tests of the same team fire
events concurrently and a `*` subscription receives those too. `event_matches` is the
brief's routing rule, shared with the curated sandbox steps.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pytest

from ..core.http import ApiClient, Credentials
from ..core.target import TAG_PREFIX, Target
from .receiver import ReceivedRequest

MAX_FOREIGN_PAGES = 50  # pages of 100 read to learn the team's other webhooks, at most
FOREIGN_SUBSCRIBERS = (
    "firing {event} through POST /_sandbox/events would also deliver to {count} enabled "
    "webhook(s) of this team that the run did not create (ids {ids}): the target fans an "
    "event out to all of them, moving their delivery logs and failure tallies (at "
    "disable_after it disables them), and the suite never changes webhooks it did not create "
    "(room foreign-data); run the delivery contracts against a team without such webhooks")
EVENTS_NEED_SANDBOX = ("this contract triggers events through POST /_sandbox/events; the target "
                       "{target} has no /_sandbox (GET /_sandbox is not 200): only the reference "
                       "server can be told to fire an event")


def new_marker() -> str:
    """A value unique to one test, sent as event data so its deliveries can be told apart."""
    return "aqid-contracts-" + secrets.token_hex(6)


def fire_sandbox_event(api: ApiClient, target: Target, event: str, *, marker: str,
                       credentials: Credentials = "token") -> int:
    """POST /_sandbox/events with this test's marker in the data; N from 202 {"deliveries": N}.

    Room "foreign-data": the target fans an event out to ALL the team's enabled matching
    webhooks, so N counts others' too (contracts check N >= theirs only), and an event that
    would reach a webhook the run did not create is not fired: the test skips, saying
    which (their logs and failure tallies, and at disable_after their is_enabled, would move).
    """
    known = foreign_subscribers(api, target, credentials)
    others = [w for w in known if event_matches(w[1], event)]
    if others:
        pytest.skip(FOREIGN_SUBSCRIBERS.format(
            event=event, count=len(others),
            ids=", ".join(str(w[0]) for w in others[:5]) + (", …" if len(others) > 5 else "")))
    data = {"aqid_contracts": {"marker": marker, "by": credentials}}
    response = api.request("POST", "/_sandbox/events", json={"event": event, "data": data},
                           credentials=credentials)
    body = response.json() if response.status_code == 202 else None
    count = body.get("deliveries") if isinstance(body, dict) else None
    if not isinstance(count, int) or count < 0:
        pytest.fail(f"POST /_sandbox/events {event}: expected 202 {{\"deliveries\": N}}, "
                    f"received {response.status_code} {api.secrets(response.text[:200])}")
    return count


def event_matches(subscription: Sequence[str], event: str) -> bool:
    """The brief's rule: `*` every event, `cat.*` its category, else the exact name."""
    category = event.split(".", 1)[0]
    return any(name in ("*", event, f"{category}.*") for name in subscription)


def foreign_subscribers(api: ApiClient, target: Target,
                        credentials: Credentials) -> list[tuple[Any, list[str]]]:
    """(id, events) of the team's enabled webhooks that this run did not create.

    Read once per session and team (foreign data does not come and go with the run; the
    cache is the session's ApiClient's, shared with the curated sandbox steps): the v2 list
    (`enabled=true`, pages of 100, bounded), or the v1 list where there is no v2. Ours are
    those whose URL carries this run's tag (or that this client made). Past the page bound
    the rest is unknown, which counts as one more foreign `*` webhook (the safe side).
    """
    cache = api.foreign_webhooks
    if credentials not in cache:
        cache[credentials] = _read_foreign(api, target, credentials)
    return cache[credentials]  # type: ignore[no-any-return]


def _read_foreign(api: ApiClient, target: Target,
                  credentials: Credentials) -> list[tuple[Any, list[str]]]:
    ours = f"/{TAG_PREFIX}/{target.run_id}/"
    v2 = "v2" in target.api_versions
    path = "/api/v2/webhooks" if v2 else "/api/webhooks"
    found: list[tuple[Any, list[str]]] = []
    for page in range(1, MAX_FOREIGN_PAGES + 1):
        params: dict[str, Any] = ({"page": page, "limit": 100, "enabled": "true"} if v2
                                  else {"page": page, "per_page": 100})
        response = api.request("GET", path, params=params, credentials=credentials)
        body = response.json() if response.status_code == 200 else None
        if not isinstance(body, dict) or not isinstance(body.get("data"), list):
            pytest.fail(f"GET {path} answered {response.status_code}, not the webhook list the "
                        f"delivery contracts read to leave others' webhooks alone: "
                        f"{api.secrets(response.text[:200])}")
        for hook in body["data"]:
            if (not isinstance(hook, dict) or ours in str(hook.get("url", ""))
                    or hook.get("id") in api.owned_ids):
                continue
            enabled = hook.get("is_enabled") if v2 else hook.get("active")
            events = hook.get("events")
            events = events.split(",") if isinstance(events, str) else events
            if enabled is not False:
                found.append((hook.get("id"), [str(e) for e in events or ["*"]]))
        pages = (body.get("total_pages") if v2
                 else body.get("meta", {}).get("pagination", {}).get("total_pages"))
        if not isinstance(pages, int) or page >= pages:
            return found
    return [*found, ("beyond the first pages", ["*"])]


@dataclass(frozen=True)
class Only:
    """A receiver filter: one event (trigger.alias) and/or one test's marker in the body.

    Other tests of the same team fire events concurrently and a `*` subscription receives
    those too; the marker (a byte search, so any JSON layout) keeps a test's own apart.
    """

    event: str | None = None
    marker: str | None = None

    @property
    def description(self) -> str:
        parts = [self.event or "any event"] + ([f"marker {self.marker}"] if self.marker else [])
        return ", ".join(parts)

    def __call__(self, request: ReceivedRequest) -> bool:
        if self.marker is not None and self.marker.encode() not in request.body:
            return False
        return self.event is None or alias_of(request) == self.event


def alias_of(request: ReceivedRequest) -> str | None:
    """The event a delivery says it is for (its payload's trigger.alias), if it says."""
    try:
        alias = json.loads(request.body)["trigger"]["alias"]
    except (ValueError, KeyError, TypeError):
        return None
    return alias if isinstance(alias, str) else None


def delivery_ids(requests: Sequence[ReceivedRequest]) -> list[str]:
    """The X-AQID-Delivery-Id of each request, in order, without repeats."""
    return list(dict.fromkeys(r.header("X-AQID-Delivery-Id") or "?" for r in requests))
