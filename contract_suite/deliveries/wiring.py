"""The receiver's place in a run: whether the target can reach it, and what it records.

`unreachable_reason(target)` says why the delivery contracts cannot run against a target
that cannot reach this machine's loopback receiver (or None). `exchange_recorder(log)` is
the receiver's `on_request` callback that records every request the receiver answered (an
outbound delivery from the target) in the session's exchange log as kind "delivery", so
whatever judges a run by its exchanges (coverage, differential runs; the session's Secrets
too) sees deliveries beside the API calls. The receiver itself stays independent of
pytest and the session.
"""

from __future__ import annotations

import ipaddress

from ..core.exchanges import Exchange, ExchangeLog, headers_of
from ..core.target import Target
from .receiver import OnRequest, ReceivedRequest

DELIVERY = "delivery"  # the exchange kind (core/exchanges.py)


def unreachable_reason(target: Target) -> str | None:
    """Why the target cannot deliver to the receiver at 127.0.0.1 (None: it can)."""
    if target.receiver_url or target.embedded or _is_loopback(target.host):
        return None
    return (f"delivery contracts: the target {target.base_url} cannot reach this machine's "
            "receiver at 127.0.0.1; pass --receiver-url (a tunnel or an address the target "
            "can reach that forwards to the receiver)")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def delivery_exchange(request: ReceivedRequest, test: str | None) -> Exchange:
    """One received request as an exchange: what the target sent, what the receiver answered.

    `elapsed` is the receiver's programmed delay before it answered (its side of the
    exchange); the response has no headers or body worth keeping (Content-Length: 0).
    """
    return Exchange(DELIVERY, test, request.method, request.url, headers_of(request.headers),
                    request.body or None, request.answered.status, {}, None,
                    request.answered.delay)


def exchange_recorder(log: ExchangeLog) -> OnRequest:
    """The receiver callback: each request, tagged with the test running when it arrived."""
    def record(request: ReceivedRequest) -> None:
        log.record(delivery_exchange(request, log.current_test))

    return record
