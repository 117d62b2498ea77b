"""The v1 and v2 shapes of one stored row: the two versions are two views of one resource."""

from __future__ import annotations

import json
import time
from typing import Any

from reference_server.config import Settings
from reference_server.seams import seam
from reference_server.store import Delivery, Webhook

# The request headers a delivery log shows (the attempt counter is sent but not logged).
LOGGED_REQUEST_HEADERS = ("Content-Length", "Host", "User-Agent", "Content-Type",
                          "X-AQID-Signature", "X-AQID-Delivery-Id")


def iso_z(stamp: float, fraction: int | None = None) -> str:
    """v2 form: RFC 3339 UTC, seconds, `Z` (`fraction`: microseconds after the second)."""
    return _iso(stamp, fraction, "Z")


def iso_offset(stamp: float, fraction: int | None = None) -> str:
    """v1 form: the same instant with a `+00:00` offset."""
    return _iso(stamp, fraction, "+00:00")


def _iso(stamp: float, fraction: int | None, zone: str) -> str:
    seconds = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(int(stamp)))
    return f"{seconds}{'' if fraction is None else f'.{fraction:06d}'}{zone}"


@seam("v2 webhook")
def webhook_v2(hook: Webhook, settings: Settings) -> dict[str, Any]:
    return {
        "object": "webhook", "id": hook.id, "uuid": hook.uuid, "url": hook.url,
        "secret": hook.secret, "events": list(hook.events), "is_enabled": hook.is_enabled,
        "created_at": iso_z(hook.created_at), "updated_at": iso_z(hook.updated_at),
    }


@seam("v1 webhook")
def webhook_v1(hook: Webhook, settings: Settings) -> dict[str, Any]:
    return {
        "id": hook.id, "url": hook.url, "events": ",".join(hook.events),
        "active": hook.is_enabled, "secret": hook.secret,
        "created_at": iso_offset(hook.created_at), "updated_at": iso_offset(hook.updated_at),
    }


def _logged_headers(delivery: Delivery) -> dict[str, str]:
    return {name: delivery.request_headers[name] for name in LOGGED_REQUEST_HEADERS
            if name in delivery.request_headers}


def delivery_failed(delivery: Delivery) -> bool:
    """v1 `failed`: the last attempt so far was not 2xx (nothing attempted yet: not failed,
    unless the delivery was given up before its first attempt)."""
    attempted = delivery.attempts > 0 or delivery.state != "pending"
    return attempted and not delivery.status_code.startswith("2")


@seam("v2 delivery")
def delivery_v2(delivery: Delivery, settings: Settings) -> dict[str, Any]:
    payload = json.loads(delivery.body)
    sent_at = iso_z(delivery.last_sent_at)
    return {
        "object": "webhook_delivery", "id": delivery.id, "uuid": delivery.uuid,
        "event": delivery.event, "attempts": delivery.attempts,
        "request": {
            "url": delivery.url, "method": "POST", "headers": _logged_headers(delivery),
            "body": {"uuid": delivery.uuid, "event": delivery.event,
                     "sent_at": sent_at, "data": payload.get("data")},
        },
        "response": {"status_code": delivery.status_code,  # a string, such as "204"
                     "headers": dict(delivery.response_headers),
                     "body": delivery.response_body},
        "last_sent_at": sent_at,
    }


@seam("v1 delivery")
def delivery_v1(delivery: Delivery, settings: Settings) -> dict[str, Any]:
    headers = {"Request URL": delivery.url, "Request method": "POST",
               **_logged_headers(delivery)}
    return {
        "id": delivery.id, "uuid": delivery.uuid, "status": delivery.status_code,
        "failed": delivery_failed(delivery),
        "request": {"headers": headers, "body": json.loads(delivery.body)},
        "response": {"headers": dict(delivery.response_headers),
                     "body": delivery.response_body},
        "attempts": delivery.attempts,
        "last_delivered_at": iso_offset(delivery.last_sent_at),
    }
