"""Body matchers of the contract format, and the small JSON path syntax they use.

A check is a mapping: an optional `path` (`$`, `$.data[0].id`, `$['events.0']`) and one or
more matchers applied to the value found there. A failed matcher raises `MatchFailure`
(an AssertionError) carrying the JSON path, what was expected and what was received, so
the failure report can print them side by side. Expected values arrive already rendered
(placeholders replaced) from steps.py; matchers that name a capture get `captures`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

_TOKEN = re.compile(r"\.([A-Za-z_][A-Za-z0-9_-]*)|\[(-?\d+)\]|\['([^']+)'\]")


class _Missing:
    def __repr__(self) -> str:
        return "<missing>"


MISSING: Any = _Missing()


class MatchFailure(AssertionError):
    def __init__(self, path: str, expected: Any, received: Any, detail: str) -> None:
        self.path, self.expected, self.received, self.detail = path, expected, received, detail
        super().__init__(f"{path}: {detail}")


def parse_path(text: str) -> list[str | int]:
    if not text.startswith("$"):
        raise ValueError(f"a JSON path starts with $: {text!r}")
    parts: list[str | int] = []
    position = 1
    while position < len(text):
        match = _TOKEN.match(text, position)
        if not match:
            raise ValueError(f"cannot read JSON path {text!r} at {text[position:]!r}")
        name, index, quoted = match.groups()
        parts.append(int(index) if index is not None else (name or quoted))
        position = match.end()
    return parts


def resolve(document: Any, path: str) -> Any:
    """The value at `path`, or MISSING when any part of it does not exist."""
    node = document
    for part in parse_path(path):
        in_list = isinstance(part, int) and isinstance(node, list) and -len(node) <= part < len(
            node)
        in_object = isinstance(part, str) and isinstance(node, dict) and part in node
        if not (in_list or in_object):
            return MISSING
        node = node[part]
    return node


def join_path(base: str, relative: str) -> str:
    return base + relative[1:]


def same_json(a: Any, b: Any) -> bool:
    """JSON equality: true is not 1, 1 is 1.0, objects ignore key order."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_json(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same_json(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    return type(a) is type(b) and a == b


def is_subset(expected: Any, actual: Any) -> bool:
    """Objects: every expected key present and matching; lists: same length, item by item."""
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(
            key in actual and is_subset(value, actual[key]) for key, value in expected.items()
        )
    if isinstance(expected, list):
        return (isinstance(actual, list) and len(actual) == len(expected)
                and all(is_subset(e, a) for e, a in zip(expected, actual, strict=True)))
    return same_json(expected, actual)


JSON_TYPES: dict[str, Callable[[Any], bool]] = {
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "array": lambda v: isinstance(v, list),
    "object": lambda v: isinstance(v, dict),
    "null": lambda v: v is None,
}


def json_type(value: Any) -> str:
    return next((name for name, test in JSON_TYPES.items() if test(value)), type(value).__name__)


def parse_instant(value: Any) -> datetime | None:
    """An RFC 3339 date-time with an offset (`Z` or `+00:00`), else None."""
    if not isinstance(value, str) or not re.fullmatch(
        r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)", value
    ):
        return None
    return datetime.fromisoformat(value)


# ---- the v1 <-> v2 mapping: two views of one webhook --------------------------------------


def webhook_view(webhook: Any) -> dict[str, Any] | None:
    """A version-neutral view of a v1 or v2 webhook, or None when it is neither."""
    if not isinstance(webhook, dict):
        return None
    if "is_enabled" in webhook:
        events, enabled = webhook.get("events"), webhook.get("is_enabled")
    elif "active" in webhook:
        raw = webhook.get("events")
        events = raw.split(",") if isinstance(raw, str) else raw  # v1: "a,b" is ["a", "b"]
        enabled = webhook.get("active")
    else:
        return None
    if isinstance(events, list) and all(isinstance(e, str) for e in events):
        events = sorted(events)  # the brief promises the same events, not their order
    return {
        "id": webhook.get("id"), "url": webhook.get("url"), "secret": webhook.get("secret"),
        "events": events, "enabled": enabled,
        "created_at": parse_instant(webhook.get("created_at")) or webhook.get("created_at"),
        "updated_at": parse_instant(webhook.get("updated_at")) or webhook.get("updated_at"),
    }


_V2_NAMES = {"enabled": "is_enabled"}
_INSTANT_FIELDS = ("created_at", "updated_at")


def same_second(a: Any, b: Any) -> bool:
    """The same instant to the second (brief, Room "fractional-seconds").

    v1 may carry a fraction (`12:00:00.734+00:00`) where v2 shows whole seconds
    (`12:00:00Z`): equal when both fall in the same second, or when one has no fraction and
    the other is less than a second from it (a server may round rather than truncate).
    Values that are not instants compare as they are.
    """
    if not (isinstance(a, datetime) and isinstance(b, datetime)):
        return a == b
    if a.replace(microsecond=0) == b.replace(microsecond=0):
        return True
    whole = a.microsecond == 0 or b.microsecond == 0
    return whole and abs((a - b).total_seconds()) < 1


def check_same_webhook(path: str, actual: Any, captured: Any, capture_name: str) -> None:
    mine, theirs = webhook_view(actual), webhook_view(captured)
    if theirs is None:
        raise MatchFailure(path, f"a webhook in capture {capture_name!r}", captured,
                           f"capture {capture_name!r} is not a v1 or v2 webhook")
    if mine is None:
        raise MatchFailure(path, "a v1 or v2 webhook", actual, "not a v1 or v2 webhook")
    for field, value in theirs.items():
        same = same_second(mine[field], value) if field in _INSTANT_FIELDS else (
            mine[field] == value)
        if not same:
            name = _V2_NAMES.get(field, field) if "is_enabled" in actual else field
            name = "active" if field == "enabled" and "active" in actual else name
            raise MatchFailure(
                join_path(path, f"$.{name}"), _shown(value), _shown(mine[field]),
                f"not the same webhook as {capture_name!r} after the v1<->v2 mapping "
                f"({field} differs)",
            )


def _shown(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


# ---- running checks ----------------------------------------------------------------------


def run_check(check: Mapping[str, Any], document: Any, captures: Mapping[str, Any],
              base: str = "$") -> None:
    """Apply every matcher of one (already rendered) check; raise MatchFailure on the first."""
    path = join_path(base, check.get("path", "$"))
    value = resolve(document, check.get("path", "$"))
    for matcher, expected in check.items():
        if matcher != "path":
            MATCHERS[matcher](path, value, expected, captures)


def _present(path: str, value: Any, expected: bool, captures: Mapping[str, Any]) -> None:
    if (value is not MISSING) != expected:
        raise MatchFailure(path, "present" if expected else "absent",
                           "absent" if value is MISSING else value,
                           "should be present" if expected else "should be absent")


def _require(path: str, value: Any) -> None:
    if value is MISSING:
        raise MatchFailure(path, "a value", value, "nothing at this path")


def _equals(path: str, value: Any, expected: Any, captures: Mapping[str, Any]) -> None:
    _require(path, value)
    if not same_json(value, expected):
        raise MatchFailure(path, expected, value, "not equal")


def _not_equals(path: str, value: Any, expected: Any, captures: Mapping[str, Any]) -> None:
    _require(path, value)
    if same_json(value, expected):
        raise MatchFailure(path, f"anything but {expected!r}", value, "should differ")


def _one_of(path: str, value: Any, expected: list[Any], captures: Mapping[str, Any]) -> None:
    _require(path, value)
    if not any(same_json(value, option) for option in expected):
        raise MatchFailure(path, f"one of {expected!r}", value, "not one of the allowed values")


def _same_items(path: str, value: Any, expected: list[Any], captures: Mapping[str, Any]) -> None:
    """The same items in any order (the brief promises no order for a webhook's events)."""
    _require(path, value)
    remaining = list(expected)
    if isinstance(value, list) and len(value) == len(expected):
        for item in value:
            match = next((i for i, e in enumerate(remaining) if same_json(item, e)), None)
            if match is None:
                break
            remaining.pop(match)
    if not isinstance(value, list) or len(value) != len(expected) or remaining:
        raise MatchFailure(path, f"the items {expected!r} in any order", value,
                           "not the same items")


def _subset(path: str, value: Any, expected: Any, captures: Mapping[str, Any]) -> None:
    _require(path, value)
    if not is_subset(expected, value):
        raise MatchFailure(path, expected, value, "does not contain the expected subset")


def _type(path: str, value: Any, expected: str | list[str], captures: Mapping[str, Any]) -> None:
    _require(path, value)
    names = [expected] if isinstance(expected, str) else expected
    if not any(JSON_TYPES[name](value) for name in names):
        raise MatchFailure(path, " or ".join(names), value, f"is of type {json_type(value)}")


def _regex(path: str, value: Any, expected: str, captures: Mapping[str, Any]) -> None:
    _require(path, value)
    if not isinstance(value, str) or not re.search(expected, value):
        raise MatchFailure(path, f"a string matching /{expected}/", value, "does not match")


def _length(path: str, value: Any, expected: Any, captures: Mapping[str, Any]) -> None:
    _require(path, value)
    if not isinstance(value, list | str | dict):
        raise MatchFailure(path, f"length {expected}", value, "has no length")
    low, high = (expected, expected) if isinstance(expected, int) else (
        expected.get("min", 0), expected.get("max"))
    if len(value) < low or (high is not None and len(value) > high):
        raise MatchFailure(path, f"length {expected}", value, f"has length {len(value)}")


def _equals_capture(path: str, value: Any, name: str, captures: Mapping[str, Any]) -> None:
    _require(path, value)
    if not same_json(value, captures[name]):
        raise MatchFailure(path, captures[name], value, f"not equal to capture {name!r}")


def _same_webhook_as(path: str, value: Any, name: str, captures: Mapping[str, Any]) -> None:
    _require(path, value)
    check_same_webhook(path, value, captures[name], name)


def _instant(path: str, value: Any, expected: Mapping[str, str],
             captures: Mapping[str, Any]) -> None:
    _require(path, value)
    received = parse_instant(value)
    if received is None:
        raise MatchFailure(path, "an RFC 3339 date-time", value, "not a date-time")
    for relation, other_text in expected.items():
        other = parse_instant(other_text)
        if other is None:
            raise MatchFailure(path, f"{relation} {other_text!r}", value,
                               f"{other_text!r} (the value compared with) is not a date-time")
        holds = {"equals": received == other, "after": received > other,
                 "not_before": received >= other}[relation]
        if not holds:
            raise MatchFailure(path, f"an instant {relation.replace('_', ' ')} {other_text}",
                               value, f"instant is not {relation.replace('_', ' ')}")


def _has_key_matching(path: str, value: Any, expected: str, captures: Mapping[str, Any]) -> None:
    _require(path, value)
    if not isinstance(value, dict) or not any(re.search(expected, str(k)) for k in value):
        raise MatchFailure(path, f"an object with a key matching /{expected}/", value,
                           "no such key")


def _each(path: str, value: Any, checks: list[Mapping[str, Any]],
          captures: Mapping[str, Any]) -> None:
    _require(path, value)
    if not isinstance(value, list):
        raise MatchFailure(path, "an array", value, f"is of type {json_type(value)}")
    for index, item in enumerate(value):
        for check in checks:
            run_check(check, item, captures, base=f"{path}[{index}]")


def _matching_items(path: str, value: Any, expected: Mapping[str, Any],
                    captures: Mapping[str, Any]) -> None:
    _require(path, value)
    if not isinstance(value, list):
        raise MatchFailure(path, "an array", value, f"is of type {json_type(value)}")
    found = sum(1 for item in value if is_subset(expected["where"], item))
    if found != expected["count"]:
        raise MatchFailure(path, f"{expected['count']} item(s) matching {expected['where']}",
                           f"{found} such item(s)", "wrong number of matching items")


Matcher = Callable[[str, Any, Any, Mapping[str, Any]], None]
MATCHERS: dict[str, Matcher] = {
    "present": _present, "equals": _equals, "not_equals": _not_equals, "one_of": _one_of,
    "subset": _subset, "same_items": _same_items, "type": _type, "regex": _regex, "length": _length,
    "equals_capture": _equals_capture, "same_webhook_as": _same_webhook_as,
    "instant": _instant, "has_key_matching": _has_key_matching, "each": _each,
    "matching_items": _matching_items,
}
