"""Background deliveries: a bounded schedule, a fixed pool of worker threads, retries.

Every attempt (first or retry) is a job on one time-ordered heap; workers take the jobs
that are due. The heap is bounded: a new delivery that finds it full is logged as failed at
once instead of growing memory. Each attempt re-reads the webhook, so a webhook deleted or
disabled in the meantime stops its retries.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from reference_server import signing
from reference_server.config import Settings
from reference_server.egress import host_as_written, refusal
from reference_server.seams import seam
from reference_server.store import Delivery, Store, Webhook

if TYPE_CHECKING:  # imported on first delivery: it is most of a cold start's import time
    import httpx

MAX_LOGGED_BODY = 64 * 1024


@dataclass(frozen=True)
class DeliveryPolicy:
    max_attempts: int  # the first attempt and its retries
    client_timeout: float  # how long the subscriber has to answer
    disable_after: int  # failed payloads in a row that disable a webhook


@seam("delivery policy")
def delivery_policy(settings: Settings) -> DeliveryPolicy:
    return DeliveryPolicy(settings.max_attempts, settings.timeout, settings.disable_after)


class Dispatcher:
    def __init__(self, store: Store, settings: Settings) -> None:
        self.store, self.settings = store, settings
        self.policy = delivery_policy(settings)
        self._heap: list[tuple[float, int, int, int]] = []  # (due, seq, delivery id, attempt)
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._busy = 0
        self._stopping = False
        self._threads: list[threading.Thread] = []

    # -- lifecycle ------------------------------------------------------------------------
    def start(self) -> None:
        for delivery in self.store.pending_deliveries():  # resume what a restart interrupted
            self._schedule(delivery.id, delivery.attempts + 1, time.monotonic())
        for index in range(self.settings.delivery_workers):
            thread = threading.Thread(target=self._work, name=f"delivery-{index}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self, timeout: float = 5.0) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        self._threads.clear()

    def wait_idle(self, timeout: float) -> bool:
        """True once nothing is scheduled or running (tests use it); False on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._heap or self._busy:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(min(left, 0.05))
        return True

    # -- entry point ----------------------------------------------------------------------
    def deliver(self, hook: Webhook, event: str, data: Any) -> Delivery:
        """Log a delivery of `event` to `hook` and schedule its first attempt."""
        body = signing.payload_text(self.payload(hook, event, data))
        delivery_id = str(self.store.incidentals.new_uuid())
        headers = self.delivery_headers(hook, body, delivery_id)
        delivery = self.log_delivery(hook, event, body, headers, delivery_id)
        with self._cond:
            full = len(self._heap) >= self.settings.delivery_backlog
        if full:
            self.store.record_attempt(
                delivery.id, attempts=0, status_code="0", response_headers={},
                response_body="delivery not sent: the delivery backlog is full", state="failed")
        else:
            self._schedule(delivery.id, 1, time.monotonic())
        return delivery

    @seam("payload")
    def payload(self, hook: Webhook, event: str, data: Any) -> dict[str, Any]:
        return signing.payload(hook, event, data)

    @seam("delivery headers")
    def delivery_headers(self, hook: Webhook, body: str, delivery_id: str) -> dict[str, str]:
        return {
            "Content-Length": str(len(body.encode("utf-8"))),
            "Host": _netloc(hook.url),
            "User-Agent": f"Amiqus AmiqusID/{self.settings.build}",
            "Content-Type": "application/json",
            "X-AQID-Signature": self.signature(hook, body),
            "X-AQID-Delivery-Id": delivery_id,
        }

    @seam("signature")
    def signature(self, hook: Webhook, body: str) -> str:
        return signing.sign(hook.secret, body.encode("utf-8"))

    @seam("delivery log")
    def log_delivery(self, hook: Webhook, event: str, body: str, headers: dict[str, str],
                     delivery_id: str) -> Delivery:
        """The log entry, under the id the delivery's X-AQID-Delivery-Id carries."""
        return self.store.create_delivery(hook.id, event, hook.url, body, headers, delivery_id)

    def _schedule(self, delivery_id: int, attempt: int, due: float) -> None:
        with self._cond:
            heapq.heappush(self._heap, (due, next(self._seq), delivery_id, attempt))
            self._cond.notify()

    # -- workers --------------------------------------------------------------------------
    def _next_job(self) -> tuple[int, int] | None:
        with self._cond:
            while not self._stopping:
                if self._heap and self._heap[0][0] <= time.monotonic():
                    _, _, delivery_id, attempt = heapq.heappop(self._heap)
                    self._busy += 1
                    return delivery_id, attempt
                wait = self._heap[0][0] - time.monotonic() if self._heap else 1.0
                self._cond.wait(max(0.001, min(wait, 1.0)))
        return None

    def _work(self) -> None:
        client: httpx.Client | None = None  # made on first use: an SSL context is not free
        try:
            while (job := self._next_job()) is not None:
                try:
                    if client is None:
                        import httpx

                        # trust_env=False: no proxy from the environment may route a
                        # delivery anywhere else.
                        client = httpx.Client(trust_env=False, follow_redirects=False,
                                              timeout=self.policy.client_timeout)
                    self._attempt(client, *job)
                finally:
                    with self._cond:
                        self._busy -= 1
                        self._cond.notify_all()
        finally:
            if client is not None:
                client.close()

    def _attempt(self, client: httpx.Client, delivery_id: int, attempt: int) -> None:
        delivery = self.store.get_delivery(delivery_id)
        hook = None if delivery is None else self.store.get_webhook(delivery.webhook_id, None)
        if delivery is None or hook is None:
            return  # the webhook (and with it its log) was deleted: nothing left to do
        if not self.sendable(delivery, hook):
            self.store.set_delivery_state(delivery.id, "stopped")
            return
        status, headers, body = self._send(client, delivery, attempt)
        success = status.startswith("2")
        retry = not success and attempt < self.policy.max_attempts
        state = "succeeded" if success else ("pending" if retry else "failed")
        self.store.record_attempt(delivery.id, attempts=attempt, status_code=status,
                                  response_headers=headers, response_body=body, state=state)
        if retry:
            delay = self.settings.retry_delays[attempt - 1]
            self._schedule(delivery.id, attempt + 1, time.monotonic() + delay)
        else:
            self.store.record_outcome(hook.id, success=success,
                                      disable_after=self.policy.disable_after)

    @seam("sendable")
    def sendable(self, delivery: Delivery, hook: Webhook) -> bool:
        """A disabled webhook receives nothing (its pending retries stop)."""
        return hook.is_enabled

    @seam("attempt headers")
    def attempt_headers(self, delivery: Delivery, attempt: int) -> dict[str, str]:
        """The logged headers (less those httpx sets itself) and the attempt counter."""
        headers = {name: value for name, value in delivery.request_headers.items()
                   if name not in ("Content-Length", "Host")}
        headers["X-AQID-Delivery-Attempt"] = str(attempt)
        return headers

    def _send(self, client: httpx.Client, delivery: Delivery,
              attempt: int) -> tuple[str, dict[str, str], Any]:
        """One POST: (status code as a string, response headers, response body)."""
        refused = refusal(delivery.url, self.settings.allow_hosts)
        if refused is not None:
            return "0", {}, refused
        headers = self.attempt_headers(delivery, attempt)
        import httpx

        try:
            response = client.post(delivery.url, content=delivery.body.encode("utf-8"),
                                   headers=headers)
        except httpx.TimeoutException:
            return "0", {}, f"delivery failed: no response within {self.settings.timeout} s"
        except (httpx.HTTPError, httpx.InvalidURL) as error:
            return "0", {}, f"delivery failed: {type(error).__name__}: {error}"
        return str(response.status_code), dict(response.headers), _logged_body(response)


def _netloc(url: str) -> str:
    """The Host header: host and port as written, never the user info (it may hold a
    password, and the log shows this header)."""
    try:
        return urlsplit(url).netloc.rpartition("@")[2]
    except ValueError:  # a URL the v2 rules refuse (stored only by a fault)
        return host_as_written(url)


def _logged_body(response: httpx.Response) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return response.text[:MAX_LOGGED_BODY]
