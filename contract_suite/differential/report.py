"""How a comparison is shown: terminal lines, Markdown, HTML (both responses side by side)
and JUnit XML (one testcase per operation compared; a difference is its failure)."""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

from .compare import ALSO_FAILURE, Change, Comparison, Finding
from .normalise import body_of

SHOWN_CHANGES = 8  # changes listed per finding; the rest are counted
SHOWN_BODY = 1500  # characters of a body shown in a report


def _value(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str,
                                                            ensure_ascii=False)
    return text if len(text) <= 80 else text[:77] + "..."


def change_line(change: Change) -> str:
    if change.path == "status":
        return f"status {change.baseline} -> {change.candidate}"
    if change.kind == "changed":
        return f"{change.path}: {_value(change.baseline)} -> {_value(change.candidate)}"
    if change.path == "exchange":
        where = "baseline" if change.kind == "removed" else "candidate"
        return f"exchange only in the {where}: {change.baseline or change.candidate}"
    side = change.candidate if change.kind == "added" else change.baseline
    return f"{change.path} {change.kind}: {_value(side)}"


def _where(finding: Finding) -> str:
    tests = sorted(finding.tests)
    more = f" (+{len(tests) - 1} more)" if len(tests) > 1 else ""
    return f"{finding.count} exchange(s), e.g. in {tests[0]}{more}"


def summary_lines(comparison: Comparison, title: str) -> list[str]:
    noise = comparison.noise
    learned = (f"learned from {noise.learned_from} baseline runs: "
               f"{len(noise.unstable)} unstable exchanges, {len(noise.paths)} noisy paths"
               if noise.learned_from else "one baseline run: normalisation only, no noise "
               "learned")
    lines = [title,
             f"operations: {len(comparison.operations)}; exchanges compared: "
             f"{comparison.compared}; noise {learned}"]
    for finding in comparison.findings:
        lines.append(f"DIFF {finding.operation} [{finding.verdict}] {_where(finding)}")
        lines.extend(f"     {change_line(c)}" for c in finding.changes[:SHOWN_CHANGES])
        if len(finding.changes) > SHOWN_CHANGES:
            lines.append(f"     … and {len(finding.changes) - SHOWN_CHANGES} more changes")
    failing = sum(f.verdict == ALSO_FAILURE for f in comparison.findings)
    lines.append(f"differences: {len(comparison.findings)} ({failing} also a contract failure, "
                 f"{len(comparison.findings) - failing} to review); approved: "
                 f"{comparison.approved}; candidate contract failures: "
                 f"{len(comparison.candidate_failures)}"
                 + (f" (their {comparison.cut_short} exchanges after the failure not compared)"
                    if comparison.cut_short else ""))
    for approval in comparison.unused_approvals:
        lines.append(f"note: approval at line {approval.line} ({approval.operation} "
                     f"{approval.path}) matched no difference")
    return lines


def _request(record: dict[str, Any] | None) -> str:
    if record is None:
        return "(none)"
    text = f"{record['method']} {record['url']}"
    body = body_of(record.get("request_body"))
    if body is not None:
        text += "\n" + _shown(body)
    return text


def _response(record: dict[str, Any] | None) -> str:
    if record is None:
        return "(no such exchange)"
    if record.get("kind") == "delivery":  # what the subscriber got is the delivery itself
        headers = record.get("request_headers", {})
        shown = {k: v for k, v in headers.items() if k.lower().startswith(("x-aqid", "user-agent",
                                                                            "content-type"))}
        return f"delivered: {json.dumps(shown, sort_keys=True)}\n" + _shown(
            body_of(record.get("request_body")))
    return f"{record.get('status')}\n" + _shown(body_of(record.get("response_body")))


def _shown(body: Any) -> str:
    text = body if isinstance(body, str) else json.dumps(body, indent=1, sort_keys=True,
                                                         ensure_ascii=False)
    return text if len(text) <= SHOWN_BODY else text[:SHOWN_BODY] + "\n…"


def markdown(comparison: Comparison, title: str) -> str:
    out = [f"# Differential run\n\n{title}\n"]
    out.append("```\n" + "\n".join(summary_lines(comparison, title)[1:]) + "\n```\n")
    for number, finding in enumerate(comparison.findings, 1):
        example = finding.baseline or finding.candidate
        out.append(f"## {number}. {finding.operation}: {finding.verdict}\n")
        out.append(f"{_where(finding)}\n")
        out.append("| change | path | baseline | candidate |\n|---|---|---|---|")
        for change in finding.changes[:SHOWN_CHANGES]:
            out.append(f"| {change.kind} | `{change.path}` | `{_cell(change.baseline)}` | "
                       f"`{_cell(change.candidate)}` |")
        out.append(f"\nRequest:\n\n```\n{_request(example)}\n```\n")
        out.append(f"Baseline response:\n\n```\n{_response(finding.baseline)}\n```\n")
        out.append(f"Candidate response:\n\n```\n{_response(finding.candidate)}\n```\n")
    return "\n".join(out)


def _cell(value: Any) -> str:
    return _value(value).replace("|", "\\|").replace("`", "'") if value is not None else ""


def html_page(comparison: Comparison, title: str) -> str:
    esc = html.escape
    parts = ["<!doctype html><meta charset='utf-8'><title>Differential run</title>"
             "<style>body{font-family:sans-serif;margin:2em}pre{background:#f6f6f6;padding:.5em;"
             "white-space:pre-wrap;margin:0}td,th{vertical-align:top;border:1px solid #ccc;"
             "padding:.3em}table{border-collapse:collapse;width:100%}.fail{color:#a00}</style>",
             f"<h1>Differential run</h1><p>{esc(title)}</p>",
             f"<pre>{esc(chr(10).join(summary_lines(comparison, title)[1:]))}</pre>"]
    for number, finding in enumerate(comparison.findings, 1):
        css = " class='fail'" if finding.verdict == ALSO_FAILURE else ""
        parts.append(f"<h2>{number}. {esc(finding.operation)}: <span{css}>"
                     f"{esc(finding.verdict)}</span></h2><p>{esc(_where(finding))}</p>")
        parts.append("<table><tr><th>change</th><th>path</th><th>baseline</th>"
                     "<th>candidate</th></tr>")
        for change in finding.changes[:SHOWN_CHANGES]:
            parts.append(f"<tr><td>{change.kind}</td><td><code>{esc(change.path)}</code></td>"
                         f"<td><code>{esc(_cell(change.baseline))}</code></td>"
                         f"<td><code>{esc(_cell(change.candidate))}</code></td></tr>")
        parts.append("</table>")
        example = finding.baseline or finding.candidate
        parts.append(f"<p>Request</p><pre>{esc(_request(example))}</pre>")
        parts.append("<table><tr><th>baseline</th><th>candidate</th></tr><tr>"
                     f"<td><pre>{esc(_response(finding.baseline))}</pre></td>"
                     f"<td><pre>{esc(_response(finding.candidate))}</pre></td></tr></table>")
    return "\n".join(parts) + "\n"


def junit(comparison: Comparison) -> str:
    by_operation: dict[str, list[Finding]] = {}
    for finding in comparison.findings:
        by_operation.setdefault(finding.operation, []).append(finding)
    suite = ElementTree.Element("testsuite", name="differential",
                                tests=str(len(comparison.operations)),
                                failures=str(len(by_operation)), errors="0")
    for operation in comparison.operations:
        case = ElementTree.SubElement(suite, "testcase", classname="differential",
                                      name=operation)
        findings = by_operation.get(operation)
        if findings:
            failure = ElementTree.SubElement(
                case, "failure", message=f"{len(findings)} behaviour difference(s)")
            failure.text = "\n".join(
                f"[{f.verdict}] {_where(f)}\n" + "\n".join(
                    f"  {change_line(c)}" for c in f.changes[:SHOWN_CHANGES])
                for f in findings)
    suites = ElementTree.Element("testsuites")
    suites.append(suite)
    return ElementTree.tostring(suites, encoding="unicode")


def write_reports(comparison: Comparison, title: str, folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = {"differential.md": markdown(comparison, title),
               "differential.html": html_page(comparison, title),
               "differential-junit.xml": junit(comparison)}
    for name, text in written.items():
        (folder / name).write_text(text, encoding="utf-8")
    return [folder / name for name in written]
