"""deliveries.receiver: recording, programmed answers, bounded waits, clear failures."""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Iterator

import httpx
import pytest

from contract_suite.deliveries.receiver import (
    Answer,
    DeliveryWaitTimeout,
    ReceivedRequest,
    WebhookReceiver,
)


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver("r1d2") as running:
        yield running


def _post(url: str, body: bytes = b'{"a": 1}', **kwargs: object) -> httpx.Response:
    headers = {"Content-Type": "application/json", "X-AQID-Delivery-Attempt": "1"}
    return httpx.post(url, content=body, headers=headers, **kwargs)  # type: ignore[arg-type]


def test_an_endpoint_url_is_loopback_and_carries_the_run_tag(receiver: WebhookReceiver) -> None:
    endpoint = receiver.endpoint("Ping on create!")
    assert endpoint.url.startswith(receiver.local_url + "/aqid-contracts/r1d2/ping-on-create-")
    assert receiver.local_url.startswith("http://127.0.0.1:")
    assert receiver.endpoint("Ping on create!").url != endpoint.url


def test_a_receiver_url_changes_only_the_address_given_to_the_target() -> None:
    with WebhookReceiver("r1d2", public_url="https://tunnel.invalid/base/") as receiver:
        endpoint = receiver.endpoint("x")
        assert endpoint.url.startswith("https://tunnel.invalid/base/aqid-contracts/r1d2/x-")
        # A tunnel that keeps its path prefix still routes to the endpoint.
        httpx.post(receiver.local_url + "/base" + endpoint.path, content=b"{}")
        assert len(endpoint.wait(1, timeout=5)) == 1


def test_a_request_is_recorded_exactly(receiver: WebhookReceiver) -> None:
    endpoint = receiver.endpoint()
    body = b'{"webhook": {"uuid": "x"},  "data": ["ping"]}'  # odd spacing must survive
    before = time.monotonic()
    assert _post(endpoint.url, body).status_code == 204
    (request,) = endpoint.wait(1, timeout=5)
    assert request.body == body
    assert request.method == "POST"
    assert request.path == endpoint.path
    assert request.header("content-type") == "application/json"
    assert request.headers["X-AQID-DELIVERY-ATTEMPT"] == "1"
    assert before <= request.arrived_at <= time.monotonic()


def test_programmed_answers_are_used_in_order_then_the_default(receiver: WebhookReceiver) -> None:
    endpoint = receiver.endpoint("retry", 500, Answer(503), then=200)
    statuses = [_post(endpoint.url).status_code for _ in range(4)]
    assert statuses == [500, 503, 200, 200]
    assert [r.answered.status for r in endpoint.requests] == statuses


def test_a_delayed_answer_makes_a_short_client_timeout(receiver: WebhookReceiver) -> None:
    endpoint = receiver.endpoint("slow", Answer(204, delay=1.0))
    with pytest.raises(httpx.ReadTimeout):
        _post(endpoint.url, timeout=0.2)
    assert len(endpoint.wait(1, timeout=5)) == 1  # recorded on arrival, before the delay


def test_wait_fails_by_listing_what_did_arrive(receiver: WebhookReceiver) -> None:
    endpoint = receiver.endpoint("mine")
    other = receiver.endpoint("other")
    _post(endpoint.url, b'{"trigger": {"alias": "ping"}}')
    _post(other.url, b'{"trigger": {"alias": "client.created"}}')
    _post(receiver.local_url + "/nowhere", b"stray")
    with pytest.raises(DeliveryWaitTimeout) as failure:
        endpoint.wait(2, timeout=0.3)
    message = str(failure.value)
    assert "expected 2 request(s)" in message and "1 arrived" in message
    assert '"alias": "ping"' in message
    assert "other endpoints" in message and "client.created" in message
    assert "unknown paths" in message and "/nowhere" in message


def test_wait_returns_as_soon_as_the_count_is_reached(receiver: WebhookReceiver) -> None:
    endpoint = receiver.endpoint()
    _post(endpoint.url)
    started = time.monotonic()
    endpoint.wait(1, timeout=30)
    assert time.monotonic() - started < 1


def test_assert_no_delivery_passes_on_silence_and_fails_on_arrival(
    receiver: WebhookReceiver,
) -> None:
    quiet, noisy = receiver.endpoint("quiet"), receiver.endpoint("noisy")
    _post(noisy.url)
    quiet.assert_no_delivery(within=0.2)
    with pytest.raises(DeliveryWaitTimeout, match="expected no more than 0"):
        noisy.assert_no_delivery(within=0.2)
    noisy.assert_no_more(than=1, within=0.1)


def test_an_oversize_body_is_refused_and_not_kept() -> None:
    with WebhookReceiver("r1d2", max_body_bytes=10) as receiver:
        endpoint = receiver.endpoint()
        assert _post(endpoint.url, b"x" * 11).status_code == 413
        assert endpoint.requests == [] and receiver.dropped == 1


def test_the_recording_cap_is_enforced() -> None:
    with WebhookReceiver("r1d2", max_recorded=2) as receiver:
        endpoint = receiver.endpoint()
        statuses = [_post(endpoint.url).status_code for _ in range(3)]
        assert statuses == [204, 204, 503]
        assert len(endpoint.requests) == 2


def test_stop_cuts_programmed_delays_short_and_frees_the_port() -> None:
    receiver = WebhookReceiver("r1d2").start()
    endpoint = receiver.endpoint("slow", Answer(204, delay=60))
    url = endpoint.url
    with contextlib.suppress(httpx.ReadTimeout):
        _post(url, timeout=0.2)
    started = time.monotonic()
    receiver.stop()
    assert time.monotonic() - started < 5
    with pytest.raises(httpx.ConnectError):
        _post(url, timeout=1)


def test_bad_answers_are_refused() -> None:
    with pytest.raises(ValueError, match="status 100..599"):
        Answer(status=42)
    with pytest.raises(ValueError, match="delay"):
        Answer(delay=-1)


def test_a_programme_can_apply_to_some_requests_only(receiver: WebhookReceiver) -> None:
    endpoint = receiver.endpoint("partial")
    endpoint.respond_with(500, then=503, to=lambda r: b"mine" in r.body)
    statuses = [_post(endpoint.url, body).status_code
                for body in (b"ping", b"mine", b"ping", b"mine")]
    assert statuses == [204, 500, 204, 503]
    assert len(endpoint.wait(2, timeout=1, match=lambda r: b"mine" in r.body)) == 2


def _raw(receiver: WebhookReceiver, request: bytes, *, pause_after_headers: float = 0.0) -> bytes:
    """Send raw HTTP bytes (what httpx will not send) and return the raw answer."""
    head, _, body = request.partition(b"\r\n\r\n")
    port = int(receiver.local_url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
        conn.sendall(head + b"\r\n\r\n")
        answer = b""
        if pause_after_headers:
            conn.settimeout(pause_after_headers)
            with contextlib.suppress(TimeoutError):
                answer = conn.recv(1024)  # an interim "100 Continue", if the receiver sends one
            conn.settimeout(5)
        conn.sendall(body)
        while chunk := conn.recv(4096):
            answer += chunk
    return answer


def test_a_chunked_body_is_recorded_as_the_bytes_the_sender_meant(
    receiver: WebhookReceiver,
) -> None:
    endpoint = receiver.endpoint("chunked")
    body = b'{"trigger": {"alias": "ping"}}'
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in (body[:7], body[7:]))
    answer = _raw(receiver, b"POST " + endpoint.path.encode() + b" HTTP/1.1\r\nHost: x\r\n"
                  b"Transfer-Encoding: chunked\r\n\r\n" + chunks + b"0\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 204"), answer
    (request,) = endpoint.wait(1, timeout=5)
    assert request.body == body


def test_a_sender_expecting_100_continue_is_told_to_go_on(receiver: WebhookReceiver) -> None:
    endpoint = receiver.endpoint("expect")
    answer = _raw(receiver, b"POST " + endpoint.path.encode() + b" HTTP/1.1\r\nHost: x\r\n"
                  b"Content-Length: 2\r\nExpect: 100-continue\r\n\r\n{}",
                  pause_after_headers=2.0)
    assert answer.startswith(b"HTTP/1.1 100"), answer
    assert b"204" in answer
    assert endpoint.wait(1, timeout=5)[0].body == b"{}"


def test_header_names_match_in_any_case_and_values_lose_surrounding_spaces(
    receiver: WebhookReceiver,
) -> None:
    endpoint = receiver.endpoint("spaces")
    _raw(receiver, b"POST " + endpoint.path.encode() + b" HTTP/1.1\r\nHost: x\r\n"
         b"x-aqid-SIGNATURE:   abc=  \t\r\nContent-Length: 0\r\n\r\n")
    (request,) = endpoint.wait(1, timeout=5)
    assert request.header("X-AQID-Signature") == "abc="


def test_every_request_the_receiver_answers_is_told_to_on_request_with_its_answer() -> None:
    told: list[ReceivedRequest] = []
    with WebhookReceiver("r1d2", max_body_bytes=10, on_request=told.append) as receiver:
        endpoint = receiver.endpoint("told", 500)
        statuses = [_post(endpoint.url, b"{}").status_code,  # programmed 500, then 204
                    _post(endpoint.url, b"{}").status_code,
                    _post(receiver.local_url + "/nowhere", b"{}").status_code,
                    _post(endpoint.url, b"x" * 11).status_code]  # over the body cap
    assert statuses == [500, 204, 404, 413]
    # Told before the answer went out: each is here as soon as its sender has the status.
    assert [(r.method, r.url, r.answered.status) for r in told] == [
        ("POST", endpoint.url, 500), ("POST", endpoint.url, 204),
        ("POST", receiver.local_url + "/nowhere", 404), ("POST", endpoint.url, 413)]
    assert [r.body for r in told] == [b"{}", b"{}", b"{}", b""]  # an oversize body is not read
    assert told[0].header("X-AQID-Delivery-Attempt") == "1"


def test_a_failing_on_request_callback_never_stops_an_answer_and_is_reported() -> None:
    def broken(request: ReceivedRequest) -> None:
        raise RuntimeError("observer broke")

    with WebhookReceiver("r1d2", on_request=broken) as receiver:
        endpoint = receiver.endpoint("broken-observer")
        assert _post(endpoint.url).status_code == 204
        assert len(endpoint.wait(1, timeout=5)) == 1
        with pytest.raises(DeliveryWaitTimeout, match="recording requests failed: "
                                                      "RuntimeError: observer broke"):
            endpoint.wait(2, timeout=0.1)
