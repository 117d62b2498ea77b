"""The room: where a correct server may go either way, and how the suite honours it.

API-BRIEF.md's section "Room: where a correct server may go either way" lists behaviours a
correct server may choose. For each, the suite neither requires acceptance nor rejection,
and asserts no more of a response than the brief guarantees. This module is the one place
that band is written down: `ROOM` names each entry, quotes its brief line and says how the
suite treats it. The specs point here with `x-room: <entry>` on every constraint that sits
at a room boundary, and a test checks that each such name is an entry below.

The mechanism for generated tests (one rule, not case-by-case exclusions):
- positive generation stays inside what every correct server must accept (the spec's
  request schemas stop at the must-accept boundary: plain URL forms of at most 253
  characters, page <= 2**31 - 1, path id within 64 bits);
- negative generation may land in the band; a "negative data accepted" failure is dropped
  only when rewriting the band values of the request to a canonical must-accept form makes
  the request valid again (so the server had every right to accept it);
- a "positive data rejected" failure is dropped only for band values answered 422.
"""

from __future__ import annotations

import copy
import itertools
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from schemathesis import Case, Response
from schemathesis.core.failures import AcceptedNegativeData
from schemathesis.core.parameters import ParameterLocation
from schemathesis.specs.openapi.utils import read_from_wire


@dataclass(frozen=True)
class RoomEntry:
    name: str
    brief: str  # the brief's words, quoted (API-BRIEF.md, "Room")
    treatment: str  # how the suite treats it, one line


def _entries(*items: RoomEntry) -> dict[str, RoomEntry]:
    return {item.name: item for item in items}


ROOM: dict[str, RoomEntry] = _entries(
    RoomEntry(
        "url-length",
        "A server must accept plain absolute http/https URLs of up to 255 characters; longer "
        "ones may be stored (and then returned unchanged) or refused with 422 naming url.",
        "the request pattern's bounds keep generated urls at 253 characters or fewer; a "
        "longer url accepted is never a failure; responses carry no maximum length"),
    RoomEntry(
        "page-range",
        "A page beyond 2,147,483,647 may be refused with 422 or answered as past the end "
        "(200, data: []).",
        "page maximum 2147483647 in the spec; a larger page answered 200 is never a failure"),
    RoomEntry(
        "path-id-range",
        "a path id beyond 64-bit range may be refused with 422 or answered 404.",
        "path id maximum 2**63-1; 422 is documented on every operation with a path id"),
    RoomEntry(
        "body-size",
        "Bodies up to 64 KiB must be processed.",
        "413 is documented; contracts send oversized bodies only well past 64 KiB"),
    RoomEntry(
        "url-forms",
        "IPv6 literals, user info, fragments, non-ASCII host names and characters outside "
        "RFC 3986 may be accepted (stored as sent, or percent-encoded) or refused with 422 "
        "naming url.",
        "the request pattern admits only plain forms; any absolute http(s) URL with a host "
        "accepted is never a failure; a relative URL, another scheme or a non-string must be 422"),
    RoomEntry(
        "lenient-encodings",
        "Query booleans written 1/0/yes/no/on/off, integers with a leading + or zeros, "
        "is_enabled/active sent as strings, v2 events sent as one string, duplicate names in "
        "events: each may be accepted (read the obvious way) or refused with 422 naming the "
        "field.",
        "such values are rewritten to their obvious reading before judging an accepted "
        "negative case; responses must still hold unique event names"),
    RoomEntry(
        "events-order",
        "No order is promised inside events.",
        "events are compared as sets (curated contracts use same_items)"),
    RoomEntry(
        "representation",
        "JSON key order and whitespace, extra response headers, HTTP compression, "
        "Content-Type parameters and case (application/json; charset=UTF-8) ... are all "
        "allowed.",
        "media types are compared without parameters and case; headers beyond the documented "
        "ones are ignored"),
    RoomEntry(
        "extra-fields",
        "extra undocumented fields ... are all allowed.",
        "no response schema sets additionalProperties: false"),
    RoomEntry(
        "fractional-seconds",
        "fractional seconds wherever this page does not pin the form (v1 timestamps, "
        "last_sent_at, sent_at) are all allowed.",
        "those fields admit a fraction; v2 created_at/updated_at stay whole seconds with Z"),
    RoomEntry(
        "links-form",
        "Pagination links may be absolute on another host name or relative, with their query "
        "parameters in any order.",
        "links are compared by path and query parameters as a set, never followed off the "
        "target's host"),
    RoomEntry(
        "foreign-data",
        "A team may already hold any number of webhooks and deliveries, with any values this "
        "page allows (including URLs the suite itself would never send). The suite never "
        "changes or deletes them, and never fails because of them.",
        "writes go only to webhooks the run created, or to an id verified absent; curated "
        "list checks validate only the run's own items; sandbox events are fired only when no "
        "enabled webhook the run did not create would receive them (else those contracts "
        "skip, saying why)"),
    RoomEntry(
        "rate-limits",
        "Any limit (the upstream example is X-RateLimit-Limit: 200). A 429 carrying the "
        "documented headers is correct behaviour, never a contract failure: the suite paces "
        "itself and waits it out, cleanup included.",
        "one governor per process paces by X-RateLimit-Remaining and waits out 429 per "
        "Retry-After within --rate-limit-budget; a 429 is sent again, never validated; a "
        "spent budget skips the rest as rate limited and ends the run with exit 2"),
    RoomEntry(
        "incidentals",
        "Id values and spacing, the default page size, secret format (any non-empty string), "
        "uuid version, delivery timing within the timeout and retry delays the target "
        "reports, message wording.",
        "no contract depends on them: ids have no minimum, secret is any non-empty string, "
        "uuid any version, messages are non-empty strings"),
)


def markdown_table() -> str:
    """The room as the README shows it (a test keeps the two the same)."""
    lines = ["| entry | the brief says (Room) | how the suite treats it |", "|---|---|---|"]
    lines += [f"| `{e.name}` | {e.brief} | {e.treatment} |" for e in ROOM.values()]
    return "\n".join(lines)


# --- the mechanism: "negative data accepted" inside the band is no failure -----------------

# Laravel's boolean rule (upstream is Laravel: "Unauthenticated.", "This action is
# unauthorized.") and most frameworks read these as booleans in a query string.
LENIENT_TRUE = {"1", "true", "on", "yes"}
LENIENT_FALSE = {"0", "false", "off", "no"}
CANONICAL_URL = "https://hooks.invalid/aqid-contracts/canonical"
MAX_QUERY_VARIANTS = 64
PAGE_MAXIMUM = 2**31 - 1  # room "page-range": beyond it a server may answer past-the-end


def is_false_alarm(failure: Any, case: Case, response: Response) -> bool:
    if isinstance(failure, AcceptedNegativeData):
        return _valid_once_normalized(case)
    return False


def _valid_once_normalized(case: Case) -> bool:
    """Whether reading the band values of the request the obvious way makes it valid."""
    query = case.query if isinstance(case.query, dict) else {}
    body = case.body
    bodies = _body_candidates(body) if isinstance(body, dict) else [body]
    query_choices = [_query_candidates(name, value) for name, value in query.items()]
    if bodies == [body] and all(len(choices) == 1 for choices in query_choices):
        return False  # nothing in the band in this request: the failure stands
    validator = case.operation.schema.adapter.jsonschema_validator_cls
    try:
        # Private in schemathesis 4.32 (pinned <5): the validator that classifies cases.
        if isinstance(body, dict) and case.operation.body and not any(
                case._validate_component(ParameterLocation.BODY, candidate, validator)
                for candidate in bodies):
            return False
        if not query:
            return True
        for values in itertools.islice(itertools.product(*query_choices), MAX_QUERY_VARIANTS):
            candidate = read_from_wire(case.operation, ParameterLocation.QUERY,
                                       dict(zip(query, values, strict=True)))
            if case._validate_component(ParameterLocation.QUERY, candidate, validator):
                return True
        return False
    except Exception:  # noqa: BLE001 - if we cannot judge, the failure stands
        return False


def _query_candidates(name: str, value: Any) -> list[Any]:
    """How a correct server may read one query value: as sent, as an integer (leading + or
    zeros), as a boolean (1/0/yes/no/on/off), or a page past 2**31 - 1 as past the end."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)  # schemathesis hands typed values; the server sees the wire form
    if not isinstance(value, str):
        return [value]
    text = value.strip()
    candidates = [value]
    unsigned = text[1:] if text.startswith("+") else text
    if unsigned.isascii() and unsigned.isdigit():
        number = int(unsigned)
        if str(number) != value:
            candidates.append(str(number))
        if name == "page" and number > PAGE_MAXIMUM:
            candidates.append("1")  # any in-range page: "answered as past the end"
    if text.lower() in LENIENT_TRUE:
        candidates.append("true")
    elif text.lower() in LENIENT_FALSE:
        candidates.append("false")
    return candidates


def _body_candidates(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The body as sent, then read the obvious way: a band url (longer than 255, or a
    non-plain form) as a plain one, lenient booleans, events as a list without repeats."""
    normalized = copy.deepcopy(body)
    if _plausible_http_url(normalized.get("url")):
        normalized["url"] = CANONICAL_URL
    for key in ("is_enabled", "active"):
        if key in normalized:
            normalized[key] = _lenient_bool(normalized[key])
    candidates = [normalized]
    events = normalized.get("events")
    if isinstance(events, list):
        normalized["events"] = _unique(events)
    elif isinstance(events, str):
        names = [name.strip() for name in events.split(",")]
        as_list = {**normalized, "events": _unique(names)}  # v2: one string read as the list
        normalized["events"] = ",".join(_unique(names))  # v1: the list as its string
        candidates.append(as_list)
    return [body] if candidates == [body] else candidates


def _unique(items: list[Any]) -> list[Any]:
    seen: list[Any] = []
    for item in items:
        if item not in seen:
            seen.append(item)
    return seen


def _plausible_http_url(value: Any) -> bool:
    """An absolute http(s) URL with a host: the brief's one rule. Its other forms (IPv6,
    user info, fragments, non-ASCII hosts, characters outside RFC 3986, any length) are room
    "url-forms" and "url-length"; a relative URL or another scheme is not."""
    if not isinstance(value, str) or value != value.strip() or not value.isprintable():
        return False
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises on an out-of-range or malformed port
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)


def _lenient_bool(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower() if isinstance(value, (str, int)) else None
    if text in LENIENT_TRUE:
        return True
    if text in LENIENT_FALSE:
        return False
    return value
