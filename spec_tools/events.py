"""The event names, read from `spec/v2.yaml` (their authoritative home), and wildcard matching.

    SUBSCRIBABLE_EVENTS  the 38 names a webhook may subscribe to (`*`, `cat.*`, concrete)
    DELIVERY_EVENTS      the 34 names a delivery may carry (the concrete ones and `ping`)
    CONCRETE_EVENTS      the 33 events that happen (what the sandbox may fire)
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from pathlib import Path

import yaml

from spec_tools import SPEC_DIR

V2_SPEC: Path = SPEC_DIR / "v2.yaml"


@cache
def _enum(schema_name: str) -> tuple[str, ...]:
    document = yaml.safe_load(V2_SPEC.read_text(encoding="utf-8"))
    return tuple(document["components"]["schemas"][schema_name]["enum"])


SUBSCRIBABLE_EVENTS: tuple[str, ...] = _enum("SubscribableEvent")
DELIVERY_EVENTS: tuple[str, ...] = _enum("DeliveryEvent")
CONCRETE_EVENTS: tuple[str, ...] = tuple(name for name in DELIVERY_EVENTS if name != "ping")


def event_matches(subscribed: Iterable[str], event: str) -> bool:
    """Whether a webhook subscribed to `subscribed` receives the concrete `event`.

    `*` matches every event and `cat.*` every event of category `cat`. A `ping` is not
    matched by subscriptions at all (it goes to a webhook when it is created or re-enabled),
    so asking about it, or about a name that is not an event, is a ValueError.
    """
    if event not in CONCRETE_EVENTS:
        raise ValueError(f"{event!r} is not a concrete event name")
    category = event.split(".", 1)[0]
    return any(name in ("*", f"{category}.*", event) for name in subscribed)
