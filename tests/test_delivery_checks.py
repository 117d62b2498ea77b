"""contract_suite.deliveries.checks: what a correct delivery may look like (the brief's Room)."""

from __future__ import annotations

import hashlib
import hmac
import time
from pathlib import Path

import httpx
import pytest

from contract_suite.core.paths import SPEC_DIR
from contract_suite.core.spec_index import SpecIndex
from contract_suite.deliveries.checks import (
    DeliveryContractViolation,
    DeliverySpec,
    assert_delivery_valid,
)
from contract_suite.deliveries.receiver import Answer, ReceivedRequest
from contract_suite.deliveries.signature import SignatureMismatch, sign

WEBHOOK_UUID = "db6a2d91-b67e-4f88-b71a-b73da98c5168"
# Any UUID version will do for the delivery id (room "incidentals"): this one is v7.
DELIVERY_ID = "01890a5d-ac96-774b-bcce-b302099a8057"


@pytest.fixture(scope="module")
def spec() -> DeliverySpec:
    return DeliverySpec.from_index(SpecIndex.load(SPEC_DIR))


def body(triggered_at: str = "2023-06-28T16:15:27Z",
         created_at: str = "2023-02-11T13:01:34Z") -> bytes:
    # Keys in an unusual order, odd whitespace: the signature is over these exact bytes.
    return (
        '{ "data" : {"client": {"show": "https://id.amiqus.co/api/v2/clients/1", "id": 1}},\n'
        f'  "trigger": {{"alias": "client.created", "triggered_at": "{triggered_at}"}},\n'
        f'  "webhook": {{"events": ["client.*", "*"], "created_at": "{created_at}", '
        f'"uuid": "{WEBHOOK_UUID}"}} }}'
    ).encode()


def delivery(raw: bytes, secret: str, **headers: str) -> ReceivedRequest:
    sent = {"content-type": "Application/JSON; charset=utf-8",
            "user-agent": "Amiqus AmiqusID/2024.06.1-rc+build.7",
            "x-aqid-signature": sign(secret, raw), "x-aqid-delivery-id": DELIVERY_ID,
            "x-aqid-delivery-attempt": "1", "x-extra-header": "whatever", **headers}
    return ReceivedRequest("POST", "/aqid-contracts/r/x", httpx.Headers(sent), raw,
                           time.monotonic(), Answer())


def check(spec: DeliverySpec, request: ReceivedRequest, secret: str) -> dict:
    return assert_delivery_valid(spec, request, secret=secret, event="client.created",
                                 webhook_uuid=WEBHOOK_UUID)


@pytest.mark.parametrize("triggered_at", [
    "2023-06-28T16:15:27.123456Z", "2023-06-28T16:15:27.5+00:00", "2023-06-28t16:15:27z"])
def test_a_delivery_with_a_fractional_trigger_time_and_a_charset_passes(
    spec: DeliverySpec, triggered_at: str,
) -> None:
    secret = "s"  # any non-empty string is a secret (room "incidentals")
    payload = check(spec, delivery(body(triggered_at), secret), secret)
    assert payload["trigger"]["triggered_at"] == triggered_at


def test_a_trigger_time_that_is_no_date_time_still_fails(spec: DeliverySpec) -> None:
    secret = "a-secret"
    with pytest.raises(DeliveryContractViolation, match="/trigger/triggered_at"):
        check(spec, delivery(body("28/06/2023 16:15"), secret), secret)


def test_the_webhooks_created_at_in_the_payload_must_still_be_a_date_time(
    spec: DeliverySpec,
) -> None:
    secret = "a-secret"
    with pytest.raises(DeliveryContractViolation, match="/webhook/created_at"):
        check(spec, delivery(body(created_at="last Tuesday"), secret), secret)


def test_another_media_type_still_fails(spec: DeliverySpec) -> None:
    secret = "a-secret"
    request = delivery(body(), secret, **{"content-type": "text/plain; charset=utf-8"})
    with pytest.raises(DeliveryContractViolation, match="Content-Type 'text/plain"):
        check(spec, request, secret)


def test_a_signature_over_the_re_serialised_body_fails_though_the_json_is_equal(
    spec: DeliverySpec,
) -> None:
    secret = "a-secret"
    compact = body().replace(b"\n", b"").replace(b" ", b"")
    digest = hmac.new(secret.encode(), compact, hashlib.sha256).digest()
    assert digest != hmac.new(secret.encode(), body(), hashlib.sha256).digest()
    request = delivery(body(), secret, **{"x-aqid-signature": sign(secret, compact)})
    with pytest.raises(SignatureMismatch, match="does not verify"):
        check(spec, request, secret)


def test_the_delivery_checks_take_their_validators_from_the_spec_index(
    spec: DeliverySpec,
) -> None:
    index = SpecIndex.load(SPEC_DIR)
    assert [(w.method, w.operation_id) for w in index.webhooks("v2")] == [
        ("POST", "receiveWebhookDelivery")]
    payload = "/webhooks/webhookDelivery/post/requestBody/content/application~1json/schema"
    assert spec.payload is index.specs["v2"].validator(payload)  # the index's own, not a copy
    assert set(spec.headers) == {"User-Agent", "X-AQID-Signature", "X-AQID-Delivery-Id",
                                 "X-AQID-Delivery-Attempt"}
    assert [name for name, header in spec.headers.items() if header.integer] == [
        "X-AQID-Delivery-Attempt"]


def test_an_attempt_header_outside_the_documented_range_fails(spec: DeliverySpec) -> None:
    secret = "a-secret"
    request = delivery(body(), secret, **{"x-aqid-delivery-attempt": "9"})
    with pytest.raises(DeliveryContractViolation, match="X-AQID-Delivery-Attempt '9'"):
        check(spec, request, secret)


def test_a_spec_without_a_webhooks_entry_is_one_clear_error(tmp_path: Path) -> None:
    (tmp_path / "v2.yaml").write_text("openapi: 3.1.0\npaths: {}\n", encoding="utf-8")
    with pytest.raises(DeliveryContractViolation) as failure:
        DeliverySpec.from_index(SpecIndex(tmp_path))
    assert str(failure.value).startswith(f"{tmp_path / 'v2.yaml'}: no usable `webhooks:` entry")
    assert "\n" not in str(failure.value)
