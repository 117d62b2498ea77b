"""Seams: the few named points where a fault or variant may change the correct behaviour.

The server's modules hold only the correct behaviour. Where a catalogued fault or variant
(faults.py) changes something, the function that computes that something is marked
`@seam("name")` (a view: `@operation("v2 create")`, a seam named after the operation), and
the change itself is a *modifier* in reference_server/modifiers/, registered for the name:

    @fault("v2-missing-object-tag").after("v2 webhook")
    def _(body, hook, settings):
        del body["object"]
        return body

`.after(seam)` receives the seam's result and its arguments and returns the result to use;
`.around(seam)` receives `proceed` (the seam's own function) and the arguments, and decides
whether and how to call it. A modifier may touch more than one seam (`disabled-webhooks-
receive` changes both who an event is routed to and whether a disabled webhook is sent to),
but each catalogued name has exactly one modifier, and a name outside the catalogue cannot
be registered. Modifiers switched on together nest in catalogue order (faults, then
variants; the first is innermost); the catalogue's self-test switches on one at a time.

A seam finds the settings in its arguments: a `Settings`, a request, or an object with a
`settings` attribute (the dispatcher). With nothing switched on a seam is one dictionary
look-up and a direct call.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from starlette.requests import HTTPConnection

from reference_server.config import Settings
from reference_server.faults import FAULTS, VARIANTS

F = TypeVar("F", bound=Callable[..., Any])
Around = Callable[..., Any]  # (proceed, *args, **kwargs) -> result

OPERATION_KEY = "reference_server.operation"

# Every seam, with what it transforms. A modifier for any other name is refused.
SEAMS: dict[str, str] = {
    # -- the operations: a view's whole answer (the catalogue's OPERATIONS) ---------------
    **{op: f"the {op} operation's response" for op in (
        "v2 list", "v2 create", "v2 retrieve", "v2 update", "v2 delete", "v2 deliveries",
        "v1 list", "v1 create", "v1 update", "v1 delete", "v1 deliveries")},
    # -- the request ----------------------------------------------------------------------
    "grant": "the grant a bearer token names (auth.grant_from_header)",
    "authentication": "the caller's grant, or 401/403 (auth.authenticate)",
    "webhook id": "the path id as a webhook id, or 404 (webhooks.webhook_id)",
    "team": "the team whose webhooks an operation may touch (webhooks.team_scope)",
    "request body": "a write's JSON object body, or 413/422 (validation.json_object_body)",
    "query": "one query parameter's raw value (validation.query_param)",
    "url": "the errors for a webhook url (validation.url_errors)",
    "v2 fields": "the errors for v2 url/events/is_enabled (validation.v2_field_errors)",
    "v2 written": "the fields a v2 body writes (validation.v2_written_fields)",
    "v2 patch": "a v2 PATCH applied, or 422 (views_v2.patch)",
    # -- the store ------------------------------------------------------------------------
    "store": "the store a request reads and writes (webhooks.store_of)",
    "stored fields": "the fields a create or update stores (webhooks.stored_fields)",
    "update": "a webhook after an update (webhooks.updated)",
    "ping": "whether a create or update pings the webhook (webhooks.pings)",
    "webhook list": "the query a webhook list is read with (webhooks.list_page)",
    "delivery list": "the query a delivery log is read with (webhooks.delivery_page)",
    # -- the representation ---------------------------------------------------------------
    "page": "the page a list request asks for (pagination.page_request)",
    "page link": "the URL of a neighbouring page (pagination.page_link)",
    "v2 envelope": "a v2 list body (pagination.v2_list)",
    "v1 envelope": "a v1 list body (pagination.v1_list)",
    "v2 webhook": "a webhook in v2 shape (representations.webhook_v2)",
    "v1 webhook": "a webhook in v1 shape (representations.webhook_v1)",
    "v2 delivery": "a delivery log entry in v2 shape (representations.delivery_v2)",
    "v1 delivery": "a delivery log entry in v1 shape (representations.delivery_v1)",
    "json": "JSON bytes (responses.render_json)",
    "media type": "the JSON Content-Type (responses.json_media_type)",
    "error": "an API error as answered (app.error_answer)",
    "routing error": "an unknown route or method as answered (app.routing_error_answer)",
    "rate limit": "the rate-limit budget and its 429 wording (ratelimit.rate_limit_policy)",
    "rate limit headers": "a response start with the X-RateLimit headers added",
    # -- deliveries -----------------------------------------------------------------------
    "recipients": "the webhooks an event goes to, one entry a copy (sandbox.recipients)",
    "payload": "the payload a delivery sends (Dispatcher.payload)",
    "signature": "X-AQID-Signature of a payload (Dispatcher.signature)",
    "delivery headers": "the request headers a delivery is logged with",
    "delivery log": "a new delivery log entry (Dispatcher.log_delivery)",
    "attempt headers": "the request headers one attempt sends (Dispatcher.attempt_headers)",
    "delivery policy": "attempts, client timeout, failures before disabling",
    "sendable": "whether an attempt may go to the webhook as it is now",
    # -- start-up -------------------------------------------------------------------------
    "database": "the store a new app opens (app.open_store)",
    "middleware": "the app's middleware stack (app.with_middleware)",
}


@dataclass
class Modifier:
    """One catalogued fault or variant: what it does at each seam it touches."""

    name: str
    kind: str  # "fault" or "variant"
    at: dict[str, Around] = field(default_factory=dict)

    def around(self, seam: str) -> Callable[[F], F]:
        def register(function: F) -> F:
            self._add(seam, function)
            return function
        return register

    def after(self, seam: str) -> Callable[[F], F]:
        """`function(result, *args, **kwargs)`: the result the seam answers instead."""
        def register(function: F) -> F:
            def around(proceed: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
                result = proceed(*args, **kwargs)
                if inspect.isawaitable(result):
                    async def finish() -> Any:
                        return function(await result, *args, **kwargs)
                    return finish()
                return function(result, *args, **kwargs)
            self._add(seam, functools.wraps(function)(around))
            return function
        return register

    def _add(self, seam: str, function: Around) -> None:
        if seam not in SEAMS:
            raise KeyError(f"{self.kind} {self.name!r}: no seam {seam!r} (see seams.SEAMS)")
        if seam in self.at:
            raise ValueError(f"{self.kind} {self.name!r} already modifies {seam!r}")
        self.at[seam] = function


_MODIFIERS: dict[str, Modifier] = {}  # filled once, when reference_server.modifiers loads


def _new(name: str, kind: str, catalogue: dict[str, Any]) -> Modifier:
    # A typo would silently never fire: insist the name is catalogued, and only once.
    if name not in catalogue:
        raise KeyError(f"{kind} {name!r} is not in faults.{kind.upper()}S")
    if name in _MODIFIERS:
        raise ValueError(f"{kind} {name!r} already has a modifier")
    _MODIFIERS[name] = modifier = Modifier(name, kind)
    return modifier


def fault(name: str) -> Modifier:
    return _new(name, "fault", FAULTS)


def variant(name: str) -> Modifier:
    return _new(name, "variant", VARIANTS)


def modifiers() -> dict[str, Modifier]:
    """Every registered modifier by name (loads reference_server.modifiers)."""
    _load()
    return dict(_MODIFIERS)


@functools.cache
def _load() -> None:
    import reference_server.modifiers  # noqa: F401 - registers every modifier


@functools.cache
def _chain(faults: frozenset[str], variants: frozenset[str], seam: str) -> tuple[Around, ...]:
    _load()
    names = [n for n in FAULTS if n in faults] + [n for n in VARIANTS if n in variants]
    return tuple(_MODIFIERS[n].at[seam] for n in names
                 if n in _MODIFIERS and seam in _MODIFIERS[n].at)


def _settings_in(seam: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Settings:
    for value in (*args, *kwargs.values()):
        if isinstance(value, Settings):
            return value
        if isinstance(value, HTTPConnection):
            return value.app.state.settings
        if isinstance(getattr(value, "settings", None), Settings):
            return value.settings
    raise TypeError(f"seam {seam!r}: no Settings, request or .settings among its arguments")


def _composed(seam: str, function: Callable[..., Any], args: tuple[Any, ...],
              kwargs: dict[str, Any]) -> Callable[..., Any]:
    settings = _settings_in(seam, args, kwargs)
    call = function
    for around in _chain(settings.faults, settings.variants, seam):
        call = functools.partial(around, call)
    return call


def seam(name: str) -> Callable[[F], F]:
    """Mark `function` as the seam `name`: the modifiers switched on may change it."""
    if name not in SEAMS:
        raise KeyError(f"no seam {name!r} (see seams.SEAMS)")

    def mark(function: F) -> F:
        if inspect.iscoroutinefunction(function):
            @functools.wraps(function)
            async def run_async(*args: Any, **kwargs: Any) -> Any:
                return await _composed(name, function, args, kwargs)(*args, **kwargs)
            return run_async  # type: ignore[return-value]

        @functools.wraps(function)
        def run(*args: Any, **kwargs: Any) -> Any:
            return _composed(name, function, args, kwargs)(*args, **kwargs)
        return run  # type: ignore[return-value]
    return mark


def operation(name: str) -> Callable[[F], F]:
    """A view: records which operation the request is (see `operation_of`), and is the
    seam of that name."""
    def mark(view: F) -> F:
        inner = seam(name)(view)

        @functools.wraps(view)
        async def run(request: HTTPConnection) -> Any:
            request.scope[OPERATION_KEY] = name
            return await inner(request)
        return run  # type: ignore[return-value]
    return mark


def operation_of(request: HTTPConnection) -> str | None:
    """The catalogue's name of the operation a request is ("v2 create"...), None outside
    the API's views (the sandbox, unknown routes)."""
    return request.scope.get(OPERATION_KEY)
