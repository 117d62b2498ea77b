"""spec_index: which operation a concrete request is, and how a response differs from the spec."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from contract_suite.core.spec_index import SpecIndex

SPEC_DIR = Path(__file__).resolve().parent.parent / "spec"
HEADERS = {"Content-Type": "application/json", "X-RateLimit-Limit": "60",
           "X-RateLimit-Remaining": "59"}
WEBHOOK = {
    "object": "webhook", "id": 21, "uuid": "db6a2d91-b67e-4f88-b71a-b73da98c5168",
    "url": "https://hooks.invalid/a", "secret": "s" * 64, "events": ["record.*"],
    "is_enabled": True, "created_at": "2022-08-24T11:26:22Z", "updated_at": "2022-08-24T11:26:22Z",
}


@pytest.fixture(scope="module")
def index() -> SpecIndex:
    return SpecIndex.load(SPEC_DIR)


def body(value: Any) -> bytes:
    return json.dumps(value).encode()


@pytest.mark.parametrize(("method", "path", "operation_id"), [
    ("GET", "/api/v2/webhooks", "listWebhooks"),
    ("POST", "/api/v2/webhooks", "createWebhook"),
    ("GET", "/api/v2/webhooks/12", "getWebhook"),
    ("PATCH", "/api/v2/webhooks/abc", "updateWebhook"),
    ("GET", "/api/v2/webhooks/12/deliveries?page=2", "listWebhookDeliveries"),
    ("GET", "/api/webhooks", "v1ListWebhooks"),
    ("PUT", "/api/webhooks/3", "v1UpdateWebhook"),
    ("DELETE", "/api/webhooks/3", "v1DeleteWebhook"),
    ("POST", "/_sandbox/events", "triggerSandboxEvent"),
])
def test_find_maps_a_concrete_request_to_its_operation(
        index: SpecIndex, method: str, path: str, operation_id: str) -> None:
    operation = index.find(method, path)
    assert operation is not None and operation.operation_id == operation_id


def test_undocumented_requests_find_nothing_but_the_known_methods(index: SpecIndex) -> None:
    assert index.find("PUT", "/api/v2/webhooks/1") is None
    assert index.methods_for("/api/v2/webhooks/1") == ["GET", "PATCH", "DELETE"]
    assert index.find("GET", "/api/v3/webhooks") is None
    assert index.methods_for("/api/v3/webhooks") == []


def test_a_conforming_response_has_no_problems(index: SpecIndex) -> None:
    operation = index.find("GET", "/api/v2/webhooks/21")
    assert operation is not None
    assert index.check_response(operation, 200, HEADERS, body(WEBHOOK)) == []
    not_found = body({"error": "Webhook not found"})
    assert index.check_response(operation, 404, HEADERS, not_found) == []


def test_an_undocumented_status_is_a_problem(index: SpecIndex) -> None:
    operation = index.find("GET", "/api/v2/webhooks/21")
    assert operation is not None
    [problem] = index.check_response(operation, 500, HEADERS, body({}))
    assert (problem.what, problem.received) == ("status", 500)
    assert "404" in problem.documented


def test_a_body_against_the_schema_names_the_json_path(index: SpecIndex) -> None:
    operation = index.find("POST", "/api/v2/webhooks")
    assert operation is not None
    wrong = {**WEBHOOK, "created_at": "2022-08-24T11:26:22+00:00"}
    [problem] = index.check_response(operation, 201, HEADERS, body(wrong))
    assert (problem.what, problem.where) == ("body", "$.created_at")
    assert "does not match" in str(problem)


def test_required_headers_must_be_present(index: SpecIndex) -> None:
    operation = index.find("GET", "/api/v2/webhooks/21")
    assert operation is not None
    problems = index.check_response(operation, 200, {"content-type": "application/json"},
                                    body(WEBHOOK))
    assert {p.where for p in problems} == {"X-RateLimit-Limit", "X-RateLimit-Remaining"}


def test_nothing_documented_means_an_empty_body(index: SpecIndex) -> None:
    operation = index.find("DELETE", "/api/v2/webhooks/21")
    assert operation is not None
    assert index.check_response(operation, 204, HEADERS, b"") == []
    [problem] = index.check_response(operation, 204, HEADERS, body(WEBHOOK))
    assert (problem.what, problem.documented) == ("body", "an empty body")


def test_content_type_must_be_documented(index: SpecIndex) -> None:
    operation = index.find("GET", "/api/v2/webhooks/21")
    assert operation is not None
    headers = {**HEADERS, "Content-Type": "text/html"}
    [problem] = index.check_response(operation, 200, headers, body(WEBHOOK))
    assert problem.what == "content-type"


def test_v1_shapes_are_checked_against_spec_v1(index: SpecIndex) -> None:
    operation = index.find("DELETE", "/api/webhooks/21")
    assert operation is not None
    v1 = {"id": 21, "url": "https://hooks.invalid/a", "events": "record.*", "active": True,
          "secret": "s" * 64, "created_at": "2022-08-24T11:26:22+00:00",
          "updated_at": "2022-08-24T11:26:22+00:00"}
    assert index.check_response(operation, 200, HEADERS, body(v1)) == []
    problems = index.check_response(operation, 200, HEADERS, body({**v1, "events": ["record.*"]}))
    assert problems and problems[0].where == "$.events"


def test_check_schema_validates_any_document_against_a_named_schema(index: SpecIndex) -> None:
    payload = {"webhook": {"uuid": WEBHOOK["uuid"], "created_at": "2023-02-11T13:01:34Z",
                           "events": ["*"]},
               "trigger": {"triggered_at": "2023-06-28T16:15:27Z", "alias": "ping"},
               "data": ["ping"]}
    assert index.check_schema("v2", "DeliveryPayload", payload) == []
    broken = {**payload, "trigger": {"triggered_at": "yesterday", "alias": "ping"}}
    [problem] = index.check_schema("v2", "DeliveryPayload", broken)
    assert problem.where == "$.trigger.triggered_at"


def test_every_spec_operation_is_indexed(index: SpecIndex) -> None:
    ids = {operation.operation_id for operation in index.operations()}
    assert {"listWebhooks", "createWebhook", "getWebhook", "updateWebhook", "deleteWebhook",
            "listWebhookDeliveries", "v1ListWebhooks", "v1CreateWebhook", "v1UpdateWebhook",
            "v1DeleteWebhook", "v1ListWebhookDeliveries"} <= ids


V1_HOOK = {"id": 5, "url": "https://hooks.invalid/a", "events": "record.*", "active": True,
           "secret": "s" * 64, "created_at": "2022-08-24T11:26:22+00:00",
           "updated_at": "2022-08-24T11:26:22+00:00"}
OWN_URL = "https://hooks.invalid/aqid-contracts/run12345/s-abc"


def v1_list(*items: dict[str, Any]) -> bytes:
    return body({"data": list(items), "meta": {"pagination": {
        "total": len(items), "count": len(items), "per_page": 100, "current_page": 1,
        "total_pages": 1, "links": []}}})


def foreign_v1_items() -> list[dict[str, Any]]:
    """Data a team may hold that the suite never made (Room foreign-data), plus a broken one."""
    long_url = "https://hooks.invalid/long/" + "a" * (2051 - 27)
    return [
        {**V1_HOOK, "id": 300000, "url": long_url},
        {**V1_HOOK, "id": 300003, "url": "https://[2001:db8::1]:8443/ipv6-literal"},
        {**V1_HOOK, "id": 300006, "created_at": "2022-08-24T11:26:22.123456+00:00",
         "updated_at": "2022-08-24T11:26:22.5+00:00"},
        {**V1_HOOK, "id": 300009, "secret": 5, "active": "yes"},  # not even a webhook
    ]


def is_own(item: Any) -> bool:
    return "/aqid-contracts/run12345/" in str(item.get("url"))


def test_foreign_list_items_are_never_judged_but_our_own_are(index: SpecIndex) -> None:
    operation = index.find("GET", "/api/webhooks")
    assert operation is not None
    ours = {**V1_HOOK, "id": 400000, "url": OWN_URL}
    listed = v1_list(*foreign_v1_items(), ours)
    assert index.check_response(operation, 200, HEADERS, listed) != []  # unjudged: fails
    assert index.check_response(operation, 200, HEADERS, listed, judge_item=is_own) == []
    broken = v1_list(*foreign_v1_items(), {**ours, "active": "yes"})
    problems = index.check_response(operation, 200, HEADERS, broken, judge_item=is_own)
    assert [problem.where for problem in problems] == ["$.data[4].active"]


def test_the_envelope_of_a_list_is_judged_whatever_its_items(index: SpecIndex) -> None:
    operation = index.find("GET", "/api/webhooks")
    assert operation is not None
    document = json.loads(v1_list(*foreign_v1_items()))
    document["meta"]["pagination"]["total"] = "four"
    problems = index.check_response(operation, 200, HEADERS, body(document), judge_item=is_own)
    assert [problem.where for problem in problems] == ["$.meta.pagination.total"]


@pytest.mark.parametrize("content_type", ["application/json; charset=UTF-8",
                                          "Application/JSON", "application/json;charset=utf-8"])
def test_content_type_parameters_and_case_are_allowed(index: SpecIndex, content_type: str) -> None:
    operation = index.find("GET", "/api/v2/webhooks/21")
    assert operation is not None
    headers = {**HEADERS, "Content-Type": content_type}
    assert index.check_response(operation, 200, headers, body(WEBHOOK)) == []
    wrong = index.check_response(operation, 200, {**HEADERS, "Content-Type": "text/json"},
                                 body(WEBHOOK))
    assert [problem.what for problem in wrong] == ["content-type"]


def test_webhooks_lists_the_requests_a_spec_says_the_api_sends(index: SpecIndex) -> None:
    (delivery,) = index.webhooks("v2")
    assert (delivery.method, delivery.template, delivery.operation_id) == (
        "POST", "webhookDelivery", "receiveWebhookDelivery")
    assert "requestBody" in index.specs["v2"].at(delivery.pointer)
    assert index.webhooks("sandbox") == []  # a spec without `webhooks:`
