"""The reference server's v1 API, and v1 and v2 as two views of one resource."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.server_helpers import (
    AUTH_A,
    AUTH_B,
    AUTH_RO,
    SAFE_URL,
    client,
    create_v2,
    wait_idle,
)

OFFSET_STAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+00:00$")


def create_v1(api, events: str = "client.*,record.finished", active: bool = False) -> dict:
    response = api.post("/api/webhooks", headers=AUTH_A,
                        json={"url": SAFE_URL, "events": events, "active": active})
    assert response.status_code == 201, response.text
    return response.json()


def test_v1_create_shape(tmp_path: Path) -> None:
    with client(tmp_path) as api:
        hook = create_v1(api)
        assert set(hook) == {"id", "url", "events", "active", "secret", "created_at",
                             "updated_at"}
        assert hook["events"] == "client.*,record.finished" and hook["active"] is False
        assert OFFSET_STAMP.match(hook["created_at"]) and OFFSET_STAMP.match(hook["updated_at"])


@pytest.mark.parametrize("body,field", [
    ({"events": "*", "active": True}, "url"),
    ({"url": SAFE_URL, "active": True}, "events"),
    ({"url": SAFE_URL, "events": "*"}, "active"),
    ({"url": SAFE_URL, "events": ["*"], "active": True}, "events"),
    ({"url": SAFE_URL, "events": "client.*, record.*", "active": True}, "events"),
    ({"url": SAFE_URL, "events": "*,*", "active": True}, "events"),
    ({"url": SAFE_URL, "events": "ping", "active": True}, "events"),
    ({"url": SAFE_URL, "events": "", "active": True}, "events"),
    ({"url": SAFE_URL, "events": "*", "active": "true"}, "active"),
])
def test_v1_invalid_bodies_name_the_field(tmp_path: Path, body: dict, field: str) -> None:
    with client(tmp_path) as api:
        create_v1(api)
        for method, path in (("POST", "/api/webhooks"), ("PUT", "/api/webhooks/1")):
            response = api.request(method, path, headers=AUTH_A, json=body)
            assert response.status_code == 422, (method, response.text)
            assert response.json()[field]


def test_v1_put_is_a_full_replacement(tmp_path: Path) -> None:
    with client(tmp_path) as api:
        hook = create_v1(api)
        partial = api.put(f"/api/webhooks/{hook['id']}", headers=AUTH_A, json={"active": True})
        assert partial.status_code == 422 and {"url", "events"} <= set(partial.json())
        replaced = api.put(f"/api/webhooks/{hook['id']}", headers=AUTH_A,
                           json={"url": "https://hooks.invalid/new", "events": "form.*",
                                 "active": False})
        assert replaced.status_code == 200
        body = replaced.json()
        assert (body["url"], body["events"], body["active"]) == (
            "https://hooks.invalid/new", "form.*", False)
        assert body["created_at"] == hook["created_at"] and body["updated_at"] > hook["updated_at"]


def test_v1_delete_answers_200_with_the_deleted_webhook(tmp_path: Path) -> None:
    with client(tmp_path) as api:
        hook = create_v1(api)
        response = api.delete(f"/api/webhooks/{hook['id']}", headers=AUTH_A)
        assert response.status_code == 200 and response.json() == hook
        again = api.delete(f"/api/webhooks/{hook['id']}", headers=AUTH_A)
        assert again.status_code == 404 and again.json() == {"error": "Webhook not found"}


def test_v1_errors_match_v2(tmp_path: Path) -> None:
    with client(tmp_path) as api:
        hook = create_v1(api)
        assert api.get("/api/webhooks").json() == {"error": "Unauthenticated."}
        assert api.delete(f"/api/webhooks/{hook['id']}", headers=AUTH_RO).status_code == 403
        assert api.delete(f"/api/webhooks/{hook['id']}", headers=AUTH_B).status_code == 404
        wrong = api.get(f"/api/webhooks/{hook['id']}", headers=AUTH_A)
        assert wrong.status_code == 405 and wrong.headers["allow"] == "DELETE, PUT"
        assert api.get("/api/webhook", headers=AUTH_A).json() == {"error": "Not Found."}


def test_v1_list_pagination(tmp_path: Path) -> None:
    with client(tmp_path) as api:
        single = api.get("/api/webhooks", headers=AUTH_A).json()
        assert single == {"data": [], "meta": {"pagination": {
            "total": 0, "count": 0, "per_page": 25, "current_page": 1, "total_pages": 1,
            "links": []}}}
        ids = [create_v1(api)["id"] for _ in range(3)]
        first = api.get("/api/webhooks?per_page=2", headers=AUTH_A).json()
        meta = first["meta"]["pagination"]
        assert [h["id"] for h in first["data"]] == ids[:2]
        assert (meta["total"], meta["count"], meta["per_page"], meta["total_pages"]) == (3, 2, 2, 2)
        assert set(meta["links"]) == {"next"} and "page=2" in meta["links"]["next"]
        last = api.get(meta["links"]["next"], headers=AUTH_A).json()["meta"]["pagination"]
        assert set(last["links"]) == {"previous"}
        assert api.get("/api/webhooks?per_page=101", headers=AUTH_A).json()["per_page"]


def test_v1_deliveries_shape(tmp_path: Path) -> None:
    with client(tmp_path) as api:
        hook = create_v1(api, active=True)  # pings a host the guard refuses
        wait_idle(api)
        page = api.get(f"/api/webhooks/{hook['id']}/deliveries", headers=AUTH_A).json()
        entry = page["data"][0]
        assert entry["status"] == "0" and entry["failed"] is True and entry["attempts"] == 3
        assert entry["request"]["headers"]["Request URL"] == SAFE_URL
        assert entry["request"]["headers"]["Request method"] == "POST"
        assert entry["request"]["body"]["trigger"]["alias"] == "ping"
        assert entry["response"] == {"headers": {}, "body": entry["response"]["body"]}
        assert "not in the allowed hosts" in entry["response"]["body"]
        assert OFFSET_STAMP.match(entry["last_delivered_at"])
        assert page["meta"]["pagination"]["links"] == []


# -- one resource, two views ------------------------------------------------------------
def test_v1_create_is_seen_by_v2_with_the_same_values(tmp_path: Path) -> None:
    with client(tmp_path) as api:
        v1 = create_v1(api)
        v2 = api.get(f"/api/v2/webhooks/{v1['id']}", headers=AUTH_A).json()
        assert (v2["url"], v2["secret"], v2["is_enabled"]) == (v1["url"], v1["secret"],
                                                                v1["active"])
        assert v2["events"] == v1["events"].split(",")
        assert v2["created_at"].replace("Z", "+00:00") == v1["created_at"]
        assert v2["updated_at"].replace("Z", "+00:00") == v1["updated_at"]


def test_v2_create_and_update_are_seen_by_v1(tmp_path: Path) -> None:
    with client(tmp_path) as api:
        v2 = create_v2(api, events=["case.*", "watchlist.updated"], is_enabled=False)
        listed = api.get("/api/webhooks", headers=AUTH_A).json()["data"]
        assert listed[0]["events"] == "case.*,watchlist.updated"
        api.patch(f"/api/v2/webhooks/{v2['id']}", headers=AUTH_A, json={"events": ["form.*"]})
        assert api.get("/api/webhooks", headers=AUTH_A).json()["data"][0]["events"] == "form.*"
        api.put(f"/api/webhooks/{v2['id']}", headers=AUTH_A,
                json={"url": SAFE_URL + "/v1", "events": "record.*", "active": False})
        after = api.get(f"/api/v2/webhooks/{v2['id']}", headers=AUTH_A).json()
        assert (after["url"], after["events"]) == (SAFE_URL + "/v1", ["record.*"])


@pytest.mark.parametrize("delete_with", ["v1", "v2"])
def test_delete_in_one_version_is_gone_from_both(tmp_path: Path, delete_with: str) -> None:
    with client(tmp_path) as api:
        hook = create_v2(api, is_enabled=False)
        prefix = "/api" if delete_with == "v1" else "/api/v2"
        assert api.delete(f"{prefix}/webhooks/{hook['id']}", headers=AUTH_A).status_code in (
            200, 204)
        assert api.get(f"/api/v2/webhooks/{hook['id']}", headers=AUTH_A).status_code == 404
        assert api.get("/api/webhooks", headers=AUTH_A).json()["data"] == []
        assert api.get(f"/api/webhooks/{hook['id']}/deliveries",
                       headers=AUTH_A).status_code == 404
