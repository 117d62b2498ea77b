"""The contract file format: loading with line marks, and one-line errors naming line and fix."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from contract_suite.curated.contract_format import ContractFormatError, MarkedDict, load_contract

CONTRACTS = Path(__file__).resolve().parent.parent / "contracts"

GOOD = """\
title: a good file
scenarios:
  create-and-delete:
    steps:
      - name: create
        request:
          method: POST
          path: /api/v2/webhooks
          json: {url: "{tagged_url}", events: ["*"]}
        expect:
          status: 201
          body:
            - {path: $.id, type: integer}
        capture: {id: $.id}
      - request: {method: DELETE, path: "/api/v2/webhooks/{id}"}
        expect: {status: 204, body: empty}
"""


def load(text: str) -> MarkedDict:
    return load_contract("x.contract.yaml", textwrap.dedent(text))


def error_of(text: str) -> str:
    with pytest.raises(ContractFormatError) as caught:
        load(text)
    return str(caught.value)


def test_a_good_file_loads_with_the_line_of_every_step() -> None:
    document = load(GOOD)
    steps = document["scenarios"]["create-and-delete"]["steps"]
    assert (steps[0].start_line, steps[0].end_line) == (5, 14)
    assert (steps[1].start_line, steps[1].end_line) == (15, 16)
    assert steps[0]["request"].key_lines["json"] == 9


def test_every_shipped_contract_file_is_valid() -> None:
    files = sorted(CONTRACTS.rglob("*.contract.yaml"))
    assert len(files) >= 15
    for path in files:
        load_contract(path)


def test_unknown_key_names_the_line_and_the_allowed_keys() -> None:
    text = GOOD.replace("expect:\n          status: 201", "expct:\n          status: 201")
    assert error_of(text) == (
        "x.contract.yaml:10: unknown key 'expct' at scenarios.create-and-delete.steps[0] "
        "(allowed: capture, expect, name, only_if, pause, reason, request, spec, walk_pages)"
    )


def test_unknown_matcher_is_an_unknown_key_of_the_check() -> None:
    text = GOOD.replace("{path: $.id, type: integer}", "{path: $.id, is_a: integer}")
    message = error_of(text)
    assert message.startswith("x.contract.yaml:13: unknown key 'is_a' at ")
    assert "equals" in message and "same_webhook_as" in message


def test_bad_enum_value_lists_the_choices() -> None:
    text = GOOD.replace("method: POST", "method: FETCH")
    assert error_of(text) == (
        "x.contract.yaml:7: 'FETCH' is not allowed at "
        "scenarios.create-and-delete.steps[0].request.method "
        "(use one of: GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS)"
    )


def test_undefined_placeholder_names_what_is_defined() -> None:
    text = GOOD.replace('"/api/v2/webhooks/{id}"', '"/api/v2/webhooks/{webhook_id}"')
    assert error_of(text) == (
        "x.contract.yaml:15: step 2 of scenario 'create-and-delete': undefined placeholder "
        "{webhook_id} (capture it in an earlier step, or use one of: absent_id, base_url, id, "
        "run_id, tagged_url)"
    )


def test_a_capture_used_before_it_is_taken_is_an_error() -> None:
    text = GOOD.replace("- {path: $.id, type: integer}", "- {equals_capture: id}")
    assert "no capture named 'id' before this step (captured so far: none)" in error_of(text)


def test_yaml_syntax_error_names_the_line() -> None:
    message = error_of("scenarios:\n  a:\n    steps: [\n")
    assert message.startswith("x.contract.yaml:4: not valid YAML: ")


def test_duplicate_keys_are_refused() -> None:
    text = GOOD.replace("capture: {id: $.id}", "capture: {id: $.id}\n        capture: {}")
    assert error_of(text).startswith("x.contract.yaml:15: not valid YAML: ")
    assert "duplicate key 'capture'" in error_of(text)


def test_yaml_booleans_as_keys_must_be_quoted() -> None:
    text = GOOD.replace("capture: {id: $.id}", "capture: {on: $.id}")
    assert "key 'on' is read as bool, not text: quote it" in error_of(text)


def test_a_step_needs_exactly_one_kind() -> None:
    delete = "request: {method: DELETE"
    text = GOOD.replace(f"- {delete}", f"- pause: 1\n        {delete}")
    assert error_of(text) == (
        "x.contract.yaml:15: step 2 of scenario 'create-and-delete' must have exactly one of "
        "request, walk_pages, pause (found: request, pause)"
    )


def test_a_check_without_a_matcher_is_refused() -> None:
    text = GOOD.replace("{path: $.id, type: integer}", "{path: $.id}")
    assert "a body check needs a matcher besides `path`" in error_of(text)


def test_a_bad_regex_is_refused() -> None:
    text = GOOD.replace("{path: $.id, type: integer}", '{path: $.id, regex: "(unclosed"}')
    assert "x.contract.yaml:13:" in error_of(text)
    assert "regex" in error_of(text)


def test_a_bad_json_path_explains_the_syntax() -> None:
    text = GOOD.replace("{path: $.id, type: integer}", "{path: data.id, type: integer}")
    assert "is not valid: a JSON path like $, $.data[0].id or $['events.0']" in error_of(text)


def test_pause_is_bounded() -> None:
    delete = "request: {method: DELETE"
    text = GOOD.replace(f"- {delete}", f"- pause: 30\n      - {delete}")
    assert "x.contract.yaml:15:" in error_of(text)


def test_not_a_mapping_is_refused() -> None:
    assert error_of("- a list\n") == (
        "x.contract.yaml:1: a contract file is a mapping with `scenarios:` "
        "(see contracts/README.md)"
    )


EITHER = """\
scenarios:
  s:
    steps:
      - request:
          method: POST
          path: /api/v2/webhooks
          json: {url: "{tagged_url}", events: ["*", "*"]}
        expect:
          either:
            - status: 422
              body: [{has_key_matching: "^events"}]
            - status: 201
              body: [{path: $.events, equals: ["*"]}]
              capture: {id: $.id}
      - only_if: id
        request: {method: DELETE, path: "/api/v2/webhooks/{id}"}
        expect: {status: 204}
"""


def test_either_with_only_if_loads() -> None:
    steps = load(EITHER)["scenarios"]["s"]["steps"]
    assert [alt["status"] for alt in steps[0]["expect"]["either"]] == [422, 201]
    assert steps[1]["only_if"] == "id"


def test_a_capture_of_one_alternative_needs_only_if_where_it_is_used() -> None:
    text = EITHER.replace("      - only_if: id\n", "      - name: clean up\n")
    assert error_of(text) == (
        "x.contract.yaml:16: step 2 of scenario 's': 'id' is captured only when one `either` "
        "alternative is taken (step 1); add `only_if: id` to this step")


def test_only_if_must_name_a_capture_of_one_alternative() -> None:
    assert "only_if 'nope' is not captured before this step" in error_of(
        EITHER.replace("only_if: id", "only_if: nope"))
    always = EITHER.replace("              capture: {id: $.id}\n", "").replace(
        "        expect:\n          either:", "        capture: {id: $.id}\n        expect:\n"
        "          either:")
    assert "only_if 'id' is made on every path, so the step always runs" in error_of(always)


def test_either_holds_nothing_besides_its_alternatives() -> None:
    text = EITHER.replace("          either:\n", "          status: 201\n          either:\n")
    assert error_of(text) == (
        "x.contract.yaml:9: step 1 of scenario 's': `expect` with `either` holds nothing else "
        "(found: status); move these into each alternative")


def test_a_status_may_pick_only_one_alternative() -> None:
    text = EITHER.replace("- status: 201", "- status: [201, 422]")
    assert error_of(text) == (
        "x.contract.yaml:12: step 1 of scenario 's': status 422 is in alternatives 1 and 2 of "
        "`either`; each status may pick one alternative only")


def test_an_alternative_needs_a_status_and_known_keys() -> None:
    assert "'status' is a required key" in error_of(EITHER.replace("- status: 201", "- body2: 1"))
    assert "unknown key 'walk'" in error_of(EITHER.replace("capture: {id: $.id}", "walk: 1"))


def test_absent_id_is_a_builtin_placeholder() -> None:
    load(GOOD.replace('"/api/v2/webhooks/{id}"', '"/api/v2/webhooks/{absent_id}"'))


def test_each_own_item_checks_need_a_matcher() -> None:
    text = GOOD.replace(
        '      - request: {method: DELETE, path: "/api/v2/webhooks/{id}"}',
        '      - walk_pages: {path: /api/v2/webhooks, each_own_item: [{path: $.id}]}\n'
        '      - request: {method: DELETE, path: "/api/v2/webhooks/{id}"}')
    assert "a body check needs a matcher besides `path`" in error_of(text)
