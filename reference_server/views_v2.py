"""The v2 API under /api/v2: webhooks and their delivery logs."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from reference_server import webhooks
from reference_server.auth import authenticate, authenticate_writer
from reference_server.config import Settings
from reference_server.pagination import page_request, v2_default_limit, v2_list
from reference_server.representations import delivery_v2, webhook_v2
from reference_server.responses import invalid, json_response, settings_of
from reference_server.routing import path
from reference_server.validation import (
    Errors,
    boolean_errors,
    events_list_errors,
    json_object_body,
    query_bool,
    raise_if,
    read_leniently,
    require,
    stored_url,
    url_errors,
)

WRITABLE = ("url", "events", "is_enabled")


def _url_errors(value: Any, settings: Settings) -> list[str]:
    if settings.has_fault("v2-url-any-string") and isinstance(value, str):
        return []
    return url_errors(value, settings)


def _field_errors(fields: dict[str, Any], settings: Settings) -> Errors:
    errors: Errors = {}
    if "url" in fields and (messages := _url_errors(fields["url"], settings)):
        errors["url"] = messages
    if "events" in fields:
        ping = frozenset({"ping"}) if settings.has_fault("v2-ping-subscribable") else frozenset()
        errors.update(events_list_errors(
            fields["events"], also_allowed=ping,
            unique=not settings.has_fault("v2-events-duplicates-accepted")))
    if "is_enabled" in fields and (messages := boolean_errors(fields["is_enabled"],
                                                                "is_enabled")):
        errors["is_enabled"] = messages
    return errors


def _read_only_honoured(body: dict[str, Any], settings: Settings) -> dict[str, Any]:
    """Only for the read-only-fields-honoured fault: a sent `secret` or `created_at` is
    kept (a correct server ignores both)."""
    if not settings.has_fault("read-only-fields-honoured"):
        return {}
    kept: dict[str, Any] = {}
    if isinstance(body.get("secret"), str) and body["secret"]:
        kept["secret"] = body["secret"]
    try:
        stamp = datetime.fromisoformat(body["created_at"])
    except (KeyError, TypeError, ValueError):
        return kept
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=UTC)
    return {**kept, "created_at": int(stamp.timestamp())}


async def list_webhooks(request: Request) -> Response:
    grant = authenticate(request)
    settings = settings_of(request)
    page = page_request(request, "limit", v2_default_limit(settings))
    enabled = query_bool(request, "enabled")
    if settings.has_fault("enabled-filter-ignored"):
        enabled = None
    rows, total = webhooks.store_of(request).list_webhooks(
        webhooks.listed_team(request, grant), enabled, page.offset, page.size,
        descending=settings.has_fault("list-order-descending"))
    data = [webhook_v2(row, settings) for row in rows]
    return json_response(request, v2_list(request, settings, data, total, page))


async def create_webhook(request: Request) -> Response:
    grant = authenticate_writer(request)
    settings = settings_of(request)
    body = read_leniently(await json_object_body(request), settings, "is_enabled",
                          events_as_list=True)
    raise_if({**require(body, ("url", "events")), **_field_errors(body, settings)})
    hook = webhooks.create(request, grant, stored_url(body["url"], settings), body["events"],
                           body.get("is_enabled", True), **_read_only_honoured(body, settings))
    status = 200 if settings.has_fault("v2-create-returns-200") else 201
    return json_response(request, webhook_v2(hook, settings), status)


async def retrieve_webhook(request: Request) -> Response:
    grant = authenticate(request)
    hook = webhooks.find(request, grant, other_team_fault="other-team-visible")
    body = webhook_v2(hook, settings_of(request))
    if settings_of(request).has_fault("v2-secret-missing-on-read"):
        del body["secret"]
    return json_response(request, body)


async def update_webhook(request: Request) -> Response:
    grant = authenticate_writer(request)
    settings = settings_of(request)
    current = webhooks.find(request, grant)
    body = read_leniently(await json_object_body(request), settings, "is_enabled",
                          events_as_list=True)
    # Read-only and unknown fields are ignored; nothing writable left means nothing to do.
    fields = {name: body[name] for name in WRITABLE if name in body}
    honoured = _read_only_honoured(body, settings)
    if not fields and not honoured:
        if settings.has_fault("v2-empty-patch-accepted"):
            return json_response(request, webhook_v2(current, settings))
        raise invalid({"body": ["Send at least one of: url, events, is_enabled."]})
    errors = _field_errors(fields, settings)
    if errors and settings.has_fault("invalid-patch-partially-applied"):
        valid = {name: value for name, value in fields.items()
                 if not any(path.split(".")[0] == name for path in errors)}
        if valid:
            webhooks.update(request, grant, **valid)
    if errors and settings.has_fault("updated-at-moves-on-rejected-update"):
        webhooks.update(request, grant)  # no fields: only updated_at moves
    raise_if(errors)
    if settings.has_fault("patch-replaces-whole"):
        fields = {"events": ["*"], "is_enabled": True, **fields}
    if "url" in fields:
        fields["url"] = stored_url(fields["url"], settings)
    hook = webhooks.update(request, grant, **fields, **honoured)
    return json_response(request, webhook_v2(hook, settings))


async def delete_webhook(request: Request) -> Response:
    grant = authenticate_writer(request)
    settings = settings_of(request)
    if settings.has_fault("v2-delete-not-effective"):
        webhooks.find(request, grant)  # 404 as usual; otherwise 204, but nothing is deleted
        return Response(status_code=204)
    hook = webhooks.delete(request, grant)
    if settings.has_fault("v2-delete-returns-200-with-body"):
        return json_response(request, webhook_v2(hook, settings))
    return Response(status_code=204)


async def list_deliveries(request: Request) -> Response:
    grant = authenticate(request)
    settings = settings_of(request)
    hook = webhooks.find(request, grant, other_team_fault="deliveries-list-other-team")
    page = page_request(request, "limit", v2_default_limit(settings))
    rows, total = webhooks.store_of(request).list_deliveries(
        hook.id, page.offset, page.size,
        newest_first=not settings.has_fault("delivery-log-oldest-first"))
    data = [delivery_v2(row, settings) for row in rows]
    return json_response(request, v2_list(request, settings, data, total, page))


ROUTES = [
    path("/api/v2/webhooks", GET=list_webhooks, POST=create_webhook),
    path("/api/v2/webhooks/{id}", GET=retrieve_webhook, PATCH=update_webhook,
         DELETE=delete_webhook),
    path("/api/v2/webhooks/{id}/deliveries", GET=list_deliveries),
]
