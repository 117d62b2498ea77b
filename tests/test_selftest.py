"""The self-test, flake-check and bench tooling (contract_suite/selftest, scripts/*.py).

Fast tests of the logic (JUnit reading, short names, verdicts, score, table, exit
status, selection errors) on hand-made data, plus ONE bounded end-to-end slice: the real
scripts/selftest.py against the clean server, one fault and one benign variant, each run
narrowed to the isolation contracts.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from contract_suite.selftest import catalogue
from contract_suite.selftest.first_failure import read_first_failure
from contract_suite.selftest.junit import JunitError, read_junit, short_name
from contract_suite.selftest.runs import (
    RunSettings,
    SuiteRun,
    TargetSpec,
    new_tokens,
    suite_command,
    suite_env,
    token_grants,
)
from contract_suite.selftest.verdicts import (
    exit_status,
    markdown_table,
    median_first_failure,
    results_json,
    score,
    verdict,
)
from reference_server.faults import FAULTS, VARIANTS

ROOT = Path(__file__).resolve().parent.parent
SLICE_TIMEOUT = 300  # the e2e slice: 3 narrowed runs, 2 side by side, on a loaded 2-core box

JUNIT = """<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest">
<testcase classname="contracts.v2.pagination.contract.yaml" name="single-page-has-null-links"
 time="0.1"><failure message="links: expected null, got {'next': None}">trace</failure></testcase>
<testcase classname="contracts.test_generated" name="test_v2_operation[POST /webhooks]" time="2">
 <failure message="+ Exception Group Traceback (most recent call last):">
  | schemathesis.core.failures.FailureGroup: Schemathesis found 2 distinct failures
  | - ST103 Undocumented status code
  |     Received: 200
  | - ST108 Response violates schema
  | - ST103 Undocumented status code
</failure></testcase>
<testcase classname="contracts.test_generated.TestV1Stateful" name="runTest" time="3">
 <error message="boom"/></testcase>
<testcase classname="contracts.deliveries.test_delivery_retries"
 name="test_a_failed_delivery_is_retried" time="1"/>
<testcase classname="contracts.deliveries.test_delivery_ping" name="test_ping[v2]" time="1">
 <failure message="version = 'v2'">    def test_ping(version):
&gt;       assert False
E       Failed: setup: POST /api/v2/webhooks answered 200, not 201
E       more</failure></testcase>
<testcase classname="contracts.v2.lifecycle.contract.yaml" name="create" time="0">
 <failure message="Contract broken: scenario 'create', step 1&#10;  unexpected status&#10;x"/>
</testcase>
<testcase classname="contracts.v2.isolation.contract.yaml" name="other" time="0">
 <skipped message="needs a second team"/></testcase>
</testsuite></testsuites>
"""


def fake_run(name: str, kind: str, exit_code: int | None, failed: tuple[str, ...] = (),
             seconds: float = 10.0, first_failure: float | None = None) -> SuiteRun:
    from contract_suite.selftest.junit import FailedTest

    return SuiteRun(TargetSpec(name, kind), seed=7, exit_code=exit_code, seconds=seconds,
                    failed=[FailedTest(test, "why") for test in failed],
                    first_failure_seconds=first_failure,
                    problem="timed out after 600 s" if exit_code is None else None)


# --- JUnit reading and short names ----------------------------------------------------------


def test_junit_counts_and_names_failures_and_errors(tmp_path: Path) -> None:
    path = tmp_path / "junit.xml"
    path.write_text(JUNIT)
    summary = read_junit(path)
    assert [t.name for t in summary.failed] == [
        "v2/pagination::single-page-has-null-links", "generated v2 POST /webhooks",
        "generated v1 stateful", "deliveries/delivery_ping::ping[v2]", "v2/lifecycle::create"]
    whys = [t.why for t in summary.failed]
    assert whys[0].startswith("links: expected null")
    assert whys[1] == "ST103 Undocumented status code; ST108 Response violates schema"
    assert whys[2] == "boom"
    assert whys[3] == "Failed: setup: POST /api/v2/webhooks answered 200, not 201"
    assert whys[4] == "Contract broken: scenario 'create', step 1 — unexpected status"
    assert (summary.passed, summary.skipped, summary.total) == (1, 1, 7)


@pytest.mark.parametrize(("classname", "name", "short"), [
    ("contracts.cross-version.two-views.contract.yaml", "created-in-v1-read-in-v2",
     "cross-version/two-views::created-in-v1-read-in-v2"),
    ("contracts.test_generated", "test_v1_operation[DELETE /webhooks/{id}]",
     "generated v1 DELETE /webhooks/{id}"),
    ("contracts.test_generated.TestV2Stateful", "runTest", "generated v2 stateful"),
    ("contracts.deliveries.test_delivery_ping", "test_ping[v1]",
     "deliveries/delivery_ping::ping[v1]"),
])
def test_short_names(classname: str, name: str, short: str) -> None:
    assert short_name(classname, name) == short


def test_a_missing_or_broken_junit_file_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(JunitError, match="no JUnit file"):
        read_junit(tmp_path / "absent.xml")
    broken = tmp_path / "broken.xml"
    broken.write_text("<testsuites><testcase")
    with pytest.raises(JunitError, match="broken.xml: not valid XML"):
        read_junit(broken)


def test_first_failure_file_reads_back_or_none(tmp_path: Path) -> None:
    marker = tmp_path / "first"
    assert read_first_failure(marker) is None
    marker.write_text("1700000000.250\n")
    assert read_first_failure(marker) == 1700000000.25


# --- verdicts, score, table, exit status ----------------------------------------------------


def test_verdicts_per_kind_and_outcome() -> None:
    assert verdict(fake_run("f", "fault", 1, ("t",))) == "caught"
    assert verdict(fake_run("f", "fault", 0)) == "MISSED"
    assert verdict(fake_run("f", "fault", None)) == "ERROR"  # a timeout is never a catch
    assert verdict(fake_run("f", "fault", 3)) == "ERROR"  # internal error, no failing test
    assert verdict(fake_run("clean", "clean", 0)) == "ok"
    assert verdict(fake_run("v", "variant", 1, ("t",))) == "FALSE POSITIVE"
    refused = fake_run("f", "fault", 4)
    refused.refused = "aqid-contracts: the target answered 500"
    assert verdict(refused) == "caught"


def test_score_and_exit_status() -> None:
    good = [fake_run("clean", "clean", 0), fake_run("a", "fault", 1, ("t",)),
            fake_run("v", "variant", 0)]
    assert exit_status(good) == 0
    assert score(good).line().startswith("score: 1/1 faults caught (100 %); false positives: 0")
    missed = [*good, fake_run("b", "fault", 0)]
    assert exit_status(missed) == 1 and score(missed).missed == ["b"]
    flagged = [*good, fake_run("w", "variant", 1, ("x",))]
    assert exit_status(flagged) == 1 and score(flagged).false_positives == ["w"]
    assert exit_status([fake_run("clean", "clean", 1, ("x",)), good[1]]) == 1
    assert exit_status([fake_run("c", "fault", None), *good]) == 1
    assert exit_status([]) == 1  # nothing run proves nothing


def test_table_names_at_most_three_tests_and_json_has_all() -> None:
    runs = [fake_run("clean", "clean", 0, seconds=41.0),
            fake_run("a|b", "fault", 1, ("t1", "t2", "t3", "t4"), first_failure=3.0),
            fake_run("c", "fault", 1, ("t5",), first_failure=5.0)]
    table = markdown_table(runs)
    assert "| clean | clean | ok | - | 41.0 |" in table
    assert "`t1`, `t2`, `t3` (+1 more)" in table and "t4" not in table
    assert "a\\|b" in table  # a pipe in a name does not break the row
    assert median_first_failure(runs) == 4.0
    data = json.loads(results_json(runs, {"profile": "ci"}))
    assert data["score"] == {"caught": 2, "faults": 2, "percent": 100.0}
    assert [t["test"] for t in data["runs"][1]["failed_tests"]] == ["t1", "t2", "t3", "t4"]
    assert data["ok"] is True and data["profile"] == "ci"


# --- selection and commands -----------------------------------------------------------------


def test_selection_reads_the_catalogue_at_run_time() -> None:
    everything = catalogue.select(None, None, integrity=False)
    rate_limited = [] if catalogue.RATE_LIMITED in VARIANTS else [catalogue.RATE_LIMITED]
    assert [t.name for t in everything] == ["clean", *FAULTS, *VARIANTS, *rate_limited]
    first = next(iter(FAULTS))
    assert [t.name for t in catalogue.select(first, None)] == ["clean", first]
    assert all(t.name in FAULTS or t.name in VARIANTS or t.name == "clean"
               for t in catalogue.quick_targets())
    with pytest.raises(catalogue.SelectionError, match="unknown fault.*no-such-fault"):
        catalogue.select("no-such-fault", None)


def test_the_whole_catalogue_brings_the_integrity_runs_and_a_named_slice_does_not() -> None:
    if catalogue.integrity_variant() is None:
        pytest.skip("no pre-populated variant in reference_server/faults.py")
    kinds = [t.kind for t in catalogue.select(None, None)]
    assert kinds.count("integrity") == len(catalogue.INTERRUPTS) + 1
    assert kinds[-kinds.count("integrity"):] == ["integrity"] * kinds.count("integrity")
    assert "integrity" not in [t.kind for t in catalogue.select("", "reordered-keys")]
    assert "integrity" not in [t.kind for t in catalogue.select(None, None, quick=True)]
    forced = catalogue.select("", "", with_clean=False, integrity=True)
    assert [t.kind for t in forced] == ["integrity"] * (len(catalogue.INTERRUPTS) + 1)


def test_the_rate_limited_target_gets_its_own_profile_timeout_and_limit(
        monkeypatch: pytest.MonkeyPatch) -> None:
    target = next(t for t in catalogue.variant_targets() if t.name == catalogue.RATE_LIMITED)
    assert target.kind == "variant" and target.timeout == catalogue.RATE_LIMITED_TIMEOUT
    assert (target.rate_limit, target.rate_window) == (200, 60.0)
    assert target.variants == ((catalogue.RATE_LIMITED,) if catalogue.RATE_LIMITED in VARIANTS
                               else ())
    settings = target.settings_for(RunSettings(profile="ci", timeout=300.0, seed=3))
    assert (settings.profile, settings.timeout, settings.seed) == (
        catalogue.rate_limited_profile(), 900.0, 3)
    from contract_suite.core import profiles

    monkeypatch.setattr(profiles, "PROFILES", {k: v for k, v in profiles.PROFILES.items()
                                               if k != "staging"})
    monkeypatch.setattr(catalogue, "PROFILES", profiles.PROFILES)
    assert catalogue.rate_limited_profile() == "smoke"  # until the lead's `staging` lands
    named = catalogue.select("", catalogue.RATE_LIMITED)
    assert [t.name for t in named] == ["clean", catalogue.RATE_LIMITED]


def test_longest_runs_start_first_and_results_keep_the_targets_order(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from contract_suite.selftest import runs as runs_module

    started: list[str] = []

    def fake(target: TargetSpec, settings: RunSettings) -> SuiteRun:
        started.append(target.name)
        return SuiteRun(target, settings.seed, 0, 0.0)

    monkeypatch.setattr(runs_module, "run_suite_against", fake)
    targets = [TargetSpec("clean", "clean"), TargetSpec("slow", "variant", timeout=900.0),
               TargetSpec("f", "fault")]
    done = runs_module.run_many(targets, RunSettings(), jobs=1)
    assert started == ["slow", "clean", "f"]
    assert [run.target.name for run in done] == ["clean", "slow", "f"]


def test_suite_command_uses_xdist_only_when_asked(tmp_path: Path) -> None:
    serial = suite_command("http://127.0.0.1:1", RunSettings(seed=5), tmp_path / "j.xml")
    assert "no:xdist" in serial and "-n" not in serial
    assert serial[serial.index("--seed") + 1] == "5"
    parallel = suite_command("http://127.0.0.1:1", RunSettings(xdist_workers=2),
                             tmp_path / "j.xml")
    assert parallel[-2:] == ["-n", "2"]


def test_tokens_go_to_the_environment_never_the_command_line(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AQID_BASE_URL", "https://staging.invalid")  # the caller's: dropped
    tokens = new_tokens()
    env = suite_env(tokens, tmp_path / "first")
    assert env["AQID_TOKEN"] == tokens["main"]
    assert env["AQID_OTHER_TEAM_TOKEN"] == tokens["other"]
    assert env["AQID_READ_ONLY_TOKEN"] == tokens["read-only"]
    assert "AQID_BASE_URL" not in env
    command = " ".join(suite_command("http://127.0.0.1:1", RunSettings(), tmp_path / "j.xml"))
    assert not any(token in command for token in tokens.values())
    assert [grant[2] for grant in token_grants(tokens)] == [False, False, True]


def test_unknown_fault_is_one_line_and_exit_2() -> None:
    result = subprocess.run([sys.executable, "scripts/selftest.py", "--faults", "nope"],
                            cwd=ROOT, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 2
    assert result.stderr.strip().startswith("selftest: unknown fault(s) nope; known: ")
    assert len(result.stderr.strip().splitlines()) == 1


# --- one bounded end-to-end slice -----------------------------------------------------------

# The real driver (server per target, suite subprocesses two side by side, JUnit read back,
# verdicts, score, selftest.md/json, masking) on three targets, each run narrowed to the
# isolation contracts through PYTEST_ADDOPTS (the suite's environment is the caller's, less
# AQID_*): the verdict logic is tested above on hand-made runs, every fault against the
# whole suite is make selftest's job.
SLICE_FAULT = "other-team-visible"
SLICE_VARIANT = "reordered-keys"
SLICE_ADDOPTS = "--ignore=contracts/test_generated.py --ignore=contracts/deliveries -k isolation"


@pytest.mark.slow
def test_selftest_slice_catches_a_fault_and_passes_clean_and_a_variant(tmp_path: Path) -> None:
    missing = [n for n, known in ((SLICE_FAULT, FAULTS), (SLICE_VARIANT, VARIANTS))
               if n not in known]
    if missing:
        pytest.skip(f"not in reference_server/faults.py: {', '.join(missing)}")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AQID_")}
    env["PYTEST_ADDOPTS"] = SLICE_ADDOPTS
    result = subprocess.run(
        [sys.executable, "scripts/selftest.py", "--faults", SLICE_FAULT,
         "--variants", SLICE_VARIANT, "--profile", "smoke", "--run-timeout", "240",
         "--results", str(tmp_path)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=SLICE_TIMEOUT, check=False)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    data = json.loads((tmp_path / "selftest.json").read_text())
    verdicts = {run["target"]: run["verdict"] for run in data["runs"]}
    assert verdicts == {"clean": "ok", SLICE_FAULT: "caught", SLICE_VARIANT: "ok"}
    runs = {run["target"]: run for run in data["runs"]}
    assert runs["clean"]["passed"] > 0 and runs[SLICE_VARIANT]["passed"] > 0  # tests did run
    assert any("isolation" in t["test"] for t in runs[SLICE_FAULT]["failed_tests"])
    assert "score: 1/1 faults caught (100 %); false positives: 0" in result.stdout
    assert (tmp_path / "selftest.md").read_text().startswith("# Fault self-test")
    assert (tmp_path / "selftest-junit" / f"{SLICE_FAULT}.xml").is_file()
    written = [path.read_text() for path in tmp_path.rglob("*") if path.is_file()]
    for text in (result.stdout, result.stderr, *written):  # tokens only ever masked ("self…")
        assert not any(p in text for p in ("selftest-main-", "selftest-other-", "selftest-read-"))


# --- the benchmark's reading of st's reports ------------------------------------------------


def test_st_reports_give_requests_failures_and_first_failure_time(tmp_path: Path) -> None:
    from contract_suite.selftest.st_cli import StRun, _read_reports

    report = tmp_path / "report-v2"
    report.mkdir()
    (report / "har-1.json").write_text(json.dumps({"log": {"entries": [{}, {}, {}]}}))
    (report / "json-1.json").write_text(json.dumps(
        {"failures": [{"code": "ST108", "title": "Response violates schema"}]}))
    events = [{"ScenarioFinished": {"status": "success", "timestamp": 101.0}},
              {"PhaseStarted": {"timestamp": 102.0}},
              {"ScenarioFinished": {"status": "failure", "timestamp": 103.5}},
              {"ScenarioFinished": {"status": "failure", "timestamp": 109.0}}]
    (report / "ndjson-1.ndjson").write_text("\n".join(json.dumps(e) for e in events))
    run = StRun(TargetSpec("f", "fault"), exit_codes={"v2": 1})
    _read_reports(run, "v2", report, wall_start=100.0)
    assert run.requests == 3
    assert run.failures == ["v2 ST108 Response violates schema"]
    assert run.first_failure_seconds == 3.5
    assert run.outcome == "fail"
    run.exit_codes["v1"] = None  # the other version timed out: no result, not a catch
    assert run.outcome == "error"


def test_a_spent_budget_starts_no_more_runs_and_they_count_as_errors() -> None:
    from contract_suite.selftest.runs import run_many

    runs = run_many([TargetSpec("clean", "clean"), TargetSpec("f", "fault", faults=("f",))],
                    RunSettings(), jobs=1, budget=0.0)  # spent before the first run starts
    assert [run.outcome for run in runs] == ["error", "error"]
    assert all(run.problem and run.problem.startswith("not run: ") for run in runs)
    assert [verdict(run) for run in runs] == ["ERROR", "ERROR"] and exit_status(runs) == 1


def test_a_passing_variant_that_leaves_a_webhook_behind_fails_the_selftest() -> None:
    from contract_suite.selftest.integrity import Finding, IntegrityResult

    run = fake_run("rate-limited-200", "variant", 0)
    run.integrity = IntegrityResult([])
    assert verdict(run) == "ok" and exit_status([run]) == 0
    run.integrity = IntegrityResult([Finding("fail", "leftover", "main", "12", "-", "tagged")])
    assert verdict(run) == "LEFT BEHIND"
    assert score([run]).integrity_failed == ["rate-limited-200"] and exit_status([run]) == 1
    assert "leftover: webhook 12 (main team)" in markdown_table([run])
