"""`python -m reference_server`: see cli.py."""

import sys

from reference_server.cli import main

sys.exit(main())
