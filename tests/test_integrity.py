"""The integrity check's logic (contract_suite/selftest/integrity.py) on hand-made snapshots.

Plus one short real snapshot: a reference server with a pre-populated variant, a PATCH
and a DELETE through the API in between, and the two findings they must give.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import httpx
import pytest

from contract_suite.selftest import catalogue
from contract_suite.selftest.integrity import (
    Finding,
    IntegrityObserver,
    IntegrityResult,
    Snapshot,
    WebhookState,
    diff,
    integrity_verdict,
    take_snapshot,
)
from contract_suite.selftest.runs import SuiteRun, TargetSpec, new_tokens, start_target
from reference_server.faults import VARIANTS

SECRET = "whsec_0123456789abcdefghijklmnop"


def hook(team: str, hook_id: int, **changes: Any) -> WebhookState:
    body = {"object": "webhook", "id": hook_id, "uuid": f"uuid-{hook_id}",
            "url": f"https://hooks.invalid/seed/{hook_id}", "secret": SECRET,
            "events": ["*"], "is_enabled": True, "created_at": "2024-01-01T00:00:00Z",
            "updated_at": "2024-01-01T00:00:00Z", **changes}
    deliveries = {"7": {"id": 7, "event": "ping", "attempts": 1}}
    return WebhookState(team, str(hook_id), body, dict(body), 200, deliveries)


def snapshot(*hooks: WebhookState) -> Snapshot:
    return Snapshot({(h.team, h.id): h for h in hooks})


@pytest.fixture
def before() -> Snapshot:
    return snapshot(hook("main", 1), hook("main", 2), hook("other", 3))


def only(findings: list[Finding]) -> Finding:
    assert len(findings) == 1, [f.line() for f in findings]
    return findings[0]


def test_identical_snapshots_give_no_finding(before: Snapshot) -> None:
    same = snapshot(hook("main", 1), hook("main", 2), hook("other", 3))
    assert diff(before, same) == []


def test_a_changed_url_is_one_failing_finding_naming_the_webhook_and_field(
        before: Snapshot) -> None:
    after = snapshot(hook("main", 1), hook("main", 2, url="https://hooks.invalid/moved"),
                     hook("other", 3))
    finding = only(diff(before, after))
    assert (finding.severity, finding.kind, finding.team, finding.webhook_id, finding.field) \
        == ("fail", "changed", "main", "2", "url")
    assert "https://hooks.invalid/moved" in finding.detail and "webhook 2" in finding.line()


def test_a_moved_updated_at_is_one_failing_finding(before: Snapshot) -> None:
    after = snapshot(hook("main", 1), hook("main", 2),
                     hook("other", 3, updated_at="2024-06-01T00:00:00Z"))
    finding = only(diff(before, after))
    assert (finding.kind, finding.team, finding.webhook_id, finding.field) == (
        "changed", "other", "3", "updated_at")
    assert finding.fails


def test_a_missing_webhook_is_one_failing_finding(before: Snapshot) -> None:
    after = snapshot(hook("main", 1), hook("other", 3))
    finding = only(diff(before, after))
    assert (finding.kind, finding.webhook_id, finding.fails) == ("missing", "2", True)


def test_a_webhook_left_behind_is_one_failing_finding_saying_it_is_tagged(
        before: Snapshot) -> None:
    left = hook("other", 9, url="https://127.0.0.1:9/aqid-contracts/run1/slug")
    after = snapshot(hook("main", 1), hook("main", 2), hook("other", 3), left)
    finding = only(diff(before, after))
    assert (finding.kind, finding.team, finding.webhook_id, finding.fails) == (
        "leftover", "other", "9", True)
    assert "tagged" in finding.detail and "untagged" not in finding.detail


def test_a_tagged_url_that_was_there_before_is_not_a_leftover() -> None:
    # Data the suite did not create may look like the suite's own (room: foreign-data).
    mimic = hook("main", 5, url="https://hooks.invalid/aqid-contracts/someone-else")
    assert diff(snapshot(mimic), snapshot(mimic)) == []


def test_a_changed_secret_is_shown_masked_only(before: Snapshot) -> None:
    new_secret = "whsec_ZYXWVUTSRQPONMLKJIHGFEDCBA"
    after = snapshot(hook("main", 1, secret=new_secret), hook("main", 2), hook("other", 3))
    finding = only(diff(before, after))
    assert finding.field == "secret"
    assert SECRET not in finding.detail and new_secret not in finding.detail
    assert "whse…" in finding.detail


def test_new_deliveries_are_informational_and_do_not_fail(before: Snapshot) -> None:
    fanned = hook("main", 1)
    deliveries = {**fanned.deliveries, "8": {"id": 8, "event": "client.created"}}
    after = snapshot(WebhookState("main", "1", fanned.listed, fanned.retrieved, 200, deliveries),
                     hook("main", 2), hook("other", 3))
    finding = only(diff(before, after))
    assert (finding.severity, finding.kind, finding.field) == ("info", "deliveries", "deliveries")
    assert "1 new (client.created)" in finding.detail
    result = IntegrityResult([finding])
    assert integrity_verdict(result) == "ok" and result.informational == [finding]


def test_an_incomplete_snapshot_fails_and_failing_findings_come_first(
        before: Snapshot) -> None:
    after = snapshot(hook("main", 1), hook("main", 2), hook("other", 3))
    after.problems.append("other team: GET /api/v2/webhooks answered 500, not 200")
    fanned = after.webhooks[("main", "1")]
    after.webhooks[("main", "1")] = WebhookState(
        "main", "1", fanned.listed, fanned.retrieved, 200, {})
    findings = diff(before, after)
    assert [(f.kind, f.severity) for f in findings] == [("unreadable", "fail"),
                                                        ("deliveries", "info")]
    assert integrity_verdict(IntegrityResult(findings)) == "ERROR"


@pytest.mark.parametrize(("kinds", "expected"), [
    ((), "ok"), (("leftover",), "LEFT BEHIND"), (("exit-code",), "BAD EXIT"),
    (("exit-code", "changed"), "TOUCHED"), (("leftover", "missing"), "TOUCHED"),
])
def test_the_worst_failing_finding_decides_the_verdict(kinds: tuple[str, ...],
                                                       expected: str) -> None:
    findings = [Finding("fail", kind, "main", "1", "-", "x") for kind in kinds]
    assert integrity_verdict(IntegrityResult(findings)) == expected
    assert integrity_verdict(None) == "ERROR"


def fake_suite_run(exit_code: int | None, interrupted_at: float | None) -> SuiteRun:
    return SuiteRun(TargetSpec("integrity-x", "integrity"), 1, exit_code, 5.0,
                    interrupted_at=interrupted_at)


def test_an_interrupted_run_must_exit_2_or_it_is_a_finding(
        before: Snapshot, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("contract_suite.selftest.integrity.take_snapshot",
                        lambda *args, **kwargs: snapshot(hook("main", 1)))
    monkeypatch.setattr("contract_suite.selftest.integrity.SETTLE_SECONDS", 0.0)
    verdicts = {}
    for exit_code in (2, 1, None):
        observer = IntegrityObserver(expected_exit=2)
        observer.before("http://127.0.0.1:1", {})
        run = fake_suite_run(exit_code, interrupted_at=12.0)
        observer.after("http://127.0.0.1:1", {}, run)
        verdicts[exit_code] = integrity_verdict(run.integrity)
        if exit_code != 2:
            assert "expected exit code 2" in run.integrity.failing[0].detail
    assert verdicts == {2: "ok", 1: "BAD EXIT", None: "BAD EXIT"}


def test_integrity_targets_use_a_prepopulated_variant_and_sigint_at_several_points() -> None:
    if catalogue.integrity_variant() is None:
        pytest.skip("no pre-populated variant in reference_server/faults.py")
    targets = catalogue.integrity_targets()
    assert [t.interrupt_at_test for t in targets] == [None, 5, 80, 96, 60]
    assert targets[-1].xdist_workers == 2 and targets[-1].name == "integrity-sigint-test60-n2"
    assert all(t.kind == "integrity" and t.variants == (catalogue.integrity_variant(),)
               and t.observer is not None for t in targets)
    expected = "prepopulated-unusual" if "prepopulated-unusual" in VARIANTS else "prepopulated"
    assert catalogue.integrity_variant() == expected


@pytest.mark.slow
def test_a_real_snapshot_sees_a_patch_and_a_delete_on_a_prepopulated_server() -> None:
    variant = catalogue.integrity_variant()
    if variant is None:
        pytest.skip("no pre-populated variant in reference_server/faults.py")
    tokens = new_tokens()
    with tempfile.TemporaryDirectory() as tmp:
        server = start_target(TargetSpec("t", "integrity", variants=(variant,)), Path(tmp),
                              tokens)
        try:
            before = take_snapshot(server.base_url, tokens)
            assert not before.problems and before.webhooks
            assert {team for team, _ in before.webhooks} == {"main", "other"}
            other = next(h for h in before.webhooks.values() if h.team == "other")
            main = next(h for h in before.webhooks.values() if h.team == "main")
            auth = {"other": {"Authorization": f"Bearer {tokens['other']}"},
                    "main": {"Authorization": f"Bearer {tokens['main']}"}}
            with httpx.Client(base_url=server.base_url, trust_env=False, timeout=10) as client:
                assert client.patch(f"/api/v2/webhooks/{other.id}", headers=auth["other"],
                                    json={"url": "https://hooks.invalid/x"}).status_code == 200
                assert client.delete(f"/api/v2/webhooks/{main.id}",
                                     headers=auth["main"]).status_code == 204
            after = take_snapshot(server.base_url, tokens)
        finally:
            server.stop()
    failing = [(f.kind, f.webhook_id, f.field) for f in diff(before, after) if f.fails]
    assert ("missing", main.id, "-") in failing
    assert ("changed", other.id, "url") in failing
    assert {kind for kind, *_ in failing} == {"missing", "changed"}
    assert not any(token in repr(failing) for token in tokens.values())


def test_a_webhook_disabled_after_failed_deliveries_still_fails_and_says_why(
        before: Snapshot) -> None:
    old = before.webhooks[("main", "1")]
    failed = {str(n): {"id": n, "event": "client.created", "response": {"status_code": "0"}}
              for n in range(20, 30)}
    disabled = {**old.listed, "is_enabled": False}
    after = snapshot(WebhookState("main", "1", disabled, disabled, 200,
                                  {**old.deliveries, **failed}),
                     hook("main", 2), hook("other", 3))
    findings = diff(before, after)
    changed = [f for f in findings if f.fails]
    assert [(f.kind, f.field) for f in changed] == [("changed", "is_enabled")]
    assert "after 10 new failed deliveries: the target's auto-disable" in changed[0].detail
    assert [f.kind for f in findings if not f.fails] == ["deliveries"]


FAKE_SUITE = """
import os, signal, sys, time
signal.signal(signal.SIGINT, lambda *_: sys.exit(2))  # pytest's 'interrupted'
for test in range(1, 4):  # three tests start, 0.5 s apart (as worker and controller)
    time.sleep(0.5)
    with open(os.environ["AQID_TESTS_STARTED_FILE"], "a") as started:
        started.write(f"test_{test}\\ntest_{test}\\n")
time.sleep(30)
sys.exit(0)
"""


def test_the_sigint_goes_to_the_suite_as_its_nth_test_starts(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys
    import time

    from contract_suite.selftest.runs import RunSettings, _wait

    marker = tmp_path / "started"
    process = subprocess.Popen([sys.executable, "-c", FAKE_SUITE], text=True,
                               stdout=subprocess.DEVNULL, start_new_session=True,
                               env={**os.environ, "AQID_TESTS_STARTED_FILE": str(marker)})
    began = time.monotonic()
    _, sent = _wait(process, 2, RunSettings(timeout=20.0, interrupt_grace=5.0), marker)
    assert process.returncode == 2
    assert sent is not None and 1.2 <= sent < 1.5 + 3.0  # the second test's start + 0.3 s
    assert time.monotonic() - began < 10.0


def test_a_suite_that_ignores_the_sigint_is_killed_after_the_grace(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys
    import time

    from contract_suite.selftest.runs import RunSettings, _wait

    marker = tmp_path / "started"
    stubborn = FAKE_SUITE.replace("sys.exit(2)", "None")  # swallows the SIGINT
    process = subprocess.Popen([sys.executable, "-c", stubborn], text=True,
                               stdout=subprocess.DEVNULL, start_new_session=True,
                               env={**os.environ, "AQID_TESTS_STARTED_FILE": str(marker)})
    began = time.monotonic()
    try:
        with pytest.raises(subprocess.TimeoutExpired) as raised:
            _wait(process, 1, RunSettings(timeout=20.0, interrupt_grace=1.0), marker)
        assert raised.value.sigint_sent_at is not None  # the caller says "did not stop"
        assert time.monotonic() - began < 8.0
    finally:
        process.kill()
        process.wait(5)


def test_each_interrupt_point_lands_where_the_catalogue_says_well_before_the_end() -> None:
    # The points count the run's tests in the order it runs them: collect that order (the
    # self-test's profile, one process) and check each point's kind and that tests follow it.
    import os
    import subprocess
    import sys

    from contract_suite.core.paths import ROOT

    env = {k: v for k, v in os.environ.items() if not k.startswith("AQID_")}
    done = subprocess.run([sys.executable, "-m", "pytest", "contracts", "--collect-only", "-q",
                           "-p", "no:cacheprovider", "-p", "no:xdist", "--profile", "ci"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    order = [line for line in done.stdout.splitlines() if "::" in line]
    kinds = {5: ".contract.yaml", 80: "contracts/deliveries/", 96: "contracts/test_generated.py"}
    for test, workers in catalogue.INTERRUPTS:
        assert test <= len(order) - 8, f"test {test} of {len(order)}: too near the end"
        if not workers:
            assert kinds[test] in order[test - 1], (test, order[test - 1])
