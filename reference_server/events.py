"""Event names: which may be subscribed to, which may fire, and how subscriptions match."""

from __future__ import annotations

CONCRETE_EVENTS: tuple[str, ...] = (
    "case.approved", "case.archived", "case.created", "case.item_added", "case.item_removed",
    "case.rejected", "case.status", "case.unarchived", "case.updated",
    "client.archived", "client.created", "client.deleted", "client.organisations",
    "client.record", "client.status", "client.unarchived", "client.updated",
    "client.deletion_reminder_updated", "client.deletion_reminder_deleted",
    "client.deletion_reminder_due",
    "form.attached", "form.deleted", "form.modified", "form.sent", "form.submitted",
    "form.updated",
    "record.bounced", "record.created", "record.finished", "record.reviewed",
    "record.unreviewed", "record.updated",
    "watchlist.updated",
)
# There is no "watchlist.*"; "ping" is a delivery event only, never subscribable.
WILDCARDS: tuple[str, ...] = ("*", "case.*", "client.*", "form.*", "record.*")
SUBSCRIBABLE: frozenset[str] = frozenset(CONCRETE_EVENTS + WILDCARDS)
PING = "ping"


def is_concrete(name: object) -> bool:
    return isinstance(name, str) and name in CONCRETE_EVENTS


def matches(subscription: list[str], event: str) -> bool:
    """True when one of the subscribed names covers `event` (`*` all, `cat.*` a category)."""
    covering = {"*", event, f"{event.split('.', 1)[0]}.*"}
    return any(name in covering for name in subscription)


def sample_data(event: str, base_url: str, object_id: int) -> dict[str, object]:
    """Minimal event data as upstream sends it: ids and `show` URLs, no personal data."""
    category = event.split(".", 1)[0]
    resource = {"case": "cases", "client": "clients", "form": "forms", "record": "records"}.get(
        category, "watchlists"
    )
    return {category: {"id": object_id, "show": f"{base_url}/api/v2/{resource}/{object_id}"}}
