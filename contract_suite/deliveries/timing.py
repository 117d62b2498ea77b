"""How long the delivery contracts wait: the target's delivery settings, turned into waits.

`DeliveryTiming` holds the target's own schedule (GET /_sandbox: retry_delays, timeout,
disable_after; the brief's production values when there is no sandbox) and derives every
bounded wait from it: how long a payload's attempts may take, when a first delivery is
late, how far apart to poll the target. The constants here are the bounds every wait and
poll loop in deliveries/ keeps to.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# The brief's production schedule, used when the target does not say (no sandbox).
PRODUCTION_SETTINGS = {"retry_delays": [60, 120, 600, 900], "timeout": 5, "disable_after": 10}
SLACK = 5.0  # seconds added to every wait: a busy target under -n 2 is slow, not wrong
SETTLE = 1.0  # seconds to watch for deliveries that must NOT come (duplicates, misroutes)
MIN_POLL = 0.2  # seconds between two polls of the target, at least (rate limits)
MAX_POLL = 2.0  # ... and at most, so a slow schedule still polls a few times in SLACK
MAX_POLLS = 60  # requests one poll loop may send, whatever the time allows
# Longest one delivery contract may wait for the target's schedule. The brief's production
# schedule (retries after 60, 120, 600, 900 s) would hold a run for half an hour: such a
# contract skips, saying so, where a target with short delays (the reference server's
# --retry-delays, the embedded one's) runs it in seconds.
MAX_WAIT = 120.0


class UnusableSettings(ValueError):
    """GET /_sandbox answered without the delivery settings the waits are derived from."""


@dataclass(frozen=True)
class DeliveryTiming:
    """The target's delivery settings and the waits derived from them."""

    retry_delays: tuple[float, ...]
    timeout: float
    disable_after: int

    @classmethod
    def from_settings(cls, settings: dict[str, Any] | None) -> DeliveryTiming:
        """From the sandbox's settings; the brief's production ones when there are none."""
        settings = PRODUCTION_SETTINGS if settings is None else settings
        try:
            return cls(tuple(float(d) for d in settings["retry_delays"]),
                       float(settings["timeout"]), int(settings["disable_after"]))
        except (KeyError, TypeError, ValueError):
            raise UnusableSettings(
                f"GET /_sandbox answered 200 without usable delivery settings: {settings}"
            ) from None

    @property
    def attempts(self) -> int:
        return 1 + len(self.retry_delays)

    def schedule(self, attempts: int, *, slow_answers: bool = False) -> float:
        """Longest a payload's first `attempts` attempts may take, with slack.

        The receiver answers at once unless told otherwise; with `slow_answers` every
        attempt may also last up to the target's timeout.
        """
        answering = attempts * self.timeout if slow_answers else 0.0
        return sum(self.retry_delays[: attempts - 1]) + answering + SLACK

    def beyond_reach(self, seconds: float, what: str) -> str | None:
        """Why a contract that must wait `seconds` for `what` skips, or None when it fits."""
        if seconds <= MAX_WAIT:
            return None
        return (f"{what} takes {seconds:.0f} s with this target's retry_delays="
                f"{list(self.retry_delays)}, beyond the {MAX_WAIT:.0f} s a delivery contract "
                "waits: run it against a target with short delays (the reference server's "
                "--retry-delays)")

    @property
    def first_arrival(self) -> float:
        return self.timeout + SLACK

    @property
    def poll_interval(self) -> float:
        """Seconds between polls of the target: half the shortest retry delay, bounded.

        Room "rate-limits": polls are spaced (never under MIN_POLL) and counted (MAX_POLLS).
        """
        shortest = min(self.retry_delays, default=self.timeout)
        return min(max(MIN_POLL, shortest / 2), MAX_POLL)
