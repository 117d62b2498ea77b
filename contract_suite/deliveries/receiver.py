"""The webhook receiver: a real HTTP server on loopback that records what the target delivers.

Modelled on pytest-httpserver: one server per pytest process (bound to 127.0.0.1, port 0),
and per test fresh *endpoints*, each a distinct path `/aqid-contracts/<run_id>/<slug>` so
that cleanup-by-tag finds the webhooks pointing at them too. Each endpoint records every
request (method, path, case-insensitive headers, raw body bytes, arrival time) and answers
from a programmed sequence of statuses and delays, e.g. "500, 500, then 204" or "sleep
longer than the target's timeout". `wait()` fails by listing what DID arrive.

Every request the receiver answers (to an endpoint, to an unknown path, or refused by a
cap) is also handed to an optional `on_request(ReceivedRequest)` callback, with the status
it was answered; the receiver knows nothing of pytest or the session: the delivery
fixtures pass a callback that records it in the session's exchange log (deliveries/wiring.py).

The target must be able to reach the receiver: by default at http://127.0.0.1:<port>
(right for the embedded reference server or a target on this machine); for a remote
target pass `--receiver-url` (a tunnel or a host address the target can reach that
forwards to this port). The receiver still binds locally; only the URL given to the
target changes.

Everything is bounded: body size, recorded requests, handler socket timeouts, programmed
delays (cut short at stop), and the server thread stops at session end.
"""

from __future__ import annotations

import dataclasses
import itertools
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx

from ..core.target import TAG_PREFIX

MAX_BODY_BYTES = 1024 * 1024  # a delivery is a few hundred bytes; 1 MiB is generous
MAX_RECORDED = 10_000  # per receiver; beyond it requests are answered 503 and not kept
MAX_DELAY = 120.0  # seconds a programmed answer may sleep
_SOCKET_TIMEOUT = 30.0  # a client that stalls mid-request cannot hold a thread longer


@dataclass(frozen=True)
class Answer:
    """How an endpoint answers one request: a status after an optional delay (seconds)."""

    status: int = 204
    delay: float = 0.0

    def __post_init__(self) -> None:
        if not 100 <= self.status <= 599 or not 0 <= self.delay <= MAX_DELAY:
            raise ValueError(f"bad answer {self!r}: status 100..599, delay 0..{MAX_DELAY}s")


AnswerLike = Answer | int
Match = Callable[["ReceivedRequest"], bool]
OnRequest = Callable[["ReceivedRequest"], None]
MAX_CALLBACK_ERRORS = 5  # on_request failures kept (for the wait() report), at most


def _as_answer(value: AnswerLike) -> Answer:
    return value if isinstance(value, Answer) else Answer(status=value)


@dataclass(frozen=True)
class ReceivedRequest:
    method: str
    path: str
    headers: httpx.Headers  # case-insensitive
    body: bytes  # exactly the bytes that arrived
    arrived_at: float  # time.monotonic() when the body was read
    answered: Answer  # what the endpoint was programmed to answer
    # The URL it was sent to: the endpoint's URL as the target was given it, else (an
    # unknown path) the receiver's public address and the path that arrived.
    url: str = ""

    def header(self, name: str) -> str | None:
        return self.headers.get(name)

    def describe(self, since: float | None = None) -> str:
        """One line for failure messages: when, what, and the delivery headers."""
        offset = f"+{self.arrived_at - since:.3f}s " if since is not None else ""
        preview = self.body[:160].decode("utf-8", "replace")
        more = "…" if len(self.body) > 160 else ""
        return (
            f"{offset}{self.method} {self.path} "
            f"id={self.header('X-AQID-Delivery-Id')} "
            f"attempt={self.header('X-AQID-Delivery-Attempt')} "
            f"answered {self.answered.status} after {self.answered.delay}s; "
            f"body ({len(self.body)} B): {preview}{more}"
        )


class DeliveryWaitTimeout(AssertionError):
    """The expected deliveries did not arrive (or unexpected ones did) in the time allowed."""


@dataclass(eq=False)
class Endpoint:
    """One receiving path; a test subscribes a webhook to `url` and asserts on `requests`."""

    receiver: WebhookReceiver = field(repr=False)
    slug: str
    path: str  # local path, /aqid-contracts/<run_id>/<slug>
    url: str  # the URL the target must be given
    created_at: float = field(default_factory=time.monotonic, repr=False)
    _answers: list[Answer] = field(default_factory=list, repr=False)
    _then: Answer = field(default_factory=Answer, repr=False)
    # Which requests the programme applies to; the others are answered 204.
    _to: Match | None = field(default=None, repr=False)
    _requests: list[ReceivedRequest] = field(default_factory=list, repr=False)

    def respond_with(
        self, *answers: AnswerLike, then: AnswerLike = 204, to: Match | None = None
    ) -> Endpoint:
        """Answer the next requests in order with `answers`, every later one with `then`.

        With `to`, only the requests it matches follow this programme (e.g. one test's
        event, leaving the webhook's ping alone); the others are answered 204 at once.
        """
        with self.receiver._cond:
            self._answers = [_as_answer(a) for a in answers]
            self._then = _as_answer(then)
            self._to = to
        return self

    @property
    def requests(self) -> list[ReceivedRequest]:
        with self.receiver._cond:
            return list(self._requests)

    def matching(self, match: Match | None = None) -> list[ReceivedRequest]:
        with self.receiver._cond:
            return [r for r in self._requests if match is None or match(r)]

    def wait(
        self, count: int, timeout: float, match: Match | None = None
    ) -> list[ReceivedRequest]:
        """Block until `count` requests (that `match`) arrived, at most `timeout` s; return them.

        `match` narrows what counts, e.g. to one test's events on a `*` subscription.
        """
        __tracebackhide__ = True
        deadline = time.monotonic() + timeout
        with self.receiver._cond:
            while len(found := self.matching(match)) < count:
                left = deadline - time.monotonic()
                if left <= 0 or self.receiver._stopping.is_set():
                    raise DeliveryWaitTimeout(
                        f"expected {count} {_which(match)}request(s) at {self.url} within "
                        f"{timeout:.1f}s, {len(found)} arrived.\n{self.receiver._report(self)}"
                    )
                self.receiver._cond.wait(left)
            return found

    def assert_no_more(
        self, than: int, within: float, match: Match | None = None
    ) -> list[ReceivedRequest]:
        """Wait `within` seconds and fail if more than `than` (matching) requests arrived."""
        __tracebackhide__ = True
        deadline = time.monotonic() + within
        with self.receiver._cond:
            while len(found := self.matching(match)) <= than:
                left = deadline - time.monotonic()
                if left <= 0 or self.receiver._stopping.is_set():
                    return found
                self.receiver._cond.wait(left)
            raise DeliveryWaitTimeout(
                f"expected no more than {than} {_which(match)}request(s) at {self.url} "
                f"within {within:.1f}s, {len(found)} arrived.\n{self.receiver._report(self)}"
            )

    def assert_no_delivery(self, within: float, match: Match | None = None) -> None:
        """Negative routing check: nothing (that `match`) arrives here for `within` seconds."""
        self.assert_no_more(0, within, match)

    def _next_answer(self, request: ReceivedRequest) -> Answer:
        if self._to is not None and not self._to(request):
            return Answer()
        return self._answers.pop(0) if self._answers else self._then


class WebhookReceiver:
    """The HTTP server; `endpoint()` hands out fresh receiving paths under the run tag."""

    def __init__(
        self, run_id: str, *, public_url: str | None = None, port: int = 0,
        max_body_bytes: int = MAX_BODY_BYTES, max_recorded: int = MAX_RECORDED,
        on_request: OnRequest | None = None,
    ) -> None:
        self.run_id = run_id
        self.on_request = on_request  # told of every request answered, from handler threads
        self.callback_errors: list[str] = []  # what on_request raised (the first few)
        self._public_url = public_url.rstrip("/") if public_url else None
        self.port = port  # 0: any free port; a fixed one when a tunnel forwards to it
        self.max_body_bytes = max_body_bytes
        self.max_recorded = max_recorded
        self._cond = threading.Condition()
        self._stopping = threading.Event()
        self._endpoints: dict[str, Endpoint] = {}
        self._stray: list[ReceivedRequest] = []  # requests to no known endpoint
        self._recorded = 0
        self.dropped = 0  # requests refused because of the caps
        self._counter = itertools.count(1)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> WebhookReceiver:
        server = ThreadingHTTPServer(("127.0.0.1", self.port), _handler_for(self))
        server.daemon_threads = True  # a handler stuck in a slow client never blocks exit
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.1},
            name="aqid-webhook-receiver", daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # wakes programmed delays and waiters
        with self._cond:
            self._cond.notify_all()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> WebhookReceiver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- addresses -------------------------------------------------------------------------
    @property
    def local_url(self) -> str:
        if self._server is None:
            raise RuntimeError("the webhook receiver is not started")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def public_url(self) -> str:
        """The base URL the target is given: --receiver-url, else the local address."""
        return self._public_url or self.local_url

    def endpoint(
        self, name: str = "hook", *answers: AnswerLike, then: AnswerLike = 204
    ) -> Endpoint:
        """A fresh receiving path (never reused) whose name includes `name` for readability."""
        readable = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:40] or "hook"
        slug = f"{readable}-{next(self._counter)}-{secrets.token_hex(3)}"
        path = f"/{TAG_PREFIX}/{self.run_id}/{slug}"
        endpoint = Endpoint(self, slug, path, self.public_url + path)
        endpoint.respond_with(*answers, then=then)
        with self._cond:
            self._endpoints[slug] = endpoint
        return endpoint

    @property
    def stray(self) -> list[ReceivedRequest]:
        with self._cond:
            return list(self._stray)

    def reset(self) -> None:
        """Forget stray requests (endpoints are per test already and never reused)."""
        with self._cond:
            self._stray.clear()

    # -- recording (called from handler threads) ------------------------------------------
    def _route(self, path: str) -> Endpoint | None:
        # Match on the tagged tail so a --receiver-url with a path prefix still routes.
        marker = f"/{TAG_PREFIX}/{self.run_id}/"
        tail = path.split("?", 1)[0]
        if marker not in tail:
            return None
        slug = tail.split(marker, 1)[1].strip("/")
        return self._endpoints.get(slug)

    def _record(self, method: str, path: str, headers: httpx.Headers,
                body: bytes) -> ReceivedRequest:
        with self._cond:
            endpoint = self._route(path)
            url = endpoint.url if endpoint else self.public_url + path
            request = ReceivedRequest(method, path, headers, body, time.monotonic(), Answer(404),
                                      url)
            if self._recorded >= self.max_recorded:
                self.dropped += 1
                return dataclasses.replace(request, answered=Answer(503))
            if endpoint is not None:
                answer = endpoint._next_answer(request)
                request = dataclasses.replace(request, answered=answer)
            (endpoint._requests if endpoint else self._stray).append(request)
            self._recorded += 1
            self._cond.notify_all()
            return request

    def _refused(self, method: str, path: str, headers: httpx.Headers, status: int) -> Answer:
        """A request not kept (malformed, or over a cap): still told to `on_request`."""
        with self._cond:
            if status == 413:
                self.dropped += 1
            url = self.public_url + path
        self._tell(ReceivedRequest(method, path, headers, b"", time.monotonic(),
                                   Answer(status), url))
        return Answer(status)

    def _tell(self, request: ReceivedRequest) -> None:
        """Hand one answered request to `on_request`; its failure never stops the answer."""
        if self.on_request is None:
            return
        try:
            self.on_request(request)
        except Exception as error:  # noqa: BLE001 - said in every wait() report instead
            with self._cond:
                if len(self.callback_errors) < MAX_CALLBACK_ERRORS:
                    self.callback_errors.append(f"{type(error).__name__}: {error}")

    def _report(self, endpoint: Endpoint) -> str:
        """What DID arrive: at this endpoint, then anywhere else on this receiver."""
        lines = [f"Arrived at {endpoint.path}:"]
        lines += _listing(endpoint._requests, endpoint.created_at) or ["  (nothing)"]
        others = [r for e in self._endpoints.values() if e is not endpoint for r in e._requests]
        others = [r for r in others if r.arrived_at >= endpoint.created_at]
        if others:
            lines.append("Meanwhile at this test run's other endpoints:")
            lines += _listing(others[-10:], endpoint.created_at)
        if self._stray:
            lines.append("At unknown paths on this receiver:")
            lines += _listing(self._stray[-10:], endpoint.created_at)
        if self.dropped:
            lines.append(f"({self.dropped} request(s) refused: over the receiver's caps)")
        if self.callback_errors:
            lines.append("(recording requests failed: " + "; ".join(self.callback_errors) + ")")
        return "\n".join(lines)


def _which(match: Match | None) -> str:
    return f"[{getattr(match, 'description', 'matching')}] " if match is not None else ""


def _listing(requests: Iterable[ReceivedRequest], since: float) -> list[str]:
    return [f"  #{i} {r.describe(since)}" for i, r in enumerate(requests, 1)]


def _handler_for(receiver: WebhookReceiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        timeout = _SOCKET_TIMEOUT
        server_version = "aqid-contracts-receiver"
        # HTTP/1.1 so that a sender asking `Expect: 100-continue` (PHP curl, .NET) is told
        # to go on at once instead of stalling; every answer still closes the connection.
        protocol_version = "HTTP/1.1"

        def _handle(self) -> None:
            # Header names are case-insensitive (httpx.Headers); a value's surrounding
            # spaces and tabs are not part of it (RFC 9110 5.5), so they are dropped here.
            headers = httpx.Headers([(k, v.strip(" \t")) for k, v in self.headers.items()])
            chunked = "chunked" in (self.headers.get("Transfer-Encoding") or "").lower()
            if chunked:  # any correct sender may stream its body; keep the bytes it meant
                body = self._read_chunked()
                if body is None:
                    return self._answer(receiver._refused(self.command, self.path, headers, 413))
            else:
                try:
                    size = int(self.headers.get("Content-Length") or 0)
                except ValueError:
                    return self._answer(receiver._refused(self.command, self.path, headers, 400))
                if size < 0 or size > receiver.max_body_bytes:
                    # not read: an oversize body is not kept
                    return self._answer(receiver._refused(self.command, self.path, headers, 413))
                body = self.rfile.read(size)
            request = receiver._record(self.command, self.path, headers, body)
            receiver._tell(request)  # at arrival: the test running now is the one it is for
            if request.answered.delay:
                receiver._stopping.wait(request.answered.delay)
            self._answer(request.answered)

        def _read_chunked(self) -> bytes | None:
            """The de-chunked body, or None when it exceeds the cap (or is malformed)."""
            parts: list[bytes] = []
            total = 0
            for _ in range(100_000):  # bounded: a chunk per iteration
                line = self.rfile.readline(1024)
                try:
                    size = int(line.split(b";", 1)[0].strip(), 16)
                except ValueError:
                    return None
                if size == 0:
                    while self.rfile.readline(1024).strip():  # trailers, up to the blank line
                        pass
                    return b"".join(parts)
                total += size
                if total > receiver.max_body_bytes:
                    return None
                parts.append(self.rfile.read(size))
                self.rfile.readline(1024)  # the CRLF after the chunk
            return None

        def _answer(self, answer: Answer) -> None:
            try:
                self.send_response(answer.status)
                self.send_header("Content-Length", "0")
                self.send_header("Connection", "close")
                self.end_headers()
            except OSError:
                pass  # the target gave up (its timeout): that is the point of a slow answer
            self.close_connection = True

        do_POST = do_GET = do_PUT = do_PATCH = do_DELETE = do_HEAD = _handle

        def log_message(self, format: str, *args: object) -> None:
            pass  # the recorded requests are the log; stderr noise would hide test output

    return Handler
