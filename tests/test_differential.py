"""Differential runs (contract_suite/differential): normalisation, noise, approvals, reports
in process; the driver end to end against the embedded reference server, on a few
contracts (`-k`), clean against clean and clean against a fault the spec cannot express."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from contract_suite.differential import driver
from contract_suite.differential.approvals import ApprovalsError, load_approvals
from contract_suite.differential.compare import (
    ALSO_FAILURE,
    TO_REVIEW,
    compare,
    diff,
    learn_noise,
    normalised,
)
from contract_suite.differential.recording import RecordingError, Run, load, save
from contract_suite.differential.report import html_page, junit, markdown, summary_lines

BASE = "http://127.0.0.1:40001"
TEST = "contracts/v2/pagination.contract.yaml::walk"


def exchange(method: str, path: str, status: int, body: Any, *, test: str = TEST,
             request: Any = None, headers: dict[str, str] | None = None,
             base: str = BASE, kind: str = "client") -> dict[str, Any]:
    return {"type": "exchange", "kind": kind, "test": test, "method": method,
            "url": base + path, "request_headers": {"Authorization": "Bearer abcd…"},
            "request_body": None if request is None else {"json": request}, "status": status,
            "response_headers": headers or {"Content-Type": "application/json",
                                            "X-RateLimit-Limit": "9", "Date": "now"},
            "response_body": None if body is None else {"json": body}}


def webhook(webhook_id: int, *, run_id: str, uuid: str, created: str = "2026-01-01T10:00:00Z",
            events: list[str] | None = None) -> dict[str, Any]:
    return {"object": "webhook", "id": webhook_id, "uuid": uuid, "secret": "s3cr3t-value-abc",
            "url": f"https://hooks.invalid/aqid-contracts/{run_id}/walk-1a2b3c",
            "events": events or ["case.*", "*"], "is_enabled": True,
            "created_at": created, "updated_at": created}


def a_run(name: str, *, run_id: str, first_id: int, base: str = BASE, descending: bool = False,
          foreign: int = 0, failed: tuple[str, ...] = ()) -> Run:
    """A test creating two webhooks and listing them (another worker's `foreign` ones too)."""
    uuids = [f"{first_id:08d}-0000-4000-8000-00000000000{n}" for n in (1, 2)]
    own = [webhook(first_id + n, run_id=run_id, uuid=uuids[n],
                   created=f"2026-0{n + 1}-0{first_id % 9 + 1}T1{n}:00:00Z") for n in (0, 1)]
    listed = [webhook(900 + n, run_id="others", uuid=f"{n:08d}-1111-4000-8000-000000000000")
              for n in range(foreign)] + own
    if descending:
        listed.reverse()
    tagged = f"https://hooks.invalid/aqid-contracts/{run_id}/walk-9f8e7d"
    records = [
        {"type": "meta", "base_url": base, "run_id": run_id, "seed": 1, "profile": "smoke"},
        exchange("POST", "/api/v2/webhooks", 201, own[0], request={"url": tagged}, base=base),
        exchange("POST", "/api/v2/webhooks", 201, own[1], request={"url": tagged}, base=base),
        exchange("GET", f"/api/v2/webhooks/{first_id}", 200, own[0], base=base),
        exchange("GET", "/api/v2/webhooks?limit=25", 200,
                 {"object": "paginated_list", "data": listed, "total": len(listed),
                  "count": len(listed), "links": None}, base=base),
        exchange("GET", "/api/v2/webhooks/123456789", 404, {"error": "Webhook not found"},
                 base=base),
        {"type": "outcome", "test": TEST, "when": "call",
         "outcome": "failed" if TEST in failed else "passed"},
    ]
    return Run(name, records)


def test_two_runs_that_differ_only_in_ids_uuids_times_secrets_hosts_and_foreign_data_are_equal(
) -> None:
    one = normalised(a_run("b1", run_id="aaaa1111", first_id=1))
    other = normalised(a_run("b2", run_id="bbbb2222", first_id=57, base="http://127.0.0.1:40999",
                             foreign=3))
    assert set(one) == set(other)
    for key in one:
        assert diff(one[key].document, other[key].document) == [], one[key].operation


def test_normalisation_keeps_what_the_contract_says_ids_become_the_nth_created() -> None:
    items = list(normalised(a_run("b1", run_id="aaaa1111", first_id=5)).values())
    listed = items[3].document["body"]["data"]
    assert [item["id"] for item in listed] == ["<id #1>", "<id #2>"]
    assert listed[0]["url"] == "https://hooks.invalid/aqid-contracts/<run-id>/walk-<slug>"
    assert listed[0]["secret"] == "<secret>" and listed[0]["created_at"] == "<date-timeZ>"
    assert listed[0]["events"] == ["*", "case.*"]  # Room: no order inside events
    assert items[3].operation == "v2 GET /webhooks"
    assert items[2].operation == "v2 GET /webhooks/{id}"
    assert items[2].document["headers"] == {
        "content-type": "application/json", "x-ratelimit-limit": "<present>",
        "x-ratelimit-remaining": "<absent>", "retry-after": "<absent>",
        "x-ratelimit-reset": "<absent>"}


def test_a_list_in_the_other_order_is_a_difference_to_review_when_the_contract_run_passed(
) -> None:
    baseline = normalised(a_run("b1", run_id="aaaa1111", first_id=1))
    candidate = normalised(a_run("c", run_id="cccc3333", first_id=9, descending=True))
    result = compare(baseline, candidate, learn_noise([baseline]))
    assert [(f.operation, f.verdict) for f in result.findings] == [("v2 GET /webhooks",
                                                                     TO_REVIEW)]
    paths = {c.path for c in result.findings[0].changes}
    assert paths == {"$.data[0].id", "$.data[0].uuid", "$.data[0].created_at",
                     "$.data[1].id", "$.data[1].uuid", "$.data[1].created_at"} - {
        "$.data[0].created_at", "$.data[1].created_at"}


def test_a_difference_in_a_test_the_candidate_failed_is_also_a_contract_failure() -> None:
    baseline = normalised(a_run("b1", run_id="aaaa1111", first_id=1))
    candidate_run = a_run("c", run_id="cccc3333", first_id=9, descending=True, failed=(TEST,))
    result = compare(baseline, normalised(candidate_run), learn_noise([baseline]),
                     candidate_failures=candidate_run.failed_tests)
    assert [f.verdict for f in result.findings] == [ALSO_FAILURE]


def test_what_differs_between_the_two_baseline_runs_is_learned_as_noise() -> None:
    first = a_run("b1", run_id="aaaa1111", first_id=1)
    second = a_run("b2", run_id="bbbb2222", first_id=3)
    first.records[3]["response_body"]["json"]["note"] = "built at 10:00"
    second.records[3]["response_body"]["json"]["note"] = "built at 10:05"
    candidate = a_run("c", run_id="cccc3333", first_id=9)
    candidate.records[3]["response_body"]["json"]["note"] = "built at 11:00"
    maps = [normalised(first), normalised(second)]
    noise = learn_noise(maps)
    assert (TEST, "v2 GET /webhooks/{id}", "$.note") in noise.paths
    assert compare(maps[0], normalised(candidate), noise).findings == []
    assert compare(maps[0], normalised(candidate), learn_noise(maps[:1])).findings != []


def test_a_status_change_and_a_missing_exchange_are_reported_once_per_operation() -> None:
    baseline = normalised(a_run("b1", run_id="aaaa1111", first_id=1))
    candidate_run = a_run("c", run_id="cccc3333", first_id=9)
    candidate_run.records[5]["status"] = 422
    del candidate_run.records[3]
    result = compare(baseline, normalised(candidate_run), learn_noise([baseline]))
    lines = summary_lines(result, "t")
    assert any("status 404 -> 422" in line for line in lines)
    assert any("exchange only in the baseline: GET 200 v2 GET /webhooks/{id}" in line
               for line in lines)
    assert len(result.findings) == 2


def test_an_approval_silences_its_difference_and_a_stale_one_is_noted(tmp_path: Path) -> None:
    approvals = tmp_path / "approvals.yaml"
    approvals.write_text(
        "approvals:\n"
        "  - operation: v2 GET /webhooks/{id}\n    path: status\n    status: 404 -> 422\n"
        "    reason: unknown ids are a validation error since 2.4\n"
        "  - operation: v2 GET /webhooks\n    path: $.data\n    reason: newest first\n")
    baseline = normalised(a_run("b1", run_id="aaaa1111", first_id=1))
    candidate_run = a_run("c", run_id="cccc3333", first_id=9)
    candidate_run.records[5]["status"] = 422
    candidate_run.records[5]["response_body"] = {"json": {"error": "Webhook not found"}}
    result = compare(baseline, normalised(candidate_run), learn_noise([baseline]),
                     load_approvals(approvals))
    assert result.findings == [] and result.approved == 1
    assert [a.line for a in result.unused_approvals] == [6]


def test_an_approval_copied_from_a_report_with_one_index_covers_every_index(
        tmp_path: Path) -> None:
    approvals = tmp_path / "approvals.yaml"
    approvals.write_text("approvals:\n  - operation: v2 GET /webhooks\n    path: $.data[0]\n"
                         "    reason: newest first since 2.4\n")
    baseline = normalised(a_run("b1", run_id="aaaa1111", first_id=1))
    candidate = normalised(a_run("c", run_id="cccc3333", first_id=9, descending=True))
    assert compare(baseline, candidate, learn_noise([baseline])).findings != []
    result = compare(baseline, candidate, learn_noise([baseline]), load_approvals(approvals))
    assert result.findings == [] and result.approved == 4


@pytest.mark.parametrize(("text", "error"), [
    ("approvals:\n  - operation: v2 GET /webhooks\n    path: $.data\n",
     "approvals.yaml:2: this approval has no `reason`"),
    ("approvals:\n  - operation: x\n    path: y\n    reason: z\n    because: w\n",
     "approvals.yaml:5: unknown field 'because'"),
    ("approvals:\n  - {operation: x, path: status, status: '404 to 422', reason: z}\n",
     "approvals.yaml:2: `status` is written `404 -> 422`"),
    ("approve:\n  - {}\n", "approvals.yaml:1: unknown key 'approve'"),
    ("approvals: [\n", "approvals.yaml:2: not valid YAML"),
])
def test_a_malformed_approvals_file_is_one_line_naming_file_and_line(
        tmp_path: Path, text: str, error: str) -> None:
    path = tmp_path / "approvals.yaml"
    path.write_text(text)
    with pytest.raises(ApprovalsError) as caught:
        load_approvals(path)
    assert str(caught.value).startswith(str(tmp_path / error.split(":")[0]) + ":"
                                        + error.split(":", 1)[1].split(":")[0])
    assert error.split(": ", 1)[1] in str(caught.value)
    assert "\n" not in str(caught.value)


def test_reports_show_request_both_responses_and_the_json_diff_with_secrets_masked() -> None:
    baseline = normalised(a_run("b1", run_id="aaaa1111", first_id=1))
    candidate_run = a_run("c", run_id="cccc3333", first_id=9, descending=True, failed=(TEST,))
    result = compare(baseline, normalised(candidate_run), learn_noise([baseline]),
                     candidate_failures=candidate_run.failed_tests)
    text = markdown(result, "title")
    assert "## 1. v2 GET /webhooks: also a contract failure" in text
    assert "GET http://127.0.0.1:40001/api/v2/webhooks?limit=25" in text
    assert "Baseline response:" in text and "Candidate response:" in text
    assert "| changed | `$.data[0].id` | `<id #1>` | `<id #2>` |" in text
    page = html_page(result, "title")
    assert "<th>baseline</th><th>candidate</th>" in page
    xml = junit(result)
    assert xml.count("<testcase") == len(result.operations) == 3
    assert xml.count("<failure") == 1 and 'name="v2 GET /webhooks"' in xml


DELIVERY_TEST = "contracts/deliveries/test_delivery_routing.py::test_deleted"
RECEIVER = "http://127.0.0.1:40100/aqid-contracts/{run}/deleted-3-a1b2c3"


def delivery(run_id: str, alias: str, uuid: str) -> dict[str, Any]:
    payload = {"webhook": {"uuid": "0000aaaa-0000-4000-8000-000000000001",
                           "created_at": "2026-01-01T10:00:00Z", "events": ["case.*"]},
               "trigger": {"triggered_at": "2026-01-01T10:00:01Z", "alias": alias},
               "data": ["ping"] if alias == "ping" else {"case": {"ref": "c-1"}}}
    return {"type": "exchange", "kind": "delivery", "test": DELIVERY_TEST, "method": "POST",
            "url": RECEIVER.format(run=run_id),
            "request_headers": {"Content-Type": "application/json",
                                "X-AQID-Delivery-Id": uuid, "X-AQID-Delivery-Attempt": "1",
                                "X-AQID-Signature": "A" * 43 + "="},
            "request_body": {"json": payload}, "status": 204, "response_headers": {},
            "response_body": None}


def a_delivery_run(name: str, *, run_id: str, first_id: int, ping_arrived: bool,
                   event_arrived: bool = True, marked: bool = False) -> Run:
    """A test creating an enabled webhook (so it is pinged), reading its log, firing an
    event and deleting it: the ping arrives, and shows in the log, or not yet."""
    hook = webhook(first_id, run_id=run_id, uuid="0000aaaa-0000-4000-8000-000000000001")
    hook["url"] = RECEIVER.format(run=run_id)
    ping_uuid, event_uuid = (f"{first_id:08d}-2222-4000-8000-00000000000{n}" for n in (1, 2))
    ping_entry = {"object": "webhook_delivery", "id": first_id * 10, "uuid": ping_uuid,
                  "event": "ping", "attempts": 1, "response": {"status_code": "204"}}
    log = {"object": "paginated_list", "data": [ping_entry] if ping_arrived else [],
           "count": int(ping_arrived), "total": int(ping_arrived), "links": None}
    records = [
        {"type": "meta", "base_url": BASE, "run_id": run_id, "seed": 1, "profile": "smoke"},
        exchange("POST", "/api/v2/webhooks", 201, hook, test=DELIVERY_TEST,
                 request={"url": hook["url"], "events": ["case.*"]}),
        *([delivery(run_id, "ping", ping_uuid)] if ping_arrived else []),
        exchange("GET", f"/api/v2/webhooks/{first_id}/deliveries", 200, log,
                 test=DELIVERY_TEST),
        *([delivery(run_id, "case.created", event_uuid)] if event_arrived else []),
        exchange("DELETE", f"/api/v2/webhooks/{first_id}", 204, None, test=DELIVERY_TEST),
        {"type": "outcome", "test": DELIVERY_TEST, "when": "call", "outcome": "passed",
         "pings": marked},
    ]
    return Run(name, records)


def test_a_ping_racing_the_test_is_left_out_and_compared_where_the_test_waits_for_it() -> None:
    baseline = a_delivery_run("b1", run_id="aaaa1111", first_id=1, ping_arrived=True)
    late = a_delivery_run("c", run_id="cccc3333", first_id=7, ping_arrived=False)
    maps = [normalised(baseline)]
    assert compare(maps[0], normalised(late), learn_noise(maps)).findings == []
    # Only the ping: an event that stopped arriving is still a difference.
    lost = a_delivery_run("c", run_id="cccc3333", first_id=7, ping_arrived=True,
                          event_arrived=False)
    result = compare(maps[0], normalised(lost), learn_noise(maps))
    assert [(f.operation, f.changes[0].path) for f in result.findings] == [
        ("delivery POST (receiver)", "exchange")]
    # A test marked `pings` (in every run) waits for its ping: one that never came counts.
    marked = [a_delivery_run("b1", run_id="aaaa1111", first_id=1, ping_arrived=True,
                             marked=True),
              a_delivery_run("c", run_id="cccc3333", first_id=7, ping_arrived=False,
                             marked=True)]
    assert all(run.ping_tests == {DELIVERY_TEST} for run in marked)
    result = compare(normalised(marked[0]), normalised(marked[1]),
                     learn_noise([normalised(marked[0])]))
    assert {f.operation for f in result.findings} == {
        "delivery POST (receiver)", "v2 GET /webhooks/{id}/deliveries"}
    # ...and where only one run marked it (an older recording), its pings race.
    mixed = frozenset({DELIVERY_TEST}) & baseline.ping_tests
    assert compare(normalised(baseline, mixed), normalised(marked[1], mixed),
                   learn_noise(maps)).findings == []


def test_a_recording_round_trips_and_a_broken_one_is_one_line(tmp_path: Path) -> None:
    runs = [a_run("baseline-1", run_id="aaaa1111", first_id=1),
            a_run("baseline-2", run_id="bbbb2222", first_id=4)]
    path = tmp_path / "baseline.jsonl.gz"
    save(path, runs, seed=42, profile="smoke", pytest_args=("-k", "walk"))
    header, loaded = load(path)
    assert header["seed"] == 42 and header["pytest_args"] == ["-k", "walk"]
    assert [r.records for r in loaded] == [r.records for r in runs]
    broken = tmp_path / "broken.jsonl"
    broken.write_text(json.dumps({"type": "recording", "format": 1, "runs": []}) + "\n{oops\n")
    with pytest.raises(RecordingError, match=r"broken.jsonl:2: not a JSON line"):
        load(broken)


def test_the_driver_refuses_a_half_given_target_and_an_unknown_fault_with_exit_4(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert driver.main(["--baseline-url", "http://127.0.0.1:9", "--baseline-token", "t"]) == 4
    assert driver.main(["--fault", "no-such-fault"]) == 4
    assert driver.main(["--baseline-fault", "no-such-fault"]) == 4
    assert driver.main(["--baseline-url", "http://127.0.0.1:9", "--baseline-token", "t",
                        "--base-url", "http://127.0.0.1:9", "--token", "u",
                        "--baseline-fault", "list-order-descending"]) == 4
    assert driver.main(["--base-url", "http://127.0.0.1:9/api", "--token", "x",
                        "--baseline-url", "http://127.0.0.1:9", "--baseline-token", "y"]) == 4
    err = capsys.readouterr().err.splitlines()
    assert err == [
        "ERROR: aqid-contracts: differential: give both --baseline-url and --base-url (or "
        "neither, for the embedded reference server)",
        "ERROR: aqid-contracts: differential: --fault 'no-such-fault' is not in the "
        "catalogue (python -m reference_server --list-faults)",
        "ERROR: aqid-contracts: differential: --baseline-fault 'no-such-fault' is not in the "
        "catalogue (python -m reference_server --list-faults)",
        "ERROR: aqid-contracts: differential: --baseline-fault/--baseline-variant apply to "
        "the embedded baseline, not to --baseline-url or a recording",
        "ERROR: aqid-contracts: --base-url 'http://127.0.0.1:9/api' must not include /api "
        "(the suite appends /api and /api/v2 itself)"]


# --- end to end: the driver, three bounded suite runs on the embedded server (loopback) ---

PAGINATION = "contracts/v2/pagination.contract.yaml"


def run_driver(*args: str, tmp_path: Path) -> tuple[int, list[str]]:
    lines: list[str] = []
    code = driver.main(["--profile", "smoke", "--reports", str(tmp_path / "reports"),
                        "--timeout", "240", *args, "--", PAGINATION], say=lines.append)
    return code, lines


@pytest.mark.slow
def test_clean_matches_clean_and_a_recording_of_it_names_the_list_order_fault(
        tmp_path: Path) -> None:
    record = tmp_path / "baseline.jsonl.gz"
    code, lines = run_driver("--seed", "11", "--record", str(record), tmp_path=tmp_path)
    assert code == 0, "\n".join(lines)  # baseline twice and the clean candidate: no difference
    assert "differences: 0 (0 also a contract failure, 0 to review); approved: 0; candidate "\
           "contract failures: 0" in lines
    assert any(line.startswith("operations: 4; exchanges compared: ") for line in lines)

    code, lines = run_driver("--against-recording", str(record), "--fault",
                             "list-order-descending", tmp_path=tmp_path)
    assert code == 1
    assert "noise learned from 2 baseline runs" in "\n".join(lines)
    assert any(line.startswith("DIFF v2 GET /webhooks [also a contract failure]")
               for line in lines), "\n".join(lines)
    assert "     $.data[0].id: <id #1> -> <id #2>" in lines
    report = (tmp_path / "reports" / "differential.md").read_text()
    assert "Baseline response:" in report and "Candidate response:" in report
    junit_xml = (tmp_path / "reports" / "differential-junit.xml").read_text()
    assert junit_xml.count("<failure") == 1 and 'name="v2 GET /webhooks"' in junit_xml
    for text in (report, junit_xml, "\n".join(lines), record.read_bytes().decode("latin-1")):
        assert "selftest-main-" not in text and "Bearer selftest" not in text


@pytest.mark.slow
def test_a_clean_candidate_against_a_recording_of_a_faulty_build_names_the_difference(
        tmp_path: Path) -> None:
    # The other way round: the recorded baseline had the fault, the candidate is clean.
    # The candidate keeps every contract, so each difference is "a change to review".
    record = tmp_path / "faulty-baseline.jsonl"
    code, lines = run_driver("--seed", "12", "--baseline-fault", "list-order-descending",
                             "--record", str(record), tmp_path=tmp_path)
    assert "baseline-1: embedded reference server (fault list-order-descending): exit 1" \
        in "\n".join(lines), "\n".join(lines)
    assert code == 1  # the clean candidate of this run differs from the faulty baseline

    code, lines = run_driver("--against-recording", str(record), tmp_path=tmp_path)
    text = "\n".join(lines)
    assert code == 1, text
    assert "DIFF v2 GET /webhooks [a change to review]" in text, text
    assert "     $.data[0].id: <id #2> -> <id #1>" in lines, text
    assert "candidate contract failures: 0" in text, text


@pytest.mark.slow
def test_an_unreachable_candidate_ends_the_differential_run_with_one_line_and_exit_4(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    code, lines = run_driver("--baseline-url", f"http://127.0.0.1:{port}", "--baseline-token",
                             "tok-000000000000", "--base-url", f"http://127.0.0.1:{port}",
                             "--token", "tok-111111111111", tmp_path=tmp_path)
    assert code == 4
    assert capsys.readouterr().err.splitlines() == [
        f"ERROR: aqid-contracts: target http://127.0.0.1:{port} is unreachable (connection "
        "refused) — check --base-url"]


@pytest.mark.slow
def test_pytest_with_a_baseline_url_is_a_differential_run_of_the_same_selection(
        tmp_path: Path) -> None:
    """`pytest contracts/… --baseline-url OLD --base-url NEW`: the driver's run, its exit."""
    import subprocess
    import sys

    from contract_suite.core.paths import ROOT
    from reference_server.launcher import start_reference_server

    tokens = {"team-a": "entry-token-a"}
    with start_reference_server(db_path=tmp_path / "old.sqlite3", tokens=tokens) as old, \
            start_reference_server(db_path=tmp_path / "new.sqlite3", tokens=tokens,
                                   faults=["list-order-descending"]) as new:
        done = subprocess.run(
            [sys.executable, "-m", "pytest", PAGINATION, "-p", "no:cacheprovider",
             "--baseline-url", old.base_url, "--baseline-token", "entry-token-a",
             "--base-url", new.base_url, "--token", "entry-token-a",
             "--profile", "smoke", "--seed", "11"],
            cwd=ROOT, capture_output=True, text=True, timeout=600, check=False,
            env={k: v for k, v in __import__("os").environ.items()
                 if not k.startswith("AQID_")} | {"AQID_DIFF_REPORTS": str(tmp_path)})
    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    assert f"baseline: {old.base_url} (2 runs) | candidate: {new.base_url} | seed 11" in output
    assert "DIFF v2 GET /webhooks" in output
    assert "entry-token-a" not in output  # tokens never in full
    # A path outside contracts/ is refused before any run, in one line.
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "tests/test_spec.py", "--baseline-url",
         "http://127.0.0.1:9", "--base-url", "http://127.0.0.1:9"],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 4, done.stdout + done.stderr
    assert "a differential run compares contract runs: tests/test_spec.py is not under" in \
        done.stderr


def test_updated_at_that_moved_on_a_rejected_update_is_a_difference_and_timing_is_not() -> None:
    def run(name: str, *, moved_on_reject: bool, update_in_same_second: bool) -> Run:
        hook = webhook(5, run_id="aaaa1111", uuid="0000aaaa-0000-4000-8000-000000000005")
        later = {**hook, "updated_at": "2026-01-01T10:00:02Z"}
        patched = later if not update_in_same_second else hook
        return Run(name, [
            {"type": "meta", "base_url": BASE, "run_id": "aaaa1111"},
            exchange("POST", "/api/v2/webhooks", 201, hook, request={"url": hook["url"]}),
            exchange("PATCH", "/api/v2/webhooks/5", 422, {"url": ["bad"]}, request={"url": 1}),
            exchange("GET", "/api/v2/webhooks/5", 200, later if moved_on_reject else hook),
            exchange("PATCH", "/api/v2/webhooks/5", 200, patched, request={"events": ["*"]}),
            exchange("GET", "/api/v2/webhooks/5", 200, patched)])

    baseline = normalised(run("b", moved_on_reject=False, update_in_same_second=False))
    assert baseline[next(iter(baseline))].document["body"]["updated_at"] == "<= created_at>"
    # A successful update in the same second as the create, or not: timing, no difference.
    same_second = normalised(run("c", moved_on_reject=False, update_in_same_second=True))
    assert compare(baseline, same_second, learn_noise([baseline])).findings == []
    faulty = normalised(run("c", moved_on_reject=True, update_in_same_second=False))
    result = compare(baseline, faulty, learn_noise([baseline]))
    assert [(f.operation, [(c.path, c.baseline) for c in f.changes]) for f in result.findings] \
        == [("v2 GET /webhooks/{id}", [("$.updated_at", "<= created_at>")])]


def test_the_recorder_checks_each_delivery_signature_and_writes_no_secret(
        tmp_path: Path) -> None:
    from contract_suite.core.exchanges import Exchange
    from contract_suite.deliveries.signature import sign
    from contract_suite.differential.recorder import ExchangeWriter

    secret, url = "whsec-0123456789abcdef", "http://127.0.0.1:40100/aqid-contracts/r/hook-1"
    body = b'{"trigger": {"alias": "case.created"}}'

    def delivery(signature: str | None, to: str = url) -> Exchange:
        headers = {"Content-Type": "application/json"}
        if signature:
            headers["X-AQID-Signature"] = signature
        return Exchange("delivery", TEST, "POST", to, headers, body, 204, {}, None)

    created = Exchange("client", TEST, "POST", BASE + "/api/v2/webhooks", {}, b"{}", 201, {},
                       json.dumps({"id": 1, "url": url, "secret": secret}).encode())
    path = tmp_path / "exchanges.jsonl"
    writer = ExchangeWriter(path, mask=lambda text: text.replace(secret, "whse…"))
    writer.exchange(delivery(sign(secret, body)))  # a ping before its create's answer
    writer.exchange(created)
    writer.exchange(delivery(sign("another-key", body)))
    writer.exchange(delivery(None))
    writer.exchange(delivery(sign(secret, body), to=url + "-unknown"))
    writer.close()
    text = path.read_text()
    verdicts = [json.loads(line).get("signature_check") for line in text.splitlines()]
    assert verdicts == [None, "verifies with the webhook's secret",
                        "does not verify with the webhook's secret", "unsigned",
                        "no secret seen for this URL"]
    assert secret not in text


def test_list_links_must_keep_the_query_while_their_page_and_presence_are_the_teams() -> None:
    def run(name: str, links: Any, *, base: str = BASE) -> Run:
        records = a_run(name, run_id="aaaa1111", first_id=1, base=base).records
        records[4]["response_body"]["json"]["links"] = links
        return Run(name, records)

    kept = {"next": BASE + "/api/v2/webhooks?limit=25&page=2", "previous": None}
    baseline = normalised(run("b", kept))
    noise = learn_noise([baseline])
    # Another page number, another host, the query in another order, or no second page at
    # all (the team's size decides): no difference.
    for links in ({"next": "https://other.test/api/v2/webhooks?page=3&limit=25",
                   "previous": None}, None):
        assert compare(baseline, normalised(run("c", links)), noise).findings == [], links
    dropped = normalised(run("c", {"next": BASE + "/api/v2/webhooks?page=2", "previous": None}))
    result = compare(baseline, dropped, noise)
    assert [(c.path, c.baseline, c.candidate) for f in result.findings for c in f.changes] == [
        ("$.links.next", "<link /api/v2/webhooks?limit=25&page=<page>>",
         "<link /api/v2/webhooks?page=<page>>")]
