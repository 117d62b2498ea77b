# aqid-contracts: every target is one or two lines a person could type.
.DEFAULT_GOAL := help
SHELL := /bin/bash
PY := .venv/bin/python
VENV := .venv/.installed
# Where the contract suite points; empty means "start the embedded reference server".
BASE_URL ?=
TOKEN ?=
PROFILE ?=
PYTEST_ARGS ?=
# Spec documentation tools: the pinned Redocly CLI in ./node_modules, quiet and offline.
NPM_TOOLS := node_modules/.package-lock.json
REDOCLY := REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true node_modules/.bin/redocly
GUIDE ?= ../shared/MIGRATION-GUIDE.txt
REF ?= HEAD

.PHONY: help venv test contract report serve lint lint-spec docs spec-diff migration-guide guide-check cleanup selftest flake-check bench diff clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

$(VENV): pyproject.toml
	python3 -m venv .venv && .venv/bin/pip install -q --disable-pip-version-check -e '.[dev]'
	@touch $@

venv: $(VENV) ## Create .venv and install the project (done by every other target)

test: $(VENV) ## The project's own tests (engine, server, specs, fault self-test slice)
	scripts/pytest-or-fail tests -n 2 $(PYTEST_ARGS)

contract: $(VENV) ## The contract suite: against BASE_URL/TOKEN (PROFILE=staging for a rate-limited host), or the embedded reference server
	AQID_BASE_URL=$(BASE_URL) AQID_TOKEN=$(TOKEN) scripts/pytest-or-fail contracts -n 2 --junitxml=reports/contract-junit.xml $(if $(PROFILE),--profile $(PROFILE)) $(PYTEST_ARGS)

report: $(VENV) ## The contract suite with an HTML report in reports/contract.html
	AQID_BASE_URL=$(BASE_URL) AQID_TOKEN=$(TOKEN) scripts/pytest-or-fail contracts -n 2 --junitxml=reports/contract-junit.xml --html=reports/contract.html --self-contained-html -o render_collapsed=all $(if $(PROFILE),--profile $(PROFILE)) $(PYTEST_ARGS)

serve: $(VENV) ## Run the reference server on http://127.0.0.1:8000
	$(PY) -m reference_server --port 8000

cleanup: $(VENV) ## Delete webhooks left on BASE_URL by any contract run (tagged URLs)
	AQID_BASE_URL=$(BASE_URL) AQID_TOKEN=$(TOKEN) $(PY) scripts/cleanup.py

lint: $(VENV) ## ruff over the Python code
	.venv/bin/ruff check contract_suite reference_server spec_tools tests scripts conftest.py

lint-spec: $(VENV) $(NPM_TOOLS) ## openapi-spec-validator + Redocly lint (redocly.yaml): a line per problem, OK per clean file
	$(PY) -m spec_tools.lint spec/v1.yaml spec/v2.yaml spec/sandbox.yaml

$(NPM_TOOLS): package.json package-lock.json
	@command -v npm >/dev/null || { echo "needs Node.js >= 20.19 with npm (Debian: apt-get install nodejs npm)"; exit 1; }
	npm ci --no-audit --no-fund && touch $@

docs: $(NPM_TOOLS) ## Render the HTML API reference for v1 and v2 into build/docs/ (pinned Redocly CLI, works offline)
	for v in v1 v2; do $(REDOCLY) build-docs spec/$$v.yaml --inlineBundle -o build/docs/$$v.html || exit 1; done

migration-guide: $(VENV) ## Regenerate docs/migration-guide.md from spec/v1.yaml + spec/v2.yaml
	$(PY) -m spec_tools.migration

guide-check: $(VENV) ## Check the published guide (GUIDE=...) against the specs; exit 1 on findings (it has some)
	$(PY) -m spec_tools.guide_check $(GUIDE)

spec-diff: $(VENV) ## Breaking changes in spec/ since REF=<git ref> (default HEAD); exit 1 on any
	$(PY) -m spec_tools.spec_diff $(REF)

selftest: $(VENV) ## Fault self-test: clean server, every fault and room variant, a 200-a-minute target, integrity runs (results/selftest.md); SELFTEST_ARGS=--quick|--no-integrity
	$(PY) scripts/selftest.py $(SELFTEST_ARGS)

flake-check: $(VENV) ## The clean suite N times (default 10, N=...) with new seeds; a failure names its seed
	$(PY) scripts/flake_check.py --runs $(or $(N),10)

diff: $(VENV) ## Differential run: BASE_URL/TOKEN (candidate) against BASELINE_URL/BASELINE_TOKEN, or the embedded server twice; DIFF_ARGS=--fault NAME|--approvals F|--record F|--against-recording F
	AQID_BASELINE_URL=$(BASELINE_URL) AQID_BASELINE_TOKEN=$(BASELINE_TOKEN) AQID_BASE_URL=$(BASE_URL) AQID_TOKEN=$(TOKEN) $(PY) -m contract_suite.differential $(if $(PROFILE),--profile $(PROFILE)) $(DIFF_ARGS)

bench: $(VENV) ## Our suite vs schemathesis' st CLI: time, requests, faults caught (results/bench.md); BENCH_ARGS=...
	$(PY) scripts/bench.py $(BENCH_ARGS)

clean: ## Remove the venv, caches and reports
	rm -rf .venv reports results build .pytest_cache .ruff_cache
