"""The `prepopulated` and `prepopulated-unusual` variants: a new database starts with
other people's data in it."""

from __future__ import annotations

import time

from reference_server.config import Settings
from reference_server.events import CONCRETE_EVENTS, PING, WILDCARDS
from reference_server.signing import build_payload, sign
from reference_server.store import Store, Webhook

FIRST_ID = 100_000
COUNT = 30


def prepopulate(store: Store, settings: Settings) -> None:
    """30 webhooks spread over two teams, every third disabled, ids from 100000.

    Only on an empty store, so a restart does not add more. Their URLs use a reserved
    name: the egress guard never lets a delivery to them leave the machine.
    """
    if store.count_webhooks():
        return
    teams = (list(settings.teams) + ["team-a", "team-b"])[:2]
    store.start_ids_at(FIRST_ID)
    created = int(time.time()) - 86_400
    for index in range(COUNT):
        events = [WILDCARDS[index % len(WILDCARDS)]]
        if index % 4 == 0:
            events.append(CONCRETE_EVENTS[index % len(CONCRETE_EVENTS)])
        store.create_webhook(teams[index % 2], f"https://hooks.invalid/seed/{index}", events,
                             is_enabled=index % 3 != 0, now=created + index)


# -- prepopulated-unusual ---------------------------------------------------------------
UNUSUAL_FIRST_ID = 300_000
MAIN_TEAM_COUNT = 130  # over 100: even ?limit=100 needs two pages
OTHER_TEAM_COUNT = 20
_LONG_PREFIX = "https://hooks.invalid/long/"
# Every one is allowed by the brief ("Room": URL length, URL forms) and none is ever
# contacted: reserved names (.invalid) and documentation addresses, which the egress guard
# refuses without a lookup.
UNUSUAL_URLS: tuple[str, ...] = (
    _LONG_PREFIX + "a" * (2051 - len(_LONG_PREFIX)),  # 2,051 characters
    "https://[2001:db8::1]:8443/ipv6-literal",
    "https://user:pa%40ss@hooks.invalid/with-user-info",
    "https://hooks.invalid/with-fragment#section-2",
    "HTTPS://HOOKS.INVALID/UPPER-CASE",
    "https://example.invalid/caf%C3%A9?q=a%20b&path=%2Fx",
    "https://bücher.example.invalid/non-ascii-host",
    "https://example.invalid/outside rfc 3986/{braces}|pipe",
    "http://198.51.100.7/ipv4-documentation-address",
    "https://example.invalid:8080/p?a=1&a=2&empty=",
)
_EVENT_SETS: tuple[list[str], ...] = (
    ["*"], ["case.*"], ["client.*"], ["form.*"], ["record.*"],
    ["case.*", "client.*", "form.*", "record.*"], ["watchlist.updated"],
    list(CONCRETE_EVENTS), ["*", "form.sent"],
)


def prepopulate_unusual(store: Store, settings: Settings) -> None:
    """Another team's and this team's data nobody in the suite made (room "foreign-data"):
    130 webhooks of the main team and 20 of the other, ids from 300000 with gaps, every
    wildcard, some disabled, the unusual URLs above, and a few delivery logs (one a failed
    attempt with status "0"). Only on an empty store, so a restart adds nothing."""
    if store.count_webhooks():
        return
    main, other = (list(settings.teams) + ["team-a", "team-b"])[:2]
    store.start_ids_at(UNUSUAL_FIRST_ID)
    created = int(time.time()) - 30 * 86_400
    hooks = []
    for index in range(MAIN_TEAM_COUNT + OTHER_TEAM_COUNT):
        team = main if index < MAIN_TEAM_COUNT else other
        url = (UNUSUAL_URLS[index % len(UNUSUAL_URLS)] if index % 3 == 0
               else f"https://hooks.invalid/{team}/{index}")
        hook = store.create_webhook(team, url, list(_EVENT_SETS[index % len(_EVENT_SETS)]),
                                    is_enabled=index % 4 != 1, now=created + index * 60)
        hooks.append(hook)
        if index % 10 == 9:  # a gap, as deletions leave
            store.start_ids_at(hook.id + 1 + 37)
    for hook, (status, body) in zip(hooks[:3], _LOGGED_OUTCOMES, strict=True):
        _log_delivery(store, settings, hook, status, body)


_LOGGED_OUTCOMES: tuple[tuple[str, object], ...] = (
    ("204", None),
    ("0", "delivery not sent: host 'hooks.invalid' is not in the allowed hosts"),
    ("500", {"error": "subscriber failed"}),
)


_RESPONSE_HEADERS = {"204": {"Content-Length": "0"}, "0": {},
                     "500": {"Content-Type": "application/json"}}


def _log_delivery(store: Store, settings: Settings, hook: Webhook, status: str,
                  response_body: object) -> None:
    """A finished delivery log entry (never pending: the dispatcher must not resume it)."""
    event = "form.sent" if status != "204" else PING
    body = build_payload(hook, event, ["ping"] if event == PING else {"form": {"id": 1}})
    delivery_id = str(store.incidentals.new_uuid())
    headers = {"Content-Length": str(len(body.encode("utf-8"))), "Host": "hooks.invalid",
               "User-Agent": f"Amiqus AmiqusID/{settings.build}",
               "Content-Type": "application/json",
               "X-AQID-Signature": sign(hook.secret, body.encode("utf-8")),
               "X-AQID-Delivery-Id": delivery_id}
    delivery = store.create_delivery(hook.id, event, hook.url, body, headers, delivery_id)
    attempts = 1 if status.startswith("2") else settings.max_attempts
    store.record_attempt(delivery.id, attempts=attempts, status_code=status,
                         response_headers=_RESPONSE_HEADERS[status],
                         response_body=response_body,
                         state="succeeded" if status.startswith("2") else "failed")
