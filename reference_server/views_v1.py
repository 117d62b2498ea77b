"""The v1 API under /api: the same webhooks, v1 shapes (events as one string, `active`)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from reference_server import webhooks
from reference_server.auth import authenticate, authenticate_writer
from reference_server.pagination import V1_DEFAULT_PER_PAGE, PageRequest, page_request, v1_list
from reference_server.representations import delivery_v1, webhook_v1
from reference_server.responses import json_response, settings_of
from reference_server.routing import path
from reference_server.validation import (
    Errors,
    boolean_errors,
    events_string_errors,
    json_object_body,
    raise_if,
    read_leniently,
    require,
    stored_url,
    url_errors,
)

REQUIRED = ("url", "events", "active")


async def _full_webhook_body(request: Request, fallback: dict[str, Any]) -> dict[str, Any]:
    """v1 create and PUT take the whole webhook: url, events (one string), active.

    `fallback` fills in missing fields; it is empty except under the v1-put-partial and
    v1-create-active-optional faults."""
    settings = settings_of(request)
    body = read_leniently({**fallback, **await json_object_body(request)}, settings, "active",
                          events_as_list=False)
    errors: Errors = require(body, REQUIRED)
    if "url" in body and (messages := url_errors(body["url"], settings)):
        errors["url"] = messages
    if "events" in body:
        errors.update(events_string_errors(body["events"]))
    if "active" in body and (messages := boolean_errors(body["active"], "active")):
        errors["active"] = messages
    raise_if(errors)
    return {"url": stored_url(body["url"], settings), "events": body["events"].split(","),
            "is_enabled": body["active"]}


async def list_webhooks(request: Request) -> Response:
    grant = authenticate(request)
    settings = settings_of(request)
    page = page_request(request, "per_page", V1_DEFAULT_PER_PAGE)
    if settings.has_fault("v1-per-page-ignored"):
        page = PageRequest(page.page, V1_DEFAULT_PER_PAGE, page.overlap)
    rows, total = webhooks.store_of(request).list_webhooks(
        webhooks.listed_team(request, grant), None, page.offset, page.size,
        descending=settings.has_fault("list-order-descending"))
    data = [webhook_v1(row, settings) for row in rows]
    return json_response(request, v1_list(request, settings, data, total, page))


async def create_webhook(request: Request) -> Response:
    grant = authenticate_writer(request)
    settings = settings_of(request)
    optional = {"active": True} if settings.has_fault("v1-create-active-optional") else {}
    fields = await _full_webhook_body(request, optional)
    hook = webhooks.create(request, grant, **fields)
    return json_response(request, webhook_v1(hook, settings), 201)


async def replace_webhook(request: Request) -> Response:
    grant = authenticate_writer(request)
    settings = settings_of(request)
    current = webhooks.find(request, grant)
    kept = {"url": current.url, "events": ",".join(current.events),
            "active": current.is_enabled} if settings.has_fault("v1-put-partial") else {}
    fields = await _full_webhook_body(request, kept)
    hook = webhooks.update(request, grant, **fields)
    return json_response(request, webhook_v1(hook, settings))


async def delete_webhook(request: Request) -> Response:
    grant = authenticate_writer(request)
    settings = settings_of(request)
    if settings.has_fault("v1-delete-not-effective"):  # answers as usual, deletes nothing
        hook = webhooks.find(request, grant)
    else:
        hook = webhooks.delete(request, grant)
    if settings.has_fault("v1-delete-returns-204"):
        return Response(status_code=204)
    return json_response(request, webhook_v1(hook, settings))


async def list_deliveries(request: Request) -> Response:
    grant = authenticate(request)
    settings = settings_of(request)
    hook = webhooks.find(request, grant, other_team_fault="deliveries-list-other-team")
    page = page_request(request, "per_page", V1_DEFAULT_PER_PAGE)
    rows, total = webhooks.store_of(request).list_deliveries(
        hook.id, page.offset, page.size,
        newest_first=not settings.has_fault("delivery-log-oldest-first"))
    data = [delivery_v1(row, settings) for row in rows]
    return json_response(request, v1_list(request, settings, data, total, page))


ROUTES = [
    path("/api/webhooks", GET=list_webhooks, POST=create_webhook),
    path("/api/webhooks/{id}", PUT=replace_webhook, DELETE=delete_webhook),
    path("/api/webhooks/{id}/deliveries", GET=list_deliveries),
]
