"""Generated contract tests: schemathesis over spec/v1.yaml and spec/v2.yaml.

The plugin has already configured the schemas for this run's target, profile and seed
(contract_suite.generated.wiring.configure, from its pytest_collect_file, just before this module
is imported), so this module only declares the tests: one item per operation and
version, and one stateful item per version.
"""

from __future__ import annotations

import pytest

from contract_suite.generated import wiring as generated

schema_v1 = generated.schema_for("v1")
schema_v2 = generated.schema_for("v2")

if schema_v1 is None or schema_v2 is None:
    pytest.fail("aqid-contracts: the generated tests need spec/v1.yaml and spec/v2.yaml, "
                "configured by the plugin (run them through `pytest contracts`)", pytrace=False)


@schema_v1.parametrize()
def test_v1_operation(case):
    generated.call_and_validate(case)


@schema_v2.parametrize()
def test_v2_operation(case):
    generated.call_and_validate(case)


TestV1Stateful = generated.stateful_test_case("v1")
TestV2Stateful = generated.stateful_test_case("v2")
