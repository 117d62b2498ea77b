"""The catalogue of named faults and benign variants.

A *fault* breaks one documented contract in one small, named way; the fault self-test
switches each on and expects the contract suite to fail. A *variant* is a behaviour the
contract leaves open (key order, page size, latency, extra fields...); the suite must stay
green with it. The code asks `settings.has_fault("name")` / `settings.has_variant("name")`
at the one point where behaviour diverges, so a fault is a modifier, not a fork.

Adding one: a line here, and an `if settings.has_fault("...")` at the point it changes.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Fault:
    name: str
    area: str  # the operation or behaviour it breaks
    description: str  # how it breaks the contract, one line


def _catalogue(*items: Fault) -> dict[str, Fault]:
    return {item.name: item for item in items}


FAULTS: dict[str, Fault] = _catalogue(
    Fault("v2-create-returns-200", "v2 create", "answers 200 instead of 201"),
    Fault("v2-delete-returns-200-with-body", "v2 delete",
          "answers 200 with the webhook instead of 204 with an empty body"),
    Fault("v2-missing-object-tag", "v2 webhook", 'webhook objects lack "object": "webhook"'),
    Fault("v1-events-as-array", "v1 webhook", "v1 shows events as an array, not one string"),
    Fault("v2-links-not-null-on-single-page", "v2 pagination",
          'a single page has links {"next": null, "previous": null} instead of null'),
    Fault("v2-count-is-total", "v2 pagination", "count is the total, not the items on the page"),
    Fault("enabled-filter-ignored", "v2 list", "?enabled= is accepted but does not filter"),
    Fault("patch-replaces-whole", "v2 update",
          "PATCH resets omitted fields to their defaults (events ['*'], is_enabled true)"),
    Fault("update-not-stored", "v2/v1 update",
          "an update answers 200 with the new values but stores nothing"),
    Fault("other-team-visible", "team isolation",
          "retrieving another team's webhook by id answers 200 instead of 404"),
    Fault("signature-hex", "deliveries", "X-AQID-Signature is the hex digest, not base64"),
    Fault("no-retries", "deliveries", "a failed delivery is never retried"),
)

VARIANTS: dict[str, Fault] = _catalogue(
    Fault("default-page-size-7", "v2 pagination", "v2 lists default to 7 items a page"),
    Fault("reordered-keys", "all JSON", "every JSON object has its keys in reverse order"),
    Fault("latency-50ms", "all responses", "every response is delayed by 50 ms"),
    Fault("extra-headers", "all responses",
          "unrelated extra headers (X-Request-Id, Server-Timing)"),
    Fault("extra-fields", "webhook objects",
          'an undocumented extra field ("description": null) in every webhook'),
    Fault("prepopulated", "store",
          "a new database starts with 30 webhooks of two teams, some disabled, ids from 100000"),
)


def describe_all() -> list[str]:
    """One line per fault and variant, for --list-faults."""
    lines = [f"fault    {f.name:36} [{f.area}] {f.description}" for f in FAULTS.values()]
    lines += [f"variant  {v.name:36} [{v.area}] {v.description}" for v in VARIANTS.values()]
    return lines
