"""Custom schemathesis checks, for what the brief demands beyond the built-in checks.

Registered with `@schemathesis.check`, so they run on every generated and stateful call
next to the built-ins and appear by name in failures. Both judge only requests that
carried the run's own token: a request schemathesis sent without auth (or with a
generated bad token) belongs to the built-in auth checks.
"""

from __future__ import annotations

import schemathesis
from schemathesis import Case, CheckContext, Response

RATE_LIMIT_HEADERS = ("X-RateLimit-Limit", "X-RateLimit-Remaining")


def _sent_our_token(response: Response, case: Case) -> bool:
    """Whether the request carried the run's token: the one its schema was configured with
    (generated/wiring.py puts it in the schema's `headers`), so no state of our own."""
    ours = (case.operation.schema.config.headers or {}).get("Authorization")
    sent = response.request.headers.get("Authorization")
    return ours is not None and sent == ours


def _header(response: Response, name: str) -> str | None:
    values = response.headers.get(name.lower()) or response.headers.get(name)
    if values is None:
        return None
    return values[0] if isinstance(values, list) else str(values)


@schemathesis.check
def token_accepted(ctx: CheckContext, response: Response, case: Case) -> bool | None:
    """A 401 to a request carrying the run's token: the token the probe accepted is refused.

    401 is documented on every operation, so status/schema checks pass it silently
    (SCHEMATHESIS-NOTES trap 3): a wrong token would turn the whole run into a green
    list of 401s. This makes each such answer a failure.
    """
    if response.status_code == 401 and _sent_our_token(response, case):
        raise AssertionError(
            "Received 401 to a request carrying the run's token\n"
            "Documented: 401 only for a missing or invalid token (the probe accepted this one)")
    return None


@schemathesis.check
def rate_limit_headers_present(ctx: CheckContext, response: Response, case: Case) -> bool | None:
    """Every authenticated answer carries X-RateLimit-Limit/Remaining; a 429 also Retry-After.

    Only for requests with the run's token: the budget is per user and team, and a
    request with no or an unknown token identifies neither.
    """
    if not _sent_our_token(response, case):
        return None
    expected = list(RATE_LIMIT_HEADERS) + (["Retry-After"] if response.status_code == 429 else [])
    problems = []
    for name in expected:
        value = _header(response, name)
        if value is None:
            problems.append(f"{name} missing")
        elif not value.strip().isdigit():
            problems.append(f"{name} = {value!r} is not a non-negative integer")
    if problems:
        raise AssertionError(
            f"Received {response.status_code} with " + "; ".join(problems) + "\n"
            f"Documented: every response carries {', '.join(expected)}")
    return None
