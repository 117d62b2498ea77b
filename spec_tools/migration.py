"""Generate the v1 -> v2 migration guide (Markdown) from spec/v1.yaml and spec/v2.yaml.

Usage: `python -m spec_tools.migration [--check] [V1 V2 OUT]` (defaults: spec/v1.yaml
spec/v2.yaml docs/migration-guide.md). `--check` writes nothing and exits 1 when OUT is
not what the specs generate.

Everything in the guide comes from the two specs. What cannot be inferred is annotated
on the v1 side, next to the thing it is about:
- `x-v2-equivalent: <operationId>` on a v1 operation names its v2 replacement (without
  it, the v2 operation with the same method and path is taken);
- `x-v2-name` on a v1 field or query parameter gives its v2 name. Relative to the
  field's parent object: `is_enabled` (a sibling), `../url` (one level up), `../` (the
  object is dissolved: its fields move up one level, as v1 `meta.pagination.*` did).
A v1 field with no v2 counterpart is "removed"; a v2 field nothing maps to is "added".
The guide is laid out so that spec_tools.guide_check can check it like the published one:
a `vN | METHOD | URL |` row per version and labelled ```json examples.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from spec_tools.spec_model import (
    Field,
    Operation,
    SpecError,
    body_fields,
    describe_type,
    example_of,
    load_spec,
    operations,
    server_url,
)

DEFAULT_PATHS = ("spec/v1.yaml", "spec/v2.yaml", "docs/migration-guide.md")


@dataclass
class FieldChanges:
    """What happened to the fields of one body between v1 and v2."""

    renamed: list[tuple[str, str]] = field(default_factory=list)
    retyped: list[tuple[str, str, str]] = field(default_factory=list)
    requiredness: list[tuple[str, str]] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    def lines(self, fields_v2: dict[str, Field]) -> list[str]:
        out = [f"- {_rename_word(old, new)}: `{old}` → `{new}`" for old, new in self.renamed]
        out += [f"- Type changed: `{name}`: {old} → {new}" for name, old, new in self.retyped]
        out += [f"- `{name}` is now {how}" for name, how in self.requiredness]
        out += [f"- Added: `{name}` ({_type_and_value(fields_v2[name].schema)}"
                f"{', required' if fields_v2[name].required else ', optional'})"
                for name in self.added]
        for name in self.removed:
            moved = any(old.startswith(f"{name}.") for old, _ in self.renamed)
            out.append(f"- Removed: `{name}`" + (" (its fields moved, see above)" if moved else ""))
        return out


def _rename_word(old: str, new: str) -> str:
    return "Moved" if old.rsplit(".", 1)[-1] == new.rsplit(".", 1)[-1] else "Renamed"


def _type_and_value(schema: dict[str, Any]) -> str:
    if "const" in schema:
        return f"{describe_type(schema)}, always `{json.dumps(schema['const'])}`"
    return describe_type(schema)


def _drop_last(path: str) -> str:
    return path.rsplit(".", 1)[0] if "." in path else ""


def _join(parent: str, name: str) -> str:
    return f"{parent}.{name}" if parent and name else parent or name


def v2_path(path: str, fields: dict[str, Field]) -> str:
    """Where v1 field `path` lives in v2, following `x-v2-name` on it and its ancestors."""
    parent, name = (path.rsplit(".", 1) if "." in path else ("", path))
    if parent:
        is_items = parent.endswith("[]")
        mapped = v2_path(parent.removesuffix("[]"), fields)
        parent = mapped + ("[]" if is_items and mapped else "")
    annotation = fields[path].schema.get("x-v2-name") if path in fields else None
    if not isinstance(annotation, str):
        return _join(parent, name)
    *ups, new_name = annotation.split("/")
    for _ in ups:  # each `..` climbs one object
        parent = _drop_last(parent.removesuffix("[]"))
    return _join(parent, new_name)


def _top_level(paths: list[str]) -> list[str]:
    chosen = set(paths)
    return [p for p in paths
            if not any(p.startswith((f"{o}.", f"{o}[].")) for o in chosen if o != p)]


def compare_fields(v1: dict[str, Field], v2: dict[str, Field], request: bool) -> FieldChanges:
    changes = FieldChanges()
    reached: set[str] = set()
    for path, old in v1.items():
        target = v2_path(path, v1)
        if target == "":
            continue  # a dissolved wrapper: its fields are reported one by one
        new = v2.get(target)
        if new is None:
            changes.removed.append(path)
            continue
        reached.add(target)
        parent = _drop_last(path).removesuffix("[]")
        parent_dissolved = bool(parent) and v2_path(parent, v1) == ""
        if target != path and ("x-v2-name" in old.schema or parent_dissolved):
            changes.renamed.append((path, target))
        if (before := describe_type(old.schema)) != (after := describe_type(new.schema)):
            changes.retyped.append((target, before, after))
        if request and old.required != new.required:
            changes.requiredness.append((target, "required" if new.required else "optional"))
    changes.added = _top_level([p for p in v2 if p not in reached])
    changes.removed = _top_level(changes.removed)
    return changes


def _query_lines(v1_op: Operation, v2_op: Operation) -> list[str]:
    old, new = v1_op.query_parameters(), v2_op.query_parameters()
    lines, reached = [], set()
    for name, param in old.items():
        target = param.get("x-v2-name", name)
        if target not in new:
            lines.append(f"- Removed: `{name}`")
            continue
        reached.add(target)
        if target != name:
            lines.append(f"- Renamed: `{name}` → `{target}`")
        before = describe_type(param.get("schema", {}))
        after = describe_type(new[target].get("schema", {}))
        if before != after:
            lines.append(f"- Type changed: `{target}`: {before} → {after}")
    for name, param in new.items():
        if name not in reached:
            need = "required" if param.get("required") else "optional"
            lines.append(f"- Added: `{name}` ({describe_type(param.get('schema', {}))}, {need})")
    return lines


def _example_block(version: str, op: Operation) -> list[str]:
    status = op.success_status()
    media = op.response_media(status)
    if media is None:
        return [f"{version} response ({status}): no body.", ""]
    example = example_of(media)
    if example is None:
        return [f"{version} response ({status}): the spec gives no example.", ""]
    return [f"{version} response example ({status}):", "", "```json",
            json.dumps(example, indent=2, ensure_ascii=False), "```", ""]


def _section(v1_op: Operation, v2_op: Operation, v1_base: str, v2_base: str) -> list[str]:
    out = [f"## {v1_op.summary} → {v2_op.summary}", "",
           "| version | method | URL |", "|---|---|---|",
           f"| v1 | {v1_op.method.upper()} | {v1_base}{v1_op.path} |",
           f"| v2 | {v2_op.method.upper()} | {v2_base}{v2_op.path} |", "",
           f"v1 `{v1_op.operation_id}` is replaced by v2 `{v2_op.operation_id}`.", ""]
    changes = []
    if v1_op.method != v2_op.method:
        changes.append(f"- Method: {v1_op.method.upper()} → {v2_op.method.upper()}")
    if (s1 := v1_op.success_status()) != (s2 := v2_op.success_status()):
        changes.append(f"- Success status: {s1} → {s2}")
    if v1_op.response_media() is not None and v2_op.response_media() is None:
        changes.append("- The success response now has no body.")
    out += ["### Method and status", "", *(changes or ["- Unchanged."]), ""]
    if query := _query_lines(v1_op, v2_op):
        out += ["### Query parameters", "", *query, ""]
    for title, schemas, is_request in (
        ("Request body", (v1_op.request_schema(), v2_op.request_schema()), True),
        ("Response body", (v1_op.response_schema(), v2_op.response_schema()), False),
    ):
        if schemas == (None, None) or (not is_request and schemas[1] is None):
            continue  # a v2 response without a body was said under "Method and status"
        fields_v1 = body_fields(schemas[0]) if schemas[0] else {}
        fields_v2 = body_fields(schemas[1]) if schemas[1] else {}
        lines = compare_fields(fields_v1, fields_v2, is_request).lines(fields_v2)
        out += [f"### {title}", "", *(lines or ["- Unchanged."]), ""]
    out += ["### Examples", "", *_example_block("v1", v1_op), *_example_block("v2", v2_op)]
    out += [f"Please refer to {v2_op.summary} for more information.", ""]
    return out


def generate(v1: dict[str, Any], v2: dict[str, Any], sources: tuple[str, str]) -> str:
    """The whole guide, as Markdown, from the two resolved specs."""
    v2_ops = operations(v2)
    by_id = {op.operation_id: op for op in v2_ops}
    by_route = {(op.method, op.path): op for op in v2_ops}
    v1_base, v2_base = server_url(v1), server_url(v2)
    out = ["# Migrating from the v1 to the v2 webhooks API", "",
           f"<!-- Generated by `make migration-guide` from the specs ({Path(sources[0]).name}, "
           f"{Path(sources[1]).name}): edit them, not this file. -->", "",
           f"v1 base URL: `{v1_base}`; v2 base URL: `{v2_base}`.", ""]
    used: set[str] = set()
    body: list[str] = []
    missing: list[str] = []
    for op in operations(v1):
        target = op.spec.get("x-v2-equivalent")
        v2_op = by_id.get(target) if target else by_route.get((op.method, op.path))
        if v2_op is None:
            missing.append(f"- `{op.method.upper()} {op.path}` ({op.summary}): no v2 equivalent.")
            continue
        used.add(v2_op.operation_id)
        body += _section(op, v2_op, v1_base, v2_base)
    new_ops = [f"- `{op.method.upper()} {op.path}`: {op.summary} (`{op.operation_id}`)"
               for op in v2_ops if op.operation_id not in used]
    if new_ops:
        out += ["## New in v2", "", *new_ops, ""]
    if missing:
        out += ["## Removed in v2", "", *missing, ""]
    return "\n".join(out + body).rstrip("\n") + "\n"


def generate_files(v1_path: str, v2_path_: str) -> str:
    return generate(load_spec(v1_path), load_spec(v2_path_), (v1_path, v2_path_))


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    check = "--check" in args
    paths = [a for a in args if a != "--check"] or list(DEFAULT_PATHS)
    if len(paths) != 3:
        print("usage: python -m spec_tools.migration [--check] [V1 V2 OUT]", file=sys.stderr)
        return 2
    v1_file, v2_file, out_file = paths
    try:
        text = generate_files(v1_file, v2_file)
    except SpecError as exc:
        print(exc, file=sys.stderr)
        return 2
    out = Path(out_file)
    if check:
        current = out.read_text(encoding="utf-8") if out.exists() else ""
        if current != text:
            print(f"{out_file}: out of date with {v1_file} and {v2_file}; "
                  "run `make migration-guide`")
            return 1
        print(f"{out_file}: up to date")
        return 0
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    print(f"{out_file}: written ({len(text.splitlines())} lines) from {v1_file} and {v2_file}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
