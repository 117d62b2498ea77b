"""Cleanup: this run's tagged webhooks at session end; any run's via scripts/cleanup.py."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from contract_suite.core.cleanup import delete_webhooks, tagged_webhooks
from contract_suite.core.http import ApiClient
from contract_suite.core.target import Target
from reference_server.launcher import RunningServer, start_reference_server

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "tok-cleanup-3a4b5c6d7e8f9a0b"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RunningServer]:
    with start_reference_server(db_path=tmp_path / "db.sqlite3", tokens={"team-a": TOKEN},
                                rate_limit=1_000_000) as running:
        yield running


@pytest.fixture
def api(server: RunningServer) -> Iterator[ApiClient]:
    client = ApiClient(Target(base_url=server.base_url, token=TOKEN))
    yield client
    client.close()


def create(api: ApiClient, url: str) -> int:
    response = api.request("POST", "/api/v2/webhooks",
                           json={"url": url, "events": ["*"], "is_enabled": False})
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def test_session_cleanup_deletes_this_runs_tagged_and_created_webhooks_only(
        api: ApiClient) -> None:
    ours = Target(base_url="http://unused", token=TOKEN, run_id="run1")
    other_run = Target(base_url="http://unused", token=TOKEN, run_id="run2")
    tagged = [create(api, ours.tagged_url(f"t{i}")) for i in range(3)]
    untagged_created = create(api, "https://hooks.invalid/not-tagged")
    theirs = create(api, other_run.tagged_url("x"))
    result = delete_webhooks(api, "run1", known_ids={untagged_created})
    assert sorted(webhook_id for webhook_id, _ in result.deleted) == sorted(
        [*tagged, untagged_created])
    assert result.errors == []
    assert [webhook_id for webhook_id, _ in tagged_webhooks(api, None)] == [theirs]


def test_the_sweep_walks_every_page(api: ApiClient) -> None:
    run = Target(base_url="http://unused", token=TOKEN, run_id="many")
    ids = {create(api, run.tagged_url(f"n{i}")) for i in range(105)}  # more than one page of 100
    assert {webhook_id for webhook_id, _ in tagged_webhooks(api, "many")} == ids
    assert len(delete_webhooks(api, "many").deleted) == 105


def test_make_cleanup_script_deletes_any_runs_leftovers_and_counts(
        server: RunningServer, api: ApiClient) -> None:
    first = create(api, Target(base_url="x", token=TOKEN, run_id="aaaa").tagged_url())
    second = create(api, Target(base_url="x", token=TOKEN, run_id="bbbb").tagged_url())
    keep = create(api, "https://hooks.invalid/someone-elses")
    result = subprocess.run(
        [sys.executable, "scripts/cleanup.py", "--base-url", server.base_url, "--token", TOKEN],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert f"deleted webhook {first} " in result.stdout
    assert f"deleted webhook {second} " in result.stdout
    assert "deleted 2 tagged webhook(s)" in result.stdout
    assert TOKEN not in result.stdout + result.stderr
    remaining = api.request("GET", "/api/v2/webhooks").json()["data"]
    assert [item["id"] for item in remaining] == [keep]


def test_cleanup_script_refuses_production_without_allow(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "scripts/cleanup.py", "--base-url", "https://id.amiqus.co",
         "--token", TOKEN], cwd=ROOT, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 2 and "production host" in result.stderr
