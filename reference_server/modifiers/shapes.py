"""Webhook and delivery-log shapes (field names/types, cross-version, timestamps)."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from reference_server import webhooks
from reference_server.auth import authenticate
from reference_server.config import Settings
from reference_server.representations import iso_offset, webhook_v2
from reference_server.responses import json_response, settings_of
from reference_server.seams import fault, variant
from reference_server.store import Delivery, Webhook

Body = dict[str, Any]

# -- v2 webhooks --------------------------------------------------------------------------

@fault("v2-missing-object-tag").after("v2 webhook")
def _no_object_tag(body: Body, hook: Webhook, settings: Settings) -> Body:
    del body["object"]
    return body


@fault("v2-uuid-not-uuid").after("v2 webhook")
def _short_uuid(body: Body, hook: Webhook, settings: Settings) -> Body:
    body["uuid"] = "wh_" + hook.uuid.replace("-", "")[:12]
    return body


@fault("v2-timestamps-offset").after("v2 webhook")
def _v2_offset_stamps(body: Body, hook: Webhook, settings: Settings) -> Body:
    body["created_at"], body["updated_at"] = (iso_offset(hook.created_at),
                                              iso_offset(hook.updated_at))
    return body


@fault("v2-secret-missing-on-read").around("v2 retrieve")
async def _retrieve_without_secret(proceed: Any, request: Request) -> Response:
    body = webhook_v2(webhooks.find(request, authenticate(request)), settings_of(request))
    del body["secret"]
    return json_response(request, body)


# -- v1 webhooks --------------------------------------------------------------------------

@fault("v1-events-as-array").after("v1 webhook")
def _events_array(body: Body, hook: Webhook, settings: Settings) -> Body:
    body["events"] = list(hook.events)
    return body


@fault("v1-active-missing").after("v1 webhook")
def _no_active(body: Body, hook: Webhook, settings: Settings) -> Body:
    del body["active"]
    return body


@fault("v1-secret-differs").after("v1 webhook")
def _other_secret(body: Body, hook: Webhook, settings: Settings) -> Body:
    body["secret"] = hashlib.sha256(hook.secret.encode()).hexdigest()  # signs nothing
    return body


@fault("v1-active-inverted").after("v1 webhook")
def _active_inverted(body: Body, hook: Webhook, settings: Settings) -> Body:
    body["active"] = not hook.is_enabled
    return body


@fault("v1-timestamps-other-instant").around("v1 webhook")
def _an_hour_earlier(proceed: Any, hook: Webhook, settings: Settings) -> Body:
    return proceed(replace(hook, created_at=hook.created_at - 3600,
                           updated_at=hook.updated_at - 3600), settings)


@fault("v1-timestamps-zulu").after("v1 webhook")
def _v1_zulu_stamps(body: Body, hook: Webhook, settings: Settings) -> Body:
    for name in ("created_at", "updated_at"):
        body[name] = body[name].removesuffix("+00:00") + "Z"
    return body


extra_fields = variant("extra-fields")


@extra_fields.after("v2 webhook")
@extra_fields.after("v1 webhook")
def _described(body: Body, hook: Webhook, settings: Settings) -> Body:
    body["description"] = None  # undocumented, and null
    return body


# -- delivery logs ------------------------------------------------------------------------

status_int = fault("delivery-log-status-int")


@status_int.after("v2 delivery")
def _v2_status_int(body: Body, delivery: Delivery, settings: Settings) -> Body:
    body["response"]["status_code"] = int(delivery.status_code)
    return body


@status_int.after("v1 delivery")
def _v1_status_int(body: Body, delivery: Delivery, settings: Settings) -> Body:
    body["status"] = int(delivery.status_code)
    return body


@fault("v1-delivery-failed-inverted").after("v1 delivery")
def _failed_inverted(body: Body, delivery: Delivery, settings: Settings) -> Body:
    body["failed"] = not body["failed"]
    return body


# -- fractions of seconds (room "fractional-seconds") -------------------------------------

def _with_fraction(stamp: str, fraction: int) -> str:
    zone = "Z" if stamp.endswith("Z") else stamp[-6:]
    return f"{stamp.removesuffix(zone)}.{fraction:06d}{zone}"


def _sent_fraction(stamp: float) -> int:
    return min(999_999, int((stamp - int(stamp)) * 1_000_000))


fractions = variant("fractional-seconds")


@fractions.after("v1 webhook")
def _v1_stamp_fractions(body: Body, hook: Webhook, settings: Settings) -> Body:
    """The store keeps whole seconds, so the fraction is made up, the same for both stamps
    of one webhook: v1 and v2 still show the same instant to the second."""
    fraction = (hook.id * 7919 + 123_457) % 1_000_000
    for name in ("created_at", "updated_at"):
        body[name] = _with_fraction(body[name], fraction)
    return body


@fractions.after("v2 delivery")
def _v2_sent_fractions(body: Body, delivery: Delivery, settings: Settings) -> Body:
    sent_at = _with_fraction(body["last_sent_at"], _sent_fraction(delivery.last_sent_at))
    body["request"]["body"]["sent_at"] = body["last_sent_at"] = sent_at
    return body


@fractions.after("v1 delivery")
def _v1_sent_fraction(body: Body, delivery: Delivery, settings: Settings) -> Body:
    body["last_delivered_at"] = _with_fraction(body["last_delivered_at"],
                                               _sent_fraction(delivery.last_sent_at))
    return body
