"""How much the generated tests do: one named profile per use (smoke, staging, ci, thorough).

`max_examples` bounds only the fuzzing phase; the coverage phase adds its own cases on
top (SCHEMATHESIS-NOTES trap 7), so the smoke profile turns coverage off to stay small.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Profile:
    name: str
    max_examples: int  # fuzzing cases per operation
    coverage: bool  # the deterministic boundary / negative-value phase
    stateful: bool  # sequences through the spec's links
    stateful_examples: int  # scenarios per state machine
    stateful_max_steps: int
    purpose: str
    approx_requests: int = 0  # requests a run sends in all, measured on the embedded server


PROFILES: dict[str, Profile] = {
    profile.name: profile
    for profile in (
        Profile("smoke", max_examples=5, coverage=False, stateful=False, stateful_examples=0,
                stateful_max_steps=0, purpose="a quick sanity pass, well under a minute",
                approx_requests=570),
        # Sized for a staging host with the upstream example's limit (200 requests a minute,
        # brief Room "rate-limits"): ~800 requests in all, so a run is a few minutes of
        # windows; curated and delivery contracts run in full, generation is trimmed.
        Profile("staging", max_examples=10, coverage=False, stateful=True, stateful_examples=3,
                stateful_max_steps=4, purpose="a rate-limited staging host: a few minutes at "
                                              "200 requests a minute", approx_requests=600),
        Profile("ci", max_examples=30, coverage=True, stateful=True, stateful_examples=15,
                stateful_max_steps=6, purpose="a CI gate: a couple of minutes on 2 cores",
                approx_requests=1700),
        Profile("thorough", max_examples=200, coverage=True, stateful=True,
                stateful_examples=100, stateful_max_steps=10, purpose="nightly, deep"),
    )
}
