"""Differential regression runs (issue #13): the same seeded suite against a baseline build
twice and a candidate build once; what the two baseline runs disagree on is noise (Diffy),
what the candidate changes beyond it is reported once per operation.

recorder (pytest plugin: --record-exchanges DIR) → recording (load/save runs) →
normalise (the spec's and the room's knowledge) → compare (noise, approvals, differences)
→ report (terminal, Markdown, HTML, JUnit) ← driver (`python -m contract_suite.differential`).
"""
