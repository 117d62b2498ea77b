"""The open world: on a team that already holds other people's webhooks the suite changes
nothing it did not create, cleans up every team it wrote to, and rides out a rate limit.

Each test runs the real suite against a reference server on loopback with the options a
user or CI would give, in this process (pytester: no interpreter start-up per run; the
engine's state is session-owned), bounded in time.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from reference_server.launcher import RunningServer, start_reference_server

if TYPE_CHECKING:
    from conftest import SuiteResult

TOKEN = "tok-world-main-7c1d2e3f4a5b6c7d"
OTHER_TOKEN = "tok-world-other-0a9b8c7d6e5f4a3b"
TEAMS = {"main": TOKEN, "other": OTHER_TOKEN}

pytestmark = pytest.mark.slow


def start(tmp_path: Path, **options: Any) -> RunningServer:
    options.setdefault("rate_limit", 1_000_000)
    return start_reference_server(db_path=tmp_path / "db.sqlite3",
                                  tokens=[("team-a", TOKEN, False), ("team-b", OTHER_TOKEN, False)],
                                  **options)


Runner = Callable[..., "SuiteResult"]


@pytest.fixture
def run_suite(run_suite_inprocess: Runner) -> Callable[..., SuiteResult]:
    def run(server: RunningServer, *args: str) -> SuiteResult:
        return run_suite_inprocess("--base-url", server.base_url, "--token", TOKEN,
                                   "--other-team-token", OTHER_TOKEN, "--seed", "11", *args)

    return run


def api(server: RunningServer, token: str) -> httpx.Client:
    return httpx.Client(base_url=server.base_url + "/api/v2", timeout=10,
                        headers={"Authorization": f"Bearer {token}"})


def populate(server: RunningServer) -> None:
    """Six webhooks per team, created first on a new store: the ids generation hits first
    (1, 2, 3 …), as on a staging team that has been in use for a while."""
    for index in range(6):
        for token in TEAMS.values():
            with api(server, token) as client:
                response = client.post("/webhooks", json={
                    "url": f"https://hooks.invalid/someone-else/{index}",
                    "events": ["*"] if index % 2 else ["client.*", "record.created"],
                    "is_enabled": index % 3 != 0})
                assert response.status_code == 201, response.text


def get_waiting(client: httpx.Client, path: str, params: dict[str, Any]) -> Any:
    """GET, waiting out a 429 (bounded), for the rate-limited target."""
    for _ in range(10):
        response = client.get(path, params=params)
        if response.status_code != 429:
            assert response.status_code == 200, response.text
            return response.json()
        time.sleep(min(float(response.headers.get("Retry-After", "1")), 5.0))
    raise AssertionError(f"GET {path} stayed rate limited")


def snapshot(server: RunningServer) -> dict[str, dict[int, Any]]:
    """Every webhook of each team, as the API shows it (bounded: a few pages)."""
    seen: dict[str, dict[int, Any]] = {}
    for team, token in TEAMS.items():
        seen[team] = {}
        with api(server, token) as client:
            for page in range(1, 20):
                body = get_waiting(client, "/webhooks", {"page": page, "limit": 100})
                seen[team].update({item["id"]: item for item in body["data"]})
                if page >= body["total_pages"]:
                    break
    return seen


@pytest.fixture
def populated(tmp_path: Path) -> Iterator[tuple[RunningServer, dict[str, dict[int, Any]]]]:
    with start(tmp_path) as server:
        populate(server)
        yield server, snapshot(server)


def test_generated_tests_leave_every_webhook_they_did_not_create_as_it_was(
        populated: tuple[RunningServer, dict[str, dict[int, Any]]],
        run_suite: Runner) -> None:
    # Seen before the write guard: one run deleted 11 of 12 pre-existing webhooks and
    # rewrote others (generated and captured ids name other people's webhooks).
    server, before = populated
    result = run_suite(server, "contracts/test_generated.py", "--profile", "ci")
    assert result.ret == 0, result.stdout[-3000:]
    assert snapshot(server) == before  # same ids, same bodies, same updated_at: nothing left


def test_cleanup_deletes_what_the_run_created_with_the_other_teams_token_after_a_failure(
        tmp_path: Path, run_suite: Runner) -> None:
    # Seen before: an isolation contract failed after the other team had created its
    # webhook, and cleanup (main team only) left it behind.
    with start(tmp_path, faults=("other-team-visible",)) as server:
        result = run_suite(server, "contracts/v2/isolation.contract.yaml", "-p", "no:xdist")
        assert result.ret == 1, result.stdout[-3000:]
        assert "we-never-see-the-other-teams-webhook" in result.stdout
        assert snapshot(server) == {"main": {}, "other": {}}


def test_a_rate_limited_target_is_waited_out_and_cleaned_up_without_a_failure(
        tmp_path: Path, run_suite: Runner) -> None:
    # 30 requests per 3 s per token: the run meets many 429s (each waited out and sent
    # again), cleanup included; none is reported as a broken contract.
    with start(tmp_path, rate_limit=30, rate_window=3) as server:
        result = run_suite(server, "contracts/v2/lifecycle.contract.yaml",
                           "contracts/test_generated.py", "-k", "lifecycle or v2_operation",
                           "--profile", "smoke", "-p", "no:xdist")
        assert result.ret == 0, result.stdout[-3000:]
        assert "rate limit: X-RateLimit-Limit 30;" in result.stdout
        assert " 0 answer(s) 429" not in result.stdout  # the limit was really met
        assert snapshot(server) == {"main": {}, "other": {}}


def test_a_spent_rate_limit_budget_ends_the_run_cut_short_and_still_cleans_up(
        tmp_path: Path, run_suite: Runner) -> None:
    # 8 requests per 10 s and no time to wait: the contracts that meet the limit are not
    # run (skipped, "rate limited"), none fails, the run ends with exit 2 (cut short), and
    # cleanup, on its own budget, still deletes what was created.
    with start(tmp_path, rate_limit=8, rate_window=10) as server:
        result = run_suite(server, "contracts/v2/lifecycle.contract.yaml", "-p", "no:xdist",
                           "--rate-limit-budget", "0")
        assert result.ret == 2, result.stdout[-3000:]
        assert "rate limited: " in result.stdout and " failed" not in result.stdout
        assert "the --rate-limit-budget ran out" in result.stdout
        assert snapshot(server) == {"main": {}, "other": {}}


def test_a_team_holding_unusual_but_allowed_webhooks_raises_no_false_alarm(
        tmp_path: Path, run_suite: Runner) -> None:
    # Seen before the room: a stored 2,051-character URL failed the generated list test
    # and then every curated contract that walks a list; a server refusing pages past
    # 2**31-1 with 422 failed "schema-valid request rejected". Here the team holds 130
    # webhooks with such values (long, IPv6, user-info, upper-case URLs, id gaps, logs) and
    # the server takes the other side of the page, path-id and URL-length room.
    variants = ("prepopulated-unusual", "page-beyond-int32-refused", "huge-path-id-refused",
                "url-length-capped-255")
    with start(tmp_path, variants=variants) as server:
        before = snapshot(server)
        result = run_suite(server, "contracts/v1", "contracts/v2", "contracts/cross-version",
                           "contracts/test_generated.py", "--profile", "smoke")
        assert result.ret == 0, result.stdout[-3000:]
        assert snapshot(server) == before
