"""The published-guide check: finds each known error of the published guide, by line,
and nothing in the guide we generate."""

from __future__ import annotations

from pathlib import Path

import pytest

from spec_tools import guide_check
from spec_tools.guide_check import GuideChecker, parse_guide
from spec_tools.migration import generate_files
from spec_tools.spec_model import load_spec

ROOT = Path(__file__).resolve().parent.parent
# A verbatim copy of ../shared/MIGRATION-GUIDE.txt, so the test runs from any clone.
PUBLISHED = ROOT / "tests" / "data" / "published-migration-guide.txt"


@pytest.fixture(scope="module")
def checker() -> GuideChecker:
    return GuideChecker(load_spec(ROOT / "spec/v1.yaml"), load_spec(ROOT / "spec/v2.yaml"))


@pytest.fixture(scope="module")
def findings(checker: GuideChecker) -> dict[int, list[str]]:
    by_line: dict[int, list[str]] = {}
    for line, message in checker.check_text(PUBLISHED.read_text(encoding="utf-8")):
        by_line.setdefault(line, []).append(message)
    return by_line


# The brief's "Known errors in the published migration guide", each where the text has it.
KNOWN_ERRORS = [
    pytest.param(165, "v2 row shows DELETE /webhooks/{id}/deliveries", id="deliveries-as-DELETE"),
    pytest.param(130, "v2 row shows PUT /webhooks/{id}", id="v2-update-as-PUT"),
    pytest.param(110, "field 'data' is not in the v2 createWebhook 201", id="create-wrapped"),
    pytest.param(108, "lacks required field(s) created_at, events, id", id="create-missing-fields"),
    pytest.param(65, "trailing comma before ']'", id="v2-list-trailing-comma"),
    pytest.param(232, "trailing comma before '}'", id="v1-deliveries-trailing-comma"),
    pytest.param(252, "wrapped in a second pair of braces", id="v2-deliveries-double-braces"),
    pytest.param(56, 'uuid "dhfldksjhflksjaflksjfljsfjlska" is not a UUID', id="list-uuid"),
    pytest.param(113, 'uuid "ejkldjfldskjflkdsjflkdsj-jfhjdskhfjkdshfjksh" is not a UUID',
                 id="create-uuid"),
    # The text does not show where the v2 delete row links; what it shows is the update
    # section pointing readers at the v1 operation instead of its v2 replacement.
    pytest.param(148, "refers to 'Update existing webhook', the v1 operation", id="wrong-link"),
]


@pytest.mark.parametrize(("line", "expected"), KNOWN_ERRORS)
def test_finds_each_known_error_of_the_published_guide(
    findings: dict[int, list[str]], line: int, expected: str
) -> None:
    assert any(expected in message for message in findings.get(line, [])), findings.get(line)


def test_the_published_guide_has_no_other_findings_than_known_and_v1_payload_ones(
    findings: dict[int, list[str]],
) -> None:
    # Besides the brief's list: the v1 deliveries example shows the old payload without
    # webhook.uuid, which the brief's payload has (see the v1 spec's `body`). Its +00:00
    # payload times are no finding: the brief does not pin the payload's timestamp form
    # (Room, fractional-seconds), so the spec admits any RFC 3339 date-time there.
    extra = set(findings) - {param.values[0] for param in KNOWN_ERRORS}
    assert extra == {214}, {line: findings[line] for line in extra}


def test_the_generated_guide_has_no_findings(checker: GuideChecker) -> None:
    text = generate_files(str(ROOT / "spec/v1.yaml"), str(ROOT / "spec/v2.yaml"))
    assert len(parse_guide(text)) == 5
    assert checker.check_text(text) == []


def test_parses_rows_and_blocks_of_the_published_text() -> None:
    sections = parse_guide(PUBLISHED.read_text(encoding="utf-8"))
    assert [s.rows["v2"][1] for s in sections] == ["GET", "POST", "PUT", "DELETE", "DELETE"]
    assert [len(s.blocks) for s in sections] == [2, 2, 0, 0, 2]
    assert sections[0].blocks[1].line == 50


def test_a_labelled_block_is_checked_against_its_version(checker: GuideChecker) -> None:
    text = (
        "| v1 | DELETE | https://id.amiqus.co/api/webhooks/{id} |\n"
        "| v2 | DELETE | https://id.amiqus.co/api/v2/webhooks/{id} |\n"
        "v1 response example (200):\n```json\n{\"id\": 1, \"colour\": \"red\"}\n```\n"
    )
    problems = checker.check_text(text)
    assert (5, "v1 example: field 'colour' is not in the v1 v1DeleteWebhook 200 response") \
        in problems
    assert any("lacks required field(s)" in message for _, message in problems)


def test_cli_prints_file_line_findings_and_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    assert guide_check.main([str(PUBLISHED), "--v1", str(ROOT / "spec/v1.yaml"),
                             "--v2", str(ROOT / "spec/v2.yaml")]) == 1
    out = capsys.readouterr().out.splitlines()
    assert f"{PUBLISHED}:165: v2 row shows DELETE" in "\n".join(out)
    assert out[-1].startswith("guide-check: 11 problem(s)")


def test_cli_exits_0_on_a_clean_guide(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    guide = tmp_path / "guide.md"
    guide.write_text(generate_files(str(ROOT / "spec/v1.yaml"), str(ROOT / "spec/v2.yaml")))
    assert guide_check.main([str(guide), "--v1", str(ROOT / "spec/v1.yaml"),
                             "--v2", str(ROOT / "spec/v2.yaml")]) == 0
    assert "no problems" in capsys.readouterr().out


def test_a_missing_guide_is_one_line_not_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert guide_check.main([str(tmp_path / "nope.txt")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "nope.txt: cannot read guide" in err
