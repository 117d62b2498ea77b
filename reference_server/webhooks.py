"""Webhook operations both versions share: find, create, update, delete (with pings)."""

from __future__ import annotations

import re
from typing import Any

from starlette.requests import Request

from reference_server.config import Settings, TokenGrant
from reference_server.deliveries import Dispatcher
from reference_server.events import PING
from reference_server.responses import invalid, settings_of, webhook_not_found
from reference_server.store import Store, Webhook

PING_DATA = ["ping"]
_ID = re.compile(r"[0-9]+")
MAX_ID = 2**63 - 1  # SQLite's integer range; room "path-id-range": beyond it, 404 or 422


def store_of(request: Request) -> Store:
    return request.app.state.store


def dispatcher_of(request: Request) -> Dispatcher:
    return request.app.state.dispatcher


def webhook_id(request: Request) -> int:
    """The path id; a non-numeric id is simply a webhook that does not exist."""
    raw = request.path_params["id"]
    if settings_of(request).has_fault("non-numeric-id-500"):
        return int(raw)  # the bug: "abc" raises ValueError, an unhandled 500
    if not _ID.fullmatch(raw):
        raise webhook_not_found()
    if len(raw.lstrip("0")) > 19 or int(raw) > MAX_ID:  # cannot exist (length bounds int())
        if settings_of(request).has_variant("huge-path-id-refused"):
            raise invalid({"id": [f"The id must not be greater than {MAX_ID}."]})
        raise webhook_not_found()
    return int(raw)


def stored_events(events: list[str], settings: Settings) -> list[str]:
    """Room "events-order": no order is promised; `events-reordered` keeps them reverse
    sorted instead of as sent (in every view: v2, v1 string, payloads)."""
    return sorted(events, reverse=True) if settings.has_variant("events-reordered") else events


def listed_team(request: Request, grant: TokenGrant) -> str | None:
    """The team whose webhooks a list shows (None, every team, only for a fault)."""
    return None if settings_of(request).has_fault("other-team-listed") else grant.team


def find(request: Request, grant: TokenGrant, *, other_team_fault: str | None = None
         ) -> Webhook:
    """The caller's webhook with the path id, or 404 (another team's id looks unknown).
    Under `other_team_fault` (a team-isolation fault), any team's webhook is found."""
    settings = settings_of(request)
    any_team = other_team_fault is not None and settings.has_fault(other_team_fault)
    team = None if any_team else grant.team
    hook = store_of(request).get_webhook(webhook_id(request), team)
    if hook is None:
        raise webhook_not_found()
    return hook


def create(request: Request, grant: TokenGrant, url: str, events: list[str],
           is_enabled: bool, **read_only: Any) -> Webhook:
    """`read_only` (secret, created_at) is non-empty only under read-only-fields-honoured."""
    settings = settings_of(request)
    hook = store_of(request).create_webhook(grant.team, url, stored_events(events, settings),
                                            is_enabled, **read_only)
    pings = hook.is_enabled or settings.has_fault("ping-on-disabled-create")
    if pings and not settings.has_fault("no-ping-on-create"):
        dispatcher_of(request).deliver(hook, PING, PING_DATA)
    return hook


def update(request: Request, grant: TokenGrant, *, url: str | None = None,
           events: list[str] | None = None, is_enabled: bool | None = None,
           **read_only: Any) -> Webhook:
    """Apply the changes; re-enabling (false -> true) pings the webhook."""
    settings: Settings = settings_of(request)
    if events is not None:
        events = stored_events(events, settings)
    result = store_of(request).update_webhook(
        webhook_id(request), grant.team, url=url, events=events, is_enabled=is_enabled,
        persist=not settings.has_fault("update-not-stored"),
        move_updated_at=not settings.has_fault("updated-at-not-moved"),
        move_created_at=settings.has_fault("created-at-moves-on-update"), **read_only)
    if result is None:
        raise webhook_not_found()
    before, after = result
    re_enabled = after.is_enabled and not before.is_enabled
    if re_enabled and not settings.has_fault("no-ping-on-reenable"):
        dispatcher_of(request).deliver(after, PING, PING_DATA)
    return after


def delete(request: Request, grant: TokenGrant) -> Webhook:
    team = None if settings_of(request).has_fault("other-team-can-delete") else grant.team
    hook = store_of(request).delete_webhook(webhook_id(request), team)
    if hook is None:
        raise webhook_not_found()
    return hook
