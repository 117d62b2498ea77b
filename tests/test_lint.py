"""`make lint-spec`: the validator + Redocly lint, one line per problem with file:line.

The Python side (parsing Redocly's JSON, merging with the validator, exit status) is
tested always; the tests that run Redocly itself skip when node_modules is absent (a
clean clone before `npm ci`; `make lint-spec` and `make docs` install it)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from spec_tools import lint as lint_module
from spec_tools.lint import LintError, lint, parse_redocly_json, run_redocly

ROOT = Path(__file__).resolve().parent.parent
REDOCLY = ROOT / "node_modules/.bin/redocly"
CONFIG = str(ROOT / "redocly.yaml")
SPECS = [str(ROOT / "spec" / name) for name in ("v1.yaml", "v2.yaml", "sandbox.yaml")]
needs_redocly = pytest.mark.skipif(
    not REDOCLY.exists() or shutil.which("node") is None,
    reason="Redocly CLI not installed (node_modules missing: run `npm ci` or `make lint-spec`)",
)

TOY_WITHOUT_401 = """\
openapi: 3.1.0
info: {title: toy, version: '1', license: {name: MIT, identifier: MIT}}
servers: [{url: 'https://hooks.invalid/api'}]
security: [{bearer: []}]
paths:
  /things:
    get:
      operationId: listThings
      summary: List things
      responses:
        '200': {description: ok}
        '404': {description: missing}
components:
  securitySchemes:
    bearer: {type: http, scheme: bearer}
"""


def redocly_document(source: str, *problems: tuple[str, str, int]) -> str:
    return json.dumps({"totals": {}, "problems": [
        {"ruleId": rule, "severity": severity, "message": f"bad  {rule}\n thing",
         "location": [{"source": {"ref": source}, "pointer": "#/paths/~1x/get",
                       "start": {"line": line, "col": 5}}]}
        for rule, severity, line in problems]}, indent=2)


def test_parses_concatenated_json_documents_and_maps_sources_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "spec").mkdir()
    output = redocly_document("spec/a.yaml", ("security-defined", "error", 6)) + "\n" + \
        redocly_document("./spec/b.yaml", ("operation-summary", "warn", 9))
    problems = parse_redocly_json(output, ["spec/a.yaml", "spec/b.yaml"])
    assert [p.render() for p in problems] == [
        "spec/a.yaml:6:5: error security-defined: bad security-defined thing (#/paths/~1x/get)",
        "spec/b.yaml:9:5: warning operation-summary: bad operation-summary thing "
        "(#/paths/~1x/get)",
    ]


def test_unreadable_output_is_one_clear_error() -> None:
    with pytest.raises(LintError, match="unreadable JSON output"):
        parse_redocly_json('{"problems": [', ["spec/a.yaml"])


def test_python_only_gives_one_ok_line_per_clean_file() -> None:
    lines, ok = lint(SPECS, CONFIG, python_only=True)
    assert ok
    assert lines[0] == "redocly lint: skipped (--python-only)"
    assert lines[1:] == [f"{name}: OK (openapi-spec-validator)" for name in SPECS]


def test_a_validator_error_fails_without_redocly(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("openapi: 3.1.0\ninfo: {title: t}\npaths: {}\n", encoding="utf-8")
    lines, ok = lint([str(broken)], CONFIG, python_only=True)
    assert not ok and lines[-1].startswith(f"{broken}")
    assert "OK" not in lines[-1]


def test_missing_redocly_is_one_line_and_a_failure(tmp_path: Path) -> None:
    lines, ok = lint(SPECS[:1], CONFIG, python_only=False, redocly=str(tmp_path / "redocly"))
    assert not ok
    assert lines[0].startswith("redocly lint: not run:") and "npm ci" in lines[0]


def test_redocly_errors_fail_and_warnings_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    name = SPECS[1]
    fake = [lint_module.Problem(name, 3, 1, "warning", "some-rule", "hm", "#/")]
    monkeypatch.setattr(lint_module, "run_redocly", lambda *a: fake)
    lines, ok = lint([name], CONFIG, python_only=False)
    assert ok and lines == [f"{name}:3:1: warning some-rule: hm (#/)"]
    fake[0] = lint_module.Problem(name, 3, 1, "error", "some-rule", "no", "#/")
    assert lint([name], CONFIG, python_only=False)[1] is False


@needs_redocly
def test_redocly_passes_the_project_specs() -> None:
    lines, ok = lint(SPECS, CONFIG, python_only=False, redocly=str(REDOCLY))
    assert ok, lines
    assert len(lines) == 3 and all(": OK (openapi-spec-validator + redocly lint" in line
                                   for line in lines)


@needs_redocly
def test_redocly_reports_our_configured_rule_with_file_and_line(tmp_path: Path) -> None:
    toy = tmp_path / "toy.yaml"
    toy.write_text(TOY_WITHOUT_401, encoding="utf-8")
    problems = run_redocly([str(toy)], CONFIG, str(REDOCLY))
    rendered = [p.render() for p in problems]
    assert f"{toy}:10:7: error rule/auth-and-rate-limit-documented: Every operation documents" \
           " 401 (unauthenticated) and 429 (rate limited). (#/paths/~1things/get/responses)" \
           in rendered, rendered


@needs_redocly
def test_build_docs_renders_a_self_contained_reference(tmp_path: Path) -> None:
    # `make docs` runs this same command for v1 and v2; --inlineBundle keeps the page
    # usable offline (Redoc's script is inside the page, not loaded from a CDN).
    out = tmp_path / "v2.html"
    done = subprocess.run(
        [str(REDOCLY), "build-docs", SPECS[1], "--inlineBundle", "-o", str(out)],
        capture_output=True, text=True, timeout=120, cwd=ROOT, check=False,
        env={**os.environ, **lint_module.QUIET_ENV},
    )
    assert done.returncode == 0, done.stderr[-500:]
    html = out.read_text(encoding="utf-8")
    assert "List all deliveries for a webhook" in html and "Update a webhook" in html
    assert "bundles/redoc.standalone.js" not in html  # what the CDN variant imports
