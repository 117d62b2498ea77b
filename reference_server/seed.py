"""The `prepopulated` variant: a new database starts with other people's data in it."""

from __future__ import annotations

import time

from reference_server.config import Settings
from reference_server.events import CONCRETE_EVENTS, WILDCARDS
from reference_server.store import Store

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
