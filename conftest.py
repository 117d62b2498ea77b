"""Root conftest: loads the contract-suite plugin so that `pytest` works from a checkout.

Everything else (options, target, collectors, fixtures) lives in `contract_suite/`.
"""

pytest_plugins = [
    "contract_suite.plugin",
    "contract_suite.curated.collector",
    "contract_suite.deliveries.fixtures",
    "contract_suite.core.html_report",
    "contract_suite.coverage.plugin",
    "contract_suite.differential.recorder",
    "contract_suite.differential.pytest_entry",
]
