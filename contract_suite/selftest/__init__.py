"""The suite's own detection-power tooling: fault self-test, flake check and benchmark.

Used by scripts/selftest.py, scripts/flake_check.py and scripts/bench.py. Each module is
one concept: `junit` reads a run's JUnit XML, `first_failure` is the tiny pytest plugin
that timestamps a run's first failure, `runs` starts a reference server and runs the suite
against it, `verdicts` turns runs into the caught/missed table, `st_cli` runs
schemathesis' own CLI for the benchmark.
"""
