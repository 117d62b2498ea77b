"""Generated writes go only to the run's own webhooks, or to an id verified absent."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from contract_suite.core.http import addressed_id
from contract_suite.core.ratelimit import RateGovernor
from contract_suite.generated.wiring import GeneratedRun

ABSENT = 4_503_599_627_370_497


@dataclass
class FakeApi:
    owned_ids: set[int] = field(default_factory=lambda: {7})
    governor: RateGovernor = field(default_factory=RateGovernor)


@dataclass
class FakeSession:
    spec_dir: Path
    api: FakeApi = field(default_factory=FakeApi)

    def absent_webhook_id(self) -> int:
        return ABSENT


@dataclass
class FakeCase:
    method: str
    path_parameters: dict[str, Any]
    id: str = "case-1"


@pytest.fixture
def run(tmp_path: Path) -> GeneratedRun:
    """A run over no spec files (an empty folder): only its write guard is exercised."""
    return GeneratedRun(FakeSession(spec_dir=tmp_path))  # type: ignore[arg-type]


@pytest.mark.parametrize(("value", "expected"), [
    (5, 5), (0, 0), ("5", 5), ("+5", 5), ("0005", 5), (" 5 ", 5), ("5.0", 5), (5.0, 5),
    (-1, None), ("-3", None), ("abc", None), ("5.5", None), (True, None), (None, None),
    ([], None), ("", None), ("inf", None),
])
def test_addressed_id_reads_what_a_lenient_server_could_take_for_an_id(
        value: Any, expected: int | None) -> None:
    assert addressed_id(value) == expected


@pytest.mark.parametrize("method", ["DELETE", "PATCH", "PUT"])
@pytest.mark.parametrize(("value", "rewritten"), [(1, ABSENT), ("01", str(ABSENT)),
                                                   (123456, ABSENT)])
def test_a_write_to_an_id_the_run_did_not_create_goes_to_the_absent_id(
        run: GeneratedRun, method: str, value: Any, rewritten: Any) -> None:
    case = FakeCase(method, {"id": value})
    run._guard_writes(case)  # type: ignore[arg-type]
    assert case.path_parameters["id"] == rewritten
    assert case.id in run.repointed  # its 404 says nothing of a created resource


@pytest.mark.parametrize(("method", "value"), [("DELETE", 7), ("PATCH", "7"), ("GET", 1),
                                                ("DELETE", "abc"), ("PUT", -4)])
def test_own_ids_reads_and_values_that_name_no_webhook_are_left_alone(
        run: GeneratedRun, method: str, value: Any) -> None:
    case = FakeCase(method, {"id": value})
    run._guard_writes(case)  # type: ignore[arg-type]
    assert case.path_parameters["id"] == value
