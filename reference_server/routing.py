"""One Route per path with all its methods, so a 405 names every allowed method in Allow."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

Handler = Callable[[Request], Awaitable[Response]]


def path(template: str, **handlers: Handler) -> Route:
    """`path("/x", GET=list_x, POST=create_x)`; HEAD follows GET, as Starlette does."""
    table = {method.upper(): handler for method, handler in handlers.items()}

    async def dispatch(request: Request) -> Response:
        method = "GET" if request.method == "HEAD" else request.method
        return await table[method](request)

    return Route(template, dispatch, methods=list(table), name=template)
