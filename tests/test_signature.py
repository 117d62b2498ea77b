"""deliveries.signature: the brief's test vector, and each wrong form rejected by name."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest

from contract_suite.deliveries.signature import (
    SignatureMismatch,
    assert_signature_valid,
    sign,
    verify,
)

# The brief's test vector (API-BRIEF.md, "Deliveries").
SECRET = "58585568aa4dc44c733bc244495fc1f2de3c2d2f56287c265274ab806f74bb34"
BODY = (
    b'{"webhook":{"uuid":"db6a2d91-b67e-4f88-b71a-b73da98c5168",'
    b'"created_at":"2023-02-11T13:01:34Z","events":["*"]},'
    b'"trigger":{"triggered_at":"2023-06-28T16:15:27Z","alias":"client.created"},'
    b'"data":{"client":{"id":472346,"show":"https://id.amiqus.co/api/v2/clients/472346"}}}'
)
EXPECTED = "imGPM2wBjxofxhMW2cSB5tcc76i5E6jpCRJLmbLqNEU="


def _headers(signature: str) -> dict[str, str]:
    return {"content-type": "application/json", "x-aqid-signature": signature}


def test_sign_matches_the_briefs_test_vector() -> None:
    assert sign(SECRET, BODY) == EXPECTED


def test_the_briefs_vector_verifies_whatever_the_header_capitalisation() -> None:
    assert verify(SECRET, BODY, EXPECTED)
    assert_signature_valid(SECRET, BODY, {"X-AQID-Signature": EXPECTED})
    assert_signature_valid(SECRET, BODY, _headers(EXPECTED))


def test_a_hex_signature_is_rejected_and_named() -> None:
    hex_signature = hmac.new(SECRET.encode(), BODY, hashlib.sha256).hexdigest()
    assert not verify(SECRET, BODY, hex_signature)
    with pytest.raises(SignatureMismatch, match="HEX digest"):
        assert_signature_valid(SECRET, BODY, _headers(hex_signature))


def test_a_signature_over_reserialised_json_is_rejected() -> None:
    # json.dumps adds spaces after ':' and ','; a sender that signs its own re-serialisation
    # rather than the bytes it sends produces a valid-looking digest over other bytes.
    reserialised = json.dumps(json.loads(BODY)).encode()
    assert reserialised != BODY
    wrong = sign(SECRET, reserialised)
    assert not verify(SECRET, BODY, wrong)
    with pytest.raises(SignatureMismatch, match="re-serialised JSON"):
        assert_signature_valid(SECRET, BODY, _headers(wrong))


def test_a_signature_with_the_wrong_key_is_rejected() -> None:
    wrong = sign("another-secret-0123456789abcdef", BODY)
    assert not verify(SECRET, BODY, wrong)
    with pytest.raises(SignatureMismatch, match="different key"):
        assert_signature_valid(SECRET, BODY, _headers(wrong))


def test_a_missing_signature_header_is_rejected_and_says_so() -> None:
    assert not verify(SECRET, BODY, None)
    with pytest.raises(SignatureMismatch, match="no X-AQID-Signature header"):
        assert_signature_valid(SECRET, BODY, {"content-type": "application/json"})


@pytest.mark.parametrize(
    ("signature", "named"),
    [
        ("sha256=" + EXPECTED, "prefix"),
        (EXPECTED.rstrip("="), "without padding"),
        (base64.urlsafe_b64encode(base64.b64decode(EXPECTED)).decode() + "x", "not base64"),
        (base64.b64encode(b"short").decode(), "5 bytes"),
    ],
)
def test_other_wrong_forms_are_rejected_with_a_diagnosis(signature: str, named: str) -> None:
    assert not verify(SECRET, BODY, signature)
    with pytest.raises(SignatureMismatch, match=named):
        assert_signature_valid(SECRET, BODY, _headers(signature))


def test_a_failure_message_never_shows_the_secret_in_full() -> None:
    with pytest.raises(SignatureMismatch) as failure:
        assert_signature_valid(SECRET, BODY, _headers("bogus"))
    assert SECRET not in str(failure.value)
    assert SECRET[:4] + "…" in str(failure.value)
