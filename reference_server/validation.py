"""Request validation: bodies and query strings to values, or 413/422 with a field map."""

from __future__ import annotations

import json
import re
import sys
from typing import Any
from urllib.parse import quote, urlsplit

from starlette.requests import Request

from reference_server.config import Settings
from reference_server.events import SUBSCRIBABLE
from reference_server.responses import invalid, settings_of, too_large

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
# Characters RFC 3986 allows in a URI (unreserved, reserved, and % for escapes): what
# `url-forms-percent-encoded` leaves as they are.
RFC3986_SAFE = "-._~:/?#[]@!$&'()*+,;=%"
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
Errors = dict[str, list[str]]


def _refuse_constant(name: str) -> Any:
    # NaN and Infinity are not JSON; accepting them would put them in payloads we sign.
    raise ValueError(f"{name} is not valid JSON")


async def json_object_body(request: Request) -> dict[str, Any]:
    """The body as a JSON object; 413 when over the size limit, 422 when not an object."""
    settings = settings_of(request)
    limit = settings.max_body_bytes
    if settings.has_fault("oversized-body-accepted"):
        limit = sys.maxsize
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large(limit)
    raw = await request.body()
    if len(raw) > limit:
        raise too_large(limit)
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


def url_errors(value: Any, settings: Settings, field: str = "url") -> list[str]:
    invalid_url = [f"The {field} must be a valid URL."]
    if not isinstance(value, str) or not _absolute_http_url(value):
        return invalid_url
    if settings.has_variant("url-forms-strict") and not PLAIN_URL_PATTERN.fullmatch(value):
        return invalid_url
    if settings.has_variant("url-length-capped-255") and len(value) > MUST_ACCEPT_URL_LENGTH:
        return [f"The {field} must not be greater than {MUST_ACCEPT_URL_LENGTH} characters."]
    return []


def stored_url(value: str, settings: Settings) -> str:
    """The URL as stored and returned: as sent (`url-forms-percent-encoded`: characters
    outside RFC 3986, non-ASCII included, percent-encoded as UTF-8)."""
    if settings.has_variant("url-forms-percent-encoded"):
        return quote(value, safe=RFC3986_SAFE)
    return value


_BOOLEAN_WORDS = {"true": True, "false": False, "1": True, "0": False, "yes": True,
                  "no": False, "on": True, "off": False}


def read_leniently(body: dict[str, Any], settings: Settings, boolean: str, *,
                   events_as_list: bool) -> dict[str, Any]:
    """Room "lenient-encodings", only under the `lenient-encodings` variant (the clean server
    refuses these with 422): `boolean` sent as a string, v2 `events` sent as one string, and
    duplicate event names (stored once), each read the obvious way."""
    if not settings.has_variant("lenient-encodings"):
        return body
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


def events_list_errors(value: Any, field: str = "events", *,
                       also_allowed: frozenset[str] = frozenset(), unique: bool = True) -> Errors:
    """v2 `events`: an array of >= 1 unique subscribable names (the keyword arguments exist
    for the v2-ping-subscribable and v2-events-duplicates-accepted faults)."""
    if not isinstance(value, list):
        return {field: [f"The {field} must be an array."]}
    if not value:
        return {field: [f"The {field} must have at least 1 item."]}
    errors: Errors = {}
    seen: set[str] = set()
    for index, name in enumerate(value):
        path = f"{field}.{index}"
        if not isinstance(name, str) or name not in SUBSCRIBABLE | also_allowed:
            errors[path] = [f"The selected {path} is invalid."]
        elif name in seen and unique:
            errors[path] = [f"The {path} field has a duplicate value."]
        else:
            seen.add(name)
    return errors


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
_STRICT_INT = re.compile(r"0|[1-9][0-9]*")
_LENIENT_INT = re.compile(r"\+?[0-9]+")  # leading + and zeros: `lenient-encodings` only


def query_int(request: Request, name: str, default: int, low: int,
              high: int | None = None) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    # Any digit string is an integer (a page far past the end is still a valid page);
    # Python's own int() limit (4300 digits) bounds the work.
    lenient = settings_of(request).has_variant("lenient-encodings")
    form = _LENIENT_INT if lenient else _STRICT_INT
    if not form.fullmatch(raw) or len(raw.lstrip("+0")) > 4000:
        raise invalid({name: [f"The {name} must be an integer."]})
    value = int(raw)
    if value < low or (high is not None and value > high):
        bound = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise invalid({name: [f"The {name} must be {bound}."]})
    return value


def query_bool(request: Request, name: str) -> bool | None:
    raw = request.query_params.get(name)
    if raw is None:
        return None
    if settings_of(request).has_variant("lenient-encodings"):
        words, raw = _BOOLEAN_WORDS, raw.strip().lower()
    else:
        words = {"true": True, "false": False}
    if raw not in words:
        raise invalid({name: [f"The {name} field must be true or false."]})
    return words[raw]
