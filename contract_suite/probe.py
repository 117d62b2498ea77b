"""Checks made before any generated request goes out: is this target safe, and does it answer?

`production_refusal` decides from the URL string alone (no DNS lookup, no connection);
`probe_target` sends ONE request and turns every way a target can be wrong (unreachable,
TLS, timeout, token refused, HTML instead of JSON) into one line that says what and where.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx

from .redact import mask
from .target import API_PREFIX

PRODUCTION_HOST = "id.amiqus.co"
PROBE_TIMEOUT = 10.0


class ProbeFailure(Exception):
    """The target cannot be tested as given; str() is the one line to show."""


def is_production(base_url: str) -> bool:
    host = (urlsplit(base_url).hostname or "").rstrip(".").lower()
    return host == PRODUCTION_HOST or host.endswith("." + PRODUCTION_HOST)


def production_refusal(base_url: str, *, allow_production: bool, read_only: bool) -> str | None:
    """Why this run may not touch `base_url`, or None when it may."""
    if not is_production(base_url):
        return None
    if not allow_production:
        return (f"aqid-contracts: {base_url} is the production host; "
                "pass --allow-production --read-only to run read-only checks against it")
    if not read_only:
        return (f"aqid-contracts: {base_url} is the production host; "
                "it is only tested with --read-only (add --read-only)")
    return None


def url_problem(base_url: str) -> str | None:
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return (f"aqid-contracts: --base-url {base_url!r} is not an http(s)://host[:port] URL")
    if parts.path.rstrip("/").endswith(("/api", "/api/v2")):
        return (f"aqid-contracts: --base-url {base_url!r} must not include /api "
                "(the suite appends /api and /api/v2 itself)")
    return None


def probe_target(
    base_url: str, token: str, *, version: str = "v2", who: str = "--token",
    transport: httpx.BaseTransport | None = None,
) -> None:
    """GET {base}/api/v2/webhooks?limit=1 (or v1); raise ProbeFailure with one line if unusable."""
    url = base_url + API_PREFIX[version] + "/webhooks"
    params = {"limit": 1} if version == "v2" else {"per_page": 1}
    where = f"target {base_url}"
    path = API_PREFIX[version] + "/webhooks"
    try:
        with httpx.Client(timeout=PROBE_TIMEOUT, transport=transport) as client:
            response = client.get(url, params=params, headers={
                "Authorization": f"Bearer {token}", "Accept": "application/json"})
    except httpx.ConnectError as exc:
        reason = _connect_reason(exc)
        raise ProbeFailure(
            f"aqid-contracts: {where} is unreachable ({reason}) — check --base-url") from None
    except httpx.TimeoutException:
        raise ProbeFailure(f"aqid-contracts: {where} did not answer within {PROBE_TIMEOUT:.0f} s "
                           "— check --base-url") from None
    except httpx.HTTPError as exc:
        raise ProbeFailure(f"aqid-contracts: {where} failed: {type(exc).__name__} "
                           "— check --base-url") from None
    status = response.status_code
    if status == 401:
        raise ProbeFailure(f"aqid-contracts: {where} refused {who} ({mask(token)}) with 401 "
                           f"on GET {path} — check the token")
    if status == 403:
        raise ProbeFailure(f"aqid-contracts: {where} answered 403 to {who} ({mask(token)}) "
                           f"on GET {path} — the token may not list webhooks")
    content_type = response.headers.get("content-type", "")
    if status != 200 or "json" not in content_type:
        kind = "an HTML page" if "html" in content_type else f"{content_type or 'no content type'}"
        raise ProbeFailure(f"aqid-contracts: {where} answered {status} with {kind} on GET "
                           f"{path}, not the JSON list — "
                           "is --base-url the API host (without /api)?")
    try:
        response.json()
    except ValueError:
        raise ProbeFailure(f"aqid-contracts: {where} answered invalid JSON on GET "
                           f"{path} — is --base-url the API host?") from None


def _connect_reason(exc: httpx.ConnectError) -> str:
    text = str(exc).lower()
    if "certificate" in text or "ssl" in text or "tls" in text:
        return "TLS handshake failed: " + str(exc).split("]")[-1].strip()[:80]
    if "refused" in text:
        return "connection refused"
    if "name or service" in text or "nodename" in text or "resolution" in text:
        return "host name does not resolve"
    return str(exc)[:80] or "connection failed"
