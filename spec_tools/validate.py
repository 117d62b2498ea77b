"""Validate OpenAPI spec files: `python -m spec_tools.validate FILE...`, one line per file.

    spec/v2.yaml: OK (OpenAPI 3.1.0, 6 operations)
    spec/v2.yaml:212: error: dangling $ref '#/components/schemas/Nope' (at paths./webhooks...)
    spec/v2.yaml: error at paths./webhooks.get: ...        (when no line can be found)

Exit status 0 when every file is OK, 1 otherwise, 2 on a usage error. The line format with a
line number is gcc's (`FILE:LINE: error: MSG`), which editors and CI annotators understand.

Besides openapi-spec-validator this checks what it misses or reports badly and what this
project relies on: YAML syntax, duplicate keys (PyYAML silently keeps the last), values JSON
cannot hold (unquoted dates), `$ref`s that are cross-file (our specs are self-contained) or
dangling (the validator raises `PointerToNowhere` with the whole document in its message),
operations without `responses` (allowed by OpenAPI 3.1, useless for contract tests), duplicate
operationIds, and links to operationIds that do not exist (schemathesis would fail on them).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import yaml
from jsonschema_path import SchemaPath
from openapi_spec_validator.shortcuts import get_validator_cls
from openapi_spec_validator.validation.exceptions import ValidatorDetectError
from referencing.exceptions import Unresolvable

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
MAX_MESSAGE = 240

JsonPath = tuple[str | int, ...]


@dataclass(frozen=True)
class Result:
    """The verdict on one file; `render()` gives its one output line."""

    path: str
    error: str | None = None
    line: int | None = None
    location: str | None = None
    openapi_version: str | None = None
    operations: int = 0

    @property
    def ok(self) -> bool:
        return self.error is None

    def render(self) -> str:
        if self.ok:
            plural = "" if self.operations == 1 else "s"
            summary = f"OpenAPI {self.openapi_version}, {self.operations} operation{plural}"
            return f"{self.path}: OK ({summary})"
        if self.line is not None:
            where = f" (at {self.location})" if self.location else ""
            return f"{self.path}:{self.line}: error: {self.error}{where}"
        if self.location:
            return f"{self.path}: error at {self.location}: {self.error}"
        return f"{self.path}: error: {self.error}"


class SpecProblem(Exception):
    """One problem, with the JSON path it concerns (empty when it concerns the whole file)."""

    def __init__(self, message: str, path: JsonPath = ()) -> None:
        super().__init__(message)
        self.message = one_line(message)
        self.path = path


def one_line(text: str) -> str:
    first = " ".join(str(text).strip().splitlines()[:1]) or "unknown problem"
    return first if len(first) <= MAX_MESSAGE else first[: MAX_MESSAGE - 1] + "…"


def dotted(path: JsonPath) -> str:
    return ".".join(str(part) for part in path) or "(document)"


def validate_file(path: str | Path) -> Result:
    """Validate one spec file. Never raises for a problem in the file itself."""
    name = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        return Result(name, error=one_line(f"cannot read file: {reason}"))
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        return Result(
            name, error=one_line(f"invalid YAML: {problem}"), line=mark.line + 1 if mark else None
        )
    try:
        if not isinstance(document, dict) or root is None:
            raise SpecProblem("not an OpenAPI document: the top level is not a mapping")
        check_yaml_is_json(root, ())
        check_refs(document)
        check_operations(document)  # first: it names the place of a duplicate operationId
        check_openapi(document)
    except SpecProblem as problem:
        return Result(
            name,
            error=problem.message,
            line=line_of(root, problem.path) if root is not None and problem.path else None,
            location=dotted(problem.path) if problem.path else None,
        )
    count = len(list(operations(document)))
    return Result(name, openapi_version=str(document.get("openapi")), operations=count)


def check_yaml_is_json(node: yaml.Node, path: JsonPath) -> None:
    """Duplicate keys, non-string keys and values JSON has no type for (YAML dates)."""
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = key_node.value
            if key_node.tag != "tag:yaml.org,2002:str":
                raise SpecProblem(f"key {key!r} is not a string; quote it", (*path, key))
            if key in seen:
                raise SpecProblem(f"duplicate key {key!r}", (*path, key))
            seen.add(key)
            check_yaml_is_json(value_node, (*path, key))
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            check_yaml_is_json(item, (*path, index))
    elif node.tag == "tag:yaml.org,2002:timestamp":
        raise SpecProblem(f"{node.value!r} is a YAML date, not a JSON string; quote it", path)


def walk_refs(value: Any, path: JsonPath = ()) -> Iterator[tuple[JsonPath, str]]:
    """Every `$ref` string, skipping example and literal values that merely hold such a key."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key in ("example", "default", "const", "enum"):
                continue
            if key == "value" and len(path) >= 2 and path[-2] == "examples":
                continue
            if key == "examples" and isinstance(item, list):
                continue
            if key == "$ref" and isinstance(item, str):
                yield (*path, key), item
            else:
                yield from walk_refs(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from walk_refs(item, (*path, index))


def resolve_pointer(document: Any, pointer: str) -> Any:
    """The value at a JSON pointer (`/a/b~1c`); KeyError when there is none."""
    current = document
    for raw in pointer.split("/")[1:] if pointer else []:
        token = unquote(raw).replace("~1", "/").replace("~0", "~")
        if isinstance(current, dict) and token in current:
            current = current[token]
        elif isinstance(current, list) and token.isdigit() and int(token) < len(current):
            current = current[int(token)]
        else:
            raise KeyError(token)
    return current


def check_refs(document: dict[str, Any]) -> None:
    for path, ref in walk_refs(document):
        if not ref.startswith("#"):
            raise SpecProblem(f"cross-file $ref {ref!r}: spec files must be self-contained", path)
        try:
            resolve_pointer(document, ref[1:])
        except KeyError:
            raise SpecProblem(f"dangling $ref {ref!r}: nothing at that address", path) from None


def check_openapi(document: dict[str, Any]) -> None:
    """openapi-spec-validator; the first error is reported, with how many more there are."""
    try:
        validator_cls = get_validator_cls(document)
    except ValidatorDetectError:
        raise SpecProblem("not an OpenAPI document: no supported 'openapi' version field") from None
    validator = validator_cls(SchemaPath.from_dict(document))
    try:
        errors = list(validator.iter_errors())
    except Unresolvable as exc:  # check_refs should have caught it; never print the document
        raise SpecProblem(f"unresolvable $ref {getattr(exc, 'ref', '')!r}".strip()) from None
    if not errors:
        return
    first = errors[0]
    more = f" (+{len(errors) - 1} more)" if len(errors) > 1 else ""
    path = absolute_location(document, tuple(first.absolute_path), first.instance)
    raise SpecProblem(one_line(first.message) + more, path)


def absolute_location(document: Any, path: JsonPath, instance: Any) -> JsonPath:
    """The validator reports schema-object errors relative to the schema: find where they are."""
    if lookup(document, path) == (True, instance):
        return path
    for prefix, container in containers(document):
        if lookup(container, path) == (True, instance):
            return (*prefix, *path)
    return path


def lookup(value: Any, path: JsonPath) -> tuple[bool, Any]:
    """(True, the value at `path`) or (False, None) when there is none."""
    for part in path:
        in_list = isinstance(value, list) and isinstance(part, int) and 0 <= part < len(value)
        if not (in_list or (isinstance(value, dict) and part in value)):
            return False, None
        value = value[part]
    return True, value


def containers(value: Any, path: JsonPath = ()) -> Iterator[tuple[JsonPath, Any]]:
    if isinstance(value, dict):
        yield path, value
        for key, item in value.items():
            yield from containers(item, (*path, key))
    elif isinstance(value, list):
        yield path, value
        for index, item in enumerate(value):
            yield from containers(item, (*path, index))


def operations(document: dict[str, Any]) -> Iterator[tuple[JsonPath, dict[str, Any]]]:
    """Every operation under `paths` (the `webhooks` entries are not API operations)."""
    paths = document.get("paths")
    for route, item in paths.items() if isinstance(paths, dict) else ():
        for method in HTTP_METHODS:
            if isinstance(item, dict) and isinstance(item.get(method), dict):
                yield ("paths", route, method), item[method]


def check_operations(document: dict[str, Any]) -> None:
    seen: dict[str, JsonPath] = {}
    for path, operation in operations(document):
        if "responses" not in operation:
            raise SpecProblem("operation has no 'responses'", path)
        operation_id = operation.get("operationId")
        if not operation_id:
            raise SpecProblem("operation has no 'operationId'", path)
        if operation_id in seen:
            first_use = dotted(seen[operation_id])
            raise SpecProblem(f"operationId {operation_id!r} is also used at {first_use}", path)
        seen[operation_id] = path
    for path, operation in operations(document):
        responses = operation["responses"]
        for status, response in responses.items() if isinstance(responses, dict) else ():
            if isinstance(response, dict) and isinstance(response.get("$ref"), str):
                response = resolve_pointer(document, response["$ref"][1:])  # checked by check_refs
            links = response.get("links") if isinstance(response, dict) else None
            for name, link in links.items() if isinstance(links, dict) else ():
                where = (*path, "responses", status, "links", name)
                if isinstance(link, dict) and "operationRef" in link:
                    raise SpecProblem("links must use operationId, not operationRef", where)
                target = link.get("operationId") if isinstance(link, dict) else None
                if target not in seen:
                    raise SpecProblem(f"link to unknown operationId {target!r}", where)


def line_of(root: yaml.Node, path: JsonPath) -> int:
    """1-based line of the deepest node of `path` present in the YAML (its key's line)."""
    node, line = root, root.start_mark.line + 1
    for part in path:
        if isinstance(node, yaml.MappingNode):
            match = next((kv for kv in node.value if kv[0].value == str(part)), None)
            if match is None:
                break
            line, node = match[0].start_mark.line + 1, match[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if part >= len(node.value):
                break
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
    return line


def main(argv: list[str] | None = None) -> int:
    files = sys.argv[1:] if argv is None else argv
    if not files:
        print("usage: python -m spec_tools.validate FILE...", file=sys.stderr)
        return 2
    results = [validate_file(name) for name in files]
    for result in results:
        print(result.render())
    return 0 if all(result.ok for result in results) else 1


if __name__ == "__main__":
    sys.exit(main())
