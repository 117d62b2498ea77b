"""The coverage result as a person reads it (terminal lines) and as a machine does (JSON).

The JSON document's keys are stable (`schema: aqid-coverage/1`); items are strings
`"<METHOD> <path template> <detail>"` (a path alone for the paths criterion), e.g.
`"GET /api/v2/webhooks query enabled=false"` or `"PATCH /api/v2/webhooks/{id} 413"`.
"""

from __future__ import annotations

from typing import Any

from .model import CoverageReport, Criterion, VersionCoverage, item_text
from .universe import CRITERIA, HIGHEST_MEASURED_LEVEL

SCHEMA = "aqid-coverage/1"
PAPER = ("A. Martin-Lopez, S. Segura, A. Ruiz-Cortés, \"Test Coverage Criteria for RESTful "
         "Web APIs\", A-TEST 2019, doi:10.1145/3340433.3342822")
MISSING_SHOWN = 10  # not-covered items printed per version; the rest are in the JSON file

TITLES = {
    "paths": "paths",
    "operations": "operations",
    "request_content_types": "request content types",
    "response_content_types": "response content types",
    "parameters": "parameters",
    "status_code_classes": "status code classes",
    "parameter_values": "parameter values",
    "status_codes": "status codes",
    "response_properties": "response properties",
}


def tcl_label(level: int) -> str:
    return f"TCL{level}"


def _ratio(criterion: Criterion) -> str:
    return f"{len(criterion.covered)}/{criterion.total}"


def summary_line(coverage: VersionCoverage) -> str:
    c = coverage.criteria
    parts = [
        f"paths {_ratio(c['paths'])}",
        f"operations {_ratio(c['operations'])}",
        f"content types {_ratio(c['request_content_types'])} in + "
        f"{_ratio(c['response_content_types'])} out",
        f"parameters {_ratio(c['parameters'])}",
        f"status code classes {_ratio(c['status_code_classes'])}",
        f"values {_ratio(c['parameter_values'])}",
        f"status codes {_ratio(c['status_codes'])}",
        f"response properties {_ratio(c['response_properties'])}",
    ]
    return (f"coverage {coverage.version}: {tcl_label(coverage.tcl)} from "
            f"{coverage.exchanges} exchanges; " + ", ".join(parts))


def terminal_lines(report: CoverageReport, json_path: str | None) -> list[str]:
    lines = []
    for coverage in report.versions.values():
        lines.append(summary_line(coverage))
        missing = [(criterion, item) for criterion in _by_level(coverage)
                   for item in criterion.missing]
        for criterion, item in missing[:MISSING_SHOWN]:
            lines.append(f"  {coverage.version} not covered: {TITLES[criterion.name]}: "
                         f"{item_text(item)}")
        if len(missing) > MISSING_SHOWN:
            where = f" — see {json_path}" if json_path else ""
            lines.append(f"  … and {len(missing) - MISSING_SHOWN} more{where}")
        if coverage.undocumented:
            shown = ", ".join(f"{scope} {status}" for scope, status
                              in coverage.undocumented[:MISSING_SHOWN])
            more = len(coverage.undocumented) - MISSING_SHOWN
            lines.append(f"  {coverage.version} statuses seen that the spec does not document "
                         f"(they cover nothing): {shown}" + (f" and {more} more" if more > 0
                                                            else ""))
    deliveries = report.deliveries
    if deliveries.deliveries:
        total = len(deliveries.delivered) + len(deliveries.missing)
        lines.append(f"coverage deliveries: {deliveries.deliveries} received, events "
                     f"{len(deliveries.delivered)}/{total} ({', '.join(deliveries.delivered)})")
    return lines


def _by_level(coverage: VersionCoverage) -> list[Criterion]:
    return sorted(coverage.criteria.values(), key=lambda c: (c.level, list(CRITERIA).index(c.name)))


def gate_line(report: CoverageReport, level: int, versions: list[str]) -> str | None:
    """One line when a selected version is under `level` (the run then fails), else None."""
    under = [report.versions[v] for v in versions if v in report.versions
             and report.versions[v].tcl < level]
    if not under:
        return None
    parts = []
    for coverage in report.versions.values():
        if coverage.version not in versions:
            continue
        reached = f"{coverage.version} reached {tcl_label(coverage.tcl)}"
        if coverage.tcl < level:
            next_level = coverage.tcl + 1
            needs = ", ".join(f"{TITLES[c.name]} {_ratio(c)}"
                              for c in coverage.missing_for(next_level))
            reached += f" ({tcl_label(next_level)} still misses: {needs})"
        parts.append(reached)
    return (f"coverage: under --coverage-fail-under {tcl_label(level)}: " + "; ".join(parts))


def to_json(report: CoverageReport, run: dict[str, Any]) -> dict[str, Any]:
    versions = {}
    for version, coverage in report.versions.items():
        next_level = coverage.tcl + 1 if coverage.tcl < HIGHEST_MEASURED_LEVEL else None
        versions[version] = {
            "tcl": coverage.tcl,
            "tcl_label": tcl_label(coverage.tcl),
            "exchanges": coverage.exchanges,
            "next_level": next_level,
            "next_level_needs": ([c.name for c in coverage.missing_for(next_level)]
                                 if next_level else []),
            "criteria": {
                name: {
                    "level": criterion.level,
                    "covered": len(criterion.covered),
                    "total": criterion.total,
                    "covered_items": [item_text(i) for i in criterion.covered],
                    "missing_items": [item_text(i) for i in criterion.missing],
                }
                for name, criterion in coverage.criteria.items()
            },
            "undocumented_statuses_seen": [f"{scope} {status}"
                                           for scope, status in coverage.undocumented],
        }
    deliveries = report.deliveries
    return {
        "schema": SCHEMA,
        "paper": PAPER,
        "run": run,
        "not_measured": {"operation_flow": "TCL7: sequences of operations are not counted; "
                                           "the highest level reported is TCL6"},
        "versions": versions,
        "deliveries": {
            "received": deliveries.deliveries,
            "events": {
                "covered": len(deliveries.delivered),
                "total": len(deliveries.delivered) + len(deliveries.missing),
                "covered_items": list(deliveries.delivered),
                "missing_items": list(deliveries.missing),
            },
        },
    }
