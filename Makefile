# One entry point. `make demo` and `make test` set everything up themselves on a fresh
# Debian machine (Python >= 3.10, Node 20, apt/pip/npm reachable).

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
HEADLESS ?=

.PHONY: setup system-deps demo demo-headless test test-fast lint js-test bench js clean

setup: system-deps $(STAMP) exact_lab/static/viewer.js

# Chromium for the browser tests, PostgreSQL for team-mode tests (both started by the tests).
system-deps:
	@bash scripts/system-deps.sh

$(STAMP): pyproject.toml js/package-lock.json
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 10), "exact-lab needs Python >= 3.10"'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	cd js && npm ci --no-audit --no-fund --loglevel=error && npm run build
	$(PY) -m pip install --quiet -e ".[test]"
	touch $(STAMP)

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
	$(PY) -m pytest -ra

test-fast: setup
	$(PY) -m pytest -ra -m "not browser and not slow"

bench: setup
	$(PY) benchmarks/store.py

clean:
	rm -rf $(VENV) js/node_modules exact_lab/static demo-data
