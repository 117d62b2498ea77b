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


def payload(hook: Webhook, event: str, data: Any, triggered_at: float | None = None
            ) -> dict[str, Any]:
    return {
        "webhook": {"uuid": hook.uuid, "created_at": iso_z(hook.created_at),
                    "events": list(hook.events)},
        "trigger": {"triggered_at": iso_z(time.time() if triggered_at is None else triggered_at),
                    "alias": event},
        "data": data,
    }


def payload_text(value: dict[str, Any]) -> str:
    """Compact JSON text; these exact bytes (UTF-8) are sent and signed."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def build_payload(hook: Webhook, event: str, data: Any, triggered_at: float | None = None
                  ) -> str:
    return payload_text(payload(hook, event, data, triggered_at))


def sign(secret: str, body: bytes) -> str:
    """base64 (with padding) of HMAC-SHA256 over the body, keyed with the secret's UTF-8."""
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256)
    return base64.b64encode(digest.digest()).decode("ascii")


def verify(secret: str, body: bytes, signature: str) -> bool:
    """Constant-time check, as a subscriber should do it."""
    return hmac.compare_digest(sign(secret, body), signature)
