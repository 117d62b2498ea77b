"""A read-only view of one OpenAPI 3.1 file: operations, parameters and schema fields.

The migration guide, the published-guide check and the breaking-change diff all ask the
same questions of a spec ("which operations", "what fields does this body have, of which
type"), so they share this one reader instead of three ad-hoc walks. Specs here are
self-contained, so only local `#/...` references are resolved.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


class SpecError(Exception):
    """A spec that cannot be read: the message names the file and the problem."""


def load_spec(path: str | Path, text: str | None = None) -> dict[str, Any]:
    """Parse a spec file (or `text` said to come from `path`) and resolve its local $refs."""
    try:
        raw = Path(path).read_text(encoding="utf-8") if text is None else text
        data = yaml.safe_load(raw)
    except (OSError, yaml.YAMLError) as exc:
        raise SpecError(f"{path}: cannot read spec: {str(exc).splitlines()[0]}") from exc
    if not isinstance(data, dict) or "paths" not in data:
        raise SpecError(f"{path}: not an OpenAPI document (no `paths`)")
    return resolve_refs(data)


def resolve_refs(doc: dict[str, Any]) -> dict[str, Any]:
    """Return a copy of `doc` with every local $ref replaced by its target.

    OpenAPI 3.1 allows keys beside a $ref (description, x-annotations); they are kept and
    win over the target's, so an annotation next to a $ref is not lost.
    """

    def target(ref: str) -> Any:
        node: Any = doc
        for part in ref.removeprefix("#/").split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        return node

    def walk(node: Any, seen: tuple[str, ...]) -> Any:
        if isinstance(node, list):
            return [walk(item, seen) for item in node]
        if not isinstance(node, dict):
            return node
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/") and ref not in seen:
            resolved = walk(copy.deepcopy(target(ref)), (*seen, ref))
            siblings = {k: walk(v, seen) for k, v in node.items() if k != "$ref"}
            return {**resolved, **siblings} if isinstance(resolved, dict) else resolved
        return {key: walk(value, seen) for key, value in node.items()}

    return walk(doc, ())


def merge_all_of(schema: Any) -> dict[str, Any]:
    """Fold `allOf` into one schema (properties and `required` united), recursively.

    A property defined by two branches becomes the merge of both, which is how
    `allOf: [PaginatedList, {data: {items: Webhook}}]` gets typed `data` items.
    """
    if not isinstance(schema, dict):
        return {}
    if "allOf" not in schema:
        return schema
    merged: dict[str, Any] = {k: v for k, v in schema.items() if k != "allOf"}
    for branch in schema["allOf"]:
        branch = merge_all_of(branch)
        for key, value in branch.items():
            if key == "properties":
                props = dict(merged.get("properties", {}))
                for name, sub in value.items():
                    if name in props:
                        sub = merge_all_of({"allOf": [props[name], sub]})
                    props[name] = sub
                merged["properties"] = props
            elif key == "required":
                merged["required"] = sorted(set(merged.get("required", [])) | set(value))
            else:
                merged.setdefault(key, value)
    return merged


def non_null_variant(schema: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """Unwrap `oneOf/anyOf: [{type: null}, X]`: return (X, True); else (schema, False)."""
    for key in ("oneOf", "anyOf"):
        branches = schema.get(key)
        if isinstance(branches, list) and len(branches) == 2:
            rest = [b for b in branches if not (isinstance(b, dict) and b.get("type") == "null")]
            if len(rest) == 1:
                outer = {k: v for k, v in schema.items() if k != key}
                return merge_all_of({**outer, **rest[0]}), True
    return schema, False


def object_variant(schema: dict[str, Any]) -> dict[str, Any]:
    """The branch of a `oneOf/anyOf` that has fields (`[]` or `{next, previous}` -> the
    object), so nested fields of such unions are still listed; else the schema itself."""
    schema, _ = non_null_variant(schema)
    for key in ("oneOf", "anyOf"):
        branches = [merge_all_of(b) for b in schema.get(key) or []]
        with_fields = [b for b in branches if "properties" in b]
        if "properties" not in schema and len(with_fields) == 1:
            return with_fields[0]
    return schema


_JSON_TYPE = {bool: "boolean", int: "integer", float: "number", str: "string",
              list: "array", dict: "object", type(None): "null"}


def schema_types(schema: Any) -> set[str]:
    """The JSON types a schema admits, from `type`, `const`, `enum` or its shape."""
    schema = merge_all_of(schema)
    declared = schema.get("type")
    if isinstance(declared, str):
        return {declared}
    if isinstance(declared, list):
        return set(declared)
    if "const" in schema:
        return {_JSON_TYPE[type(schema["const"])]}
    if "enum" in schema:
        return {_JSON_TYPE[type(value)] for value in schema["enum"]}
    for key in ("oneOf", "anyOf"):
        if key in schema:
            return set().union(*(schema_types(branch) for branch in schema[key]))
    if "properties" in schema:
        return {"object"}
    if "items" in schema:
        return {"array"}
    return {"any"}


def describe_type(schema: Any) -> str:
    """A short human type: `string`, `array of string`, `boolean | null`, `any`."""
    schema = merge_all_of(schema)
    parts = []
    for kind in sorted(schema_types(schema), key=lambda t: (t == "null", t)):
        if kind == "array" and isinstance(schema.get("items"), dict):
            parts.append(f"array of {describe_type(schema['items'])}")
        else:
            parts.append(kind)
    return " | ".join(parts)


@dataclass(frozen=True)
class Field:
    """One field of a body: `path` like `data[].events`, its schema, whether required."""

    path: str
    schema: dict[str, Any]
    required: bool

    @property
    def name(self) -> str:
        return self.path.rsplit(".", 1)[-1]

    @property
    def parent(self) -> str:
        return self.path.rsplit(".", 1)[0] if "." in self.path else ""


def body_fields(schema: Any, prefix: str = "") -> dict[str, Field]:
    """Every named field of a body schema, nested objects and array items included."""
    found: dict[str, Field] = {}
    schema = object_variant(merge_all_of(schema))
    if isinstance(schema.get("items"), dict) and "properties" not in schema:
        return body_fields(schema["items"], f"{prefix}[]" if prefix else "[]")
    required = set(schema.get("required", []))
    for name, sub in (schema.get("properties") or {}).items():
        path = f"{prefix}.{name}" if prefix else name
        sub = merge_all_of(sub)
        found[path] = Field(path, sub, name in required)
        inner = object_variant(sub)
        if "properties" in inner or isinstance(inner.get("items"), dict):
            found.update(body_fields(inner, path))
    found.pop("[]", None)
    return {path: f for path, f in found.items() if not path.endswith("[]")}


@dataclass
class Operation:
    """One operation of a spec, with its parameters merged from path and operation level."""

    method: str
    path: str
    spec: dict[str, Any] = field(repr=False)
    parameters: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict, repr=False)

    @property
    def operation_id(self) -> str:
        return self.spec.get("operationId", f"{self.method.upper()} {self.path}")

    @property
    def summary(self) -> str:
        return self.spec.get("summary", self.operation_id)

    @property
    def pointer(self) -> str:
        return "#/paths/" + self.path.replace("~", "~0").replace("/", "~1") + "/" + self.method

    def success_statuses(self) -> list[str]:
        return sorted(code for code in self.spec.get("responses", {}) if str(code).startswith("2"))

    def success_status(self) -> str | None:
        codes = self.success_statuses()
        return codes[0] if codes else None

    def response_media(self, status: str | None = None) -> dict[str, Any] | None:
        """The JSON media object of a response (default: the first 2xx), None when bodiless."""
        status = status or self.success_status()
        response = self.spec.get("responses", {}).get(status) or {}
        return (response.get("content") or {}).get("application/json")

    def response_schema(self, status: str | None = None) -> dict[str, Any] | None:
        media = self.response_media(status)
        return media.get("schema") if media else None

    def request_schema(self) -> dict[str, Any] | None:
        content = (self.spec.get("requestBody") or {}).get("content") or {}
        media = content.get("application/json")
        return media.get("schema") if media else None

    def query_parameters(self) -> dict[str, dict[str, Any]]:
        return {name: p for (where, name), p in self.parameters.items() if where == "query"}


def operations(spec: dict[str, Any]) -> list[Operation]:
    """The spec's operations in file order (path items, then methods)."""
    found = []
    for path, item in (spec.get("paths") or {}).items():
        shared = {(p["in"], p["name"]): p for p in item.get("parameters", []) if "in" in p}
        for method in HTTP_METHODS:
            if method in item:
                op = item[method]
                own = {(p["in"], p["name"]): p for p in op.get("parameters", []) if "in" in p}
                found.append(Operation(method, path, op, {**shared, **own}))
    return found


def server_url(spec: dict[str, Any]) -> str:
    servers = spec.get("servers") or [{"url": ""}]
    return str(servers[0].get("url", "")).rstrip("/")


def example_of(media: dict[str, Any] | None) -> Any | None:
    """The first example a media object gives (`example`, else the first `examples` value)."""
    if not media:
        return None
    if "example" in media:
        return media["example"]
    for example in (media.get("examples") or {}).values():
        if isinstance(example, dict) and "value" in example:
            return example["value"]
    return None
