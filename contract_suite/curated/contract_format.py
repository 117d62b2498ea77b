"""Loading `*.contract.yaml` files: YAML with line marks, checked against the format's schema.

Every mapping and list keeps the line numbers PyYAML saw, so that a collection error can
name the line to fix and a failing step can be printed with its own lines (Tavern-style).
Validation is two-staged: the JSON Schema in `contract.schema.json` (shape, keys, types),
then the checks a schema cannot express (placeholders defined before use, a request the
spec knows, exactly one kind per step). Both stages raise `ContractFormatError`: one line,
file:line, what is wrong and how to fix it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import yaml

SCHEMA_PATH = Path(__file__).with_name("contract.schema.json")
PLACEHOLDER = re.compile(r"(?<!\{)\{([A-Za-z_][A-Za-z0-9_]*)\}(?!\})")
# Built-in placeholders: always defined, whatever the steps captured before. `absent_id` is
# an id verified to answer 404 for the main team (SuiteSession.absent_webhook_id).
BUILTINS = frozenset({"run_id", "tagged_url", "base_url", "absent_id"})
STEP_KINDS = ("request", "walk_pages", "pause")


class ContractFormatError(Exception):
    """A contract file is broken (not the API): reported as a collection ERROR, no traceback."""

    def __init__(self, path: str | Path, line: int | None, message: str) -> None:
        self.path, self.line, self.message = str(path), line, message
        where = f"{self.path}:{line}" if line else self.path
        super().__init__(f"{where}: {message}")


class MarkedDict(dict):
    """A YAML mapping that remembers its lines (1-based) and the line of each key."""

    start_line: int = 0
    end_line: int = 0
    key_lines: dict[str, int]


class MarkedList(list):
    start_line: int = 0
    end_line: int = 0


class _MarkedLoader(yaml.SafeLoader):
    """SafeLoader building MarkedDict/MarkedList and refusing duplicate keys."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> MarkedDict:
        self.flatten_mapping(node)
        result = MarkedDict()
        result.key_lines = {}
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=True)
            if not isinstance(key, str):  # `on:`/`no:`/`1:` are YAML 1.1 booleans/numbers
                raise yaml.MarkedYAMLError(
                    None, None, f"key {key_node.value!r} is read as {type(key).__name__}, "
                    "not text: quote it", key_node.start_mark,
                )
            if key in result:
                raise yaml.MarkedYAMLError(
                    "while constructing a mapping", node.start_mark,
                    f"duplicate key {key!r}", key_node.start_mark,
                )
            result[key] = self.construct_object(value_node, deep=True)
            result.key_lines[str(key)] = key_node.start_mark.line + 1
        result.start_line = node.start_mark.line + 1
        result.end_line = _last_line(node)
        return result

    def construct_sequence(self, node: yaml.SequenceNode, deep: bool = False) -> MarkedList:
        result = MarkedList(self.construct_object(child, deep=True) for child in node.value)
        result.start_line = node.start_mark.line + 1
        result.end_line = _last_line(node)
        return result


def _last_line(node: yaml.Node) -> int:
    """The last line holding part of `node` (a block's end mark points at the next token)."""
    if isinstance(node, yaml.MappingNode | yaml.SequenceNode) and not node.flow_style and (
            node.value):
        last = node.value[-1]
        return _last_line(last[1] if isinstance(last, tuple) else last)
    mark = node.end_mark
    return mark.line if mark.column == 0 and mark.line > node.start_mark.line else mark.line + 1


_MarkedLoader.add_constructor("tag:yaml.org,2002:map", _MarkedLoader.construct_mapping)
_MarkedLoader.add_constructor("tag:yaml.org,2002:seq", _MarkedLoader.construct_sequence)


@cache
def format_schema() -> dict[str, Any]:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


def load_contract(path: str | Path, text: str | None = None) -> MarkedDict:
    """Parse and validate one contract file; raise ContractFormatError on any problem."""
    text = Path(path).read_text(encoding="utf-8") if text is None else text
    try:
        document = yaml.load(text, Loader=_MarkedLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark
        line = mark.line + 1 if mark else None
        problem = "; ".join(str(p) for p in (error.context, error.problem) if p)
        if "duplicate anchor" in str(error.context):  # PyYAML's text names no fix
            problem = str(error.context).split(";")[0] + " (anchors must be unique in a file)"
        raise ContractFormatError(
            path, line, f"not valid YAML: {problem} (fix the YAML at this line)"
        ) from None
    except yaml.YAMLError as error:
        raise ContractFormatError(path, None, f"not valid YAML: {error}") from None
    if not isinstance(document, MarkedDict):
        raise ContractFormatError(
            path, 1, "a contract file is a mapping with `scenarios:` (see contracts/README.md)"
        )
    _check_schema(path, document)
    _check_semantics(path, document)
    return document


def _check_schema(path: str | Path, document: MarkedDict) -> None:
    validator = jsonschema.Draft202012Validator(
        format_schema(), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    error = jsonschema.exceptions.best_match(validator.iter_errors(document))
    if error is None:
        return
    location = list(error.absolute_path)
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = error.schema.get("properties", {})
        location += [key for key in error.instance if key not in allowed][:1]  # its own line
    raise ContractFormatError(path, line_of(document, location), explain(error))


def line_of(document: Any, location: list[Any]) -> int | None:
    """The line of the deepest node on `location` that remembers one."""
    line = getattr(document, "start_line", None)
    node = document
    for part in location:
        if isinstance(node, MarkedDict) and part in node:
            line = node.key_lines.get(str(part), line)
        elif not (isinstance(node, list) and isinstance(part, int) and part < len(node)):
            break
        node = node[part]
        line = getattr(node, "start_line", line) if isinstance(node, MarkedList) else line
        if isinstance(node, MarkedDict) and isinstance(part, int):
            line = node.start_line
    return line


def explain(error: jsonschema.ValidationError) -> str:
    """One sentence a contract author can act on, from a JSON Schema error."""
    where = _where(list(error.absolute_path))
    if error.validator == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        extra = sorted(set(error.instance) - set(allowed))
        return (f"unknown key {', '.join(map(repr, extra))} {where}"
                f"(allowed: {', '.join(allowed)})")
    if error.validator == "required":
        return f"{error.message.replace('property', 'key')} {where}".rstrip()
    if error.validator == "enum":
        choices = ", ".join(map(str, error.validator_value))
        return f"{error.instance!r} is not allowed {where}(use one of: {choices})"
    if error.validator == "type":
        return f"{error.instance!r} {where}must be of type {error.validator_value}"
    if error.validator == "pattern":
        hint = error.schema.get("description", f"must match {error.validator_value}")
        return f"{error.instance!r} {where}is not valid: {hint}"
    return f"{error.message} {where}".rstrip()


def _where(location: list[Any]) -> str:
    if not location:
        return ""
    dotted = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in location).lstrip(".")
    return f"at {dotted} "


# ---- checks a JSON Schema cannot express -------------------------------------------------


@dataclass(frozen=True)
class StepRef:
    scenario: str
    index: int  # 1-based
    step: MarkedDict


def iter_steps(document: MarkedDict) -> Iterator[StepRef]:
    for name, scenario in document["scenarios"].items():
        for index, step in enumerate(scenario["steps"], start=1):
            yield StepRef(name, index, step)


def step_kind(step: dict[str, Any]) -> str:
    return next(kind for kind in STEP_KINDS if kind in step)


def _check_semantics(path: str | Path, document: MarkedDict) -> None:
    for name, scenario in document["scenarios"].items():
        defined = set(BUILTINS)
        # a capture made only in one `either` branch -> that branch (step index, branch index)
        branch_of: dict[str, tuple[int, int]] = {}
        for index, step in enumerate(scenario["steps"], start=1):
            label = f"step {index} of scenario {name!r}"
            kinds = [kind for kind in STEP_KINDS if kind in step]
            if len(kinds) != 1:
                raise ContractFormatError(
                    path, step.start_line,
                    f"{label} must have exactly one of {', '.join(STEP_KINDS)} "
                    f"(found: {', '.join(kinds) or 'none'})",
                )
            if "expect" in step and kinds[0] != "request":
                raise ContractFormatError(
                    path, step.key_lines["expect"],
                    f"{label}: `expect` belongs to a request step; a {kinds[0]} step "
                    "carries its own checks",
                )
            branch = _check_only_if(path, label, step, defined, branch_of)
            _check_either(path, label, step.get("expect", {}))
            available = {n for n in defined if n not in branch_of or branch_of[n] == branch}
            for value, line in _templated_values(step):
                for placeholder in PLACEHOLDER.findall(value):
                    _require_capture(path, line, label, placeholder, defined, available,
                                     branch_of)
            for capture_name, line in _capture_names_used(step):
                _require_capture(path, line, label, capture_name, defined, available,
                                 branch_of, placeholder=False)
            for check, line in _checks(step):
                if not set(check) - {"path"}:
                    raise ContractFormatError(
                        path, line, f"{label}: a body check needs a matcher besides `path` "
                        "(e.g. equals, type, regex; see contracts/README.md)",
                    )
            made = set(step.get("capture", {}))
            defined |= made
            for capture_name in made:
                if branch is not None:
                    branch_of[capture_name] = branch
                else:
                    branch_of.pop(capture_name, None)
            for number, alternative in enumerate(step.get("expect", {}).get("either", [])):
                for capture_name in alternative.get("capture", {}):
                    defined.add(capture_name)
                    branch_of[capture_name] = (index, number)


def _check_only_if(path: str | Path, label: str, step: MarkedDict, defined: set[str],
                   branch_of: dict[str, tuple[int, int]]) -> tuple[int, int] | None:
    """The `either` branch a step with `only_if` runs in (None: it always runs)."""
    if "only_if" not in step:
        return None
    wanted = step["only_if"]
    line = step.key_lines.get("only_if", step.start_line)
    if wanted not in branch_of:
        made = ", ".join(sorted(branch_of)) or "none"
        reason = ("is made on every path, so the step always runs; drop `only_if`"
                  if wanted in defined else "is not captured before this step")
        raise ContractFormatError(
            path, line, f"{label}: only_if {wanted!r} {reason} (captures made in one `either` "
            f"branch so far: {made})")
    return branch_of[wanted]


def _check_either(path: str | Path, label: str, expect: MarkedDict) -> None:
    alternatives = expect.get("either")
    if alternatives is None:
        return
    others = sorted(set(expect) - {"either"})
    if others:
        raise ContractFormatError(
            path, expect.key_lines.get(others[0], expect.start_line),
            f"{label}: `expect` with `either` holds nothing else (found: {', '.join(others)}); "
            "move these into each alternative")
    seen: dict[int, int] = {}
    for number, alternative in enumerate(alternatives, start=1):
        codes = alternative["status"]
        for code in [codes] if isinstance(codes, int) else codes:
            if code in seen:
                raise ContractFormatError(
                    path, alternative.key_lines.get("status", alternative.start_line),
                    f"{label}: status {code} is in alternatives {seen[code]} and {number} of "
                    "`either`; each status may pick one alternative only")
            seen[code] = number


def _require_capture(path: str | Path, line: int, label: str, name: str, defined: set[str],
                     available: set[str], branch_of: dict[str, tuple[int, int]],
                     placeholder: bool = True) -> None:
    if name in available:
        return
    if name in defined:  # made, but only in one `either` branch
        raise ContractFormatError(
            path, line, f"{label}: {name!r} is captured only when one `either` alternative is "
            f"taken (step {branch_of[name][0]}); add `only_if: {name}` to this step")
    if placeholder:
        known = ", ".join(sorted(available))
        raise ContractFormatError(
            path, line,
            f"{label}: undefined placeholder {{{name}}} (capture it in an earlier step, or use "
            f"one of: {known})",
        )
    raise ContractFormatError(
        path, line,
        f"{label}: no capture named {name!r} before this step "
        f"(captured so far: {', '.join(sorted(available - BUILTINS)) or 'none'})",
    )


_UNTEMPLATED_KEYS = frozenset({"regex", "has_key_matching", "capture", "reason", "only_if"})


def _walk(node: Any, line: int) -> Iterator[tuple[Any, int]]:
    """Every templated string under `node` with the best line known for it.

    Regexes are never templated (`\\d{4}` must stay a quantifier), nor capture paths.
    """
    if isinstance(node, dict):
        for key, value in node.items():
            key_line = getattr(node, "key_lines", {}).get(str(key), line)
            if key not in _UNTEMPLATED_KEYS:
                yield from _walk(value, key_line)
    elif isinstance(node, list):
        for item in node:
            yield from _walk(item, getattr(item, "start_line", line))
    elif isinstance(node, str):
        yield node, line


def _templated_values(step: MarkedDict) -> Iterator[tuple[str, int]]:
    yield from _walk(step, step.start_line)


def _capture_names_used(step: Any, line: int = 0) -> Iterator[tuple[str, int]]:
    if isinstance(step, dict):
        for key, value in step.items():
            key_line = getattr(step, "key_lines", {}).get(str(key), line)
            if key in ("equals_capture", "same_webhook_as") and isinstance(value, str):
                yield value, key_line
            else:
                yield from _capture_names_used(value, key_line)
    elif isinstance(step, list):
        for item in step:
            yield from _capture_names_used(item, getattr(item, "start_line", line))


def _checks(step: MarkedDict) -> Iterator[tuple[dict[str, Any], int]]:
    expect = step.get("expect", {})
    lists = [expect.get("body")]
    lists += [alternative.get("body") for alternative in expect.get("either", [])]
    lists.append(step.get("walk_pages", {}).get("each_item"))
    lists.append(step.get("walk_pages", {}).get("each_own_item"))
    for checks in lists:
        if isinstance(checks, list):
            for check in checks:
                yield check, getattr(check, "start_line", step.start_line)
                yield from ((c, getattr(c, "start_line", 0)) for c in check.get("each", []))
