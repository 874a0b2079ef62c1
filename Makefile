# Share Desk: `make run` serves the app, `make test` runs the whole suite (end-to-end included),
# `make test-fast` everything but the slow layers (end-to-end, live servers, fuzzing).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app webapp
CHROMIUM ?= /usr/bin/chromium

.PHONY: run test test-fast test-clock lint install install-test chromium faketime clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# The stamp files re-run pip only when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

run: install
	$(FLASK) init-db
	$(FLASK) run --host 127.0.0.1 --port 5000

# Production: gunicorn with the settings in gunicorn.conf.py (README, "Production").
BIND ?= 127.0.0.1:8000
WORKERS ?= 2
THREADS ?= 8

.PHONY: serve
serve: install
	$(FLASK) init-db
	$(BIN)/gunicorn -c gunicorn.conf.py --bind $(BIND) --workers $(WORKERS) --threads $(THREADS)

# Debian's Chromium drives the end-to-end tests; Playwright cannot download browsers here.
chromium:
	@if [ -x "$(CHROMIUM)" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	else \
		echo "Chromium is missing: run 'sudo apt-get install chromium' (or set CHROMIUM=/path)."; \
		exit 1; \
	fi

# pytest-xdist workers: the tests wait on browsers, servers and files as much as on the CPU, so
# four workers beat two on two cores (README, "Tests"). Each is handed one test at a time, in the
# order of tests/conftest.py (the slow layers first). xdist's default hands out long runs of
# consecutive tests: one worker got every fuzzing and live test and ran them alone for the last
# 2.5 minutes while the others idled (8 min 16 s; one at a time, 6 min 42 s, back to back).
WORKERS_TEST ?= 4
PYTEST := $(BIN)/python -m pytest -n $(WORKERS_TEST) --maxschedchunk 1
# The slow layers' folders are not even collected: schemathesis builds its tests while
# collecting (7 s of CPU in every worker). The marker keeps any slow test elsewhere out too.
SLOW := e2e live fuzz
FAST := -m "not e2e and not live and not fuzz" $(SLOW:%=--ignore=tests/%)
# The fast suite is all CPU, and a worker costs its own collection: one per core.
WORKERS_FAST ?= 2
# Python and pytest keep what they compile (git ignores __pycache__), even where the
# environment says not to: a run then starts in half the time.
test test-fast test-postgres test-clock: export PYTHONDONTWRITEBYTECODE =
# The tests' throw-away files (a SQLite database per test) live in memory where the machine has
# a tmpfs with room, as test-postgres runs its server without fsync: on disk, SQLite's fsyncs as
# each test opens and closes its database cost 10 s of test-fast's 65 s (README, "Tests").
TEST_TMPDIR := $(shell df -Pk /dev/shm 2>/dev/null | awk 'NR == 2 && $$4 > 1048576 {print "/dev/shm"}')
ifneq ($(TEST_TMPDIR),)
test test-fast test-clock: export TMPDIR = $(TEST_TMPDIR)
endif

test: install-test chromium
	CHROMIUM=$(CHROMIUM) $(PYTEST)

# The quick loop: unit, API, web and security tests, about a minute on 2 cores (README, "Tests").
test-fast: install-test
	$(BIN)/python -m pytest -n $(WORKERS_FAST) $(FAST)

# The same suite against a throw-away PostgreSQL server (Debian's postgresql, apt-get as root).
.PHONY: test-postgres
test-postgres: install-test chromium
	CHROMIUM=$(CHROMIUM) .ci/with-postgres $(PYTEST)

# No test may depend on today's date: the fast suite again with the clock a year ahead, and
# started an hour before Melbourne's clocks go back (2027-04-04 03:00 AEDT = 16:00 UTC the day
# before), ticking through the change. The monotonic clock stays real, or lock timeouts hang.
# libfaketime reads its setting again every 10 s by default, with getenv, from whichever thread
# asks the time; pytest sets PYTEST_CURRENT_TEST at the same moment on another, and a getenv
# racing a setenv crashed a worker once (a segfault in an xdist worker, 2026-12-02): it reads
# the setting once.
FAKETIME = FAKETIME_DONT_FAKE_MONOTONIC=1 FAKETIME_CACHE_DURATION=86400 faketime
test-clock: install-test faketime
	$(FAKETIME) -f '+400d' $(PYTEST) -q $(FAST)
	TZ=UTC $(FAKETIME) -f '@2027-04-03 15:00:00' $(PYTEST) -q $(FAST)

faketime:
	@if command -v faketime >/dev/null; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq faketime; \
	else \
		echo "faketime is missing: run 'sudo apt-get install faketime'."; \
		exit 1; \
	fi

lint: install-test
	$(BIN)/ruff check webapp tests bench
	$(BIN)/ruff format --check webapp tests bench

# Benchmarks (not part of `make test`): real gunicorn servers on loopback ports, each figure a
# ratio against a baseline measured in the same run; prints one table (bench/, ~6 minutes).
# bench-postgres: the same table on a throw-away PostgreSQL server, started as for test-postgres.
.PHONY: bench bench-postgres
bench: install
	$(BIN)/python -m bench

bench-postgres: install
	.ci/with-postgres sh -c 'BENCH_POSTGRES_URL="$$WEBAPP_TEST_DATABASE_URL" exec $(BIN)/python -m bench'

clean:
	rm -rf $(VENV) .pytest_cache test-results
