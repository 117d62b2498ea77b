"""The plugin keeps pytest's rendering of a Ctrl-C from crashing on line-less frames."""

from __future__ import annotations

import sys
from types import SimpleNamespace

import pytest
from _pytest._code.code import Traceback, TracebackEntry

from contract_suite.plugin import pytest_keyboard_interrupt


def interrupted() -> pytest.ExceptionInfo[BaseException]:
    try:
        try:
            raise ValueError("context behind the interrupt")
        except ValueError:
            raise KeyboardInterrupt from None
    except KeyboardInterrupt:
        return pytest.ExceptionInfo.from_current()


def test_a_frame_without_a_line_number_no_longer_crashes_the_interrupt_summary() -> None:
    excinfo = interrupted()
    real = excinfo.traceback[0]._rawentry
    lineless = SimpleNamespace(tb_frame=sys._getframe(), tb_lineno=None, tb_next=None)
    excinfo.traceback = Traceback([TracebackEntry(real), TracebackEntry(lineless)])  # type: ignore[arg-type]
    with pytest.raises(TypeError):  # what pytest's terminal reporter met
        excinfo.getrepr(funcargs=True)
    pytest_keyboard_interrupt(excinfo)
    assert [entry._rawentry for entry in excinfo.traceback] == [real]
    assert "KeyboardInterrupt" in str(excinfo.getrepr(funcargs=True))
