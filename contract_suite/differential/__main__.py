"""`python -m contract_suite.differential`: see driver.py."""

import sys

from .driver import main

sys.exit(main())
