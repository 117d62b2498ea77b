"""Tools for the hand-maintained OpenAPI specs in `spec/`, one module per tool, e.g.

- `spec_tools.validate`: `python -m spec_tools.validate FILE...`, one line per file.
- `spec_tools.events`: the event names, read from `spec/v2.yaml`, and wildcard matching.
"""

from pathlib import Path

#: Where the specs live in a checkout.
SPEC_DIR = Path(__file__).resolve().parent.parent / "spec"
