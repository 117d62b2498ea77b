"""Fixtures shared by the project's own tests (keep area-specific fixtures in their modules)."""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parent.parent
PRELOADED = ("httpcore", "contract_suite.core.spec_index")
GENERATED_PATHS = ("contracts", "contracts/", "contracts/test_generated.py")


@dataclass
class SuiteResult:
    """What one in-process run of the contract suite ended with: its exit code and output."""

    ret: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        """stdout then stderr, as a terminal shows them."""
        return f"{self.stdout}\n{self.stderr}"


@pytest.fixture
def run_suite_inprocess(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
                        ) -> Callable[..., SuiteResult]:
    """Run `pytest <args>` against contracts/ in this process (pytester), as a user would.

    No interpreter start-up and no imports paid again: a run costs what its tests cost.
    The engine's state is session-owned (config.stash), so runs do not leak into each
    other. It runs from the project root, as `make contract` does (paths and node ids read
    as in a terminal); the caller's AQID_* variables are dropped (the suite reads its
    target from them).
    """
    # Imported before pytester's snapshot of sys.modules, so they stay loaded after a run:
    # httpcore, or httpx (imported here already) would keep the exception classes of a
    # dropped copy in its lazily filled map and raise them raw in later tests; spec_index,
    # so its cache of the parsed specs is filled once per process, not once per run.
    for module in PRELOADED:
        importlib.import_module(module)
    for name in [name for name in os.environ if name.startswith("AQID_")]:
        monkeypatch.delenv(name)
    monkeypatch.chdir(ROOT)  # after pytester's own chdir; undone with it

    def run(*args: str) -> SuiteResult:
        if any(arg.split("::")[0] in GENERATED_PATHS for arg in args):
            # Kept loaded too: its one global schemathesis hook is registered at import, and
            # imported again under a kept schemathesis it would be registered once more.
            importlib.import_module("contract_suite.generated.wiring")
        result = pytester.runpytest_inprocess(*args, "-p", "no:cacheprovider")
        return SuiteResult(int(result.ret), "\n".join(result.outlines),
                           "\n".join(result.errlines))

    return run
