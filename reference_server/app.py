"""create_app(settings): the Starlette application, its store, dispatcher and middleware."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from reference_server import sandbox, views_v1, views_v2
from reference_server.config import Settings
from reference_server.deliveries import Dispatcher
from reference_server.ratelimit import RateLimitMiddleware
from reference_server.responses import ApiError, json_response, route_not_found, settings_of
from reference_server.seed import prepopulate, prepopulate_unusual
from reference_server.server_errors import UnhandledErrorMiddleware, outermost_error
from reference_server.store import UNUSUAL_INCIDENTALS, Incidentals, Store


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    settings = settings_of(request)
    status, body = exc.status, exc.body
    if status == 401 and settings.has_fault("unauthenticated-body-wrong"):
        body = {"message": "Unauthenticated."}
    if settings.has_variant("other-wording"):
        body = _reworded(status, body)
    if status == 422 and settings.has_fault("validation-errors-unnamed"):
        body = {"message": ["The given data was invalid."]}
    if status == 422 and settings.has_fault("validation-422-as-400"):
        status = 400
    return json_response(request, body, status, exc.headers)


def _reworded(status: int, body: dict[str, Any]) -> dict[str, Any]:
    """Room "incidentals": message wording is free where the brief quotes none (422 field
    messages, the 413 reason); the 401, 403 and 404 bodies are quoted, so they stay."""
    if status == 422:
        return {path: [f"Invalid value ({index + 1} of {len(messages)})."
                       for index in range(len(messages))] for path, messages in body.items()}
    if status == 413:
        return {"error": "Payload Too Large"}
    return body


async def _http_error(request: Request, exc: Exception) -> Response:
    """Starlette's routing errors (unknown route, wrong method) in the API's JSON form."""
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        body = route_not_found().body
        if settings_of(request).has_fault("unknown-route-wrong-body"):
            body = {"message": "Not Found"}
        return json_response(request, body, 404)
    headers = dict(exc.headers or {})
    if settings_of(request).has_fault("405-without-allow"):
        headers.pop("Allow", None)
    if "Allow" in headers:  # a stable, readable order: "DELETE, GET, HEAD, PATCH"
        headers["Allow"] = ", ".join(sorted(m.strip() for m in headers["Allow"].split(",")))
    return json_response(request, {"error": f"{exc.detail}."}, exc.status_code, headers)


class VariantsMiddleware:
    """Benign whole-response variants: added latency, unrelated extra headers."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.latency = 0.05 if settings.has_variant("latency-50ms") else 0.0
        self.extra = [(b"x-request-id", b"req-0001"), (b"server-timing", b"app;dur=1")
                      ] if settings.has_variant("extra-headers") else []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.latency:
            await asyncio.sleep(self.latency)

        async def send_extra(message: Message) -> None:
            if message["type"] == "http.response.start" and self.extra:
                message = {**message, "headers": [*message.get("headers", []), *self.extra]}
            await send(message)

        await self.app(scope, receive, send_extra)


def create_app(settings: Settings) -> Starlette:
    store = Store(settings.db_path, UNUSUAL_INCIDENTALS if settings.has_variant("incidentals")
                  else Incidentals())
    if settings.has_variant("prepopulated"):
        prepopulate(store, settings)
    if settings.has_variant("prepopulated-unusual"):
        prepopulate_unusual(store, settings)
    dispatcher = Dispatcher(store, settings)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        dispatcher.start()
        try:
            yield
        finally:
            dispatcher.stop()

    routes = [*views_v2.ROUTES, *views_v1.ROUTES]
    if settings.sandbox:
        routes += sandbox.ROUTES
    app = Starlette(routes=routes, lifespan=lifespan,
                    exception_handlers={ApiError: _api_error, HTTPException: _http_error,
                                        Exception: outermost_error})
    app.router.redirect_slashes = False  # "/api/v2/webhooks/" is an unknown route, not a 307
    app.state.settings = settings
    app.state.store = store
    app.state.dispatcher = dispatcher
    app.add_middleware(UnhandledErrorMiddleware)  # a JSON 500 and a logged traceback
    if settings.variants & {"latency-50ms", "extra-headers"}:
        app.add_middleware(VariantsMiddleware, settings=settings)
    if settings.has_variant("gzip"):  # room "representation": HTTP compression is allowed
        app.add_middleware(GZipMiddleware, minimum_size=20)
    app.add_middleware(RateLimitMiddleware, settings=settings)  # added last: outermost
    return app
