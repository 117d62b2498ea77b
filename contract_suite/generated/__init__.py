"""Generated tests: schemathesis wiring (cases, stateful runs, the write guard), our extra
checks, and the brief's Room as it applies to generated negative cases.
"""
