"""The HTML report (pytest-html) as the page a reviewer opens from a CI artefact.

Stock pytest-html opens with Python and plugin versions. This plugin puts first what the
reviewer needs: the target, run id, seed, profile, API versions, masked tokens and the
command that repeats the run (tokens as environment variable names, never values); then
the per-operation summary the terminal prints and every failure cut to its
Received / Expected / Where text and curl line; the environment table moves to the end.

Everything is built on the process that writes the report (the xdist controller, or a
lone process), in `pytest_html_results_summary`: by then the workers' stats have been
merged (plugin.py, pytest_testnodedown) and their test reports, masked on the worker,
have arrived. All text passes through the session's `Secrets` once more before it is
written. Other plugins add sections beside these (the coverage plugin: `aqid-coverage`).
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any

import pytest

from . import reporting
from .redact import mask
from .session import SuiteSession, existing_session

MAX_FAILURES_SHOWN = 100
OPEN_FAILURES = 5  # shown unfolded; the rest fold to one line each (a click opens one)
MAX_EXCERPT_LINES = 60
# Environment variables that carry the tokens; the reproduce command names them.
TOKEN_OPTIONS = (("--token", "AQID_TOKEN", "token"),
                 ("--other-team-token", "AQID_OTHER_TEAM_TOKEN", "other_team_token"),
                 ("--read-only-token", "AQID_READ_ONLY_TOKEN", "read_only_token"))
_WORKER_LINE = re.compile(r"^\[gw\d+\] ")
_GROUP_PREFIX = re.compile(r"^\s*[|+]\s?")  # an exception group's left margin
_SUB_EXCEPTIONS = re.compile(r"^\s*\(\d+ sub-exceptions?\)\s*$")
_PYTEST_E_LINE = re.compile(r"^E {1,7}")
_LOCATION_LINE = re.compile(r"^\S+:\d+: \w+")
_CURATED_FIRST_LINE = re.compile(r"^Contract broken: scenario .*?, (step \d+.*)$")
_EXPECTED_RECEIVED = re.compile(r"^(Expected|Received):\s+(.*)$")

STYLE = """<style>
body { display: flex; flex-direction: column; color: #555; }
#environment-header { order: 90; }
#environment { order: 91; align-self: flex-start; }
footer { order: 99; }
.summary__data { display: flex; flex-direction: column; }
.summary__data > * { order: 2; flex: none; }
.summary__spacer { display: none; }
.summary__data > .additional-summary.prefix { order: 0; }
.summary__data > h2 { order: 1; }
.aqid-run { border-left: 4px solid #3867d6; background: #f3f6fd; padding: 6px 14px;
  margin: 4px 0 12px; color: #222; max-width: 1100px; }
.aqid-run dl { display: grid; grid-template-columns: max-content 1fr; gap: 3px 18px;
  margin: 8px 0; }
.aqid-run dt { font-weight: bold; }
.aqid-run dd { margin: 0; }
.aqid-section { color: #222; margin: 14px 0; }
.aqid-section h2 { margin-bottom: 6px; }
.aqid-section pre, .aqid-run pre { background: #f4f4f4; border: 1px solid #e0e0e0;
  padding: 6px 8px; margin: 4px 0 10px; white-space: pre-wrap; overflow-wrap: anywhere;
  font-family: "Courier New", Courier, monospace; color: #111; }
table.aqid-operations td, table.aqid-operations th { padding: 3px 10px;
  border: 1px solid #e6e6e6; text-align: left; }
table.aqid-operations td.number { text-align: right; font-variant-numeric: tabular-nums; }
.aqid-ok { color: green; font-weight: bold; }
.aqid-fail { color: #c0392b; font-weight: bold; }
.aqid-failure { margin: 6px 0; }
.aqid-failure summary { cursor: pointer; font-size: 13px; padding: 2px 0; }
.aqid-failure .nodeid { color: #c0392b; font-weight: bold; }
.aqid-failure .why { color: #444; }
.aqid-note { color: #666; }
</style>"""


@dataclass(frozen=True)
class FailureNote:
    """One failed test report, as the report shows it: who, at which phase, and why."""

    nodeid: str
    when: str
    text: str  # masked excerpt


def pytest_configure(config: pytest.Config) -> None:
    # Only the process that writes the report (pytest-html writes none on an xdist worker).
    if config.getoption("htmlpath", None) and not hasattr(config, "workerinput"):
        config.pluginmanager.register(ReportContent(config), "aqid-html-report")


class ReportContent:
    """The report's own parts for one run (registered per config: no module state)."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.failures: list[FailureNote] = []

    def _suite(self) -> SuiteSession | None:
        return existing_session(self.config)

    @pytest.hookimpl(trylast=True)
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.failed:
            self._note(report)

    @pytest.hookimpl(trylast=True)
    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self._note(report)

    def _note(self, report: pytest.TestReport | pytest.CollectReport) -> None:
        suite = self._suite()
        if suite is None:
            return
        text = suite.secrets(failure_excerpt(str(report.longreprtext or "")))
        self.failures.append(FailureNote(report.nodeid, getattr(report, "when", "collect"), text))

    @pytest.hookimpl(optionalhook=True)
    def pytest_html_report_title(self, report: Any) -> None:
        suite = self._suite()
        if suite is not None:
            report.title = f"aqid-contracts: {suite.target.base_url} (run {suite.target.run_id})"

    @pytest.hookimpl(optionalhook=True)
    def pytest_html_results_table_header(self, cells: list[str]) -> None:
        # The Links column holds pytest-html extras; the suite attaches none.
        if self._suite() is not None:
            cells[:] = [cell for cell in cells if ">Links<" not in cell]

    @pytest.hookimpl(optionalhook=True)
    def pytest_html_results_table_row(self, report: Any, cells: list[str]) -> None:
        if self._suite() is not None:
            cells[:] = [cell for cell in cells if 'class="col-links"' not in cell]

    @pytest.hookimpl(optionalhook=True)
    def pytest_html_results_summary(self, prefix: list[str], summary: list[str],
                                    postfix: list[str], session: pytest.Session) -> None:
        suite = self._suite()
        if suite is None:
            return
        prefix.append(STYLE + run_block(suite, self.config))
        # Before the final cleanup sweep, which comes after the report is written.
        summary.append(operations_section(suite, suite.client_requests))
        summary.append(failures_section(self.failures, suite.secrets))


def run_block(suite: SuiteSession, config: pytest.Config) -> str:
    """The run at a glance: what was tested, with which settings, and how to repeat it."""
    target = suite.target
    origin = "embedded reference server" if target.embedded else "given by --base-url"
    tokens = ", ".join(f"{label} {mask(value) if value else 'none'}" for label, value in (
        ("main", target.token), ("other team", target.other_team_token),
        ("read-only", target.read_only_token)))
    rows = [
        ("Target", f"{target.base_url} ({origin})"),
        ("Run id", target.run_id),
        ("Seed", str(suite.seed)),
        ("Profile", f"{suite.profile.name}: {suite.profile.purpose}"),
        ("API versions", ", ".join(sorted(target.api_versions))
         + ("; no writes (GET only)" if target.no_writes else "")),
        ("Tokens", tokens),
    ]
    if suite.rate_limit:
        line = reporting.rate_header(suite.rate_limit, suite.profile)
        rows.append(("Rate limit", line.removeprefix("rate limit: ")))
    listed = "".join(f"<dt>{escape(label)}</dt><dd>{escape(suite.secrets(value))}</dd>"
                     for label, value in rows)
    command = suite.secrets(reproduce_command(config, suite))
    note = ("" if target.embedded else
            '<p class="aqid-note">The tokens are read from the environment variables named in '
            "the command; the report never holds their values.</p>")
    return (f'<section id="aqid-run" class="aqid-run"><dl>{listed}</dl>'
            f"<strong>Reproduce this run</strong><pre id=\"aqid-reproduce\">{escape(command)}</pre>"
            f"{note}</section>")


def reproduce_command(config: pytest.Config, suite: SuiteSession) -> str:
    """The command line that repeats this run: same paths, target, selection and seed."""
    target, options = suite.target, suite.options
    root = Path(config.rootpath)
    words = [".venv/bin/pytest", *(_relative(str(arg), root) for arg in config.args)]
    workers = getattr(config.option, "numprocesses", None)
    if workers:
        words += ["-n", str(workers)]
    if not target.embedded:
        words += ["--base-url", target.base_url]
    words += ["--profile", suite.profile.name, "--seed", str(suite.seed)]
    if len(target.api_versions) == 1:
        words += ["--api-version", next(iter(target.api_versions))]
    if target.no_writes:
        words.append("--no-writes")
    if options.receiver_url:
        words += ["--receiver-url", options.receiver_url]
    for flag, value in (("-k", config.option.keyword), ("-m", config.option.markexpr)):
        if value:
            words += [flag, value]
    command = shlex.join(words)
    if not target.embedded:  # env var names, expanded by the shell of whoever runs it
        command += "".join(f' {flag} "${env}"' for flag, env, field in TOKEN_OPTIONS
                           if getattr(target, field))
    return command


def _relative(arg: str, root: Path) -> str:
    path, sep, rest = arg.partition("::")
    try:
        return str(Path(path).resolve().relative_to(root)) + sep + rest
    except ValueError:
        return arg


def operations_section(suite: SuiteSession, requests_by_client: int) -> str:
    """The terminal's per-operation summary (generated tests) as a table."""
    data = suite.stats.to_dict()
    generated = sum(op["calls"] for op in data.values())
    total = (f"Requests sent: {generated + requests_by_client} ({generated} generated, "
             f"{requests_by_client} by contracts and their clean-up); the final cleanup "
             "sweep runs after this report is written.")
    if not data:
        body = '<p class="aqid-note">No generated test ran in this run.</p>'
    else:
        any_failing = any(op["failures"] for op in data.values())
        rows = []
        for key in sorted(data):
            op = data[key]
            failing = len(op["failures"])
            mark = ('<span class="aqid-fail">FAIL</span>' if failing
                    else '<span class="aqid-ok">ok</span>')
            checks = ", ".join(sorted({f"{d['check']}: {d['title']}"
                                       for d in op["failures"].values()}))
            rows.append(
                f"<tr><td>{mark}</td><td>{escape(key)}</td>"
                f'<td class="number">{op["calls"]}</td><td class="number">{op["checks"]}</td>'
                + (f"<td>{escape(suite.secrets(checks))}</td>" if any_failing else "")
                + "</tr>")
        body = ('<table class="aqid-operations"><thead><tr><th></th><th>Operation</th>'
                "<th>Requests</th><th>Checks</th>"
                + ("<th>Failing checks</th>" if any_failing else "")
                + f"</tr></thead><tbody>{''.join(rows)}</tbody></table>")
    return (f'<section id="aqid-operations" class="aqid-section"><h2>Operations '
            f"(generated tests)</h2>{body}<p>{escape(total)}</p>"
            "</section>")


def failures_section(failures: list[FailureNote], secrets: Any) -> str:
    if not failures:
        return ('<section id="aqid-failures" class="aqid-section"><h2>Failures</h2>'
                '<p class="aqid-ok">No test failed.</p></section>')
    parts = []
    for index, note in enumerate(failures[:MAX_FAILURES_SHOWN]):
        phase = "" if note.when == "call" else f" (at {note.when})"
        text = secrets(note.text)
        parts.append(
            f'<details class="aqid-failure"{" open" if index < OPEN_FAILURES else ""}><summary>'
            f'<span class="nodeid">{escape(note.nodeid)}{escape(phase)}</span> '
            f'<span class="why">— {escape(headline(text))}</span></summary>'
            f"<pre>{escape(text)}</pre></details>")
    if len(failures) > MAX_FAILURES_SHOWN:
        parts.append(f'<p class="aqid-note">… and {len(failures) - MAX_FAILURES_SHOWN} more '
                     "in the results table below.</p>")
    return (f'<section id="aqid-failures" class="aqid-section"><h2>Failures '
            f"({len(failures)})</h2>{''.join(parts)}</section>")


def headline(excerpt: str) -> str:
    """One line saying why a test failed (for the folded view of a failure)."""
    lines = [line.strip() for line in excerpt.splitlines() if line.strip()]
    curated = _CURATED_FIRST_LINE.match(lines[0]) if len(lines) > 1 else None
    if lines and lines[0].startswith("Schemathesis found"):
        named = [line[2:] for line in lines if line.startswith("- ")]  # "- ST103 Undocumented…"
        lines = named or lines
    elif curated:  # curated/collector.format_failure; the node id already names the scenario
        found = dict(m.groups() for m in map(_EXPECTED_RECEIVED.match, lines) if m)
        both = (f" (expected {found['Expected']}, received {found['Received']})"
                if len(found) == 2 else "")
        lines = [f"{curated.group(1)}: {lines[1]}{both}"]
    line = lines[0] if lines else "(no failure text)"
    return line if len(line) <= 120 else line[:119] + "…"


def failure_excerpt(text: str) -> str:
    """A failure cut to what says why: schemathesis' Received / Documented and curl lines,
    a curated contract's whole message, or a Python test's `E` lines and location."""
    lines = [line for line in text.splitlines() if not _WORKER_LINE.match(line)]
    start = next((i for i, line in enumerate(lines) if "Schemathesis found" in line), None)
    if start is not None:
        kept = []
        for line in lines[start:]:
            line = _GROUP_PREFIX.sub("", line, count=1).rstrip()
            if _SUB_EXCEPTIONS.match(line):
                break
            kept.append(line)
        kept[0] = kept[0][kept[0].index("Schemathesis found"):]
    elif any(_PYTEST_E_LINE.match(line) for line in lines):
        kept = [_PYTEST_E_LINE.sub("", line) for line in lines if _PYTEST_E_LINE.match(line)]
        where = [line for line in lines if _LOCATION_LINE.match(line)]
        if where:
            kept.append(f"Where: {where[-1]}")
    else:
        kept = lines
    while kept and not kept[-1].strip():
        kept.pop()
    if len(kept) > MAX_EXCERPT_LINES:
        kept = [*kept[:MAX_EXCERPT_LINES], "… (cut: the full text is in the results table)"]
    return "\n".join(kept)
