"""Fixtures for the delivery contracts (a pytest plugin module, loaded by the root conftest).

Layered like pytest-httpserver: `webhook_receiver` (one server per pytest process) ->
`receiver_endpoint` (fresh tagged paths per test) -> `subscribed_webhook` (a webhook on the
target pointing at a fresh endpoint, deleted after the test). `delivery_timing` turns the
target's own delivery settings (the session's GET /_sandbox, else the brief's production
values) into generous, bounded waits; `fire_event` drives POST /_sandbox/events.
"""

from __future__ import annotations

import ipaddress
import json
import secrets
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest

from ..core.http import ApiClient, Credentials
from ..core.paths import SPEC_DIR
from ..core.ratelimit import RateLimitBudgetSpent
from ..core.session import SuiteSession
from ..core.target import TAG_PREFIX, Target
from .checks import DeliverySpec, load_delivery_spec
from .receiver import AnswerLike, Endpoint, ReceivedRequest, WebhookReceiver

# The brief's production schedule, used when the target does not say (no sandbox).
PRODUCTION_SETTINGS = {"retry_delays": [60, 120, 600, 900], "timeout": 5, "disable_after": 10}
SLACK = 5.0  # seconds added to every wait: a busy target under -n 2 is slow, not wrong
SETTLE = 1.0  # seconds to watch for deliveries that must NOT come (duplicates, misroutes)
MIN_POLL = 0.2  # seconds between two polls of the target, at least (rate limits)
MAX_POLL = 2.0  # ... and at most, so a slow schedule still polls a few times in SLACK
MAX_POLLS = 60  # requests one poll loop may send, whatever the time allows
LOG_PAGE = 100  # the largest page the brief allows: the default page size is not promised
MAX_FOREIGN_PAGES = 50  # pages of 100 read to learn the team's other webhooks, at most
FOREIGN_SUBSCRIBERS = (
    "firing {event} through POST /_sandbox/events would also deliver to {count} enabled "
    "webhook(s) of this team that the run did not create (ids {ids}): the target fans an "
    "event out to all of them, moving their delivery logs and failure tallies (at "
    "disable_after it disables them), and the suite never changes webhooks it did not create "
    "(room foreign-data); run the delivery contracts against a team without such webhooks")
EVENTS_NEED_SANDBOX = ("this contract triggers events through POST /_sandbox/events; the target "
                       "{target} has no /_sandbox (GET /_sandbox is not 200): only the reference "
                       "server can be told to fire an event")


@dataclass(frozen=True)
class DeliveryTiming:
    """The target's delivery settings and the waits derived from them."""

    retry_delays: tuple[float, ...]
    timeout: float
    disable_after: int

    @classmethod
    def from_settings(cls, settings: dict[str, Any]) -> DeliveryTiming:
        return cls(tuple(float(d) for d in settings["retry_delays"]),
                   float(settings["timeout"]), int(settings["disable_after"]))

    @property
    def attempts(self) -> int:
        return 1 + len(self.retry_delays)

    def schedule(self, attempts: int, *, slow_answers: bool = False) -> float:
        """Longest a payload's first `attempts` attempts may take, with slack.

        The receiver answers at once unless told otherwise; with `slow_answers` every
        attempt may also last up to the target's timeout.
        """
        answering = attempts * self.timeout if slow_answers else 0.0
        return sum(self.retry_delays[: attempts - 1]) + answering + SLACK

    @property
    def first_arrival(self) -> float:
        return self.timeout + SLACK

    @property
    def poll_interval(self) -> float:
        """Seconds between polls of the target: half the shortest retry delay, bounded.

        Room "rate-limits": polls are spaced (never under MIN_POLL) and counted (MAX_POLLS).
        """
        shortest = min(self.retry_delays, default=self.timeout)
        return min(max(MIN_POLL, shortest / 2), MAX_POLL)


@dataclass(frozen=True)
class Subscription:
    """A webhook created for one test, and the receiver endpoint it points at."""

    id: int
    uuid: str | None  # None when the target has no v2 to read it from
    secret: str = field(repr=False)  # never in a failure's repr; the session's secrets know it too
    events: list[str]
    endpoint: Endpoint
    version: str  # the API version that created it
    created: dict[str, Any] = field(repr=False)  # the create response body (holds the secret)

    def wait(self, count: int, timeout: float) -> list[ReceivedRequest]:
        return self.endpoint.wait(count, timeout)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@pytest.fixture(scope="session")
def webhook_receiver(target: Target) -> Iterator[WebhookReceiver]:
    """The receiving server: 127.0.0.1, port 0 (or --receiver-port), stopped at session end."""
    if not target.receiver_url and not target.embedded and not _is_loopback(target.host):
        pytest.skip(
            f"delivery contracts: the target {target.base_url} cannot reach this machine's "
            "receiver at 127.0.0.1; pass --receiver-url (a tunnel or an address the target "
            "can reach that forwards to the receiver)"
        )
    receiver = WebhookReceiver(target.run_id, public_url=target.receiver_url,
                               port=target.receiver_port)
    try:
        receiver.start()
    except OSError as exc:
        pytest.fail(f"delivery contracts: the receiver cannot bind 127.0.0.1:"
                    f"{target.receiver_port} ({exc.strerror or exc}); free the port or pass "
                    "another --receiver-port", pytrace=False)
    try:
        yield receiver
    finally:
        receiver.stop()


@pytest.fixture
def receiver_endpoint(
    webhook_receiver: WebhookReceiver, request: pytest.FixtureRequest
) -> Callable[..., Endpoint]:
    """Factory: `receiver_endpoint(*answers, then=204)` -> a fresh endpoint named for the test."""
    webhook_receiver.reset()

    def make(*answers: AnswerLike, then: AnswerLike = 204, name: str | None = None) -> Endpoint:
        return webhook_receiver.endpoint(name or request.node.name, *answers, then=then)

    return make


@pytest.fixture(scope="session")
def delivery_spec() -> DeliverySpec:
    """The delivery POST as spec/v2.yaml's `webhooks:` entry documents it."""
    return load_delivery_spec(str(SPEC_DIR / "v2.yaml"))


@pytest.fixture(scope="session")
def delivery_timing(suite_session: SuiteSession) -> DeliveryTiming:
    """The sandbox's settings when the target has a sandbox, else the brief's production ones.

    From the session's own GET /_sandbox (made once per process), not a request of its own.
    """
    settings = suite_session.sandbox
    try:
        return DeliveryTiming.from_settings(settings or PRODUCTION_SETTINGS)
    except (KeyError, TypeError, ValueError):
        pytest.fail(f"GET /_sandbox answered 200 without usable delivery settings: {settings}")


@pytest.fixture
def subscribed_webhook(
    api: ApiClient, target: Target, receiver_endpoint: Callable[..., Endpoint]
) -> Iterator[Callable[..., Subscription]]:
    """Factory: create a webhook pointing at a fresh endpoint; deleted after the test.

    subscribed_webhook(["client.*"], version="v2"|"v1", enabled=True, answers=(500, 500),
    then=204, credentials="token"|"other_team")
    """
    made: list[tuple[int, Credentials]] = []

    def make(
        events: Sequence[str] = ("*",), *, version: str = "v2", enabled: bool = True,
        answers: Sequence[AnswerLike] = (), then: AnswerLike = 204,
        credentials: Credentials = "token", name: str | None = None,
    ) -> Subscription:
        if version not in target.api_versions:
            pytest.skip(f"this contract needs the {version} API (--api-version)")
        endpoint = receiver_endpoint(*answers, then=then, name=name)
        if version == "v2":
            body: dict[str, Any] = {"url": endpoint.url, "events": list(events),
                                    "is_enabled": enabled}
        else:
            body = {"url": endpoint.url, "events": ",".join(events), "active": enabled}
        path = f"{target.api_url(version).removeprefix(target.base_url)}/webhooks"
        response = api.request("POST", path, json=body, credentials=credentials)
        created = response.json() if response.status_code == 201 else None
        if not isinstance(created, dict) or not isinstance(created.get("id"), int):
            pytest.fail(f"setup: POST {path} answered {response.status_code}, not 201 with a "
                        f"webhook: {api.secrets(response.text[:300])}")
        made.append((created["id"], credentials))
        secret = str(created.get("secret", ""))
        return Subscription(created["id"], _uuid_of(api, target, created, credentials), secret,
                            list(events), endpoint, version, created)

    try:
        yield make
    finally:  # also when the test failed or was interrupted (pytest tears down on Ctrl-C)
        _delete_all(api, target, made)


def _delete_all(api: ApiClient, target: Target, made: list[tuple[int, Credentials]]) -> None:
    """Delete each webhook this test created (only those), going on past any that fails.

    A 404 is fine (the test deleted it itself); a 429 the client could not wait out is
    (or the run's wait budget spent) is left to the session-end cleanup (room
    "rate-limits": never a failure). Anything else
    is said in one warning line (an error under the project's filterwarnings); the
    session-end cleanup by run tag tries again.
    """
    version = "v2" if "v2" in target.api_versions else "v1"
    prefix = target.api_url(version).removeprefix(target.base_url)
    left = []
    for webhook_id, credentials in made:
        try:
            status: int | str = api.request("DELETE", f"{prefix}/webhooks/{webhook_id}",
                                            credentials=credentials).status_code
        except RateLimitBudgetSpent:
            status = 429
        except Exception as error:  # noqa: BLE001 - a broken connection must not stop the rest
            status = f"{type(error).__name__}"
        if status not in (200, 204, 404, 429):
            left.append(f"{webhook_id} ({credentials}: {status})")
    if left:
        message = (f"delivery contracts: could not delete webhook(s) {', '.join(left)} at "
                   f"{target.base_url}; the session-end cleanup retries, else run "
                   "scripts/cleanup.py")
        warnings.warn(pytest.PytestWarning(message), stacklevel=2)


def _uuid_of(api: ApiClient, target: Target, created: dict[str, Any],
             credentials: Credentials) -> str | None:
    if isinstance(created.get("uuid"), str):
        return created["uuid"]
    if "v2" not in target.api_versions:
        return None
    response = api.request("GET", f"/api/v2/webhooks/{created['id']}", credentials=credentials)
    return response.json().get("uuid") if response.status_code == 200 else None


@pytest.fixture
def delivery_marker() -> str:
    """A value unique to this test, sent as event data so its deliveries can be told apart."""
    return "aqid-contracts-" + secrets.token_hex(6)


@pytest.fixture
def fire_event(
    api: ApiClient, suite_session: SuiteSession, delivery_marker: str,
) -> Callable[..., int]:
    """Factory: fire(event, credentials="token") -> N from 202 {"deliveries": N}.

    The event's data carries this test's marker; `Only(marker=...)` keeps only its deliveries (other
    tests of the same team fire events concurrently and `*` subscriptions receive those too).
    A target without the sandbox cannot be told to fire an event: the contract skips.
    Room "foreign-data": the target fans an event out to ALL the team's enabled matching
    webhooks, so N counts others' too (contracts check N >= theirs only), and an event that
    would reach a webhook the run did not create is not fired: the contract skips, saying
    which (their logs and failure tallies, and at disable_after their is_enabled, would move).
    """
    if suite_session.sandbox is None:
        pytest.skip(EVENTS_NEED_SANDBOX.format(target=suite_session.target.base_url))

    def fire(event: str, *, credentials: Credentials = "token") -> int:
        known = foreign_subscribers(api, suite_session.target, credentials)
        others = [w for w in known if event_matches(w[1], event)]
        if others:
            pytest.skip(FOREIGN_SUBSCRIBERS.format(
                event=event, count=len(others),
                ids=", ".join(str(w[0]) for w in others[:5]) + (", …" if len(others) > 5 else "")))
        data = {"aqid_contracts": {"marker": delivery_marker, "by": credentials}}
        response = api.request("POST", "/_sandbox/events", json={"event": event, "data": data},
                               credentials=credentials)
        body = response.json() if response.status_code == 202 else None
        count = body.get("deliveries") if isinstance(body, dict) else None
        if not isinstance(count, int) or count < 0:
            pytest.fail(f"POST /_sandbox/events {event}: expected 202 {{\"deliveries\": N}}, "
                        f"received {response.status_code} {response.text[:200]}")
        return count

    return fire


def event_matches(subscription: Sequence[str], event: str) -> bool:
    """The brief's rule: `*` every event, `cat.*` its category, else the exact name."""
    category = event.split(".", 1)[0]
    return any(name in ("*", event, f"{category}.*") for name in subscription)


def foreign_subscribers(api: ApiClient, target: Target,
                        credentials: Credentials) -> list[tuple[Any, list[str]]]:
    """(id, events) of the team's enabled webhooks that this run did not create.

    Read once per process and team (foreign data does not come and go with the run): the
    v2 list (`enabled=true`, pages of 100, bounded), or the v1 list where there is no v2.
    Ours are those whose URL carries this run's tag (or that this client made). Past the
    page bound the rest is unknown, which counts as one more foreign `*` webhook (the safe
    side).
    """
    cache = api.foreign_webhooks  # one per session: shared with the curated sandbox steps
    if credentials not in cache:
        cache[credentials] = _read_foreign(api, target, credentials)
    return cache[credentials]  # type: ignore[no-any-return]


def _read_foreign(api: ApiClient, target: Target,
                  credentials: Credentials) -> list[tuple[Any, list[str]]]:
    ours = f"/{TAG_PREFIX}/{target.run_id}/"
    v2 = "v2" in target.api_versions
    path = "/api/v2/webhooks" if v2 else "/api/webhooks"
    found: list[tuple[Any, list[str]]] = []
    for page in range(1, MAX_FOREIGN_PAGES + 1):
        params: dict[str, Any] = ({"page": page, "limit": 100, "enabled": "true"} if v2
                                  else {"page": page, "per_page": 100})
        response = api.request("GET", path, params=params, credentials=credentials)
        body = response.json() if response.status_code == 200 else None
        if not isinstance(body, dict) or not isinstance(body.get("data"), list):
            pytest.fail(f"GET {path} answered {response.status_code}, not the webhook list the "
                        f"delivery contracts read to leave others' webhooks alone: "
                        f"{api.secrets(response.text[:200])}")
        for hook in body["data"]:
            if (not isinstance(hook, dict) or ours in str(hook.get("url", ""))
                    or hook.get("id") in api.owned_ids):
                continue
            enabled = hook.get("is_enabled") if v2 else hook.get("active")
            events = hook.get("events")
            events = events.split(",") if isinstance(events, str) else events
            if enabled is not False:
                found.append((hook.get("id"), [str(e) for e in events or ["*"]]))
        pages = (body.get("total_pages") if v2
                 else body.get("meta", {}).get("pagination", {}).get("total_pages"))
        if not isinstance(pages, int) or page >= pages:
            return found
    return [*found, ("beyond the first pages", ["*"])]


@dataclass(frozen=True)
class Only:
    """A receiver filter: one event (trigger.alias) and/or one test's marker in the body.

    Other tests of the same team fire events concurrently and a `*` subscription receives
    those too; the marker (a byte search, so any JSON layout) keeps a test's own apart.
    """

    event: str | None = None
    marker: str | None = None

    @property
    def description(self) -> str:
        parts = [self.event or "any event"] + ([f"marker {self.marker}"] if self.marker else [])
        return ", ".join(parts)

    def __call__(self, request: ReceivedRequest) -> bool:
        if self.marker is not None and self.marker.encode() not in request.body:
            return False
        return self.event is None or alias_of(request) == self.event


def alias_of(request: ReceivedRequest) -> str | None:
    try:
        alias = json.loads(request.body)["trigger"]["alias"]
    except (ValueError, KeyError, TypeError):
        return None
    return alias if isinstance(alias, str) else None


LogSettled = Callable[[dict[str, dict[str, Any]]], bool]


def poll_delivery_log(
    api: ApiClient, webhook_id: int, timing: DeliveryTiming, settled: LogSettled, *,
    version: str = "v2", within: float = SLACK,
) -> tuple[list[dict[str, Any]], bool]:
    """The newest page of a webhook's delivery log once `settled(by_uuid)` holds.

    Bounded in time (`within` seconds) and in requests (MAX_POLLS), spaced by the timing's
    poll interval; every request goes through the session's ApiClient (which waits out a
    429). Asks for an explicit page size (the default is not promised). Returns the
    entries (log order) and whether `settled` held; the caller's assertion names what is
    missing.
    """
    if version == "v2":
        path, params = f"/api/v2/webhooks/{webhook_id}/deliveries", {"limit": LOG_PAGE}
    else:
        path, params = f"/api/webhooks/{webhook_id}/deliveries", {"per_page": LOG_PAGE}
    deadline = time.monotonic() + within
    entries: list[dict[str, Any]] = []
    for _ in range(MAX_POLLS):
        response = api.request("GET", path, params=params)
        if response.status_code != 200:
            pytest.fail(f"GET {path} answered {response.status_code}, documented 200 with the "
                        f"delivery log: {api.secrets(response.text[:200])}")
        body = response.json()
        data = body.get("data") if isinstance(body, dict) else None
        entries = [e for e in data if isinstance(e, dict)] if isinstance(data, list) else []
        if settled(by_uuid(entries)):
            return entries, True
        if time.monotonic() + timing.poll_interval > deadline:
            break
        time.sleep(timing.poll_interval)
    return entries, False


def by_uuid(entries: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {e["uuid"]: e for e in entries if isinstance(e.get("uuid"), str)}


def delivery_ids(requests: Sequence[ReceivedRequest]) -> list[str]:
    """The X-AQID-Delivery-Id of each request, in order, without repeats."""
    return list(dict.fromkeys(r.header("X-AQID-Delivery-Id") or "?" for r in requests))
