"""Request validation: bodies and query strings to values, or 413/422 with a field map."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from starlette.requests import Request

from reference_server.config import Settings
from reference_server.events import SUBSCRIBABLE
from reference_server.responses import invalid, settings_of, too_large
from reference_server.seams import seam

# Room "url-forms": plain forms (scheme, host name or IPv4 address, optional port, path,
# query) must be accepted; the clean server also accepts the rest of the band (IPv6
# literals, user info, fragments, non-ASCII hosts, characters outside RFC 3986) and stores
# them as sent. The `url-forms-strict` variant refuses everything but this plain pattern.
PLAIN_URL_PATTERN = re.compile(
    r"^(?i:https?)://[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*(?::[0-9]{1,5})?"
    r"(?:/[A-Za-z0-9._~%!$&'()*+,;=:@/-]*)?(?:\?[A-Za-z0-9._~%!$&'()*+,;=:@/?-]*)?$"
)
# Room "url-length": 255 must be accepted; no upper length is part of the contract (the
# clean server stores whatever the 64 KiB body holds; `url-length-capped-255` refuses more).
MUST_ACCEPT_URL_LENGTH = 255
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
Errors = dict[str, list[str]]


def _refuse_constant(name: str) -> Any:
    # NaN and Infinity are not JSON; accepting them would put them in payloads we sign.
    raise ValueError(f"{name} is not valid JSON")


@seam("request body")
async def json_object_body(request: Request) -> dict[str, Any]:
    """The body as a JSON object; 413 when over the size limit, 422 when not an object."""
    limit = settings_of(request).max_body_bytes
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large(limit)
    raw = await request.body()
    if len(raw) > limit:
        raise too_large(limit)
    return json_object(raw)


def json_object(raw: bytes) -> dict[str, Any]:
    """`raw` as a JSON object (empty: {}); 422 when it is not one."""
    if not raw.strip():
        return {}
    try:
        value = json.loads(raw, parse_constant=_refuse_constant)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise invalid({"body": ["The request body must be valid JSON."]}) from None
    if not isinstance(value, dict):
        raise invalid({"body": ["The request body must be a JSON object."]})
    return value


def _absolute_http_url(value: str) -> bool:
    """An absolute http/https URL (scheme in any case) with a host; control characters are
    refused (they are outside RFC 3986 too, and the band lets a server refuse those)."""
    if _CONTROL.search(value):
        return False
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a port outside 0..65535
    except ValueError:  # e.g. an unclosed IPv6 bracket
        return False
    return (parts.scheme.lower() in ("http", "https") and bool((parts.hostname or "").strip())
            and value[len(parts.scheme):].startswith("://"))


@seam("url")
def url_errors(value: Any, settings: Settings, field: str = "url") -> list[str]:
    """Any absolute http(s) URL with a host, of any length, in any form of the band."""
    if not isinstance(value, str) or not _absolute_http_url(value):
        return [f"The {field} must be a valid URL."]
    return []


@dataclass(frozen=True)
class EventRules:
    """What an events list may hold: subscribable names, each once."""

    allowed: frozenset[str] = SUBSCRIBABLE
    unique: bool = True


def events_list_errors(value: Any, field: str = "events",
                       rules: EventRules = EventRules()) -> Errors:  # noqa: B008 - frozen
    """v2 `events`: an array of >= 1 unique subscribable names."""
    if not isinstance(value, list):
        return {field: [f"The {field} must be an array."]}
    if not value:
        return {field: [f"The {field} must have at least 1 item."]}
    errors: Errors = {}
    seen: set[str] = set()
    for index, name in enumerate(value):
        path = f"{field}.{index}"
        if not isinstance(name, str) or name not in rules.allowed:
            errors[path] = [f"The selected {path} is invalid."]
        elif name in seen and rules.unique:
            errors[path] = [f"The {path} field has a duplicate value."]
        else:
            seen.add(name)
    return errors


V2_WRITABLE = ("url", "events", "is_enabled")


@seam("v2 fields")
def v2_field_errors(settings: Settings, fields: dict[str, Any],
                    events: EventRules = EventRules()) -> Errors:  # noqa: B008 - frozen
    """The errors of the v2 writable fields present in `fields`."""
    errors: Errors = {}
    if "url" in fields and (messages := url_errors(fields["url"], settings)):
        errors["url"] = messages
    if "events" in fields:
        errors.update(events_list_errors(fields["events"], rules=events))
    if "is_enabled" in fields and (messages := boolean_errors(fields["is_enabled"],
                                                                "is_enabled")):
        errors["is_enabled"] = messages
    return errors


@seam("v2 written")
def v2_written_fields(settings: Settings, body: dict[str, Any]) -> dict[str, Any]:
    """What a v2 body writes: its writable fields; read-only and unknown ones are ignored."""
    return {name: body[name] for name in V2_WRITABLE if name in body}


def events_string_errors(value: Any, field: str = "events") -> Errors:
    """v1 `events`: one string, names joined by `,` with no spaces; same rules per name."""
    if not isinstance(value, str) or not value:
        return {field: [f"The {field} must be a comma-separated string of event names."]}
    names = value.split(",")
    item_errors = events_list_errors(names, field)
    if item_errors:
        bad = ", ".join(repr(n) for i, n in enumerate(names) if f"{field}.{i}" in item_errors)
        return {field: [f"The {field} contains invalid or duplicate event names: {bad}."]}
    return {}


def boolean_errors(value: Any, field: str) -> list[str]:
    return [] if isinstance(value, bool) else [f"The {field} field must be true or false."]


def require(body: dict[str, Any], fields: tuple[str, ...]) -> Errors:
    return {name: [f"The {name} field is required."] for name in fields if name not in body}


def raise_if(errors: Errors) -> None:
    if errors:
        raise invalid(errors)


# -- query strings ----------------------------------------------------------------------
_INT = re.compile(r"0|[1-9][0-9]*")
_BOOLEANS = {"true": True, "false": False}


@seam("query")
def query_param(request: Request, name: str, kind: type) -> str | None:
    """The raw value of query parameter `name`, to be read as a `kind` (int or bool)."""
    return request.query_params.get(name)


def query_int(request: Request, name: str, default: int, low: int,
              high: int | None = None) -> int:
    raw = query_param(request, name, int)
    if raw is None:
        return default
    # Any digit string is an integer (a page far past the end is still a valid page);
    # Python's own int() limit (4300 digits) bounds the work.
    if not _INT.fullmatch(raw) or len(raw.lstrip("+0")) > 4000:
        raise invalid({name: [f"The {name} must be an integer."]})
    value = int(raw)
    if value < low or (high is not None and value > high):
        bound = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise invalid({name: [f"The {name} must be {bound}."]})
    return value


def query_bool(request: Request, name: str) -> bool | None:
    raw = query_param(request, name, bool)
    if raw is None:
        return None
    if raw not in _BOOLEANS:
        raise invalid({name: [f"The {name} field must be true or false."]})
    return _BOOLEANS[raw]
