"""What is expected to differ between two runs, taken out before comparing.

From the spec and the brief's Room, per test, in the order the test made its exchanges:
- ids: a webhook the test created is `<id #n>` (n-th it created; a delivery log entry is
  `<delivery #n>`), so ids assigned by another build, or by a worker running beside it,
  compare equal while "the same webhook" stays the same one; other ids stay as sent;
- uuids are `<uuid #n>` by first appearance (X-AQID-Delivery-Id = the log's uuid survives);
- date-times keep only their form (`<date-time Z>`, `<date-time .f+00:00>`): the instant is
  the run's, the form is the contract's (Room: fractional seconds); one relation is kept,
  because the brief pins it: a webhook the test has not updated successfully yet shows
  `updated_at` `<= created_at>` when the two are equal (a rejected update moves nothing);
- a delivery's signature: its encoding and length, and whether it verifies with the
  webhook's secret (the recorder checks it; the secret itself is masked in the file);
- secrets, tokens, the run id, the tagged URLs' random slugs, the target's and the
  receiver's host:port; signatures keep their encoding and length only;
- Room: `events` as a set, media types without parameters and case, extra headers
  ignored, pagination links by path and query as a set, and list items the test did not
  create are dropped (foreign data: a shared team, or a worker running beside it);
- volatile headers (Date, Server, rate-limit counters) are compared by presence only;
- pings, outside the tests marked `pings`: a ping is sent when a webhook is created or
  re-enabled, and whether it has arrived (or shows in the log) when the test disables or
  deletes the webhook, or reads its log, is a matter of timing. Only the tests that wait
  for their pings compare them (what arrived, and their log entries).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

UUID = re.compile(r"\b[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}\b")
DATE_TIME = re.compile(r"\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})?")
LOOPBACK = re.compile(r"(https?://|\b)(?:127\.0\.0\.1|localhost|\[::1\]):\d+\b")
MARKER = re.compile(r"aqid-contracts-[0-9a-f]{12}\b")  # delivery fixtures' per-test marker
# A tagged URL's random tail (curated: "-1a2b3c"; receiver: "-<counter>-1a2b3c").
SLUG = re.compile(r"(/aqid-contracts/<run-id>/[A-Za-z0-9._-]*?)(?:-\d+)?-[0-9a-f]{6}"
                  r"(?![0-9A-Za-z])")
WEBHOOK_IN_PATH = re.compile(r"(/webhooks/)(\d+)")
BASE64 = re.compile(r"^[A-Za-z0-9+/]+={0,2}$")
HEX = re.compile(r"^[0-9a-f]+$")
API_PATH = re.compile(r"^/api(/v2)?(/webhooks.*)$")
LIST_PATH = re.compile(r"^/api(?:/v2)?/webhooks$")
WEBHOOK_ONLY_PATH = re.compile(r"^/api(?:/v2)?/webhooks/([^/]+)$")
LOG_PATH = re.compile(r"^/api(?:/v2)?/webhooks/[^/]+/deliveries$")
ID_SEGMENT = re.compile(r"^(/webhooks/)[^/]+")

# Response headers compared by value (after the Room's normalisation), and by presence.
VALUE_HEADERS = ("content-type", "allow")
PRESENCE_HEADERS = ("x-ratelimit-limit", "x-ratelimit-remaining", "retry-after",
                    "x-ratelimit-reset")
# What a subscriber got: the delivery's headers that carry contract.
DELIVERY_HEADERS = ("content-type", "user-agent", "x-aqid-signature", "x-aqid-delivery-id",
                    "x-aqid-delivery-attempt")
# Headers recorded inside a delivery log entry whose value is the moment or the machine.
VOLATILE_KEYS = frozenset({"date", "server", "host", "content-length", "x-ratelimit-remaining",
                           "x-ratelimit-reset", "retry-after", "x-ratelimit-limit"})
# A value the run cannot know (it depends on data the test did not make): equal to anything.
ANY = "<any>"
LINK_KEYS = frozenset({"next", "previous", "prev", "first", "last"})


@dataclass
class RunFacts:
    """What one run's recording says about itself (its meta lines)."""

    base_url: str = ""
    run_id: str = ""
    ping_tests: frozenset[str] = frozenset()  # tests marked `pings`: their pings compared
    signature_checks: bool = True  # False: a run recorded without them (compare none)


@dataclass
class TestState:
    """The ids and uuids one test has seen so far, in one run."""

    created: dict[int, int] = field(default_factory=dict)  # webhook id -> n (n-th created)
    deliveries: dict[int, int] = field(default_factory=dict)
    uuids: dict[str, int] = field(default_factory=dict)
    updated: set[Any] = field(default_factory=set)  # webhook ids a 2xx PUT/PATCH has changed

    def webhook(self, value: int) -> str | int:
        n = self.created.get(value)
        return f"<id #{n}>" if n else value

    def delivery(self, value: int) -> str:
        n = self.deliveries.setdefault(value, len(self.deliveries) + 1)
        return f"<delivery #{n}>"

    def uuid(self, value: str) -> str:
        n = self.uuids.setdefault(value.lower(), len(self.uuids) + 1)
        return f"<uuid #{n}>"


@dataclass(frozen=True)
class Normalised:
    """One exchange, ready to compare: its key, its operation, and the compared document."""

    key: tuple[str, ...]  # (test, kind, request signature, occurrence)
    operation: str  # e.g. "v2 GET /webhooks/{id}", "delivery POST (receiver)"
    test: str
    document: dict[str, Any]  # {"status", "headers", "body"} (deliveries: the request)
    raw: dict[str, Any]  # the recorded (masked) exchange, for the report


def operation_of(kind: str, method: str, path: str) -> str:
    if kind == "delivery":
        return f"delivery {method} (receiver)"
    match = API_PATH.match(path)
    if match:
        version = "v2" if match.group(1) else "v1"
        template = ID_SEGMENT.sub(r"\g<1>{id}", match.group(2))
        return f"{version} {method} {template}"
    if path.startswith("/_sandbox"):
        return f"sandbox {method} {path}"
    return f"{method} {path}"


class Normaliser:
    """Normalises one run's exchanges, test by test (one TestState per test)."""

    def __init__(self, facts: RunFacts) -> None:
        self.facts = facts
        self.states: dict[str, TestState] = {}
        self.seen: dict[tuple[str, ...], int] = {}

    # -- strings and values -----------------------------------------------------------------
    def text(self, value: str, state: TestState) -> str:
        if self.facts.base_url:
            value = value.replace(self.facts.base_url, "<target>")
        value = LOOPBACK.sub(r"\1<loopback>", value)
        if self.facts.run_id:
            value = value.replace(self.facts.run_id, "<run-id>")
        value = SLUG.sub(r"\1-<slug>", value)
        value = MARKER.sub("aqid-contracts-<marker>", value)
        value = UUID.sub(lambda m: state.uuid(m.group(0)), value)
        value = DATE_TIME.sub(_date_form, value)
        return WEBHOOK_IN_PATH.sub(lambda m: f"{m.group(1)}{state.webhook(int(m.group(2)))}",
                                   value)

    def value(self, node: Any, state: TestState, key: str | None = None) -> Any:
        if isinstance(node, dict):
            delivery = "attempts" in node or node.get("object") == "webhook_delivery"
            out: dict[str, Any] = {}
            unchanged = (not delivery and "created_at" in node
                         and isinstance(node.get("updated_at"), str)
                         and node["updated_at"] == node.get("created_at")
                         and node.get("id") not in state.updated)
            for name, item in node.items():
                if name == "secret" and isinstance(item, str):
                    out[name] = "<secret>"
                elif name == "id" and isinstance(item, int) and not isinstance(item, bool):
                    out[name] = state.delivery(item) if delivery else state.webhook(item)
                elif name == "updated_at" and unchanged:
                    out[name] = "<= created_at>"
                elif name in LINK_KEYS and isinstance(item, str):
                    out[name] = self.link(item, state)
                elif name.lower() == "x-aqid-signature" and isinstance(item, str):
                    out[name] = signature_form(item)
                elif name.lower() in VOLATILE_KEYS and isinstance(item, (str, int)):
                    out[name] = f"<{name.lower()}>"
                else:
                    out[name] = self.value(item, state, name)
            return out
        if isinstance(node, list):
            items = [self.value(item, state) for item in node]
            if key == "events" and all(isinstance(item, str) for item in items):
                return sorted(items)  # Room "events-order": no order is promised
            return items
        if isinstance(node, str):
            if key == "events" and "," in node:  # v1: the list joined by ","
                return ",".join(sorted(node.split(",")))
            return self.text(node, state)
        return node

    def link(self, url: str, state: TestState) -> str:
        """Room "links-form": a link is its path and its query parameters as a set."""
        parts = urlsplit(url)
        query = "&".join(f"{k}={v}" for k, v in sorted(parse_qsl(parts.query)))
        return self.text(parts.path + (f"?{query}" if query else ""), state)

    # -- one exchange -----------------------------------------------------------------------
    def exchange(self, record: dict[str, Any]) -> Normalised | None:
        test = record.get("test")
        if not test:
            return None  # probe and cleanup: the run's own housekeeping, not behaviour
        state = self.states.setdefault(test, TestState())
        kind, method = record["kind"], record["method"].upper()
        parts = urlsplit(record["url"])
        request_body = body_of(record.get("request_body"))
        response_body = body_of(record.get("response_body"))
        pings_race = test not in self.facts.ping_tests
        if kind == "delivery" and pings_race and is_ping(request_body):
            return None
        if kind != "delivery":
            self._remember_created(method, parts.path, record.get("status"), response_body,
                                   state)
            self._remember_updated(method, parts.path, record.get("status"), state)
        path = self.text(parts.path, state)
        query = sorted((k, self.text(v, state)) for k, v in parse_qsl(parts.query, True))
        if kind == "delivery":
            # What the subscriber got is the behaviour; the receiver's answer is ours.
            signature = (path, *delivery_order(record)[1:])
            document = {"headers": picked(record.get("request_headers", {}), DELIVERY_HEADERS,
                                          (), self, state),
                        "body": self.value(request_body, state)}
            if self.facts.signature_checks:
                document["signature"] = record.get("signature_check", "<not checked>")
        else:
            signature = (path, json.dumps(query), _canonical(self.value(request_body, state)))
            if LIST_PATH.match(parts.path) and method == "GET":
                response_body = own_items_only(response_body, state)
            elif LOG_PATH.match(parts.path) and method == "GET" and pings_race:
                response_body = without_pings(response_body)
            elif parts.path == "/_sandbox/events" and isinstance(response_body, dict):
                # Fanned out to the team's matching webhooks, other tests' leftovers too:
                # what each of the test's own webhooks received is in its deliveries.
                response_body = {**response_body, "deliveries": "<int: team-wide>"}
            document = {"status": record.get("status"),
                        "headers": picked(record.get("response_headers", {}), VALUE_HEADERS,
                                          PRESENCE_HEADERS, self, state),
                        "body": self.value(response_body, state)}
        base = (test, kind, method, *signature)
        occurrence = self.seen.get(base, 0) + 1
        self.seen[base] = occurrence
        key = (test, kind, method, _digest(signature), str(occurrence))
        return Normalised(key, operation_of(kind, method, parts.path), test, document, record)

    def _remember_updated(self, method: str, path: str, status: Any, state: TestState) -> None:
        """A 2xx PUT/PATCH of /webhooks/{id}: its updated_at may move from now on."""
        match = WEBHOOK_ONLY_PATH.match(path)
        if (match and method in ("PUT", "PATCH") and isinstance(status, int)
                and 200 <= status < 300):
            identifier = match.group(1)
            state.updated.add(int(identifier) if identifier.isdigit() else identifier)

    def _remember_created(self, method: str, path: str, status: Any, body: Any,
                          state: TestState) -> None:
        if (method == "POST" and LIST_PATH.match(path) and isinstance(status, int)
                and 200 <= status < 300 and isinstance(body, dict)):
            value = body.get("id")
            if isinstance(value, int) and value not in state.created:
                state.created[value] = len(state.created) + 1


def delivery_order(record: dict[str, Any]) -> tuple[str, str, str]:
    """Deliveries arrive on the receiver's threads in an order of their own: they are
    paired, and read, by endpoint, event and attempt (then in order of arrival)."""
    headers = {str(k).lower(): str(v) for k, v in record.get("request_headers", {}).items()}
    body = body_of(record.get("request_body"))
    trigger = body.get("trigger") if isinstance(body, dict) else None
    alias = trigger.get("alias") if isinstance(trigger, dict) else None
    path = re.sub(r"-[0-9a-f]{6}$", "", urlsplit(record.get("url", "")).path)
    return path, str(alias), headers.get("x-aqid-delivery-attempt", "").rjust(3)


def own_items_only(body: Any, state: TestState) -> Any:
    """A webhook list with only the test's own webhooks; its team-wide counts as shapes.

    Room "foreign-data": a team may hold anything, and under -n 2 another worker's
    webhooks come and go in the same list. The test's own items, in their order, are its
    behaviour; `count` (items on this page) is kept less the foreign items dropped, and
    `total` and `total_pages`, which count the whole team, only as a shape. `links` too
    depend on the team's size (none on a single page), but a link there must keep the
    request's query (brief): each one is its path and query less the page number, and a
    missing one (null, v1 `[]`) is `<any>`, which compares equal to anything.
    """
    page = _filtered_page(body, lambda item: isinstance(item, dict)
                          and item.get("id") in state.created)
    if page is None:
        return body
    out, dropped, holders = page
    for holder in holders:
        _subtract(holder, "count", dropped)
        for name in ("total", "total_pages"):
            if name in holder:
                holder[name] = f"<{_shape(holder[name])}: team-wide>"
        if "links" in holder:
            links = holder["links"]
            holder["links"] = ({name: _link_form(link) for name, link in links.items()}
                               if isinstance(links, dict) else ANY)
    return out


def _link_form(link: Any) -> Any:
    """A list link as its path and query, the page number elided (the team's size sets it)."""
    if not isinstance(link, str):
        return ANY
    parts = urlsplit(link)
    query = sorted((k, "<page>" if k == "page" else v) for k, v in parse_qsl(parts.query, True))
    return "<link " + parts.path + "?" + "&".join(f"{k}={v}" for k, v in query) + ">"


def is_ping(payload: Any) -> bool:
    """A delivery's body (`trigger.alias`), or a log entry (v2 `event`, v1 the body sent)."""
    if not isinstance(payload, dict):
        return False
    if payload.get("event") == "ping":
        return True
    trigger = payload.get("trigger")
    if isinstance(trigger, dict) and trigger.get("alias") == "ping":
        return True
    request = payload.get("request")
    return isinstance(request, dict) and is_ping(request.get("body"))


def without_pings(body: Any) -> Any:
    """A delivery log page less its ping entries, `count` and `total` less those dropped."""
    page = _filtered_page(body, lambda entry: not is_ping(entry))
    if page is None or not page[1]:
        return body
    out, dropped, holders = page
    for holder in holders:
        _subtract(holder, "count", dropped)
        _subtract(holder, "total", dropped)
    return out


def _filtered_page(body: Any, keep: Callable[[Any], bool]
                   ) -> tuple[dict[str, Any], int, list[dict[str, Any]]] | None:
    """A copy of a list page (v2: counts at the top; v1: in meta.pagination) with only the
    items `keep` accepts: (page, items dropped, the copied dicts that hold its counts)."""
    if not isinstance(body, dict) or not isinstance(body.get("data"), list):
        return None
    out = {**body, "data": [item for item in body["data"] if keep(item)]}
    holders = [out]
    meta = out.get("meta")
    if isinstance(meta, dict) and isinstance(meta.get("pagination"), dict):
        out["meta"] = {**meta, "pagination": dict(meta["pagination"])}
        holders.append(out["meta"]["pagination"])
    return out, len(body["data"]) - len(out["data"]), holders


def _subtract(holder: dict[str, Any], name: str, amount: int) -> None:
    if isinstance(holder.get(name), int) and not isinstance(holder[name], bool):
        holder[name] -= amount


def _shape(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, dict):
        return "object with " + (", ".join(sorted(value)) or "no keys")
    return type(value).__name__.replace("str", "string").replace("list", "array")


def picked(headers: dict[str, str], by_value: tuple[str, ...], by_presence: tuple[str, ...],
           normaliser: Normaliser, state: TestState) -> dict[str, Any]:
    lower = {str(k).lower(): str(v) for k, v in headers.items()}
    out: dict[str, Any] = {}
    for name in by_value:
        if name in lower:
            value = lower[name]
            if name == "content-type":
                value = value.split(";")[0].strip().lower()  # Room "representation"
            elif name == "allow":
                value = ", ".join(sorted(v.strip().upper() for v in value.split(",")))
            elif name == "x-aqid-signature":
                value = signature_form(value)
            else:
                value = normaliser.text(value, state)
            out[name] = value
    for name in by_presence:
        out[name] = "<present>" if name in lower else "<absent>"
    return out


def signature_form(value: str) -> str:
    """A signature's encoding and length: the digest itself is keyed by a per-run secret."""
    if HEX.match(value) and len(value) % 2 == 0:
        return f"<hex, {len(value)} characters>"
    if BASE64.match(value) and len(value) % 4 == 0:
        return f"<base64, {len(value)} characters>"
    return f"<other, {len(value)} characters>"


def body_of(encoded: dict[str, Any] | None) -> Any:
    if not encoded:
        return None
    if "json" in encoded:
        return encoded["json"]
    if "text" in encoded:
        return encoded["text"]
    return {"<bytes>": encoded.get("bytes")}


def _date_form(match: re.Match[str]) -> str:
    fraction = ".f" if match.group(1) else ""
    zone = match.group(2) or ""
    return f"<date-time{fraction}{zone}>"


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def _digest(parts: tuple[str, ...]) -> str:
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:16] + " " + parts[0]
