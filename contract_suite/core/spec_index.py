"""The specs as an index: which operation a concrete request hits, and whether a response
conforms to what that operation documents.

Reusable outside the curated contracts: `SpecIndex.load(spec_dir)` once, then
`find(method, path)`, `check_response(...)` (status documented, required headers present,
body valid against the documented schema, empty when nothing is documented) and
`check_schema(spec_name, schema_name, instance)` for documents that are not HTTP responses
(e.g. a delivery payload against v2's `DeliveryPayload`). Problems come back as a list of
`SpecViolation` (Received / Documented / Where), never raised, so callers choose how to fail.
`webhooks(spec_name)` lists the requests the API *sends* (OpenAPI 3.1 `webhooks:`), and
`specs[name].validator(pointer)` validates against any schema in a spec by JSON pointer
(the delivery checks take theirs from here: one loader, one registry per spec).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import jsonschema
import yaml
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
SPEC_FILES = ("v1.yaml", "v2.yaml", "sandbox.yaml")


@dataclass(frozen=True)
class SpecViolation:
    """One way a response differs from the spec."""

    what: str  # "status" | "body" | "header" | "content-type"
    received: Any
    documented: Any
    where: str  # JSON path in the body, a header name, or the operation

    def __str__(self) -> str:
        return (f"response {self.what} not as documented at {self.where}\n"
                f"  Received:   {self.received}\n  Documented: {self.documented}")


@dataclass(frozen=True)
class Operation:
    spec_name: str  # "v1", "v2", "sandbox"
    method: str  # upper case
    template: str  # the full path template, e.g. /api/v2/webhooks/{id}
    operation_id: str
    pointer: str  # JSON pointer of the operation object in its spec

    def __str__(self) -> str:
        return f"{self.operation_id} ({self.method} {self.template}, spec/{self.spec_name}.yaml)"


class _Spec:
    def __init__(self, name: str, path: Path) -> None:
        self.name = name
        self.document: dict[str, Any] = load_yaml(path)
        self.uri = f"urn:aqid-spec:{name}"
        servers = self.document.get("servers") or [{"url": ""}]
        self.prefix = urlsplit(servers[0]["url"]).path.rstrip("/")
        self.registry: Registry = Registry().with_resource(
            self.uri, Resource(contents=self.document, specification=DRAFT202012)
        )
        self.paths: list[tuple[re.Pattern[str], str]] = [
            (_template_regex(template), template) for template in self.document.get("paths", {})
        ]

    def resolve(self, node: Any) -> Any:
        """Follow local `$ref`s of non-schema objects (responses, headers, parameters)."""
        seen = 0
        while isinstance(node, dict) and "$ref" in node and seen < 20:
            node = self.at(node["$ref"].removeprefix("#"))
            seen += 1
        return node

    def at(self, pointer: str) -> Any:
        node: Any = self.document
        for part in pointer.lstrip("/").split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        return node

    def validator(self, pointer: str) -> jsonschema.Draft202012Validator:
        return _validator(self, pointer)


@cache
def _validator(spec: _Spec, pointer: str) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(
        {"$ref": f"{spec.uri}#{quote(pointer, safe='/~')}"},
        registry=spec.registry,
        format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER,
    )


def _template_regex(template: str) -> re.Pattern[str]:
    pattern = re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template))
    return re.compile(f"^{pattern}$")


def _escape(part: str) -> str:
    return part.replace("~", "~0").replace("/", "~1")


class SpecIndex:
    def __init__(self, spec_dir: Path) -> None:
        self.spec_dir = spec_dir
        self.specs = {
            file.removesuffix(".yaml"): _Spec(file.removesuffix(".yaml"), spec_dir / file)
            for file in SPEC_FILES if (spec_dir / file).is_file()
        }

    @staticmethod
    def load(spec_dir: str | Path) -> SpecIndex:
        return _load(Path(spec_dir).resolve())

    def _candidates(self, path: str) -> list[tuple[_Spec, str, str]]:
        """(spec, template, pointer-of-path-item) for each spec path `path` could be."""
        path = path.split("?", 1)[0]
        found = []
        for spec in sorted(self.specs.values(), key=lambda s: len(s.prefix), reverse=True):
            if spec.prefix and not path.startswith(spec.prefix + "/"):
                continue
            rest = path[len(spec.prefix):]
            for regex, template in spec.paths:
                if regex.match(rest):
                    found.append((spec, spec.prefix + template, f"/paths/{_escape(template)}"))
        return found

    def methods_for(self, path: str) -> list[str]:
        """The documented methods of a concrete path ([] when no spec has the path)."""
        methods: list[str] = []
        for spec, _template, pointer in self._candidates(path):
            methods += [m.upper() for m in spec.at(pointer) if m in METHODS]
        return methods

    def find(self, method: str, path: str) -> Operation | None:
        for spec, template, pointer in self._candidates(path):
            item = spec.at(pointer)
            if method.lower() in item:
                operation = item[method.lower()]
                return Operation(spec.name, method.upper(), template,
                                 operation.get("operationId", f"{method} {template}"),
                                 f"{pointer}/{method.lower()}")
        return None

    def operations(self) -> list[Operation]:
        result = []
        for spec in self.specs.values():
            for template, item in spec.document.get("paths", {}).items():
                result += [
                    Operation(spec.name, m.upper(), spec.prefix + template,
                              item[m].get("operationId", ""), f"/paths/{_escape(template)}/{m}")
                    for m in item if m in METHODS
                ]
        return result

    def webhooks(self, spec_name: str) -> list[Operation]:
        """The requests a spec says the API sends (its `webhooks:` entries), e.g. a delivery.

        `template` is the entry's name (a webhook has no path of its own).
        """
        spec = self.specs[spec_name]
        return [
            Operation(spec.name, m.upper(), name, item[m].get("operationId", f"{m} {name}"),
                      f"/webhooks/{_escape(name)}/{m}")
            for name, item in (spec.document.get("webhooks") or {}).items()
            for m in item if m in METHODS
        ]

    def check_response(self, operation: Operation, status: int, headers: dict[str, str],
                       body: bytes, *,
                       judge_item: Callable[[Any], bool] | None = None) -> list[SpecViolation]:
        """Every way this response differs from what `operation` documents.

        `judge_item`, for list responses: which items of `data` to validate (True: judge
        it). The envelope is always validated; an item it rejects is never looked at (brief,
        Room "foreign-data": a team may hold webhooks the suite did not create, with any
        values the brief allows, and the suite never fails because of them).
        """
        spec = self.specs[operation.spec_name]
        responses = spec.at(operation.pointer).get("responses", {})
        key = next((k for k in (str(status), f"{str(status)[0]}XX", "default")
                    if k in responses), None)
        if key is None:
            return [SpecViolation("status", status, sorted(responses), str(operation))]
        response = spec.resolve(responses[key])
        pointer = f"{operation.pointer}/responses/{key}"
        problems = self._check_headers(spec, response, headers)
        content = response.get("content") or {}
        if not content:
            if body.strip():
                problems.append(SpecViolation("body", _preview(body), "an empty body",
                                              f"{status} of {operation}"))
            return problems
        content_type = _header(headers, "content-type") or ""
        # Room "representation": Content-Type parameters and case are allowed.
        given = content_type.split(";")[0].strip().lower()
        media = next((m for m in content if given == m.lower()), None)
        if media is None:
            problems.append(SpecViolation("content-type", content_type or "<none>",
                                          sorted(content), f"{status} of {operation}"))
            return problems
        if "schema" not in content[media]:
            return problems
        try:
            document = json.loads(body)
        except ValueError:
            problems.append(SpecViolation("body", _preview(body), "JSON", str(operation)))
            return problems
        schema_pointer = _schema_pointer(spec, pointer, responses[key], media)
        problems += _schema_problems(spec.validator(schema_pointer), document,
                                     skip=_foreign_items(document, judge_item))
        return problems

    def check_schema(self, spec_name: str, schema_name: str, instance: Any) -> list[SpecViolation]:
        """Validate any document against `components/schemas/<schema_name>` of one spec."""
        spec = self.specs[spec_name]
        return _schema_problems(spec.validator(f"/components/schemas/{schema_name}"), instance)

    def _check_headers(self, spec: _Spec, response: dict[str, Any],
                       headers: dict[str, str]) -> list[SpecViolation]:
        problems = []
        for name, header in (response.get("headers") or {}).items():
            header = spec.resolve(header)
            if header.get("required") and _header(headers, name) is None:
                problems.append(SpecViolation("header", "<absent>", "present (required)", name))
        return problems


def load_yaml(path: Path) -> Any:
    """A spec file parsed safely, with libyaml's C parser where PyYAML has it (~9x faster
    on our specs than the pure-Python one, at every start of every process)."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load(path.read_text(encoding="utf-8"), Loader=loader)  # noqa: S506 - safe


@cache
def _load(spec_dir: Path) -> SpecIndex:
    return SpecIndex(spec_dir)


def _schema_pointer(spec: _Spec, pointer: str, response: Any, media: str) -> str:
    """The pointer of the schema, through a `$ref`'d response object if there is one."""
    if isinstance(response, dict) and "$ref" in response:
        return _schema_pointer(spec, response["$ref"].removeprefix("#"),
                               spec.at(response["$ref"].removeprefix("#")), media)
    return f"{pointer}/content/{_escape(media)}/schema"


def _foreign_items(document: Any, judge_item: Callable[[Any], bool] | None) -> frozenset[int]:
    """Indices of the `data` items not to judge (none without a `judge_item`)."""
    items = document.get("data") if isinstance(document, dict) else None
    if judge_item is None or not isinstance(items, list):
        return frozenset()
    return frozenset(index for index, item in enumerate(items) if not judge_item(item))


def _schema_problems(validator: jsonschema.Draft202012Validator, document: Any,
                     skip: frozenset[int] = frozenset()) -> list[SpecViolation]:
    """The best-matching schema error, ignoring errors inside the `data` items in `skip`."""
    errors = (error for error in validator.iter_errors(document)
              if not _inside_skipped_item(error, skip))
    error = jsonschema.exceptions.best_match(errors)
    if error is None:
        return []
    where = "$" + "".join(
        f"[{p}]" if isinstance(p, int) else (f".{p}" if re.fullmatch(r"\w+", p) else f"['{p}']")
        for p in error.absolute_path
    )
    return [SpecViolation("body", _preview(json.dumps(error.instance)),
                          f"{error.message} (schema: {error.validator} "
                          f"{_preview(json.dumps(error.validator_value))})", where)]


def _inside_skipped_item(error: jsonschema.ValidationError, skip: frozenset[int]) -> bool:
    path = list(error.absolute_path)
    if len(path) >= 2 and path[0] == "data" and path[1] in skip:
        return True
    # an error of a combinator at the root (allOf/anyOf/oneOf) carries its causes in context
    return bool(error.context) and not path and all(
        _inside_skipped_item(cause, skip) for cause in error.context)


def _header(headers: Any, name: str) -> str | None:
    lower = name.lower()
    return next((v for k, v in headers.items() if k.lower() == lower), None)


def _preview(value: bytes | str, limit: int = 300) -> str:
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
    return text if len(text) <= limit else text[:limit] + f"… ({len(text)} chars)"
