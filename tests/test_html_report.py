"""The HTML report, checked as a reviewer would see it: rendered in headless Chromium.

One small real run (three contracts, one xdist worker, so the report is built on the
controller from merged worker data) against a reference server with a fault writes the
report; one Chromium invocation renders it (DOM after scripts ran, console, screenshot),
a second renders a copy with a broken script, so the "drawn without errors" check is
seen to fail.
The pure parts (failure excerpts, the reproduce command) have unit tests that run
everywhere; the browser tests skip without Chromium locally and fail without it in CI.
"""

from __future__ import annotations

import fcntl
import html
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import pytest

from contract_suite.core.html_report import failure_excerpt, headline, reproduce_command
from contract_suite.core.redact import mask
from reference_server.launcher import start_reference_server

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "tok-html-main-7c1e5a9b3d2f4e6a8b0c"
OTHER_TOKEN = "tok-html-other-2b4d6f8a0c1e3a5b7d9f"
READ_ONLY_TOKEN = "tok-html-read-9f7d5b3a1e0c8a6b4d2f"
FAULT = "v2-create-returns-200"  # caught by the generated POST and a curated create contract
SEED = 7
SELECTION = "v2_operation and (POST or deliveries) or defaults-and-shape"
RUN_TIMEOUT = 180
BROWSER_TIMEOUT = 60
FULL_SECRET = re.compile(r'"secret"\s*:\s*"[0-9a-f]{32,}"')
# Chromium must not reach for the network (no DNS, no updates, no sync) on a loopback box.
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--enable-logging=stderr",
                  "--v=0", "--window-size=1280,2400")


def chromium_or_skip() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    message = "needs Chromium to render the HTML report (Debian: apt-get install chromium)"
    if os.environ.get("CI") or os.environ.get("AQID_REQUIRE_BROWSER"):
        pytest.fail(f"{message}: .ci/run installs it before make test; CI must not skip this")
    pytest.skip(message)


@dataclass(frozen=True)
class RenderedReport:
    source: str  # the file as written
    dom: str  # the DOM after the report's scripts ran
    console: str  # Chromium's log, console messages included
    screenshot: Path
    run_output: str


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory,
             pytestconfig: pytest.Config) -> RenderedReport:
    """The report rendered once per `make test`: under xdist the module's tests may land on
    both workers, so the first one renders it into a folder the run's workers share (keyed
    by xdist's run id, under a lock) and the other reads it back."""
    chromium = chromium_or_skip()
    run_uid = os.environ.get("PYTEST_XDIST_TESTRUNUID")
    if run_uid is None:
        return render_report(chromium, tmp_path_factory.mktemp("html-report"), pytestconfig)
    shared = tmp_path_factory.getbasetemp().parent / f"aqid-html-report-{run_uid}"
    shared.mkdir(exist_ok=True)
    with (shared / "lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if not (shared / DONE).exists():
            render_report(chromium, shared, pytestconfig)
        return read_rendered(shared)


DONE = "rendered.done"


def render_report(chromium: str, folder: Path, config: pytest.Config) -> RenderedReport:
    """A small real run against a faulty reference server, then one Chromium invocation."""
    report = folder / "contract.html"
    tokens = [("team-a", TOKEN, False), ("team-b", OTHER_TOKEN, False),
              ("team-a", READ_ONLY_TOKEN, True)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("AQID_")}
    # Tokens in the environment, as CI passes them (the reproduce command names these).
    env.update(AQID_TOKEN=TOKEN, AQID_OTHER_TEAM_TOKEN=OTHER_TOKEN,
               AQID_READ_ONLY_TOKEN=READ_ONLY_TOKEN)
    # The coverage plugin writes reports/coverage.json by default: not the checkout's.
    extra = [f"--coverage-json={folder / 'coverage.json'}"] if coverage_loaded(config) else []
    with start_reference_server(db_path=folder / "db.sqlite3", tokens=tokens, faults=(FAULT,),
                                rate_limit=1_000_000) as server:
        run = subprocess.run(
            [sys.executable, "-m", "pytest", "contracts/test_generated.py",
             "contracts/v2/create.contract.yaml", "-k", SELECTION, "-n", "1",
             "-p", "no:cacheprovider", "--profile", "smoke", "--seed", str(SEED),
             "--base-url", server.base_url, f"--html={report}", "--self-contained-html", *extra],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT, check=False)
    assert run.returncode == 1 and report.exists(), run.stdout[-3000:] + run.stderr[-2000:]
    dom, console = render_in_chromium(chromium, report, screenshot=folder / "contract.png")
    (folder / "dom.html").write_text(dom)
    (folder / "console.txt").write_text(console)
    (folder / "run.txt").write_text(run.stdout + run.stderr)
    (folder / DONE).touch()
    return read_rendered(folder)


def render_in_chromium(chromium: str, page: Path, screenshot: Path | None = None
                       ) -> tuple[str, str]:
    """The DOM after the page's scripts ran, and Chromium's log (console messages)."""
    shot = [f"--screenshot={screenshot}"] if screenshot else []
    with tempfile.TemporaryDirectory(prefix="aqid-chromium-") as profile:
        browser = subprocess.run(
            [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *shot, "--dump-dom",
             page.as_uri()], capture_output=True, text=True, timeout=BROWSER_TIMEOUT,
            check=False)
    assert browser.returncode == 0, browser.stderr[-2000:]
    return browser.stdout, browser.stderr


def read_rendered(folder: Path) -> RenderedReport:
    return RenderedReport(*(
        (folder / name).read_text() for name in ("contract.html", "dom.html", "console.txt")),
        screenshot=folder / "contract.png", run_output=(folder / "run.txt").read_text())


def coverage_loaded(config: pytest.Config) -> bool:
    """Whether conftest.py loads the coverage plugin (it adds <section id="aqid-coverage">)."""
    return any(name.startswith("contract_suite.coverage")
               for name, _ in config.pluginmanager.list_name_plugin() if name)


def section_text(dom: str, section_id: str) -> str:
    """The visible text of `<section id=...>` (sections do not nest)."""
    found = re.search(rf'<section id="{section_id}"[^>]*>(.*?)</section>', dom, re.S)
    assert found, f"no <section id={section_id!r}> in the rendered report"
    return html.unescape(re.sub(r"<[^>]+>", " ", found.group(1)))


def test_the_report_opens_with_the_target_seed_and_a_command_naming_token_variables(
        rendered: RenderedReport) -> None:
    run = section_text(rendered.dom, "aqid-run")
    for label in ("Target", "Run id", "Seed", "Profile", "API versions", "Tokens"):
        assert label in run
    assert "http://127.0.0.1:" in run and "given by --base-url" in run and "smoke" in run
    assert f"main {mask(TOKEN)}" in run
    command = re.search(r'<pre id="aqid-reproduce">(.*?)</pre>', rendered.dom, re.S)
    assert command, "no reproduce command in the run block"
    command_text = html.unescape(command.group(1))
    assert command_text.startswith(".venv/bin/pytest contracts/test_generated.py ")
    assert f"--seed {SEED}" in command_text and "--profile smoke" in command_text
    assert f"-k '{SELECTION}'" in command_text
    assert '--token "$AQID_TOKEN"' in command_text
    assert '--read-only-token "$AQID_READ_ONLY_TOKEN"' in command_text
    # The run block comes before the results table.
    assert rendered.dom.index('id="aqid-run"') < rendered.dom.index('id="results-table"')


def test_the_summary_lists_each_operation_the_generated_tests_exercised(
        rendered: RenderedReport) -> None:
    operations = section_text(rendered.dom, "aqid-operations")
    assert re.search(r"FAIL\s+v2 POST /webhooks\s+\d+\s+\d+\s+status_code_conformance", operations)
    assert re.search(r"ok\s+v2 GET /webhooks/\{id\}/deliveries\s+[1-9]\d*\s+[1-9]", operations)


def test_each_failure_shows_received_expected_where_and_the_masked_curl(
        rendered: RenderedReport) -> None:
    assert "Failures (2)" in section_text(rendered.dom, "aqid-failures")
    shown = {html.unescape(nodeid): html.unescape(text) for nodeid, text in re.findall(
        r'<details class="aqid-failure" open=""><summary><span class="nodeid">(.*?)</span>'
        r'.*?</summary><pre>(.*?)</pre></details>', rendered.dom, re.S)}
    generated = shown["contracts/test_generated.py::test_v2_operation[POST /webhooks]"]
    curated = shown["contracts/v2/create.contract.yaml::defaults-and-shape"]
    assert "Received: 200" in generated and "Documented: 201" in generated
    assert "curl -X POST" in generated and "Authorization: [Filtered]" in generated
    assert "Traceback" not in generated and "site-packages" not in generated
    assert re.search(r"Where:\s+status", curated) and re.search(r"Expected:\s+\[201\]", curated)
    assert re.search(r"Received:\s+200", curated)
    assert "— ST103 Undocumented status code</span>" in rendered.dom  # the folded lines
    assert ('— step 1 "create without is_enabled": unexpected status (expected [201], '
            "received 200)</span>") in html.unescape(rendered.dom)


def test_no_token_or_webhook_secret_appears_in_full_anywhere_in_the_report(
        rendered: RenderedReport) -> None:
    for text in (rendered.source, rendered.dom, rendered.run_output):
        for token in (TOKEN, OTHER_TOKEN, READ_ONLY_TOKEN):
            assert token not in text
        assert not FULL_SECRET.search(text)


def drawing_problems(dom: str, console: str) -> list[str]:
    """What a person would see broken: a script error, or the parts the script draws
    (results rows, environment table; in the written file they are only JSON) missing."""
    problems = [line.strip() for line in console.splitlines() if "Uncaught" in line]
    if not re.search(r'<td class="col-testId">[^<]+</td>', dom):
        problems.append("no results rows were drawn")
    if not re.search(r'<table id="environment">\s*<tr>\s*<td>Python</td>', dom):
        problems.append("the environment table was not drawn")
    return problems


def test_the_page_renders_its_results_and_environment_without_script_errors(
        rendered: RenderedReport) -> None:
    assert drawing_problems(rendered.dom, rendered.console) == []
    rows = re.findall(r'<td class="col-testId">([^<]+)</td>', rendered.dom)
    assert len(rows) == 3 and not re.findall(r'<td class="col-testId">', rendered.source)
    assert rendered.screenshot.stat().st_size > 20_000  # a drawn page, not a blank one


def test_a_script_error_in_the_report_is_seen(rendered: RenderedReport, tmp_path: Path) -> None:
    broken = tmp_path / "broken.html"
    broken.write_text(rendered.source.replace("<script>", "<script>notAFunction();", 1))
    dom, console = render_in_chromium(chromium_or_skip(), broken)
    problems = drawing_problems(dom, console)
    assert any("Uncaught ReferenceError: notAFunction" in problem for problem in problems)
    assert "no results rows were drawn" in problems


def test_the_coverage_section_is_present_when_the_coverage_plugin_is_loaded(
        rendered: RenderedReport, pytestconfig: pytest.Config) -> None:
    if not coverage_loaded(pytestconfig):
        pytest.skip("the coverage plugin (contract_suite/coverage/) is not in conftest.py yet")
    assert 'id="aqid-coverage"' in rendered.dom


# --- pure parts: run everywhere, browser or not ----------------------------------------------

SCHEMATHESIS_FAILURE = """\
[gw0] linux -- Python 3.11.7 /work/.venv/bin/python
+ Exception Group Traceback (most recent call last):
  |   File "/work/.venv/lib/python3.11/site-packages/schemathesis/generation/case.py", line 642
  |     raise FailureGroup(_failures, message) from None
  | schemathesis.core.failures.FailureGroup: Schemathesis found 1 distinct failure
  |
  | - ST103 Undocumented status code
  |
  |     Received: 200
  |     Documented: 201, 401, 422
  |
  | Reproduce with:
  |
  |     curl -X POST -H 'Authorization: [Filtered]' http://127.0.0.1:1/api/v2/webhooks
  |
  |  (1 sub-exception)
  +-+---------------- 1 ----------------
    | schemathesis.openapi.checks.UndefinedStatusCode: Undocumented status code
"""

PYTHON_FAILURE = """\
    def test_ping(webhook_receiver):
>       assert_signature_valid(request)
E       AssertionError: Received a delivery without X-Signature
E         Documented: spec/v2.yaml webhooks.ping

contracts/deliveries/test_delivery_ping.py:40: AssertionError
"""


def test_a_schemathesis_failure_is_cut_to_received_documented_and_curl() -> None:
    excerpt = failure_excerpt(SCHEMATHESIS_FAILURE)
    assert excerpt.startswith("Schemathesis found 1 distinct failure")
    assert "    Received: 200\n    Documented: 201, 401, 422" in excerpt
    assert excerpt.endswith("curl -X POST -H 'Authorization: [Filtered]' "
                            "http://127.0.0.1:1/api/v2/webhooks")
    assert "Traceback" not in excerpt and "[gw0]" not in excerpt


CURATED_FAILURE = """\
Contract broken: scenario 'defaults-and-shape', step 1 "create without is_enabled"
  unexpected status

Where:    status
Expected: [201]
Received: 200
"""


def test_a_failure_folds_to_the_line_that_says_why() -> None:
    assert headline(failure_excerpt(SCHEMATHESIS_FAILURE)) == "ST103 Undocumented status code"
    assert headline(failure_excerpt(CURATED_FAILURE)) == (
        'step 1 "create without is_enabled": unexpected status (expected [201], received 200)')
    assert headline(failure_excerpt(PYTHON_FAILURE)) == (
        "AssertionError: Received a delivery without X-Signature")


def test_a_python_assertion_keeps_its_message_lines_and_where_it_failed() -> None:
    assert failure_excerpt(PYTHON_FAILURE) == (
        "AssertionError: Received a delivery without X-Signature\n"
        "  Documented: spec/v2.yaml webhooks.ping\n"
        "Where: contracts/deliveries/test_delivery_ping.py:40: AssertionError")


def _run(embedded: bool, **target: object) -> tuple[SimpleNamespace, SimpleNamespace]:
    config = SimpleNamespace(rootpath=ROOT, args=[str(ROOT / "contracts"), "contracts/v2"],
                             option=SimpleNamespace(numprocesses=2, keyword="lifecycle",
                                                    markexpr=""))
    suite = SimpleNamespace(
        seed=42, profile=SimpleNamespace(name="ci"), options=SimpleNamespace(receiver_url=None),
        target=SimpleNamespace(embedded=embedded, base_url="https://staging.example.com",
                               api_versions=frozenset({"v2"}), no_writes=True, **target))
    return config, suite


def test_the_reproduce_command_names_the_token_variables_never_their_values() -> None:
    config, suite = _run(False, token=TOKEN, other_team_token=None,
                         read_only_token=READ_ONLY_TOKEN)
    command = reproduce_command(config, suite)
    assert command == (
        ".venv/bin/pytest contracts contracts/v2 -n 2 --base-url https://staging.example.com "
        "--profile ci --seed 42 --api-version v2 --no-writes -k lifecycle "
        '--token "$AQID_TOKEN" --read-only-token "$AQID_READ_ONLY_TOKEN"')
    assert TOKEN not in command and READ_ONLY_TOKEN not in command


def test_an_embedded_run_reproduces_without_a_target_or_tokens() -> None:
    config, suite = _run(True, token=TOKEN, other_team_token=OTHER_TOKEN, read_only_token=None)
    command = reproduce_command(config, suite)
    assert "--base-url" not in command and "--token" not in command and "--seed 42" in command


def test_without_chromium_ci_fails_instead_of_skipping(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.delenv("AQID_REQUIRE_BROWSER", raising=False)
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception):
        chromium_or_skip()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI must not skip"):
        chromium_or_skip()
