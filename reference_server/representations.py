"""The v1 and v2 shapes of one stored row: the two versions are two views of one resource."""

from __future__ import annotations

import hashlib
import json
import time
from typing import Any

from reference_server.config import Settings
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


def _webhook_fraction(hook: Webhook, settings: Settings) -> int | None:
    """Room "fractional-seconds": v1 timestamps may carry a fraction (`fractional-seconds`).
    The store keeps whole seconds, so the fraction is made up, the same for both stamps of
    one webhook: v1 and v2 still show the same instant to the second."""
    if not settings.has_variant("fractional-seconds"):
        return None
    return (hook.id * 7919 + 123_457) % 1_000_000


def _sent_fraction(stamp: float, settings: Settings) -> int | None:
    """`last_sent_at`, `sent_at`, `last_delivered_at`: the real fraction, under the variant."""
    if not settings.has_variant("fractional-seconds"):
        return None
    return min(999_999, int((stamp - int(stamp)) * 1_000_000))


def webhook_v2(hook: Webhook, settings: Settings) -> dict[str, Any]:
    stamp = iso_offset if settings.has_fault("v2-timestamps-offset") else iso_z
    body: dict[str, Any] = {
        "object": "webhook", "id": hook.id, "uuid": hook.uuid, "url": hook.url,
        "secret": hook.secret, "events": list(hook.events), "is_enabled": hook.is_enabled,
        "created_at": stamp(hook.created_at), "updated_at": stamp(hook.updated_at),
    }
    if settings.has_fault("v2-missing-object-tag"):
        del body["object"]
    if settings.has_fault("v2-uuid-not-uuid"):
        body["uuid"] = "wh_" + hook.uuid.replace("-", "")[:12]
    if settings.has_variant("extra-fields"):
        body["description"] = None
    return body


def webhook_v1(hook: Webhook, settings: Settings) -> dict[str, Any]:
    events: Any = ",".join(hook.events)
    if settings.has_fault("v1-events-as-array"):
        events = list(hook.events)
    stamp = iso_z if settings.has_fault("v1-timestamps-zulu") else iso_offset
    shift = 3600 if settings.has_fault("v1-timestamps-other-instant") else 0
    fraction = _webhook_fraction(hook, settings)
    secret = hook.secret
    if settings.has_fault("v1-secret-differs"):  # well-formed, but not the signing key
        secret = hashlib.sha256(secret.encode()).hexdigest()
    body: dict[str, Any] = {
        "id": hook.id, "url": hook.url, "events": events,
        "active": hook.is_enabled != settings.has_fault("v1-active-inverted"),
        "secret": secret, "created_at": stamp(hook.created_at - shift, fraction),
        "updated_at": stamp(hook.updated_at - shift, fraction),
    }
    if settings.has_fault("v1-active-missing"):
        del body["active"]
    if settings.has_variant("extra-fields"):
        body["description"] = None
    return body


def _logged_headers(delivery: Delivery) -> dict[str, str]:
    return {name: delivery.request_headers[name] for name in LOGGED_REQUEST_HEADERS
            if name in delivery.request_headers}


def delivery_failed(delivery: Delivery) -> bool:
    """v1 `failed`: the last attempt so far was not 2xx (nothing attempted yet: not failed,
    unless the delivery was given up before its first attempt)."""
    attempted = delivery.attempts > 0 or delivery.state != "pending"
    return attempted and not delivery.status_code.startswith("2")


def _status(delivery: Delivery, settings: Settings) -> str | int:
    """The status code as the logs show it: a string such as "204"."""
    if settings.has_fault("delivery-log-status-int"):
        return int(delivery.status_code)
    return delivery.status_code


def delivery_v2(delivery: Delivery, settings: Settings) -> dict[str, Any]:
    payload = json.loads(delivery.body)
    sent_at = iso_z(delivery.last_sent_at, _sent_fraction(delivery.last_sent_at, settings))
    return {
        "object": "webhook_delivery", "id": delivery.id, "uuid": delivery.uuid,
        "event": delivery.event, "attempts": delivery.attempts,
        "request": {
            "url": delivery.url, "method": "POST", "headers": _logged_headers(delivery),
            "body": {"uuid": delivery.uuid, "event": delivery.event,
                     "sent_at": sent_at, "data": payload.get("data")},
        },
        "response": {"status_code": _status(delivery, settings),
                     "headers": dict(delivery.response_headers),
                     "body": delivery.response_body},
        "last_sent_at": sent_at,
    }


def delivery_v1(delivery: Delivery, settings: Settings) -> dict[str, Any]:
    headers = {"Request URL": delivery.url, "Request method": "POST",
               **_logged_headers(delivery)}
    return {
        "id": delivery.id, "uuid": delivery.uuid, "status": _status(delivery, settings),
        "failed": delivery_failed(delivery) != settings.has_fault("v1-delivery-failed-inverted"),
        "request": {"headers": headers, "body": json.loads(delivery.body)},
        "response": {"headers": dict(delivery.response_headers),
                     "body": delivery.response_body},
        "attempts": delivery.attempts,
        "last_delivered_at": iso_offset(delivery.last_sent_at,
                                        _sent_fraction(delivery.last_sent_at, settings)),
    }
