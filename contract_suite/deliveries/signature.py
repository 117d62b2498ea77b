"""Webhook signatures as the brief defines them, and the check a delivery contract makes.

`X-AQID-Signature` is the standard base64 (with padding) of the raw 32-byte HMAC-SHA256
digest, keyed with the webhook's secret (its UTF-8 bytes), over the exact body bytes: not
hex, no prefix, no timestamp. Verification compares in constant time. Failure messages
never show the secret, only its mask.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Mapping

from ..core.redact import mask

SIGNATURE_HEADER = "X-AQID-Signature"


class SignatureMismatch(AssertionError):
    """A delivery's signature is missing or is not what the brief's algorithm gives."""


def sign(secret: str, body: bytes) -> str:
    """The signature the target must send for `body` when the webhook's secret is `secret`."""
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def verify(secret: str, body: bytes, signature: str | None) -> bool:
    """True when `signature` is exactly the brief's signature of `body` (constant time)."""
    if not signature:
        return False
    return hmac.compare_digest(sign(secret, body).encode("ascii"), signature.encode("utf-8"))


def assert_signature_valid(
    secret: str, body: bytes, headers: Mapping[str, str], *, where: str = "delivery"
) -> None:
    """Fail with a message that says what arrived and why it is not the documented form."""
    __tracebackhide__ = True
    received = _header(headers, SIGNATURE_HEADER)
    if received is None:
        raise SignatureMismatch(
            f"{where}: no {SIGNATURE_HEADER} header. Documented: base64 HMAC-SHA256 of the "
            f"body keyed with the webhook's secret ({mask(secret)}). "
            f"Received headers: {', '.join(sorted(headers)) or '(none)'}"
        )
    if verify(secret, body, received):
        return
    raise SignatureMismatch(
        f"{where}: {SIGNATURE_HEADER} does not verify.\n"
        f"  Received:   {received!r}\n"
        f"  Documented: base64 of HMAC-SHA256(key=secret {mask(secret)}, msg=the exact "
        f"{len(body)} body bytes) = {sign(secret, body)!r}\n"
        f"  Diagnosis:  {diagnose(secret, body, received)}"
    )


def diagnose(secret: str, body: bytes, received: str) -> str:
    """A best guess at what the sender did instead, so a failure names the mistake."""
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).digest()
    stripped = received.strip()
    if hmac.compare_digest(stripped.lower().encode(), digest.hex().encode()):
        return "the signature is the HEX digest; the brief requires base64 of the raw digest"
    for prefix in ("sha256=", "sha256:", "v1="):
        if stripped.startswith(prefix) and verify(secret, body, stripped[len(prefix):]):
            return f"the signature carries a {prefix!r} prefix; the brief says no prefix"
    if verify(secret, body, stripped.rstrip("=") + "=" * (-len(stripped.rstrip("=")) % 4)):
        return "the signature is base64 without padding (or with stray whitespace)"
    unpadded = base64.urlsafe_b64encode(digest).decode("ascii")
    if stripped in (unpadded, unpadded.rstrip("=")):
        return "the signature is URL-safe base64; the brief requires standard base64"
    try:
        decoded = base64.b64decode(stripped, validate=True)
    except (binascii.Error, ValueError):
        return "the signature is not base64 at all"
    if len(decoded) != hashlib.sha256().digest_size:
        return f"the signature decodes to {len(decoded)} bytes, not a 32-byte SHA-256 digest"
    return (
        "a well-formed base64 SHA-256 digest over something else: a different key (not the "
        "webhook's secret), or other bytes than the body as sent (re-serialised JSON?)"
    )


def _header(headers: Mapping[str, str], name: str) -> str | None:
    # Recorded headers may be a plain dict with any capitalisation.
    lowered = name.lower()
    for key, value in headers.items():
        if key.lower() == lowered:
            return value
    return None
