"""Which tests of a contract-suite run failed, read from pytest's --junitxml file.

Names are shortened for a table a person reads: `contracts/v2/pagination.contract.yaml
::single-page-has-null-links` becomes `v2/pagination::single-page-has-null-links`, a
generated item `generated v2 POST /webhooks`, a delivery test
`deliveries/delivery_retries::a_failed_delivery_is_retried...`.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

MAX_WHY = 160  # characters of a failure message kept for the table


@dataclass(frozen=True)
class FailedTest:
    name: str  # short name (see module doc)
    why: str  # the first meaningful line of the failure message, shortened


@dataclass
class JunitSummary:
    passed: int = 0
    skipped: int = 0
    failed: list[FailedTest] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.passed + self.skipped + len(self.failed)


class JunitError(ValueError):
    """The file is missing or not JUnit XML; the message says which file and why."""


def read_junit(path: Path) -> JunitSummary:
    try:
        root = ET.parse(path).getroot()
    except FileNotFoundError:
        raise JunitError(f"{path}: no JUnit file (the run ended before writing it)") from None
    except ET.ParseError as exc:
        raise JunitError(f"{path}: not valid XML ({exc})") from None
    summary = JunitSummary()
    for case in root.iter("testcase"):
        problem = case.find("failure")
        if problem is None:
            problem = case.find("error")
        if problem is not None:
            name = short_name(case.get("classname", ""), case.get("name", ""))
            summary.failed.append(FailedTest(name, first_line(problem)))
        elif case.find("skipped") is not None:
            summary.skipped += 1
        else:
            summary.passed += 1
    return summary


def short_name(classname: str, name: str) -> str:
    """A test's short, stable name from JUnit's classname and name."""
    parts = classname.split(".")
    if parts and parts[0] == "contracts":
        parts = parts[1:]
    if classname.endswith(".contract.yaml"):
        return "/".join(parts[:-2]) + "::" + name
    if parts and parts[0] == "test_generated":
        if len(parts) > 1:  # TestV1Stateful / runTest
            version = "v1" if "V1" in parts[1] else "v2" if "V2" in parts[1] else parts[1]
            return f"generated {version} stateful"
        test, _, operation = name.partition("[")
        version = "v1" if "v1" in test else "v2" if "v2" in test else test
        return f"generated {version} {operation.rstrip(']')}".rstrip()
    if parts:
        parts[-1] = parts[-1].removeprefix("test_")
    return "/".join(parts) + "::" + name.removeprefix("test_")


_SCHEMATHESIS_FAILURE = re.compile(r"^[\s|]*- (ST\d+ .+?)\s*$", re.MULTILINE)
_PYTEST_ERROR = re.compile(r"^E\s+(\S.*?)\s*$", re.MULTILINE)


def first_line(problem: ET.Element) -> str:
    """What a failure says, in one short line.

    Schemathesis failures: their check codes and titles (`ST103 Undocumented status code`);
    Python tests: pytest's first `E` line; curated contracts: the headline and the problem
    (`Contract broken: scenario 'x', step 1 — unexpected status`); else the first line.
    """
    message, text = problem.get("message") or "", problem.text or ""
    checks = list(dict.fromkeys(_SCHEMATHESIS_FAILURE.findall(text or message)))
    if checks:
        return _shorten("; ".join(checks))
    error = _PYTEST_ERROR.search(text)
    if error:
        return _shorten(error.group(1))
    lines = [line.strip() for line in (message or text).splitlines()
             if line.strip() and not set(line.strip()) <= set("-=_ ")]
    if not lines:
        return "(no message)"
    if lines[0].startswith("Contract broken") and len(lines) > 1:
        return _shorten(f"{lines[0]} — {lines[1]}")
    return _shorten(lines[0])


def _shorten(line: str) -> str:
    return line if len(line) <= MAX_WHY else line[: MAX_WHY - 1] + "…"
