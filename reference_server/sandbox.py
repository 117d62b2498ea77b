"""The sandbox control surface (/_sandbox): not public API; lets a suite fire events.

Any valid token may use it (read-only ones too): it changes no webhook, it only asks the
server to behave as if something happened in the caller's team.
"""

from __future__ import annotations

import itertools

from starlette.requests import Request
from starlette.responses import Response

from reference_server import webhooks
from reference_server.auth import authenticate
from reference_server.events import is_concrete, matches, sample_data
from reference_server.responses import invalid, json_response, settings_of
from reference_server.routing import path
from reference_server.validation import json_object_body

_object_ids = itertools.count(472346)


def _number(value: float) -> float | int:
    return int(value) if float(value).is_integer() else value


async def delivery_settings(request: Request) -> Response:
    authenticate(request)
    settings = settings_of(request)
    return json_response(request, {
        "retry_delays": [_number(delay) for delay in settings.retry_delays],
        "timeout": _number(settings.timeout),
        "disable_after": settings.disable_after,
    })


async def fire_event(request: Request) -> Response:
    grant = authenticate(request)
    body = await json_object_body(request)
    event = body.get("event")
    if not is_concrete(event):
        raise invalid({"event": ["The event must be a concrete event name"
                                 " (not ping, not a wildcard)."]})
    base_url = str(request.base_url).rstrip("/")
    data = body["data"] if "data" in body else sample_data(event, base_url, next(_object_ids))
    settings = settings_of(request)
    dispatcher = webhooks.dispatcher_of(request)
    candidates = webhooks.store_of(request).webhooks_for_team(
        None if settings.has_fault("other-team-receives-events") else grant.team,
        enabled_only=not settings.has_fault("disabled-webhooks-receive"))
    categories = not settings.has_fault("routing-ignores-category")
    sent = 0
    for hook in candidates:
        copies = int(matches(hook.events, event, category_wildcards=categories))
        if copies and settings.has_fault("routing-duplicates"):  # once per matching name
            copies = sum(matches([name], event) for name in hook.events)
        for _ in range(copies):
            dispatcher.deliver(hook, event, data)
        sent += copies
    return json_response(request, {"deliveries": sent}, 202)


ROUTES = [
    path("/_sandbox", GET=delivery_settings),
    path("/_sandbox/events", POST=fire_event),
]
