"""The embedded reference server: both Amiqus ID webhook API versions over one SQLite store.

It is the contract suite's default target and, with named faults switched on (see
`faults.py`), the test bed that proves the suite catches regressions.
Start it with `python -m reference_server` or, from code and tests,
`reference_server.launcher.start_reference_server(...)`.
"""

BUILD = "0.1.0"
