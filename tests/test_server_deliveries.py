"""Deliveries: signing, pings, retries, the failure tally, the egress guard, the sandbox."""

from __future__ import annotations

import base64
import json
import socket
from pathlib import Path
from typing import Any

import pytest

from reference_server.signing import sign, verify
from tests.server_helpers import (
    AUTH_A,
    AUTH_B,
    AUTH_RO,
    Received,
    client,
    create_v2,
    receiver,
    wait_idle,
)

VECTOR_SECRET = "58585568aa4dc44c733bc244495fc1f2de3c2d2f56287c265274ab806f74bb34"
VECTOR_BODY = (
    '{"webhook":{"uuid":"db6a2d91-b67e-4f88-b71a-b73da98c5168","created_at":"2023-02-11T13:01:34Z"'
    ',"events":["*"]},"trigger":{"triggered_at":"2023-06-28T16:15:27Z","alias":"client.created"},'
    '"data":{"client":{"id":472346,"show":"https://id.amiqus.co/api/v2/clients/472346"}}}'
)
VECTOR_SIGNATURE = "imGPM2wBjxofxhMW2cSB5tcc76i5E6jpCRJLmbLqNEU="


def test_signature_test_vector() -> None:
    assert sign(VECTOR_SECRET, VECTOR_BODY.encode()) == VECTOR_SIGNATURE
    assert verify(VECTOR_SECRET, VECTOR_BODY.encode(), VECTOR_SIGNATURE)
    assert not verify(VECTOR_SECRET, VECTOR_BODY.encode() + b" ", VECTOR_SIGNATURE)


def assert_signed_by(request: Received, secret: str) -> None:
    assert verify(secret, request.body, request.headers["X-AQID-Signature"])


def deliveries(api: Any, hook_id: int) -> list[dict[str, Any]]:
    return api.get(f"/api/v2/webhooks/{hook_id}/deliveries", headers=AUTH_A).json()["data"]


def test_ping_on_create_is_signed_and_logged(tmp_path: Path) -> None:
    with receiver() as sink, client(tmp_path) as api:
        hook = create_v2(api, url=sink.url(), events=["record.*"])
        [ping] = sink.wait(1)
        assert_signed_by(ping, hook["secret"])
        assert ping.headers["Content-Type"] == "application/json"
        assert ping.headers["User-Agent"].startswith("Amiqus AmiqusID/")
        assert ping.headers["X-AQID-Delivery-Attempt"] == "1"
        assert ping.json["data"] == ["ping"] and ping.json["trigger"]["alias"] == "ping"
        assert ping.json["webhook"] == {"uuid": hook["uuid"], "created_at": hook["created_at"],
                                        "events": ["record.*"]}
        assert len(base64.b64decode(ping.headers["X-AQID-Signature"])) == 32
        wait_idle(api)
        [entry] = deliveries(api, hook["id"])
        assert entry["uuid"] == ping.headers["X-AQID-Delivery-Id"]
        assert (entry["event"], entry["attempts"]) == ("ping", 1)
        assert entry["response"]["status_code"] == "204"
        assert entry["request"]["headers"]["X-AQID-Signature"] == ping.headers["X-AQID-Signature"]
        assert entry["request"]["headers"]["Content-Length"] == str(len(ping.body))
        assert entry["request"]["body"]["data"] == ["ping"]


def test_disabled_create_sends_no_ping_and_re_enable_does(tmp_path: Path) -> None:
    with receiver() as sink, client(tmp_path) as api:
        hook = create_v2(api, url=sink.url(), is_enabled=False)
        wait_idle(api)
        assert sink.requests == []
        path = f"/api/v2/webhooks/{hook['id']}"
        api.patch(path, headers=AUTH_A, json={"is_enabled": True})
        api.patch(path, headers=AUTH_A, json={"is_enabled": True})  # already on: no ping
        wait_idle(api)
        [ping] = sink.wait(1)
        assert ping.json["trigger"]["alias"] == "ping"
        assert_signed_by(ping, hook["secret"])


def test_failed_delivery_runs_the_whole_retry_schedule(tmp_path: Path) -> None:
    with receiver(status=500) as sink, client(tmp_path, retry_delays=(0.01,) * 4) as api:
        hook = create_v2(api, url=sink.url())
        attempts = sink.wait(5)
        wait_idle(api)
        assert [r.headers["X-AQID-Delivery-Attempt"] for r in attempts] == ["1", "2", "3", "4",
                                                                            "5"]
        for name in ("X-AQID-Delivery-Id", "X-AQID-Signature"):
            assert len({r.headers[name] for r in attempts}) == 1
        assert len({r.body for r in attempts}) == 1
        [entry] = deliveries(api, hook["id"])
        assert (entry["attempts"], entry["response"]["status_code"]) == (5, "500")
        v1 = api.get(f"/api/webhooks/{hook['id']}/deliveries", headers=AUTH_A).json()["data"][0]
        assert v1["failed"] is True and v1["status"] == "500"
        assert len(sink.requests) == 5


def test_retries_stop_when_the_webhook_is_disabled(tmp_path: Path) -> None:
    with receiver(status=500) as sink, client(tmp_path, retry_delays=(0.3, 0.3)) as api:
        hook = create_v2(api, url=sink.url())
        sink.wait(1)
        api.patch(f"/api/v2/webhooks/{hook['id']}", headers=AUTH_A, json={"is_enabled": False})
        wait_idle(api)
        assert len(sink.requests) == 1
        assert deliveries(api, hook["id"])[0]["attempts"] == 1


def test_failure_tally_disables_and_success_resets_it(tmp_path: Path) -> None:
    with receiver(status=500) as sink, client(tmp_path, retry_delays=(),
                                              disable_after=2) as api:
        hook = create_v2(api, url=sink.url())  # the ping fails: tally 1
        wait_idle(api)
        sink.status = 204
        api.post("/_sandbox/events", headers=AUTH_A, json={"event": "form.sent"})  # resets
        wait_idle(api)
        sink.status = 500
        api.post("/_sandbox/events", headers=AUTH_A, json={"event": "form.sent"})  # tally 1
        wait_idle(api)
        path = f"/api/v2/webhooks/{hook['id']}"
        assert api.get(path, headers=AUTH_A).json()["is_enabled"] is True
        api.post("/_sandbox/events", headers=AUTH_A, json={"event": "form.sent"})  # tally 2
        wait_idle(api)
        disabled = api.get(path, headers=AUTH_A).json()
        assert disabled["is_enabled"] is False and disabled["updated_at"] > hook["updated_at"]
        assert api.post("/_sandbox/events", headers=AUTH_A,
                        json={"event": "form.sent"}).json() == {"deliveries": 0}
        sink.status = 204
        api.patch(path, headers=AUTH_A, json={"is_enabled": True})  # resets the tally, pings
        wait_idle(api)
        assert sink.requests[-1].json["trigger"]["alias"] == "ping"
        sink.status = 500
        api.post("/_sandbox/events", headers=AUTH_A, json={"event": "form.sent"})
        wait_idle(api)
        assert api.get(path, headers=AUTH_A).json()["is_enabled"] is True


def test_no_answer_within_the_timeout_is_a_failed_attempt(tmp_path: Path) -> None:
    with receiver(delay=0.6) as sink, client(tmp_path, retry_delays=(), timeout=0.2) as api:
        hook = create_v2(api, url=sink.url())
        wait_idle(api)
        [entry] = deliveries(api, hook["id"])
        assert entry["response"]["status_code"] == "0" and entry["response"]["headers"] == {}
        assert "no response within" in entry["response"]["body"]


@pytest.mark.parametrize("url", ["http://hooks.invalid/in", "https://203.0.113.5:8443/in"])
def test_egress_guard_never_connects_to_other_hosts(tmp_path: Path, url: str,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    contacted: list[object] = []
    real_getaddrinfo, real_connect = socket.getaddrinfo, socket.socket.connect

    def spy_getaddrinfo(host: object, *args: Any, **kwargs: Any) -> Any:
        contacted.append(host)
        return real_getaddrinfo(host, *args, **kwargs)

    def spy_connect(self: socket.socket, address: Any) -> Any:
        contacted.append(address)
        return real_connect(self, address)

    monkeypatch.setattr(socket, "getaddrinfo", spy_getaddrinfo)
    monkeypatch.setattr(socket.socket, "connect", spy_connect)
    with client(tmp_path, retry_delays=(0.01, 0.01)) as api:
        hook = create_v2(api, url=url)
        wait_idle(api)
        [entry] = deliveries(api, hook["id"])
    host = url.split("/")[2].split(":")[0]
    assert not [c for c in contacted if host in str(c)], contacted
    assert entry["attempts"] == 3  # the schedule still runs, without the network
    assert entry["response"]["status_code"] == "0" and entry["response"]["headers"] == {}
    assert entry["response"]["body"] == (f"delivery not sent: host '{host}' is not in the"
                                         " allowed hosts (127.0.0.1, ::1, localhost)")


def test_sandbox_settings_and_its_absence(tmp_path: Path) -> None:
    with client(tmp_path, retry_delays=(0.01, 2), timeout=0.5, disable_after=3) as api:
        assert api.get("/_sandbox", headers=AUTH_A).json() == {
            "retry_delays": [0.01, 2], "timeout": 0.5, "disable_after": 3}
        assert api.get("/_sandbox").status_code == 401
    with client(tmp_path, sandbox=False) as api:
        response = api.get("/_sandbox", headers=AUTH_A)
        assert response.status_code == 404 and response.json() == {"error": "Not Found."}
        assert api.post("/_sandbox/events", headers=AUTH_A,
                        json={"event": "form.sent"}).status_code == 404


@pytest.mark.parametrize("event", ["ping", "client.*", "*", "nope", None, 5])
def test_sandbox_refuses_anything_but_a_concrete_event(tmp_path: Path, event: object) -> None:
    with client(tmp_path) as api:
        response = api.post("/_sandbox/events", headers=AUTH_A, json={"event": event})
        assert response.status_code == 422 and response.json()["event"]


def test_sandbox_fans_out_to_matching_enabled_webhooks_of_the_team(tmp_path: Path) -> None:
    with receiver() as sink, client(tmp_path) as api:
        def hook(name: str, events: list[str], headers: dict[str, str] = AUTH_A,
                 enabled: bool = True) -> dict[str, Any]:
            return create_v2(api, url=sink.url(f"/{name}"), events=events, headers=headers,
                             is_enabled=enabled)

        hook("all", ["*"])
        hook("category", ["client.*", "client.created"])
        hook("concrete", ["client.created"])
        hook("other-category", ["record.*"])
        hook("other-event", ["client.updated"])
        hook("disabled", ["*"], enabled=False)
        deleted = hook("deleted", ["*"])
        api.delete(f"/api/v2/webhooks/{deleted['id']}", headers=AUTH_A)
        hook("other-team", ["*"], headers=AUTH_B)
        wait_idle(api)
        data = {"client": {"id": 7, "show": "https://id.amiqus.co/api/v2/clients/7"}}
        response = api.post("/_sandbox/events", headers=AUTH_RO,
                            json={"event": "client.created", "data": data})
        assert response.status_code == 202 and response.json() == {"deliveries": 3}
        wait_idle(api)
        events = [r for r in sink.requests if r.json["trigger"]["alias"] == "client.created"]
        assert sorted(r.path for r in events) == ["/all", "/category", "/concrete"]
        assert all(r.json["data"] == data for r in events)
        made_up = api.post("/_sandbox/events", headers=AUTH_A, json={"event": "record.created"})
        assert made_up.json() == {"deliveries": 2}
        wait_idle(api)
        record = [r for r in sink.requests if r.json["trigger"]["alias"] == "record.created"]
        assert set(record[0].json["data"]) == {"record"}
        assert json.dumps(record[0].json["data"]).count("show") == 1


def test_a_full_backlog_logs_the_delivery_as_failed_at_once(tmp_path: Path) -> None:
    with client(tmp_path, delivery_backlog=0) as api:
        hook = create_v2(api)
        [entry] = deliveries(api, hook["id"])
        assert (entry["attempts"], entry["response"]["status_code"]) == (0, "0")
        assert "backlog is full" in entry["response"]["body"]


def test_pending_retries_resume_after_a_restart(tmp_path: Path) -> None:
    with receiver(status=500) as sink:
        with client(tmp_path, retry_delays=(3600,)) as api:  # the retry is an hour away
            hook = create_v2(api, url=sink.url())
            sink.wait(1)
        sink.status = 204
        with client(tmp_path, retry_delays=(3600,)) as api:  # restarted: resumes it now
            second = sink.wait(2)[1]
            assert second.headers["X-AQID-Delivery-Attempt"] == "2"
            wait_idle(api)
            [entry] = deliveries(api, hook["id"])
            assert (entry["attempts"], entry["response"]["status_code"]) == (2, "204")


def test_nan_in_a_body_is_not_json(tmp_path: Path) -> None:
    with client(tmp_path) as api:
        response = api.post("/_sandbox/events", headers=AUTH_A,
                            content=b'{"event": "form.sent", "data": NaN}')
        assert response.status_code == 422 and response.json()["body"]
        deep = b"[" * 5000 + b"]" * 5000
        assert api.post("/api/v2/webhooks", headers=AUTH_A, content=deep).status_code == 422
