"""The room: drop "negative data accepted" only where a correct server may accept."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import schemathesis
from schemathesis.core.failures import AcceptedNegativeData

from contract_suite.generated.room import is_false_alarm

SPEC = Path(__file__).resolve().parent.parent / "spec" / "v2.yaml"


@pytest.fixture(scope="module")
def schema() -> Any:
    return schemathesis.openapi.from_path(SPEC)


def accepted(operation: Any, **parts: Any) -> bool:
    case = operation.Case(**parts)
    failure = AcceptedNegativeData(operation=operation.label, message="accepted",
                                   status_code=200, expected_statuses=["422"])
    return is_false_alarm(failure, case, None)


@pytest.mark.parametrize("value", ["1", "0", "yes", " true"])
def test_lenient_boolean_query_values_are_not_negative_data(schema: Any, value: str) -> None:
    assert accepted(schema["/webhooks"]["GET"], query={"enabled": value})


@pytest.mark.parametrize("value", [" 5", "+5", "05"])
def test_lenient_integer_query_values_are_not_negative_data(schema: Any, value: str) -> None:
    assert accepted(schema["/webhooks"]["GET"], query={"limit": value})


@pytest.mark.parametrize("query", [{"enabled": "maybe"}, {"limit": "0"}, {"limit": "101"},
                                   {"limit": "abc"}, {"page": "-1"}])
def test_really_invalid_query_values_stay_failures(schema: Any, query: dict[str, str]) -> None:
    assert not accepted(schema["/webhooks"]["GET"], query=query)


@pytest.mark.parametrize("url", ["HTTP://EXAMPLE.ORG/x", "https://example.org/#frag",
                                 "https://user@example.org/"])
def test_urls_an_absolute_http_url_rule_admits_are_not_negative_data(schema: Any, url: str) -> None:
    assert accepted(schema["/webhooks"]["POST"], body={"url": url, "events": ["*"]})


@pytest.mark.parametrize("body", [
    {"url": "ftp://example.org/", "events": ["*"]},
    {"url": "not a url", "events": ["*"]},
    {"url": "HTTP://EXAMPLE.ORG/", "events": []},  # the URL is fine, the events are not
    {"url": "https://example.org/", "events": ["*"], "is_enabled": "maybe"},
])
def test_really_invalid_bodies_stay_failures(schema: Any, body: dict[str, Any]) -> None:
    assert not accepted(schema["/webhooks"]["POST"], body=body)


def test_lenient_booleans_in_bodies_are_not_negative_data(schema: Any) -> None:
    assert accepted(schema["/webhooks"]["POST"],
                    body={"url": "https://example.org/", "events": ["*"], "is_enabled": 1})


@pytest.mark.parametrize("page", ["2147483648", "99999999999999999999999999"])
def test_a_page_past_two_to_the_31_answered_as_past_the_end_is_room(schema: Any,
                                                                     page: str) -> None:
    assert accepted(schema["/webhooks"]["GET"], query={"page": page})


@pytest.mark.parametrize("events", ["client.*", "client.*,record.created", ["*", "*"],
                                    ["client.*", "record.created", "client.*"]])
def test_events_as_one_string_or_with_repeats_read_the_obvious_way_are_room(
        schema: Any, events: Any) -> None:
    assert accepted(schema["/webhooks"]["POST"],
                    body={"url": "https://hooks.invalid/x", "events": events})


@pytest.mark.parametrize("events", ["not-an-event", "ping", ["ping", "ping"], []])
def test_events_that_no_reading_makes_valid_stay_failures(schema: Any, events: Any) -> None:
    assert not accepted(schema["/webhooks"]["POST"],
                        body={"url": "https://hooks.invalid/x", "events": events})


def test_a_url_longer_than_255_characters_is_room(schema: Any) -> None:
    url = "https://hooks.invalid/" + "a" * 2030
    assert accepted(schema["/webhooks"]["POST"], body={"url": url, "events": ["*"]})


@pytest.mark.parametrize("url", ["/relative/path", "ftp://hooks.invalid/x", " https://a.invalid/",
                                 "https://", "mailto:someone@hooks.invalid"])
def test_relative_urls_other_schemes_and_hostless_urls_stay_failures(schema: Any,
                                                                    url: str) -> None:
    assert not accepted(schema["/webhooks"]["POST"], body={"url": url, "events": ["*"]})


def test_every_room_entry_quotes_the_brief_and_says_how_it_is_treated() -> None:
    from contract_suite.generated.room import ROOM

    brief = Path(__file__).resolve().parents[2] / "shared" / "API-BRIEF.md"
    text = " ".join(brief.read_text(encoding="utf-8").split()).replace("`", "") \
        if brief.exists() else None
    for entry in ROOM.values():
        assert entry.treatment and entry.brief
        if text is not None:  # the brief beside the checkout (CI has a copy)
            for fragment in entry.brief.split(" ... "):
                assert fragment.rstrip(".") in text, (entry.name, fragment)


def test_a_typed_page_past_two_to_the_31_is_room_too(schema: Any) -> None:
    # schemathesis hands the typed value (an int), not the wire string
    assert accepted(schema["/webhooks"]["GET"], query={"page": 2147483648})


def test_the_readme_shows_the_room_table_as_room_py_has_it() -> None:
    from contract_suite.generated.room import markdown_table

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    begin = "<!-- room table: generated by contract_suite.generated.room.markdown_table() -->\n"
    shown = readme.split(begin, 1)[1].split("\n<!-- end of room table -->", 1)[0]
    assert shown == markdown_table(), "regenerate the README's room table from room.py"
