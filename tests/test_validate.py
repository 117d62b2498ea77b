"""`python -m spec_tools.validate`: one line per file, naming the file and the problem."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from spec_tools.validate import Result, validate_file

ROOT = Path(__file__).resolve().parent.parent
SPECS = [ROOT / "spec" / name for name in ("v1.yaml", "v2.yaml", "sandbox.yaml")]
V2_TEXT = (ROOT / "spec" / "v2.yaml").read_text(encoding="utf-8")


def run_validator(*files: Path | str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "spec_tools.validate", *map(str, files)],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
    )


def broken_copy(tmp_path: Path, name: str, old: str, new: str) -> Path:
    """spec/v2.yaml with `old` (which must occur) replaced once by `new`."""
    assert old in V2_TEXT, old
    path = tmp_path / name
    path.write_text(V2_TEXT.replace(old, new, 1), encoding="utf-8")
    return path


def line_number_of(path: Path, needle: str) -> int:
    """The first line ending with `needle`."""
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.endswith(needle):
            return number
    raise AssertionError(f"{needle!r} not in {path}")


def test_the_real_specs_pass_with_one_ok_line_each() -> None:
    completed = run_validator(*(path.relative_to(ROOT) for path in SPECS))
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert completed.stdout.splitlines() == [
        "spec/v1.yaml: OK (OpenAPI 3.1.0, 5 operations)",
        "spec/v2.yaml: OK (OpenAPI 3.1.0, 6 operations)",
        "spec/sandbox.yaml: OK (OpenAPI 3.1.0, 2 operations)",
    ]
    assert completed.stderr == ""


def test_broken_copies_are_rejected_one_line_each_naming_file_and_problem(tmp_path: Path) -> None:
    dangling = broken_copy(
        tmp_path, "dangling.yaml", "$ref: '#/components/schemas/Webhook'\n",
        "$ref: '#/components/schemas/Webhok'\n",
    )
    no_responses = broken_copy(
        tmp_path, "no-responses.yaml", "      responses:\n        '204':",
        "      x-responses:\n        '204':",
    )
    bad_yaml = broken_copy(
        tmp_path, "bad-yaml.yaml", "summary: Retrieve a webhook", "summary: [Retrieve a webhook"
    )
    duplicate_key = broken_copy(
        tmp_path, "duplicate-key.yaml", "      summary: Delete a webhook\n",
        "      summary: Delete a webhook\n      summary: Again\n",
    )
    bad_link = broken_copy(
        tmp_path, "bad-link.yaml", "operationId: deleteWebhook\n              parameters",
        "operationId: removeWebhook\n              parameters",
    )
    cases = {
        dangling: "dangling $ref '#/components/schemas/Webhok'",
        no_responses: "operation has no 'responses' (at paths./webhooks/{id}.delete)",
        bad_yaml: "invalid YAML",
        duplicate_key: "duplicate key 'summary'",
        bad_link: "link to unknown operationId 'removeWebhook'",
    }
    completed = run_validator(*cases)
    assert completed.returncode == 1
    assert "Traceback" not in completed.stdout + completed.stderr
    lines = completed.stdout.splitlines()
    assert len(lines) == len(cases), lines
    for line, (path, problem) in zip(lines, cases.items(), strict=True):
        assert line.startswith(f"{path}:"), line
        assert ": error" in line and problem in line, line
    dangling_line = line_number_of(dangling, "schemas/Webhok'")
    assert lines[0].startswith(f"{dangling}:{dangling_line}: error: "), lines[0]
    # PyYAML marks where it noticed the problem: the broken line or the one after it.
    broken_line = line_number_of(bad_yaml, "[Retrieve a webhook")
    assert lines[2].split(":")[1] in (str(broken_line), str(broken_line + 1)), lines[2]


@pytest.mark.parametrize(
    ("old", "new", "problem"),
    [
        ("created_at: '2022-08-24T11:26:22Z'", "created_at: 2022-08-24T11:26:22Z", "YAML date"),
        ("'#/components/schemas/Uuid'", "'other.yaml#/components/schemas/Uuid'", "cross-file $ref"),
        ("operationId: getWebhook\n      tags", "operationId: listWebhooks\n      tags",
         "operationId 'listWebhooks' is also used at paths./webhooks.get"),
        ("      in: query\n", "      in: body\n", "is not one of"),
        ("openapi: 3.1.0\n", "", "no supported 'openapi' version field"),
    ],
    ids=["unquoted-date", "cross-file-ref", "duplicate-operationId", "bad-parameter", "no-version"],
)
def test_validate_file_reports_each_problem_with_its_place(
    tmp_path: Path, old: str, new: str, problem: str
) -> None:
    result = validate_file(broken_copy(tmp_path, "broken.yaml", old, new))
    assert not result.ok
    assert problem in (result.error or ""), result.render()
    line = result.render()
    assert line.startswith(str(tmp_path / "broken.yaml")) and "\n" not in line


def test_schema_error_is_located_in_the_document(tmp_path: Path) -> None:
    # openapi-spec-validator reports schema errors relative to the schema object.
    path = broken_copy(
        tmp_path, "bad-type.yaml",
        "          type: boolean\n          default: true",
        "          type: bool\n          default: true",
    )
    result = validate_file(path)
    assert result.location == "components.schemas.WebhookCreate.properties.is_enabled.type"
    assert result.line == line_number_of(path, "type: bool")


def test_missing_and_non_spec_files_give_one_line_each(tmp_path: Path) -> None:
    (tmp_path / "list.yaml").write_text("- a\n- b\n", encoding="utf-8")
    (tmp_path / "empty.yaml").write_text("", encoding="utf-8")
    completed = run_validator(tmp_path / "missing.yaml", tmp_path / "list.yaml",
                              tmp_path / "empty.yaml", SPECS[1])
    assert completed.returncode == 1
    not_a_mapping = "error: not an OpenAPI document: the top level is not a mapping"
    assert completed.stdout.splitlines() == [
        f"{tmp_path / 'missing.yaml'}: error: cannot read file: No such file or directory",
        f"{tmp_path / 'list.yaml'}: {not_a_mapping}",
        f"{tmp_path / 'empty.yaml'}: {not_a_mapping}",
        f"{SPECS[1]}: OK (OpenAPI 3.1.0, 6 operations)",
    ]


def test_no_arguments_is_a_usage_error() -> None:
    completed = run_validator()
    assert completed.returncode == 2
    assert completed.stdout == "" and "usage:" in completed.stderr


def test_result_renders_the_agreed_formats() -> None:
    assert Result("a.yaml", openapi_version="3.1.0", operations=1).render() == (
        "a.yaml: OK (OpenAPI 3.1.0, 1 operation)"
    )
    assert Result("a.yaml", error="boom", line=3).render() == "a.yaml:3: error: boom"
    assert Result("a.yaml", error="boom", location="paths./x.get").render() == (
        "a.yaml: error at paths./x.get: boom"
    )
    assert Result("a.yaml", error="boom", line=3, location="paths").render() == (
        "a.yaml:3: error: boom (at paths)"
    )
    assert not Result("a.yaml", error="boom").ok
