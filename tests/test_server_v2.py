"""The reference server's v2 API: operations, error bodies, pagination, timestamps."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.server_helpers import AUTH_A, AUTH_B, AUTH_RO, SAFE_URL, client, create_v2

Z_STAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


def test_create_answers_201_with_a_bare_webhook(tmp_path: Path) -> None:
    with client(tmp_path) as api:
        response = api.post("/api/v2/webhooks", headers=AUTH_A,
                            json={"url": SAFE_URL, "events": ["client.*", "record.finished"]})
        assert response.status_code == 201
        hook = response.json()
        assert hook["object"] == "webhook" and hook["is_enabled"] is True
        assert hook["events"] == ["client.*", "record.finished"] and hook["url"] == SAFE_URL
        assert re.fullmatch(r"[0-9a-f]{64}", hook["secret"])
        assert re.fullmatch(r"[0-9a-f-]{36}", hook["uuid"])
        assert Z_STAMP.match(hook["created_at"]) and hook["created_at"] == hook["updated_at"]


def test_retrieve_update_delete_round_trip(tmp_path: Path) -> None:
    with client(tmp_path) as api:
        hook = create_v2(api)
        path = f"/api/v2/webhooks/{hook['id']}"
        assert api.get(path, headers=AUTH_A).json() == hook
        patched = api.patch(path, headers=AUTH_A, json={"events": ["form.sent"]})
        assert patched.status_code == 200
        assert patched.json()["events"] == ["form.sent"]
        assert patched.json()["url"] == hook["url"]  # partial: the rest stays
        assert patched.json()["is_enabled"] is True
        deleted = api.delete(path, headers=AUTH_A)
        assert deleted.status_code == 204 and deleted.content == b""
        assert api.get(path, headers=AUTH_A).json() == {"error": "Webhook not found"}


def test_is_enabled_false_at_create_is_kept(tmp_path: Path) -> None:
    with client(tmp_path) as api:
        assert create_v2(api, is_enabled=False)["is_enabled"] is False


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer nope"},
                                     {"Authorization": "Basic abc"}])
@pytest.mark.parametrize("method,path", [("GET", "/api/v2/webhooks"),
                                         ("DELETE", "/api/v2/webhooks/1"),
                                         ("GET", "/api/v2/webhooks/1/deliveries")])
def test_missing_or_invalid_token_is_401(tmp_path: Path, headers: dict[str, str], method: str,
                                         path: str) -> None:
    with client(tmp_path) as api:
        response = api.request(method, path, headers=headers)
        assert response.status_code == 401
        assert response.json() == {"error": "Unauthenticated."}


def test_read_only_token_reads_but_cannot_write(tmp_path: Path) -> None:
    with client(tmp_path) as api:
        hook = create_v2(api)
        assert api.get(f"/api/v2/webhooks/{hook['id']}", headers=AUTH_RO).status_code == 200
        for method, path, body in [("POST", "/api/v2/webhooks", {"url": SAFE_URL,
                                                                  "events": ["*"]}),
                                   ("PATCH", f"/api/v2/webhooks/{hook['id']}",
                                    {"is_enabled": False}),
                                   ("DELETE", f"/api/v2/webhooks/{hook['id']}", None)]:
            response = api.request(method, path, headers=AUTH_RO, json=body)
            assert response.status_code == 403
            assert response.json() == {"message": "This action is unauthorized."}


def test_another_teams_webhook_is_404_and_never_listed(tmp_path: Path) -> None:
    with client(tmp_path) as api:
        hook = create_v2(api)
        for method in ("GET", "PATCH", "DELETE"):
            response = api.request(method, f"/api/v2/webhooks/{hook['id']}", headers=AUTH_B,
                                   json={"is_enabled": False})
            assert response.status_code == 404
            assert response.json() == {"error": "Webhook not found"}
        assert api.get(f"/api/v2/webhooks/{hook['id']}/deliveries",
                       headers=AUTH_B).status_code == 404
        assert api.get("/api/v2/webhooks", headers=AUTH_B).json()["data"] == []
        assert api.get(f"/api/v2/webhooks/{hook['id']}", headers=AUTH_A).json()["is_enabled"]


@pytest.mark.parametrize("raw_id", ["abc", "0", "999999", "1.5", "99999999999999999999999"])
def test_unknown_or_non_numeric_id_is_the_webhook_404(tmp_path: Path, raw_id: str) -> None:
    with client(tmp_path) as api:
        response = api.get(f"/api/v2/webhooks/{raw_id}", headers=AUTH_A)
        assert response.status_code == 404
        assert response.json() == {"error": "Webhook not found"}


def test_unknown_route_and_wrong_method(tmp_path: Path) -> None:
    with client(tmp_path) as api:
        for path in ("/api/v2/nothing", "/api/v2/webhooks/", "/"):
            response = api.get(path, headers=AUTH_A)
            assert response.status_code == 404 and response.json() == {"error": "Not Found."}
        response = api.put("/api/v2/webhooks/1", headers=AUTH_A, json={})
        assert response.status_code == 405
        assert response.headers["allow"] == "DELETE, GET, HEAD, PATCH"
        assert "error" in response.json()
        assert api.delete("/api/v2/webhooks", headers=AUTH_A).headers["allow"] == "GET, HEAD, POST"


def test_body_over_64_kib_is_413(tmp_path: Path) -> None:
    with client(tmp_path) as api:
        body = '{"url": "' + "a" * 70_000 + '"}'
        response = api.post("/api/v2/webhooks", headers={**AUTH_A,
                            "Content-Type": "application/json"}, content=body)
        assert response.status_code == 413
        assert isinstance(response.json()["error"], str) and response.json()["error"]


@pytest.mark.parametrize("body,field", [
    ({"events": ["*"]}, "url"),
    ({"url": "ftp://hooks.invalid/x", "events": ["*"]}, "url"),
    ({"url": "/relative/path", "events": ["*"]}, "url"),
    ({"url": "hooks.invalid/no-scheme", "events": ["*"]}, "url"),
    ({"url": "https://", "events": ["*"]}, "url"),
    ({"url": "https:hooks.invalid/no-slashes", "events": ["*"]}, "url"),
    ({"url": "https://[::1/unclosed", "events": ["*"]}, "url"),
    ({"url": "https://hooks.invalid:99999/port", "events": ["*"]}, "url"),
    ({"url": "https://hooks.invalid/new\nline", "events": ["*"]}, "url"),
    ({"url": 5, "events": ["*"]}, "url"),
    ({"url": SAFE_URL}, "events"),
    ({"url": SAFE_URL, "events": []}, "events"),
    ({"url": SAFE_URL, "events": "client.*"}, "events"),
    ({"url": SAFE_URL, "events": ["*", "nope"]}, "events.1"),
    ({"url": SAFE_URL, "events": ["ping"]}, "events.0"),
    ({"url": SAFE_URL, "events": ["watchlist.*"]}, "events.0"),
    ({"url": SAFE_URL, "events": ["form.sent", "form.sent"]}, "events.1"),
    ({"url": SAFE_URL, "events": ["*"], "is_enabled": "yes"}, "is_enabled"),
    ({"url": SAFE_URL, "events": ["*"], "is_enabled": 1}, "is_enabled"),
])
def test_invalid_create_names_the_field(tmp_path: Path, body: dict, field: str) -> None:
    with client(tmp_path) as api:
        response = api.post("/api/v2/webhooks", headers=AUTH_A, json=body)
        assert response.status_code == 422
        errors = response.json()
        assert field in errors and errors[field] and all(isinstance(m, str) for m in errors[field])


@pytest.mark.parametrize("raw", [b"{not json", b"[1, 2]", b"\"text\"", b"\xff\xfe"])
def test_malformed_or_non_object_body_is_422(tmp_path: Path, raw: bytes) -> None:
    with client(tmp_path) as api:
        response = api.post("/api/v2/webhooks", headers=AUTH_A, content=raw)
        assert response.status_code == 422 and list(response.json()) == ["body"]


def test_unknown_and_read_only_fields_are_ignored(tmp_path: Path) -> None:
    with client(tmp_path) as api:
        hook = create_v2(api, id=5, secret="mine", object="other", colour="blue")
        assert hook["secret"] != "mine" and hook["object"] == "webhook" and "colour" not in hook
        path = f"/api/v2/webhooks/{hook['id']}"
        empty = api.patch(path, headers=AUTH_A, json={"id": 9, "uuid": "x", "created_at": "y"})
        assert empty.status_code == 422 and empty.json()["body"]
        assert api.patch(path, headers=AUTH_A, json={}).status_code == 422
        assert api.get(path, headers=AUTH_A).json() == hook


def test_patch_validates_what_it_is_given(tmp_path: Path) -> None:
    with client(tmp_path) as api:
        hook = create_v2(api)
        response = api.patch(f"/api/v2/webhooks/{hook['id']}", headers=AUTH_A,
                             json={"is_enabled": None, "url": "nope"})
        assert response.status_code == 422 and set(response.json()) == {"is_enabled", "url"}


def test_updated_at_moves_on_every_update_and_created_at_never(tmp_path: Path) -> None:
    with client(tmp_path) as api:
        hook = create_v2(api)
        path = f"/api/v2/webhooks/{hook['id']}"
        seen = [hook["updated_at"]]
        for value in (False, True, False):  # three updates inside one second
            after = api.patch(path, headers=AUTH_A, json={"is_enabled": value}).json()
            assert after["created_at"] == hook["created_at"]
            seen.append(after["updated_at"])
        assert seen == sorted(seen) and len(set(seen)) == 4


def test_pagination_walks_every_webhook_once(tmp_path: Path) -> None:
    with client(tmp_path) as api:
        ids = [create_v2(api, is_enabled=False)["id"] for _ in range(5)]
        first = api.get("/api/v2/webhooks?limit=2&colour=red", headers=AUTH_A).json()
        assert (first["total"], first["count"], first["limit"]) == (5, 2, 2)
        assert (first["current_page"], first["total_pages"]) == (1, 3)
        assert first["links"]["previous"] is None
        assert "colour=red" in first["links"]["next"] and "page=2" in first["links"]["next"]
        seen, page = [], first
        while True:
            seen += [item["id"] for item in page["data"]]
            if page["links"]["next"] is None:
                break
            page = api.get(page["links"]["next"], headers=AUTH_A).json()
        assert seen == ids
        assert page["count"] == 1 and "page=2" in page["links"]["previous"]


def test_single_page_has_null_links_and_past_the_end_is_empty(tmp_path: Path) -> None:
    with client(tmp_path) as api:
        empty = api.get("/api/v2/webhooks", headers=AUTH_A).json()
        assert (empty["total"], empty["count"], empty["total_pages"], empty["links"]) == (
            0, 0, 1, None)
        create_v2(api, is_enabled=False)
        past = api.get("/api/v2/webhooks?page=9", headers=AUTH_A)
        assert past.status_code == 200 and past.json()["data"] == []
        assert past.json()["current_page"] == 9 and past.json()["count"] == 0
        huge = api.get("/api/v2/webhooks?page=" + "9" * 40, headers=AUTH_A)
        assert huge.status_code == 200 and huge.json()["data"] == []


@pytest.mark.parametrize("query,field", [("page=0", "page"), ("page=x", "page"),
                                         ("page=1.5", "page"), ("page=", "page"),
                                         ("limit=0", "limit"), ("limit=101", "limit"),
                                         ("limit=-1", "limit"), ("enabled=yes", "enabled"),
                                         ("enabled=", "enabled"), ("enabled=1", "enabled"),
                                         ("page=+1", "page"), ("limit=05", "limit")])
def test_bad_query_values_are_422_naming_the_parameter(tmp_path: Path, query: str,
                                                       field: str) -> None:
    with client(tmp_path) as api:
        response = api.get(f"/api/v2/webhooks?{query}", headers=AUTH_A)
        assert response.status_code == 422 and list(response.json()) == [field]


def test_enabled_filter(tmp_path: Path) -> None:
    with client(tmp_path) as api:
        on = create_v2(api)["id"]
        off = create_v2(api, is_enabled=False)["id"]
        for query, expected in [("true", [on]), ("false", [off])]:  # 1/0: lenient-encodings
            data = api.get(f"/api/v2/webhooks?enabled={query}", headers=AUTH_A).json()["data"]
            assert [item["id"] for item in data] == expected


def test_deliveries_list_is_paginated(tmp_path: Path) -> None:
    with client(tmp_path) as api:
        hook = create_v2(api, is_enabled=False)
        page = api.get(f"/api/v2/webhooks/{hook['id']}/deliveries", headers=AUTH_A).json()
        assert page["object"] == "paginated_list" and page["data"] == [] and page["links"] is None
        bad = api.get(f"/api/v2/webhooks/{hook['id']}/deliveries?limit=500", headers=AUTH_A)
        assert bad.status_code == 422 and "limit" in bad.json()
