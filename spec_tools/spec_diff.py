"""Breaking-change check: the specs in the working tree against the same files at a git ref.

Usage: `python -m spec_tools.spec_diff REF [spec/v2.yaml ...]` (default: every spec/*.yaml
in the working tree or at REF). Prints one line per breaking change,
`FILE#/json/pointer: message`, then a summary; exit 1 when anything breaks, 0 otherwise,
2 when the ref or a file cannot be read.

Why not a kept tool: oasdiff (the usual choice) is a Go binary and the machines reach only
PyPI, npm and Debian; the npm `openapi-diff` reads Swagger 2 / OpenAPI 3.0 but not 3.1; the
npm `@pb33f/openapi-changes` downloads a binary at install time; Optic's CLI sends
telemetry. So this is a small, explicit rule set over the resolved specs (spec_model).

What counts as breaking (for a client of the API):
- an operation removed; a 2xx status code no longer documented;
- a query/path/header parameter removed, added as required or made required, or narrowed;
- a request body newly required; a request field removed, newly required, or narrowed
  (a type dropped, an enum value removed, a bound tightened);
- a response field removed or no longer always present, or its type changed to one a
  client has not seen. Narrowing a response (fewer types or enum values) is safe, as is
  adding an enum value to a response (documented as tolerated by clients).
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from spec_tools.spec_model import (
    Operation,
    SpecError,
    body_fields,
    describe_type,
    load_spec,
    merge_all_of,
    non_null_variant,
    operations,
    schema_types,
)

# Bounds whose larger value accepts more (max*) or fewer (min*) inputs.
_UPPER_BOUNDS = ("maximum", "exclusiveMaximum", "maxLength", "maxItems", "maxProperties")
_LOWER_BOUNDS = ("minimum", "exclusiveMinimum", "minLength", "minItems", "minProperties")


@dataclass(frozen=True)
class Break:
    """One breaking change: where (file and JSON pointer) and what."""

    location: str
    message: str

    def __str__(self) -> str:
        return f"{self.location}: {self.message}"


def _op_key(op: Operation) -> tuple[str, str]:
    # `/webhooks/{id}` and `/webhooks/{webhook}` are the same route for a client.
    parts = ["{}" if p.startswith("{") else p for p in op.path.split("/")]
    return op.method, "/".join(parts)


def _enum(schema: dict[str, Any]) -> set[Any] | None:
    schema, _ = non_null_variant(merge_all_of(schema))
    if "const" in schema:
        return {repr(schema["const"])}
    if "enum" in schema:
        return {repr(value) for value in schema["enum"]}
    return None


def _narrowing(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """How `new` accepts less than `old` (types, enum values, bounds); items included."""
    old, new = merge_all_of(old), merge_all_of(new)
    found = []
    old_types, new_types = schema_types(old), schema_types(new)
    if "any" not in new_types and (lost := (old_types - new_types) - {"any"}):
        found.append(f"type narrowed from {describe_type(old)} to {describe_type(new)} "
                     f"(no longer accepts {', '.join(sorted(lost))})")
    old_enum, new_enum = _enum(old), _enum(new)
    if old_enum is not None and new_enum is not None and (removed := old_enum - new_enum):
        found.append(f"enum values removed: {', '.join(sorted(removed))}")
    elif old_enum is None and new_enum is not None:
        found.append("now restricted to an enum")
    for key in _UPPER_BOUNDS:
        if key in new and (key not in old or new[key] < old[key]):
            found.append(f"{key} tightened from {old.get(key, 'none')} to {new[key]}")
    for key in _LOWER_BOUNDS:
        if key in new and (key not in old or new[key] > old[key]):
            found.append(f"{key} tightened from {old.get(key, 'none')} to {new[key]}")
    if isinstance(old.get("items"), dict) and isinstance(new.get("items"), dict):
        found += [f"items: {why}" for why in _narrowing(old["items"], new["items"])]
    return found


def _top_level(paths: set[str]) -> list[str]:
    """Drop paths whose parent is in the set too: report `meta` once, not `meta.*` again."""
    def parent_in(path: str) -> bool:
        return any(path.startswith(f"{other}.") or path.startswith(f"{other}[]")
                   for other in paths if other != path)
    return sorted(path for path in paths if not parent_in(path))


def _compare_parameters(old: Operation, new: Operation, where: str) -> list[Break]:
    breaks = []
    for key, param in old.parameters.items():
        place, name = key
        if key not in new.parameters:
            breaks.append(Break(f"{where}/parameters", f"{place} parameter '{name}' removed"))
            continue
        now = new.parameters[key]
        if now.get("required") and not param.get("required"):
            breaks.append(Break(f"{where}/parameters",
                                f"{place} parameter '{name}' is now required"))
        for why in _narrowing(param.get("schema", {}), now.get("schema", {})):
            breaks.append(Break(f"{where}/parameters", f"{place} parameter '{name}': {why}"))
    for key, param in new.parameters.items():
        if key not in old.parameters and param.get("required"):
            breaks.append(Break(f"{where}/parameters",
                                f"new required {key[0]} parameter '{key[1]}'"))
    return breaks


def _compare_request(old: Operation, new: Operation, where: str) -> list[Break]:
    here = f"{where}/requestBody"
    breaks = []
    if (new.spec.get("requestBody") or {}).get("required") and not (
        old.spec.get("requestBody") or {}
    ).get("required"):
        breaks.append(Break(here, "request body is now required"))
    old_schema, new_schema = old.request_schema(), new.request_schema()
    if old_schema is None or new_schema is None:
        return breaks
    old_fields, new_fields = body_fields(old_schema), body_fields(new_schema)
    for path in _top_level(set(old_fields) - set(new_fields)):
        breaks.append(Break(here, f"request field '{path}' removed"))
    for path, field in new_fields.items():
        before = old_fields.get(path)
        if field.required and (before is None or not before.required):
            breaks.append(Break(here, f"request field '{path}' is "
                                      f"{'newly added as' if before is None else 'now'} required"))
        if before is not None:
            breaks += [Break(here, f"request field '{path}': {why}")
                       for why in _narrowing(before.schema, field.schema)]
    breaks += [Break(here, f"request body: {why}") for why in _narrowing(old_schema, new_schema)]
    return breaks


def _compare_responses(old: Operation, new: Operation, where: str) -> list[Break]:
    breaks = []
    new_codes = new.success_statuses()
    for code in old.success_statuses():
        here = f"{where}/responses/{code}"
        if code not in new_codes:
            breaks.append(Break(here, f"success status {code} no longer documented "
                                      f"(now {', '.join(new_codes) or 'none'})"))
            continue
        old_schema, new_schema = old.response_schema(code), new.response_schema(code)
        if old_schema is not None and new_schema is None:
            breaks.append(Break(here, "response body removed"))
            continue
        if old_schema is None or new_schema is None:
            continue
        old_fields, new_fields = body_fields(old_schema), body_fields(new_schema)
        for path in _top_level(set(old_fields) - set(new_fields)):
            breaks.append(Break(here, f"response field '{path}' removed"))
        for path, before in old_fields.items():
            after = new_fields.get(path)
            if after is None:
                continue
            if before.required and not after.required:
                breaks.append(Break(here, f"response field '{path}' is no longer required"))
            old_types, new_types = schema_types(before.schema), schema_types(after.schema)
            if "any" not in old_types and (new_types - old_types):
                breaks.append(Break(here, f"response field '{path}' type changed from "
                                          f"{describe_type(before.schema)} to "
                                          f"{describe_type(after.schema)}"))
    return breaks


def diff_specs(old: dict[str, Any], new: dict[str, Any], label: str) -> list[Break]:
    """Every breaking change from `old` to `new`; locations start with `label` (the file)."""
    new_ops = {_op_key(op): op for op in operations(new)}
    breaks: list[Break] = []
    for op in operations(old):
        where = f"{label}{op.pointer}"
        now = new_ops.get(_op_key(op))
        if now is None:
            breaks.append(Break(where, f"operation removed: {op.method.upper()} {op.path} "
                                       f"({op.operation_id})"))
            continue
        breaks += _compare_parameters(op, now, where)
        breaks += _compare_request(op, now, where)
        breaks += _compare_responses(op, now, where)
    return breaks


def _git(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], capture_output=True, text=True, check=False)


def spec_files(ref: str, explicit: list[str]) -> list[str]:
    """The files to compare: those named, else spec/*.yaml here or at the ref."""
    if explicit:
        return explicit
    here = {str(p) for p in Path("spec").glob("*.yaml")}
    listed = _git("ls-tree", "--name-only", f"{ref}:spec")
    there = {f"spec/{name}" for name in listed.stdout.split() if name.endswith(".yaml")}
    return sorted(here | there)


def diff_against_ref(ref: str, files: list[str]) -> tuple[list[Break], list[str]]:
    """(breaking changes, notes) for `files` between the working tree and `ref`."""
    if _git("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}").returncode != 0:
        raise SpecError(f"spec-diff: unknown git ref {ref!r}")
    breaks: list[Break] = []
    notes: list[str] = []
    for name in files:
        shown = _git("show", f"{ref}:{name}")
        if shown.returncode != 0:
            notes.append(f"{name}: not in {ref}, nothing to compare (new file)")
            continue
        if not Path(name).exists():
            breaks.append(Break(name, f"spec file removed (it exists at {ref})"))
            continue
        old = load_spec(f"{ref}:{name}", text=shown.stdout)
        breaks += diff_specs(old, load_spec(name), name)
    return breaks, notes


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0].startswith("-"):
        print("usage: python -m spec_tools.spec_diff REF [SPEC_FILE ...]", file=sys.stderr)
        return 2
    ref, files = args[0], args[1:]
    try:
        breaks, notes = diff_against_ref(ref, spec_files(ref, files))
    except SpecError as exc:
        print(exc, file=sys.stderr)
        return 2
    for note in notes:
        print(note)
    for found in breaks:
        print(found)
    count = len(files) or len(spec_files(ref, []))
    if breaks:
        print(f"spec-diff: {len(breaks)} breaking change(s) against {ref}")
        return 1
    print(f"spec-diff: no breaking changes against {ref} ({count} file(s))")
    return 0


if __name__ == "__main__":
    sys.exit(main())
