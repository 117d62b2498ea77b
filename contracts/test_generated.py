"""Generated contract tests: schemathesis over spec/v1.yaml and spec/v2.yaml.

The plugin has already configured both schemas for this run's target, profile and seed
(contract_suite.generated.wiring.GeneratedRun, built by the plugin's
pytest_make_collect_report wrapper around this module and handed to its import), so this
module only declares the tests: one item per operation and version, and one stateful item
per version.
"""

from __future__ import annotations

import pytest

from contract_suite.generated.wiring import run_being_collected

run = run_being_collected()
schema_v1 = run.schema_for("v1") if run else None
schema_v2 = run.schema_for("v2") if run else None

if run is None or schema_v1 is None or schema_v2 is None:
    pytest.fail("aqid-contracts: the generated tests need spec/v1.yaml and spec/v2.yaml, "
                "configured by the plugin (run them through `pytest contracts`)", pytrace=False)


@pytest.mark.v1
@schema_v1.parametrize()
def test_v1_operation(case):
    run.call_and_validate(case)


@pytest.mark.v2
@schema_v2.parametrize()
def test_v2_operation(case):
    run.call_and_validate(case)


TestV1Stateful = pytest.mark.v1(run.stateful_test_case("v1"))
TestV2Stateful = pytest.mark.v2(run.stateful_test_case("v2"))
