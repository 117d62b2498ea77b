"""Check a v1 -> v2 migration guide (the published text, or ours) against the two specs.

Usage: `python -m spec_tools.guide_check GUIDE [--v1 spec/v1.yaml] [--v2 spec/v2.yaml]`.
Prints one `GUIDE:LINE: message` per disagreement and a summary; exit 1 when it found
any, 0 when none, 2 when a file cannot be read.

What it reads (the published guide is a web page flattened to text; ours is Markdown):
- operation rows `v1 | GET | https://.../api/webhooks |` (a leading `|` is allowed); a
  `v1` row opens a section, the `v2` row that follows is its replacement;
- JSON examples: the block after a line `json` (or a ```json fence). Its version is the
  one named on the line before (`v2 response example ...`), else the order in its
  section (first v1, then v2);
- `Please refer to NAME for more information.` and `replaced by “Webhooks → NAME”`.
What it reports: rows whose method or path is not the spec's v2 equivalent of the v1
operation; examples that are not JSON (trailing commas and doubled `{ {` braces are named,
then repaired so the rest of the block is still checked); example fields the response
schema does not have; schema violations; `uuid` values that are not UUIDs; references to
an operation other than the v2 equivalent.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker

from spec_tools.spec_model import (
    Operation,
    SpecError,
    load_spec,
    merge_all_of,
    object_variant,
    operations,
    server_url,
)

ROW = re.compile(r"^\s*\|?\s*(v[12])\s*\|\s*([A-Za-z]+)\s*\|\s*(\S+)\s*\|")
REFER = re.compile(r"Please refer to (.+?) for more information")
REPLACED = re.compile(r"replaced by\s*[“\"]\s*(?:[^”\"]*?→\s*)?([^”\"]+?)\s*[”\"]")
LABEL = re.compile(r"\b(v[12])\b[^\n]*\bexample", re.IGNORECASE)
TRAILING_COMMA = re.compile(r",(\s*)([}\]])")
UUID_TEXT = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)


@dataclass
class Block:
    line: int  # file line of the block's first character
    text: str
    version: str | None


@dataclass
class Section:
    rows: dict[str, tuple[int, str, str]] = field(default_factory=dict)  # version -> row
    blocks: list[Block] = field(default_factory=list)
    refs: list[tuple[int, str, str]] = field(default_factory=list)  # (line, kind, name)


def _json_extent(lines: list[str], start: int) -> int:
    """Index after the last line of the unfenced JSON value starting at `start`."""
    depth, in_string, escaped, opened = 0, False, False, False
    for index in range(start, len(lines)):
        for char in lines[index]:
            if in_string:
                escaped, in_string = (False, in_string) if escaped else (char == "\\", char != '"')
            elif char == '"':
                in_string = True
            elif char in "{[":
                depth, opened = depth + 1, True
            elif char in "}]":
                depth -= 1
        if opened and depth <= 0:
            return index + 1
        if not opened and lines[index].strip():
            return start  # not JSON at all: an empty block
    return len(lines)


def parse_guide(text: str) -> list[Section]:
    """The guide's sections, with their rows, JSON blocks and references."""
    lines = text.splitlines()
    sections: list[Section] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        stripped = line.strip()
        if match := ROW.match(line):
            version, method, url = match.groups()
            if version == "v1" or not sections or version in sections[-1].rows:
                sections.append(Section())
            sections[-1].rows[version] = (index + 1, method.upper(), url)
        elif stripped in ("json", "```json") and sections:
            before = next((lines[i] for i in range(index - 1, -1, -1) if lines[i].strip()), "")
            label = LABEL.search(before)
            if stripped == "```json":
                end = next((i for i in range(index + 1, len(lines))
                            if lines[i].strip() == "```"), len(lines))
            else:
                end = _json_extent(lines, index + 1)
            block_text = "\n".join(lines[index + 1:end])
            sections[-1].blocks.append(
                Block(index + 2, block_text, label.group(1) if label else None))
            index = max(end, index + 1)
            continue
        elif sections:
            for kind, pattern in (("refer", REFER), ("replaced", REPLACED)):
                if found := pattern.search(line):
                    sections[-1].refs.append((index + 1, kind, found.group(1).strip()))
        index += 1
    return sections


def _line_map(text: str) -> dict[tuple[Any, ...], int]:
    """1-based line of every value (of its key, for object members) in valid JSON text."""
    decoder = json.JSONDecoder()
    lines: dict[tuple[Any, ...], int] = {}

    def skip(i: int) -> int:
        while i < len(text) and text[i] in " \t\r\n":
            i += 1
        return i

    def value(i: int, path: tuple[Any, ...]) -> int:
        i = skip(i)
        lines.setdefault(path, text.count("\n", 0, i) + 1)
        if text[i] not in "{[":
            return decoder.raw_decode(text, i)[1]
        closing, is_object, position = ("}" if text[i] == "{" else "]"), text[i] == "{", 0
        i = skip(i + 1)
        while text[i] != closing:
            if is_object:
                key, i = decoder.raw_decode(text, i)
                lines.setdefault((*path, key), text.count("\n", 0, i) + 1)
                i = value(skip(i) + 1, (*path, key))  # past the ':'
            else:
                i = value(i, (*path, position))
                position += 1
            i = skip(i)
            i = skip(i + 1) if text[i] == "," else i
        return i + 1

    value(0, ())
    return lines


def _repair(text: str) -> tuple[str, list[tuple[int, str]]]:
    """Name each JSON defect we know and undo it, keeping every character on its line."""
    found = []
    for match in TRAILING_COMMA.finditer(text):
        found.append((text.count("\n", 0, match.start()) + 1,
                      f"trailing comma before '{match.group(2)}'"))
    text = TRAILING_COMMA.sub(lambda m: " " + m.group(1) + m.group(2), text)
    if re.match(r"\s*\{\s*\{", text) and re.search(r"\}\s*\}\s*$", text):
        found.append((1, "the body is wrapped in a second pair of braces ({ { ... } })"))
        first, last = text.index("{"), text.rindex("}")
        text = text[:first] + " " + text[first + 1:last] + " " + text[last + 1:]
    return text, found


def _unknown_fields(value: Any, schema: Any, path: tuple[Any, ...]) -> list[tuple[tuple, str]]:
    """(path, key) of every object member the schema does not describe."""
    schema = object_variant(merge_all_of(schema)) if isinstance(schema, dict) else {}
    found: list[tuple[tuple, str]] = []
    if isinstance(value, dict) and "properties" in schema:
        extra = schema.get("additionalProperties")
        for key, item in value.items():
            if key in schema["properties"]:
                found += _unknown_fields(item, schema["properties"][key], (*path, key))
            elif not isinstance(extra, dict):
                found.append(((*path, key), key))
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for position, item in enumerate(value):
            found += _unknown_fields(item, schema["items"], (*path, position))
    return found


def _bad_uuids(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[tuple, str]]:
    found: list[tuple[tuple, str]] = []
    items = value.items() if isinstance(value, dict) else enumerate(value) \
        if isinstance(value, list) else []
    for key, item in items:
        if key == "uuid" and not (isinstance(item, str) and UUID_TEXT.match(item)):
            found.append(((*path, key), item))
        found += _bad_uuids(item, (*path, key))
    return found


class GuideChecker:
    """Checks guide sections against the v1 and v2 specs."""

    def __init__(self, v1: dict[str, Any], v2: dict[str, Any], v2_label: str = "spec/v2.yaml"):
        self.specs = {"v1": v1, "v2": v2}
        self.ops = {version: operations(spec) for version, spec in self.specs.items()}
        self.bases = {version: server_url(spec) for version, spec in self.specs.items()}
        self.v2_label = v2_label

    def _route(self, version: str, url: str) -> str | None:
        base = self.bases[version]
        return url[len(base):] if url.startswith(base + "/") else None

    def _find(self, version: str, method: str, path: str | None) -> Operation | None:
        return next((op for op in self.ops[version]
                     if op.method.upper() == method and op.path == path), None)

    def _equivalent(self, v1_op: Operation) -> Operation | None:
        target = v1_op.spec.get("x-v2-equivalent")
        return next((op for op in self.ops["v2"] if op.operation_id == target
                     or (not target and (op.method, op.path) == (v1_op.method, v1_op.path))),
                    None)

    def check_section(self, section: Section) -> list[tuple[int, str]]:
        problems: list[tuple[int, str]] = []
        resolved: dict[str, Operation | None] = {}
        for version in ("v1", "v2"):
            if version not in section.rows:
                continue
            line, method, url = section.rows[version]
            path = self._route(version, url)
            if path is None:
                problems.append((line, f"{version} URL {url} is not under the {version} "
                                       f"server {self.bases[version]}"))
            expected = self._equivalent(resolved["v1"]) if version == "v2" and resolved.get(
                "v1") else None
            found = self._find(version, method, path)
            if expected is not None and found is not expected:
                problems.append((line, f"v2 row shows {method} {path}; the v2 equivalent of "
                                       f"v1 {resolved['v1'].operation_id} is "  # type: ignore[union-attr]
                                       f"{expected.method.upper()} {expected.path} "
                                       f"({expected.operation_id}) in {self.v2_label}"))
                found = expected
            elif found is None and path is not None:
                others = [op.method.upper() for op in self.ops[version] if op.path == path]
                problems.append((line, f"{version} has no {method} {path}"
                                       + (f" (the spec has {', '.join(others)} there)"
                                          if others else "")))
                found = self._find(version, others[0], path) if len(others) == 1 else None
            resolved[version] = found
        problems += self._check_refs(section, resolved.get("v1"), resolved.get("v2"))
        unlabelled = 0
        for block in section.blocks:
            version = block.version or ("v1", "v2")[min(unlabelled, 1)]
            unlabelled += block.version is None
            problems += self._check_block(block, version, resolved.get(version))
        return problems

    def _check_refs(self, section: Section, v1_op: Operation | None,
                    v2_op: Operation | None) -> list[tuple[int, str]]:
        if v2_op is None:
            return []
        problems = []
        for line, kind, name in section.refs:
            if name.casefold() == v2_op.summary.casefold():
                continue
            other = next((op for version in ("v2", "v1") for op in self.ops[version]
                          if op.summary.casefold() == name.casefold()), None)
            what = "refers to" if kind == "refer" else "names the replacement"
            if other is not None:
                owner = "v1" if other in self.ops["v1"] else "v2"
                problems.append((line, f"{what} '{name}', the {owner} operation "
                                       f"{other.operation_id}; the v2 equivalent is "
                                       f"'{v2_op.summary}' ({v2_op.operation_id})"))
            else:
                problems.append((line, f"{what} '{name}', which no spec operation is called; "
                                       f"the v2 equivalent is '{v2_op.summary}'"))
        return problems

    def _check_block(self, block: Block, version: str,
                     op: Operation | None) -> list[tuple[int, str]]:
        at = block.line - 1  # block-relative line 1 is file line block.line
        try:
            value = json.loads(block.text)
            text = block.text
        except json.JSONDecodeError as exc:
            text, defects = _repair(block.text)
            problems = [(at + rel, f"invalid JSON ({version} example): {why}")
                        for rel, why in defects]
            try:
                value = json.loads(text)
            except json.JSONDecodeError:
                return problems or [(at + exc.lineno, f"invalid JSON ({version} example): "
                                                      f"{exc.msg}")]
        else:
            problems = []
        lines = _line_map(text)
        where = (lambda path: at + lines.get(tuple(path), 1))  # noqa: E731
        bad_uuid_lines = set()
        for path, item in _bad_uuids(value):
            bad_uuid_lines.add(where(path))
            problems.append((where(path), f"{version} example: uuid {json.dumps(item)} "
                                          "is not a UUID"))
        schema = op.response_schema() if op else None
        if op is None or schema is None:
            return problems
        name = f"the {version} {op.operation_id} {op.success_status()} response"
        for path, key in _unknown_fields(value, schema, ()):
            problems.append((where(path), f"{version} example: field '{key}' is not in {name}"))
        validator = Draft202012Validator(schema, format_checker=FormatChecker())
        missing: dict[tuple, list[str]] = {}
        for error in validator.iter_errors(value):
            path = tuple(error.absolute_path)
            if error.validator == "required":
                missing.setdefault(path, []).extend(
                    set(error.validator_value) - set(error.instance))
            elif error.validator != "additionalProperties" and where(path) not in bad_uuid_lines:
                why = (f"{json.dumps(error.instance)} does not match pattern "
                       f"{error.validator_value}" if error.validator == "pattern"
                       else error.message[:160])
                problems.append((where(path), f"{version} example does not match {name} at "
                                              f"/{'/'.join(map(str, path))}: {why}"))
        for path, fields in missing.items():
            problems.append((where(path), f"{version} example lacks required field(s) "
                                          f"{', '.join(sorted(set(fields)))} of {name}"))
        return problems

    def check_text(self, text: str) -> list[tuple[int, str]]:
        problems = [p for section in parse_guide(text) for p in self.check_section(section)]
        return sorted(set(problems))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("guide")
    parser.add_argument("--v1", default="spec/v1.yaml")
    parser.add_argument("--v2", default="spec/v2.yaml")
    args = parser.parse_args(argv)
    try:
        text = Path(args.guide).read_text(encoding="utf-8")
        checker = GuideChecker(load_spec(args.v1), load_spec(args.v2), args.v2)
    except OSError as exc:
        print(f"{args.guide}: cannot read guide: {exc.strerror}", file=sys.stderr)
        return 2
    except SpecError as exc:
        print(exc, file=sys.stderr)
        return 2
    problems = checker.check_text(text)
    for line, message in problems:
        print(f"{args.guide}:{line}: {message}")
    sections = len(parse_guide(text))
    verdict = f"{len(problems)} problem(s)" if problems else "no problems"
    print(f"guide-check: {verdict} in {args.guide} ({sections} operation(s) checked)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
