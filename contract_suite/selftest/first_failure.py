"""A pytest plugin that writes the wall-clock time of a run's first failure to a file.

Loaded by the self-test and the benchmark with `-p contract_suite.selftest.first_failure`
and the file named in AQID_FIRST_FAILURE_FILE; it does nothing without that variable.
Under xdist both a worker and the controller see the report: the first to create the file
wins (O_EXCL), which is the earliest moment anyone knew.

Likewise AQID_TESTS_STARTED_FILE gets a line per test as it starts (its node id; under
xdist from the worker and the controller both): the integrity check's interrupts count
tests, so where a SIGINT lands does not depend on how fast the machine is.
"""

from __future__ import annotations

import os
import time

import pytest

ENV_VAR = "AQID_FIRST_FAILURE_FILE"
STARTED_ENV_VAR = "AQID_TESTS_STARTED_FILE"


def _record() -> None:
    path = os.environ.get(ENV_VAR)
    if not path:
        return
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(fd, "w") as file:
        file.write(f"{time.time():.3f}\n")


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.failed:
        _record()


def pytest_runtest_logstart(nodeid: str, location: tuple[str, int | None, str]) -> None:
    path = os.environ.get(STARTED_ENV_VAR)
    if path:  # one short write in append mode: whole lines, also from several processes
        with open(path, "a") as file:
            file.write(nodeid + "\n")


def tests_started(path: str | os.PathLike[str]) -> int:
    """How many different tests have started, by the AQID_TESTS_STARTED_FILE lines."""
    try:
        with open(path) as file:
            return len({line for line in file.read().split("\n")[:-1] if line})
    except OSError:
        return 0


def pytest_collectreport(report: pytest.CollectReport) -> None:
    if report.failed:
        _record()


def read_first_failure(path: str | os.PathLike[str]) -> float | None:
    """The recorded epoch time, or None when the run had no failure."""
    try:
        with open(path) as file:
            return float(file.read().strip())
    except (OSError, ValueError):
        return None
