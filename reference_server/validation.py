"""Request validation: bodies and query strings to values, or 413/422 with a field map."""

from __future__ import annotations

import json
import re
import sys
from typing import Any

from starlette.requests import Request

from reference_server.events import SUBSCRIBABLE
from reference_server.responses import invalid, settings_of, too_large

# The spec uses the same pattern: absolute http(s) URL, host as DNS labels, optional port,
# path and query; no user-info, no fragment, no spaces.
URL_PATTERN = re.compile(
    r"^https?://[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*(?::[0-9]{1,5})?"
    r"(?:/[A-Za-z0-9._~%!$&'()*+,;=:@/-]*)?(?:\?[A-Za-z0-9._~%!$&'()*+,;=:@/?-]*)?$"
)
MAX_URL_LENGTH = 2048
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


def url_errors(value: Any, field: str = "url") -> list[str]:
    if not isinstance(value, str) or len(value) > MAX_URL_LENGTH or not URL_PATTERN.fullmatch(
        value
    ):
        return [f"The {field} must be a valid URL."]
    return []


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
def query_int(request: Request, name: str, default: int, low: int,
              high: int | None = None) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    # Any digit string is an integer (a page far past the end is still a valid page);
    # Python's own int() limit (4300 digits) bounds the work.
    if not re.fullmatch(r"[0-9]+", raw) or len(raw.lstrip("0")) > 4000:
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
    if raw not in ("true", "false", "1", "0"):
        raise invalid({name: [f"The {name} field must be true or false."]})
    return raw in ("true", "1")
