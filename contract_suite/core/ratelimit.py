"""The run's rate-limit governor: pace by the target's headers, wait out 429s, within a budget.

Brief, Room "Rate limits": any limit is allowed, and a 429 carrying the documented headers is
correct behaviour, never a contract failure; the suite paces itself and waits it out,
cleanup included. Every request the suite sends (schemathesis' generated and stateful
calls, curated contracts, delivery contracts, the probe's successors, cleanup) goes through
one `RateGovernor` per process:

- before a request: if the target's last answer for that token said `X-RateLimit-Remaining`
  is at or below the reserve and its `X-RateLimit-Reset` is still ahead, sleep until then;
- after a 429: wait `Retry-After` (or until `X-RateLimit-Reset`) and send the same request
  again; the 429 itself is never handed to a check.

The budget per user and team lives on the server, so the server's counters coordinate the
xdist workers: each sees the same `Remaining`. All waiting counts against one run budget
(`--rate-limit-budget`); when it is spent, `RateLimitBudgetSpent` is raised and the plugin
reports the test as not run (skipped, with the reason) rather than as a broken contract.
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

DEFAULT_BUDGET = 1800.0  # seconds of waiting per process, in all
DEFAULT_RESERVE = 2  # requests kept in hand: another worker may be sending too
MAX_RETRIES = 8  # 429s answered to one request before it is given up
MIN_WAIT = 0.05  # a Retry-After of 0 still yields: the window may not have turned yet
MAX_SINGLE_WAIT = 3600.0  # a Retry-After beyond an hour is treated as an hour (then budget)


class RateLimitBudgetSpent(Exception):
    """Waiting out the target's rate limit would exceed the run's budget."""


@dataclass
class BudgetState:
    limit: int | None = None  # X-RateLimit-Limit last seen
    remaining: int | None = None  # X-RateLimit-Remaining last seen
    reset_at: float | None = None  # wall-clock time the window turns (X-RateLimit-Reset)


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is None:
        value = headers.get(name.lower())
    if isinstance(value, list):  # schemathesis' Response.headers: name -> [values]
        value = value[0] if value else None
    return None if value is None else str(value).strip()


def _int(text: str | None) -> int | None:
    if text is None:
        return None
    try:
        return int(text)
    except ValueError:
        return None


def _float(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def key_for(authorization: str | None) -> str:
    """A budget key for one credential (the server budgets per user and team): a digest, so
    the governor never holds a token in its state or its repr."""
    if not authorization:
        return "anonymous"
    return hashlib.sha256(authorization.encode()).hexdigest()[:16]


class RateGovernor:
    def __init__(self, budget: float = DEFAULT_BUDGET, *, reserve: int = DEFAULT_RESERVE,
                 sleep: Callable[[float], None] = time.sleep,
                 wall: Callable[[], float] = time.time) -> None:
        self.budget = budget
        self.reserve = reserve
        self._sleep, self._wall = sleep, wall
        self._lock = threading.Lock()
        self._states: dict[str, BudgetState] = {}
        self.waited = 0.0  # seconds spent waiting, in all
        self.rate_limited = 0  # 429 answers seen
        self.spent = False  # the budget ran out at least once

    @property
    def limit_seen(self) -> int | None:
        limits = [s.limit for s in self._states.values() if s.limit is not None]
        return min(limits) if limits else None

    def state(self, key: str) -> BudgetState:
        with self._lock:
            return self._states.setdefault(key, BudgetState())

    def before(self, key: str) -> None:
        """Pace: with the reserve reached and the window's turn known, wait for it."""
        state = self.state(key)
        if state.remaining is None or state.remaining > self.reserve or state.reset_at is None:
            return
        delay = state.reset_at - self._wall()
        if delay > 0:
            self.wait(delay)
            state.remaining = None  # a new window: learn it from the next answer

    def observe(self, key: str, status: int, headers: Mapping[str, str]) -> float | None:
        """Record an answer; for a 429 return how long to wait before sending it again."""
        state = self.state(key)
        limit = _int(_header(headers, "X-RateLimit-Limit"))
        remaining = _int(_header(headers, "X-RateLimit-Remaining"))
        reset = _float(_header(headers, "X-RateLimit-Reset"))
        state.limit = limit if limit is not None else state.limit
        state.remaining = remaining if remaining is not None else state.remaining
        if reset is not None:
            state.reset_at = reset
        if status != 429:
            return None
        self.rate_limited += 1
        retry_after = _float(_header(headers, "Retry-After"))
        if retry_after is None and reset is not None:
            retry_after = reset - self._wall()
        state.remaining = 0
        return max(MIN_WAIT, min(retry_after if retry_after is not None else 1.0,
                                 MAX_SINGLE_WAIT))

    def wait(self, seconds: float) -> None:
        """Sleep `seconds`, charged to the run's budget; raise once the budget is spent."""
        with self._lock:
            if self.waited + seconds > self.budget:
                self.spent = True
                raise RateLimitBudgetSpent(
                    f"the target's rate limit would need {seconds:.0f} s more waiting; this "
                    f"run's budget of {self.budget:.0f} s (--rate-limit-budget) is spent "
                    f"after {self.waited:.0f} s — not a contract failure")
            self.waited += seconds
        self._sleep(seconds)

    def send(self, key: str, send_once: Callable[[], object],
             status_and_headers: Callable[[object], tuple[int, Mapping[str, str]]]) -> object:
        """Send through the governor: pace, send, and on a 429 wait and send again."""
        response = None
        for _ in range(MAX_RETRIES + 1):
            self.before(key)
            response = send_once()
            delay = self.observe(key, *status_and_headers(response))
            if delay is None:
                return response
            self.wait(delay)
        return response  # still 429 after MAX_RETRIES waits: the caller sees it
