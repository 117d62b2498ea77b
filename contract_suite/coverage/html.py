"""The coverage section of the pytest-html report: matrices a reviewer can scan.

Per version: a summary table (criterion, level, covered/total), an operations × status
codes matrix, and a fields × operations matrix (request content types, parameters,
response content types, response properties). Cells are covered (green ✓), not covered
(red ✗), not applicable (grey, the spec does not document it for that operation) or, in
the status matrix, seen but undocumented (amber !). Inline CSS, no script; the section is
`<section id="aqid-coverage">` so other report code and browser tests can find it.
"""

from __future__ import annotations

from html import escape

from .model import CoverageReport, Criterion, VersionCoverage, item_text
from .render import PAPER, TITLES, tcl_label

SECTION_ID = "aqid-coverage"

_CSS = """
#aqid-coverage table{border-collapse:collapse;margin:.4em 0 1.2em;font-size:12px}
#aqid-coverage th,#aqid-coverage td{border:1px solid #ccc;padding:2px 6px;text-align:center}
#aqid-coverage th.row{text-align:left;font-weight:normal;font-family:monospace}
#aqid-coverage td.cov{background:#d7f5d7;color:#135e13}
#aqid-coverage td.miss{background:#f8c9c9;color:#8a0d0d;font-weight:bold}
#aqid-coverage td.na{background:#eee;color:#999}
#aqid-coverage td.extra{background:#fde7b0;color:#7a4d00;font-weight:bold}
#aqid-coverage .legend span{display:inline-block;padding:0 6px;margin-right:6px;
  border:1px solid #ccc}
#aqid-coverage tr.group th{background:#f4f4f4;text-align:left}
"""

_CELL = {
    "cov": ("✓", "covered"),
    "miss": ("✗", "not covered"),
    "na": ("–", "not documented for this operation"),
    "extra": ("!", "seen, but the spec does not document it"),
}

FIELD_GROUPS = (
    ("request content types", "request_content_types"),
    ("parameters (path, query, body fields)", "parameters"),
    ("response content types", "response_content_types"),
    ("response body properties", "response_properties"),
)


def section(report: CoverageReport, mask=lambda text: text) -> str:
    """The whole section as one HTML string; every text goes through `mask` and escaping."""
    def text(value: str) -> str:
        return escape(mask(value))

    parts = [f'<section id="{SECTION_ID}">', f"<style>{_CSS}</style>",
             "<h2>API coverage</h2>",
             f"<p>Counted from the exchanges this run made; criteria and Test Coverage Levels "
             f"of {text(PAPER)}. Operation flow (TCL7) is not measured.</p>",
             '<p class="legend">' + "".join(
                 f'<span class="{cls}">{sym} {label}</span>'
                 for cls, (sym, label) in _CELL.items()) + "</p>"]
    for coverage in report.versions.values():
        parts += _version(coverage, text)
    deliveries = report.deliveries
    if deliveries.deliveries:
        total = len(deliveries.delivered) + len(deliveries.missing)
        parts.append(f"<h3>Deliveries: {deliveries.deliveries} received, events "
                     f"{len(deliveries.delivered)}/{total}</h3>")
        # Six events a row: one row of 34 cells made the page 3,500 px wide.
        cells = [f'<td class="{"cov" if event in deliveries.delivered else "miss"}">'
                 f'{text(event)}</td>'
                 for event in sorted(deliveries.delivered + deliveries.missing)]
        rows = ["<tr>" + "".join(cells[i:i + 6]) + "</tr>" for i in range(0, len(cells), 6)]
        parts.append('<table class="aqid-cov-deliveries">' + "".join(rows) + "</table>")
    parts.append("</section>")
    return "\n".join(parts)


def _version(coverage: VersionCoverage, text) -> list[str]:
    v = coverage.version
    parts = [f'<h3 id="{SECTION_ID}-{v}">{v}: {tcl_label(coverage.tcl)} '
             f"from {coverage.exchanges} exchanges</h3>",
             f'<table class="aqid-cov-summary" data-version="{v}">'
             "<tr><th>criterion</th><th>level</th><th>covered</th></tr>"]
    for criterion in coverage.criteria.values():
        cls = "cov" if criterion.complete else "miss"
        parts.append(f'<tr><th class="row">{TITLES[criterion.name]}</th>'
                     f"<td>TCL{criterion.level}</td>"
                     f'<td class="{cls}">{len(criterion.covered)}/{criterion.total}</td></tr>')
    parts.append("</table>")
    parts += _status_matrix(coverage, text)
    parts += _field_matrix(coverage, text)
    values = coverage.criteria["parameter_values"]
    if values.missing:
        parts.append(f"<details><summary>{v}: parameter values not covered "
                     f"({len(values.missing)}/{values.total})</summary><ul>"
                     + "".join(f"<li>{text(item_text(i))}</li>" for i in values.missing)
                     + "</ul></details>")
    return parts


def _membership(criterion: Criterion) -> dict[tuple[str, str], str]:
    cells = {item: "cov" for item in criterion.covered}
    cells.update({item: "miss" for item in criterion.missing})
    return cells


def _cell(cls: str) -> str:
    symbol, title = _CELL[cls]
    return f'<td class="{cls}" title="{title}">{symbol}</td>'


def _op_header(label: str, coverage: VersionCoverage, text) -> str:
    name = coverage.operation_ids.get(label) or "not in the spec"
    return f'<th class="row" title="{text(label)}">{text(name)}<br>{text(label)}</th>'



def _status_matrix(coverage: VersionCoverage, text) -> list[str]:
    cells = _membership(coverage.criteria["status_codes"])
    extra = set(coverage.undocumented)
    operations = sorted(label for label, _ in coverage.criteria["operations"].covered
                        + coverage.criteria["operations"].missing)
    # a method the path does not have (a 405 probe) gets a row of its own, after the spec's
    operations += sorted({op for op, _status in extra} - set(operations))
    statuses = sorted({status for _op, status in cells}
                      | {status for op, status in extra if op in operations})
    parts = [f"<h4>{coverage.version}: operations × status codes</h4>",
             f'<table class="aqid-cov-matrix" data-version="{coverage.version}" '
             'data-matrix="status-codes"><tr><th>operation</th>'
             + "".join(f"<th>{text(s)}</th>" for s in statuses) + "</tr>"]
    for op in operations:
        row = [_op_header(op, coverage, text)]
        for status in statuses:
            cls = cells.get((op, status)) or ("extra" if (op, status) in extra else "na")
            row.append(_cell(cls))
        parts.append("<tr>" + "".join(row) + "</tr>")
    parts.append("</table>")
    return parts


def _field_matrix(coverage: VersionCoverage, text) -> list[str]:
    operations = sorted(label for label, _ in coverage.criteria["operations"].covered
                        + coverage.criteria["operations"].missing)
    parts = [f"<h4>{coverage.version}: fields × operations</h4>",
             f'<table class="aqid-cov-matrix" data-version="{coverage.version}" '
             'data-matrix="fields"><tr><th>field</th>'
             + "".join(f'<th title="{text(op)}">{text(coverage.operation_ids.get(op) or op)}'
                       "</th>" for op in operations) + "</tr>"]
    for title, name in FIELD_GROUPS:
        cells = _membership(coverage.criteria[name])
        rows = sorted({detail for _op, detail in cells})
        if not rows:
            continue
        parts.append(f'<tr class="group"><th colspan="{len(operations) + 1}">{title}</th></tr>')
        for detail in rows:
            parts.append(f'<tr><th class="row">{text(detail)}</th>'
                         + "".join(_cell(cells.get((op, detail), "na")) for op in operations)
                         + "</tr>")
    parts.append("</table>")
    return parts
