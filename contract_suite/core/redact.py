"""Masking of secrets: no bearer token or webhook secret is ever printed in full."""

from __future__ import annotations

import re

_SHOWN = 4  # characters of a secret that stay visible, enough to tell two tokens apart


def mask(secret: str | None) -> str:
    """`abcd…` for a secret; short secrets are masked whole."""
    if not secret:
        return "<none>"
    if len(secret) <= _SHOWN * 2:
        return "…"
    return secret[:_SHOWN] + "…"


class Redactor:
    """Replaces every known secret in a text by its mask (for reports, curl lines, logs)."""

    def __init__(self) -> None:
        self._secrets: set[str] = set()

    def add(self, secret: str | None) -> None:
        # Very short values would mask ordinary words; tokens and secrets are long.
        if secret and len(secret) >= 8:
            self._secrets.add(secret)

    def __call__(self, text: str) -> str:
        for secret in sorted(self._secrets, key=len, reverse=True):
            text = text.replace(secret, mask(secret))
        # Bearer values we were not told about (a wrong token typed by hand) are masked too.
        return _BEARER.sub(lambda m: m.group(1) + mask(m.group(2)), text)


_BEARER = re.compile(r"(Bearer\s+)([^\s'\"\\]+)")

redactor = Redactor()
"""The process-wide redactor: the plugin registers tokens; the engine registers secrets it reads."""
