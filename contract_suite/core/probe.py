"""Checks made before any generated request goes out: is this target safe, and does it answer?

`production_refusal` decides from the URL string alone (no DNS lookup, no connection);
`probe_target` sends ONE request (more only to wait out a 429) and turns every way a
target can be wrong (unreachable, TLS, timeout, token refused, redirected, failing with a
5xx, HTML instead of JSON, still rate limited) into one line that says what, where and
how to fix it. What the probe decides is whether the run can start, not whether the
target keeps its contract: a JSON list labelled `text/html` starts the run (the generated
tests' content-type check then fails it), a 429 is waited out (Room "rate-limits").
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from .redact import Secrets, mask
from .target import API_PREFIX

PRODUCTION_HOST = "id.amiqus.co"
PROBE_TIMEOUT = 10.0
# Room "rate-limits": a 429 is correct behaviour, so the probe waits it out, within bounds.
PROBE_429_TRIES = 4  # 429s waited out before the probe gives up (so at most 5 requests)
PROBE_429_WAIT = 60.0  # seconds of waiting, in all, per probe
EXCERPT_CHARS = 80


class ProbeFailure(Exception):
    """The target cannot be tested as given; str() is the one line to show."""


def is_production(base_url: str) -> bool:
    host = (urlsplit(base_url).hostname or "").rstrip(".").lower()
    return host == PRODUCTION_HOST or host.endswith("." + PRODUCTION_HOST)


def production_refusal(base_url: str, *, allow_production: bool, no_writes: bool) -> str | None:
    """Why this run may not touch `base_url`, or None when it may."""
    if not is_production(base_url):
        return None
    if not allow_production:
        return (f"aqid-contracts: {base_url} is the production host; "
                "pass --allow-production --no-writes to run read-only checks against it")
    if not no_writes:
        return (f"aqid-contracts: {base_url} is the production host; "
                "it is only tested with --no-writes (add --no-writes)")
    return None


def url_problem(base_url: str) -> str | None:
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return (f"aqid-contracts: --base-url {base_url!r} is not an http(s)://host[:port] URL")
    if parts.path.rstrip("/").endswith(("/api", "/api/v2")):
        return (f"aqid-contracts: --base-url {base_url!r} must not include /api "
                "(the suite appends /api and /api/v2 itself)")
    return None


@dataclass(frozen=True)
class ProbeResult:
    """What the probe's answer said of the rate limit (None: header absent or unreadable)."""

    rate_limit: int | None = None  # X-RateLimit-Limit
    rate_remaining: int | None = None  # X-RateLimit-Remaining
    rate_reset: float | None = None  # X-RateLimit-Reset, a unix timestamp

    @classmethod
    def from_headers(cls, headers: httpx.Headers) -> ProbeResult:
        return cls(_number(headers.get("x-ratelimit-limit"), int),
                   _number(headers.get("x-ratelimit-remaining"), int),
                   _number(headers.get("x-ratelimit-reset"), float))


def probe_target(
    base_url: str, token: str, *, version: str = "v2", who: str = "--token",
    transport: httpx.BaseTransport | None = None, sleep: Callable[[float], None] = time.sleep,
) -> ProbeResult:
    """GET {base}/api/v2/webhooks?limit=1 (or v1); raise ProbeFailure with one line if unusable.

    Redirects are not followed (httpx' default): a redirect is named, with where it points.
    """
    url = base_url + API_PREFIX[version] + "/webhooks"
    params = {"limit": 1} if version == "v2" else {"per_page": 1}
    where = f"target {base_url}"
    path = API_PREFIX[version] + "/webhooks"
    waited = 0.0
    try:
        with httpx.Client(timeout=PROBE_TIMEOUT, transport=transport,
                          follow_redirects=False) as client:
            for tries in range(PROBE_429_TRIES + 1):
                response = client.get(url, params=params, headers={
                    "Authorization": f"Bearer {token}", "Accept": "application/json"})
                if response.status_code != 429:
                    break
                delay = _retry_delay(response)
                if tries == PROBE_429_TRIES or waited + delay > PROBE_429_WAIT:
                    raise ProbeFailure(
                        f"aqid-contracts: {where} still answered 429 to {who} ({mask(token)}) "
                        f"on GET {path} after {waited:.0f} s of waiting: rate limited: retry "
                        f"after {math.ceil(delay)} s (or use a token with a budget of its own)")
                sleep(delay)
                waited += delay
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
    _judge(response, base_url, token, who=who, path=path)
    return ProbeResult.from_headers(response.headers)


def _judge(response: httpx.Response, base_url: str, token: str, *, who: str, path: str) -> None:
    """Raise ProbeFailure unless the run can start on this answer."""
    status = response.status_code
    where = f"target {base_url}"
    if status == 401:
        raise ProbeFailure(f"aqid-contracts: {where} refused {who} ({mask(token)}) with 401 "
                           f"on GET {path} — check the token")
    if status == 403:
        raise ProbeFailure(f"aqid-contracts: {where} answered 403 to {who} ({mask(token)}) "
                           f"on GET {path} — the token may not list webhooks")
    if 300 <= status < 400:
        raise ProbeFailure(_redirect_line(response, where, path, token))
    if status >= 500:
        raise ProbeFailure(f"aqid-contracts: {where} is failing: GET {path} answered {status}"
                           f"{_excerpt(response, token)} — check the target's logs, or retry "
                           "when it is up")
    content_type = response.headers.get("content-type", "")
    if status == 200:
        try:
            response.json()
            # Parsed: the run starts, whatever the label. A JSON list served as text/html
            # is a broken contract the generated tests report (exit 1), not a wrong target.
            return
        except ValueError:
            pass
        if "json" in content_type:
            raise ProbeFailure(f"aqid-contracts: {where} answered invalid JSON on GET "
                               f"{path} — is --base-url the API host?")
    html = "html" in content_type or response.text.lstrip()[:1] == "<"
    kind = "an HTML page" if html else (content_type or "no content type")
    raise ProbeFailure(f"aqid-contracts: {where} answered {status} with {kind} on GET "
                       f"{path}, not the JSON list — is --base-url the API host (without /api)?")


def _redirect_line(response: httpx.Response, where: str, path: str, token: str) -> str:
    status = response.status_code
    location = response.headers.get("location")
    if not location:
        return (f"aqid-contracts: {where} answered {status} with no Location on GET {path} — "
                "is --base-url the API host (without /api)?")
    target = _one_line(str(response.request.url.join(location)), token)
    parts = urlsplit(target)
    if parts.path.rstrip("/").endswith(path):  # the same API elsewhere: name its base URL
        base = urlunsplit((parts.scheme, parts.netloc,
                           parts.path.rstrip("/")[: -len(path)], "", ""))
        return (f"aqid-contracts: {where} answered {status} redirecting to {target} on GET "
                f"{path} — use {base} as --base-url?")
    return (f"aqid-contracts: {where} answered {status} redirecting to {target} on GET {path} "
            "— use that host as --base-url?")


def _excerpt(response: httpx.Response, token: str) -> str:
    """` ("message")` from a JSON error body, masked and cut short; "" when there is none."""
    try:
        body = response.json()
    except ValueError:
        return ""
    if not isinstance(body, dict):
        return ""
    message = next((body[key] for key in ("message", "error", "detail")
                    if isinstance(body.get(key), str) and body[key].strip()), None)
    if message is None:
        return ""
    text = _one_line(message, token)
    if len(text) > EXCERPT_CHARS:
        text = text[: EXCERPT_CHARS - 1] + "…"
    return f" ({json.dumps(text, ensure_ascii=False)})"


def _one_line(text: str, token: str) -> str:
    return Secrets(token)(" ".join(text.split()))


def _retry_delay(response: httpx.Response) -> float:
    """Seconds a 429 asks to wait: Retry-After, else until X-RateLimit-Reset, else 1."""
    retry_after = _number(response.headers.get("retry-after"), float)
    if retry_after is not None:
        return max(0.0, retry_after)
    reset = _number(response.headers.get("x-ratelimit-reset"), float)
    if reset is not None:
        return max(0.0, reset - time.time())
    return 1.0


def _number(text: str | None, kind: type[int] | type[float]) -> Any:
    if text is None:
        return None
    try:
        value = kind(text.strip())
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _connect_reason(exc: httpx.ConnectError) -> str:
    text = str(exc).lower()
    if "certificate" in text or "ssl" in text or "tls" in text:
        return "TLS handshake failed: " + str(exc).split("]")[-1].strip()[:80]
    if "refused" in text:
        return "connection refused"
    if "name or service" in text or "nodename" in text or "resolution" in text:
        return "host name does not resolve"
    return str(exc)[:80] or "connection failed"
