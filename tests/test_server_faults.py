"""Each named fault changes the behaviour it names; each variant stays within the contract."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from reference_server.config import Settings
from reference_server.faults import AREAS, FAULTS, OPERATIONS, VARIANTS
from reference_server.signing import sign, verify
from tests import test_server_room
from tests.server_helpers import (
    AUTH_A,
    AUTH_B,
    AUTH_RO,
    SAFE_URL,
    Receiver,
    client,
    create_v2,
    receiver,
    wait_idle,
)


def test_settings_refuse_unknown_names_and_typos_in_hooks(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown fault"):
        Settings(faults=frozenset({"nope"}))
    with pytest.raises(KeyError):
        Settings().has_fault("not-catalogued")


def test_every_catalogue_entry_has_a_test_below() -> None:
    # The Room's variants are tested in tests/test_server_room.py.
    tested = {name for name in [*globals(), *vars(test_server_room)] if name.startswith("test_")}
    for name in [*FAULTS, *VARIANTS]:
        assert f"test_{name.replace('-', '_')}" in tested, name


def test_the_catalogue_spreads_over_every_area_and_operation() -> None:
    assert len(FAULTS) >= 36
    for fault in FAULTS.values():
        assert fault.area in AREAS and set(fault.operations) <= set(OPERATIONS), fault
        assert fault.description and "\n" not in fault.description, fault
    assert {fault.area for fault in FAULTS.values()} == set(AREAS)
    assert {op for fault in FAULTS.values() for op in fault.operations} == set(OPERATIONS)
    assert sum(fault.area == "deliveries" for fault in FAULTS.values()) >= 8
    guarded = ("auth", "team isolation", "cross-version")
    assert sum(fault.area in guarded for fault in FAULTS.values()) >= 6


def _hook(api: Any, **extra: Any) -> dict[str, Any]:
    response = api.post("/api/v2/webhooks", headers=AUTH_A,
                        json={"url": SAFE_URL, "events": ["*"], "is_enabled": False, **extra})
    assert response.status_code in (200, 201)
    return response.json()


def contrast(tmp_path: Path, fault: str, probe: Callable[[Any], Any],
             **overrides: Any) -> tuple[Any, Any]:
    """`probe(api)` on a clean server, then on one with `fault` on: (clean, faulty), which
    must differ. Each server gets its own database."""
    results = []
    for label, faults in (("clean", set()), ("faulty", {fault})):
        (tmp_path / label).mkdir()
        with client(tmp_path / label, faults=faults, **overrides) as api:
            results.append(probe(api))
    clean, faulty = results
    assert clean != faulty, f"{fault} changed nothing the probe sees: {clean!r}"
    return clean, faulty


def _ids(api: Any, path: str, size_param: str, pages: int) -> list[int]:
    """Ids seen walking pages 1..pages of a list, two items a page."""
    seen: list[int] = []
    for page in range(1, pages + 1):
        seen += [item["id"] for item in
                 api.get(f"{path}?{size_param}=2&page={page}", headers=AUTH_A).json()["data"]]
    return seen


def _hooks(api: Any, count: int) -> list[int]:
    return [_hook(api)["id"] for _ in range(count)]


# -- faults -------------------------------------------------------------------------------
def test_v2_create_returns_200(tmp_path: Path) -> None:
    with client(tmp_path, faults={"v2-create-returns-200"}) as api:
        response = api.post("/api/v2/webhooks", headers=AUTH_A,
                            json={"url": SAFE_URL, "events": ["*"]})
        assert response.status_code == 200 and response.json()["object"] == "webhook"


def test_v2_delete_returns_200_with_body(tmp_path: Path) -> None:
    with client(tmp_path, faults={"v2-delete-returns-200-with-body"}) as api:
        hook = _hook(api)
        response = api.delete(f"/api/v2/webhooks/{hook['id']}", headers=AUTH_A)
        assert response.status_code == 200 and response.json()["id"] == hook["id"]


def test_v2_missing_object_tag(tmp_path: Path) -> None:
    with client(tmp_path, faults={"v2-missing-object-tag"}) as api:
        hook = _hook(api)
        assert "object" not in hook and "id" in hook


def test_v1_events_as_array(tmp_path: Path) -> None:
    with client(tmp_path, faults={"v1-events-as-array"}) as api:
        _hook(api, events=["form.*", "record.created"])
        listed = api.get("/api/webhooks", headers=AUTH_A).json()["data"][0]
        assert listed["events"] == ["form.*", "record.created"]


def test_v2_links_not_null_on_single_page(tmp_path: Path) -> None:
    with client(tmp_path, faults={"v2-links-not-null-on-single-page"}) as api:
        page = api.get("/api/v2/webhooks", headers=AUTH_A).json()
        assert page["total_pages"] == 1 and page["links"] == {"next": None, "previous": None}


def test_v2_count_is_total(tmp_path: Path) -> None:
    with client(tmp_path, faults={"v2-count-is-total"}) as api:
        for _ in range(3):
            _hook(api)
        page = api.get("/api/v2/webhooks?limit=2", headers=AUTH_A).json()
        assert len(page["data"]) == 2 and page["count"] == 3


def test_enabled_filter_ignored(tmp_path: Path) -> None:
    with client(tmp_path, faults={"enabled-filter-ignored"}) as api:
        _hook(api)
        page = api.get("/api/v2/webhooks?enabled=true", headers=AUTH_A).json()
        assert [item["is_enabled"] for item in page["data"]] == [False]


def test_patch_replaces_whole(tmp_path: Path) -> None:
    with client(tmp_path, faults={"patch-replaces-whole"}) as api:
        hook = _hook(api, events=["form.sent"])
        after = api.patch(f"/api/v2/webhooks/{hook['id']}", headers=AUTH_A,
                          json={"url": SAFE_URL + "/2"}).json()
        assert (after["events"], after["is_enabled"]) == (["*"], True)


def test_update_not_stored(tmp_path: Path) -> None:
    with client(tmp_path, faults={"update-not-stored"}) as api:
        hook = _hook(api)
        path = f"/api/v2/webhooks/{hook['id']}"
        answered = api.patch(path, headers=AUTH_A, json={"events": ["form.sent"]}).json()
        assert answered["events"] == ["form.sent"]
        assert api.get(path, headers=AUTH_A).json()["events"] == ["*"]


def test_other_team_visible(tmp_path: Path) -> None:
    with client(tmp_path, faults={"other-team-visible"}) as api:
        hook = _hook(api)
        response = api.get(f"/api/v2/webhooks/{hook['id']}", headers=AUTH_B)
        assert response.status_code == 200 and response.json()["secret"] == hook["secret"]


def test_signature_hex(tmp_path: Path) -> None:
    with receiver() as sink, client(tmp_path, faults={"signature-hex"}) as api:
        create_v2(api, url=sink.url())
        [ping] = sink.wait(1)
        assert re.fullmatch(r"[0-9a-f]{64}", ping.headers["X-AQID-Signature"])


def test_no_retries(tmp_path: Path) -> None:
    with receiver(status=500) as sink, client(tmp_path, faults={"no-retries"},
                                              retry_delays=(0.01, 0.01)) as api:
        hook = create_v2(api, url=sink.url())
        wait_idle(api)
        assert len(sink.requests) == 1
        log = api.get(f"/api/v2/webhooks/{hook['id']}/deliveries", headers=AUTH_A).json()
        assert log["data"][0]["attempts"] == 1


# -- status codes, shapes, timestamps -----------------------------------------------------
def test_v1_delete_returns_204(tmp_path: Path) -> None:
    def probe(api: Any) -> tuple[int, str]:
        response = api.delete(f"/api/webhooks/{_hook(api)['id']}", headers=AUTH_A)
        return response.status_code, response.text[:6]

    assert contrast(tmp_path, "v1-delete-returns-204", probe) == ((200, '{"id":'), (204, ""))


def test_v1_active_missing(tmp_path: Path) -> None:
    def probe(api: Any) -> bool:
        _hook(api)
        return "active" in api.get("/api/webhooks", headers=AUTH_A).json()["data"][0]

    assert contrast(tmp_path, "v1-active-missing", probe) == (True, False)


def test_v2_uuid_not_uuid(tmp_path: Path) -> None:
    def probe(api: Any) -> str:
        return re.sub(r"[0-9a-f]", "h", _hook(api)["uuid"])

    clean, faulty = contrast(tmp_path, "v2-uuid-not-uuid", probe)
    assert (clean, faulty) == ("hhhhhhhh-hhhh-hhhh-hhhh-hhhhhhhhhhhh", "wh_hhhhhhhhhhhh")


def test_v2_secret_missing_on_read(tmp_path: Path) -> None:
    def probe(api: Any) -> tuple[bool, bool]:
        hook = _hook(api)
        read = api.get(f"/api/v2/webhooks/{hook['id']}", headers=AUTH_A).json()
        return "secret" in hook, "secret" in read

    assert contrast(tmp_path, "v2-secret-missing-on-read", probe) == ((True, True), (True, False))


def test_v2_timestamps_offset(tmp_path: Path) -> None:
    def probe(api: Any) -> tuple[str, str]:
        hook = _hook(api)
        return hook["created_at"][19:], hook["updated_at"][19:]

    assert contrast(tmp_path, "v2-timestamps-offset", probe) == (("Z", "Z"),
                                                                 ("+00:00", "+00:00"))


def test_v1_timestamps_zulu(tmp_path: Path) -> None:
    def probe(api: Any) -> str:
        _hook(api)
        return api.get("/api/webhooks", headers=AUTH_A).json()["data"][0]["created_at"][19:]

    assert contrast(tmp_path, "v1-timestamps-zulu", probe) == ("+00:00", "Z")


def _stamps_around_update(api: Any) -> tuple[bool, bool]:
    """(created_at moved, updated_at moved) across one PATCH."""
    hook = _hook(api)
    after = api.patch(f"/api/v2/webhooks/{hook['id']}", headers=AUTH_A,
                      json={"events": ["form.sent"]}).json()
    return after["created_at"] != hook["created_at"], after["updated_at"] > hook["updated_at"]


def test_created_at_moves_on_update(tmp_path: Path) -> None:
    assert contrast(tmp_path, "created-at-moves-on-update", _stamps_around_update) == (
        (False, True), (True, True))


def test_updated_at_not_moved(tmp_path: Path) -> None:
    assert contrast(tmp_path, "updated-at-not-moved", _stamps_around_update) == (
        (False, True), (False, False))


def test_updated_at_moves_on_rejected_update(tmp_path: Path) -> None:
    def probe(api: Any) -> tuple[int, bool]:
        hook = _hook(api)
        path = f"/api/v2/webhooks/{hook['id']}"
        status = api.patch(path, headers=AUTH_A, json={"url": "not a url"}).status_code
        return status, api.get(path, headers=AUTH_A).json() == hook

    # updated_at moves by at least a second on a write, so "unchanged" is deterministic.
    assert contrast(tmp_path, "updated-at-moves-on-rejected-update", probe) == (
        (422, True), (422, False))


# -- pagination, persistence --------------------------------------------------------------
def test_pagination_off_by_one(tmp_path: Path) -> None:
    def probe(api: Any) -> tuple[list[int], list[int]]:
        _hooks(api, 3)
        return (_ids(api, "/api/v2/webhooks", "limit", 2),
                _ids(api, "/api/webhooks", "per_page", 2))

    clean, faulty = contrast(tmp_path, "pagination-off-by-one", probe)
    assert clean == ([1, 2, 3], [1, 2, 3]) and faulty == ([1, 2, 2, 3], [1, 2, 2, 3])


def test_v2_page_past_end_404(tmp_path: Path) -> None:
    def probe(api: Any) -> tuple[int, Any]:
        response = api.get("/api/v2/webhooks?page=5", headers=AUTH_A)
        return response.status_code, response.json().get("data")

    assert contrast(tmp_path, "v2-page-past-end-404", probe) == ((200, []), (404, None))


def test_v2_links_drop_query(tmp_path: Path) -> None:
    def probe(api: Any) -> str:
        _hooks(api, 3)
        page = api.get("/api/v2/webhooks?limit=2&enabled=false", headers=AUTH_A).json()
        return page["links"]["next"].partition("?")[2]

    clean, faulty = contrast(tmp_path, "v2-links-drop-query", probe)
    assert sorted(clean.split("&")) == ["enabled=false", "limit=2", "page=2"]
    assert faulty == "page=2"


def test_v2_limit_out_of_range_accepted(tmp_path: Path) -> None:
    def probe(api: Any) -> list[int]:
        return [api.get(f"/api/v2/webhooks?limit={limit}", headers=AUTH_A).status_code
                for limit in (0, 101, "x")]

    assert contrast(tmp_path, "v2-limit-out-of-range-accepted", probe) == (
        [422, 422, 422], [200, 200, 422])


def test_v1_per_page_ignored(tmp_path: Path) -> None:
    def probe(api: Any) -> tuple[int, int]:
        _hooks(api, 3)
        page = api.get("/api/webhooks?per_page=2", headers=AUTH_A).json()
        return len(page["data"]), page["meta"]["pagination"]["per_page"]

    assert contrast(tmp_path, "v1-per-page-ignored", probe) == ((2, 2), (3, 25))


def test_v1_links_object_on_single_page(tmp_path: Path) -> None:
    def probe(api: Any) -> Any:
        return api.get("/api/webhooks", headers=AUTH_A).json()["meta"]["pagination"]["links"]

    assert contrast(tmp_path, "v1-links-object-on-single-page", probe) == ([], {})


def test_v1_total_pages_off_by_one(tmp_path: Path) -> None:
    def probe(api: Any) -> int:
        _hooks(api, 3)
        page = api.get("/api/webhooks?per_page=2", headers=AUTH_A).json()
        return page["meta"]["pagination"]["total_pages"]

    assert contrast(tmp_path, "v1-total-pages-off-by-one", probe) == (2, 3)


def test_list_order_descending(tmp_path: Path) -> None:
    def probe(api: Any) -> tuple[list[int], list[int]]:
        _hooks(api, 3)
        return (_ids(api, "/api/v2/webhooks", "limit", 2),
                _ids(api, "/api/webhooks", "per_page", 2))

    assert contrast(tmp_path, "list-order-descending", probe) == (
        ([1, 2, 3], [1, 2, 3]), ([3, 2, 1], [3, 2, 1]))


def test_links_next_same_page(tmp_path: Path) -> None:
    def probe(api: Any) -> list[list[str]]:
        _hooks(api, 3)
        v2 = api.get("/api/v2/webhooks?limit=2", headers=AUTH_A).json()["links"]
        v1 = api.get("/api/webhooks?per_page=2", headers=AUTH_A).json()["meta"]["pagination"]
        return [parse_qs(urlsplit(url).query)["page"]
                for url in (v2["next"], v1["links"]["next"])]

    assert contrast(tmp_path, "links-next-same-page", probe) == ([["2"], ["2"]],
                                                                 [["1"], ["1"]])


def test_v2_delete_not_effective(tmp_path: Path) -> None:
    def probe(api: Any) -> tuple[int, int]:
        path = f"/api/v2/webhooks/{_hook(api)['id']}"
        return api.delete(path, headers=AUTH_A).status_code, api.get(path, headers=AUTH_A
                                                                     ).status_code

    assert contrast(tmp_path, "v2-delete-not-effective", probe) == ((204, 404), (204, 200))


# -- validation, error bodies and headers ------------------------------------------------
def _create_status(body: dict[str, Any]) -> Callable[[Any], int]:
    def probe(api: Any) -> int:
        return api.post("/api/v2/webhooks", headers=AUTH_A, json=body).status_code
    return probe


def test_v2_url_any_string(tmp_path: Path) -> None:
    probe = _create_status({"url": "not a url", "events": ["*"], "is_enabled": False})
    assert contrast(tmp_path, "v2-url-any-string", probe) == (422, 201)


def test_v2_ping_subscribable(tmp_path: Path) -> None:
    probe = _create_status({"url": SAFE_URL, "events": ["ping"], "is_enabled": False})
    assert contrast(tmp_path, "v2-ping-subscribable", probe) == (422, 201)


def test_v2_events_duplicates_accepted(tmp_path: Path) -> None:
    def probe(api: Any) -> tuple[int, Any]:
        response = api.post("/api/v2/webhooks", headers=AUTH_A, json={
            "url": SAFE_URL, "events": ["form.sent", "form.sent"], "is_enabled": False})
        return response.status_code, response.json().get("events")

    assert contrast(tmp_path, "v2-events-duplicates-accepted", probe) == (
        (422, None), (201, ["form.sent", "form.sent"]))
    # Accepting duplicates is room (lenient-encodings); returning the repeat is the fault.
    (tmp_path / "lenient").mkdir()
    with client(tmp_path / "lenient", variants={"lenient-encodings"}) as api:
        assert probe(api) == (201, ["form.sent"])


def test_v2_empty_patch_accepted(tmp_path: Path) -> None:
    def probe(api: Any) -> list[int]:
        path = f"/api/v2/webhooks/{_hook(api)['id']}"
        return [api.patch(path, headers=AUTH_A, json=body).status_code
                for body in ({}, {"id": 5, "created_at": "2020-01-01T00:00:00Z"})]

    assert contrast(tmp_path, "v2-empty-patch-accepted", probe) == ([422, 422], [200, 200])


def test_read_only_fields_honoured(tmp_path: Path) -> None:
    def probe(api: Any) -> list[bool]:
        hook = _hook(api, secret="chosen-by-the-client", created_at="2001-02-03T04:05:06Z")
        path = f"/api/v2/webhooks/{hook['id']}"
        api.patch(path, headers=AUTH_A, json={"is_enabled": False, "secret": "patched-secret",
                                              "created_at": "1999-12-31T23:59:59Z"})
        read = api.get(path, headers=AUTH_A).json()
        return [hook["secret"] == "chosen-by-the-client",
                hook["created_at"] == "2001-02-03T04:05:06Z",
                read["secret"] == "patched-secret", read["created_at"] == "1999-12-31T23:59:59Z"]

    assert contrast(tmp_path, "read-only-fields-honoured", probe) == ([False] * 4, [True] * 4)


def test_invalid_patch_partially_applied(tmp_path: Path) -> None:
    def probe(api: Any) -> tuple[int, str]:
        path = f"/api/v2/webhooks/{_hook(api)['id']}"
        status = api.patch(path, headers=AUTH_A, json={"url": SAFE_URL + "/2",
                                                       "events": ["no.such.event"]}).status_code
        return status, api.get(path, headers=AUTH_A).json()["url"]

    assert contrast(tmp_path, "invalid-patch-partially-applied", probe) == (
        (422, SAFE_URL), (422, SAFE_URL + "/2"))


def test_v1_put_partial(tmp_path: Path) -> None:
    def probe(api: Any) -> tuple[int, str]:
        hook = _hook(api, events=["form.sent"])
        status = api.put(f"/api/webhooks/{hook['id']}", headers=AUTH_A,
                         json={"url": SAFE_URL + "/2"}).status_code
        return status, api.get("/api/webhooks", headers=AUTH_A).json()["data"][0]["url"]

    assert contrast(tmp_path, "v1-put-partial", probe) == ((422, SAFE_URL),
                                                           (200, SAFE_URL + "/2"))


def test_v1_create_active_optional(tmp_path: Path) -> None:
    def probe(api: Any) -> tuple[int, Any]:
        response = api.post("/api/webhooks", headers=AUTH_A,
                            json={"url": SAFE_URL, "events": "form.*"})
        return response.status_code, response.json().get("active", "absent")

    assert contrast(tmp_path, "v1-create-active-optional", probe) == (
        (422, ["The active field is required."]), (201, True))


def test_oversized_body_accepted(tmp_path: Path) -> None:
    probe = _create_status({"url": SAFE_URL, "events": ["*"], "is_enabled": False,
                            "padding": "x" * 70_000})
    assert contrast(tmp_path, "oversized-body-accepted", probe) == (413, 201)


def _invalid_create(api: Any) -> tuple[int, list[str]]:
    response = api.post("/api/v2/webhooks", headers=AUTH_A, json={"url": 5, "events": "x"})
    return response.status_code, sorted(response.json())


def test_validation_422_as_400(tmp_path: Path) -> None:
    assert contrast(tmp_path, "validation-422-as-400", _invalid_create) == (
        (422, ["events", "url"]), (400, ["events", "url"]))


def test_validation_errors_unnamed(tmp_path: Path) -> None:
    assert contrast(tmp_path, "validation-errors-unnamed", _invalid_create) == (
        (422, ["events", "url"]), (422, ["message"]))


def test_unauthenticated_body_wrong(tmp_path: Path) -> None:
    def probe(api: Any) -> tuple[int, Any]:
        response = api.get("/api/webhooks")
        return response.status_code, response.json()

    assert contrast(tmp_path, "unauthenticated-body-wrong", probe) == (
        (401, {"error": "Unauthenticated."}), (401, {"message": "Unauthenticated."}))


def test_405_without_allow(tmp_path: Path) -> None:
    def probe(api: Any) -> tuple[int, str | None]:
        response = api.put("/api/v2/webhooks", headers=AUTH_A, json={})
        return response.status_code, response.headers.get("Allow")

    clean, faulty = contrast(tmp_path, "405-without-allow", probe)
    assert clean[0] == 405 and "POST" in (clean[1] or "") and faulty == (405, None)


def test_ratelimit_headers_missing_on_errors(tmp_path: Path) -> None:
    def probe(api: Any) -> list[tuple[int, bool]]:
        responses = [api.get("/api/v2/webhooks", headers=AUTH_A), api.get("/api/v2/webhooks"),
                     api.get("/api/v2/webhooks/999", headers=AUTH_A)]
        return [(r.status_code, "X-RateLimit-Remaining" in r.headers) for r in responses]

    assert contrast(tmp_path, "ratelimit-headers-missing-on-errors", probe) == (
        [(200, True), (401, True), (404, True)], [(200, True), (401, False), (404, False)])


def test_unknown_route_wrong_body(tmp_path: Path) -> None:
    def probe(api: Any) -> list[tuple[int, Any]]:
        responses = (api.get("/api/v2/no-such-route", headers=AUTH_A),
                     api.get("/api/v2/webhooks/"))
        return [(response.status_code, response.json()) for response in responses]

    assert contrast(tmp_path, "unknown-route-wrong-body", probe) == (
        [(404, {"error": "Not Found."})] * 2, [(404, {"message": "Not Found"})] * 2)


def test_non_numeric_id_500(tmp_path: Path) -> None:
    def probe(api: Any) -> list[tuple[int, str]]:
        responses = [api.get("/api/v2/webhooks/abc", headers=AUTH_A),
                     api.get("/api/v2/webhooks/abc/deliveries", headers=AUTH_A),
                     api.delete("/api/webhooks/abc", headers=AUTH_A)]
        return [(r.status_code, r.json().get("exception", r.json().get("error")))
                for r in responses]

    assert contrast(tmp_path, "non-numeric-id-500", probe) == (
        [(404, "Webhook not found")] * 3, [(500, "ValueError")] * 3)


# -- auth, team isolation, cross-version -------------------------------------------------
def test_auth_after_lookup(tmp_path: Path) -> None:
    def probe(api: Any) -> list[int]:
        return [api.get(f"/api/v2/webhooks/{hook_id}").status_code
                for hook_id in (999, _hook(api)["id"])]

    assert contrast(tmp_path, "auth-after-lookup", probe) == ([401, 401], [404, 401])


def test_invalid_token_accepted(tmp_path: Path) -> None:
    def probe(api: Any) -> list[int]:
        return [api.get("/api/v2/webhooks", headers=headers).status_code
                for headers in ({"Authorization": "Bearer not-a-token"}, {})]

    assert contrast(tmp_path, "invalid-token-accepted", probe) == ([401, 401], [200, 401])


def test_read_only_can_write(tmp_path: Path) -> None:
    def probe(api: Any) -> list[int]:
        created = api.post("/api/v2/webhooks", headers=AUTH_RO,
                           json={"url": SAFE_URL, "events": ["*"], "is_enabled": False})
        path = f"/api/webhooks/{_hook(api)['id']}"
        return [created.status_code, api.delete(path, headers=AUTH_RO).status_code]

    assert contrast(tmp_path, "read-only-can-write", probe) == ([403, 403], [201, 200])


def test_other_team_listed(tmp_path: Path) -> None:
    def probe(api: Any) -> tuple[int, int]:
        _hook(api)
        v1 = api.get("/api/webhooks", headers=AUTH_B).json()["meta"]["pagination"]["total"]
        return api.get("/api/v2/webhooks", headers=AUTH_B).json()["total"], v1

    assert contrast(tmp_path, "other-team-listed", probe) == ((0, 0), (1, 1))


def test_other_team_can_delete(tmp_path: Path) -> None:
    def probe(api: Any) -> tuple[int, int]:
        path = f"/api/v2/webhooks/{_hook(api)['id']}"
        return api.delete(path, headers=AUTH_B).status_code, api.get(path, headers=AUTH_A
                                                                     ).status_code

    assert contrast(tmp_path, "other-team-can-delete", probe) == ((404, 200), (204, 404))


def test_deliveries_list_other_team(tmp_path: Path) -> None:
    def probe(api: Any) -> list[int]:
        hook_id = _hook(api)["id"]
        return [api.get(path, headers=AUTH_B).status_code
                for path in (f"/api/v2/webhooks/{hook_id}/deliveries",
                             f"/api/webhooks/{hook_id}/deliveries")]

    assert contrast(tmp_path, "deliveries-list-other-team", probe) == ([404, 404], [200, 200])


def _v1_view(api: Any, hook: dict[str, Any]) -> dict[str, Any]:
    [item] = [item for item in api.get("/api/webhooks", headers=AUTH_A).json()["data"]
              if item["id"] == hook["id"]]
    return item


def test_v1_secret_differs(tmp_path: Path) -> None:
    def probe(api: Any) -> tuple[bool, int]:
        hook = _hook(api)
        secret = _v1_view(api, hook)["secret"]
        return secret == hook["secret"], len(secret)

    assert contrast(tmp_path, "v1-secret-differs", probe) == ((True, 64), (False, 64))


def test_v1_active_inverted(tmp_path: Path) -> None:
    def probe(api: Any) -> tuple[bool, bool]:
        hook = _hook(api)
        return hook["is_enabled"], _v1_view(api, hook)["active"]

    assert contrast(tmp_path, "v1-active-inverted", probe) == ((False, False), (False, True))


def test_v1_timestamps_other_instant(tmp_path: Path) -> None:
    def probe(api: Any) -> tuple[float, str]:
        hook = _hook(api)
        v1 = _v1_view(api, hook)["created_at"]
        v2 = hook["created_at"].replace("Z", "+00:00")
        return (datetime.fromisoformat(v2) - datetime.fromisoformat(v1)).total_seconds(), v1[19:]

    assert contrast(tmp_path, "v1-timestamps-other-instant", probe) == ((0, "+00:00"),
                                                                        (3600, "+00:00"))


def test_v1_delete_not_effective(tmp_path: Path) -> None:
    def probe(api: Any) -> tuple[int, int]:
        hook_id = _hook(api)["id"]
        deleted = api.delete(f"/api/webhooks/{hook_id}", headers=AUTH_A).status_code
        return deleted, api.get(f"/api/v2/webhooks/{hook_id}", headers=AUTH_A).status_code

    assert contrast(tmp_path, "v1-delete-not-effective", probe) == ((200, 404), (200, 200))


# -- deliveries -----------------------------------------------------------------------------
def with_sink(scenario: Callable[[Any, Receiver], Any], status: int = 204,
              delay: float = 0.0) -> Callable[[Any], Any]:
    """A probe that gives `scenario` its own loopback receiver, and lets deliveries settle."""
    def probe(api: Any) -> Any:
        with receiver(status=status, delay=delay) as sink:
            result = scenario(api, sink)
            wait_idle(api)
            return result
    return probe


def _fire(api: Any, event: str = "form.sent", headers: dict[str, str] = AUTH_A) -> int:
    response = api.post("/_sandbox/events", headers=headers, json={"event": event})
    assert response.status_code == 202, response.text
    return response.json()["deliveries"]


def _aliases(sink: Receiver) -> list[str]:
    return sorted(received.json["trigger"]["alias"] for received in sink.requests)


def _log(api: Any, hook: dict[str, Any], version: str = "v2") -> list[dict[str, Any]]:
    prefix = "/api/v2" if version == "v2" else "/api"
    return api.get(f"{prefix}/webhooks/{hook['id']}/deliveries", headers=AUTH_A).json()["data"]


def _ping(api: Any, sink: Receiver) -> tuple[dict[str, Any], Any]:
    """Create an enabled webhook on the sink; (the webhook, the ping it received)."""
    hook = create_v2(api, url=sink.url())
    wait_idle(api)
    [ping] = sink.requests
    return hook, ping


def test_signature_wrong_key(tmp_path: Path) -> None:
    def scenario(api: Any, sink: Receiver) -> tuple[bool, bool]:
        hook, ping = _ping(api, sink)
        signature = ping.headers["X-AQID-Signature"]
        return verify(hook["secret"], ping.body, signature), verify(hook["uuid"], ping.body,
                                                                    signature)

    assert contrast(tmp_path, "signature-wrong-key", with_sink(scenario)) == (
        (True, False), (False, True))


def test_signature_over_reserialised_body(tmp_path: Path) -> None:
    def scenario(api: Any, sink: Receiver) -> tuple[bool, bool]:
        hook, ping = _ping(api, sink)
        reserialised = json.dumps(ping.json).encode()
        signature = ping.headers["X-AQID-Signature"]
        return signature == sign(hook["secret"], ping.body), signature == sign(
            hook["secret"], reserialised)

    assert contrast(tmp_path, "signature-over-reserialised-body", with_sink(scenario)) == (
        (True, False), (False, True))


def test_delivery_missing_headers(tmp_path: Path) -> None:
    def scenario(api: Any, sink: Receiver) -> list[str]:
        return sorted(name for name in _ping(api, sink)[1].headers
                      if name.startswith("X-AQID-Delivery"))

    assert contrast(tmp_path, "delivery-missing-headers", with_sink(scenario)) == (
        ["X-AQID-Delivery-Attempt", "X-AQID-Delivery-Id"], [])


def test_user_agent_wrong(tmp_path: Path) -> None:
    def scenario(api: Any, sink: Receiver) -> str:
        return _ping(api, sink)[1].headers["User-Agent"].split("/")[0]

    assert contrast(tmp_path, "user-agent-wrong", with_sink(scenario)) == (
        "Amiqus AmiqusID", "python-httpx")


def test_payload_missing_trigger(tmp_path: Path) -> None:
    def scenario(api: Any, sink: Receiver) -> list[str]:
        return sorted(_ping(api, sink)[1].json)

    assert contrast(tmp_path, "payload-missing-trigger", with_sink(scenario)) == (
        ["data", "trigger", "webhook"], ["data", "webhook"])


def _pings_on_create(enabled: bool) -> Callable[[Any, Receiver], int]:
    def scenario(api: Any, sink: Receiver) -> int:
        create_v2(api, url=sink.url(), is_enabled=enabled)
        wait_idle(api)
        return len(sink.requests)
    return scenario


def test_no_ping_on_create(tmp_path: Path) -> None:
    assert contrast(tmp_path, "no-ping-on-create", with_sink(_pings_on_create(True))) == (1, 0)


def test_ping_on_disabled_create(tmp_path: Path) -> None:
    probe = with_sink(_pings_on_create(False))
    assert contrast(tmp_path, "ping-on-disabled-create", probe) == (0, 1)


def test_no_ping_on_reenable(tmp_path: Path) -> None:
    def scenario(api: Any, sink: Receiver) -> int:
        hook = create_v2(api, url=sink.url())
        wait_idle(api)  # the first ping is out before the webhook is disabled
        for enabled in (False, True):
            api.patch(f"/api/v2/webhooks/{hook['id']}", headers=AUTH_A,
                      json={"is_enabled": enabled})
        wait_idle(api)
        return len(sink.requests)

    assert contrast(tmp_path, "no-ping-on-reenable", with_sink(scenario)) == (2, 1)


def test_routing_ignores_category(tmp_path: Path) -> None:
    def scenario(api: Any, sink: Receiver) -> tuple[int, list[str]]:
        create_v2(api, url=sink.url(), events=["form.*"])
        sent = _fire(api)
        wait_idle(api)
        return sent, _aliases(sink)

    assert contrast(tmp_path, "routing-ignores-category", with_sink(scenario)) == (
        (1, ["form.sent", "ping"]), (0, ["ping"]))


def test_routing_duplicates(tmp_path: Path) -> None:
    def scenario(api: Any, sink: Receiver) -> tuple[int, list[str]]:
        create_v2(api, url=sink.url(), events=["*", "form.*", "case.created"])
        sent = _fire(api)
        wait_idle(api)
        return sent, _aliases(sink)

    assert contrast(tmp_path, "routing-duplicates", with_sink(scenario)) == (
        (1, ["form.sent", "ping"]), (2, ["form.sent", "form.sent", "ping"]))


def test_disabled_webhooks_receive(tmp_path: Path) -> None:
    def scenario(api: Any, sink: Receiver) -> tuple[int, list[str]]:
        create_v2(api, url=sink.url(), is_enabled=False)
        sent = _fire(api)
        wait_idle(api)
        return sent, _aliases(sink)

    assert contrast(tmp_path, "disabled-webhooks-receive", with_sink(scenario)) == (
        (0, []), (1, ["form.sent"]))


def test_other_team_receives_events(tmp_path: Path) -> None:
    def scenario(api: Any, sink: Receiver) -> tuple[int, list[str]]:
        create_v2(api, url=sink.url(), headers=AUTH_B)  # team B's webhook, team A's event
        sent = _fire(api, headers=AUTH_A)
        wait_idle(api)
        return sent, _aliases(sink)

    assert contrast(tmp_path, "other-team-receives-events", with_sink(scenario)) == (
        (0, ["ping"]), (1, ["form.sent", "ping"]))


def _retried_ping_headers(name: str) -> Callable[[Any, Receiver], list[str]]:
    """The `name` header of each attempt of a ping the subscriber fails (3 attempts)."""
    def scenario(api: Any, sink: Receiver) -> list[str]:
        create_v2(api, url=sink.url())
        wait_idle(api)
        return [received.headers[name] for received in sink.requests]
    return scenario


def test_delivery_id_changes_on_retry(tmp_path: Path) -> None:
    probe = with_sink(_retried_ping_headers("X-AQID-Delivery-Id"), status=500)
    clean, faulty = contrast(tmp_path, "delivery-id-changes-on-retry", probe)
    assert (len(clean), len(set(clean))) == (3, 1) and (len(faulty), len(set(faulty))) == (3, 3)


def test_attempt_counter_stuck(tmp_path: Path) -> None:
    probe = with_sink(_retried_ping_headers("X-AQID-Delivery-Attempt"), status=500)
    assert contrast(tmp_path, "attempt-counter-stuck", probe) == (["1", "2", "3"],
                                                                  ["1", "1", "1"])


def test_timeout_not_enforced(tmp_path: Path) -> None:
    def scenario(api: Any, sink: Receiver) -> tuple[str, int]:
        hook = create_v2(api, url=sink.url())
        wait_idle(api)
        [entry] = _log(api, hook)
        return entry["response"]["status_code"], entry["attempts"]

    probe = with_sink(scenario, delay=0.5)
    assert contrast(tmp_path, "timeout-not-enforced", probe, timeout=0.2,
                    retry_delays=()) == (("0", 1), ("204", 1))


def test_never_disabled(tmp_path: Path) -> None:
    def scenario(api: Any, sink: Receiver) -> bool:
        hook = create_v2(api, url=sink.url())  # its ping fails: 1
        _fire(api)  # fails: 2 = disable_after
        wait_idle(api)
        return api.get(f"/api/v2/webhooks/{hook['id']}", headers=AUTH_A).json()["is_enabled"]

    probe = with_sink(scenario, status=500)
    assert contrast(tmp_path, "never-disabled", probe, retry_delays=(),
                    disable_after=2) == (False, True)


def test_delivery_log_status_int(tmp_path: Path) -> None:
    def scenario(api: Any, sink: Receiver) -> tuple[Any, Any]:
        hook, _ = _ping(api, sink)
        return _log(api, hook)[0]["response"]["status_code"], _log(api, hook, "v1")[0]["status"]

    assert contrast(tmp_path, "delivery-log-status-int", with_sink(scenario)) == (
        ("204", "204"), (204, 204))


def test_delivery_log_oldest_first(tmp_path: Path) -> None:
    def scenario(api: Any, sink: Receiver) -> tuple[list[str], list[str]]:
        hook, _ = _ping(api, sink)
        _fire(api)
        wait_idle(api)
        v1 = [entry["request"]["body"]["trigger"]["alias"] for entry in _log(api, hook, "v1")]
        return [entry["event"] for entry in _log(api, hook)], v1

    assert contrast(tmp_path, "delivery-log-oldest-first", with_sink(scenario)) == (
        (["form.sent", "ping"], ["form.sent", "ping"]),
        (["ping", "form.sent"], ["ping", "form.sent"]))


def test_delivery_log_uuid_mismatch(tmp_path: Path) -> None:
    def scenario(api: Any, sink: Receiver) -> tuple[bool, bool]:
        hook, ping = _ping(api, sink)
        sent = ping.headers["X-AQID-Delivery-Id"]
        return _log(api, hook)[0]["uuid"] == sent, _log(api, hook, "v1")[0]["uuid"] == sent

    assert contrast(tmp_path, "delivery-log-uuid-mismatch", with_sink(scenario)) == (
        (True, True), (False, False))


def test_v1_delivery_failed_inverted(tmp_path: Path) -> None:
    def scenario(api: Any, sink: Receiver) -> tuple[str, bool]:
        hook, _ = _ping(api, sink)
        [entry] = _log(api, hook, "v1")
        return entry["status"], entry["failed"]

    assert contrast(tmp_path, "v1-delivery-failed-inverted", with_sink(scenario)) == (
        ("204", False), ("204", True))


# -- variants -----------------------------------------------------------------------------
def test_default_page_size_7(tmp_path: Path) -> None:
    with client(tmp_path, variants={"default-page-size-7"}) as api:
        assert api.get("/api/v2/webhooks", headers=AUTH_A).json()["limit"] == 7
        v1 = api.get("/api/webhooks", headers=AUTH_A).json()
        assert v1["meta"]["pagination"]["per_page"] == 25


def test_reordered_keys(tmp_path: Path) -> None:
    with client(tmp_path, variants={"reordered-keys"}) as api:
        hook = _hook(api)
        raw = api.get(f"/api/v2/webhooks/{hook['id']}", headers=AUTH_A).text
        keys = list(json.loads(raw))
        assert keys[0] == "updated_at" and keys[-1] == "object"


def test_latency_50ms(tmp_path: Path) -> None:
    with client(tmp_path, variants={"latency-50ms"}) as api:
        started = time.monotonic()
        assert api.get("/api/v2/webhooks", headers=AUTH_A).status_code == 200
        assert time.monotonic() - started >= 0.05


def test_extra_headers(tmp_path: Path) -> None:
    with client(tmp_path, variants={"extra-headers"}) as api:
        response = api.get("/api/v2/webhooks")
        assert "X-Request-Id" in response.headers and "Server-Timing" in response.headers
        assert response.status_code == 401 and "X-RateLimit-Limit" in response.headers


def test_extra_fields(tmp_path: Path) -> None:
    with client(tmp_path, variants={"extra-fields"}) as api:
        hook = _hook(api)
        assert hook["description"] is None
        assert api.get("/api/webhooks", headers=AUTH_A).json()["data"][0]["description"] is None


def test_prepopulated(tmp_path: Path) -> None:
    with client(tmp_path, variants={"prepopulated"}) as api:
        team_a = api.get("/api/v2/webhooks?limit=100", headers=AUTH_A).json()
        team_b = api.get("/api/v2/webhooks?limit=100", headers=AUTH_B).json()
        assert team_a["total"] + team_b["total"] == 30 and team_a["total"] and team_b["total"]
        ids = [item["id"] for item in team_a["data"] + team_b["data"]]
        assert min(ids) == 100_000
        assert any(not item["is_enabled"] for item in team_a["data"])
        assert _hook(api)["id"] == 100_030
    with client(tmp_path, variants={"prepopulated"}) as api:  # a restart adds nothing
        assert api.get("/api/v2/webhooks", headers=AUTH_A).json()["total"] == 16
