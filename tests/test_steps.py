"""Running steps against a fake API: templating, expectations, captures, page walks."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest
from fake_api import FakeApi, fake_session

from contract_suite.core.spec_index import SpecIndex
from contract_suite.curated.contract_format import load_contract
from contract_suite.curated.pages import order_problem, page_problems
from contract_suite.curated.steps import ScenarioRun, StepFailure, run_scenario

SPEC = SpecIndex.load(Path(__file__).resolve().parent.parent / "spec")

LIFECYCLE = """\
scenarios:
  s:
    steps:
      - request:
          method: POST
          path: /api/v2/webhooks
          json: {url: "{tagged_url}", events: ["*"]}
        expect: {status: 201}
        capture: {id: $.id, created: $}
      - request: {method: PATCH, path: "/api/v2/webhooks/{id}", json: {is_enabled: false}}
        expect:
          body: [{path: $.is_enabled, equals: false}]
      - name: read back
        request: {method: GET, path: "/api/v2/webhooks/{id}"}
        expect:
          body: [{path: $.is_enabled, equals: false}]
      - walk_pages:
          path: /api/v2/webhooks
          query: {limit: 2}
          includes_once: ["{id}"]
      - request: {method: DELETE, path: "/api/v2/webhooks/{id}"}
        expect: {status: 204, body: empty}
"""


def scenario_run(*faults: str) -> tuple[ScenarioRun, FakeApi]:
    session, fake = fake_session(*faults)
    return ScenarioRun(session.api, session.target, SPEC, "s"), fake


def steps_of(text: str) -> list[Any]:
    return load_contract("t.contract.yaml", textwrap.dedent(text))["scenarios"]["s"]["steps"]


def add_others(run: ScenarioRun, count: int = 3) -> None:
    for _ in range(count):
        run.api.request("POST", "/api/v2/webhooks",
                        json={"url": "https://hooks.invalid/others", "events": ["*"]})


def test_render_keeps_types_and_makes_fresh_tagged_urls() -> None:
    run, _ = scenario_run()
    run.captures.update(id=7, hook={"a": 1})
    assert run.render("{id}") == 7
    assert run.render("/api/v2/webhooks/{id}") == "/api/v2/webhooks/7"
    assert run.render("x {hook}") == 'x {"a": 1}'
    assert run.render("{{literal}}") == "{literal}"
    first, second = run.render("{tagged_url}"), run.render("{tagged_url}")
    assert first != second
    assert first.startswith("https://hooks.invalid/aqid-contracts/run12345/s-")
    assert run.render({"regex": "^\\d{4}$"}) == {"regex": "^\\d{4}$"}


def test_a_correct_api_passes_the_whole_lifecycle() -> None:
    run, fake = scenario_run()
    add_others(run)  # so that the walk crosses page boundaries
    run_scenario(run, steps_of(LIFECYCLE))
    assert run.captures["created"]["is_enabled"] is True
    assert len(fake.webhooks) == 3


def test_a_broken_api_fails_at_the_step_with_path_expected_and_received() -> None:
    run, _ = scenario_run("patch-not-stored")
    steps = steps_of(LIFECYCLE)
    with pytest.raises(StepFailure) as caught:
        run_scenario(run, steps)
    failure = caught.value
    assert (failure.step_index, failure.scenario) == (3, "s")
    assert (failure.path, failure.expected, failure.received) == ("$.is_enabled", False, True)
    assert failure.step is steps[2]
    assert failure.request is not None and failure.request.method == "GET"
    assert "fake-token" not in " ".join(failure.request.lines())


def test_an_unexpected_status_is_a_failure() -> None:
    run, _ = scenario_run()
    with pytest.raises(StepFailure) as caught:
        run_scenario(run, steps_of("""\
            scenarios:
              s:
                steps:
                  - request: {method: GET, path: /api/v2/webhooks/123456}
            """))
    assert (caught.value.expected, caught.value.received) == ("2xx", 404)


def test_every_response_is_checked_against_the_spec() -> None:
    run, _ = scenario_run("offset-timestamps")
    with pytest.raises(StepFailure) as caught:
        run_scenario(run, steps_of(LIFECYCLE))
    assert caught.value.step_index == 1
    assert caught.value.path == "$.created_at"
    assert caught.value.headline.startswith("the response does not conform to the spec: "
                                            "createWebhook")


def test_spec_skip_allows_a_deliberately_undocumented_answer() -> None:
    run, _ = scenario_run()
    run_scenario(run, steps_of("""\
        scenarios:
          s:
            steps:
              - request: {method: PUT, path: /api/v2/webhooks}
                spec: {skip: "405 is not documented per operation"}
                expect: {status: 405}
        """))


def test_a_wrong_count_fails_the_page_walk() -> None:
    run, _ = scenario_run("count-is-total")
    add_others(run)
    with pytest.raises(StepFailure) as caught:
        run_scenario(run, steps_of(LIFECYCLE))
    assert caught.value.path == "$.count"
    assert "count must equal the number of items" in caught.value.headline


def test_page_problems_v2() -> None:
    page = {"object": "paginated_list", "data": [{"id": 1}, {"id": 2}], "total": 5, "count": 2,
            "limit": 2, "current_page": 1, "total_pages": 3,
            "links": {"next": "http://x/api/v2/webhooks?page=2&limit=2", "previous": None}}
    assert page_problems(page, {"limit": 2, "page": 1}) == []
    assert [p.path for p in page_problems({**page, "total_pages": 2}, {"limit": 2})] == [
        "$.total_pages"]
    single = {**page, "total": 2, "total_pages": 1}
    assert [p.path for p in page_problems(single, {"limit": 2})] == ["$.links"]
    lost_query = {**page, "links": {"next": "http://x/api/v2/webhooks?page=2", "previous": None}}
    assert [p.path for p in page_problems(lost_query, {"limit": 2})] == ["$.links.next"]


def test_page_problems_v1() -> None:
    meta = {"total": 1, "count": 1, "per_page": 5, "current_page": 1, "total_pages": 1,
            "links": []}
    page = {"data": [{"id": 1}], "meta": {"pagination": meta}}
    assert page_problems(page, {"per_page": 5}) == []
    wrong = {"data": [{"id": 1}], "meta": {"pagination": {**meta, "links": {}}}}
    assert [p.path for p in page_problems(wrong, {"per_page": 5})] == [
        "$.meta.pagination.links"]


def test_order_across_pages_must_ascend() -> None:
    assert order_problem([1, 2, 5]) is None
    assert order_problem([1, 3, 3]) is not None
    assert order_problem([2, 1]) is not None


FOREIGN_URLS = ["https://hooks.invalid/long/" + "a" * (2051 - 27),
                "https://[2001:db8::1]:8443/ipv6-literal"]

WALK = """\
scenarios:
  s:
    steps:
      - request:
          method: POST
          path: /api/v2/webhooks
          json: {url: "{tagged_url}", events: ["*"]}
        expect: {status: 201}
        capture: {id: $.id}
      - walk_pages:
          path: /api/v2/webhooks
          query: {limit: 2}
          includes_once: ["{id}"]
          each_own_item: [{path: $.events, equals: ["*"]}]
"""


def add_foreign(fake: FakeApi) -> list[int]:
    """Webhooks the run did not make: unusual but allowed values, and one plainly broken."""
    ids = []
    for url in [*FOREIGN_URLS, "https://hooks.invalid/broken"]:
        run_id = next(fake.ids)
        fake.webhooks[run_id] = {"object": "webhook", "id": run_id,
                                 "uuid": "db6a2d91-b67e-4f88-b71a-b73da98c5168", "url": url,
                                 "secret": "x", "events": ["record.*"], "is_enabled": True,
                                 "created_at": "2024-01-02T03:04:05Z",
                                 "updated_at": "2024-01-02T03:04:05Z"}
        ids.append(run_id)
    fake.webhooks[ids[-1]].update(secret=5, is_enabled="yes")  # broken: still never judged
    return ids


def test_foreign_webhooks_in_a_list_never_fail_a_walk() -> None:
    run, fake = scenario_run()
    add_foreign(fake)
    run_scenario(run, steps_of(WALK))


def test_one_of_our_own_webhooks_with_a_broken_shape_fails_the_walk() -> None:
    run, fake = scenario_run()
    add_foreign(fake)
    steps = steps_of(WALK)
    run_scenario(run, steps[:1])
    fake.webhooks[run.captures["id"]]["secret"] = 5
    with pytest.raises(StepFailure) as caught:
        run_scenario(run, steps[1:])
    assert caught.value.path == "$.data[1].secret"  # page 2 of 2-item pages: ours is 4th
    assert caught.value.headline.startswith("page 2: the response does not conform")


def test_each_own_item_skips_foreign_items_but_each_item_does_not() -> None:
    run, fake = scenario_run()
    add_foreign(fake)
    run_scenario(run, steps_of(WALK))  # foreign events are ["record.*"]: not checked
    with pytest.raises(StepFailure) as caught:
        run_scenario(run, steps_of(WALK.replace("each_own_item", "each_item")))
    assert caught.value.path == "$.data[0].events"


def test_a_captured_id_makes_an_untagged_item_our_own() -> None:
    run, fake = scenario_run()
    foreign = add_foreign(fake)
    assert not run.is_own(fake.webhooks[foreign[0]])
    run.captures["theirs"] = foreign[0]
    assert run.is_own(fake.webhooks[foreign[0]])
    assert run.is_own({"id": 99, "url": run.render("{tagged_url}")})


EITHER = """\
scenarios:
  s:
    steps:
      - request: {method: GET, path: "/api/v2/webhooks/{target}"}
        expect:
          either:
            - status: 200
              body: [{path: $.is_enabled, equals: true}]
              capture: {found: $.id}
            - status: 404
              body: [{equals: {error: Webhook not found}}]
      - only_if: found
        request: {method: DELETE, path: "/api/v2/webhooks/{found}"}
        expect: {status: 204}
"""


def test_either_judges_the_answer_by_the_alternative_its_status_picks() -> None:
    run, fake = scenario_run()
    steps = steps_of(EITHER.replace("{target}", "{absent_id}"))
    run.absent_id = lambda: 424242
    run_scenario(run, steps)  # 404: the second alternative; the delete is skipped
    assert "found" not in run.captures
    assert [r.method for r in fake.requests] == ["GET"]
    assert fake.requests[0].url.path == "/api/v2/webhooks/424242"


def test_the_taken_alternative_captures_and_its_only_if_steps_run() -> None:
    run, fake = scenario_run()
    hook = run.api.request("POST", "/api/v2/webhooks",
                           json={"url": "https://hooks.invalid/x", "events": ["*"]}).json()
    steps = steps_of(EITHER.replace("{target}", "{absent_id}"))
    run.absent_id = lambda: hook["id"]  # stands in for an id: the 200 alternative
    run_scenario(run, steps)
    assert run.captures["found"] == hook["id"] and fake.webhooks == {}


def test_either_fails_on_a_status_of_no_alternative_and_on_the_chosen_checks() -> None:
    run, fake = scenario_run()
    hook = run.api.request("POST", "/api/v2/webhooks", json={
        "url": "https://hooks.invalid/x", "events": ["*"], "is_enabled": False}).json()
    run.absent_id = lambda: hook["id"]
    steps = steps_of(EITHER.replace("{target}", "{absent_id}"))
    with pytest.raises(StepFailure) as caught:
        run_scenario(run, steps)
    assert (caught.value.path, caught.value.received) == ("$.is_enabled", False)
    only_404 = steps_of(EITHER.replace("{target}", "{absent_id}").replace(
        "- status: 200", "- status: 201"))
    with pytest.raises(StepFailure) as caught:
        run_scenario(run, only_404)
    assert (caught.value.expected, caught.value.received) == ([201, 404], 200)


def test_absent_id_without_a_session_is_a_clear_error() -> None:
    run, _ = scenario_run()
    with pytest.raises(RuntimeError, match="absent_webhook_id"):
        run.render("{absent_id}")
