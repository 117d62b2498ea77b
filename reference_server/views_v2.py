"""The v2 API under /api/v2: webhooks and their delivery logs."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from reference_server import webhooks
from reference_server.auth import authenticate
from reference_server.config import TokenGrant
from reference_server.pagination import V2_DEFAULT_LIMIT, page_request, v2_list
from reference_server.representations import delivery_v2, webhook_v2
from reference_server.responses import invalid, json_response, settings_of
from reference_server.routing import path
from reference_server.seams import operation, seam
from reference_server.store import Webhook
from reference_server.validation import (
    json_object_body,
    query_bool,
    raise_if,
    require,
    v2_field_errors,
    v2_written_fields,
)

NOTHING_TO_UPDATE = {"body": ["Send at least one of: url, events, is_enabled."]}


@operation("v2 list")
async def list_webhooks(request: Request) -> Response:
    grant = authenticate(request)
    settings = settings_of(request)
    page = page_request(request, "limit", V2_DEFAULT_LIMIT)
    rows, total = webhooks.listed(request, grant, query_bool(request, "enabled"), page)
    data = [webhook_v2(row, settings) for row in rows]
    return json_response(request, v2_list(request, settings, data, total, page))


@operation("v2 create")
async def create_webhook(request: Request) -> Response:
    grant = authenticate(request, write=True)
    settings = settings_of(request)
    body = await json_object_body(request)
    raise_if({**require(body, ("url", "events")), **v2_field_errors(settings, body)})
    hook = webhooks.create(request, grant,
                           **{"is_enabled": True, **v2_written_fields(settings, body)})
    return json_response(request, webhook_v2(hook, settings), 201)


@operation("v2 retrieve")
async def retrieve_webhook(request: Request) -> Response:
    hook = webhooks.find(request, authenticate(request))
    return json_response(request, webhook_v2(hook, settings_of(request)))


@seam("v2 patch")
def patch(request: Request, grant: TokenGrant, fields: dict[str, Any]) -> Webhook:
    """Only the fields sent change; none at all is a 422, and so is any invalid one (then
    nothing changes)."""
    if not fields:
        raise invalid(NOTHING_TO_UPDATE)
    raise_if(v2_field_errors(settings_of(request), fields))
    return webhooks.update(request, grant, **fields)


@operation("v2 update")
async def update_webhook(request: Request) -> Response:
    grant = authenticate(request, write=True)
    settings = settings_of(request)
    webhooks.find(request, grant)  # an unknown id is a 404 before any 422
    body = await json_object_body(request)
    hook = patch(request, grant, v2_written_fields(settings, body))
    return json_response(request, webhook_v2(hook, settings))


@operation("v2 delete")
async def delete_webhook(request: Request) -> Response:
    webhooks.delete(request, authenticate(request, write=True))
    return Response(status_code=204)


@operation("v2 deliveries")
async def list_deliveries(request: Request) -> Response:
    grant = authenticate(request)
    settings = settings_of(request)
    hook = webhooks.find(request, grant)
    page = page_request(request, "limit", V2_DEFAULT_LIMIT)
    rows, total = webhooks.delivery_log(request, hook, page)
    data = [delivery_v2(row, settings) for row in rows]
    return json_response(request, v2_list(request, settings, data, total, page))


ROUTES = [
    path("/api/v2/webhooks", GET=list_webhooks, POST=create_webhook),
    path("/api/v2/webhooks/{id}", GET=retrieve_webhook, PATCH=update_webhook,
         DELETE=delete_webhook),
    path("/api/v2/webhooks/{id}/deliveries", GET=list_deliveries),
]
