"""The room: drop "negative data accepted" only where a correct server may accept."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import schemathesis
from schemathesis.core.failures import AcceptedNegativeData

from contract_suite.room import is_false_alarm

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
