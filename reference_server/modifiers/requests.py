"""Auth, team isolation, path ids, request bodies, query strings and validation."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request

from reference_server import webhooks
from reference_server.auth import authenticate, bearer_token
from reference_server.config import Settings, TokenGrant
from reference_server.responses import ApiError, invalid, webhook_not_found
from reference_server.seams import fault, operation_of, variant
from reference_server.store import Webhook
from reference_server.validation import (
    MUST_ACCEPT_URL_LENGTH,
    PLAIN_URL_PATTERN,
    Errors,
    EventRules,
    json_object,
)

# -- auth ---------------------------------------------------------------------------------

@fault("invalid-token-accepted").after("grant")
def _first_team_for_any_token(grant: TokenGrant | None, settings: Settings,
                              authorization: str | None) -> TokenGrant | None:
    if grant is None and bearer_token(authorization) is not None and settings.tokens:
        return settings.tokens[0]
    return grant


@fault("auth-after-lookup").around("authentication")
def _look_up_before_auth(proceed: Any, request: Request, *, write: bool = False
                         ) -> TokenGrant:
    """Without a token, an unknown id answers 404 before any 401."""
    try:
        return proceed(request, write=write)
    except ApiError as error:
        if error.status == 401 and "id" in request.path_params:
            store = webhooks.store_of(request)
            if store.get_webhook(webhooks.webhook_id(request), None) is None:
                raise webhook_not_found() from None
        raise


@fault("read-only-can-write").around("authentication")
def _writes_for_read_only(proceed: Any, request: Request, *, write: bool = False
                          ) -> TokenGrant:
    return proceed(request)


# -- team isolation: the operation sees every team's webhooks ------------------------------

def _every_team_in(*operations: str) -> Any:
    def team(proceed: Any, request: Request, grant: TokenGrant) -> str | None:
        return None if operation_of(request) in operations else proceed(request, grant)
    return team


fault("other-team-visible").around("team")(_every_team_in("v2 retrieve"))
fault("other-team-listed").around("team")(_every_team_in("v2 list", "v1 list"))
fault("other-team-can-delete").around("team")(_every_team_in("v2 delete", "v1 delete"))
fault("deliveries-list-other-team").around("team")(
    _every_team_in("v2 deliveries", "v1 deliveries"))


# -- path ids -----------------------------------------------------------------------------

@fault("non-numeric-id-500").around("webhook id")
def _int_of_any_id(proceed: Any, request: Request) -> int:
    return int(request.path_params["id"])  # "abc" raises ValueError: an unhandled 500


@variant("huge-path-id-refused").around("webhook id")
def _refuse_huge_id(proceed: Any, request: Request) -> int:
    raw = request.path_params["id"]
    if webhooks.NUMERIC_ID.fullmatch(raw) and webhooks.beyond_range(raw):
        raise invalid({"id": [f"The id must not be greater than {webhooks.MAX_ID}."]})
    return proceed(request)


# -- request bodies -----------------------------------------------------------------------

@fault("oversized-body-accepted").around("request body")
async def _any_size(proceed: Any, request: Request) -> dict[str, Any]:
    try:
        return await proceed(request)
    except ApiError as error:
        if error.status != 413:
            raise
        return json_object(await request.body())


@fault("v1-create-active-optional").after("request body")
def _active_by_default(body: dict[str, Any], request: Request) -> dict[str, Any]:
    return {"active": True, **body} if operation_of(request) == "v1 create" else body


@fault("v1-put-partial").after("request body")
def _put_keeps_missing_fields(body: dict[str, Any], request: Request) -> dict[str, Any]:
    if operation_of(request) != "v1 update":
        return body
    current = webhooks.find(request, authenticate(request))
    return {"url": current.url, "events": ",".join(current.events),
            "active": current.is_enabled, **body}


_BOOLEAN_WORDS = {"true": True, "false": False, "1": True, "0": False, "yes": True,
                  "no": False, "on": True, "off": False}
_LENIENT_INT = re.compile(r"\+?[0-9]+")
lenient = variant("lenient-encodings")


@lenient.after("request body")
def _read_bodies_leniently(body: dict[str, Any], request: Request) -> dict[str, Any]:
    """Room "lenient-encodings": the boolean sent as a string, v2 `events` sent as one
    string, and duplicate event names (stored once), each read the obvious way."""
    op = operation_of(request) or ""
    if op.startswith("v2 "):
        return _lenient(body, "is_enabled", events_as_list=True)
    if op.startswith("v1 "):
        return _lenient(body, "active", events_as_list=False)
    return body  # the sandbox reads bodies as they are


def _lenient(body: dict[str, Any], boolean: str, *, events_as_list: bool) -> dict[str, Any]:
    body = dict(body)
    flag = body.get(boolean)
    if isinstance(flag, str) and flag.strip().lower() in _BOOLEAN_WORDS:
        body[boolean] = _BOOLEAN_WORDS[flag.strip().lower()]
    events = body.get("events")
    if events_as_list and isinstance(events, str) and events.strip():
        events = [name.strip() for name in events.split(",")]
    if isinstance(events, list):
        body["events"] = _once_each(events)
    elif not events_as_list and isinstance(events, str):
        body["events"] = ",".join(_once_each(events.split(",")))
    return body


def _once_each(names: list[Any]) -> list[Any]:
    seen: set[str] = set()
    kept = []
    for name in names:
        if isinstance(name, str):
            if name in seen:
                continue
            seen.add(name)
        kept.append(name)
    return kept


@lenient.after("query")
def _read_queries_leniently(raw: str | None, request: Request, name: str, kind: type
                            ) -> str | None:
    """Integers with + and leading zeros, booleans yes/no/on/off/1/0 in any case: each
    given in its plain form."""
    if raw is None:
        return None
    if kind is int and _LENIENT_INT.fullmatch(raw):
        return raw.lstrip("+").lstrip("0") or "0"
    if kind is bool and raw.strip().lower() in _BOOLEAN_WORDS:
        return "true" if _BOOLEAN_WORDS[raw.strip().lower()] else "false"
    return raw


# -- validation ---------------------------------------------------------------------------

@variant("url-forms-strict").after("url")
def _plain_urls_only(errors: list[str], value: Any, settings: Settings, field: str = "url"
                     ) -> list[str]:
    """Room "url-forms": only the plain forms (no IPv6, user info, fragment, non-ASCII or
    characters outside RFC 3986)."""
    if not errors and not PLAIN_URL_PATTERN.fullmatch(value):
        return [f"The {field} must be a valid URL."]
    return errors


@variant("url-length-capped-255").after("url")
def _urls_capped(errors: list[str], value: Any, settings: Settings, field: str = "url"
                 ) -> list[str]:
    """Room "url-length": 255 characters must be accepted; more may be refused."""
    if not errors and len(value) > MUST_ACCEPT_URL_LENGTH:
        return [f"The {field} must not be greater than {MUST_ACCEPT_URL_LENGTH} characters."]
    return errors


@fault("v2-url-any-string").after("v2 fields")
def _any_string_is_a_url(errors: Errors, settings: Settings, fields: dict[str, Any],
                         *_: Any) -> Errors:
    if isinstance(fields.get("url"), str):
        errors.pop("url", None)
    return errors


@fault("v2-ping-subscribable").around("v2 fields")
def _ping_subscribable(proceed: Any, settings: Settings, fields: dict[str, Any],
                       events: EventRules = EventRules()) -> Errors:  # noqa: B008 - frozen
    return proceed(settings, fields, replace(events, allowed=events.allowed | {"ping"}))


@fault("v2-events-duplicates-accepted").around("v2 fields")
def _duplicates_kept(proceed: Any, settings: Settings, fields: dict[str, Any],
                     events: EventRules = EventRules()) -> Errors:  # noqa: B008 - frozen
    return proceed(settings, fields, replace(events, unique=False))


@fault("read-only-fields-honoured").after("v2 written")
def _read_only_written(fields: dict[str, Any], settings: Settings, body: dict[str, Any]
                       ) -> dict[str, Any]:
    """A sent `secret` or `created_at` is kept (a correct server ignores both)."""
    kept: dict[str, Any] = {}
    if isinstance(body.get("secret"), str) and body["secret"]:
        kept["secret"] = body["secret"]
    try:
        stamp = datetime.fromisoformat(body["created_at"])
    except (KeyError, TypeError, ValueError):
        return {**fields, **kept}
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=UTC)
    return {**fields, **kept, "created_at": int(stamp.timestamp())}


@fault("v2-empty-patch-accepted").around("v2 patch")
def _empty_patch_changes_nothing(proceed: Any, request: Request, grant: TokenGrant,
                                 fields: dict[str, Any]) -> Webhook:
    return proceed(request, grant, fields) if fields else webhooks.find(request, grant)


@fault("invalid-patch-partially-applied").around("v2 patch")
def _valid_fields_stored_anyway(proceed: Any, request: Request, grant: TokenGrant,
                                fields: dict[str, Any]) -> Webhook:
    try:
        return proceed(request, grant, fields)
    except ApiError as error:
        if error.status == 422 and fields:
            valid = {name: value for name, value in fields.items()
                     if not any(path.split(".")[0] == name for path in error.body)}
            if valid:
                webhooks.update(request, grant, **valid)
        raise


@fault("updated-at-moves-on-rejected-update").around("v2 patch")
def _rejected_patch_touches(proceed: Any, request: Request, grant: TokenGrant,
                            fields: dict[str, Any]) -> Webhook:
    try:
        return proceed(request, grant, fields)
    except ApiError as error:
        if error.status == 422 and fields:
            webhooks.update(request, grant)  # no fields: only updated_at moves
        raise


@fault("patch-replaces-whole").around("v2 patch")
def _patch_resets_the_rest(proceed: Any, request: Request, grant: TokenGrant,
                           fields: dict[str, Any]) -> Webhook:
    if fields:
        fields = {"events": ["*"], "is_enabled": True, **fields}
    return proceed(request, grant, fields)
