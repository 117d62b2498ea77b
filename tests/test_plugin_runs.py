"""Runs of the real suite (contracts/test_generated.py), bounded, loopback only.

Each run is `pytest` with the options a user or CI would give, in this process (pytester:
the engine's state is session-owned, so runs do not leak into each other), except where
a fresh process is the point (which modules a run imports); targets are the embedded
server or reference servers started here through the launcher.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from contract_suite.core.cleanup import tagged_webhooks
from contract_suite.core.http import ApiClient
from contract_suite.core.target import Target
from reference_server.launcher import RunningServer, start_reference_server

if TYPE_CHECKING:
    from conftest import SuiteResult

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "tok-main-5f2a9c0d8e7b6a1f3c4d"
OTHER_TOKEN = "tok-other-9e8d7c6b5a4f3e2d1c0b"
READ_ONLY_TOKEN = "tok-read-1a2b3c4d5e6f7a8b9c0d"
RUN_TIMEOUT = 300
FULL_SECRET = re.compile(r'"secret"\s*:\s*"[0-9a-f]{32,}"')

pytestmark = pytest.mark.slow


Runner = Callable[..., "SuiteResult"]


@pytest.fixture
def run_suite(run_suite_inprocess: Callable[..., SuiteResult], monkeypatch: pytest.MonkeyPatch
              ) -> Callable[..., SuiteResult]:
    """`pytest <paths> --profile smoke <args>` in this process, with `env` added."""
    def run(*args: str, env: dict[str, str] | None = None,
            paths: tuple[str, ...] = ("contracts/test_generated.py",)) -> SuiteResult:
        for name, value in (env or {}).items():
            monkeypatch.setenv(name, value)
        return run_suite_inprocess(*paths, "--profile", "smoke", *args)

    return run


def _server(tmp_path: Path, faults: tuple[str, ...] = ()) -> RunningServer:
    return start_reference_server(db_path=tmp_path / "db.sqlite3",
                                  tokens=[("team-a", TOKEN, False), ("team-b", OTHER_TOKEN, False),
                                          ("team-a", READ_ONLY_TOKEN, True)],
                                  faults=faults, rate_limit=1_000_000)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RunningServer]:
    with _server(tmp_path) as running:
        yield running


@pytest.fixture
def faulty_server(tmp_path: Path) -> Iterator[RunningServer]:
    with _server(tmp_path, faults=("v2-create-returns-200",)) as running:
        yield running


def target_args(server: RunningServer) -> list[str]:
    return ["--base-url", server.base_url, "--token", TOKEN, "--other-team-token", OTHER_TOKEN,
            "--read-only-token", READ_ONLY_TOKEN]


def tagged_left(server: RunningServer) -> list[tuple[int, str]]:
    api = ApiClient(Target(base_url=server.base_url, token=TOKEN))
    try:
        return list(tagged_webhooks(api, None))
    finally:
        api.close()


def assert_no_secret_in(*texts: str) -> None:
    for text in texts:
        assert TOKEN not in text and OTHER_TOKEN not in text and READ_ONLY_TOKEN not in text
        assert not FULL_SECRET.search(text)


def test_a_passing_run_masks_tokens_and_leaves_no_tagged_webhooks(
        server: RunningServer, tmp_path: Path, run_suite: Runner) -> None:
    junit = tmp_path / "junit.xml"
    result = run_suite(*target_args(server), f"--junitxml={junit}")
    assert result.ret == 0, result.stdout[-3000:]
    assert "(given by --base-url)" in result.stdout and "read-only tok-…" in result.stdout
    assert_no_secret_in(result.stdout, result.stderr, junit.read_text())
    assert tagged_left(server) == []


def test_a_fault_fails_naming_operation_and_check_and_is_cleaned_up(
        faulty_server: RunningServer, tmp_path: Path, run_suite: Runner) -> None:
    junit = tmp_path / "junit.xml"
    result = run_suite(*target_args(faulty_server), f"--junitxml={junit}")
    assert result.ret == 1
    assert "FAIL v2 POST /webhooks" in result.stdout
    assert "status_code_conformance: Undocumented status code" in result.stdout
    assert "Received: 200" in result.stdout and "reproduce: curl -X POST" in result.stdout
    assert "Authorization: [Filtered]" in result.stdout
    junit_text = junit.read_text()
    assert 'name="test_v2_operation[POST /webhooks]"' in junit_text
    assert_no_secret_in(result.stdout, result.stderr, junit_text)
    assert tagged_left(faulty_server) == []


def test_an_unreachable_target_ends_the_run_with_one_line(run_suite: Runner) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = run_suite("--base-url", f"http://127.0.0.1:{port}", "--token", TOKEN)
    assert result.ret == 4
    lines = [line for line in result.stderr.splitlines() if "aqid-contracts" in line]
    assert lines == [f"ERROR: aqid-contracts: target http://127.0.0.1:{port} is unreachable "
                     "(connection refused) — check --base-url"]
    assert "Traceback" not in result.stderr + result.stdout


def test_a_wrong_token_ends_the_run_with_one_line(server: RunningServer, run_suite: Runner) -> None:
    result = run_suite("--base-url", server.base_url, "--token", "wrong-token-000000000000")
    assert result.ret == 4
    assert "refused --token (wron…) with 401" in result.stderr
    assert "wrong-token-000000000000" not in result.stderr + result.stdout


def test_a_refused_read_only_token_ends_the_run_with_one_line(
        server: RunningServer, run_suite: Runner) -> None:
    result = run_suite(*target_args(server), "--read-only-token", "wrong-read-only-00000000")
    assert result.ret == 4
    lines = [line for line in result.stderr.splitlines() if "aqid-contracts" in line]
    assert lines == [f"ERROR: aqid-contracts: target {server.base_url} refused --read-only-token "
                     "(wron…) with 401 on GET /api/v2/webhooks — check the token"]
    assert "wrong-read-only-00000000" not in result.stderr + result.stdout


@pytest.mark.parametrize(("extra", "needed"), [((), "--allow-production --no-writes"),
                                               (("--allow-production",), "add --no-writes")])
def test_the_production_host_is_refused_before_any_connection(
        extra: tuple[str, ...], needed: str, run_suite: Runner) -> None:
    # A proxy on a closed loopback port: had the suite tried to connect, it would say so.
    env = {"HTTPS_PROXY": "http://127.0.0.1:9", "ALL_PROXY": "http://127.0.0.1:9"}
    result = run_suite("--base-url", "https://id.amiqus.co", "--token", TOKEN, *extra,
                       env=env)
    assert result.ret == 4
    assert "is the production host" in result.stderr and needed in result.stderr
    assert "unreachable" not in result.stderr


def test_default_runs_target_the_embedded_server_pass_and_repeat_with_a_seed(
        tmp_path: Path, run_suite: Runner) -> None:
    logs = []
    for attempt in (1, 2):
        log = tmp_path / f"cases-{attempt}.jsonl"
        # AQID_BASE_URL empty, as `make contract` exports it: the embedded server is started.
        result = run_suite("--seed", "4242",
                           env={"AQID_CASE_LOG": str(log), "AQID_BASE_URL": ""})
        assert result.ret == 0, result.stdout[-3000:] + result.stderr[-2000:]
        assert re.search(r"target: http://127\.0\.0\.1:\d+ \(embedded reference server\)",
                         result.stdout)
        assert "seed: 4242" in result.stdout and re.search(r"requests sent: \d+", result.stdout)
        assert "ok   v2 POST /webhooks" in result.stdout
        logs.append([json.loads(line) for line in log.read_text().splitlines()])
    assert len(logs[0]) > 20
    assert logs[0] == logs[1]


def test_read_only_and_api_version_deselect_writes_and_the_other_version(
        server: RunningServer, run_suite: Runner) -> None:
    result = run_suite(*target_args(server), "--no-writes", "--api-version", "v1",
                       "--collect-only", "-q")
    assert result.ret == 0, result.stdout[-2000:]
    collected = [line.split("::", 1)[1] for line in result.stdout.splitlines() if "::" in line]
    assert collected == ["test_v1_operation[GET /webhooks]",
                         "test_v1_operation[GET /webhooks/{id}/deliveries]"]


@pytest.mark.parametrize(("version", "kept"), [
    ("v1", ["contracts/v1/lifecycle.contract.yaml::create-list-update-delete"]),
    ("v2", ["contracts/v2/lifecycle.contract.yaml::create-retrieve-update-list-delete"]),
    ("both", ["contracts/cross-version/two-views.contract.yaml::created-in-v1-read-in-v2",
              "contracts/v1/lifecycle.contract.yaml::create-list-update-delete",
              "contracts/v2/lifecycle.contract.yaml::create-retrieve-update-list-delete"]),
])
def test_api_version_keeps_only_items_whose_every_version_is_selected(
        server: RunningServer, run_suite: Runner, version: str, kept: list[str]) -> None:
    # A cross-version item is marked v1 and v2: under one version it is deselected, not run.
    paths = ("contracts/cross-version/two-views.contract.yaml::created-in-v1-read-in-v2",
             "contracts/v1/lifecycle.contract.yaml::create-list-update-delete",
             "contracts/v2/lifecycle.contract.yaml::create-retrieve-update-list-delete")
    result = run_suite(*target_args(server), "--api-version", version, "--collect-only", "-q",
                       paths=paths)
    assert result.ret == 0, result.stdout[-2000:] + result.stderr[-2000:]
    collected = [line for line in result.stdout.splitlines() if "::" in line]
    assert collected == kept, result.stdout[-3000:]


# Runs pytest in-process and then reports whether the schemathesis set-up was loaded.
_REPORT_GENERATED = """\
import sys, pytest
status = pytest.main(sys.argv[1:])
print("GENERATED LOADED:", "contract_suite.generated.wiring" in sys.modules,
      "schemathesis.specs.openapi.schemas" in sys.modules)
sys.exit(status)
"""


@pytest.mark.parametrize(("paths", "loaded", "generated_items"), [
    (("contracts/v2/lifecycle.contract.yaml",), False, 0),
    (("contracts/v2/lifecycle.contract.yaml", "contracts/test_generated.py"), True, 13),
])
def test_schemathesis_is_set_up_only_when_the_generated_tests_are_collected(
        server: RunningServer, paths: tuple[str, ...], loaded: bool,
        generated_items: int) -> None:
    # Start-up cost (SCHEMATHESIS-NOTES trap 13): curated-only runs skip the spec loading.
    # A fresh process, as what a run imports is the point (the second case is the control).
    clean_env = {k: v for k, v in os.environ.items() if not k.startswith("AQID_")}
    result = subprocess.run(
        [sys.executable, "-c", _REPORT_GENERATED, *paths, "--collect-only", "-q",
         "-p", "no:cacheprovider", *target_args(server)],
        cwd=ROOT, env=clean_env, capture_output=True, text=True, timeout=RUN_TIMEOUT,
        check=False)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert f"GENERATED LOADED: {loaded} {loaded}" in result.stdout, result.stdout[-2000:]
    items = [line for line in result.stdout.splitlines() if "test_generated.py::" in line]
    assert len(items) == generated_items  # one per operation (11) and per stateful machine (2)
