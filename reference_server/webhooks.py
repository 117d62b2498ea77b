"""Webhook operations both versions share: find, list, create, update, delete (with pings)."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, replace
from typing import Any

from starlette.requests import Request

from reference_server.config import Settings, TokenGrant
from reference_server.deliveries import Dispatcher
from reference_server.events import PING
from reference_server.pagination import PageRequest
from reference_server.responses import settings_of, webhook_not_found
from reference_server.seams import seam
from reference_server.store import Delivery, Store, Webhook

PING_DATA = ["ping"]
NUMERIC_ID = re.compile(r"[0-9]+")
MAX_ID = 2**63 - 1  # SQLite's integer range; room "path-id-range": beyond it, 404 or 422


@seam("store")
def store_of(request: Request) -> Store:
    return request.app.state.store


def dispatcher_of(request: Request) -> Dispatcher:
    return request.app.state.dispatcher


def beyond_range(raw: str) -> bool:
    """A digit string too large to be any webhook's id (its length bounds the int())."""
    return len(raw.lstrip("0")) > 19 or int(raw) > MAX_ID


@seam("webhook id")
def webhook_id(request: Request) -> int:
    """The path id; a non-numeric or out-of-range id is simply a webhook that does not
    exist."""
    raw = request.path_params["id"]
    if not NUMERIC_ID.fullmatch(raw) or beyond_range(raw):
        raise webhook_not_found()
    return int(raw)


@seam("team")
def team_scope(request: Request, grant: TokenGrant) -> str | None:
    """The team whose webhooks the caller may see and change: their own (None: every
    team's)."""
    return grant.team


def find(request: Request, grant: TokenGrant) -> Webhook:
    """The caller's webhook with the path id, or 404 (another team's id looks unknown)."""
    hook = store_of(request).get_webhook(webhook_id(request), team_scope(request, grant))
    if hook is None:
        raise webhook_not_found()
    return hook


@dataclass(frozen=True)
class WebhookQuery:
    team: str | None
    enabled: bool | None  # None: enabled and disabled alike
    offset: int
    limit: int
    descending: bool = False  # the store reads either way; lists are ascending by id


@seam("webhook list")
def list_page(request: Request, query: WebhookQuery) -> tuple[list[Webhook], int]:
    return store_of(request).list_webhooks(query.team, query.enabled, query.offset,
                                           query.limit, descending=query.descending)


def listed(request: Request, grant: TokenGrant, enabled: bool | None,
           page: PageRequest) -> tuple[list[Webhook], int]:
    """One page of the caller's webhooks, ascending id, and how many there are."""
    return list_page(request, WebhookQuery(team_scope(request, grant), enabled, page.offset,
                                           page.size))


@dataclass(frozen=True)
class DeliveryQuery:
    webhook_id: int
    offset: int
    limit: int
    newest_first: bool = True


@seam("delivery list")
def delivery_page(request: Request, query: DeliveryQuery) -> tuple[list[Delivery], int]:
    return store_of(request).list_deliveries(query.webhook_id, query.offset, query.limit,
                                             newest_first=query.newest_first)


def delivery_log(request: Request, hook: Webhook,
                 page: PageRequest) -> tuple[list[Delivery], int]:
    """One page of the webhook's delivery log, newest first, and how many entries."""
    return delivery_page(request, DeliveryQuery(hook.id, page.offset, page.size))


@seam("stored fields")
def stored_fields(settings: Settings, fields: dict[str, Any]) -> dict[str, Any]:
    """The url and events as sent are the url and events stored."""
    return fields


@seam("ping")
def pings(settings: Settings, before: Webhook | None, after: Webhook) -> bool:
    """Creating an enabled webhook (`before` None) pings it, and so does re-enabling one."""
    return after.is_enabled and (before is None or not before.is_enabled)


def create(request: Request, grant: TokenGrant, *, url: str, events: list[str],
           is_enabled: bool, **read_only: Any) -> Webhook:
    settings = settings_of(request)
    hook = store_of(request).create_webhook(
        grant.team, **stored_fields(settings, {"url": url, "events": events,
                                               "is_enabled": is_enabled, **read_only}))
    if pings(settings, None, hook):
        dispatcher_of(request).deliver(hook, PING, PING_DATA)
    return hook


@seam("update")
def updated(settings: Settings, before: Webhook, changes: dict[str, Any]) -> Webhook:
    """`before` with `changes`. `updated_at` becomes max(now, before + 1 s): timestamps
    render whole seconds, and the contract says it *moves* on every update, even two
    updates in one second; `created_at` never moves. Re-enabling resets the failure tally.
    """
    re_enabled = changes.get("is_enabled") and not before.is_enabled
    return replace(before, **changes, updated_at=max(int(time.time()), before.updated_at + 1),
                   failure_tally=0 if re_enabled else before.failure_tally)


def update(request: Request, grant: TokenGrant, **changes: Any) -> Webhook:
    """Apply the changes (url, events, is_enabled; none: only updated_at moves);
    re-enabling (false -> true) pings the webhook."""
    settings = settings_of(request)
    changes = stored_fields(settings, changes)
    result = store_of(request).update_webhook(
        webhook_id(request), grant.team, lambda before: updated(settings, before, changes))
    if result is None:
        raise webhook_not_found()
    before, after = result
    if pings(settings, before, after):
        dispatcher_of(request).deliver(after, PING, PING_DATA)
    return after


def delete(request: Request, grant: TokenGrant) -> Webhook:
    hook = store_of(request).delete_webhook(webhook_id(request), team_scope(request, grant))
    if hook is None:
        raise webhook_not_found()
    return hook
