"""The pytest plugin: options, target, fixtures, selection, cleanup and reports.

Loaded by the root conftest (`pytest_plugins = ["contract_suite.plugin"]`). It acts only
when the run contains contract tests (something under contracts/): `pytest tests` never
starts a server or sends a request. Each concept lives in its own module; this one wires
them to pytest's hooks.
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest

from .core import reporting
from .core.bootstrap import prepare_run, shippable_run
from .core.cleanup import delete_webhooks
from .core.http import ApiClient
from .core.options import add_options, resolve_options
from .core.paths import CONTRACTS_DIR
from .core.ratelimit import RateLimitBudgetSpent
from .core.reporting import redact_report
from .core.session import SuiteSession, existing_session, get_session
from .core.target import Target

GENERATED_MODULE = "test_generated.py"
GENERATED_PATH = CONTRACTS_DIR / GENERATED_MODULE
DELIVERIES_DIR = CONTRACTS_DIR / "deliveries"
SCHEMATHESIS_PLUGIN = "schemathesis-on-demand"
CLEANUP_RATE_LIMIT_BUDGET = 900.0  # seconds: several windows of any common limit
_RESTORE = pytest.StashKey[list[Any]]()  # undo what the run set process-wide
_GENERATED_RUN = pytest.StashKey[Any]()  # generated.wiring.GeneratedRun, when collected
_DELETED_BY_WORKERS = pytest.StashKey[int]()
_RATE_BY_WORKERS = pytest.StashKey[list[dict[str, Any]]]()


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)


def wants_contracts(config: pytest.Config) -> bool:
    """Whether this run collects anything under contracts/ (so needs a target)."""
    for arg in config.args:
        path = Path(str(arg).split("::")[0])
        path = (path if path.is_absolute() else Path(config.invocation_params.dir) / path).resolve()
        if path == CONTRACTS_DIR or CONTRACTS_DIR in path.parents or path in CONTRACTS_DIR.parents:
            return True
    return False


def pytest_configure(config: pytest.Config) -> None:
    _rewrite_only_tests(config)
    _let_interrupts_through_hookwrappers(config)
    config.stash[_DELETED_BY_WORKERS] = 0
    config.stash[_RATE_BY_WORKERS] = []
    resolve_options(config)  # a bad option value is a usage error even without contracts
    if not wants_contracts(config):
        return
    if not hasattr(config, "workerinput"):
        prepare_run(config)  # guard, embedded server, probe: before any generated request
    _remember_interrupts(config, get_session(config))
    if not hasattr(config, "workerinput"):
        config.pluginmanager.register(_FailureEcho(config), "aqid-failure-echo")


@pytest.hookimpl(trylast=True)  # after pytest's own (its last garbage collection included)
def pytest_unconfigure(config: pytest.Config) -> None:
    """Put back the process-wide handlers this run installed (a run inside another pytest
    process, as the project's own in-process tests make, must not leave them behind)."""
    for restore in reversed(config.stash.get(_RESTORE, [])):
        restore()


def _let_interrupts_through_hookwrappers(config: pytest.Config) -> None:
    """A Ctrl-C that lands while a test's report is made passes through pytest-html's and
    hypothesis' old-style hookwrappers; pluggy warns about each before raising it again, and
    the project's `filterwarnings = error` turned that warning into an INTERNALERROR: exit 3,
    a wall of traceback, and no cleanup of the run's webhooks. The interrupt itself still
    propagates; only the warning about it is let go (and only for a KeyboardInterrupt)."""
    config.addinivalue_line(
        "filterwarnings",
        "ignore:(?s)A plugin raised an exception during an old-style hookwrapper teardown"
        ".*KeyboardInterrupt:pluggy.PluggyTeardownRaisedWarning")


def _remember_interrupts(config: pytest.Config, suite: SuiteSession) -> None:
    """A Ctrl-C that lands inside a finaliser (a socket's __del__, say) is swallowed by
    Python ("Exception ignored in …") and the run went on to the end. Remember every SIGINT,
    so the next test, or the next generated call, raises it again where it cannot be lost."""
    if (threading.current_thread() is not threading.main_thread()
            or signal.getsignal(signal.SIGINT) is not signal.default_int_handler):
        return  # someone else handles SIGINT here: leave it to them

    def on_sigint(signum: int, frame: Any) -> None:
        suite.api.interrupted = True
        if not config.stash.get(_TESTS_OVER, False):
            signal.default_int_handler(signum, frame)

    previous = signal.signal(signal.SIGINT, on_sigint)
    config.stash.setdefault(_RESTORE, []).append(lambda: signal.signal(signal.SIGINT, previous))


# From session finish on, a Ctrl-C is noted, not raised: the tests are over, and what is
# left is the teardown of fixtures still set up, the cleanup of this run's webhooks (bounded
# by its own rate-limit budget) and pytest's summary. Raised there, it would stop the
# cleanup half way (webhooks left behind) and escape pytest as a traceback (pytest catches
# a KeyboardInterrupt only while tests run): the self-test saw one land in pytest's last
# garbage collection and the run die with exit -2.
_TESTS_OVER = pytest.StashKey[bool]()


def pytest_sessionstart(session: pytest.Session) -> None:
    """A Ctrl-C raised inside a finaliser or a gc callback (hypothesis has one) cannot
    propagate: Python hands it to sys.unraisablehook, and pytest's hook would report it as
    a warning-turned-error at exit, with a traceback. Take it here instead: it is the
    interrupt, remembered, and raised again at the next test or generated call. Installed
    at session start, after pytest's own hook (pytest_configure), so it is asked first."""
    suite = existing_session(session.config)
    if suite is None:
        return
    previous = sys.unraisablehook

    def take_interrupts(unraisable: Any) -> None:
        if isinstance(unraisable.exc_value, KeyboardInterrupt):
            suite.api.interrupted = True
            return
        previous(unraisable)

    sys.unraisablehook = take_interrupts

    def restore() -> None:
        if sys.unraisablehook is take_interrupts:
            sys.unraisablehook = previous

    session.config.stash.setdefault(_RESTORE, []).append(restore)


def _raise_if_interrupted(config: pytest.Config) -> None:
    suite = existing_session(config)
    if suite is not None and suite.api.interrupted:
        raise KeyboardInterrupt


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    _raise_if_interrupted(item.config)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None
                            ) -> Generator[None, object, object]:
    """Exchanges made during a test (setup and teardown too) carry its node id."""
    suite = existing_session(item.config)
    if suite is None:
        return (yield)
    suite.exchanges.current_test = item.nodeid
    try:
        return (yield)
    finally:
        suite.exchanges.current_test = None


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(collector: pytest.Collector
                               ) -> Generator[None, pytest.CollectReport, pytest.CollectReport]:
    """Configure schemathesis only when the generated tests are collected.

    Loading and configuring both specs costs seconds (schemathesis' OpenAPI modules are
    imported and assertion-rewritten, SCHEMATHESIS-NOTES trap 13), which a run of curated
    or delivery contracts alone should not pay. This wraps the collection of
    contracts/test_generated.py only (not pytest merely listing the contracts/ folder), in
    every process that collects it (each xdist worker): the session's GeneratedRun is built
    once and handed to the module's import, which parametrizes over configured schemas:
    one item per operation (trap 4).
    """
    session = existing_session(collector.config)
    if (session is None or not isinstance(collector, pytest.Module)
            or collector.path != GENERATED_PATH):
        return (yield)
    from .generated import wiring  # deferred: the point of this hook

    _load_schemathesis_plugin(collector.config)
    run = collector.config.stash.get(_GENERATED_RUN, None)
    if run is None:
        run = collector.config.stash[_GENERATED_RUN] = wiring.GeneratedRun(session)
    with wiring.collecting(run):
        return (yield)


def _rewrite_only_tests(config: pytest.Config) -> None:
    """Keep pytest's assertion rewriting off schemathesis and hypothesis.

    pytest marks every module of each distribution that has a pytest plugin entry point for
    rewriting, blocked (`-p no:`) or not; importing schemathesis then rewrites ~400
    modules, ~4 s at every start, and nothing is cached where PYTHONDONTWRITEBYTECODE is
    set (CI machines). Their asserts are theirs, not our tests': plain Python serves.
    """
    marked = getattr(getattr(config.pluginmanager, "rewrite_hook", None), "_must_rewrite", None)
    if isinstance(marked, set):
        marked -= {name for name in marked
                   if name.split(".")[0] in ("schemathesis", "hypothesis")}


def _load_schemathesis_plugin(config: pytest.Config) -> None:
    """schemathesis' pytest plugin, registered when the generated tests are collected.

    pyproject's addopts block its entry point (`-p no:schemathesis`): loaded that way,
    pytest marks every module of the distribution for assertion rewriting, ~300 modules
    rewritten at every start (nothing is cached where PYTHONDONTWRITEBYTECODE is set, as on
    CI machines): ~4 s before the first test of every run, generated or not. Imported
    here it is plain Python. Where the entry point did load it (a pytest run without our
    ini), it is not registered twice.
    """
    if config.pluginmanager.hasplugin("schemathesis") or config.pluginmanager.hasplugin(
            SCHEMATHESIS_PLUGIN):
        return
    import schemathesis.pytest.plugin as schemathesis_plugin

    config.pluginmanager.register(schemathesis_plugin, SCHEMATHESIS_PLUGIN)


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """xdist controller: hand the run's target (one embedded server) to each worker."""
    shipped = shippable_run(node.config)
    if shipped is not None:
        node.workerinput["aqid_run"] = shipped


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    output = getattr(node, "workeroutput", None) or {}
    suite = existing_session(node.config)
    if suite is not None:
        suite.stats.merge(output.get("aqid_stats", {}))
        suite.requests_by_workers += int(output.get("aqid_client_requests", 0))
    node.config.stash[_DELETED_BY_WORKERS] += int(output.get("aqid_deleted", 0))
    if output.get("aqid_rate"):
        node.config.stash[_RATE_BY_WORKERS].append(output["aqid_rate"])


def pytest_report_header(config: pytest.Config) -> list[str] | None:
    session = existing_session(config)
    return reporting.header_lines(session) if session else None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    session = existing_session(config)
    if session is None:
        return
    for item in items:
        _mark_generated(item)
    keep, drop = [], []
    for item in items:
        (drop if _deselected(item, session) else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
    items[:] = sorted(keep, key=_cost_rank)  # stable: path order within a rank


def _cost_rank(item: pytest.Item) -> int:
    """Cheap, wide checks first, so a broken build fails in seconds (issue #14): curated
    contracts (a few requests each, every operation's documented examples), then what
    waits on deliveries, then one generated item per operation, then stateful sequences.

    Deliveries before generated on purpose: a delivery contract fires a sandbox event only
    when no webhook the run did not create would receive it (room foreign-data), and the
    generated tests create webhooks with untagged URLs (negative cases a server accepted)
    that another xdist worker cannot tell from someone else's.
    """
    if item.path.name == GENERATED_MODULE:
        return 3 if "stateful" in item.nodeid.lower() else 2
    if DELIVERIES_DIR in item.path.parents or item.get_closest_marker("sandbox"):
        return 1
    return 0


class _FailureEcho:
    """Says each failure the moment it is known (the details still come at the end), so a
    person watching a long run can stop it (Ctrl-C cleans up) without waiting for the end."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config

    @pytest.hookimpl(trylast=True)
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if not report.failed:
            return
        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is None or self.config.option.verbose > 0:
            return  # -v already prints each outcome on its own line
        reporter.ensure_newline()
        reporter.write_line(f"FAILED {report.nodeid} ({report.when}, {report.duration:.1f} s)",
                            red=True)


def _mark_generated(item: pytest.Item) -> None:
    """Generated items get `writes` unless they only read (their version mark is declared
    in contracts/test_generated.py)."""
    if item.path.name != GENERATED_MODULE:
        return
    name = item.nodeid.split("::", 1)[-1]
    method = name.split("[", 1)[1].split(" ", 1)[0] if "[" in name else ""
    if "stateful" in name.lower():
        item.add_marker("writes")
        item.add_marker("slow")
    elif method.upper() != "GET":
        item.add_marker("writes")


def _deselected(item: pytest.Item, session: SuiteSession) -> bool:
    target = session.target
    if target.no_writes and item.get_closest_marker("writes"):
        return True
    # An item needs every version it is marked with (a cross-version one needs both).
    needed = {v for v in ("v1", "v2") if item.get_closest_marker(v)}
    if not needed <= target.api_versions:
        return True
    return (item.path.name == GENERATED_MODULE and "stateful" in item.nodeid.lower()
            and not session.profile.stateful)


@pytest.hookimpl(wrapper=True, tryfirst=True)  # outermost: sees the report last
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]
                              ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    suite = existing_session(item.config)
    if (suite is not None and suite.api.interrupted and report.failed
            and "KeyboardInterrupt" in str(report.longrepr)):
        # The Ctrl-C was swallowed inside this test (a finaliser) and surfaced as its
        # failure: it is the interrupt, not a finding; the run stops before the next test.
        report.outcome = "skipped"
        report.longrepr = (str(item.path), item.location[1] or 0, "Skipped: interrupted (Ctrl-C)")
    if call.excinfo is not None and call.excinfo.errisinstance(RateLimitBudgetSpent):
        # The target's rate limit outlasted the run's budget: this test did not run to its
        # end, which is no finding about the contract (brief, Room "rate-limits").
        report.outcome = "skipped"
        report.longrepr = (str(item.path), item.location[1] or 0,
                           f"Skipped: rate limited: {call.excinfo.value}")
    if suite is not None:
        redact_report(report, suite.secrets)
    return report


@pytest.hookimpl(tryfirst=True)
def pytest_keyboard_interrupt(excinfo: pytest.ExceptionInfo[BaseException]) -> None:
    """Ctrl-C: keep pytest's own interrupted summary (and so exit 2) from crashing.

    Python 3.11 can leave a traceback frame without a line number where the interrupt lands
    (seen inside hypothesis' engine); pytest's rendering of the interrupt then dies with
    "TypeError: unsupported operand type(s) for -: 'NoneType' and 'int'" and the run ends
    with exit 1 and a traceback. Such frames carry nothing to show: drop them, and the
    exception chain behind a Ctrl-C, before pytest renders it (this hook runs first).
    """
    try:
        excinfo.traceback = excinfo.traceback.filter(
            lambda entry: entry._rawentry.tb_lineno is not None)
        excinfo.value.__cause__ = excinfo.value.__context__ = None
        excinfo.value.__suppress_context__ = True
    except Exception:  # noqa: BLE001 - never make an interrupt worse
        pass


@pytest.hookimpl(trylast=True)
def pytest_exception_interact(node: Any, call: Any, report: pytest.TestReport) -> None:
    # schemathesis rebuilds longrepr here (after logreport): mask its version too.
    suite = existing_session(node.config)
    if isinstance(report, pytest.TestReport) and suite is not None:
        redact_report(report, suite.secrets)


@pytest.hookimpl(wrapper=True, trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> Generator[None, None, None]:
    """Delete what this run created, also after failures and Ctrl-C.

    The innermost wrapper, so this runs after every plain sessionfinish hook, including
    pytest's own that tears down the fixtures still set up when a run is interrupted
    (their teardown deletes webhooks through the client closed below), yet before the
    terminal summary (which reports the cleanup) and xdist's "workerfinished" (which
    ships workeroutput).
    """
    session.config.stash[_TESTS_OVER] = True
    try:
        return (yield)
    finally:
        _clean_up(session)
        _cut_short_by_rate_limit(session)


def _cut_short_by_rate_limit(session: pytest.Session) -> None:
    """A run whose rate-limit budget ran out did not test everything: it is no pass (exit 0)
    and no broken contract (exit 1), so it ends as cut short, pytest's exit 2."""
    config = session.config
    suite = existing_session(config)
    if suite is None or hasattr(config, "workerinput"):
        return
    spent = suite.governor.spent or any(r.get("spent") for r in config.stash[_RATE_BY_WORKERS])
    if spent and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.INTERRUPTED


def _clean_up(session: pytest.Session) -> None:
    config = session.config
    suite = existing_session(config)
    if suite is None:
        return
    is_worker = hasattr(config, "workerinput")
    # Cleanup waits out the rate limit too, on a budget of its own: what the run created
    # must not stay behind because the tests spent theirs.
    suite.governor.budget = suite.governor.waited + CLEANUP_RATE_LIMIT_BUDGET
    # Workers delete what they saw created; the controller (or a lone process) also sweeps
    # the target for this run's tag, once every worker is done.
    result = delete_webhooks(suite.api, suite.target.run_id, known=suite.api.created,
                             sweep=not is_worker)
    if is_worker:
        config.workeroutput["aqid_stats"] = suite.stats.to_dict()
        config.workeroutput["aqid_client_requests"] = suite.client_requests
        config.workeroutput["aqid_deleted"] = len(result.deleted)
        config.workeroutput["aqid_rate"] = reporting.rate_summary(suite.governor)
    config.stash[_CLEANUP_KEY] = result
    suite.api.close()


_CLEANUP_KEY = pytest.StashKey[Any]()


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    suite = existing_session(config)
    if suite is None:
        return
    terminalreporter.section("aqid-contracts summary")
    for line in reporting.header_lines(suite)[:1]:
        terminalreporter.write_line(line)
    for line in reporting.summary_lines(suite.stats.to_dict(), suite.client_requests):
        terminalreporter.write_line(suite.secrets(line))
    result = config.stash.get(_CLEANUP_KEY, None)
    if result is not None:
        deleted = len(result.deleted) + config.stash[_DELETED_BY_WORKERS]
        terminalreporter.write_line(
            f"cleanup: deleted {deleted} webhook(s) left by run {suite.target.run_id}")
        for error in result.errors:
            terminalreporter.write_line(f"cleanup problem: {suite.secrets(error)}")
    rates = [reporting.rate_summary(suite.governor), *config.stash[_RATE_BY_WORKERS]]
    line = reporting.rate_line(rates)
    if line:
        terminalreporter.write_line(line)


# --- fixtures: Python tests ask for these, never for request.config -------------------------


@pytest.fixture(scope="session")
def suite_session(request: pytest.FixtureRequest) -> SuiteSession:
    return get_session(request.config)


@pytest.fixture(scope="session")
def target(suite_session: SuiteSession) -> Target:
    return suite_session.target


@pytest.fixture(scope="session")
def api(suite_session: SuiteSession) -> ApiClient:
    return suite_session.api


@pytest.fixture(scope="session")
def sandbox_settings(suite_session: SuiteSession) -> dict[str, Any]:
    settings = suite_session.sandbox
    if settings is None:
        pytest.skip(f"the target {suite_session.target.base_url} has no sandbox control surface "
                    "(GET /_sandbox answered 404): needs the reference server")
    return settings
