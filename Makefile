# Everything runs inside .venv, created on first use from the Python 3.11+ on PATH.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app lms
HOST ?= 127.0.0.1
PORT ?= 5000
CHROMIUM ?= /usr/bin/chromium

.PHONY: install install-test run test e2e bench load translations clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/activate pyproject.toml
	$(BIN)/pip install --quiet -e .
	$(BIN)/pybabel compile --domain lms -d lms/translations --statistics 2>/dev/null || true
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test

## Set up and serve on SQLite at http://127.0.0.1:5000
run: install
	$(FLASK) lms setup --base-url http://$(HOST):$(PORT)
	$(FLASK) run --host $(HOST) --port $(PORT)

## Every test that needs no browser and no server besides SQLite (PostgreSQL too when LMS_TEST_DATABASE_URL is set)
test: install-test
	$(BIN)/pytest -m "not e2e"

$(VENV)/.installed-e2e: $(VENV)/.installed-test
	$(BIN)/pip install --quiet -e '.[e2e]'
	touch $@

## Browser tests: Playwright driving the system Chromium (see tests/e2e/README.md); screenshots in artifacts/screenshots/
e2e: $(VENV)/.installed-e2e
	@test -x $(CHROMIUM) || { echo "$(CHROMIUM) not found: apt-get install -y chromium (tests/e2e/README.md)"; exit 1; }
	E2E_CHROMIUM=$(CHROMIUM) $(BIN)/pytest -m e2e tests/e2e

## Benchmarks against baselines in the same run (bench/README.md); BENCH_ARGS="--scale 0.01" for a quick try
BENCH_ARGS ?=
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
bench: install-test
	@command -v wrk >/dev/null && command -v sqlite3 >/dev/null && [ -x /usr/bin/time ] || { \
	  echo "installing wrk, sqlite3 and time (Debian packages) for the benchmarks"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq wrk sqlite3 time >/dev/null; }
	$(BIN)/pip install --quiet -e '.[bench]'
	$(BIN)/python -m bench $(BENCH_ARGS)

$(VENV)/.installed-bench: $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[bench]'
	touch $@

## A mixed learner workload under gunicorn for a bounded time; exits 1 on any error (bench/README.md, Load).
## LOAD_ARGS="--seconds 60 --learners 40" for a longer, busier run
LOAD_ARGS ?=
load: $(VENV)/.installed-bench
	$(BIN)/python -m bench.load $(LOAD_ARGS)

## Refresh the message catalogs after changing strings
translations: install
	$(FLASK) lms translations extract
	$(FLASK) lms translations update
	$(FLASK) lms translations compile

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache
