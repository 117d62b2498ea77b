"""The rate-limit governor: pace by the target's headers, wait out 429s, within a budget."""

from __future__ import annotations

import httpx
import pytest

from contract_suite.core.http import ApiClient
from contract_suite.core.ratelimit import RateGovernor, RateLimitBudgetSpent, key_for
from contract_suite.core.reporting import rate_line, rate_summary
from contract_suite.core.target import Target


class Clock:
    """A fake wall clock whose sleep moves time on, so waits cost no real time."""

    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now
        self.slept: list[float] = []

    def wall(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def governor(clock: Clock, budget: float = 600.0) -> RateGovernor:
    return RateGovernor(budget, sleep=clock.sleep, wall=clock.wall)


def test_a_429_is_waited_out_for_its_whole_retry_after_and_sent_again() -> None:
    # The observation: a 200-per-60-s target answers Retry-After: 58; waiting only 30 s
    # in all (the old cap) gave up and reported the 429 as a broken contract.
    clock = Clock()
    answers = iter([(429, {"Retry-After": "58", "X-RateLimit-Limit": "200",
                           "X-RateLimit-Remaining": "0"}),
                    (200, {"X-RateLimit-Limit": "200", "X-RateLimit-Remaining": "199"})])
    rate = governor(clock)
    result = rate.send("k", lambda: next(answers), lambda answer: answer)
    assert result[0] == 200
    assert clock.slept == [58.0]
    assert (rate.rate_limited, rate.waited, rate.limit_seen) == (1, 58.0, 200)


def test_without_retry_after_the_reset_time_says_how_long_to_wait() -> None:
    clock = Clock()
    rate = governor(clock)
    delay = rate.observe("k", 429, {"X-RateLimit-Reset": str(clock.now + 12)})
    assert delay == pytest.approx(12.0)


def test_pacing_waits_for_the_window_once_the_reserve_is_reached() -> None:
    clock = Clock()
    rate = governor(clock)
    rate.observe("k", 200, {"X-RateLimit-Limit": "200", "X-RateLimit-Remaining": "1",
                            "X-RateLimit-Reset": str(clock.now + 20)})
    rate.before("k")
    assert clock.slept == [20.0]
    rate.before("k")  # a new window: nothing known about it yet, so no second wait
    assert clock.slept == [20.0]


def test_pacing_does_not_wait_while_requests_remain_or_for_another_credential() -> None:
    clock = Clock()
    rate = governor(clock)
    rate.observe("k", 200, {"X-RateLimit-Remaining": "150",
                            "X-RateLimit-Reset": str(clock.now + 20)})
    rate.observe("other", 200, {"X-RateLimit-Remaining": "0",
                                "X-RateLimit-Reset": str(clock.now + 20)})
    rate.before("k")
    assert clock.slept == []


def test_waiting_beyond_the_budget_raises_instead_of_sleeping() -> None:
    clock = Clock()
    rate = governor(clock, budget=100.0)
    rate.wait(60.0)
    with pytest.raises(RateLimitBudgetSpent, match="budget of 100 s"):
        rate.wait(60.0)
    assert clock.slept == [60.0] and rate.spent


def test_a_request_still_rate_limited_after_every_retry_is_returned_as_it_is() -> None:
    clock = Clock()
    rate = governor(clock)
    result = rate.send("k", lambda: (429, {"Retry-After": "1"}), lambda answer: answer)
    assert result[0] == 429 and rate.rate_limited == 9


def test_budget_keys_never_hold_the_token() -> None:
    key = key_for("Bearer secret-token-0123456789")
    assert "secret" not in key and key != key_for("Bearer another-token")
    assert key_for(None) == "anonymous"


def test_the_api_client_sends_a_rate_limited_request_again() -> None:
    sent: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(request.url.path)
        if len(sent) == 1:
            return httpx.Response(429, headers={"Retry-After": "0"}, json={"message": "slow"})
        return httpx.Response(200, json={"data": []})

    client = ApiClient(Target(base_url="http://fake", token="main-0123456789"),
                       transport=httpx.MockTransport(answer))
    response = client.request("GET", "/api/v2/webhooks")
    assert response.status_code == 200 and len(sent) == 2 and client.requests_sent == 2


def test_the_summary_line_names_the_limit_the_429s_and_the_wait() -> None:
    clock = Clock()
    rate = governor(clock)
    rate.observe("k", 200, {"X-RateLimit-Limit": "200", "X-RateLimit-Remaining": "5"})
    rate.wait(rate.observe("k", 429, {"Retry-After": "30"}) or 0)
    line = rate_line([rate_summary(rate), {"limit": 200, "rate_limited": 2, "waited": 10.0,
                                           "spent": False}])
    assert line == ("rate limit: X-RateLimit-Limit 200; 3 answer(s) 429 waited out "
                    "(40 s spent waiting, summed over test processes)")
    assert rate_line([{"limit": 200, "rate_limited": 0, "waited": 0.0, "spent": False}]) is None


def test_the_header_says_what_the_limit_means_for_this_profile() -> None:
    from contract_suite.core.profiles import PROFILES
    from contract_suite.core.reporting import rate_header

    assert rate_header(200, PROFILES["staging"]).endswith(
        "profile staging sends ~600 requests: expect ~3.0 windows (~3 min at a window a minute)")
    assert rate_header(100_000, PROFILES["ci"]).endswith("no waiting expected")
