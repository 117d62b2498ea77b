"""Ctrl-C during a contract run: pytest's "interrupted" ending (exit 2), and nothing left behind.

Each test starts a reference server on loopback, runs `pytest <paths>` against it in a
subprocess (its own process group, as a terminal's foreground job) with a tiny plugin that
notes each test call as it starts, waits until the chosen call has begun, then sends SIGINT
to the group as a terminal's Ctrl-C does. The interrupt thus lands inside a test (a
delivery test waiting on its receiver with a webhook set up, a schemathesis call, a
curated contract's steps), not during start-up or between tests. Every wait is bounded.

What an interrupted run must do: print pytest's summary (`!!! KeyboardInterrupt !!!`, `N
passed in ...`) with no traceback, exit 2, and still delete every webhook it tagged
(`/aqid-contracts/<run id>/` in the url): checked through the API with both teams' tokens.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from contract_suite.core.redact import mask
from contract_suite.selftest.runs import (
    TOKEN_ENV,
    TargetSpec,
    default_sigint,
    new_tokens,
    start_target,
)
from reference_server.launcher import RunningServer

ROOT = Path(__file__).resolve().parent.parent
START_BOUND = 180.0  # seconds until the chosen test call starts (a loaded CI box)
STOP_BOUND = 60.0  # seconds from SIGINT to exit; then the process group is killed
TAG = "/aqid-contracts/"
SETTLE = 0.3  # seconds from a call's start to Ctrl-C: inside the call, not its setup
# Loaded into the run with -p: appends each test call's node id to $AQID_TEST_CALLS as it
# starts (in xdist workers too), so the test knows where the interrupt will land.
CALLS_PLUGIN = """
import os
import pytest

@pytest.hookimpl(tryfirst=True)
def pytest_runtest_call(item):
    with open(os.environ["AQID_TEST_CALLS"], "a") as calls:
        calls.write(item.nodeid + "\\n")
"""

pytestmark = pytest.mark.slow


@dataclass
class Target:
    server: RunningServer
    tokens: dict[str, str]


@dataclass
class Interrupted:
    exit_code: int
    output: str


@pytest.fixture
def reference(tmp_path: Path) -> Iterator[Target]:
    tokens = new_tokens()
    server = start_target(TargetSpec("clean", "clean"), tmp_path, tokens)
    try:
        yield Target(server, tokens)
    finally:
        server.stop()


def suite_env(target: Target, folder: Path, **extra: str) -> dict[str, str]:
    """The environment of a suite run against `target` that can load plugins from `folder`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AQID_")}
    env.update({TOKEN_ENV[role]: token for role, token in target.tokens.items()})
    env.update(AQID_BASE_URL=target.server.base_url, **extra,
               PYTHONPATH=os.pathsep.join(filter(None, [str(folder), env.get("PYTHONPATH")])))
    return env


def masked(text: str, target: Target) -> str:
    for token in target.tokens.values():
        text = text.replace(token, mask(token))
    return text


def interrupt_run(target: Target, folder: Path, *args: str, call: int = 1) -> Interrupted:
    """Run `pytest *args` against `target`; Ctrl-C just after test call number `call` starts."""
    (folder / "aqid_test_calls.py").write_text(CALLS_PLUGIN)
    calls = folder / "calls.txt"
    env = suite_env(target, folder, AQID_TEST_CALLS=str(calls))
    command = [sys.executable, "-m", "pytest", *args, "-p", "no:cacheprovider", "-q",
               "-p", "aqid_test_calls"]
    # SIGINT as a terminal's foreground job has it: a shell starts background jobs (`make
    # test &`) with SIGINT ignored, and an ignored signal stays ignored across exec.
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, start_new_session=True,
                               preexec_fn=default_sigint)
    chunks: list[bytes] = []

    def read() -> None:
        assert process.stdout is not None
        while chunk := os.read(process.stdout.fileno(), 4096):
            chunks.append(chunk)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()

    def output() -> str:
        return masked(b"".join(chunks).decode(errors="replace"), target)

    try:
        deadline = time.monotonic() + START_BOUND
        while _started(calls) < call:
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the run ended or stalled before test call {call} started "
                            f"(exit {process.poll()}): {output()[-2000:]}")
            time.sleep(0.02)
        time.sleep(SETTLE)
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(STOP_BOUND)
        except subprocess.TimeoutExpired:
            pytest.fail(f"still running {STOP_BOUND:.0f} s after Ctrl-C: {output()[-2000:]}")
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(STOP_BOUND)
        reader.join(5)
        assert process.stdout is not None
        process.stdout.close()
    return Interrupted(process.returncode, output())


def _started(calls: Path) -> int:
    return len(calls.read_text().splitlines()) if calls.exists() else 0


def tagged_left(target: Target) -> list[str]:
    """URLs of the webhooks on the target, of either team, that carry a run tag."""
    urls = []
    for role in ("main", "other"):
        headers = {"Authorization": f"Bearer {target.tokens[role]}"}
        for page in range(1, 50):  # a bound: a fresh server holds only what the run left
            response = httpx.get(f"{target.server.base_url}/api/v2/webhooks", headers=headers,
                                 params={"page": page, "limit": 100}, timeout=10)
            assert response.status_code == 200, response.text[:300]
            body = response.json()
            urls += [hook["url"] for hook in body["data"] if TAG in str(hook.get("url"))]
            if page >= int(body.get("total_pages") or 1):
                break
    return urls


def assert_interrupted_cleanly(run: Interrupted, target: Target) -> None:
    tail = run.output[-3000:]
    # An uncaught exception starts at column 0 (a failing test's report is indented or
    # framed, and a contract may fail on a clean target while others change the server).
    assert not re.search(r"^Traceback|^RuntimeError|client has been closed", run.output,
                         re.MULTILINE), tail
    assert "!!! KeyboardInterrupt !!!" in run.output, tail
    assert re.search(r"(\d+ (passed|failed|skipped|errors?)|no tests ran) in [\d.]+s",
                     run.output), tail
    assert re.search(r"cleanup: deleted \d+ webhook\(s\) left by run \w+", run.output), tail
    assert run.exit_code == 2, f"exit {run.exit_code}: {tail}"
    assert tagged_left(target) == [], tail


def test_ctrl_c_during_a_delivery_test_ends_interrupted_and_deletes_its_webhooks(
    reference: Target, tmp_path: Path,
) -> None:
    # A delivery test holds a webhook (subscribed_webhook) while it waits on its receiver;
    # Ctrl-C there leaves that fixture's teardown, a DELETE, to pytest's sessionfinish.
    run = interrupt_run(reference, tmp_path, "contracts/deliveries", "-p", "no:xdist", call=2)
    assert_interrupted_cleanly(run, reference)


def test_ctrl_c_during_the_generated_tests_ends_interrupted_and_deletes_its_webhooks(
    reference: Target, tmp_path: Path,
) -> None:
    # Inside a schemathesis call: hypothesis is generating and sending cases.
    run = interrupt_run(reference, tmp_path, "contracts/test_generated.py", "-p", "no:xdist",
                        call=2)
    assert_interrupted_cleanly(run, reference)


def test_ctrl_c_during_curated_contracts_ends_interrupted_and_deletes_its_webhooks(
    reference: Target, tmp_path: Path,
) -> None:
    run = interrupt_run(reference, tmp_path, "contracts/v2", "contracts/v1", "-p", "no:xdist",
                        call=5)
    assert_interrupted_cleanly(run, reference)


def test_ctrl_c_under_xdist_ends_interrupted_and_deletes_its_webhooks(
    reference: Target, tmp_path: Path,
) -> None:
    # Ctrl-C reaches the controller and both workers (one process group).
    run = interrupt_run(reference, tmp_path, "contracts/deliveries", "contracts/v2", "-n", "2",
                        call=3)
    assert_interrupted_cleanly(run, reference)


# Loaded into the run with -p: sends the run its own SIGINT from inside pytest's machinery
# (not inside a test): the AQID_KILL_AT-th time the hook point AQID_KILL_IN is reached.
# Deterministic where the Ctrl-C above races the run: CI once caught a SIGINT landing while
# a report was being made, which pytest-html's hookwrapper turned into an INTERNALERROR.
SELF_KILL_PLUGIN = """
import os
import signal
import pytest

POINT, AT = os.environ["AQID_KILL_IN"], int(os.environ["AQID_KILL_AT"])
reached = []

def _reach(point):
    if point == POINT:
        reached.append(point)
        if len(reached) == AT:
            os.kill(os.getpid(), signal.SIGINT)

@pytest.hookimpl(tryfirst=True)
def pytest_runtest_makereport(item, call):
    _reach("makereport-" + call.when)

@pytest.hookimpl(tryfirst=True)
def pytest_runtest_logreport(report):
    _reach("logreport-" + report.when)

@pytest.hookimpl(tryfirst=True)
def pytest_runtest_teardown(item, nextitem):
    _reach("teardown")

@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session, exitstatus):
    _reach("sessionfinish")

@pytest.hookimpl(tryfirst=True)
def pytest_unconfigure(config):
    _reach("unconfigure")

# AQID_KILL_IN_CLEANUP: one more SIGINT as the run's cleanup starts deleting.
import contract_suite.plugin as suite_plugin
delete_webhooks = suite_plugin.delete_webhooks

def interrupted_delete_webhooks(*args, **kwargs):
    if os.environ.get("AQID_KILL_IN_CLEANUP"):
        os.kill(os.getpid(), signal.SIGINT)
    return delete_webhooks(*args, **kwargs)

suite_plugin.delete_webhooks = interrupted_delete_webhooks
"""


def run_killing_itself(target: Target, folder: Path, point: str, at: int,
                       path: str = "contracts/v2", in_cleanup: bool = False) -> Interrupted:
    """`pytest path` against `target`, sending itself SIGINT at `point` (see above)."""
    (folder / "aqid_self_kill.py").write_text(SELF_KILL_PLUGIN)
    env = suite_env(target, folder, AQID_KILL_IN=point, AQID_KILL_AT=str(at),
                    **({"AQID_KILL_IN_CLEANUP": "1"} if in_cleanup else {}))
    command = [sys.executable, "-m", "pytest", path, "-p", "no:xdist",
               "-p", "no:cacheprovider", "-q", "-p", "aqid_self_kill"]
    try:
        done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=START_BOUND, preexec_fn=default_sigint)
    except subprocess.TimeoutExpired as timeout:
        pytest.fail(f"the run did not end within {START_BOUND:.0f} s: {timeout.output!r:.2000}")
    output = masked(done.stdout + done.stderr, target)
    assert "INTERNALERROR" not in output, output[-3000:]
    return Interrupted(done.returncode, output)


@pytest.mark.parametrize("point", ["makereport-setup", "makereport-call",
                                   "makereport-teardown", "logreport-call", "teardown"])
def test_ctrl_c_while_pytest_makes_or_logs_a_report_ends_interrupted_and_deletes_its_webhooks(
    reference: Target, tmp_path: Path, point: str,
) -> None:
    run = run_killing_itself(reference, tmp_path, point, at=4)
    assert_interrupted_cleanly(run, reference)


@pytest.mark.parametrize("point", ["sessionfinish", "unconfigure"])
def test_ctrl_c_after_the_last_test_lets_cleanup_finish_and_keeps_the_verdict(
    reference: Target, tmp_path: Path, point: str,
) -> None:
    # The tests are over: the Ctrl-C is noted, the cleanup runs to its end, and the run
    # ends with its own verdict (all passed: 0), not a traceback and exit -2.
    run = run_killing_itself(reference, tmp_path, point, at=1)
    tail = run.output[-3000:]
    assert not re.search(r"^Traceback|KeyboardInterrupt", run.output, re.MULTILINE), tail
    assert re.search(r"^\d+ passed", run.output, re.MULTILINE), tail
    assert re.search(r"cleanup: deleted \d+ webhook\(s\) left by run \w+", run.output), tail
    assert run.exit_code == 0, f"exit {run.exit_code}: {tail}"
    assert tagged_left(reference) == [], tail


def test_a_second_ctrl_c_during_cleanup_does_not_stop_it(reference: Target, tmp_path: Path) -> None:
    # Generated tests leave their creations to the cleanup: interrupted in the third, the
    # run has webhooks to delete, and a Ctrl-C as the deleting starts must not stop it.
    run = run_killing_itself(reference, tmp_path, "makereport-call", at=3,
                             path="contracts/test_generated.py", in_cleanup=True)
    assert_interrupted_cleanly(run, reference)
    deleted = re.search(r"cleanup: deleted (\d+) webhook", run.output)
    assert deleted and int(deleted.group(1)) > 0, run.output[-3000:]
