"""Error answers, JSON rendering, rate limiting: what every response may carry."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Message

from reference_server import webhooks
from reference_server.auth import authenticate
from reference_server.config import Settings
from reference_server.ratelimit import RateLimitPolicy
from reference_server.representations import webhook_v2
from reference_server.responses import ApiError, json_response, settings_of
from reference_server.seams import fault, variant

# -- error bodies and status codes --------------------------------------------------------

@fault("unauthenticated-body-wrong").after("error")
def _laravel_401(error: ApiError, request: Request, *_: Any) -> ApiError:
    if error.status != 401:
        return error
    return ApiError(401, {"message": "Unauthenticated."}, error.headers)


@fault("validation-errors-unnamed").after("error")
def _unnamed_422(error: ApiError, request: Request, *_: Any) -> ApiError:
    if error.status != 422:
        return error
    return ApiError(422, {"message": ["The given data was invalid."]}, error.headers)


@fault("validation-422-as-400").after("error")
def _validation_400(error: ApiError, request: Request, *_: Any) -> ApiError:
    return ApiError(400, error.body, error.headers) if error.status == 422 else error


other_wording = variant("other-wording")


@other_wording.after("error")
def _reworded(error: ApiError, request: Request, *_: Any) -> ApiError:
    """Room "incidentals": message wording is free where the brief quotes none (422 field
    messages, the 413 reason); the 401, 403 and 404 bodies are quoted, so they stay."""
    if error.status == 422:
        return ApiError(422, {path: [f"Invalid value ({index + 1} of {len(messages)})."
                                     for index in range(len(messages))]
                              for path, messages in error.body.items()}, error.headers)
    if error.status == 413:
        return ApiError(413, {"error": "Payload Too Large"}, error.headers)
    return error


@other_wording.after("rate limit")
def _reworded_429(policy: RateLimitPolicy, settings: Settings) -> RateLimitPolicy:
    return replace(policy, message="Slow down.")


@fault("unknown-route-wrong-body").after("routing error")
def _not_found_message(error: ApiError, request: Request, *_: Any) -> ApiError:
    if error.status != 404:
        return error
    return ApiError(404, {"message": "Not Found"}, error.headers)


@fault("405-without-allow").after("routing error")
def _no_allow(error: ApiError, request: Request, *_: Any) -> ApiError:
    headers = {name: value for name, value in error.headers.items() if name != "Allow"}
    return ApiError(error.status, error.body, headers)


# -- rate limits --------------------------------------------------------------------------

@fault("ratelimit-headers-missing-on-errors").around("rate limit headers")
def _bare_errors(proceed: Any, middleware: Any, start: Message,
                 limit_headers: list[tuple[bytes, bytes]]) -> Message:
    return start if start["status"] >= 400 else proceed(middleware, start, limit_headers)


@variant("rate-limited-200").after("rate limit")
def _upstream_budget(policy: RateLimitPolicy, settings: Settings) -> RateLimitPolicy:
    """The upstream example, X-RateLimit-Limit: 200 a minute, whatever the options say."""
    return replace(policy, limit=200, window=60.0)


# -- JSON ---------------------------------------------------------------------------------

def _reverse_keys(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _reverse_keys(value[key]) for key in reversed(list(value))}
    if isinstance(value, list):
        return [_reverse_keys(item) for item in value]
    return value


@variant("reordered-keys").around("json")
def _keys_reversed(proceed: Any, payload: Any, settings: Settings) -> bytes:
    return proceed(_reverse_keys(payload), settings)


@variant("json-charset").after("media type")
def _with_charset(media_type: str, settings: Settings) -> str:
    return "application/json; charset=UTF-8"


# -- status codes of whole operations -----------------------------------------------------

@fault("v2-create-returns-200").after("v2 create")
def _created_200(response: Response, request: Request) -> Response:
    response.status_code = 200
    return response


@fault("v2-delete-returns-200-with-body").around("v2 delete")
async def _deleted_200_with_body(proceed: Any, request: Request) -> Response:
    hook = webhooks.find(request, authenticate(request, write=True))  # 401/403/404 as usual
    await proceed(request)
    return json_response(request, webhook_v2(hook, settings_of(request)))


@fault("v1-delete-returns-204").after("v1 delete")
def _deleted_204(response: Response, request: Request) -> Response:
    return Response(status_code=204)
