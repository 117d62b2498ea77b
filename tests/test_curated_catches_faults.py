"""Each curated area catches at least one reference-server fault.

For every (fault, contract) pair below: start the reference server with the fault on, run
the one curated scenario against it (pytest in this process: no interpreter start-up per
case), and expect a FAILURE naming that scenario (and a clean pass with no fault, so the
failure is the fault's doing). Faults missing from the catalogue (renamed or not yet added)
are skipped with their name.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from reference_server.faults import FAULTS
from reference_server.launcher import RunningServer, start_reference_server

if TYPE_CHECKING:
    from conftest import SuiteResult

# Two teams, and a read-only token of the first (for the read-only-token contracts).
TOKENS = [("team-a", "tok-a-" + secrets.token_hex(12), False),
          ("team-b", "tok-b-" + secrets.token_hex(12), False),
          ("team-a", "tok-ro-" + secrets.token_hex(12), True)]

# area -> (fault, contract node id): what a curated contract must catch.
CATCHES: list[tuple[str, str, str]] = [
    ("lifecycle", "v2-delete-returns-200-with-body",
     "contracts/v2/lifecycle.contract.yaml::create-retrieve-update-list-delete"),
    ("lifecycle", "v2-delete-not-effective",
     "contracts/v2/lifecycle.contract.yaml::create-retrieve-update-list-delete"),
    ("lifecycle", "update-not-stored",
     "contracts/v1/lifecycle.contract.yaml::put-is-stored"),
    ("patch-put", "patch-replaces-whole",
     "contracts/v2/update-semantics.contract.yaml::patch-url-keeps-events-and-is-enabled"),
    ("patch-put", "v2-empty-patch-accepted",
     "contracts/v2/update-semantics.contract.yaml::empty-patch-is-422-and-changes-nothing"),
    ("patch-put", "v1-put-partial",
     "contracts/v1/put-semantics.contract.yaml::missing-field-is-422"),
    ("timestamps", "updated-at-not-moved",
     "contracts/v2/timestamps.contract.yaml::updated-at-moves-and-created-at-stays"),
    ("timestamps", "created-at-moves-on-update",
     "contracts/v1/timestamps.contract.yaml::offset-form-and-updated-at-moves"),
    ("validation", "validation-errors-unnamed",
     "contracts/v2/validation.contract.yaml::wrong-types-are-422-naming-each-field"),
    ("validation", "invalid-patch-partially-applied",
     "contracts/v2/update-semantics.contract.yaml::invalid-patch-changes-nothing"),
    # room (`either`): accepting a repeat is allowed, storing it twice is not
    ("validation", "v2-events-duplicates-accepted",
     "contracts/v2/validation.contract.yaml::duplicate-events-are-refused-or-read-once"),
    ("auth", "auth-after-lookup",
     "contracts/v2/auth.contract.yaml::unknown-id-without-token-is-401-not-404"),
    ("auth", "invalid-token-accepted",
     "contracts/v2/auth.contract.yaml::invalid-token-is-401-on-every-operation"),
    ("auth", "read-only-can-write",
     "contracts/v2/read-only-token.contract.yaml::reads-work-and-writes-are-403-changing-nothing"),
    ("auth", "read-only-can-write",
     "contracts/v1/read-only-token.contract.yaml::reads-work-and-writes-are-403-changing-nothing"),
    ("isolation", "other-team-visible",
     "contracts/v2/isolation.contract.yaml::other-team-gets-404-and-never-lists-it"),
    ("isolation", "other-team-listed",
     "contracts/v2/isolation.contract.yaml::we-never-see-the-other-teams-webhook"),
    ("pagination", "v2-count-is-total",
     "contracts/v2/pagination.contract.yaml::first-page-is-consistent"),
    ("pagination", "pagination-off-by-one",
     "contracts/v2/pagination.contract.yaml::walking-small-pages-yields-each-webhook-once"),
    ("pagination", "enabled-filter-ignored",
     "contracts/v2/pagination.contract.yaml::enabled-filter-returns-only-matching-webhooks"),
    ("pagination", "v2-links-not-null-on-single-page",
     "contracts/v2/pagination.contract.yaml::single-page-has-null-links"),
    # links are compared by path and parameter set, yet a lost `limit` is still caught
    ("pagination", "v2-links-drop-query",
     "contracts/v2/pagination.contract.yaml::walking-small-pages-yields-each-webhook-once"),
    # room (`either`): 422 or past the end, never 404
    ("pagination", "v2-page-past-end-404",
     "contracts/v2/pagination.contract.yaml::page-beyond-32-bit-is-422-or-past-the-end"),
    ("cross-version", "v1-secret-differs",
     "contracts/cross-version/two-views.contract.yaml::created-in-v2-read-in-v1"),
    ("cross-version", "v1-timestamps-other-instant",
     "contracts/cross-version/two-views.contract.yaml::created-in-v1-read-in-v2"),
    ("cross-version", "v1-active-inverted",
     "contracts/cross-version/two-views.contract.yaml::update-in-v1-seen-in-v2"),
]


@pytest.fixture
def server_for(tmp_path: Path) -> Iterator[object]:
    started: list[RunningServer] = []

    def start(*faults: str) -> RunningServer:
        server = start_reference_server(db_path=tmp_path / f"db{len(started)}.sqlite3",
                                        tokens=TOKENS, faults=faults)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def run_contracts(run_suite_inprocess: Callable[..., SuiteResult]
                  ) -> Callable[..., SuiteResult]:
    def run(server: RunningServer, *node_ids: str) -> SuiteResult:
        return run_suite_inprocess(
            *node_ids, "-q", "--base-url", server.base_url,
            "--token", server.token_for("team-a"),
            "--other-team-token", server.token_for("team-b"),
            "--read-only-token", server.token_for("team-a", read_only=True))

    return run


@pytest.mark.parametrize(("area", "fault", "node_id"), CATCHES,
                         ids=[f"{area}:{fault}:{node_id.split('/')[1]}"
                              for area, fault, node_id in CATCHES])
def test_a_curated_contract_catches_the_fault(server_for, run_contracts, area: str,
                                              fault: str, node_id: str) -> None:
    if fault not in FAULTS:
        pytest.skip(f"fault {fault!r} ({area}) is not in reference_server/faults.py yet")
    broken = run_contracts(server_for(fault), node_id)
    assert broken.ret == 1, broken.output[-5000:]
    assert f"FAILED {node_id}" in broken.output
    assert "Contract broken: scenario" in broken.output


def test_the_same_contracts_pass_without_faults(server_for, run_contracts) -> None:
    server = server_for()
    node_ids = sorted({node_id for _, _, node_id in CATCHES})
    result = run_contracts(server, *node_ids)
    assert result.ret == 0, result.output[-3000:]
    assert f"{len(node_ids)} passed" in result.output
