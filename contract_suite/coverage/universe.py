"""What a run could cover: the items of each coverage criterion, read from one spec file.

The universe of Martin-Lopez, Segura and Ruiz-Cortés' criteria (see the package docstring)
for one API version: its paths, its operations, each operation's documented parameters
(path, query and header parameters, and request-body fields at any depth), the values of
its boolean and enum inputs, its request and response content types, its documented
status codes and their classes, and the properties of its documented response bodies
(properties of array items are named `data[].id`). `$ref`, `allOf`, `anyOf` and `oneOf`
are followed; the union of the branches counts.

Each item is a pair (scope, detail): scope is the path template for the paths criterion
and the operation's label (`GET /api/v2/webhooks/{id}`) for every other one.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from ..core.spec_index import METHODS, SpecIndex

VERSIONS = ("v1", "v2")

# The criteria this package measures, with the Test Coverage Level that first asks for
# each (the paper's Table 2). Operation flow (TCL7) is not measured (see docs/coverage.md).
CRITERIA: dict[str, int] = {
    "paths": 1,
    "operations": 2,
    "request_content_types": 3,
    "response_content_types": 3,
    "parameters": 4,
    "status_code_classes": 4,
    "parameter_values": 5,
    "status_codes": 5,
    "response_properties": 6,
}
HIGHEST_MEASURED_LEVEL = max(CRITERIA.values())

# A string schema that holds names of an enum joined by a separator: v1 `events` is
# `EventList`, the SubscribableEvent names joined by "," (spec/v1.yaml). Each name sent
# counts as a value of the enum.
JOINED_ENUMS: dict[str, tuple[str, str]] = {"EventList": ("SubscribableEvent", ",")}

MAX_DEPTH = 8  # deepest documented property path followed (v1 deliveries reach 6)

Item = tuple[str, str]  # (scope, detail)


@dataclass
class OperationUniverse:
    """One operation's documented inputs and outputs."""

    label: str  # "GET /api/v2/webhooks/{id}"
    method: str
    template: str
    operation_id: str
    parameters: dict[str, dict[str, Any]] = field(default_factory=dict)  # "query page" -> schema
    parameter_values: set[str] = field(default_factory=set)  # "query enabled=true"
    body_fields: set[str] = field(default_factory=set)  # "events" (paths in the body)
    body_values: dict[str, tuple[set[str], str | None]] = field(default_factory=dict)
    request_media: set[str] = field(default_factory=set)
    responses: dict[str, ResponseUniverse] = field(default_factory=dict)  # "200", "2XX"

    def status_key(self, status: int) -> str | None:
        """The documented response key a concrete status falls under, if any."""
        for key in (str(status), f"{str(status)[0]}XX"):
            if key in self.responses:
                return key
        return None


@dataclass
class ResponseUniverse:
    media: set[str] = field(default_factory=set)
    properties: set[str] = field(default_factory=set)


@dataclass
class VersionUniverse:
    """Every item of every criterion for one API version."""

    version: str
    prefix: str  # "/api/v2"
    paths: list[tuple[re.Pattern[str], str]]  # (regex of the full path, full template)
    operations: dict[str, OperationUniverse]  # label -> operation

    def match_path(self, path: str) -> str | None:
        for regex, template in self.paths:
            if regex.match(path):
                return template
        return None

    def operation(self, method: str, template: str) -> OperationUniverse | None:
        return self.operations.get(f"{method.upper()} {template}")

    @property
    def items(self) -> dict[str, set[Item]]:
        return _items(self)


def _items(universe: VersionUniverse) -> dict[str, set[Item]]:
    items: dict[str, set[Item]] = {criterion: set() for criterion in CRITERIA}
    items["paths"] = {(template, "") for _regex, template in universe.paths}
    for label, op in universe.operations.items():
        items["operations"].add((label, ""))
        items["parameters"] |= {(label, name) for name in op.parameters}
        items["parameters"] |= {(label, f"body {name}") for name in op.body_fields}
        items["parameter_values"] |= {(label, value) for value in op.parameter_values}
        for name, (values, _sep) in op.body_values.items():
            items["parameter_values"] |= {(label, f"body {name}={v}") for v in values}
        items["request_content_types"] |= {(label, media) for media in op.request_media}
        for key, response in op.responses.items():
            items["status_codes"].add((label, key))
            items["status_code_classes"].add((label, f"{key[0]}XX"))
            items["response_content_types"] |= {(label, media) for media in response.media}
            items["response_properties"] |= {(label, prop) for prop in response.properties}
    return items


def load_universes(spec_dir: str | Path) -> dict[str, VersionUniverse]:
    """The universe of each API version whose spec file is in `spec_dir` (cached)."""
    return _load(Path(spec_dir).resolve())


@cache
def _load(spec_dir: Path) -> dict[str, VersionUniverse]:
    index = SpecIndex.load(spec_dir)
    return {name: _universe(name, index) for name in VERSIONS if name in index.specs}


def _universe(version: str, index: SpecIndex) -> VersionUniverse:
    spec = index.specs[version]
    reader = _Reader(spec.document)
    paths, operations = [], {}
    for template, path_item in (spec.document.get("paths") or {}).items():
        full = spec.prefix + template
        paths.append((_template_regex(full), full))
        shared = path_item.get("parameters") or []
        for method in path_item:
            if method not in METHODS:
                continue
            operation = path_item[method]
            op = OperationUniverse(label=f"{method.upper()} {full}", method=method.upper(),
                                   template=full,
                                   operation_id=operation.get("operationId", ""))
            reader.read_parameters(op, [*shared, *(operation.get("parameters") or [])])
            reader.read_request_body(op, operation.get("requestBody"))
            for key, response in (operation.get("responses") or {}).items():
                if key == "default":
                    continue  # no status of its own to cover
                op.responses[str(key).upper()] = reader.read_response(response)
            operations[op.label] = op
    return VersionUniverse(version, spec.prefix, paths, operations)


def _template_regex(template: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template)) + "$")


class _Reader:
    """Walks one spec document's schemas, following local `$ref`s."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document

    def at(self, ref: str) -> Any:
        node: Any = self.document
        for part in ref.removeprefix("#").lstrip("/").split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        return node

    def resolve(self, node: Any) -> Any:
        for _ in range(20):
            if not (isinstance(node, dict) and "$ref" in node):
                break
            node = self.at(node["$ref"])
        return node

    def facets(self, node: Any, seen: frozenset[str] = frozenset()
               ) -> Iterator[tuple[str | None, dict[str, Any]]]:
        """Every sub-schema that applies at this node: itself, its `$ref` target and the
        branches of allOf/anyOf/oneOf (recursively), each with the name of the component
        it came from (None when inline)."""
        yield from self._facets(node, None, seen)

    def _facets(self, node: Any, name: str | None, seen: frozenset[str]
                ) -> Iterator[tuple[str | None, dict[str, Any]]]:
        if not isinstance(node, dict):
            return
        yield name, node
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#") and ref not in seen:
            yield from self._facets(self.at(ref), ref.rsplit("/", 1)[-1], seen | {ref})
        for combinator in ("allOf", "anyOf", "oneOf"):
            for branch in node.get(combinator) or []:
                yield from self._facets(branch, name, seen)

    def schema_paths(self, schema: Any, prefix: str = "", depth: int = 0,
                     seen: frozenset[str] = frozenset()) -> Iterator[tuple[str, list[Any]]]:
        """(property path, its facets) for every documented property under `schema`."""
        if depth > MAX_DEPTH:
            return
        facets = list(self.facets(schema, seen))
        refs = seen | {f["$ref"] for _n, f in facets if isinstance(f.get("$ref"), str)}
        properties: dict[str, list[Any]] = {}
        items: list[Any] = []
        for _name, facet in facets:
            for prop, sub in (facet.get("properties") or {}).items():
                properties.setdefault(prop, []).append(sub)
            if isinstance(facet.get("items"), dict):
                items.append(facet["items"])
        for prop, subs in properties.items():
            path = f"{prefix}.{prop}" if prefix else prop
            sub_facets = [f for sub in subs for f in self.facets(sub, refs)]
            yield path, sub_facets
            for sub in subs:
                yield from self.schema_paths(sub, path, depth + 1, refs)
        for sub in items:
            path = f"{prefix}[]"
            yield from self._item_values(sub, path, refs)
            yield from self.schema_paths(sub, path, depth + 1, refs)

    def _item_values(self, items: Any, path: str, seen: frozenset[str]
                     ) -> Iterator[tuple[str, list[Any]]]:
        """An array's items as a pseudo-property `name[]`, only when they hold values worth
        covering (an enum), so that `events[]=record.*` can be an item."""
        facets = list(self.facets(items, seen))
        if _values(facets, self)[0]:
            yield path, facets

    def read_parameters(self, op: OperationUniverse, parameters: list[Any]) -> None:
        for raw in parameters:
            parameter = self.resolve(raw)
            if not isinstance(parameter, dict) or "name" not in parameter:
                continue
            name = f"{parameter.get('in', 'query')} {parameter['name']}"
            op.parameters[name] = parameter.get("schema") or {}
            values, _sep = _values(list(self.facets(parameter.get("schema") or {})), self)
            op.parameter_values |= {f"{name}={value}" for value in values}

    def read_request_body(self, op: OperationUniverse, body: Any) -> None:
        body = self.resolve(body)
        if not isinstance(body, dict):
            return
        for media, content in (body.get("content") or {}).items():
            op.request_media.add(media.lower())
            if "json" not in media.lower() or not isinstance(content, dict):
                continue
            for path, facets in self.schema_paths(content.get("schema") or {}):
                if not path.endswith("[]"):
                    op.body_fields.add(path)
                values, sep = _values(facets, self)
                if values:
                    op.body_values[path] = (values, sep)

    def read_response(self, response: Any) -> ResponseUniverse:
        response = self.resolve(response)
        result = ResponseUniverse()
        if not isinstance(response, dict):
            return result
        for media, content in (response.get("content") or {}).items():
            result.media.add(media.lower())
            if "json" in media.lower() and isinstance(content, dict):
                result.properties |= {path for path, _f in
                                      self.schema_paths(content.get("schema") or {})
                                      if not path.endswith("[]")}
        return result


def _values(facets: list[tuple[str | None, dict[str, Any]]], reader: _Reader
            ) -> tuple[set[str], str | None]:
    """The finite values an input can take (booleans and enums), as they are written in
    an item, and the separator when the input joins several of them in one string."""
    values: set[str] = set()
    for name, facet in facets:
        if name in JOINED_ENUMS:
            enum_name, separator = JOINED_ENUMS[name]
            enum = reader.at(f"#/components/schemas/{enum_name}").get("enum") or []
            return {str(v) for v in enum}, separator
        types = facet.get("type")
        if types == "boolean" or (isinstance(types, list) and "boolean" in types):
            values |= {"true", "false"}
        for value in facet.get("enum") or []:
            values.add(value_text(value))
    return values, None


def value_text(value: Any) -> str:
    """How a value is written in an item: strings as they are, anything else as JSON."""
    return value if isinstance(value, str) else json.dumps(value)
