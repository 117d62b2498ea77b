"""The v1 API under /api: the same webhooks, v1 shapes (events as one string, `active`)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from reference_server import webhooks
from reference_server.auth import authenticate
from reference_server.pagination import V1_DEFAULT_PER_PAGE, page_request, v1_list
from reference_server.representations import delivery_v1, webhook_v1
from reference_server.responses import json_response, settings_of
from reference_server.routing import path
from reference_server.seams import operation
from reference_server.validation import (
    Errors,
    boolean_errors,
    events_string_errors,
    json_object_body,
    raise_if,
    require,
    url_errors,
)

REQUIRED = ("url", "events", "active")


async def _full_webhook_body(request: Request) -> dict[str, Any]:
    """v1 create and PUT take the whole webhook: url, events (one string), active."""
    settings = settings_of(request)
    body = await json_object_body(request)
    errors: Errors = require(body, REQUIRED)
    if "url" in body and (messages := url_errors(body["url"], settings)):
        errors["url"] = messages
    if "events" in body:
        errors.update(events_string_errors(body["events"]))
    if "active" in body and (messages := boolean_errors(body["active"], "active")):
        errors["active"] = messages
    raise_if(errors)
    return {"url": body["url"], "events": body["events"].split(","),
            "is_enabled": body["active"]}


@operation("v1 list")
async def list_webhooks(request: Request) -> Response:
    grant = authenticate(request)
    settings = settings_of(request)
    page = page_request(request, "per_page", V1_DEFAULT_PER_PAGE)
    rows, total = webhooks.listed(request, grant, None, page)
    data = [webhook_v1(row, settings) for row in rows]
    return json_response(request, v1_list(request, settings, data, total, page))


@operation("v1 create")
async def create_webhook(request: Request) -> Response:
    grant = authenticate(request, write=True)
    hook = webhooks.create(request, grant, **await _full_webhook_body(request))
    return json_response(request, webhook_v1(hook, settings_of(request)), 201)


@operation("v1 update")
async def replace_webhook(request: Request) -> Response:
    grant = authenticate(request, write=True)
    webhooks.find(request, grant)  # an unknown id is a 404 before any 422
    hook = webhooks.update(request, grant, **await _full_webhook_body(request))
    return json_response(request, webhook_v1(hook, settings_of(request)))


@operation("v1 delete")
async def delete_webhook(request: Request) -> Response:
    hook = webhooks.delete(request, authenticate(request, write=True))
    return json_response(request, webhook_v1(hook, settings_of(request)))


@operation("v1 deliveries")
async def list_deliveries(request: Request) -> Response:
    grant = authenticate(request)
    settings = settings_of(request)
    hook = webhooks.find(request, grant)
    page = page_request(request, "per_page", V1_DEFAULT_PER_PAGE)
    rows, total = webhooks.delivery_log(request, hook, page)
    data = [delivery_v1(row, settings) for row in rows]
    return json_response(request, v1_list(request, settings, data, total, page))


ROUTES = [
    path("/api/webhooks", GET=list_webhooks, POST=create_webhook),
    path("/api/webhooks/{id}", PUT=replace_webhook, DELETE=delete_webhook),
    path("/api/webhooks/{id}/deliveries", GET=list_deliveries),
]
