# One entry point. `make demo` and `make test` set everything up themselves on a fresh
# Debian machine (Python >= 3.10, Node 20, apt/pip/npm reachable).

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
HEADLESS ?=
# JupyterHub's proxy for the Hub tests, from npm, local to the checkout (tests/browser/hubserver.py finds it)
CHP    := .hub/node_modules/.bin/configurable-http-proxy

.PHONY: setup system-deps demo demo-headless test test-fast lint js-test bench js clean docs docs-serve

setup: system-deps $(STAMP) exact_lab/static/viewer.js $(CHP)

# Chromium for the browser tests, PostgreSQL for team-mode tests (both started by the tests).
system-deps:
	@bash scripts/system-deps.sh

$(STAMP): pyproject.toml js/package-lock.json
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 10), "exact-lab needs Python >= 3.10"'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	cd js && npm ci --no-audit --no-fund --loglevel=error && npm run build
	$(PY) -m pip install --quiet -e ".[test,docs]"
	touch $(STAMP)

$(CHP):
	npm install --prefix .hub --no-audit --no-fund --loglevel=error configurable-http-proxy@5.3.0

js exact_lab/static/viewer.js: js/package-lock.json $(wildcard js/src/*.ts js/src/**/*.ts) js/build.mjs
	cd js && (test -d node_modules || npm ci --no-audit --no-fund --loglevel=error) && npm run build

demo: setup
	$(VENV)/bin/exact-lab demo $(if $(HEADLESS),--headless,)

demo-headless: setup
	$(VENV)/bin/exact-lab demo --headless

# ruff for Python, tsc in strict mode for the front end and its tests; `make test` runs it first.
lint: setup
	$(VENV)/bin/ruff check .
	cd js && npm run --silent typecheck

# The front end's unit tests (js/test/*.test.ts) in Node's test runner.
js-test: setup
	cd js && npm test

test: setup lint js-test
	$(PY) -m pytest -ra --durations=30

test-fast: setup
	$(PY) -m pytest -ra -m "not browser and not slow"

# The documentation site (MkDocs, Material theme, API reference by mkdocstrings) into site/.
docs: setup
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict

docs-serve: setup
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs serve

bench: setup
	$(PY) benchmarks/store.py

clean:
	rm -rf $(VENV) js/node_modules exact_lab/static demo-data site .hub
