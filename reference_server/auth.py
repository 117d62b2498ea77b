"""Bearer tokens: who is calling (user and team) and whether they may write."""

from __future__ import annotations

from starlette.requests import Request

from reference_server import webhooks
from reference_server.config import Settings, TokenGrant
from reference_server.responses import (
    forbidden,
    settings_of,
    unauthenticated,
    webhook_not_found,
)


def bearer_token(authorization: str | None) -> str | None:
    """The token in `Authorization: Bearer <token>`, or None (scheme is case-insensitive)."""
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return None
    return token


def grant_from_header(settings: Settings, authorization: str | None) -> TokenGrant | None:
    token = bearer_token(authorization)
    if token is None:
        return None
    grant = settings.grant_for(token)
    if grant is None and settings.tokens and settings.has_fault("invalid-token-accepted"):
        return settings.tokens[0]
    return grant


def authenticate(request: Request) -> TokenGrant:
    """The caller's grant; 401 when the token is missing or unknown."""
    settings = settings_of(request)
    grant = grant_from_header(settings, request.headers.get("authorization"))
    if grant is None:
        if "id" in request.path_params and settings.has_fault("auth-after-lookup"):
            _look_up_before_auth(request)
        raise unauthenticated()
    return grant


def _look_up_before_auth(request: Request) -> None:
    """Only for the auth-after-lookup fault: an unknown id answers 404 before any 401."""
    if webhooks.store_of(request).get_webhook(webhooks.webhook_id(request), None) is None:
        raise webhook_not_found()


def authenticate_writer(request: Request) -> TokenGrant:
    """As `authenticate`, and 403 for a read-only token: checked before the id is looked up,
    so a read-only caller learns nothing from a write."""
    grant = authenticate(request)
    if grant.read_only and not settings_of(request).has_fault("read-only-can-write"):
        raise forbidden()
    return grant
