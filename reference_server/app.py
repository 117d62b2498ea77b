"""create_app(settings): the Starlette application, its store, dispatcher and middleware."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from reference_server import sandbox, views_v1, views_v2
from reference_server.config import Settings
from reference_server.deliveries import Dispatcher
from reference_server.ratelimit import RateLimitMiddleware
from reference_server.responses import ApiError, json_response, route_not_found
from reference_server.seams import seam
from reference_server.server_errors import UnhandledErrorMiddleware, outermost_error
from reference_server.store import Incidentals, Store


@seam("error")
def error_answer(request: Request, error: ApiError) -> ApiError:
    """An API error as the client gets it: as raised."""
    return error


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    error = error_answer(request, exc)
    return json_response(request, error.body, error.status, error.headers)


@seam("routing error")
def routing_error_answer(request: Request, error: ApiError) -> ApiError:
    """An unknown route or a method its path lacks, as the client gets it: as built."""
    return error


async def _http_error(request: Request, exc: Exception) -> Response:
    """Starlette's routing errors (unknown route, wrong method) in the API's JSON form."""
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        error = route_not_found()
    else:
        headers = dict(exc.headers or {})
        if "Allow" in headers:  # a stable, readable order: "DELETE, GET, HEAD, PATCH"
            headers["Allow"] = ", ".join(sorted(m.strip() for m in headers["Allow"].split(",")))
        error = ApiError(exc.status_code, {"error": f"{exc.detail}."}, headers)
    error = routing_error_answer(request, error)
    return json_response(request, error.body, error.status, error.headers)


@seam("database")
def open_store(settings: Settings, incidentals: Incidentals = Incidentals()) -> Store:  # noqa: B008 - frozen
    return Store(settings.db_path, incidentals)


@seam("middleware")
def with_middleware(app: Starlette, settings: Settings) -> Starlette:
    """The app's own middleware: a JSON 500 and a logged traceback for any unhandled error
    (the rate limiter is added around everything else, last)."""
    app.add_middleware(UnhandledErrorMiddleware)
    return app


def create_app(settings: Settings) -> Starlette:
    store = open_store(settings)
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
    with_middleware(app, settings)
    app.add_middleware(RateLimitMiddleware, settings=settings)  # added last: outermost
    return app
