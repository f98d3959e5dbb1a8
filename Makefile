# Everything runs inside .venv, created on first use from the Python 3.11+ on PATH.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app lms
HOST ?= 127.0.0.1
PORT ?= 5000
CHROMIUM ?= /usr/bin/chromium

.PHONY: install install-test run lint test test-alone verifier e2e bench load translations clean

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

## ruff: the whole tree linted and its formatting checked (the rules are in pyproject.toml)
lint: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

## Every test that needs no browser and no server besides SQLite (PostgreSQL too when LMS_TEST_DATABASE_URL is set),
## after the lint; in a new random order each run (pytest-randomly prints the seed: --randomly-seed=N repeats an
## order, -p no:randomly keeps the files' order)
test: lint verifier
	$(BIN)/pytest -m "not e2e"

## One test of each module, each alone in its own pytest process (a test that passes only after
## another is found here); ALONE_ARGS="--seed N" repeats a sample, "--jobs 4" runs more at once
ALONE_ARGS ?=
test-alone: install-test verifier
	$(BIN)/python .ci/run_alone.py $(ALONE_ARGS)

# The independent Open Badges verifier (Digital Bazaar's libraries under Node.js) that
# tests/credentials runs; without node and npm those tests skip.
VERIFIER := tests/credentials/verifier
verifier:
	@if command -v node >/dev/null && command -v npm >/dev/null; then \
	  [ -d $(VERIFIER)/node_modules/@digitalbazaar/vc ] || npm ci --prefix $(VERIFIER) --no-audit --no-fund --loglevel=error; \
	else echo "node/npm not found: the independent credential verifier tests will be skipped"; fi

$(VENV)/.installed-e2e: $(VENV)/.installed-test
	$(BIN)/pip install --quiet -e '.[e2e]'
	touch $@

## Browser tests: Playwright driving the system Chromium (see tests/e2e/README.md); screenshots in artifacts/screenshots/
e2e: $(VENV)/.installed-e2e
	@test -x $(CHROMIUM) || { echo "$(CHROMIUM) not found: apt-get install -y chromium (tests/e2e/README.md)"; exit 1; }
	E2E_CHROMIUM=$(CHROMIUM) $(BIN)/pytest -m e2e tests/e2e

## Benchmarks against baselines in the same run (bench/README.md); BENCH_ARGS="--scale 0.01" for a quick try;
## BENCH_ARGS="--database-url postgresql+psycopg://postgres@127.0.0.1:5432/lms_bench" adds PostgreSQL (that database is EMPTIED)
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

## The mixed load of a live session under gunicorn, then the data checked; exits 1 on any failure (bench/README.md, Load).
## LOAD_ARGS="--database-url postgresql+psycopg://postgres@127.0.0.1:5432/lms_load" for PostgreSQL (4 workers x 4 threads;
## that database is EMPTIED), "--seconds 15 --learners 10 --rounds 2" for a short try, --workers/--threads/--iterations
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
