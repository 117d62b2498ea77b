"""Every matcher passes when it should, and fails with path, expected and received."""

from __future__ import annotations

from typing import Any

import pytest

from contract_suite.curated.matchers import (
    MISSING,
    MatchFailure,
    parse_path,
    resolve,
    run_check,
    same_json,
)

V2 = {
    "object": "webhook", "id": 7, "uuid": "db6a2d91-b67e-4f88-b71a-b73da98c5168",
    "url": "https://hooks.invalid/a", "secret": "s" * 64, "events": ["client.*", "record.*"],
    "is_enabled": True, "created_at": "2024-01-02T03:04:05Z", "updated_at": "2024-01-02T03:04:06Z",
}
V1 = {
    "id": 7, "url": "https://hooks.invalid/a", "secret": "s" * 64, "events": "client.*,record.*",
    "active": True, "created_at": "2024-01-02T03:04:05+00:00",
    "updated_at": "2024-01-02T03:04:06+00:00",
}
BODY = {"data": [{"id": 1, "on": True}, {"id": 2, "on": False}], "errors": {"events.0": ["x"]}}


def check(check: dict[str, Any], body: Any = BODY, captures: dict[str, Any] | None = None) -> None:
    run_check(check, body, captures or {})


def fails(check_: dict[str, Any], body: Any = BODY,
          captures: dict[str, Any] | None = None) -> MatchFailure:
    with pytest.raises(MatchFailure) as caught:
        check(check_, body, captures)
    return caught.value


def test_json_paths() -> None:
    assert parse_path("$.data[0].id") == ["data", 0, "id"]
    assert parse_path("$['events.0']") == ["events.0"]
    assert resolve(BODY, "$.data[-1].id") == 2
    assert resolve(BODY, "$.errors['events.0']") == ["x"]
    assert resolve(BODY, "$.data[5]") is MISSING
    assert resolve(BODY, "$.nope.deeper") is MISSING
    with pytest.raises(ValueError):
        parse_path("data.id")


def test_json_equality_keeps_booleans_apart_from_numbers() -> None:
    assert same_json(1, 1.0)
    assert not same_json(True, 1)
    assert not same_json([1, 2], [2, 1])
    assert same_json({"a": 1, "b": 2}, {"b": 2, "a": 1})


@pytest.mark.parametrize(("good", "bad"), [
    ({"path": "$.data[0].id", "equals": 1}, {"path": "$.data[0].id", "equals": 2}),
    ({"path": "$.data[0].on", "equals": True}, {"path": "$.data[0].id", "equals": True}),
    ({"path": "$.data[0].id", "not_equals": 2}, {"path": "$.data[0].id", "not_equals": 1}),
    ({"path": "$.data[1].id", "one_of": [2, 3]}, {"path": "$.data[1].id", "one_of": [4]}),
    ({"path": "$.data", "subset": [{"id": 1}, {}]}, {"path": "$.data", "subset": [{"id": 1}]}),
    ({"subset": {"data": [{"id": 1}, {"on": False}]}}, {"subset": {"meta": {}}}),
    ({"path": "$.data", "type": "array"}, {"path": "$.data", "type": "object"}),
    ({"path": "$.data[0].id", "type": ["string", "integer"]},
     {"path": "$.data[0].on", "type": "integer"}),
    ({"path": "$.errors['events.0'][0]", "regex": "^x$"},
     {"path": "$.errors['events.0'][0]", "regex": "^y"}),
    ({"path": "$.data", "present": True}, {"path": "$.meta", "present": True}),
    ({"path": "$.meta", "present": False}, {"path": "$.data", "present": False}),
    ({"path": "$.data", "length": 2}, {"path": "$.data", "length": 3}),
    ({"path": "$.data", "length": {"min": 1, "max": 2}}, {"path": "$.data", "length": {"min": 3}}),
    ({"path": "$.errors", "has_key_matching": r"^events(\.\d+)?$"},
     {"path": "$.errors", "has_key_matching": "^url$"}),
    ({"path": "$.data", "each": [{"path": "$.id", "type": "integer"}]},
     {"path": "$.data", "each": [{"path": "$.on", "equals": True}]}),
    ({"path": "$.data", "matching_items": {"where": {"id": 2}, "count": 1}},
     {"path": "$.data", "matching_items": {"where": {"id": 3}, "count": 1}}),
    ({"path": "$.data", "matching_items": {"where": {"id": 3}, "count": 0}},
     {"path": "$.data", "matching_items": {"where": {"id": 1}, "count": 0}}),
    ({"path": "$.data", "same_items": [{"id": 2, "on": False}, {"id": 1, "on": True}]},
     {"path": "$.data", "same_items": [{"id": 1, "on": True}]}),
])
def test_each_matcher_passes_and_fails(good: dict[str, Any], bad: dict[str, Any]) -> None:
    check(good)
    failure = fails(bad)
    assert failure.path.startswith("$")


def test_a_failure_carries_path_expected_and_received() -> None:
    failure = fails({"path": "$.data[1].id", "equals": 5})
    assert (failure.path, failure.expected, failure.received) == ("$.data[1].id", 5, 2)


def test_each_reports_the_path_of_the_failing_item() -> None:
    failure = fails({"path": "$.data", "each": [{"path": "$.on", "equals": True}]})
    assert failure.path == "$.data[1].on"


def test_a_missing_value_fails_every_value_matcher() -> None:
    failure = fails({"path": "$.nope", "type": "string"})
    assert failure.detail == "nothing at this path"


def test_equals_capture() -> None:
    first = {"id": 1, "on": True}
    check({"path": "$.data[0]", "equals_capture": "first"}, captures={"first": first})
    failure = fails({"path": "$.data[1].id", "equals_capture": "n"}, captures={"n": 1})
    assert failure.detail == "not equal to capture 'n'"


def test_instants_compare_across_offset_forms() -> None:
    check({"path": "$.created_at", "instant": {"equals": "2024-01-02T03:04:05+00:00"}}, V2)
    check({"path": "$.updated_at", "instant": {"after": "2024-01-02T03:04:05Z",
                                                "not_before": "2024-01-02T03:04:06+00:00"}}, V2)
    fails({"path": "$.updated_at", "instant": {"after": "2024-01-02T03:04:06+00:00"}}, V2)
    fails({"path": "$.url", "instant": {"equals": "2024-01-02T03:04:05Z"}}, V2)


def test_same_webhook_maps_v1_and_v2() -> None:
    check({"same_webhook_as": "v1"}, V2, {"v1": V1})
    check({"same_webhook_as": "v2"}, V1, {"v2": V2})
    reordered = {**V1, "events": "record.*,client.*"}  # the brief promises no order of events
    check({"same_webhook_as": "v1"}, V2, {"v1": reordered})


@pytest.mark.parametrize(("change", "field"), [
    ({"active": False}, "is_enabled"),
    ({"events": "client.*"}, "events"),
    ({"created_at": "2024-01-02T03:04:06+00:00"}, "created_at"),
    ({"secret": "t" * 64}, "secret"),
    ({"id": 8}, "id"),
    ({"url": "https://hooks.invalid/b"}, "url"),
])
def test_same_webhook_names_the_field_that_differs(change: dict[str, Any], field: str) -> None:
    failure = fails({"same_webhook_as": "v1"}, V2, {"v1": {**V1, **change}})
    assert failure.path == f"$.{field}"


def test_same_webhook_refuses_what_is_not_a_webhook() -> None:
    failure = fails({"same_webhook_as": "v1"}, {"id": 7}, {"v1": V1})
    assert failure.detail == "not a v1 or v2 webhook"


@pytest.mark.parametrize("v1_created", [
    "2024-01-02T03:04:05+00:00", "2024-01-02T03:04:05.000001+00:00",
    "2024-01-02T03:04:05.734+00:00", "2024-01-02T03:04:04.6+00:00",  # rounded up in v2
])
def test_v1_fractional_seconds_are_the_same_instant_to_the_second(v1_created: str) -> None:
    check({"same_webhook_as": "v1"}, V2, {"v1": {**V1, "created_at": v1_created}})


@pytest.mark.parametrize("v1_created", [
    "2024-01-02T03:04:06+00:00", "2024-01-02T03:04:06.2+00:00", "2024-01-02T03:04:04+00:00",
])
def test_another_second_is_another_instant(v1_created: str) -> None:
    failure = fails({"same_webhook_as": "v1"}, V2, {"v1": {**V1, "created_at": v1_created}})
    assert failure.path == "$.created_at"
