"""The brief's Room: for each entry the clean server takes one allowed choice and a benign
variant (reference_server/faults.py VARIANTS) takes the other. Each test shows the two
differ, and that the variant's answer is still one the brief allows."""

from __future__ import annotations

import gzip
import re
import uuid
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

from reference_server.egress import refusal
from reference_server.pagination import MAX_INT32
from reference_server.seed import MAIN_TEAM_COUNT, OTHER_TEAM_COUNT, UNUSUAL_URLS
from reference_server.webhooks import MAX_ID
from tests.server_helpers import (
    AUTH_A,
    AUTH_B,
    AUTH_RO,
    SAFE_URL,
    client,
    create_v2,
    receiver,
    wait_idle,
)

V2_HOOKS = "/api/v2/webhooks"
V1_HOOKS = "/api/webhooks"
V2_Z = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")  # the form the brief pins for v2
FRACTION = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}(Z|\+00:00)")
# Forms the brief lets a server accept or refuse (room "url-forms").
BAND_URLS = (
    "https://[2001:db8::1]:8443/ipv6",
    "https://user:secret@hooks.invalid/user-info",
    "https://hooks.invalid/fragment#part",
    "https://bücher.example.invalid/non-ascii-host",
    "https://hooks.invalid/a b|{c}",
)
PLAIN_URLS = ("https://hooks.invalid/plain?x=1&y=%2F", "http://192.0.2.10:8080/v4",
              "HTTPS://HOOKS.INVALID/UPPER")


def compare(tmp_path: Path, variant: str, probe: Callable[[Any], Any],
            **overrides: Any) -> tuple[Any, Any]:
    """`probe(api)` on a clean server, then with `variant` on: (clean, variant), which must
    differ. Each server gets its own database."""
    results = []
    for label, variants in (("clean", set()), ("variant", {variant})):
        (tmp_path / label).mkdir()
        with client(tmp_path / label, variants=variants, **overrides) as api:
            results.append(probe(api))
    clean, varied = results
    assert clean != varied, f"{variant} changed nothing the probe sees: {clean!r}"
    return clean, varied


def _create(api: Any, version: str, url: str, **extra: Any) -> Any:
    if version == "v2":
        return api.post(V2_HOOKS, headers=AUTH_A,
                        json={"url": url, "events": ["*"], "is_enabled": False, **extra})
    return api.post(V1_HOOKS, headers=AUTH_A,
                    json={"url": url, "events": "*", "active": False, **extra})


def _outcome(response: Any, sent: str) -> tuple[int, Any]:
    """(status, "as sent" | the stored url | the 422's field names)."""
    body = response.json()
    if response.status_code == 422:
        return 422, sorted(body)
    return response.status_code, "as sent" if body["url"] == sent else body["url"]


def _create_and_update(url: str) -> Callable[[Any], list[tuple[int, Any]]]:
    """The url sent on v2 create, v1 create, v2 PATCH and v1 PUT."""
    def probe(api: Any) -> list[tuple[int, Any]]:
        outcomes = [_outcome(_create(api, version, url), url) for version in ("v2", "v1")]
        hook = create_v2(api, is_enabled=False)
        patched = api.patch(f"{V2_HOOKS}/{hook['id']}", headers=AUTH_A, json={"url": url})
        put = api.put(f"{V1_HOOKS}/{hook['id']}", headers=AUTH_A,
                      json={"url": url, "events": "*", "active": False})
        return outcomes + [_outcome(patched, url), _outcome(put, url)]
    return probe


# -- url-length ---------------------------------------------------------------------------
def test_url_length_capped_255(tmp_path: Path) -> None:
    long_url = "https://hooks.invalid/" + "x" * (300 - 22)
    clean, capped = compare(tmp_path, "url-length-capped-255", _create_and_update(long_url))
    assert clean == [(201, "as sent"), (201, "as sent"), (200, "as sent"), (200, "as sent")]
    assert capped == [(422, ["url"])] * 4


def test_the_capped_variant_still_accepts_255_characters(tmp_path: Path) -> None:
    url = "https://hooks.invalid/" + "x" * (255 - 22)
    with client(tmp_path, variants={"url-length-capped-255"}) as api:
        assert _create_and_update(url)(api) == [(201, "as sent"), (201, "as sent"),
                                                (200, "as sent"), (200, "as sent")]


def test_the_clean_server_stores_any_url_length_the_body_allows(tmp_path: Path) -> None:
    url = "https://hooks.invalid/" + "x" * 60_000
    with client(tmp_path) as api:
        hook = create_v2(api, url=url, is_enabled=False)
        assert api.get(f"{V2_HOOKS}/{hook['id']}", headers=AUTH_A).json()["url"] == url
        assert api.get(V1_HOOKS, headers=AUTH_A).json()["data"][0]["url"] == url


# -- page-range ---------------------------------------------------------------------------
def test_page_beyond_int32_refused(tmp_path: Path) -> None:
    def probe(api: Any) -> list[tuple[int, Any]]:
        hook = create_v2(api, is_enabled=False)
        answers = []
        for path in (V2_HOOKS, f"{V2_HOOKS}/{hook['id']}/deliveries", V1_HOOKS,
                     f"{V1_HOOKS}/{hook['id']}/deliveries"):
            for page in (MAX_INT32, MAX_INT32 + 1, 10**30):
                response = api.get(f"{path}?page={page}", headers=AUTH_A)
                body = response.json()
                answers.append((response.status_code,
                                body.get("data") if response.status_code == 200 else list(body)))
        return answers

    clean, refused = compare(tmp_path, "page-beyond-int32-refused", probe)
    assert clean == [(200, [])] * 12
    assert refused == [(200, []), (422, ["page"]), (422, ["page"])] * 4


# -- path-id-range ------------------------------------------------------------------------
def _id_answers(api: Any, headers: dict[str, str] = AUTH_A) -> list[int]:
    create_v2(api, is_enabled=False)
    statuses = []
    for hook_id in (0, 999, MAX_ID, MAX_ID + 1, 10**30):
        for method, path, body in (("GET", f"{V2_HOOKS}/{hook_id}", None),
                                   ("PATCH", f"{V2_HOOKS}/{hook_id}", {"is_enabled": True}),
                                   ("DELETE", f"{V2_HOOKS}/{hook_id}", None),
                                   ("GET", f"{V2_HOOKS}/{hook_id}/deliveries", None),
                                   ("PUT", f"{V1_HOOKS}/{hook_id}",
                                    {"url": SAFE_URL, "events": "*", "active": True}),
                                   ("DELETE", f"{V1_HOOKS}/{hook_id}", None),
                                   ("GET", f"{V1_HOOKS}/{hook_id}/deliveries", None)):
            response = api.request(method, path, headers=headers, json=body)
            if response.status_code == 422:
                assert list(response.json()) == ["id"], response.text
            elif response.status_code == 404:
                assert response.json() == {"error": "Webhook not found"}
            statuses.append(response.status_code)
    return statuses


def test_huge_path_id_refused(tmp_path: Path) -> None:
    clean, refused = compare(tmp_path, "huge-path-id-refused", _id_answers)
    assert clean == [404] * 35
    assert refused == [404] * 21 + [422] * 14  # 0, unknown and 2**63-1 stay 404


def test_a_huge_path_id_without_a_token_is_still_401(tmp_path: Path) -> None:
    with client(tmp_path, variants={"huge-path-id-refused"}) as api:
        assert set(_id_answers(api, headers={})) == {401}


# -- url-forms ----------------------------------------------------------------------------
def test_url_forms_strict(tmp_path: Path) -> None:
    def probe(api: Any) -> list[list[tuple[int, Any]]]:
        return [_create_and_update(url)(api) for url in BAND_URLS]

    clean, strict = compare(tmp_path, "url-forms-strict", probe)
    assert clean == [[(201, "as sent"), (201, "as sent"), (200, "as sent"), (200, "as sent")]
                     ] * len(BAND_URLS)
    assert strict == [[(422, ["url"])] * 4] * len(BAND_URLS)


def test_every_server_accepts_plain_forms_and_refuses_non_urls(tmp_path: Path) -> None:
    for variant in ("", "url-forms-strict", "url-forms-percent-encoded"):
        (tmp_path / (variant or "clean")).mkdir()
        with client(tmp_path / (variant or "clean"), variants={variant} - {""}) as api:
            for url in PLAIN_URLS:
                assert _create_and_update(url)(api) == [(201, "as sent"), (201, "as sent"),
                                                        (200, "as sent"), (200, "as sent")]
            for bad in ("/relative", "ftp://hooks.invalid/x", "mailto:a@hooks.invalid", 5,
                        None, ["https://hooks.invalid/"]):
                assert _outcome(_create(api, "v2", bad), "")[0] == 422, (variant, bad)
                assert _outcome(_create(api, "v1", bad), "")[0] == 422, (variant, bad)


def test_url_forms_percent_encoded(tmp_path: Path) -> None:
    url = "https://bücher.example.invalid/café path?q=ä b#frag"

    def probe(api: Any) -> tuple[list[tuple[int, Any]], str]:
        hook = _create(api, "v2", url).json()
        return (_create_and_update(url)(api),
                api.get(f"{V2_HOOKS}/{hook['id']}", headers=AUTH_A).json()["url"])

    clean, encoded = compare(tmp_path, "url-forms-percent-encoded", probe)
    expected = "https://b%C3%BCcher.example.invalid/caf%C3%A9%20path?q=%C3%A4%20b#frag"
    assert clean == ([(201, "as sent"), (201, "as sent"), (200, "as sent"), (200, "as sent")],
                     url)
    assert encoded == ([(201, expected), (201, expected), (200, expected), (200, expected)],
                       expected)


# -- lenient-encodings ---------------------------------------------------------------------
LENIENT_QUERIES = ("enabled=yes", "enabled=0", "enabled=ON", "page=%2B1", "page=01",
                   "limit=%2B5", "limit=005")


def test_lenient_encodings(tmp_path: Path) -> None:
    def probe(api: Any) -> list[tuple[int, Any]]:
        on = create_v2(api)["id"]
        create_v2(api, is_enabled=False)
        answers = []
        for query in LENIENT_QUERIES:
            response = api.get(f"{V2_HOOKS}?{query}", headers=AUTH_A)
            answers.append((response.status_code, list(response.json()) if
                            response.status_code == 422 else response.json()["data"][0]["id"]))
        v1 = api.get(f"{V1_HOOKS}?per_page=%2B1&page=02", headers=AUTH_A)
        answers.append((v1.status_code, sorted(v1.json()) if v1.status_code == 422 else
                        v1.json()["meta"]["pagination"]["current_page"]))
        for body in ({"is_enabled": "false"}, {"events": "form.*,record.created"},
                     {"events": ["form.*", "form.*", "case.created"]}):
            response = api.post(V2_HOOKS, headers=AUTH_A,
                                json={"url": SAFE_URL, "events": ["*"], **body})
            answers.append(_fields(response, ("is_enabled", "events")))
        response = api.post(V1_HOOKS, headers=AUTH_A,
                            json={"url": SAFE_URL, "events": "form.*,form.*", "active": "0"})
        answers.append(_fields(response, ("active", "events")))
        assert on == 1
        return answers

    clean, lenient = compare(tmp_path, "lenient-encodings", probe)
    assert clean == [(422, ["enabled"])] * 3 + [(422, ["page"])] * 2 + [(422, ["limit"])] * 2 + [
        (422, ["page"]), (422, ["is_enabled"]), (422, ["events"]), (422, ["events.1"]),
        (422, ["active", "events"])]
    assert lenient == [(200, 1), (200, 2), (200, 1), (200, 1), (200, 1), (200, 1), (200, 1),
                       (200, 2), (201, [False, ["*"]]),
                       (201, [True, ["form.*", "record.created"]]),
                       (201, [True, ["form.*", "case.created"]]),  # stored once each
                       (201, [False, "form.*"])]


def _fields(response: Any, names: tuple[str, ...]) -> tuple[int, Any]:
    if response.status_code == 422:
        return 422, sorted(response.json())
    return response.status_code, [response.json()[name] for name in names]


# -- representation -----------------------------------------------------------------------
def _content_types(api: Any) -> list[tuple[int, str]]:
    hook = create_v2(api, is_enabled=False)
    responses = [api.get(V2_HOOKS, headers=AUTH_A),
                 api.post(V1_HOOKS, headers=AUTH_A,
                          json={"url": SAFE_URL, "events": "*", "active": False}),
                 api.get(V2_HOOKS), api.get(f"{V2_HOOKS}/999", headers=AUTH_A),
                 api.post(V2_HOOKS, headers=AUTH_A, json={}),
                 api.get(f"{V2_HOOKS}/{hook['id']}/deliveries", headers=AUTH_A),
                 api.get("/no-such-route", headers=AUTH_A),
                 api.get(V2_HOOKS, headers=AUTH_A)]  # team A's 8th request: over the limit
    for response in responses:
        response.json()  # still JSON
    return [(response.status_code, response.headers["content-type"]) for response in responses]


def test_json_charset(tmp_path: Path) -> None:
    # rate_limit=7: the last request is a 429, which is JSON too.
    clean, charset = compare(tmp_path, "json-charset", _content_types, rate_limit=7)
    statuses = [200, 201, 401, 404, 422, 200, 404, 429]
    assert clean == [(status, "application/json") for status in statuses]
    assert charset == [(status, "application/json; charset=UTF-8") for status in statuses]


def test_fractional_seconds(tmp_path: Path) -> None:
    def probe(api: Any) -> dict[str, str]:
        hook = create_v2(api)  # enabled: its ping to hooks.invalid is logged as failed
        wait_idle(api)
        v1 = api.get(V1_HOOKS, headers=AUTH_A).json()["data"][0]
        [v2_log] = api.get(f"{V2_HOOKS}/{hook['id']}/deliveries", headers=AUTH_A).json()["data"]
        [v1_log] = api.get(f"{V1_HOOKS}/{hook['id']}/deliveries", headers=AUTH_A).json()["data"]
        stamps = {"v2 created_at": hook["created_at"], "v2 updated_at": hook["updated_at"],
                  "v1 created_at": v1["created_at"], "v1 updated_at": v1["updated_at"],
                  "last_sent_at": v2_log["last_sent_at"],
                  "sent_at": v2_log["request"]["body"]["sent_at"],
                  "last_delivered_at": v1_log["last_delivered_at"]}
        instants = {name: _second(stamp) for name, stamp in stamps.items()}
        assert instants["v1 created_at"] == instants["v2 created_at"]
        assert instants["v1 updated_at"] == instants["v2 updated_at"]
        assert instants["last_delivered_at"] == instants["last_sent_at"] == instants["sent_at"]
        assert V2_Z.fullmatch(hook["created_at"]) and V2_Z.fullmatch(hook["updated_at"])
        return {name: "fraction" if FRACTION.fullmatch(stamp) else
                "seconds" if len(stamp) in (20, 25) else stamp for name, stamp in stamps.items()}

    clean, fractional = compare(tmp_path, "fractional-seconds", probe)
    assert set(clean.values()) == {"seconds"}
    assert fractional == {**clean, "v1 created_at": "fraction", "v1 updated_at": "fraction",
                          "last_sent_at": "fraction", "sent_at": "fraction",
                          "last_delivered_at": "fraction"}
    # v2 webhook timestamps are pinned: whole seconds with Z, variant or not.
    assert (fractional["v2 created_at"], fractional["v2 updated_at"]) == ("seconds", "seconds")


def _second(stamp: str) -> int:
    return int(datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp())


def _links(api: Any) -> tuple[str, str, str, list[int]]:
    for _ in range(3):
        create_v2(api, is_enabled=False)
    v2 = api.get(f"{V2_HOOKS}?limit=2&enabled=false", headers=AUTH_A).json()["links"]["next"]
    v1 = api.get(f"{V1_HOOKS}?per_page=2", headers=AUTH_A).json()
    v1_next = v1["meta"]["pagination"]["links"]["next"]
    second = api.get(v1_next.replace("https://api.internal.invalid", ""), headers=AUTH_A)
    previous = second.json()["meta"]["pagination"]["links"]["previous"]
    return v2, v1_next, previous, [item["id"] for item in second.json()["data"]]


def test_relative_links(tmp_path: Path) -> None:
    clean, relative = compare(tmp_path, "relative-links", _links)
    assert clean == ("http://testserver/api/v2/webhooks?limit=2&enabled=false&page=2",
                     "http://testserver/api/webhooks?per_page=2&page=2",
                     "http://testserver/api/webhooks?per_page=2&page=1", [3])
    assert relative == ("/api/v2/webhooks?page=2&limit=2&enabled=false",
                        "/api/webhooks?per_page=2&page=2", "/api/webhooks?per_page=2&page=1",
                        [3])
    # A relative link resolves against the page that holds it, to the same page.
    assert urljoin("http://testserver/api/v2/webhooks?limit=2", relative[0]).startswith(
        "http://testserver/api/v2/webhooks?")


def test_other_host_links(tmp_path: Path) -> None:
    clean, other = compare(tmp_path, "other-host-links", _links)
    assert other == ("https://api.internal.invalid/api/v2/webhooks?page=2&limit=2&enabled=false",
                     "https://api.internal.invalid/api/webhooks?per_page=2&page=2",
                     "https://api.internal.invalid/api/webhooks?per_page=2&page=1", [3])
    assert clean[3] == other[3]


def test_events_reordered(tmp_path: Path) -> None:
    sent = ["case.created", "form.*", "record.*"]

    def probe(api: Any) -> tuple[list[str], str, list[str]]:
        hook = create_v2(api, events=sent, is_enabled=False)
        v1 = api.get(V1_HOOKS, headers=AUTH_A).json()["data"][0]["events"]
        patched = api.patch(f"{V2_HOOKS}/{hook['id']}", headers=AUTH_A,
                            json={"events": ["client.*", "form.sent"]}).json()
        return hook["events"], v1, patched["events"]

    clean, reordered = compare(tmp_path, "events-reordered", probe)
    assert clean == (sent, "case.created,form.*,record.*", ["client.*", "form.sent"])
    assert reordered == (sent[::-1], "record.*,form.*,case.created", ["form.sent", "client.*"])


def test_gzip(tmp_path: Path) -> None:
    def probe(api: Any) -> list[tuple[str | None, int]]:
        create_v2(api, is_enabled=False)
        answers = []
        for encoding in ("gzip", "identity"):
            with api.stream("GET", V2_HOOKS, headers={**AUTH_A, "Accept-Encoding": encoding}
                            ) as response:
                raw = b"".join(response.iter_raw())
            if response.headers.get("content-encoding") == "gzip":
                raw = gzip.decompress(raw)
            assert raw.startswith(b'{"object":"paginated_list"')
            answers.append((response.headers.get("content-encoding"), response.status_code))
        return answers

    clean, compressed = compare(tmp_path, "gzip", probe)
    assert clean == [(None, 200), (None, 200)]
    assert compressed == [("gzip", 200), (None, 200)]


# -- incidentals --------------------------------------------------------------------------
def test_incidentals(tmp_path: Path) -> None:
    def probe(api: Any) -> tuple[list[int], set[int], set[str], int]:
        hooks = [create_v2(api) for _ in range(3)]
        wait_idle(api)
        [log] = api.get(f"{V2_HOOKS}/{hooks[0]['id']}/deliveries", headers=AUTH_A).json()["data"]
        secrets = {re.sub(r"[0-9a-f]", "h", h["secret"]) if not h["secret"].startswith(
            "whsec_") else f"whsec_ + {len(h['secret']) - 6}" for h in hooks}
        v1 = api.get(V1_HOOKS, headers=AUTH_A).json()["data"]
        assert [(h["id"], h["secret"]) for h in v1] == [(h["id"], h["secret"]) for h in hooks]
        return ([h["id"] for h in hooks], {uuid.UUID(h["uuid"]).version for h in hooks},
                secrets, uuid.UUID(log["uuid"]).version)

    clean, unusual = compare(tmp_path, "incidentals", probe)
    assert clean == ([1, 2, 3], {4}, {"h" * 64}, 4)
    assert unusual == ([5, 12, 19], {7}, {"whsec_ + 24"}, 7)


# -- foreign-data -------------------------------------------------------------------------
def _walk(api: Any, headers: dict[str, str]) -> list[dict[str, Any]]:
    items, page = [], 1
    while page <= 5:
        body = api.get(f"{V2_HOOKS}?limit=100&page={page}", headers=headers).json()
        items += body["data"]
        if body["links"] is None or body["links"]["next"] is None:
            break
        page += 1
    return items


def test_prepopulated_unusual(tmp_path: Path) -> None:
    def probe(api: Any) -> dict[str, Any]:
        main, other = _walk(api, AUTH_A), _walk(api, AUTH_B)
        logs = {hook["id"]: api.get(f"{V2_HOOKS}/{hook['id']}/deliveries", headers=AUTH_A
                                    ).json()["data"] for hook in main[:4]}
        return {"counts": (len(main), len(other)), "urls": {h["url"] for h in main + other},
                "ids": [h["id"] for h in main], "disabled": sum(not h["is_enabled"] for h in main),
                "events": {name for h in main for name in h["events"]},
                "logged": [[entry["response"]["status_code"] for entry in log]
                           for log in logs.values()]}

    clean, seeded = compare(tmp_path, "prepopulated-unusual", probe)
    assert clean["counts"] == (0, 0)
    assert seeded["counts"] == (MAIN_TEAM_COUNT, OTHER_TEAM_COUNT) == (130, 20)
    assert set(UNUSUAL_URLS) <= seeded["urls"]
    assert max(len(url) for url in seeded["urls"]) == 2051
    ids = seeded["ids"]
    assert ids == sorted(ids) and ids[-1] - ids[0] > len(ids) - 1  # ascending, with gaps
    assert seeded["disabled"] and {"*", "case.*", "client.*", "form.*", "record.*"} <= seeded[
        "events"]
    assert seeded["logged"] == [["204"], ["0"], ["500"], []]


def test_prepopulated_unusual_data_is_within_the_brief_and_never_sent(tmp_path: Path) -> None:
    with client(tmp_path, variants={"prepopulated-unusual"}) as api:
        wait_idle(api)  # nothing was pending: the dispatcher has nothing to send
        for hook in _walk(api, AUTH_A) + _walk(api, AUTH_B):
            assert re.match(r"(?i)https?://", hook["url"]) and hook["events"], hook
            assert len(set(hook["events"])) == len(hook["events"])
            assert V2_Z.fullmatch(hook["created_at"]) and hook["secret"]
        v1 = api.get(f"{V1_HOOKS}?per_page=100&page=2", headers=AUTH_A).json()
        assert v1["meta"]["pagination"]["total"] == 130 and len(v1["data"]) == 30
        [failed] = api.get(f"{V1_HOOKS}/{_walk(api, AUTH_A)[1]['id']}/deliveries",
                           headers=AUTH_A).json()["data"]
        assert (failed["status"], failed["failed"]) == ("0", True)
        assert _hook_count_after_restart(tmp_path) == 130


def _hook_count_after_restart(tmp_path: Path) -> int:
    with client(tmp_path, variants={"prepopulated-unusual"}) as api:
        return api.get(V2_HOOKS, headers=AUTH_A).json()["total"]


# -- rate-limits --------------------------------------------------------------------------
def test_rate_limited_200(tmp_path: Path) -> None:
    def probe(api: Any) -> tuple[str, list[int], dict[str, Any]]:
        first = api.get(V2_HOOKS, headers=AUTH_A)
        statuses = [api.get("/_sandbox" if n % 2 else V1_HOOKS, headers=AUTH_A).status_code
                    for n in range(200)]  # the sandbox counts against the same budget
        last = api.get(V2_HOOKS, headers=AUTH_A)
        others = [api.get(V2_HOOKS, headers=grant).status_code for grant in (AUTH_B, AUTH_RO)]
        return first.headers["X-RateLimit-Limit"], statuses[-3:] + [last.status_code] + others, {
            name: last.headers.get(name) is not None for name in
            ("X-RateLimit-Limit", "X-RateLimit-Remaining", "Retry-After", "X-RateLimit-Reset")}

    # The server is started with a large --rate-limit; the variant overrides it.
    clean, limited = compare(tmp_path, "rate-limited-200", probe, rate_limit=100_000)
    assert clean[:2] == ("100000", [200, 200, 200, 200, 200, 200])
    assert limited[:2] == ("200", [200, 200, 429, 429, 200, 200])  # per user per team
    assert limited[2] == dict.fromkeys(limited[2], True)


def test_a_429_under_rate_limited_200_is_json_with_the_documented_headers(
        tmp_path: Path) -> None:
    with client(tmp_path, variants={"rate-limited-200"}) as api:
        for _ in range(200):
            api.get(V2_HOOKS, headers=AUTH_A)
        response = api.get(V2_HOOKS, headers=AUTH_A)
        assert response.status_code == 429 and response.json()["message"]
        assert response.headers["content-type"] == "application/json"
        assert response.headers["X-RateLimit-Remaining"] == "0"
        assert 1 <= int(response.headers["Retry-After"]) <= 60
        reset = int(response.headers["X-RateLimit-Reset"])
        assert 0 < reset - datetime.now().timestamp() <= 61


def test_a_user_info_url_reaches_loopback_and_its_password_stays_out_of_the_host_header(
        tmp_path: Path) -> None:
    with receiver() as sink, client(tmp_path) as api:
        url = sink.url("/hook#part").replace("http://", "http://name:pass-word@")
        hook = create_v2(api, url=url)
        wait_idle(api)
        [entry] = api.get(f"{V2_HOOKS}/{hook['id']}/deliveries", headers=AUTH_A).json()["data"]
        assert entry["response"]["status_code"] == "204" and entry["request"]["url"] == url
        assert entry["request"]["headers"]["Host"] == f"127.0.0.1:{sink.port}"
        assert [received.path for received in sink.requests] == ["/hook"]


def test_the_egress_guard_needs_both_parsers_to_agree_on_a_loopback_host() -> None:
    allowed = ("127.0.0.1", "::1", "localhost")
    assert refusal("http://127.0.0.1:9/x", allowed) is None
    assert refusal("HTTP://[::1]:9/a b", allowed) is None
    for url in ("http://127.0.0.1\\@hooks.invalid/", "http://hooks.invalid#@127.0.0.1/",
                "http://hooks.invalid?@127.0.0.1/"):
        assert refusal(url, allowed), url


def test_other_wording(tmp_path: Path) -> None:
    def probe(api: Any) -> list[tuple[int, Any]]:
        responses = [api.post(V2_HOOKS, headers=AUTH_A, json={"url": "nope", "events": []}),
                     api.post(V2_HOOKS, headers=AUTH_A, json={"padding": "x" * 70_000}),
                     api.get(V2_HOOKS), api.get(f"{V2_HOOKS}/999", headers=AUTH_A),
                     api.post(V2_HOOKS, headers=AUTH_RO, json={}),
                     api.get(V2_HOOKS, headers=AUTH_A), api.get(V2_HOOKS, headers=AUTH_A)]
        return [(response.status_code, response.json()) for response in responses]

    clean, reworded = compare(tmp_path, "other-wording", probe, rate_limit=4)
    assert [status for status, _ in clean] == [422, 413, 401, 404, 403, 200, 429]
    assert [status for status, _ in reworded] == [status for status, _ in clean]
    assert reworded[0][1] == {"url": ["Invalid value (1 of 1)."],
                              "events": ["Invalid value (1 of 1)."]} != clean[0][1]
    assert reworded[1][1]["error"] != clean[1][1]["error"]
    assert reworded[2:6] == clean[2:6]  # the brief quotes these bodies: they stay
    assert reworded[6][1]["message"] and reworded[6][1] != clean[6][1]
