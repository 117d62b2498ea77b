"""The delivery contracts catch every delivery fault, and pass on a correct server.

Each fault run starts the reference server (launcher, tiny delivery delays) with one fault
from reference_server/faults.py switched on and runs the one contract that must catch it
against it (--base-url/--token), in this process (pytester): no interpreter start-up per
fault, only the contract's own waits. The ping contracts run for v2 only here (the fault
is the same for both versions; make selftest runs every contract against every fault). The
clean run is a real `pytest -n 2` subprocess: xdist needs its worker processes.
"""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from reference_server.faults import FAULTS
from reference_server.launcher import RunningServer, start_reference_server

if TYPE_CHECKING:
    from conftest import SuiteResult

ROOT = Path(__file__).resolve().parent.parent
RUN_TIMEOUT = 240  # seconds for one whole delivery-contract run (bounded: SLACK waits)
TINY = {"retry_delays": (0.05, 0.05, 0.05, 0.05), "timeout": 1.0, "disable_after": 3}

# fault -> (a contract that must fail, text its failure must show to name the fault)
CAUGHT_BY: dict[str, tuple[str, str]] = {
    "signature-hex": ("test_creating_an_enabled_webhook_sends_exactly_one_signed_ping",
                      "HEX digest"),
    "no-retries": ("test_a_failed_delivery_is_retried_with_the_same_id_body_and_signature",
                   "must be retried"),
    # Wanted from the fault catalogue (see the issue); picked up as soon as they exist:
    "signature-wrong-key": ("test_creating_an_enabled_webhook_sends_exactly_one_signed_ping",
                            "different key"),
    "signature-over-reserialised-body": (
        "test_creating_an_enabled_webhook_sends_exactly_one_signed_ping", "does not verify"),
    "delivery-missing-headers": (
        "test_creating_an_enabled_webhook_sends_exactly_one_signed_ping", "no X-AQID-Delivery"),
    "delivery-id-changes-on-retry": (
        "test_a_failed_delivery_is_retried_with_the_same_id_body_and_signature",
        "same X-AQID-Delivery-Id"),
    "no-ping-on-create": ("test_creating_an_enabled_webhook_sends_exactly_one_signed_ping",
                          "0 arrived"),
    "ping-on-disabled-create": ("test_creating_a_disabled_webhook_sends_no_ping",
                                "expected no more than 0"),
    "routing-ignores-category": (
        "test_each_subscription_receives_exactly_the_events_it_matches_once", "arrived"),
    "disabled-webhooks-receive": ("test_disabled_and_deleted_webhooks_receive_nothing",
                                  "expected no more than 0"),
    "timeout-not-enforced": ("test_a_subscriber_slower_than_the_timeout_is_a_failed_attempt",
                             "must be retried"),
    "never-disabled": ("test_a_webhook_is_disabled_after_disable_after_fully_failed_payloads",
                       "documented disabled"),
    "delivery-log-status-int": (
        "test_the_delivery_log_lists_each_delivery_as_it_was_sent_newest_first", "log entry"),
    "delivery-log-oldest-first": (
        "test_the_delivery_log_lists_each_delivery_as_it_was_sent_newest_first",
        "not newest first"),
    "user-agent-wrong": ("test_creating_an_enabled_webhook_sends_exactly_one_signed_ping",
                         "User-Agent"),
    # Without `trigger` no delivery reads as a ping (trigger.alias): the wait lists the
    # delivery that did arrive, its body without a trigger.
    "payload-missing-trigger": ("test_creating_an_enabled_webhook_sends_exactly_one_signed_ping",
                                "[ping] request(s)"),
    "no-ping-on-reenable": ("test_re_enabling_a_webhook_sends_exactly_one_more_ping",
                            "1 arrived"),
    "routing-duplicates": (
        "test_a_delivery_is_one_per_webhook_even_when_several_subscriptions_match", "arrived"),
    "attempt-counter-stuck": (
        "test_a_failed_delivery_is_retried_with_the_same_id_body_and_signature",
        "X-AQID-Delivery-Attempt"),
    "delivery-log-uuid-mismatch": (
        "test_the_delivery_log_lists_each_delivery_as_it_was_sent_newest_first",
        "lacks deliveries that arrived"),
    "v1-delivery-failed-inverted": (
        "test_the_delivery_log_lists_each_delivery_as_it_was_sent_newest_first",
        "v1 log entry"),
}
DELIVERY_FAULTS = sorted(name for name in CAUGHT_BY if name in FAULTS)
# contract -> its module under contracts/deliveries/ (test_delivery_<module>.py)
CONTRACT_MODULES = {
    "test_creating_an_enabled_webhook_sends_exactly_one_signed_ping": "ping",
    "test_creating_a_disabled_webhook_sends_no_ping": "ping",
    "test_re_enabling_a_webhook_sends_exactly_one_more_ping": "ping",
    "test_a_failed_delivery_is_retried_with_the_same_id_body_and_signature": "retries",
    "test_a_subscriber_slower_than_the_timeout_is_a_failed_attempt": "retries",
    "test_a_webhook_is_disabled_after_disable_after_fully_failed_payloads": "retries",
    "test_each_subscription_receives_exactly_the_events_it_matches_once": "routing",
    "test_a_delivery_is_one_per_webhook_even_when_several_subscriptions_match": "routing",
    "test_disabled_and_deleted_webhooks_receive_nothing": "routing",
    "test_the_delivery_log_lists_each_delivery_as_it_was_sent_newest_first": "log",
}
MISSING_FAULTS = sorted(name for name in CAUGHT_BY if name not in FAULTS)


def test_every_delivery_fault_in_the_catalogue_names_the_contract_that_catches_it() -> None:
    unmapped = sorted(f.name for f in FAULTS.values()
                      if f.area == "deliveries" and f.name not in CAUGHT_BY)
    assert not unmapped, f"add these delivery faults to CAUGHT_BY: {unmapped}"


def test_each_catching_contract_is_a_test_of_its_delivery_module() -> None:
    for contract, module in CONTRACT_MODULES.items():
        source = (ROOT / "contracts" / "deliveries" / f"test_delivery_{module}.py").read_text()
        assert f"def {contract}(" in source, f"{contract} is not in test_delivery_{module}.py"
    assert {contract for contract, _ in CAUGHT_BY.values()} <= set(CONTRACT_MODULES)


def target_args(server: RunningServer) -> list[str]:
    return ["--base-url", server.base_url, "--token", server.token_for("team-a"),
            "--other-team-token", server.token_for("team-b"), "-q"]


def node_id(contract: str) -> str:
    """The node id of the one item of `contract` a fault run needs (v2 for the ping ones)."""
    module = "test_delivery_" + CONTRACT_MODULES[contract]
    return (f"contracts/deliveries/{module}.py::{contract}"
            + ("[v2]" if module == "test_delivery_ping" else ""))


def run_delivery_contracts(server: RunningServer, *extra: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AQID_")}
    args = [sys.executable, "-m", "pytest", "contracts/deliveries", "-p", "no:cacheprovider",
            *target_args(server), *extra]
    try:
        return subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=RUN_TIMEOUT, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        pytest.fail(f"the delivery contracts took more than {RUN_TIMEOUT}s: {' '.join(extra)}")


@pytest.fixture
def reference_server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[RunningServer]:
    faults = getattr(request, "param", ())
    tokens = {"team-a": "main-" + secrets.token_hex(12), "team-b": "other-" + secrets.token_hex(12)}
    with start_reference_server(db_path=tmp_path / "db.sqlite3", tokens=tokens,
                                faults=faults, **TINY) as server:
        yield server


def failed_tests(output: str) -> set[str]:
    return set(re.findall(r"^FAILED \S+::(\w+)", output, flags=re.MULTILINE))


@pytest.mark.slow
@pytest.mark.parametrize("reference_server", [()], indirect=True, ids=["no-fault"])
def test_the_delivery_contracts_pass_on_a_correct_server_under_xdist(
    reference_server: RunningServer,
) -> None:
    result = run_delivery_contracts(reference_server, "-n", "2")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    assert re.search(r"\b14 passed\b", output), output[-2000:]


@pytest.mark.parametrize("reference_server", [(f,) for f in DELIVERY_FAULTS], indirect=True,
                         ids=DELIVERY_FAULTS)
def test_the_delivery_contracts_fail_on_each_delivery_fault_and_name_it(
    reference_server: RunningServer, request: pytest.FixtureRequest,
    run_suite_inprocess: Callable[..., SuiteResult],
) -> None:
    fault = request.node.callspec.id
    contract, named = CAUGHT_BY[fault]
    # Only the contract that catches it: the whole delivery suite against every fault is
    # the fault self-test's job (make selftest); here each fault needs its one catch.
    result = run_suite_inprocess(node_id(contract), *target_args(reference_server))
    output = result.output
    assert result.ret == 1, f"fault {fault} went unnoticed:\n{output[-3000:]}"
    assert contract in failed_tests(output), (
        f"fault {fault}: {contract} should fail; failed: {sorted(failed_tests(output))}")
    assert named in output, f"fault {fault}: the failure should say {named!r}"


def test_a_target_without_the_sandbox_skips_every_delivery_contract_saying_why(
    tmp_path: Path, run_suite_inprocess: Callable[..., SuiteResult],
) -> None:
    # Pings are the reference server's decision and every other contract fires events
    # through the sandbox: a target without /_sandbox (staging) runs none of them.
    tokens = {"team-a": "main-" + secrets.token_hex(12), "team-b": "other-" + secrets.token_hex(12)}
    with start_reference_server(db_path=tmp_path / "db.sqlite3", tokens=tokens, sandbox=False,
                                **TINY) as server:
        result = run_suite_inprocess("contracts/deliveries", *target_args(server), "-rs")
    output = result.output
    assert result.ret == 0, output[-3000:]
    assert re.search(r"\b14 skipped\b", output) and " passed" not in output, output[-2000:]
    pings = "pings on create/re-enable are the reference server's decision (brief); " \
            "this target has no /_sandbox"
    events = (f"triggers events through POST /_sandbox/events; the target {server.base_url} "
              "has no /_sandbox")
    assert (skipped_with(output, pings), skipped_with(output, events)) == (6, 8), output[-3000:]


def skipped_with(output: str, reason: str) -> int:
    """How many tests `-rs` reports skipped with `reason` (it groups them per line of code)."""
    return sum(int(count) for count, text in re.findall(r"^SKIPPED \[(\d+)\] \S+: (.*)$", output,
                                                         flags=re.MULTILINE) if reason in text)
