"""Persistence, timestamps of updates, pings, and how fields are stored."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any
from urllib.parse import quote

from starlette.requests import Request

from reference_server.config import Settings
from reference_server.seams import fault, operation_of, variant
from reference_server.store import Store, Webhook

# Characters RFC 3986 allows in a URI (unreserved, reserved, and % for escapes): what
# `url-forms-percent-encoded` leaves as they are.
RFC3986_SAFE = "-._~:/?#[]@!$&'()*+,;=%"


class _StoreView:
    """The request's store, with one operation changed."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


class _NothingStored(_StoreView):
    def update_webhook(self, webhook_id: int, team: str | None,
                       change: Callable[[Webhook], Webhook]
                       ) -> tuple[Webhook, Webhook] | None:
        before = self._store.get_webhook(webhook_id, team)
        return None if before is None else (before, change(before))


class _NothingDeleted(_StoreView):
    def delete_webhook(self, webhook_id: int, team: str | None) -> Webhook | None:
        return self._store.get_webhook(webhook_id, team)


@fault("update-not-stored").after("store")
def _updates_not_stored(store: Store, request: Request) -> Any:
    return _NothingStored(store)


@fault("v2-delete-not-effective").after("store")
def _v2_deletes_nothing(store: Store, request: Request) -> Any:
    return _NothingDeleted(store) if operation_of(request) == "v2 delete" else store


@fault("v1-delete-not-effective").after("store")
def _v1_deletes_nothing(store: Store, request: Request) -> Any:
    return _NothingDeleted(store) if operation_of(request) == "v1 delete" else store


# -- update timestamps --------------------------------------------------------------------

@fault("updated-at-not-moved").after("update")
def _updated_at_stays(after: Webhook, settings: Settings, before: Webhook,
                      changes: dict[str, Any]) -> Webhook:
    return replace(after, updated_at=before.updated_at)


@fault("created-at-moves-on-update").after("update")
def _created_at_moves(after: Webhook, settings: Settings, before: Webhook,
                      changes: dict[str, Any]) -> Webhook:
    return replace(after, created_at=after.updated_at)


# -- pings --------------------------------------------------------------------------------

@fault("no-ping-on-create").after("ping")
def _no_ping_on_create(pings: bool, settings: Settings, before: Webhook | None,
                       after: Webhook) -> bool:
    return False if before is None else pings


@fault("no-ping-on-reenable").after("ping")
def _no_ping_on_reenable(pings: bool, settings: Settings, before: Webhook | None,
                         after: Webhook) -> bool:
    return pings if before is None else False


# ping-on-disabled-create is with the deliveries (modifiers/outbound.py): it changes both
# the ping decision and whether a disabled webhook is sent to.

# -- stored fields ------------------------------------------------------------------------

@variant("events-reordered").after("stored fields")
def _events_reverse_sorted(fields: dict[str, Any], settings: Settings, *_: Any
                           ) -> dict[str, Any]:
    """Room "events-order": no order is promised; kept reverse sorted (in every view: v2,
    v1 string, payloads)."""
    if fields.get("events") is None:
        return fields
    return {**fields, "events": sorted(fields["events"], reverse=True)}


@variant("url-forms-percent-encoded").after("stored fields")
def _url_percent_encoded(fields: dict[str, Any], settings: Settings, *_: Any
                         ) -> dict[str, Any]:
    """Characters outside RFC 3986, non-ASCII included, stored percent-encoded (UTF-8)."""
    if "url" not in fields:
        return fields
    return {**fields, "url": quote(fields["url"], safe=RFC3986_SAFE)}
