"""API coverage (contract_suite/coverage): counted from exchanges, never from the files.

Unit tests over hand-made exchanges and the real specs, then two small in-process runs of
curated contracts against the embedded reference server: a narrowed run covers less and
fails --coverage-fail-under, the fuller one passes it.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from contract_suite.core.exchanges import Exchange
from contract_suite.core.paths import CONTRACTS_DIR, SPEC_DIR
from contract_suite.core.spec_index import SpecIndex
from contract_suite.coverage.html import SECTION_ID, section
from contract_suite.coverage.model import (
    Collector,
    Criterion,
    delivery_events,
    evaluate,
    tcl_of,
)
from contract_suite.coverage.plugin import parse_level
from contract_suite.coverage.render import gate_line, terminal_lines, to_json
from contract_suite.coverage.universe import CRITERIA, load_universes

BASE = "http://127.0.0.1:9"
TEST = "contracts/v2/some.contract.yaml::scenario"
WEBHOOK = {"object": "webhook", "id": 7, "uuid": "db6a2d91-b67e-4f88-b71a-b73da98c5168",
           "url": "https://hooks.invalid/x", "secret": "s" * 40, "events": ["record.*"],
           "is_enabled": True, "created_at": "2024-01-01T00:00:00Z",
           "updated_at": "2024-01-01T00:00:00Z"}


def exchange(method: str, path: str, status: int | None = 200, *, body: Any = None,
             response: Any = None, kind: str = "client", test: str | None = TEST,
             content_type: str = "application/json") -> Exchange:
    request_body = json.dumps(body).encode() if body is not None else None
    return Exchange(kind, test, method, BASE + path,
                    {"Content-Type": content_type} if request_body else {}, request_body,
                    status, {"Content-Type": "application/json"} if response is not None else {},
                    json.dumps(response).encode() if response is not None else None)


def collector(*versions: str) -> Collector:
    universes = load_universes(SPEC_DIR)
    documents = [spec.document for spec in SpecIndex.load(SPEC_DIR).specs.values()]
    return Collector({v: universes[v] for v in versions or ("v1", "v2")},
                     delivery_events(documents))


def observed(*exchanges: Exchange, versions: tuple[str, ...] = ("v2",)) -> Any:
    seen = collector(*versions)
    for item in exchanges:
        seen.observe(item)
    return evaluate(seen)


def covered(report: Any, version: str, criterion: str) -> set[str]:
    return {f"{s} {d}".strip() for s, d in report.versions[version].criteria[criterion].covered}


def missing(report: Any, version: str, criterion: str) -> set[str]:
    return {f"{s} {d}".strip() for s, d in report.versions[version].criteria[criterion].missing}


# --- the universe comes from the spec --------------------------------------------------------


def test_the_universe_of_v2_is_read_from_its_spec_with_refs_resolved() -> None:
    items = load_universes(SPEC_DIR)["v2"].items
    document = SpecIndex.load(SPEC_DIR).specs["v2"].document
    methods = sum(len([m for m in item if m != "parameters"])
                  for item in document["paths"].values())
    assert len(items["operations"]) == methods
    assert ("GET /api/v2/webhooks", "query enabled") in items["parameters"]
    assert ("POST /api/v2/webhooks", "body is_enabled") in items["parameters"]
    # every subscribable event is a value of `events[]`, and both booleans of is_enabled
    events = document["components"]["schemas"]["SubscribableEvent"]["enum"]
    for event in events:
        assert ("POST /api/v2/webhooks", f"body events[]={event}") in items["parameter_values"]
    assert ("PATCH /api/v2/webhooks/{id}", "body is_enabled=false") in items["parameter_values"]
    # list items' properties are named data[].x; the envelope's are its own
    assert ("GET /api/v2/webhooks", "data[].is_enabled") in items["response_properties"]
    assert ("GET /api/v2/webhooks", "links.next") in items["response_properties"]
    assert ("DELETE /api/v2/webhooks/{id}", "204") in items["status_codes"]


def test_v1_events_count_each_comma_joined_name_as_a_value_of_the_event_enum() -> None:
    report = observed(exchange("POST", "/api/webhooks", 201, body={
        "url": "https://hooks.invalid/x", "events": "client.*,record.finished", "active": False}),
        versions=("v1",))
    values = covered(report, "v1", "parameter_values")
    assert values == {"POST /api/webhooks body events=client.*",
                      "POST /api/webhooks body events=record.finished",
                      "POST /api/webhooks body active=false"}


# --- counted from exchanges, not from files ---------------------------------------------------


def test_an_operation_in_the_spec_that_was_never_called_is_missing() -> None:
    report = observed(exchange("GET", "/api/v2/webhooks", 200, response={"data": []}))
    assert covered(report, "v2", "operations") == {"GET /api/v2/webhooks"}
    assert "DELETE /api/v2/webhooks/{id}" in missing(report, "v2", "operations")
    assert covered(report, "v2", "paths") == {"/api/v2/webhooks"}
    assert report.versions["v2"].tcl == 0


def test_a_status_the_spec_does_not_document_covers_nothing_and_is_listed_apart() -> None:
    report = observed(exchange("POST", "/api/v2/webhooks", 500, response={"oops": 1}),
                      exchange("PUT", "/api/v2/webhooks/7", 405, response={"error": "x"}))
    assert covered(report, "v2", "status_codes") == set()
    assert covered(report, "v2", "status_code_classes") == set()
    assert covered(report, "v2", "response_properties") == set()
    assert report.versions["v2"].undocumented == (
        ("POST /api/v2/webhooks", "500"), ("PUT /api/v2/webhooks/{id}", "405"))
    # the path was still exercised, and the POST operation called
    assert covered(report, "v2", "paths") == {"/api/v2/webhooks", "/api/v2/webhooks/{id}"}
    assert covered(report, "v2", "operations") == {"POST /api/v2/webhooks"}


def test_probe_cleanup_and_sandbox_exchanges_do_not_count() -> None:
    report = observed(exchange("GET", "/api/v2/webhooks", 200, test=None),  # probe, cleanup
                      exchange("POST", "/_sandbox/events", 202, body={"event": "client.created"}))
    assert report.versions["v2"].exchanges == 0
    assert covered(report, "v2", "paths") == set()


def test_values_count_only_as_sent_query_booleans_only_when_written_true_or_false() -> None:
    report = observed(exchange("GET", "/api/v2/webhooks?enabled=1&page=2", 200),
                      exchange("GET", "/api/v2/webhooks?enabled=false", 200),
                      exchange("POST", "/api/v2/webhooks", 422,
                               body={"url": 3, "events": ["record.*", "nope"]}))
    assert covered(report, "v2", "parameter_values") == {
        "GET /api/v2/webhooks query enabled=false",
        "POST /api/v2/webhooks body events[]=record.*"}
    assert covered(report, "v2", "parameters") == {
        "GET /api/v2/webhooks query enabled", "GET /api/v2/webhooks query page",
        "POST /api/v2/webhooks body url", "POST /api/v2/webhooks body events"}
    assert covered(report, "v2", "request_content_types") == {
        "POST /api/v2/webhooks application/json"}


def test_response_properties_count_under_the_documented_status_only() -> None:
    page = {"object": "paginated_list", "data": [{**WEBHOOK, "colour": "blue"}], "total": 1,
            "count": 1, "limit": 25, "current_page": 1, "total_pages": 1, "links": None}
    report = observed(exchange("GET", "/api/v2/webhooks", 200, response=page),
                      exchange("GET", "/api/v2/webhooks", 401, response={"error": "x", "id": 1}))
    properties = covered(report, "v2", "response_properties")
    assert "GET /api/v2/webhooks data[].secret" in properties
    assert "GET /api/v2/webhooks error" in properties  # the 401 body documents it
    assert "GET /api/v2/webhooks data[].colour" not in properties  # undocumented: ignored
    assert "GET /api/v2/webhooks links.next" in missing(report, "v2", "response_properties")
    assert covered(report, "v2", "status_code_classes") == {
        "GET /api/v2/webhooks 2XX", "GET /api/v2/webhooks 4XX"}
    assert covered(report, "v2", "response_content_types") == {
        "GET /api/v2/webhooks application/json"}


def test_deliveries_are_counted_by_event_in_their_own_section() -> None:
    ping = {"webhook": {"uuid": WEBHOOK["uuid"]}, "trigger": {"alias": "ping"}, "data": ["ping"]}
    report = observed(exchange("POST", "/receiver/1", 204, body=ping, kind="delivery", test=None))
    assert report.deliveries.delivered == ("ping",)
    assert "client.created" in report.deliveries.missing
    assert report.versions["v2"].exchanges == 0  # a delivery is no API exchange


def test_what_workers_ship_merges_at_the_controller_into_what_one_process_would_see() -> None:
    calls = [exchange("GET", "/api/v2/webhooks?enabled=true", 200),
             exchange("POST", "/api/v2/webhooks", 201, body={"url": "https://h.invalid",
                                                             "events": ["form.*"]},
                      response=WEBHOOK),
             exchange("DELETE", "/api/v2/webhooks/7", 204),
             exchange("DELETE", "/api/v2/webhooks", 405)]
    alone, worker_a, worker_b, controller = (collector("v2") for _ in range(4))
    for index, call in enumerate(calls):
        alone.observe(call)
        (worker_a if index % 2 else worker_b).observe(call)
    for worker in (worker_a, worker_b):
        controller.merge(json.loads(json.dumps(worker.to_data())))  # as xdist ships it
    assert to_json(evaluate(controller), {}) == to_json(evaluate(alone), {})
    assert evaluate(controller).versions["v2"].exchanges == len(calls)


# --- levels, gate, outputs ------------------------------------------------------------------


def criteria(incomplete: set[str]) -> dict[str, Criterion]:
    return {name: Criterion(name, level, (("x", "a"),), (("x", "b"),) if name in incomplete
                            else ()) for name, level in CRITERIA.items()}


@pytest.mark.parametrize(("incomplete", "level"), [
    (set(), 6),
    ({"response_properties"}, 5),
    ({"status_codes"}, 4),
    ({"status_codes", "response_properties"}, 4),
    ({"parameters"}, 3),
    ({"response_content_types"}, 2),
    ({"paths"}, 0),
])
def test_the_tcl_is_the_highest_level_complete_together_with_every_level_below(
        incomplete: set[str], level: int) -> None:
    assert tcl_of(criteria(incomplete)) == level


@pytest.mark.parametrize(("given", "level"), [("TCL4", 4), ("tcl2", 2), ("5", 5), ("0", 0)])
def test_fail_under_reads_tcl_names_and_plain_numbers(given: str, level: int) -> None:
    assert parse_level(given) == level


@pytest.mark.parametrize("given", ["TCL7", "8", "four", "-1", ""])
def test_a_bad_fail_under_level_is_one_usage_error_line(given: str) -> None:
    with pytest.raises(pytest.UsageError) as raised:
        parse_level(given)
    message = str(raised.value)
    assert "--coverage-fail-under" in message and "\n" not in message


def test_the_gate_line_says_what_each_version_reached_and_what_the_next_level_needs() -> None:
    report = observed(exchange("GET", "/api/v2/webhooks", 200), versions=("v1", "v2"))
    assert gate_line(report, 0, ["v1", "v2"]) is None
    line = gate_line(report, 2, ["v2"])
    assert line is not None and "\n" not in line
    assert "v2 reached TCL0" in line and "TCL1 still misses: paths 1/3" in line
    assert "v1" not in line  # not selected: not judged


def test_the_json_document_keeps_stable_keys_and_its_counts_match_its_lists() -> None:
    report = observed(exchange("GET", "/api/v2/webhooks/7", 404, response={"error": "x"}))
    document = json.loads(json.dumps(to_json(report, {"run_id": "r"})))
    assert document["schema"] == "aqid-coverage/1"
    assert set(document) == {"schema", "paper", "run", "not_measured", "versions", "deliveries"}
    v2 = document["versions"]["v2"]
    assert set(v2) == {"tcl", "tcl_label", "exchanges", "next_level", "next_level_needs",
                       "criteria", "undocumented_statuses_seen"}
    assert set(v2["criteria"]) == set(CRITERIA)
    for entry in v2["criteria"].values():
        assert entry["covered"] == len(entry["covered_items"])
        assert entry["total"] == entry["covered"] + len(entry["missing_items"])
    assert "GET /api/v2/webhooks/{id} 404" in v2["criteria"]["status_codes"]["covered_items"]
    assert v2["tcl"] == 0 and v2["next_level_needs"] == ["paths"]


def test_terminal_lines_are_one_summary_per_version_and_a_bounded_list_of_what_is_missing(
        ) -> None:
    report = observed(exchange("GET", "/api/v2/webhooks", 200), versions=("v1", "v2"))
    lines = terminal_lines(report, "reports/coverage.json")
    assert [line.split(":")[0] for line in lines if line.startswith("coverage ")] == [
        "coverage v1", "coverage v2"]
    assert sum("v2 not covered" in line for line in lines) == 10
    assert any(line.endswith("more — see reports/coverage.json") for line in lines)


def test_the_html_section_marks_covered_missing_and_undocumented_cells_and_escapes_text(
        ) -> None:
    report = observed(exchange("GET", "/api/v2/webhooks", 200),
                      exchange("PUT", "/api/v2/webhooks/7", 405))
    html = section(report, mask=lambda text: text.replace("/api/v2/webhooks", "<b>"))
    assert html.startswith(f'<section id="{SECTION_ID}">') and html.endswith("</section>")
    assert 'data-matrix="status-codes"' in html and 'data-matrix="fields"' in html
    for cls in ("cov", "miss", "na", "extra"):
        assert f'<td class="{cls}"' in html
    assert "GET &lt;b&gt;" in html and "GET <b>" not in html  # masked, then escaped
    assert "<script" not in html


# --- real runs: a narrowed run covers less and fails the gate, the fuller one passes ----------


CURATED = [str(CONTRACTS_DIR / "v2" / name) for name in
           ("lifecycle.contract.yaml", "pagination.contract.yaml", "create.contract.yaml")]


def run_contracts(pytester: pytest.Pytester, *args: str) -> tuple[Any, dict[str, Any]]:
    """One in-process run from pytester's folder: the JSON goes to ./reports/coverage.json,
    a folder the run creates."""
    out = pytester.path / "reports" / "coverage.json"
    if out.exists():
        out.unlink()
    result = pytester.runpytest_inprocess(
        *CURATED, "-p", "no:cacheprovider", "--profile", "smoke", "--api-version", "v2", *args)
    return result, json.loads(out.read_text(encoding="utf-8"))


@pytest.mark.slow
def test_a_narrowed_run_reports_lower_coverage_and_fails_the_gate_the_fuller_one_passes(
        pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AQID_BASE_URL", "AQID_TOKEN", "AQID_COVERAGE_FAIL_UNDER", "AQID_COVERAGE_JSON"):
        monkeypatch.delenv(name, raising=False)
    fuller, full = run_contracts(pytester, "--coverage-fail-under", "TCL2")
    assert fuller.ret == 0, fuller.outlines[-30:]
    summary = [line for line in fuller.outlines if line.startswith("coverage v2: ")]
    assert len(summary) == 1 and f"TCL{full['versions']['v2']['tcl']}" in summary[0]
    assert "coverage: written to reports/coverage.json" in fuller.outlines
    assert "v1" not in full["versions"]  # --api-version v2: v1 is neither reported nor judged
    narrowed, narrow = run_contracts(pytester, "--coverage-fail-under", "TCL2",
                                     "-k", "defaults-and-shape")
    assert narrowed.ret == 1, narrowed.outlines[-30:]
    assert narrowed.parseoutcomes().get("failed") is None  # every test passed: coverage failed
    full_v2, narrow_v2 = full["versions"]["v2"], narrow["versions"]["v2"]
    assert narrow_v2["tcl"] < 2 <= full_v2["tcl"]
    for name, entry in narrow_v2["criteria"].items():
        assert entry["covered"] <= full_v2["criteria"][name]["covered"]
    assert narrow_v2["criteria"]["operations"]["covered"] < full_v2["criteria"][
        "operations"]["covered"]
    gate = [line for line in narrowed.outlines if "under --coverage-fail-under TCL2" in line]
    assert len(gate) == 1 and f"v2 reached TCL{narrow_v2['tcl']}" in gate[0]
