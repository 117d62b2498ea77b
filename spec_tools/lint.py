"""`make lint-spec`: openapi-spec-validator (spec_tools.validate) plus Redocly CLI lint.

Usage: `python -m spec_tools.lint [--python-only] [--config redocly.yaml] [FILE ...]`
(default files: spec/v1.yaml spec/v2.yaml spec/sandbox.yaml).

Output: one line per problem, `FILE:LINE:COL: SEVERITY RULE: message (#/json/pointer)`
for Redocly and spec_tools.validate's own line for the validator; one `FILE: OK (...)`
line per clean file. Exit 1 when either tool reports an error (Redocly warnings are
printed but pass), 2 on a usage error. Redocly runs from the project's node_modules (the
pinned version in package-lock.json) with its telemetry and update check off, so it
makes no network call; `--python-only` skips it and says so.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from spec_tools.validate import validate_file

DEFAULT_FILES = ("spec/v1.yaml", "spec/v2.yaml", "spec/sandbox.yaml")
REDOCLY = "node_modules/.bin/redocly"
QUIET_ENV = {"REDOCLY_TELEMETRY": "off", "REDOCLY_SUPPRESS_UPDATE_NOTICE": "true",
             "NO_UPDATE_NOTIFIER": "1"}


class LintError(Exception):
    """The linter could not run at all: one line says why."""


@dataclass(frozen=True)
class Problem:
    file: str
    line: int
    col: int
    severity: str
    rule: str
    message: str
    pointer: str

    def render(self) -> str:
        return (f"{self.file}:{self.line}:{self.col}: {self.severity} {self.rule}: "
                f"{self.message} ({self.pointer})")


def parse_redocly_json(output: str, files: list[str]) -> list[Problem]:
    """Problems from `redocly lint --format=json` (one JSON document per file, concatenated).

    Redocly names sources relative to the working directory; map them back to the names
    we were given so that every line starts with the file as the user typed it.
    """
    by_real = {os.path.realpath(name): name for name in files}
    decoder, index, problems = json.JSONDecoder(), 0, []
    while index < len(output):
        if output[index].isspace():
            index += 1
            continue
        try:
            document, index = decoder.raw_decode(output, index)
        except json.JSONDecodeError as exc:
            raise LintError(f"redocly lint: unreadable JSON output ({exc.msg})") from exc
        for item in document.get("problems", []):
            problems.append(_problem(item, by_real))
    return problems


def _problem(item: dict[str, Any], by_real: dict[str, str]) -> Problem:
    location = (item.get("location") or [{}])[0]
    source = (location.get("source") or {}).get("ref", "?")
    start = location.get("start") or {}
    severity = "error" if item.get("severity") == "error" else "warning"
    return Problem(by_real.get(os.path.realpath(source), source), int(start.get("line", 0)),
                   int(start.get("col", 0)), severity, str(item.get("ruleId", "?")),
                   " ".join(str(item.get("message", "")).split()),
                   str(location.get("pointer", "#/")))


def run_redocly(files: list[str], config: str, redocly: str = REDOCLY) -> list[Problem]:
    if not Path(redocly).exists():
        raise LintError(f"redocly lint: not run: {redocly} is missing "
                        "(run `npm ci`, which `make lint-spec` does for you)")
    command = [redocly, "lint", *files, "--config", config, "--format=json"]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=120,
                              env={**os.environ, **QUIET_ENV}, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise LintError(f"redocly lint: could not run {redocly}: {exc}") from exc
    if not done.stdout.strip():
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise LintError(f"redocly lint: failed (exit {done.returncode}): {last.strip()}")
    return parse_redocly_json(done.stdout, files)


def redocly_version(redocly: str = REDOCLY) -> str:
    package = Path(redocly).resolve().parent.parent / "package.json"
    try:
        return json.loads(package.read_text(encoding="utf-8"))["version"]
    except (OSError, ValueError, KeyError):
        return "?"


def lint(files: list[str], config: str, python_only: bool,
         redocly: str = REDOCLY) -> tuple[list[str], bool]:
    """(output lines, ok) for the given files."""
    lines: list[str] = []
    ok = True
    results = {name: validate_file(name) for name in files}
    problems: list[Problem] = []
    tools = "openapi-spec-validator"
    if python_only:
        lines.append("redocly lint: skipped (--python-only)")
    else:
        try:
            problems = run_redocly(files, config, redocly)
            tools += f" + redocly lint {redocly_version(redocly)} ({config})"
        except LintError as exc:
            lines.append(str(exc))
            ok = False
    for name in files:
        result = results[name]
        own = sorted((p for p in problems if p.file == name), key=lambda p: (p.line, p.col))
        if not result.ok:
            lines.append(result.render())
            ok = False
        lines += [p.render() for p in own]
        ok = ok and not any(p.severity == "error" for p in own)
        if result.ok and not own:
            lines.append(f"{name}: OK ({tools})")
    strays = [p for p in problems if p.file not in results]
    lines += [p.render() for p in strays]
    return lines, ok and not any(p.severity == "error" for p in strays)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Validate and lint OpenAPI spec files.")
    parser.add_argument("files", nargs="*", default=list(DEFAULT_FILES))
    parser.add_argument("--config", default="redocly.yaml")
    parser.add_argument("--python-only", action="store_true",
                        help="only openapi-spec-validator (no Node.js needed)")
    args = parser.parse_args(argv)
    lines, ok = lint(args.files, args.config, args.python_only)
    print("\n".join(lines))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
