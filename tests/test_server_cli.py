"""The command line and the launcher: a real process on a real socket."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import httpx
import pytest

from reference_server.faults import FAULTS, VARIANTS
from reference_server.launcher import ServerStartError, start_reference_server
from reference_server.signing import verify
from tests.server_helpers import SAFE_URL, receiver

TOKENS = {"team-a": "cli-token-a-123456", "team-b": "cli-token-b-654321"}
AUTH = {"Authorization": f"Bearer {TOKENS['team-a']}"}


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "reference_server", *args], capture_output=True,
                          text=True, timeout=30, cwd=cwd)


@pytest.mark.parametrize("args,needle", [(["--token", "no-colon"], "--token"),
                                         (["--token", "team:tok:rw"], "--token"),
                                         (["--fault", "nope"], "unknown fault 'nope'"),
                                         (["--variant", "nope"], "unknown variant"),
                                         (["--retry-delays", "1,x"], "--retry-delays"),
                                         (["--rate-limit", "0"], "must be > 0")])
def test_bad_command_line_is_one_line_and_exit_2(args: list[str], needle: str,
                                                 tmp_path: Path) -> None:
    result = run_cli(*args, cwd=tmp_path)  # the default --db is ./aqid-reference.sqlite3
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and needle in result.stderr
    assert "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == []  # refused: no database, no token file


def test_list_faults_names_every_fault_and_variant() -> None:
    result = run_cli("--list-faults")
    assert result.returncode == 0
    for name in [*FAULTS, *VARIANTS]:
        assert name in result.stdout


def test_launcher_serves_and_data_survives_a_restart(tmp_path: Path) -> None:
    db = tmp_path / "kept.sqlite3"
    with start_reference_server(db_path=db, tokens=TOKENS) as server:
        assert server.base_url.startswith("http://127.0.0.1:")
        created = httpx.post(f"{server.base_url}/api/v2/webhooks", headers=AUTH,
                             json={"url": SAFE_URL, "events": ["*"], "is_enabled": False})
        assert created.status_code == 201
        banner = server.output()
        assert "tokens: team-a=cli-… team-b=cli-… | faults: none" in banner
        assert TOKENS["team-a"] not in banner  # masked: the tokens were given, not generated
    assert server.process.poll() is not None  # stopped
    with start_reference_server(db_path=db, tokens=TOKENS) as again:
        hook = httpx.get(f"{again.base_url}/api/v2/webhooks/{created.json()['id']}",
                         headers=AUTH).json()
        assert hook == created.json()


def test_generated_tokens_go_to_a_private_file_never_to_the_terminal(tmp_path: Path) -> None:
    db = tmp_path / "db.sqlite3"
    with start_reference_server(db_path=db, tokens={}, faults=["no-retries"]) as server:
        output = server.output()
    token_file = tmp_path / "db.sqlite3.tokens"
    pairs = dict(line.split("=", 1) for line in token_file.read_text().split())
    assert set(pairs) == {"AQID_TOKEN", "AQID_OTHER_TEAM_TOKEN"}
    assert all(len(token) == 40 and token not in output for token in pairs.values())
    assert token_file.stat().st_mode & 0o777 == 0o600
    banner, hint = output.splitlines()[:2]
    assert banner.startswith("aqid reference server on http://127.0.0.1:")
    assert "team-a=" in banner and "faults: no-retries" in banner
    assert hint == f"tokens in {token_file} (mode 600); to use them: set -a; . {token_file}; set +a"
    with start_reference_server(db_path=db, tokens={}) as again:  # a restart keeps the tokens
        response = httpx.get(f"{again.base_url}/api/v2/webhooks",
                             headers={"Authorization": f"Bearer {pairs['AQID_TOKEN']}"})
    assert response.status_code == 200


def test_launcher_failure_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ServerStartError, match="exited with code 2.*cannot open database"):
        start_reference_server(db_path=tmp_path / "missing" / "dir" / "db.sqlite3",
                               tokens=TOKENS)


def test_concurrent_creates_lose_and_duplicate_nothing(tmp_path: Path) -> None:
    ids: list[int] = []
    lock = threading.Lock()
    with start_reference_server(db_path=tmp_path / "db.sqlite3", tokens=TOKENS) as server:
        def create_many() -> None:
            with httpx.Client(base_url=server.base_url, headers=AUTH, timeout=10) as http:
                for _ in range(15):
                    response = http.post("/api/v2/webhooks", json={
                        "url": SAFE_URL, "events": ["*"], "is_enabled": False})
                    assert response.status_code == 201
                    with lock:
                        ids.append(response.json()["id"])

        threads = [threading.Thread(target=create_many) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        listed = httpx.get(f"{server.base_url}/api/v2/webhooks?limit=100&page=2",
                           headers=AUTH).json()
    assert len(ids) == 120 and sorted(ids) == list(range(1, 121))
    assert listed["total"] == 120 and [h["id"] for h in listed["data"]] == list(range(101, 121))


def test_a_real_process_delivers_signed_sandbox_events(tmp_path: Path) -> None:
    with receiver() as sink, start_reference_server(
            db_path=tmp_path / "db.sqlite3", tokens=TOKENS, retry_delays=[0.01]) as server:
        hook = httpx.post(f"{server.base_url}/api/v2/webhooks", headers=AUTH,
                          json={"url": sink.url(), "events": ["client.*"]}).json()
        fired = httpx.post(f"{server.base_url}/_sandbox/events", headers=AUTH,
                           json={"event": "client.created"})
        assert fired.status_code == 202 and fired.json() == {"deliveries": 1}
        received = sink.wait(2)
    assert sorted(r.json["trigger"]["alias"] for r in received) == ["client.created", "ping"]
    assert all(verify(hook["secret"], r.body, r.headers["X-AQID-Signature"]) for r in received)
