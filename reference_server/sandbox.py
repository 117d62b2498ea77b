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
from reference_server.seams import seam
from reference_server.store import Webhook
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


@seam("recipients")
def recipients(request: Request, team: str, event: str) -> list[Webhook]:
    """The team's enabled webhooks subscribed to `event` (by name, `cat.*` or `*`), each
    once."""
    candidates = webhooks.store_of(request).webhooks_for_team(team)
    return [hook for hook in candidates if matches(hook.events, event)]


async def fire_event(request: Request) -> Response:
    grant = authenticate(request)
    body = await json_object_body(request)
    event = body.get("event")
    if not is_concrete(event):
        raise invalid({"event": ["The event must be a concrete event name"
                                 " (not ping, not a wildcard)."]})
    base_url = str(request.base_url).rstrip("/")
    data = body["data"] if "data" in body else sample_data(event, base_url, next(_object_ids))
    dispatcher = webhooks.dispatcher_of(request)
    sent = recipients(request, grant.team, event)
    for hook in sent:
        dispatcher.deliver(hook, event, data)
    return json_response(request, {"deliveries": len(sent)}, 202)


ROUTES = [
    path("/_sandbox", GET=delivery_settings),
    path("/_sandbox/events", POST=fire_event),
]
