"""`pytest contracts --baseline-url OLD --baseline-token T --base-url NEW --token T`.

The differential run from pytest's own command line: with a baseline given, this session
runs no test itself. `pytest_cmdline_main` hands the same target, tokens, seed, profile,
workers and selection (paths under contracts/, -k, -m, --api-version) to the differential
driver, whose suite runs are pytest sessions of their own, and returns the driver's exit
code (0 no difference, 1 differences or contract failures, 4 the run never started).
Everything else the driver offers (faults of the embedded server, recordings) is
`python -m contract_suite.differential` / `make diff`.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ..core.options import add_string_option, lookup, resolve_options
from ..core.paths import ROOT

BASELINE = {  # option dest -> (flag, environment variable, driver flag)
    "aqid_baseline_url": ("--baseline-url", "AQID_BASELINE_URL", "--baseline-url"),
    "aqid_baseline_token": ("--baseline-token", "AQID_BASELINE_TOKEN", "--baseline-token"),
    "aqid_baseline_other_team_token": ("--baseline-other-team-token",
                                       "AQID_BASELINE_OTHER_TEAM_TOKEN",
                                       "--baseline-other-team-token"),
    "aqid_baseline_read_only_token": ("--baseline-read-only-token",
                                      "AQID_BASELINE_READ_ONLY_TOKEN",
                                      "--baseline-read-only-token"),
    "aqid_approvals": ("--approvals", "AQID_APPROVALS", "--approvals"),
    "aqid_diff_reports": ("--diff-reports", "AQID_DIFF_REPORTS", "--reports"),
}
_HELP = {
    "aqid_baseline_url": "a differential run: the baseline build's URL (--base-url is the "
                         "candidate); the exit code says whether they behave alike",
    "aqid_baseline_token": "bearer token of the main team on the baseline",
    "aqid_baseline_other_team_token": "a second team's token on the baseline",
    "aqid_baseline_read_only_token": "a read-only token of the main team on the baseline",
    "aqid_approvals": "differential run: YAML file of approved differences",
    "aqid_diff_reports": "differential run: where differential.md/.html/-junit.xml go "
                         "(default reports/)",
}
CONTRACTS = ROOT / "contracts"


def pytest_addoption(parser: pytest.Parser) -> None:
    for dest, (flag, env, _) in BASELINE.items():
        add_string_option(parser, dest, flag, env, _HELP[dest])


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config: pytest.Config) -> int | None:
    if not lookup(config, "aqid_baseline_url", "AQID_BASELINE_URL"):
        return None
    from . import driver

    return driver.main(driver_argv(config))


def driver_argv(config: pytest.Config) -> list[str]:
    """The driver's arguments for this pytest command line (one UsageError line if a path
    is not under contracts/: a differential run compares contract runs)."""
    options = resolve_options(config)
    argv: list[str] = []
    for dest, (_, env, flag) in BASELINE.items():
        if value := lookup(config, dest, env):
            argv += [flag, value]
    for flag, value in (("--base-url", options.base_url), ("--token", options.token),
                        ("--other-team-token", options.other_team_token),
                        ("--read-only-token", options.read_only_token),
                        ("--profile", options.profile)):
        if value:
            argv += [flag, value]
    if options.seed is not None:
        argv += ["--seed", str(options.seed)]
    workers = getattr(config.option, "numprocesses", None)
    if isinstance(workers, int) and workers > 0:
        argv += ["--workers", str(workers)]
    return argv + ["--", *_selection(config)]


def _selection(config: pytest.Config) -> list[str]:
    chosen: list[str] = []
    from_testpaths = str(getattr(config, "args_source", "")).endswith("TESTPATHS")
    for arg in [] if from_testpaths else config.args:
        path = Path(arg.split("::", 1)[0])
        path = path if path.is_absolute() else Path(config.invocation_params.dir) / path
        resolved = path.resolve()
        if not resolved.is_relative_to(CONTRACTS):
            raise pytest.UsageError(f"aqid-contracts: a differential run compares contract "
                                    f"runs: {arg} is not under {CONTRACTS}")
        rest = arg.split("::", 1)[1:] if "::" in arg else []
        chosen.append("::".join([str(resolved.relative_to(ROOT)), *rest]))
    if config.option.keyword:
        chosen += ["-k", config.option.keyword]
    if config.option.markexpr:
        chosen += ["-m", config.option.markexpr]
    version = lookup(config, "aqid_api_version", None)
    if version:
        chosen += ["--api-version", version]
    return chosen
