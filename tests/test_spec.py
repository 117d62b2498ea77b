"""The hand-maintained specs: valid, complete, consistent with the brief and with each other.

The brief's event lists, URL pattern and signature test vector are hard-coded here on purpose:
they are the independent source the specs are checked against.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import re
import time
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import jsonschema
import jsonschema_rs
import pytest
import yaml
from openapi_spec_validator import validate as openapi_validate
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from contract_suite.generated.room import ROOM
from spec_tools import events
from spec_tools.validate import validate_file

SPEC_DIR = Path(__file__).resolve().parent.parent / "spec"
SPEC_NAMES = ("v1", "v2", "sandbox")
API_SPECS = ("v1", "v2")
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
SPEC_URN = "urn:aqid:spec"

# --- The brief, as the independent source ---------------------------------------------
BRIEF_CONCRETE_EVENTS = """
case.approved case.archived case.created case.item_added case.item_removed case.rejected
case.status case.unarchived case.updated client.archived client.created client.deleted
client.organisations client.record client.status client.unarchived client.updated
client.deletion_reminder_updated client.deletion_reminder_deleted
client.deletion_reminder_due form.attached form.deleted form.modified form.sent
form.submitted form.updated record.bounced record.created record.finished record.reviewed
record.unreviewed record.updated watchlist.updated
""".split()  # noqa: SIM905 - the brief's text verbatim, easy to compare by eye
BRIEF_WILDCARDS = ["*", "case.*", "client.*", "form.*", "record.*"]
BRIEF_SUBSCRIBABLE = BRIEF_WILDCARDS + BRIEF_CONCRETE_EVENTS
BRIEF_DELIVERY_EVENTS = BRIEF_CONCRETE_EVENTS + ["ping"]

# The brief's Room, "URL forms" and "Sizes": the plain forms every correct server must
# accept, written out piece by piece (the spec holds the same pattern in one string), and
# bounded so that no match is longer than 253 characters (4 labels of 20, 3 path segments
# of 40, a query of 32; no percent-encodings, which would cost 3 characters each).
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,18}[A-Za-z0-9])?"
_LAST_LABEL = r"[A-Za-z](?:[A-Za-z0-9-]{0,18}[A-Za-z0-9])?"  # a letter first: never an IPv4
_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])"
_PORT = r"(?:6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[1-9][0-9]{0,3})"
_PATH_CHAR = r"[A-Za-z0-9._~!$&'()*+,;=:@-]"  # RFC 3986 pchar, less percent-encodings
_QUERY_CHAR = r"[A-Za-z0-9._~!$&'()*+,;=:@/?-]"
BRIEF_URL_PATTERN = (
    rf"^https?://(?:(?:{_LABEL}\.){{0,3}}{_LAST_LABEL}|{_OCTET}(?:\.{_OCTET}){{3}})"
    rf"(?::{_PORT})?(?:/{_PATH_CHAR}{{0,40}}){{0,3}}(?:\?{_QUERY_CHAR}{{0,32}})?$"
)
BRIEF_URL_MAX_LENGTH = 255  # Room, url-length: "must accept ... up to 255 characters"
LONGEST_MATCH = len("https://") + (4 * 20 + 3) + len(":65535") + 3 * 41 + 33


def test_no_url_the_request_pattern_admits_is_longer_than_every_server_must_accept() -> None:
    longest = ("https://" + ".".join(["a" * 20] * 4) + ":65535" + ("/" + "b" * 40) * 3
               + "?" + "c" * 32)
    assert len(longest) == LONGEST_MATCH <= BRIEF_URL_MAX_LENGTH
    assert re.fullmatch(BRIEF_URL_PATTERN, longest)
    for longer in (longest + "/", longest + "c", "https://" + "a" * 21 + ".invalid/"):
        assert not re.fullmatch(BRIEF_URL_PATTERN, longer), longer

VECTOR_SECRET = "58585568aa4dc44c733bc244495fc1f2de3c2d2f56287c265274ab806f74bb34"
VECTOR_BODY = (
    '{"webhook":{"uuid":"db6a2d91-b67e-4f88-b71a-b73da98c5168","created_at":"2023-02-11T13:01:34Z",'
    '"events":["*"]},"trigger":{"triggered_at":"2023-06-28T16:15:27Z","alias":"client.created"},'
    '"data":{"client":{"id":472346,"show":"https://id.amiqus.co/api/v2/clients/472346"}}}'
)
VECTOR_SIGNATURE = "imGPM2wBjxofxhMW2cSB5tcc76i5E6jpCRJLmbLqNEU="

# (file, method, path) -> (operationId, success status, success has a body)
BRIEF_OPERATIONS = {
    ("v2", "get", "/webhooks"): ("listWebhooks", "200", True),
    ("v2", "post", "/webhooks"): ("createWebhook", "201", True),
    ("v2", "get", "/webhooks/{id}"): ("getWebhook", "200", True),
    ("v2", "patch", "/webhooks/{id}"): ("updateWebhook", "200", True),
    ("v2", "delete", "/webhooks/{id}"): ("deleteWebhook", "204", False),
    ("v2", "get", "/webhooks/{id}/deliveries"): ("listWebhookDeliveries", "200", True),
    ("v1", "get", "/webhooks"): ("v1ListWebhooks", "200", True),
    ("v1", "post", "/webhooks"): ("v1CreateWebhook", "201", True),
    ("v1", "put", "/webhooks/{id}"): ("v1UpdateWebhook", "200", True),
    ("v1", "delete", "/webhooks/{id}"): ("v1DeleteWebhook", "200", True),
    ("v1", "get", "/webhooks/{id}/deliveries"): ("v1ListWebhookDeliveries", "200", True),
    ("sandbox", "get", "/_sandbox"): ("getSandboxSettings", "200", True),
    ("sandbox", "post", "/_sandbox/events"): ("triggerSandboxEvent", "202", True),
}
# Error codes each operation documents beyond 401/403/429 (the brief's tables).
BRIEF_ERRORS = {
    "listWebhooks": {"422"},
    "createWebhook": {"413", "422"},
    "getWebhook": {"404", "422"},  # 422: Room path-id-range (beyond 64 bits)
    "updateWebhook": {"404", "413", "422"},
    "deleteWebhook": {"404", "422"},
    "listWebhookDeliveries": {"404", "422"},
    "v1ListWebhooks": {"422"},
    "v1CreateWebhook": {"413", "422"},
    "v1UpdateWebhook": {"404", "413", "422"},
    "v1DeleteWebhook": {"404", "422"},
    "v1ListWebhookDeliveries": {"404", "422"},
    "getSandboxSettings": {"404"},
    "triggerSandboxEvent": {"404", "422"},
}
SERVERS = {
    "v2": "https://id.amiqus.co/api/v2",
    "v1": "https://id.amiqus.co/api",
    "sandbox": "https://id.amiqus.co",
}
CREATE_LINK_TARGETS = {
    "v2": {"getWebhook", "updateWebhook", "deleteWebhook", "listWebhookDeliveries"},
    "v1": {"v1UpdateWebhook", "v1DeleteWebhook", "v1ListWebhookDeliveries"},
}
# Pieces copied between the self-contained files: (section, name).
SHARED_WITH_V1 = [("schemas", name) for name in (
    "SubscribableEvent", "DeliveryEvent", "SubscribedEvents", "WebhookUrl", "Uuid", "Timestamp",
    "DateTime", "Signature", "DeliveryPayload", "UnauthenticatedError", "ForbiddenError",
    "NotFoundError",
    "PayloadTooLargeError", "RateLimitError", "ValidationErrors",
)] + [("responses", name) for name in (
    "Unauthenticated", "Forbidden", "WebhookNotFound", "PayloadTooLarge", "InvalidQuery",
    "InvalidId", "InvalidQueryOrId", "InvalidBody", "TooManyRequests",
)] + [("headers", name) for name in (
    "X-RateLimit-Limit", "X-RateLimit-Remaining", "Retry-After", "X-RateLimit-Reset",
)] + [("securitySchemes", "bearerAuth"), ("parameters", "WebhookId"), ("parameters", "Page")]
SHARED_WITH_SANDBOX = [
    ("schemas", "UnauthenticatedError"), ("schemas", "ForbiddenError"),
    ("schemas", "RateLimitError"), ("schemas", "ValidationErrors"),
    ("responses", "Unauthenticated"), ("responses", "Forbidden"),
    ("responses", "TooManyRequests"), ("securitySchemes", "bearerAuth"),
] + [("headers", name) for name in (
    "X-RateLimit-Limit", "X-RateLimit-Remaining", "Retry-After", "X-RateLimit-Reset",
)]


# --- Helpers ------------------------------------------------------------------------------
@cache
def spec(name: str) -> dict[str, Any]:
    return yaml.safe_load((SPEC_DIR / f"{name}.yaml").read_text(encoding="utf-8"))


def value_ref_parts(ref: str) -> list[str]:
    return [p.replace("~1", "/").replace("~0", "~") for p in ref.removeprefix("#/").split("/")]


def deref(document: dict[str, Any], value: Any) -> Any:
    while isinstance(value, dict) and "$ref" in value:
        target: Any = document
        for part in value_ref_parts(value["$ref"]):
            target = target[part]
        value = target
    return value


def operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for route, item in document["paths"].items():
        for method in HTTP_METHODS:
            if method in item:
                yield method, route, item[method]


def all_operations() -> Iterator[tuple[str, str, str, dict[str, Any]]]:
    for name in SPEC_NAMES:
        for method, route, operation in operations(spec(name)):
            yield name, method, route, operation


def pointer(path: tuple[str | int, ...]) -> str:
    return "#/" + "/".join(quote(str(p).replace("~", "~0").replace("/", "~1")) for p in path)


@cache
def registry(name: str) -> Registry:
    resource = Resource.from_contents(spec(name), default_specification=DRAFT202012)
    return Registry().with_resource(SPEC_URN, resource)


def validator_at(name: str, path: tuple[str | int, ...]) -> jsonschema.Draft202012Validator:
    """A validator for the schema found at `path` in spec `name`, its local $refs resolving."""
    return jsonschema.Draft202012Validator(
        {"$ref": SPEC_URN + pointer(path)},
        registry=registry(name),
        format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER,
    )


def examples_in(name: str) -> Iterator[tuple[str, tuple[str | int, ...], Any]]:
    """(where, schema path, example value) for every example in the file.

    Media types, parameters and headers (`example` / `examples` beside `schema`), and
    JSON Schema `examples` lists inside schemas. Example values themselves are not searched.
    """
    document = spec(name)

    def walk(value: Any, path: tuple[str | int, ...]) -> Iterator[tuple[str, tuple, Any]]:
        if isinstance(value, dict):
            if isinstance(value.get("schema"), dict):
                schema_path = (*path, "schema")
                if "example" in value:
                    yield ".".join(map(str, path)), schema_path, value["example"]
                for key, example in (value.get("examples") or {}).items():
                    value_of = deref(document, example)["value"]
                    yield f"{'.'.join(map(str, path))}.examples.{key}", schema_path, value_of
            if isinstance(value.get("examples"), list) and path[-2:-1] == ("schemas",):
                for index, example in enumerate(value["examples"]):
                    yield f"{'.'.join(map(str, path))}.examples.{index}", path, example
            for key, item in value.items():
                if key not in ("example", "examples"):
                    yield from walk(item, (*path, key))
        elif isinstance(value, list):
            for index, item in enumerate(value):
                yield from walk(item, (*path, index))

    yield from walk(document, ())


# --- Validity -----------------------------------------------------------------------------
@pytest.mark.parametrize("name", SPEC_NAMES)
def test_spec_passes_openapi_spec_validator_and_the_project_validator(name: str) -> None:
    openapi_validate(spec(name))  # raises on any problem
    result = validate_file(SPEC_DIR / f"{name}.yaml")
    assert result.ok, result.render()
    assert result.openapi_version == "3.1.0"


@pytest.mark.parametrize("name", SPEC_NAMES)
def test_servers_are_the_agreed_ones(name: str) -> None:
    servers = spec(name)["servers"]
    assert [server["url"] for server in servers] == [SERVERS[name]]
    if name == "sandbox":
        assert "only on the reference server" in servers[0]["description"]


@pytest.mark.parametrize("name", SPEC_NAMES)
def test_no_cross_file_refs(name: str) -> None:
    text = (SPEC_DIR / f"{name}.yaml").read_text(encoding="utf-8")
    refs = re.findall(r"\$ref:\s*['\"]?([^'\"\s]+)", text)
    assert refs and all(ref.startswith("#/") for ref in refs), [r for r in refs if r[0] != "#"]


@pytest.mark.parametrize("name", SPEC_NAMES)
def test_info_says_hand_maintained_and_authoritative(name: str) -> None:
    info = spec(name)["info"]
    assert info["version"]
    assert "hand-maintained" in info["description"] and "authoritative" in info["description"]


# --- Operations ---------------------------------------------------------------------------
def test_operations_are_exactly_the_briefs() -> None:
    found = {(name, method, route) for name, method, route, _ in all_operations()}
    assert found == set(BRIEF_OPERATIONS)
    for (name, method, route), (operation_id, status, has_body) in BRIEF_OPERATIONS.items():
        operation = spec(name)["paths"][route][method]
        assert operation["operationId"] == operation_id
        success = [code for code in operation["responses"] if code.startswith("2")]
        assert success == [status], operation_id
        assert ("content" in operation["responses"][status]) is has_body, operation_id


@pytest.mark.parametrize(
    ("name", "method", "route"), [key for key in BRIEF_OPERATIONS], ids=lambda v: str(v)
)
def test_operation_is_documented_and_secured(name: str, method: str, route: str) -> None:
    operation = spec(name)["paths"][route][method]
    operation_id = operation["operationId"]
    assert operation["summary"] and operation["description"] and operation["tags"]
    declared_tags = {tag["name"] for tag in spec(name)["tags"]}
    assert set(operation["tags"]) <= declared_tags
    assert operation["security"] == [{"bearerAuth": []}]
    scheme = spec(name)["components"]["securitySchemes"]["bearerAuth"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    codes = set(operation["responses"])
    assert {"401", "403", "429"} | BRIEF_ERRORS[operation_id] == {
        code for code in codes if not code.startswith("2")
    }


@pytest.mark.parametrize(
    ("name", "method", "route"), [key for key in BRIEF_OPERATIONS], ids=lambda v: str(v)
)
def test_every_response_documents_the_rate_limit_headers(
    name: str, method: str, route: str
) -> None:
    document = spec(name)
    for code, response in document["paths"][route][method]["responses"].items():
        response = deref(document, response)
        headers = {key: deref(document, value) for key, value in response["headers"].items()}
        wanted = ["X-RateLimit-Limit", "X-RateLimit-Remaining"]
        if code == "429":
            wanted += ["Retry-After", "X-RateLimit-Reset"]
        for header in wanted:
            assert headers[header]["required"] is True, (code, header)
            assert headers[header]["schema"]["type"] == "integer", (code, header)


def test_error_bodies_are_the_briefs() -> None:
    document = spec("v2")

    def valid(response: str, body: Any) -> bool:
        schema_path = ("components", "responses", response, "content", "application/json", "schema")
        return validator_at("v2", schema_path).is_valid(body)

    assert valid("Unauthenticated", {"error": "Unauthenticated."})
    assert not valid("Unauthenticated", {"error": "Unauthorized."})
    assert valid("Forbidden", {"message": "This action is unauthorized."})
    assert valid("WebhookNotFound", {"error": "Webhook not found"})
    assert not valid("WebhookNotFound", {"error": "Not Found."})
    assert valid("PayloadTooLarge", {"error": "too big"})
    assert valid("InvalidBody", {"url": ["The url must be a valid URL."]})
    for bad in ({}, {"url": []}, {"url": [""]}, {"url": "not a list"}, []):
        assert not valid("InvalidBody", bad), bad
    assert "Not Found." in document["info"]["description"]  # unknown route: described only


def test_v2_delete_answers_204_without_content() -> None:
    response = spec("v2")["paths"]["/webhooks/{id}"]["delete"]["responses"]["204"]
    assert "content" not in response


def test_create_links_lead_to_the_webhook_operations() -> None:
    for name, targets in CREATE_LINK_TARGETS.items():
        document = spec(name)
        ids = {op["operationId"] for _, _, op in operations(document)}
        links = document["paths"]["/webhooks"]["post"]["responses"]["201"]["links"]
        assert {link["operationId"] for link in links.values()} == targets
        assert targets <= ids
        for link in links.values():
            assert link["parameters"] == {"id": "$response.body#/id"}


def test_every_link_in_every_file_points_to_an_existing_operation() -> None:
    for name in SPEC_NAMES:
        document = spec(name)
        ids = {op["operationId"] for _, _, op in operations(document)}
        for _, _, operation in operations(document):
            for response in operation["responses"].values():
                for link in (deref(document, response).get("links") or {}).values():
                    assert link["operationId"] in ids, (name, link)


# --- Examples -----------------------------------------------------------------------------
@pytest.mark.parametrize("name", SPEC_NAMES)
def test_every_example_validates_against_its_schema(name: str) -> None:
    checked = 0
    for where, schema_path, example in examples_in(name):
        errors = [e.message for e in validator_at(name, schema_path).iter_errors(example)]
        assert not errors, f"{name}.yaml {where}: {errors[:3]}"
        checked += 1
    assert checked >= {"v1": 25, "v2": 30, "sandbox": 12}[name], checked


@pytest.mark.parametrize("name", SPEC_NAMES)
def test_every_body_and_response_with_content_has_examples(name: str) -> None:
    document = spec(name)
    for method, route, operation in operations(document):
        bodies = [("requestBody", operation.get("requestBody"))]
        bodies += [(code, deref(document, r)) for code, r in operation["responses"].items()]
        for code, body in bodies:
            if not body or "content" not in body:
                continue
            for media in body["content"].values():
                assert media.get("examples") or "example" in media, (method, route, code)


def test_webhooks_entry_is_documented_with_the_signature_test_vector() -> None:
    assert hmac.compare_digest(
        base64.b64encode(
            hmac.new(VECTOR_SECRET.encode(), VECTOR_BODY.encode(), hashlib.sha256).digest()
        ).decode(),
        VECTOR_SIGNATURE,
    )
    for name in API_SPECS:
        delivery = spec(name)["webhooks"]["webhookDelivery"]["post"]
        text = delivery["description"]
        for piece in (VECTOR_SECRET, VECTOR_BODY, VECTOR_SIGNATURE, "60, 120, 600 and 900", "5 s"):
            assert piece in text.replace("5 seconds", "5 s"), (name, piece)
        headers = {p["name"]: p for p in delivery["parameters"]}
        assert set(headers) == {
            "User-Agent", "X-AQID-Signature", "X-AQID-Delivery-Id", "X-AQID-Delivery-Attempt"
        }
        signature = validator_at(name, ("components", "schemas", "Signature"))
        assert signature.is_valid(VECTOR_SIGNATURE)
        assert not signature.is_valid(hashlib.sha256(b"x").hexdigest())
        attempt = headers["X-AQID-Delivery-Attempt"]["schema"]
        assert (attempt["minimum"], attempt["maximum"]) == (1, 5)
        assert list(delivery["requestBody"]["content"]) == ["application/json"]


# --- Events -------------------------------------------------------------------------------
def enum(name: str, schema: str) -> list[str]:
    return spec(name)["components"]["schemas"][schema]["enum"]


def test_event_lists_are_the_briefs_and_agree_across_files() -> None:
    assert len(BRIEF_SUBSCRIBABLE) == 38 and len(BRIEF_DELIVERY_EVENTS) == 34
    for name in API_SPECS:
        assert enum(name, "SubscribableEvent") == BRIEF_SUBSCRIBABLE
        assert enum(name, "DeliveryEvent") == BRIEF_DELIVERY_EVENTS
    assert enum("sandbox", "ConcreteEvent") == BRIEF_CONCRETE_EVENTS
    assert list(events.SUBSCRIBABLE_EVENTS) == BRIEF_SUBSCRIBABLE
    assert list(events.CONCRETE_EVENTS) == BRIEF_CONCRETE_EVENTS


@pytest.mark.parametrize(("section", "item"), SHARED_WITH_V1, ids=lambda v: str(v))
def test_v1_copies_of_shared_pieces_equal_v2(section: str, item: str) -> None:
    assert spec("v1")["components"][section][item] == spec("v2")["components"][section][item]


@pytest.mark.parametrize(("section", "item"), SHARED_WITH_SANDBOX, ids=lambda v: str(v))
def test_sandbox_copies_of_shared_pieces_equal_v2(section: str, item: str) -> None:
    assert spec("sandbox")["components"][section][item] == spec("v2")["components"][section][item]


@cache
def v1_event_list_validators() -> tuple[Any, ...]:
    """The v1 `events` string schema, in the validator schemathesis uses and in Python's."""
    schema = spec("v1")["components"]["schemas"]["EventList"]
    bare = {"type": "string", "pattern": schema["pattern"]}
    return jsonschema_rs.validator_for(bare), jsonschema.Draft202012Validator(bare)


def test_v1_event_list_admits_every_name_and_every_pair_of_distinct_names() -> None:
    for validator in v1_event_list_validators():
        for name in BRIEF_SUBSCRIBABLE:
            assert validator.is_valid(name), name
        for first, second in itertools.permutations(BRIEF_SUBSCRIBABLE, 2):
            assert validator.is_valid(f"{first},{second}"), (first, second)
        assert validator.is_valid(",".join(BRIEF_SUBSCRIBABLE))


@pytest.mark.parametrize(
    "value",
    [
        "", "ping", "record.*,ping", "watchlist.*", "record", "record.*,", ",record.*",
        "client.*, record.*", "record.*,record.*", "client.*,form.sent,client.*",
        "form.sent,form.sent2", "Record.*", "record.* ", "record.*\n", "*,*",
    ],
)
def test_v1_event_list_refuses(value: str) -> None:
    rust, python = v1_event_list_validators()
    assert not rust.is_valid(value)
    # Python's `$` also matches before a final newline, so Python `jsonschema` admits
    # "record.*\n" where ECMA (and schemathesis) do not: a Python server must fullmatch.
    if not value.endswith("\n"):
        assert not python.is_valid(value)
    pattern = spec("v1")["components"]["schemas"]["EventList"]["pattern"]
    assert not re.fullmatch(pattern.removeprefix("^").removesuffix("$"), value)


def test_event_matching_helper_follows_the_wildcards() -> None:
    assert events.event_matches(["*"], "watchlist.updated")
    assert events.event_matches(["client.*"], "client.created")
    assert not events.event_matches(["client.*"], "case.created")
    assert events.event_matches(["form.sent", "case.*"], "form.sent")
    with pytest.raises(ValueError):
        events.event_matches(["*"], "ping")


# --- Request schemas: what a correct server must accept and refuse -----------------------
def test_request_url_schema_is_the_briefs_plain_forms_in_every_file() -> None:
    for name in API_SPECS:
        url = spec(name)["components"]["schemas"]["WebhookUrl"]
        # No maxLength keyword: the pattern's bounds keep every match under the 255 the
        # brief makes every server accept (a maxLength beside it cost 40 s per process).
        assert url["type"] == "string" and "maxLength" not in url
        assert url["pattern"] == BRIEF_URL_PATTERN
        assert url["x-room"] == ["url-length", "url-forms"]
    validator = validator_at("v2", ("components", "schemas", "WebhookUrl"))
    for good in (  # the brief's plain forms (reserved names: nothing is ever sent to them)
        "https://a.example/x?y=1",
        "http://10.0.0.1:8080/hook",
        "https://hooks.invalid/aqid-contracts/abcd1234/x",
        "http://127.0.0.1:65535/hooks/abc?x=1&y=20&z=a/b?c",
        "https://hooks.invalid",
        "https://x/",
        "http://a-b.c9.invalid:1/p;q=1/@:~!$&'()*+,=",
        "http://255.255.255.255/",
        "https://" + "a" * 20 + ".invalid/",
    ):
        assert validator.is_valid(good), good
    for bad in (  # outside the must-accept set: a server may refuse them (or must)
        "ftp://a.example/", "a.example/x", "/relative", "http://", "http://[::1]/",
        "https://exa mple.org/", "https://a.example/#frag", "https://-a.example/",
        "https://a-.example/", "https://user@a.example/", "https://user:pw@a.example/",
        "HTTPS://a.example/", "https://a.example/%zz", "https://a.example/%2", "http://a.1/",
        "http://256.1.1.1/", "http://1.2.3/", "http://01.2.3.4/", "http://a.example:0/",
        "http://a.example:65536/", "http://a.example:080/", "https://bücher.example/",
        "https://a.example/ä", "https://a.example/a b", "https://a.example/{x}",
        "https://" + "a" * 64 + ".invalid/", "https://a.example/" + "x" * 240,
    ):
        assert not validator.is_valid(bad), bad


def test_urls_generated_from_the_request_pattern_are_plain_forms_every_server_accepts() -> None:
    """What schemathesis sends as a positive url: short, http(s), a host, a valid port."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    pattern = spec("v2")["components"]["schemas"]["WebhookUrl"]["pattern"]
    seen: list[str] = []

    @settings(max_examples=300, database=None, deadline=None,
              suppress_health_check=list(HealthCheck))
    @given(st.from_regex(pattern, fullmatch=True).filter(
        lambda url: len(url) <= BRIEF_URL_MAX_LENGTH))
    def check(url: str) -> None:
        seen.append(url)
        assert len(url) <= BRIEF_URL_MAX_LENGTH
        parts = urlsplit(url)
        assert parts.scheme in ("http", "https"), url
        assert parts.hostname, url
        assert parts.port is None or 1 <= parts.port <= 65535, url  # .port raises if invalid
        assert "@" not in parts.netloc and not parts.fragment and "[" not in url, url
        assert url.isascii() and not any(c.isspace() for c in url), url
        assert re.fullmatch(BRIEF_URL_PATTERN.removeprefix("^").removesuffix("$"), url), url
        for escape in re.findall(r"%.{0,2}", url):
            assert re.fullmatch(r"%[0-9A-Fa-f]{2}", escape), url

    check()
    assert len(seen) >= 200
    assert any(re.match(r"https?://\d", url) for url in seen)  # IPv4 forms are drawn too


def test_request_schemas_ignore_unknown_and_read_only_fields() -> None:
    def valid(name: str, schema: str, body: Any) -> bool:
        return validator_at(name, ("components", "schemas", schema)).is_valid(body)

    url = "https://hooks.invalid/x"
    assert valid("v2", "WebhookCreate", {"url": url, "events": ["*"], "id": 5, "zzz": 1})
    assert not valid("v2", "WebhookCreate", {"url": url})
    assert not valid("v2", "WebhookCreate", {"url": url, "events": []})
    assert not valid("v2", "WebhookCreate", {"url": url, "events": ["*", "*"]})
    assert not valid("v2", "WebhookCreate", {"url": url, "events": ["ping"]})
    assert valid("v2", "WebhookUpdate", {"is_enabled": False})
    assert valid("v2", "WebhookUpdate", {"events": ["form.*"], "secret": "ignored"})
    for empty in ({}, {"id": 3}, {"secret": "x", "zzz": 1}):
        assert not valid("v2", "WebhookUpdate", empty), empty
    assert valid("v1", "WebhookWrite", {"url": url, "events": "client.*,record.*", "active": True})
    assert not valid("v1", "WebhookWrite", {"url": url, "events": "client.*"})
    for name in SPEC_NAMES:  # no schema anywhere forbids extra fields
        text = (SPEC_DIR / f"{name}.yaml").read_text(encoding="utf-8")
        assert "additionalProperties: false" not in text
    # Lenient encodings (Room): the spec stays strict, so generated requests stay inside what
    # every server accepts, and says where a server may also accept more.
    v2_schemas = spec("v2")["components"]["schemas"]
    v1_schemas = spec("v1")["components"]["schemas"]
    for request_field in (
        v2_schemas["WebhookCreate"]["properties"]["is_enabled"],
        v2_schemas["WebhookUpdate"]["properties"]["is_enabled"],
        v2_schemas["EventsToSubscribe"],
        v1_schemas["WebhookWrite"]["properties"]["active"],
        v1_schemas["WebhookWrite"]["properties"]["events"],
    ):
        assert request_field["x-room"] == "lenient-encodings"
    for schema in ("WebhookCreate", "WebhookUpdate"):
        events_ref = v2_schemas[schema]["properties"]["events"]["$ref"]
        assert events_ref == "#/components/schemas/EventsToSubscribe"
    assert valid("v2", "EventsToSubscribe", ["client.*", "record.*"])
    assert not valid("v2", "EventsToSubscribe", "client.*")


def test_sandbox_event_data_is_decided_to_be_delivered_unchanged() -> None:
    # The delivery contracts tell their own deliveries apart by a marker in this data.
    data = spec("sandbox")["components"]["schemas"]["SandboxEvent"]["properties"]["data"]
    assert "delivered unchanged as the payload's `data`" in data["x-decision"]


def test_query_and_path_parameters_follow_the_brief() -> None:
    # The marks sit on the parameter, not in its schema: schemathesis reads every key of a
    # schema as a keyword it may negate, and an x- key negated alone is unsatisfiable.
    v2 = spec("v2")["components"]["parameters"]
    v1 = spec("v1")["components"]["parameters"]
    # page: the brief's >= 1, and the Room's 2**31 - 1 as the top of what must be accepted.
    assert v2["Page"]["schema"] == {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}
    assert v2["Page"]["x-room"] == ["page-range", "lenient-encodings"]
    assert v2["Limit"]["schema"] == {"type": "integer", "minimum": 1, "maximum": 100}
    assert v1["PerPage"]["schema"] == {"type": "integer", "minimum": 1, "maximum": 100}
    assert v2["Enabled"]["schema"] == {"type": "boolean"} and "x-decision" in v2["Enabled"]
    assert v2["Enabled"]["x-room"] == v2["Limit"]["x-room"] == "lenient-encodings"
    # path id: no minimum (id 0 is an unknown id, 404), 64-bit top (Room path-id-range).
    assert v2["WebhookId"]["schema"] == {"type": "integer", "maximum": 2**63 - 1}
    assert v2["WebhookId"]["x-room"] == "path-id-range"
    assert "x-decision" in v2["WebhookId"]
    list_params = spec("v2")["paths"]["/webhooks"]["get"]["parameters"]
    deliveries_params = spec("v2")["paths"]["/webhooks/{id}/deliveries"]["get"]["parameters"]
    assert {"$ref": "#/components/parameters/Enabled"} in list_params
    assert {"$ref": "#/components/parameters/Enabled"} not in deliveries_params


# --- Generation: what the spec is for ---------------------------------------------------
def test_schemathesis_generates_valid_requests_quickly_and_links_resolve() -> None:
    """A few positive cases per operation, each checked against its own schema; < 10 s."""
    schemathesis = pytest.importorskip("schemathesis")
    from hypothesis import HealthCheck, given, settings

    started = time.monotonic()
    for name in SPEC_NAMES:
        schema = schemathesis.openapi.from_path(str(SPEC_DIR / f"{name}.yaml"))
        for result in schema.get_all_operations():
            operation = result.ok()
            body_schema = request_body_schema_path(name, operation)
            drawn = draw_cases(operation, given, settings, HealthCheck)
            assert drawn, operation.label
            if body_schema is not None:
                validator = validator_at(name, body_schema)
                for case in drawn:
                    assert validator.is_valid(case.body), (operation.label, case.body)
        schema.as_state_machine()  # raises when a link does not resolve
    elapsed = time.monotonic() - started
    assert elapsed < 30, f"generation took {elapsed:.1f} s"  # a regression guard, not a benchmark


def draw_cases(
    operation: Any, given: Any, settings: Any, health_check: Any, examples: int = 8
) -> list[Any]:
    drawn: list[Any] = []

    @settings(
        max_examples=examples, database=None, deadline=None,
        suppress_health_check=list(health_check),
    )
    @given(operation.as_strategy())
    def draw(case: Any) -> None:
        drawn.append(case)

    draw()
    return drawn


def request_body_schema_path(name: str, operation: Any) -> tuple[str, ...] | None:
    method, route = operation.method.lower(), operation.path
    body = spec(name)["paths"][route][method].get("requestBody")
    if body is None:
        return None
    return ("paths", route, method, "requestBody", "content", "application/json", "schema")


# --- Honesty: every constraint beyond the brief is backed or marked as Room ----------------
def x_room_names(value: Any, path: tuple[str | int, ...] = ()) -> Iterator[tuple[str, str]]:
    """(where, name) for every `x-room` in a document; the value is a name or a list."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "x-room":
                names = item if isinstance(item, list) else [item]
                for name in names:
                    yield pointer(path), name
            else:
                yield from x_room_names(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from x_room_names(item, (*path, index))


def test_every_x_room_names_an_entry_of_the_room_table() -> None:
    found = [(name, where, room) for name in SPEC_NAMES for where, room in x_room_names(spec(name))]
    unknown = [(name, where, room) for name, where, room in found if room not in ROOM]
    assert not unknown, f"x-room names not in contract_suite.generated.room.ROOM: {unknown}"
    used = {room for _, _, room in found}
    # Each Room entry that constrains a schema is cited somewhere.
    assert {"url-length", "url-forms", "page-range", "path-id-range", "lenient-encodings",
            "representation", "extra-fields", "fractional-seconds", "links-form",
            "rate-limits", "incidentals"} <= used, used


def test_x_room_lookup_would_catch_a_misspelt_name() -> None:
    assert list(x_room_names({"a": {"x-room": ["url-forms", "url-form"]}})) == [
        ("#/a", "url-forms"), ("#/a", "url-form")]
    assert "url-form" not in ROOM


def response_schemas(name: str) -> Iterator[tuple[str, Any]]:
    """(where, schema) for every response body schema, and the delivery payload (which the
    suite also validates as something the target sends)."""
    document = spec(name)
    for method, route, operation in operations(document):
        for code, response in operation["responses"].items():
            for media, content in (deref(document, response).get("content") or {}).items():
                yield f"{method.upper()} {route} {code} {media}", content["schema"]
    for entry, item in (document.get("webhooks") or {}).items():
        for method, operation in item.items():
            body = operation["requestBody"]["content"]["application/json"]["schema"]
            yield f"webhooks.{entry}.{method} body", body


def schema_nodes(document: dict[str, Any], schema: Any) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every schema object reachable from `schema`, $refs followed once, with a JSON path."""
    seen: set[str] = set()

    def walk(value: Any, where: str) -> Iterator[tuple[str, dict[str, Any]]]:
        if isinstance(value, list):
            for index, item in enumerate(value):
                yield from walk(item, f"{where}/{index}")
            return
        if not isinstance(value, dict):
            return
        ref = value.get("$ref")
        if isinstance(ref, str):
            if ref in seen:
                return
            seen.add(ref)
            yield from walk(deref(document, {"$ref": ref}), ref)
        yield where, value
        for key, item in value.items():
            if key in ("examples", "example", "enum", "const", "default", "$ref") or \
                    key.startswith("x-"):
                continue
            yield from walk(item, f"{where}/{key}")

    yield from walk(schema, "")


@pytest.mark.parametrize("name", SPEC_NAMES)
def test_no_response_schema_forbids_extra_fields(name: str) -> None:
    # Room, extra-fields: "extra undocumented fields ... are all allowed".
    document, checked = spec(name), 0
    for where, schema in response_schemas(name):
        for at, node in schema_nodes(document, schema):
            checked += 1
            for key in ("additionalProperties", "unevaluatedProperties"):
                assert node.get(key, True) is not False, f"{name}.yaml {where} at {at}: {key}"
    assert checked > {"v1": 50, "v2": 50, "sandbox": 5}[name], checked


@pytest.mark.parametrize("name", SPEC_NAMES)
def test_no_response_string_has_an_upper_length(name: str) -> None:
    # Room, url-length: "No upper length is part of the response contract" (url fields above
    # all: a correct server may store and return a 2,051-character url it accepted).
    document = spec(name)
    for where, schema in response_schemas(name):
        for at, node in schema_nodes(document, schema):
            assert "maxLength" not in node, f"{name}.yaml {where} at {at}: maxLength"
            assert node.get("format") != "uri", f"{name}.yaml {where} at {at}: format uri"


LONG_URL = "https://hooks.invalid/" + "x" * 2029  # 2,051 characters
STORED_URLS = [LONG_URL, "https://[2001:db8::1]:8443/x", "https://u:p@hooks.invalid/#f",
               "https://bücher.invalid/ä b", "HTTPS://Hooks.Invalid/%zz"]


def test_responses_admit_any_url_form_a_server_may_have_accepted() -> None:
    assert len(LONG_URL) == 2051
    webhook_v2 = validator_at("v2", ("components", "schemas", "Webhook"))
    webhook_v1 = validator_at("v1", ("components", "schemas", "Webhook"))
    v2 = deref(spec("v2"), {"$ref": "#/components/examples/Webhook"})["value"]
    v1 = deref(spec("v1"), {"$ref": "#/components/examples/Webhook"})["value"]
    for url in STORED_URLS:
        assert webhook_v2.is_valid({**v2, "url": url}), url
        assert webhook_v1.is_valid({**v1, "url": url}), url
    for url in ("ftp://hooks.invalid/", "/relative", "hooks.invalid/x", 42):
        assert not webhook_v2.is_valid({**v2, "url": url}), url
        assert not webhook_v1.is_valid({**v1, "url": url}), url


def v2_delivery() -> dict[str, Any]:
    response = spec("v2")["paths"]["/webhooks/{id}/deliveries"]["get"]["responses"]["200"]
    return response["content"]["application/json"]["examples"]["ping"]["value"]["data"][0]


def v1_delivery() -> dict[str, Any]:
    response = spec("v1")["paths"]["/webhooks/{id}/deliveries"]["get"]["responses"]["200"]
    return response["content"]["application/json"]["examples"]["ping"]["value"]["data"][0]


def with_path(value: Any, path: tuple[str, ...], new: Any) -> Any:
    """A deep copy of `value` with the item at `path` replaced (or added)."""
    copied = yaml.safe_load(yaml.safe_dump(value))
    target = copied
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = new
    return copied


def test_delivery_log_entries_admit_what_the_brief_leaves_open() -> None:
    v2 = validator_at("v2", ("components", "schemas", "WebhookDelivery"))
    v1 = validator_at("v1", ("components", "schemas", "WebhookDelivery"))
    entry2, entry1 = v2_delivery(), v1_delivery()
    assert v2.is_valid(entry2) and v1.is_valid(entry1)
    open_ended = [  # (v2 path, v1 path, value): each allowed by the Room or unpinned by the brief
        (("request", "url"), ("request", "headers", "Request URL"), LONG_URL),
        (("request", "url"), ("request", "headers", "Request URL"), "https://[2001:db8::1]/x"),
        (("request", "headers", "Content-Type"), ("request", "headers", "Content-Type"),
         "Application/JSON; charset=UTF-8"),
        (("request", "headers", "X-Extra"), ("request", "headers", "X-Extra"), ["a", "b"]),
        (("request", "headers", "X-Count"), ("request", "headers", "X-Count"), 3),
        (("last_sent_at",), ("last_delivered_at",), "2023-06-28T16:42:27.123456Z"),
        (("last_sent_at",), ("last_delivered_at",), "2023-06-28T16:42:27+00:00"),
        (("id",), ("id",), 0),
        (("extra_field",), ("extra_field",), {"any": "thing"}),
    ]
    for path2, path1, value in open_ended:
        assert v2.is_valid(with_path(entry2, path2, value)), (path2, value)
        assert v1.is_valid(with_path(entry1, path1, value)), (path1, value)
    for path, value in [(("request", "body", "sent_at"), "2019-08-24T14:15:22.5+00:00"),
                        (("request", "body", "data"), {"client": {"id": 1}}),
                        (("request", "body", "data"), None)]:
        assert v2.is_valid(with_path(entry2, path, value)), (path, value)
    pinned = [  # what the brief does pin: these must still fail
        (("request", "headers", "Content-Type"), ("request", "headers", "Content-Type"),
         "text/plain"),
        (("request", "headers", "User-Agent"), ("request", "headers", "User-Agent"), "curl/8"),
        (("request", "headers", "X-AQID-Signature"), ("request", "headers", "X-AQID-Signature"),
         hashlib.sha256(b"x").hexdigest()),
        (("last_sent_at",), ("last_delivered_at",), "yesterday"),
        (("attempts",), ("attempts",), -1),
    ]
    for path2, path1, value in pinned:
        assert not v2.is_valid(with_path(entry2, path2, value)), (path2, value)
        assert not v1.is_valid(with_path(entry1, path1, value)), (path1, value)
    assert not v2.is_valid(with_path(entry2, ("response", "status_code"), "2O4"))
    assert not v1.is_valid(with_path(entry1, ("status",), "OK"))


def test_timestamps_are_pinned_exactly_where_the_brief_pins_them() -> None:
    v2 = validator_at("v2", ("components", "schemas", "Timestamp"))
    v1 = validator_at("v1", ("components", "schemas", "OffsetTimestamp"))
    free = validator_at("v2", ("components", "schemas", "DateTime"))
    # v2 webhook created_at/updated_at: "RFC 3339 UTC, Z, seconds".
    assert v2.is_valid("2022-08-24T11:26:22Z")
    for other in ("2022-08-24T11:26:22.5Z", "2022-08-24T11:26:22+00:00"):
        assert not v2.is_valid(other), other
    # v1: "offset form +00:00", a fraction allowed (Room, fractional-seconds).
    for good in ("2022-08-24T11:26:22+00:00", "2022-08-24T11:26:22.123456+00:00"):
        assert v1.is_valid(good), good
    for bad in ("2022-08-24T11:26:22Z", "2022-08-24T11:26:22+01:00", "2022-08-24T11:26:22.+00:00"):
        assert not v1.is_valid(bad), bad
    # last_sent_at, sent_at, v1 last_delivered_at, payload times: any RFC 3339 date-time.
    for good in ("2022-08-24T11:26:22Z", "2022-08-24T11:26:22.5+00:00",
                 "2022-08-24T13:26:22+02:00"):
        assert free.is_valid(good), good
    assert not free.is_valid("2022-08-24 11:26")


def test_response_secret_and_ids_follow_the_incidentals() -> None:
    # Room, incidentals: "Id values and spacing ... secret format (any non-empty string)".
    for name, schema in (("v2", "Webhook"), ("v1", "Webhook")):
        properties = spec(name)["components"]["schemas"][schema]["properties"]
        assert "minimum" not in properties["id"]
        assert properties["secret"]["minLength"] == 1 and "pattern" not in properties["secret"]
        assert "any non-empty string" in properties["secret"]["x-decision"]
    for name in API_SPECS:
        delivery = spec(name)["components"]["schemas"]["WebhookDelivery"]["properties"]
        assert "minimum" not in delivery["id"]


def test_positive_request_generation_stays_inside_what_every_server_accepts() -> None:
    """The url and events schemathesis draws for create and update are must-accept values."""
    schemathesis = pytest.importorskip("schemathesis")
    from hypothesis import HealthCheck, given, settings

    urls: list[str] = []
    for name in API_SPECS:
        schema = schemathesis.openapi.from_path(str(SPEC_DIR / f"{name}.yaml"))
        for result in schema.get_all_operations():
            operation = result.ok()
            if operation.method.lower() not in ("post", "put", "patch"):
                continue
            for case in draw_cases(operation, given, settings, HealthCheck, examples=25):
                body = case.body
                if isinstance(body, dict) and "url" in body:
                    urls.append(body["url"])
                if isinstance(body, dict) and isinstance(body.get("events"), list):
                    assert len(set(body["events"])) == len(body["events"]), body["events"]
                if isinstance(body, dict) and "is_enabled" in body:
                    assert isinstance(body["is_enabled"], bool), body
    assert len(urls) >= 20, urls
    for url in urls:
        assert len(url) <= BRIEF_URL_MAX_LENGTH and "\n" not in url, url
        assert re.fullmatch(BRIEF_URL_PATTERN.removeprefix("^").removesuffix("$"), url), url
        parts = urlsplit(url)
        assert parts.scheme in ("http", "https") and parts.hostname, url
        assert parts.port is None or 1 <= parts.port <= 65535, url
