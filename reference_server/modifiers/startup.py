"""What a new app starts with: its database and its middleware (benign variants only)."""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.applications import Starlette
from starlette.middleware.gzip import GZipMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from reference_server.config import Settings
from reference_server.seams import variant
from reference_server.seed import prepopulate, prepopulate_unusual
from reference_server.store import UNUSUAL_INCIDENTALS, Incidentals, Store

# -- the database -------------------------------------------------------------------------

@variant("prepopulated").after("database")
def _prepopulated(store: Store, settings: Settings, *_: Any) -> Store:
    prepopulate(store, settings)
    return store


@variant("prepopulated-unusual").after("database")
def _prepopulated_unusual(store: Store, settings: Settings, *_: Any) -> Store:
    prepopulate_unusual(store, settings)
    return store


@variant("incidentals").around("database")
def _unusual_incidentals(proceed: Any, settings: Settings,
                         incidentals: Incidentals = Incidentals()) -> Store:  # noqa: B008
    """Room "incidentals": ids 5, 12, 19..., uuid v7, `whsec_` secrets."""
    return proceed(settings, UNUSUAL_INCIDENTALS)


# -- middleware ---------------------------------------------------------------------------

class _Latency:
    def __init__(self, app: ASGIApp, seconds: float) -> None:
        self.app, self.seconds = app, seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await asyncio.sleep(self.seconds)
        await self.app(scope, receive, send)


class _ExtraHeaders:
    def __init__(self, app: ASGIApp, headers: list[tuple[bytes, bytes]]) -> None:
        self.app, self.headers = app, headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_extra(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *self.headers]}
            await send(message)

        await self.app(scope, receive, send_extra)


@variant("latency-50ms").after("middleware")
def _slow(app: Starlette, *_: Any) -> Starlette:
    app.add_middleware(_Latency, seconds=0.05)
    return app


@variant("extra-headers").after("middleware")
def _unrelated_headers(app: Starlette, *_: Any) -> Starlette:
    app.add_middleware(_ExtraHeaders, headers=[(b"x-request-id", b"req-0001"),
                                               (b"server-timing", b"app;dur=1")])
    return app


@variant("gzip").after("middleware")
def _compressed(app: Starlette, *_: Any) -> Starlette:
    """Room "representation": HTTP compression is allowed (from 20 bytes)."""
    app.add_middleware(GZipMiddleware, minimum_size=20)
    return app
