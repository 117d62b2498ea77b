"""JSON responses and the error bodies both versions share."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from reference_server.config import Settings
from reference_server.seams import seam


@seam("json")
def render_json(payload: Any, settings: Settings) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


@seam("media type")
def json_media_type(settings: Settings) -> str:
    """Room "representation": Content-Type parameters and case are free."""
    return "application/json"


def settings_of(request: Request) -> Settings:
    return request.app.state.settings


def json_response(request: Request, payload: Any, status: int = 200,
                  headers: dict[str, str] | None = None) -> Response:
    settings = settings_of(request)
    return Response(render_json(payload, settings), status_code=status, headers=headers,
                    media_type=json_media_type(settings))


class ApiError(Exception):
    """Raised anywhere in a handler; the app turns it into its JSON error response."""

    def __init__(self, status: int, body: dict[str, Any],
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(status, body)
        self.status, self.body, self.headers = status, body, headers or {}


def unauthenticated() -> ApiError:
    return ApiError(401, {"error": "Unauthenticated."})


def forbidden() -> ApiError:
    return ApiError(403, {"message": "This action is unauthorized."})


def webhook_not_found() -> ApiError:
    return ApiError(404, {"error": "Webhook not found"})


def route_not_found() -> ApiError:
    return ApiError(404, {"error": "Not Found."})


def invalid(errors: dict[str, list[str]]) -> ApiError:
    """422: each bad field path mapped to a non-empty list of messages."""
    return ApiError(422, errors)


def too_large(limit: int) -> ApiError:
    return ApiError(413, {"error": f"The request body must not be larger than {limit} bytes."})
