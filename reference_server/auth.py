"""Bearer tokens: who is calling (user and team) and whether they may write."""

from __future__ import annotations

from starlette.requests import Request

from reference_server.config import Settings, TokenGrant
from reference_server.responses import forbidden, settings_of, unauthenticated


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
    return None if token is None else settings.grant_for(token)


def authenticate(request: Request) -> TokenGrant:
    """The caller's grant; 401 when the token is missing or unknown."""
    grant = grant_from_header(settings_of(request), request.headers.get("authorization"))
    if grant is None:
        raise unauthenticated()
    return grant


def authenticate_writer(request: Request) -> TokenGrant:
    """As `authenticate`, and 403 for a read-only token: checked before the id is looked up,
    so a read-only caller learns nothing from a write."""
    grant = authenticate(request)
    if grant.read_only:
        raise forbidden()
    return grant
