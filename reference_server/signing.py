"""What a subscriber receives: the payload bytes and their signature."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

from reference_server.representations import iso_z
from reference_server.store import Webhook


def build_payload(hook: Webhook, event: str, data: Any, triggered_at: float | None = None,
                  *, with_trigger: bool = True) -> str:
    """Compact JSON text; these exact bytes (UTF-8) are sent and signed.

    `with_trigger` is False only for the payload-missing-trigger fault."""
    payload = {
        "webhook": {"uuid": hook.uuid, "created_at": iso_z(hook.created_at),
                    "events": list(hook.events)},
        "trigger": {"triggered_at": iso_z(time.time() if triggered_at is None else triggered_at),
                    "alias": event},
        "data": data,
    }
    if not with_trigger:
        del payload["trigger"]
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False)


def sign(secret: str, body: bytes, *, hex_digest: bool = False) -> str:
    """base64 (with padding) of HMAC-SHA256 over the body, keyed with the secret's UTF-8.

    `hex_digest` exists only for the `signature-hex` fault.
    """
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256)
    return digest.hexdigest() if hex_digest else base64.b64encode(digest.digest()).decode("ascii")


def verify(secret: str, body: bytes, signature: str) -> bool:
    """Constant-time check, as a subscriber should do it."""
    return hmac.compare_digest(sign(secret, body), signature)
