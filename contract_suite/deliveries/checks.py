"""Checks on one received delivery: headers, signature and payload against the v2 spec.

What a delivery must look like comes from the `webhooks:` entry of spec/v2.yaml, read
through the session-wide `SpecIndex` (core/spec_index.py): `DeliverySpec.from_index` takes
the payload and header validators from it, so the spec is loaded and its `$ref`s resolved
in one place. Each check is a plain function named for what it asserts; failures read
"Received / Documented / Where" like the other checks.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import jsonschema

from ..core.spec_index import SpecIndex
from .receiver import ReceivedRequest
from .signature import assert_signature_valid

# Room "fractional-seconds": the brief pins whole seconds only where it says so (v2
# created_at/updated_at); `trigger.triggered_at` it does not pin, so any RFC 3339
# date-time (a fraction, an offset) is allowed there even where the spec's Timestamp is
# stricter. (spec/v2.yaml now says so itself, for webhook.created_at too; this keeps the
# check right against a spec copy that still pins whole seconds there.)
_UNPINNED_TIMESTAMPS = {("trigger", "triggered_at")}
_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})$")
DELIVERY_HEADERS = ("User-Agent", "X-AQID-Signature", "X-AQID-Delivery-Id",
                    "X-AQID-Delivery-Attempt")
DELIVERY_SPEC = "v2"  # the spec whose `webhooks:` entry documents the delivery POST


class DeliveryContractViolation(AssertionError):
    """A delivery that arrived breaks the documented delivery contract."""


@dataclass(frozen=True)
class HeaderSchema:
    """One documented delivery header: its validator, and whether it holds an integer."""

    validator: jsonschema.protocols.Validator
    integer: bool  # headers are text on the wire: "1" is validated as 1


@dataclass(frozen=True)
class DeliverySpec:
    """The delivery POST as spec/v2.yaml documents it (its `webhooks:` entry)."""

    payload: jsonschema.protocols.Validator
    headers: dict[str, HeaderSchema]  # documented header -> its schema
    where: str

    @classmethod
    def from_index(cls, index: SpecIndex, spec_name: str = DELIVERY_SPEC) -> DeliverySpec:
        """The validators of the spec's webhook POST; one clear error when it has none."""
        spec = index.specs.get(spec_name)
        posts = [w for w in index.webhooks(spec_name) if w.method == "POST"] if spec else []
        body = f"{posts[0].pointer}/requestBody/content/application~1json/schema" if posts else ""
        try:
            if spec is None or not posts:
                raise KeyError("webhooks")
            operation, post = posts[0], spec.at(posts[0].pointer)
            spec.at(body)
        except (KeyError, TypeError) as error:
            raise DeliveryContractViolation(
                f"{index.spec_dir / (spec_name + '.yaml')}: no usable `webhooks:` entry with "
                f"a POST requestBody schema for application/json (missing {error})"
            ) from None
        headers = {}
        for number, parameter in enumerate(post.get("parameters", [])):
            pointer = f"{operation.pointer}/parameters/{number}"
            if "$ref" in parameter:  # a shared parameter: validate against where it lives
                pointer = parameter["$ref"].removeprefix("#")
            parameter = spec.resolve(parameter)
            if parameter.get("in") != "header" or "schema" not in parameter:
                continue
            schema = spec.resolve(parameter["schema"])
            headers[parameter["name"]] = HeaderSchema(
                spec.validator(f"{pointer}/schema"),
                isinstance(schema, dict) and schema.get("type") == "integer")
        return cls(spec.validator(body), headers,
                   f"spec/{spec_name}.yaml webhooks.{operation.template}.post")


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
    for name, header in spec.headers.items():
        value = request.header(name)
        if value is None:
            problems.append(f"no {name} header")
            continue
        typed: Any = value
        if header.integer:  # headers are text on the wire
            typed = int(value) if value.isdigit() else value
        for error in header.validator.iter_errors(typed):
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
