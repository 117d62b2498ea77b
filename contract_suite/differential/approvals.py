"""The approvals file: known, intended differences, reviewed in a pull request.

    approvals:
      - operation: v2 GET /webhooks          # as the report names it
        path: $.data                         # a JSON path of the report (and below it)
        reason: newest first since 2.4 (ADR 12)
      - operation: v2 PATCH /webhooks/{id}
        path: status
        status: 404 -> 422                   # optional: only this status change
        reason: unknown ids are a validation error now

Every entry needs `operation`, `path` and `reason`; anything else is refused with the
file and line, so a typo never silences a difference by accident.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

FIELDS = ("operation", "path", "status", "reason")
INDEX = re.compile(r"\[\d+\]")
STATUS_CHANGE = re.compile(r"^\s*(\d{3})\s*->\s*(\d{3})\s*$")


class ApprovalsError(Exception):
    """A malformed approvals file: one line, `file:line: what is wrong`."""


@dataclass(frozen=True)
class Approval:
    operation: str
    path: str
    reason: str
    status: tuple[int, int] | None = None
    line: int = 0

    def covers(self, operation: str, path: str, baseline: object, candidate: object) -> bool:
        """`path` as the comparison generalises it ($.data[*].id); the approval may name one
        index ($.data[0].id, copied from a report) and means any."""
        if operation != self.operation:
            return False
        mine = INDEX.sub("[*]", self.path)
        if not (path == mine or path.startswith(mine + ".") or path.startswith(mine + "[")):
            return False
        return self.status is None or (baseline, candidate) == self.status


def load_approvals(path: Path | None) -> list[Approval]:
    if path is None:
        return []
    if not path.is_file():
        raise ApprovalsError(f"{path}: no such approvals file")
    try:
        root = yaml.compose(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else 1
        raise ApprovalsError(f"{path}:{line}: not valid YAML "
                             f"({getattr(exc, 'problem', None) or exc})") from None
    if root is None:
        return []
    entries = _mapping_value(root, "approvals", path)
    if entries is None:
        return []
    if not isinstance(entries, yaml.SequenceNode):
        raise ApprovalsError(f"{path}:{entries.start_mark.line + 1}: `approvals` must be a "
                             "list of entries")
    return [_entry(node, path) for node in entries.value]


def _mapping_value(root: yaml.Node, wanted: str, path: Path) -> yaml.Node | None:
    if not isinstance(root, yaml.MappingNode):
        raise ApprovalsError(f"{path}:{root.start_mark.line + 1}: expected a mapping with "
                             "`approvals:`")
    for key, value in root.value:
        if key.value != wanted:
            raise ApprovalsError(f"{path}:{key.start_mark.line + 1}: unknown key "
                                 f"{key.value!r} (expected `approvals:`)")
        return value if not (isinstance(value, yaml.ScalarNode) and value.value == "") else None
    return None


def _entry(node: yaml.Node, path: Path) -> Approval:
    line = node.start_mark.line + 1
    if not isinstance(node, yaml.MappingNode):
        raise ApprovalsError(f"{path}:{line}: an approval is a mapping of "
                             f"{', '.join(FIELDS)}")
    values: dict[str, str] = {}
    for key, value in node.value:
        if key.value not in FIELDS:
            raise ApprovalsError(f"{path}:{key.start_mark.line + 1}: unknown field "
                                 f"{key.value!r} (fields: {', '.join(FIELDS)})")
        if not isinstance(value, yaml.ScalarNode) or not str(value.value).strip():
            raise ApprovalsError(f"{path}:{value.start_mark.line + 1}: `{key.value}` must be "
                                 "a non-empty string")
        values[key.value] = str(value.value).strip()
    for required in ("operation", "path", "reason"):
        if required not in values:
            raise ApprovalsError(f"{path}:{line}: this approval has no `{required}`")
    status = None
    if "status" in values:
        match = STATUS_CHANGE.match(values["status"])
        if not match:
            raise ApprovalsError(f"{path}:{line}: `status` is written `404 -> 422`, "
                                 f"not {values['status']!r}")
        status = (int(match.group(1)), int(match.group(2)))
    return Approval(values["operation"], values["path"], values["reason"], status, line)
