"""Checks on one received delivery: headers, signature and payload against the v2 spec.

The payload schema and the header schemas come from the `webhooks:` entry of spec/v2.yaml
(OpenAPI 3.1, so its schemas are JSON Schema 2020-12 and validate as they stand). Each
check is a plain function named for what it asserts; failures read "Received / Documented
/ Where" like the other checks.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import jsonschema
import yaml
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from .receiver import ReceivedRequest
from .signature import assert_signature_valid

_SPEC_URI = "urn:aqid-contracts:spec:v2"
# Room "fractional-seconds": the brief pins whole seconds only where it says so (v2
# created_at/updated_at); `trigger.triggered_at` it does not pin, so any RFC 3339
# date-time (a fraction, an offset) is allowed there even where the spec's Timestamp is
# stricter. (spec/v2.yaml now says so itself, for webhook.created_at too; this keeps the
# check right against a spec copy that still pins whole seconds there.)
_UNPINNED_TIMESTAMPS = {("trigger", "triggered_at")}
_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})$")
DELIVERY_HEADERS = ("User-Agent", "X-AQID-Signature", "X-AQID-Delivery-Id",
                    "X-AQID-Delivery-Attempt")


class DeliveryContractViolation(AssertionError):
    """A delivery that arrived breaks the documented delivery contract."""


@dataclass(frozen=True)
class DeliverySpec:
    """The delivery POST as spec/v2.yaml documents it (its `webhooks:` entry)."""

    payload: jsonschema.protocols.Validator
    headers: dict[str, jsonschema.protocols.Validator]  # documented header -> its schema
    where: str


@lru_cache(maxsize=4)
def load_delivery_spec(spec_path: str) -> DeliverySpec:
    """Read the `webhooks:` entry of the v2 spec; one clear error when it is missing."""
    path = Path(spec_path)
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
        (name, item), *_ = document["webhooks"].items()
        post = item["post"]
        schema = post["requestBody"]["content"]["application/json"]["schema"]
    except (OSError, yaml.YAMLError, KeyError, TypeError, ValueError) as error:
        raise DeliveryContractViolation(
            f"{path}: no usable `webhooks:` entry with a POST requestBody schema "
            f"({type(error).__name__}: {error})"
        ) from None
    registry = Registry().with_resource(_SPEC_URI, Resource(document, DRAFT202012))

    def validator(subschema: dict[str, Any]) -> jsonschema.protocols.Validator:
        # Local $refs (#/components/...) resolve against the whole spec document.
        return jsonschema.Draft202012Validator(
            _rebase(subschema), registry=registry,
            format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER,
        )

    headers = {
        p["name"]: validator(p["schema"])
        for p in post.get("parameters", []) if p.get("in") == "header" and "schema" in p
    }
    return DeliverySpec(validator(schema), headers, f"{path.name} webhooks.{name}.post")


def _rebase(schema: Any) -> Any:
    """Point local refs (#/...) at the spec document registered under _SPEC_URI."""
    if isinstance(schema, dict):
        return {
            key: (_SPEC_URI + value if key == "$ref" and value.startswith("#") else _rebase(value))
            for key, value in schema.items()
        }
    if isinstance(schema, list):
        return [_rebase(item) for item in schema]
    return schema


def payload_of(request: ReceivedRequest) -> Any:
    try:
        return json.loads(request.body)
    except ValueError as error:
        raise DeliveryContractViolation(
            f"Received a delivery body that is not JSON ({error}): {request.describe()}"
        ) from None


def assert_payload_conforms(spec: DeliverySpec, request: ReceivedRequest) -> dict[str, Any]:
    """The body parses as JSON and validates against the spec's delivery payload schema."""
    __tracebackhide__ = True
    payload = payload_of(request)
    errors = sorted((e for e in spec.payload.iter_errors(payload) if not _room_allows(e)),
                    key=lambda e: list(e.absolute_path))
    if errors:
        lines = [f"  at /{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors[:5]]
        raise DeliveryContractViolation(
            "Received a delivery payload that does not match the spec:\n" + "\n".join(lines)
            + f"\nDocumented: {spec.where} requestBody\nWhere: {request.describe()}"
        )
    return payload


def _room_allows(error: jsonschema.ValidationError) -> bool:
    """A schema error the brief's Room overrules (a correct server may send this)."""
    return (tuple(error.absolute_path) in _UNPINNED_TIMESTAMPS
            and error.validator == "pattern"
            and isinstance(error.instance, str) and bool(_RFC3339.match(error.instance)))


def assert_delivery_headers(spec: DeliverySpec, request: ReceivedRequest) -> None:
    """POST, Content-Type application/json, and every documented header present and valid.

    Room "representation": Content-Type may carry parameters and any case
    (`Application/JSON; charset=UTF-8`); header names match in any case (the receiver's
    headers are case-insensitive); headers beyond the documented ones are ignored.
    """
    __tracebackhide__ = True
    problems = []
    if request.method != "POST":
        problems.append(f"method {request.method}, documented POST")
    content_type = (request.header("Content-Type") or "").split(";")[0].strip().lower()
    if content_type != "application/json":
        problems.append(f"Content-Type {request.header('Content-Type')!r}, "
                        "documented application/json")
    for name, validator in spec.headers.items():
        value = request.header(name)
        if value is None:
            problems.append(f"no {name} header")
            continue
        typed: Any = value
        if validator.schema.get("type") == "integer":  # headers are text on the wire
            typed = int(value) if value.isdigit() else value
        for error in validator.iter_errors(typed):
            problems.append(f"{name} {value!r}: {error.message}")
    if problems:
        raise DeliveryContractViolation(
            "Received delivery headers that break the contract:\n  "
            + "\n  ".join(problems) + f"\nDocumented: {spec.where} parameters (in: header)"
            f"\nReceived headers: {sorted(request.headers.keys())}\nWhere: {request.describe()}"
        )


def assert_delivery_valid(
    spec: DeliverySpec, request: ReceivedRequest, *, secret: str, event: str,
    webhook_uuid: str | None, attempt: int = 1,
) -> dict[str, Any]:
    """Everything a subscriber may rely on for one delivery; returns the parsed payload."""
    __tracebackhide__ = True
    # The signature first: its failure names the mistake (hex, prefix...), not just a pattern.
    assert_signature_valid(secret, request.body, request.headers)
    assert_delivery_headers(spec, request)
    payload = assert_payload_conforms(spec, request)
    expected = {"trigger.alias": event, "X-AQID-Delivery-Attempt": str(attempt)}
    received = {"trigger.alias": payload["trigger"]["alias"],
                "X-AQID-Delivery-Attempt": request.header("X-AQID-Delivery-Attempt")}
    if webhook_uuid is not None:
        expected["webhook.uuid"] = webhook_uuid
        received["webhook.uuid"] = payload["webhook"]["uuid"]
    if received != expected:
        raise DeliveryContractViolation(
            f"Received {received}\nDocumented {expected}\nWhere: {request.describe()}"
        )
    return payload
