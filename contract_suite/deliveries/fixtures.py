"""The delivery contracts' pytest fixtures (a plugin module, loaded by the root conftest).

Only fixtures live here; what they do is in the library modules beside it, which contracts
import directly: receiver.py (the server), wiring.py (reachability, recording deliveries as
exchanges), subscriptions.py (webhooks on the target), events.py (firing sandbox events,
telling a test's deliveries apart), timing.py (waits), log.py (the delivery log), checks.py
(a delivery against the spec).

Layered like pytest-httpserver: `webhook_receiver` (one server per pytest process, every
request it answers recorded in the session's exchange log) -> `receiver_endpoint` (fresh
tagged paths per test) -> `subscribed_webhook` (a webhook on the target pointing at a fresh
endpoint, deleted after the test). `delivery_timing` and `delivery_spec` are the target's
delivery settings and the spec's delivery POST; `fire_event` drives POST /_sandbox/events.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator, Sequence

import pytest

from ..core.http import ApiClient, Credentials
from ..core.paths import SPEC_DIR
from ..core.session import SuiteSession
from ..core.spec_index import SpecIndex
from ..core.target import Target
from .checks import DeliveryContractViolation, DeliverySpec
from .events import EVENTS_NEED_SANDBOX, fire_sandbox_event, new_marker
from .receiver import AnswerLike, Endpoint, WebhookReceiver
from .subscriptions import Made, Subscription, delete_subscriptions, subscribe
from .timing import DeliveryTiming, UnusableSettings
from .wiring import exchange_recorder, unreachable_reason


@pytest.fixture(scope="session")
def webhook_receiver(suite_session: SuiteSession) -> Iterator[WebhookReceiver]:
    """The receiving server: 127.0.0.1, port 0 (or --receiver-port), stopped at session end.

    Every request it answers is recorded in the session's exchange log (kind "delivery").
    """
    target = suite_session.target
    reason = unreachable_reason(target)
    if reason:
        pytest.skip(reason)
    receiver = WebhookReceiver(target.run_id, public_url=target.receiver_url,
                               port=target.receiver_port,
                               on_request=exchange_recorder(suite_session.exchanges))
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
    """The delivery POST as spec/v2.yaml's `webhooks:` entry documents it (via SpecIndex)."""
    try:
        return DeliverySpec.from_index(SpecIndex.load(SPEC_DIR))
    except DeliveryContractViolation as error:
        pytest.fail(str(error), pytrace=False)


@pytest.fixture(scope="session")
def delivery_timing(suite_session: SuiteSession) -> DeliveryTiming:
    """The sandbox's settings when the target has a sandbox, else the brief's production ones.

    From the session's own GET /_sandbox (made once per process), not a request of its own.
    """
    try:
        return DeliveryTiming.from_settings(suite_session.sandbox)
    except UnusableSettings as error:
        pytest.fail(str(error), pytrace=False)


@pytest.fixture
def subscribed_webhook(
    api: ApiClient, target: Target, receiver_endpoint: Callable[..., Endpoint]
) -> Iterator[Callable[..., Subscription]]:
    """Factory: create a webhook pointing at a fresh endpoint; deleted after the test.

    subscribed_webhook(["client.*"], version="v2"|"v1", enabled=True, answers=(500, 500),
    then=204, credentials="token"|"other_team")
    """
    made: list[Made] = []

    def make(
        events: Sequence[str] = ("*",), *, version: str = "v2", enabled: bool = True,
        answers: Sequence[AnswerLike] = (), then: AnswerLike = 204,
        credentials: Credentials = "token", name: str | None = None,
    ) -> Subscription:
        if version not in target.api_versions:
            pytest.skip(f"this contract needs the {version} API (--api-version)")
        endpoint = receiver_endpoint(*answers, then=then, name=name)
        return subscribe(api, target, endpoint, events, version=version, enabled=enabled,
                         credentials=credentials, made=made)

    try:
        yield make
    finally:  # also when the test failed or was interrupted (pytest tears down on Ctrl-C)
        left = delete_subscriptions(api, target, made)
        if left:  # an error under the project's filterwarnings
            warnings.warn(pytest.PytestWarning(left), stacklevel=2)


@pytest.fixture
def delivery_marker() -> str:
    """A value unique to this test, sent as event data so its deliveries can be told apart."""
    return new_marker()


@pytest.fixture
def fire_event(
    api: ApiClient, suite_session: SuiteSession, delivery_marker: str,
) -> Callable[..., int]:
    """Factory: fire(event, credentials="token") -> N from 202 {"deliveries": N}.

    The event's data carries this test's marker; `Only(marker=...)` keeps only its
    deliveries. A target without the sandbox cannot be told to fire an event: the contract
    skips; so does one whose event would reach webhooks the run did not create
    (events.fire_sandbox_event, room "foreign-data").
    """
    if suite_session.sandbox is None:
        pytest.skip(EVENTS_NEED_SANDBOX.format(target=suite_session.target.base_url))

    def fire(event: str, *, credentials: Credentials = "token") -> int:
        return fire_sandbox_event(api, suite_session.target, event, marker=delivery_marker,
                                  credentials=credentials)

    return fire
