"""Deliveries: routing, payloads, signatures, headers, retries, disabling, pings."""

from __future__ import annotations

import base64
import json
import sys
import uuid
from dataclasses import replace
from typing import Any

from starlette.requests import Request

from reference_server import webhooks
from reference_server.config import Settings
from reference_server.deliveries import DeliveryPolicy
from reference_server.events import PING, matches
from reference_server.seams import fault
from reference_server.store import Delivery, Webhook

Headers = dict[str, str]

# -- routing ------------------------------------------------------------------------------

@fault("other-team-receives-events").around("recipients")
def _every_team_receives(proceed: Any, request: Request, team: str | None, event: str
                         ) -> list[Webhook]:
    return proceed(request, None, event)


@fault("routing-ignores-category").after("recipients")
def _no_category_wildcards(hooks: list[Webhook], request: Request, team: str | None,
                           event: str) -> list[Webhook]:
    return [hook for hook in hooks if any(name in ("*", event) for name in hook.events)]


@fault("routing-duplicates").after("recipients")
def _once_per_matching_name(hooks: list[Webhook], request: Request, team: str | None,
                            event: str) -> list[Webhook]:
    return [hook for hook in hooks
            for _ in range(sum(matches([name], event) for name in hook.events))]


disabled_receive = fault("disabled-webhooks-receive")


@disabled_receive.around("recipients")
def _disabled_routed(proceed: Any, request: Request, team: str | None, event: str
                     ) -> list[Webhook]:
    candidates = webhooks.store_of(request).webhooks_for_team(team, enabled_only=False)
    return [hook for hook in candidates if matches(hook.events, event)]


@disabled_receive.around("sendable")
def _disabled_sent(proceed: Any, dispatcher: Any, delivery: Delivery, hook: Webhook) -> bool:
    return True


ping_disabled = fault("ping-on-disabled-create")


@ping_disabled.around("ping")
def _ping_any_new_webhook(proceed: Any, settings: Settings, before: Webhook | None,
                          after: Webhook) -> bool:
    return True if before is None else proceed(settings, before, after)


@ping_disabled.around("sendable")
def _pings_sent_while_disabled(proceed: Any, dispatcher: Any, delivery: Delivery,
                               hook: Webhook) -> bool:
    return proceed(dispatcher, delivery, hook) or delivery.event == PING


# -- payload and signature ----------------------------------------------------------------

@fault("payload-missing-trigger").after("payload")
def _no_trigger(payload: dict[str, Any], *_: Any) -> dict[str, Any]:
    del payload["trigger"]
    return payload


@fault("signature-hex").after("signature")
def _hex_signature(signature: str, *_: Any) -> str:
    return base64.b64decode(signature).hex()


@fault("signature-wrong-key").around("signature")
def _keyed_with_uuid(proceed: Any, dispatcher: Any, hook: Webhook, body: str) -> str:
    return proceed(dispatcher, replace(hook, secret=hook.uuid), body)


@fault("signature-over-reserialised-body").around("signature")
def _signs_reserialised(proceed: Any, dispatcher: Any, hook: Webhook, body: str) -> str:
    return proceed(dispatcher, hook, json.dumps(json.loads(body)))  # ", " / ": "


# -- headers and the log ------------------------------------------------------------------

@fault("user-agent-wrong").after("delivery headers")
def _no_user_agent(headers: Headers, *_: Any) -> Headers:
    del headers["User-Agent"]  # httpx then sends its own "python-httpx/<version>"
    return headers


@fault("delivery-log-uuid-mismatch").around("delivery log")
def _logged_under_other_uuid(proceed: Any, dispatcher: Any, hook: Webhook, event: str,
                             body: str, headers: Headers, delivery_id: str) -> Delivery:
    return proceed(dispatcher, hook, event, body, headers, str(uuid.uuid4()))


@fault("attempt-counter-stuck").after("attempt headers")
def _always_attempt_1(headers: Headers, *_: Any) -> Headers:
    headers["X-AQID-Delivery-Attempt"] = "1"
    return headers


@fault("delivery-id-changes-on-retry").after("attempt headers")
def _new_id_per_retry(headers: Headers, dispatcher: Any, delivery: Delivery, attempt: int
                      ) -> Headers:
    if attempt > 1:
        headers["X-AQID-Delivery-Id"] = str(uuid.uuid4())
    return headers


@fault("delivery-missing-headers").after("attempt headers")
def _no_delivery_headers(headers: Headers, *_: Any) -> Headers:
    del headers["X-AQID-Delivery-Id"], headers["X-AQID-Delivery-Attempt"]
    return headers


# -- retries, timeout, disabling ----------------------------------------------------------

@fault("no-retries").after("delivery policy")
def _one_attempt(policy: DeliveryPolicy, settings: Settings) -> DeliveryPolicy:
    return replace(policy, max_attempts=1)


@fault("timeout-not-enforced").after("delivery policy")
def _ten_times_the_timeout(policy: DeliveryPolicy, settings: Settings) -> DeliveryPolicy:
    return replace(policy, client_timeout=settings.timeout * 10)  # a slow 2xx still counts


@fault("never-disabled").after("delivery policy")
def _never_disabled(policy: DeliveryPolicy, settings: Settings) -> DeliveryPolicy:
    return replace(policy, disable_after=sys.maxsize)
