"""Bearer tokens: who is calling (user and team) and whether they may write."""

from __future__ import annotations

from starlette.requests import Request

from reference_server.config import Settings, TokenGrant
from reference_server.responses import forbidden, settings_of, unauthenticated
from reference_server.seams import seam


def bearer_token(authorization: str | None) -> str | None:
    """The token in `Authorization: Bearer <token>`, or None (scheme is case-insensitive)."""
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return None
    return token


@seam("grant")
def grant_from_header(settings: Settings, authorization: str | None) -> TokenGrant | None:
    token = bearer_token(authorization)
    return None if token is None else settings.grant_for(token)


@seam("authentication")
def authenticate(request: Request, *, write: bool = False) -> TokenGrant:
    """The caller's grant; 401 when the token is missing or unknown. With `write`, also 403
    for a read-only token: checked before the id is looked up, so a read-only caller learns
    nothing from a write."""
    grant = grant_from_header(settings_of(request), request.headers.get("authorization"))
    if grant is None:
        raise unauthenticated()
    if write and grant.read_only:
        raise forbidden()
    return grant


def authenticate_writer(request: Request) -> TokenGrant:
    return authenticate(request, write=True)
