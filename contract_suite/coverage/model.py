"""Coverage counted from the exchanges a run made, and the Test Coverage Level it reaches.

`Collector.observe(exchange)` is subscribed to the session's exchange log
(core/exchanges.py). It counts an exchange of kind "generated" or "client" only when a test
made it (`test` set: the probe and the cleanup do not count) and only when it matches a
path of spec/v1.yaml or spec/v2.yaml (the sandbox control surface is no part of the API);
a "delivery" (what the receiver got) counts in its own small section, by event. What the
collector keeps is compact (sets of items, all of them in the universe) and plain, so
xdist workers ship it in `workeroutput` and the controller merges it (`to_data`/`merge`).

`evaluate()` compares what was seen with the universe (universe.py): covered and missing
items per criterion and version, and the TCL, the highest level whose criteria, and those
of every level below it, are all fully covered (the paper's definition). A status the spec
does not document for the operation covers nothing; it is listed apart as undocumented.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..core.exchanges import Exchange
from .universe import (
    CRITERIA,
    HIGHEST_MEASURED_LEVEL,
    Item,
    OperationUniverse,
    VersionUniverse,
    value_text,
)

COUNTED_KINDS = ("generated", "client")
DELIVERY_KIND = "delivery"
MAX_JSON_DEPTH = 10


@dataclass
class Collector:
    """What one process saw, for the versions of this run."""

    universes: Mapping[str, VersionUniverse]
    delivery_events: frozenset[str] = frozenset()  # the events a delivery may carry
    seen: dict[str, set[tuple[str, str, str]]] = field(default_factory=dict)  # version -> items
    undocumented: dict[str, set[tuple[str, str]]] = field(default_factory=dict)
    exchanges: dict[str, int] = field(default_factory=dict)  # version -> exchanges counted
    delivered: set[str] = field(default_factory=set)
    deliveries: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        self._items = {version: {(criterion, scope, detail)
                                 for criterion, items in universe.items.items()
                                 for scope, detail in items}
                       for version, universe in self.universes.items()}
        # Longest prefix first: /api/v2/webhooks is v2's, never v1's /api + /v2/webhooks.
        self._order = sorted(self.universes.values(), key=lambda u: len(u.prefix), reverse=True)

    def observe(self, exchange: Exchange) -> None:
        if exchange.kind == DELIVERY_KIND:
            self._observe_delivery(exchange)
            return
        if exchange.kind not in COUNTED_KINDS or exchange.test is None:
            return
        path = exchange.path
        for universe in self._order:
            template = universe.match_path(path)
            if template is not None:
                found = set(_seen_items(universe, template, exchange))
                extra = _undocumented_status(universe, template, exchange)
                with self._lock:
                    version = universe.version
                    self.seen.setdefault(version, set()).update(found & self._items[version])
                    if extra:
                        self.undocumented.setdefault(version, set()).add(extra)
                    self.exchanges[version] = self.exchanges.get(version, 0) + 1
                return

    def _observe_delivery(self, exchange: Exchange) -> None:
        body = exchange.request_json()
        trigger = body.get("trigger") if isinstance(body, dict) else None
        alias = trigger.get("alias") if isinstance(trigger, dict) else None
        with self._lock:
            self.deliveries += 1
            if isinstance(alias, str) and alias in self.delivery_events:
                self.delivered.add(alias)

    # --- shipping between xdist processes: plain JSON-able data ---------------------------

    def to_data(self) -> dict[str, Any]:
        with self._lock:
            return {
                "seen": {v: sorted(map(list, items)) for v, items in self.seen.items()},
                "undocumented": {v: sorted(map(list, items))
                                 for v, items in self.undocumented.items()},
                "exchanges": dict(self.exchanges),
                "delivered": sorted(self.delivered),
                "deliveries": self.deliveries,
            }

    def merge(self, data: Mapping[str, Any] | None) -> None:
        if not data:
            return
        with self._lock:
            for version, items in (data.get("seen") or {}).items():
                known = self._items.get(version, set())
                self.seen.setdefault(version, set()).update(
                    item for item in map(tuple, items) if item in known)
            for version, items in (data.get("undocumented") or {}).items():
                self.undocumented.setdefault(version, set()).update(map(tuple, items))
            for version, count in (data.get("exchanges") or {}).items():
                self.exchanges[version] = self.exchanges.get(version, 0) + int(count)
            self.delivered.update(e for e in data.get("delivered") or [] if e in
                                  self.delivery_events)
            self.deliveries += int(data.get("deliveries") or 0)


def _seen_items(universe: VersionUniverse, template: str,
                exchange: Exchange) -> Iterator[tuple[str, str, str]]:
    """Every item this exchange covers, documented or not (the caller keeps the documented)."""
    yield "paths", template, ""
    op = universe.operation(exchange.method, template)
    if op is None:
        return  # a method the path does not have (a 405 probe): the path was still exercised
    label = op.label
    yield "operations", label, ""
    yield from _seen_inputs(op, exchange)
    if exchange.status is None:
        return
    key = op.status_key(exchange.status)
    if key is None:
        return  # an undocumented status covers no output item
    yield "status_codes", label, key
    yield "status_code_classes", label, f"{key[0]}XX"
    media = _media(exchange.header("content-type"))
    if media and media in op.responses[key].media:
        yield "response_content_types", label, media
    body = exchange.response_json()
    if body is not None:
        for path in json_paths(body):
            if path in op.responses[key].properties:
                yield "response_properties", label, path


def _seen_inputs(op: OperationUniverse, exchange: Exchange) -> Iterator[tuple[str, str, str]]:
    label = op.label
    for name in op.parameters:
        where, _, param = name.partition(" ")
        if where == "path":
            yield "parameters", label, name  # the path matched the template: it was given
    for param, value in exchange.query:
        name = f"query {param}"
        if name in op.parameters:
            yield "parameters", label, name
            yield "parameter_values", label, f"{name}={value}"
    for name in op.parameters:
        where, _, param = name.partition(" ")
        if where == "header":
            value = exchange.header(param, response=False)
            if value is not None:
                yield "parameters", label, name
                yield "parameter_values", label, f"{name}={value}"
    if exchange.request_body:
        media = _media(exchange.header("content-type", response=False))
        if media:
            yield "request_content_types", label, media
        body = exchange.request_json()
        if body is not None:
            for path, value in json_values(body):
                if path in op.body_fields:
                    yield "parameters", label, f"body {path}"
                documented = op.body_values.get(path)
                if documented is None:
                    continue
                _values, separator = documented
                if separator is not None and isinstance(value, str):
                    for part in value.split(separator):
                        yield "parameter_values", label, f"body {path}={part}"
                elif isinstance(value, (str, bool, int, float)):
                    yield "parameter_values", label, f"body {path}={value_text(value)}"


def _undocumented_status(universe: VersionUniverse, template: str,
                         exchange: Exchange) -> tuple[str, str] | None:
    if exchange.status is None:
        return None
    op = universe.operation(exchange.method, template)
    scope = op.label if op else f"{exchange.method.upper()} {template}"
    if op is None or op.status_key(exchange.status) is None:
        return scope, str(exchange.status)
    return None


def _media(content_type: str | None) -> str | None:
    if not content_type:
        return None
    return content_type.split(";", 1)[0].strip().lower() or None


def json_paths(document: Any) -> set[str]:
    """Every property path in a JSON document (`a.b`, array items as `a[].b`)."""
    return {path for path, _value in json_values(document)}


def json_values(document: Any, prefix: str = "", depth: int = 0) -> Iterator[tuple[str, Any]]:
    """(path, value) for every property of a JSON document and every array item (`a[]`)."""
    if depth > MAX_JSON_DEPTH:
        return
    if isinstance(document, dict):
        for key, value in document.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            yield path, value
            yield from json_values(value, path, depth + 1)
    elif isinstance(document, list):
        for value in document:
            yield f"{prefix}[]", value
            yield from json_values(value, f"{prefix}[]", depth + 1)


# --- the result --------------------------------------------------------------------------


@dataclass(frozen=True)
class Criterion:
    name: str
    level: int
    covered: tuple[Item, ...]
    missing: tuple[Item, ...]

    @property
    def total(self) -> int:
        return len(self.covered) + len(self.missing)

    @property
    def complete(self) -> bool:
        return not self.missing


@dataclass(frozen=True)
class VersionCoverage:
    version: str
    criteria: dict[str, Criterion]
    undocumented: tuple[tuple[str, str], ...]  # (operation or path, status) seen, not documented
    exchanges: int
    operation_ids: dict[str, str]  # label -> operationId

    @property
    def tcl(self) -> int:
        return tcl_of(self.criteria)

    def missing_for(self, level: int) -> list[Criterion]:
        """The incomplete criteria of every level up to `level`, lowest level first."""
        return [c for c in self.criteria.values() if c.level <= level and not c.complete]


@dataclass(frozen=True)
class DeliveryCoverage:
    delivered: tuple[str, ...]
    missing: tuple[str, ...]
    deliveries: int


@dataclass(frozen=True)
class CoverageReport:
    versions: dict[str, VersionCoverage]
    deliveries: DeliveryCoverage


def tcl_of(criteria: Mapping[str, Criterion]) -> int:
    """The highest level n such that every criterion of levels 1..n is fully covered."""
    reached = 0
    for level in range(1, HIGHEST_MEASURED_LEVEL + 1):
        if any(not c.complete for c in criteria.values() if c.level == level):
            break
        reached = level
    return reached


def evaluate(collector: Collector) -> CoverageReport:
    versions = {}
    for version, universe in collector.universes.items():
        seen = collector.seen.get(version, set())
        criteria = {}
        for name, items in universe.items.items():
            covered = sorted(item for item in items if (name, *item) in seen)
            missing = sorted(item for item in items if (name, *item) not in seen)
            criteria[name] = Criterion(name, CRITERIA[name], tuple(covered), tuple(missing))
        versions[version] = VersionCoverage(
            version, criteria, tuple(sorted(collector.undocumented.get(version, set()))),
            collector.exchanges.get(version, 0),
            {label: op.operation_id for label, op in universe.operations.items()})
    events = collector.delivery_events
    deliveries = DeliveryCoverage(tuple(sorted(collector.delivered & events)),
                                  tuple(sorted(events - collector.delivered)),
                                  collector.deliveries)
    return CoverageReport(versions, deliveries)


def delivery_events(documents: Iterable[Any]) -> frozenset[str]:
    """The events a delivery may carry (the specs' DeliveryEvent enum)."""
    events: set[str] = set()
    for document in documents:
        schema = ((document.get("components") or {}).get("schemas") or {}).get("DeliveryEvent")
        if isinstance(schema, dict):
            events |= {str(e) for e in schema.get("enum") or []}
    return frozenset(events)


def item_text(item: Item) -> str:
    scope, detail = item
    return f"{scope} {detail}".strip()


def json_text(data: Any) -> str:
    return json.dumps(data, indent=2, sort_keys=False) + "\n"
