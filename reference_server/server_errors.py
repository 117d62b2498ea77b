"""Unhandled errors: a JSON 500 for the client, the traceback on the server's stderr.

Starlette's own answer to an unhandled exception is `500 text/plain` "Internal Server
Error", sent outside every middleware (so without the rate-limit headers), and the only
trace is uvicorn's log - absent in-process. A 500 from the reference server is always a
bug in it, so it must be diagnosable from both ends: the client gets a JSON body naming
the exception type, and stderr (which `RunningServer.output()` shows) gets the traceback
with the request line. Headers are never logged: they hold the bearer token.
"""

from __future__ import annotations

import json
import sys
import traceback

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send


def error_response(exc: BaseException) -> Response:
    # Plain json.dumps, not render_json: nothing that may itself be broken (settings,
    # variants) stands between a bug and its report.
    body = {"error": "Internal Server Error.", "exception": type(exc).__name__,
            "detail": "a bug in the reference server; its stderr has the traceback"}
    return Response(json.dumps(body), status_code=500, media_type="application/json")


def log_unhandled(method: str, path: str, exc: BaseException) -> None:
    """The request line (no query, no headers: nothing secret) and the traceback."""
    trace = "".join(traceback.format_exception(exc))
    print(f"reference_server: unhandled error on {method} {path}\n{trace}", end="",
          file=sys.stderr, flush=True)


class UnhandledErrorMiddleware:
    """Inside the rate limiter, so a 500 carries the rate-limit headers like any answer."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watch(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception as exc:  # noqa: BLE001 - the point: every error, logged and answered
            log_unhandled(scope.get("method", "?"), scope.get("path", "?"), exc)
            if started:  # half a response is out: only closing the connection is left
                raise
            await error_response(exc)(scope, receive, send)


async def outermost_error(request: Request, exc: Exception) -> Response:
    """For errors outside UnhandledErrorMiddleware (the rate limiter itself): Starlette's
    ServerErrorMiddleware calls this, then re-raises, so uvicorn logs the traceback."""
    return error_response(exc)
