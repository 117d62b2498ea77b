"""Fixtures shared by the project's own tests (keep area-specific fixtures in their modules)."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parent.parent
CONTRACTS = ROOT / "contracts"


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


class _SeeModules:
    """A plugin for an in-process run: sys.modules as the run ends, before pytester drops
    what the run imported."""

    def __init__(self) -> None:
        self.modules: dict[str, ModuleType] = {}

    def pytest_unconfigure(self, config: Any) -> None:
        self.modules = dict(sys.modules)


def _is_suite_module(name: str, module: ModuleType) -> bool:
    path = getattr(module, "__file__", None)
    return name.rpartition(".")[2] == "conftest" or (
        path is not None and Path(path).resolve().is_relative_to(CONTRACTS))


def _put_back(libraries: dict[str, ModuleType]) -> None:
    for name, module in libraries.items():
        sys.modules.setdefault(name, module)


@pytest.fixture
def _libraries_kept() -> Iterator[dict[str, ModuleType]]:
    """The libraries in-process runs imported, put back into sys.modules once pytester (set
    up after this fixture, so torn down before it) has dropped them at the test's end.

    pytester drops every module a run imported, after the run and again after the test.
    A library imported lazily inside a run (httpcore on httpx's first request,
    schemathesis' spec adapters) would then exist twice: objects kept elsewhere refer to
    the dropped copy, so a later `isinstance` or `except` sees another class (seen:
    schemathesis' OpenApiParameter, httpx raising a raw httpcore.ReadTimeout in later
    tests). Only the suite's own test modules and conftests are dropped, so each run
    imports them afresh.
    """
    libraries: dict[str, ModuleType] = {}
    yield libraries
    _put_back(libraries)


@pytest.fixture
def run_suite_inprocess(_libraries_kept: dict[str, ModuleType], pytester: pytest.Pytester,
                        monkeypatch: pytest.MonkeyPatch) -> Callable[..., SuiteResult]:
    """Run `pytest <args>` against contracts/ in this process (pytester), as a user would.

    No interpreter start-up and no imports paid again: a run costs what its tests cost.
    The engine's state is session-owned (config.stash), so runs do not leak into each
    other. It runs from the project root, as `make contract` does (paths and node ids read
    as in a terminal); the caller's AQID_* variables are dropped (the suite reads its
    target from them).
    """
    for name in [name for name in os.environ if name.startswith("AQID_")]:
        monkeypatch.delenv(name)
    monkeypatch.chdir(ROOT)  # after pytester's own chdir; undone with it

    def run(*args: str) -> SuiteResult:
        seen = _SeeModules()
        try:
            result = pytester.runpytest_inprocess(*args, "-p", "no:cacheprovider",
                                                  plugins=[seen])
        finally:
            _libraries_kept.update({name: module for name, module in seen.modules.items()
                                    if not _is_suite_module(name, module)})
            _put_back(_libraries_kept)
        return SuiteResult(int(result.ret), "\n".join(result.outlines),
                           "\n".join(result.errlines))

    return run
