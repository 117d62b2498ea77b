"""Masking of secrets: no bearer token or webhook secret is ever printed in full.

One mechanism, owned by the session (`SuiteSession.secrets`): the run's tokens are added
when the session starts, and every exchange with the target passes through `learn_exchange`
(subscribed to the session's exchange log, core/exchanges.py), which reads each request
and response body, at any depth, for a `secret` field. Whatever prints (reports, curl
lines, failure messages, logs) passes its text through the session's `Secrets`.
"""

from __future__ import annotations

import json
import re
import threading
from typing import Any

from .exchanges import Exchange

_SHOWN = 4  # characters of a secret that stay visible, enough to tell two tokens apart
_MIN_SECRET = 8  # shorter values would mask ordinary words; tokens and secrets are long
_BEARER = re.compile(r"(Bearer\s+)([^\s'\"\\]+)")
# A `"secret": "..."` value not already masked (no "…" in it). The closing quote is not
# required: schemathesis cuts long lines to `"secret": "0ebc8d…...` with no quote, and the
# value must then stop at the line's end rather than run on into the next field.
_SECRET_FIELD = re.compile(r"""(["']secret["']\s*:\s*["'])([^"'…\s]{9,})""")


def mask(secret: str | None) -> str:
    """`abcd…` for a secret; short secrets are masked whole."""
    if not secret:
        return "<none>"
    if len(secret) <= _SHOWN * 2:
        return "…"
    return secret[:_SHOWN] + "…"


def secret_values(node: Any) -> list[str]:
    """Every string under a `secret` key, at any depth of a parsed JSON document."""
    found: list[str] = []
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            value = item.get("secret")
            if isinstance(value, str):
                found.append(value)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found


def masked(node: Any) -> Any:
    """A copy of a parsed JSON document with every `secret` value masked (for display)."""
    if isinstance(node, dict):
        return {key: mask(value) if key == "secret" and isinstance(value, str) else masked(value)
                for key, value in node.items()}
    if isinstance(node, list):
        return [masked(item) for item in node]
    return node


class Secrets:
    """The secrets one session knows, and the masking of any text that might show them."""

    def __init__(self, *known: str | None) -> None:
        self._secrets: set[str] = set()
        self._lock = threading.Lock()
        for secret in known:
            self.add(secret)

    def add(self, secret: str | None) -> None:
        if secret and len(secret) >= _MIN_SECRET:
            with self._lock:
                self._secrets.add(secret)

    def learn(self, document: Any) -> None:
        """Add every `secret` in a parsed JSON document (any depth)."""
        for value in secret_values(document):
            self.add(value)

    def learn_exchange(self, exchange: Exchange) -> None:
        for raw in (exchange.request_body, exchange.response_body):
            if raw and b"secret" in raw:
                try:
                    self.learn(json.loads(raw))
                except (ValueError, UnicodeDecodeError):
                    continue

    def __call__(self, text: str) -> str:
        with self._lock:
            known = sorted(self._secrets, key=len, reverse=True)
        for secret in known:
            text = text.replace(secret, mask(secret))
        # Bearer values we were not told about (a wrong token typed by hand) are masked
        # too, and so is a `"secret": "..."` value the run never read as JSON.
        text = _BEARER.sub(_mask_bearer, text)
        return _SECRET_FIELD.sub(lambda m: m.group(1) + mask(m.group(2)), text)


def _mask_bearer(match: re.Match[str]) -> str:
    value = match.group(2)
    return match.group(0) if "…" in value else match.group(1) + mask(value)  # masked already
