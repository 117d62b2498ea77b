"""API coverage, measured per run and per API version, from the exchanges the run made.

The criteria and levels are those of A. Martin-Lopez, S. Segura and A. Ruiz-Cortés, "Test
Coverage Criteria for RESTful Web APIs", A-TEST 2019 (doi:10.1145/3340433.3342822): input
criteria (paths, operations, parameters, parameter values of booleans and enums, request
content types, operation flow) and output criteria (status code classes, status codes,
response body properties, response content types), arranged in Test Coverage Levels
TCL0-TCL7. Operation flow (TCL7) is not measured; the highest level reported is TCL6.

- universe.py: what could be covered, read from spec/v1.yaml and spec/v2.yaml;
- model.py: what was covered, counted from `session.exchanges`, and the TCL reached;
- render.py: terminal lines and the JSON document (reports/coverage.json);
- html.py: the matrices of the pytest-html report's section;
- plugin.py: the pytest hooks (xdist shipping, --coverage-fail-under).

See docs/coverage.md.
"""
