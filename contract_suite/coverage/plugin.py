"""pytest hooks of the coverage feature: count, ship, merge, report, gate.

Acts only when the run has a suite session (it collects contracts). Every process
subscribes a `Collector` to its session's exchange log at session start; an xdist worker
ships what it saw in `workeroutput` at session finish, the controller merges it as each
worker goes down, then (at its own session finish, before pytest-html writes its report)
evaluates, writes `reports/coverage.json` and applies `--coverage-fail-under`. The terminal
lines come after the "aqid-contracts summary" section.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from ..core.options import add_string_option, lookup
from ..core.session import existing_session
from ..core.spec_index import SpecIndex
from .html import section
from .model import Collector, CoverageReport, delivery_events, evaluate, json_text
from .render import gate_line, terminal_lines, to_json
from .universe import HIGHEST_MEASURED_LEVEL, load_universes

FAIL_UNDER = ("aqid_coverage_fail_under", "--coverage-fail-under", "AQID_COVERAGE_FAIL_UNDER")
JSON_PATH = ("aqid_coverage_json", "--coverage-json", "AQID_COVERAGE_JSON")
DEFAULT_JSON = Path("reports") / "coverage.json"
WORKER_KEY = "aqid_coverage"

_LEVEL = pytest.StashKey[int | None]()
_COLLECTOR = pytest.StashKey[Collector]()
_REPORT = pytest.StashKey[CoverageReport]()
_WRITTEN = pytest.StashKey[str]()
_GATE = pytest.StashKey[str]()


def pytest_addoption(parser: pytest.Parser) -> None:
    add_string_option(parser, *FAIL_UNDER,
                      "fail the run when an API version's Test Coverage Level is under LEVEL "
                      f"(TCL0..TCL{HIGHEST_MEASURED_LEVEL}, or 0..{HIGHEST_MEASURED_LEVEL})")
    add_string_option(parser, *JSON_PATH,
                      f"where the coverage JSON is written (default {DEFAULT_JSON})")


def parse_level(value: str | None) -> int | None:
    """`TCL4`, `tcl4` or `4` -> 4; None -> None; anything else is one UsageError line."""
    if value is None:
        return None
    match = re.fullmatch(r"\s*(?:tcl)?\s*(\d+)\s*", value, re.IGNORECASE)
    level = int(match.group(1)) if match else -1
    if level == 7:
        raise pytest.UsageError(
            f"aqid-contracts: --coverage-fail-under {value!r}: TCL7 (operation flow) is not "
            f"measured by this suite; choose TCL0 to TCL{HIGHEST_MEASURED_LEVEL}")
    if not 0 <= level <= HIGHEST_MEASURED_LEVEL:
        raise pytest.UsageError(
            f"aqid-contracts: --coverage-fail-under {value!r}: a Test Coverage Level, TCL0 to "
            f"TCL{HIGHEST_MEASURED_LEVEL} (or 0 to {HIGHEST_MEASURED_LEVEL})")
    return level


def pytest_configure(config: pytest.Config) -> None:
    config.stash[_LEVEL] = parse_level(lookup(config, FAIL_UNDER[0], FAIL_UNDER[2]))


def pytest_sessionstart(session: pytest.Session) -> None:
    suite = existing_session(session.config)
    if suite is None:
        return
    universes = load_universes(suite.spec_dir)
    documents = [spec.document for spec in SpecIndex.load(suite.spec_dir).specs.values()]
    collector = Collector({v: u for v, u in universes.items() if v in suite.target.api_versions},
                          delivery_events(documents))
    suite.exchanges.subscribe(collector.observe)
    session.config.stash[_COLLECTOR] = collector


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    collector = node.config.stash.get(_COLLECTOR, None)
    output = getattr(node, "workeroutput", None) or {}
    if collector is not None:
        collector.merge(output.get(WORKER_KEY))


@pytest.hookimpl(tryfirst=True)  # before pytest-html's (trylast) asks for our section
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    collector = config.stash.get(_COLLECTOR, None)
    suite = existing_session(config)
    if collector is None or suite is None:
        return
    if hasattr(config, "workerinput"):
        config.workeroutput[WORKER_KEY] = collector.to_data()
        return
    report = evaluate(collector)
    config.stash[_REPORT] = report
    path = _json_path(config)
    run = {"run_id": suite.target.run_id, "seed": suite.seed, "profile": suite.options.profile,
           "api_versions": sorted(suite.target.api_versions),
           "target": suite.secrets(suite.target.base_url)}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(suite.secrets(json_text(to_json(report, run))), encoding="utf-8")
        config.stash[_WRITTEN] = _shown(path, config)
    except OSError as exc:
        config.stash[_WRITTEN] = ""
        config.stash[_GATE] = f"coverage: could not write {path}: {exc.strerror or exc}"
    level = config.stash.get(_LEVEL, None)
    if level is None:
        return
    line = gate_line(report, level, sorted(suite.target.api_versions))
    if line is not None:
        config.stash[_GATE] = line
        if session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED


def _json_path(config: pytest.Config) -> Path:
    given = lookup(config, JSON_PATH[0], JSON_PATH[2])
    path = Path(given) if given else DEFAULT_JSON
    return path if path.is_absolute() else Path(config.invocation_params.dir) / path


def _shown(path: Path, config: pytest.Config) -> str:
    try:
        return str(path.relative_to(config.invocation_params.dir))
    except ValueError:
        return str(path)


@pytest.hookimpl(trylast=True)  # after the plugin's "aqid-contracts summary" section
def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    report = config.stash.get(_REPORT, None)
    suite = existing_session(config)
    if report is None or suite is None:
        return
    terminalreporter.section("aqid-contracts coverage")
    written = config.stash.get(_WRITTEN, "")
    for line in terminal_lines(report, written or None):
        terminalreporter.write_line(suite.secrets(line))
    if written:
        terminalreporter.write_line(f"coverage: written to {written}")
    gate = config.stash.get(_GATE, None)
    if gate:
        terminalreporter.write_line(suite.secrets(gate), red=True, bold=True)


@pytest.hookimpl(optionalhook=True)
def pytest_html_results_summary(prefix: list[Any], summary: list[Any], postfix: list[Any],
                                session: pytest.Session) -> None:
    report = session.config.stash.get(_REPORT, None)
    suite = existing_session(session.config)
    if report is not None and suite is not None:
        postfix.append(section(report, suite.secrets))
