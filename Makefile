# Two commands on a fresh machine: `make run` and `make test`. Nothing but Python 3.11 and the
# package index is needed; Debian extras (Chromium, LibreOffice, CJK fonts) are optional and their
# absence is explained, not fatal.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test install install-test migrate demo serve lint bench bench-data bench-deadlines \
	bench-workflow bench-load clean

$(BIN)/python:
	$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "xinfang needs Python 3.11, found " + sys.version.split()[0])'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python requirements.lock requirements-build.lock pyproject.toml
	$(BIN)/pip install --quiet -r requirements-build.lock -r requirements.lock
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed requirements-test.lock
	$(BIN)/pip install --quiet -r requirements-test.lock
	touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

migrate: install
	$(BIN)/xinfang migrate --noinput
	$(BIN)/xinfang profile sync

demo: migrate
	$(BIN)/xinfang load_demo

# The one-command demo: SQLite, demo data, Django's development server with DEBUG on. Not for
# production — that is `make serve` (docs/operations.md).
run: demo
	$(BIN)/xinfang doctor
	$(BIN)/xinfang serve $(HOST):$(PORT)

# Production: gunicorn + the worker under xinfang.settings.production (DEBUG off, PostgreSQL,
# secrets from the environment: XINFANG_SECRET_KEY, DATABASE_URL, XINFANG_ALLOWED_HOSTS, …).
# Migrates, collects the static files into $$XINFANG_VAR_DIR/static (WhiteNoise serves them),
# refuses to start unless `check --deploy` is clean. Under systemd: deploy/*.service.
serve: export DJANGO_SETTINGS_MODULE = xinfang.settings.production
serve: install
	$(BIN)/xinfang check --deploy --fail-level WARNING
	$(BIN)/xinfang migrate --noinput
	$(BIN)/xinfang profile sync
	$(BIN)/xinfang collectstatic --noinput --verbosity 0
	exec $(BIN)/xinfang serve --production --grace 40 $(BIND)

# The load test (docs/PERFORMANCE.md): gunicorn + PostgreSQL on the loopback, 50 users.
#   make bench-load DATABASE_URL=postgres://… [LOAD_ARGS="--duration 60"]
LOAD_ARGS ?=
bench-load: install-test
	nice -n 10 $(BIN)/python -m bench.load.run $(LOAD_ARGS)

# The suite runs on every core (pytest-xdist); PYTEST_WORKERS=0 runs it in this process alone.
PYTEST_WORKERS ?= auto

# Compiled modules are kept (in __pycache__, which git ignores) even where the environment asks
# Python not to write them (PYTHONDONTWRITEBYTECODE): otherwise every worker, and every server or
# command a test starts, compiles the project again and pytest rewrites every test module's
# asserts again — 12 s of CPU to collect the suite against 4 s from kept files.
test: install-test
	PYTHONDONTWRITEBYTECODE= $(BIN)/python -m pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

lint: install-test
	$(BIN)/ruff check .

# The scale benchmark (docs/PERFORMANCE.md): generate a province once per size, then measure
# xinfang on SQLite and PostgreSQL beside django-helpdesk 2.6.1.
#   make bench-data SIZE=200000 [ENGINES="postgres"]   make bench SIZE=200000
SIZE ?= 20000
ENGINES ?= sqlite postgres
BENCH_ARGS ?=

bench-data: install
	for engine in $(ENGINES); do \
		nice -n 10 $(BIN)/python bench/generate.py --cases $(SIZE) --engine $$engine || exit 1; \
	done

bench: install
	$(BIN)/python bench/run.py --cases $(SIZE) --engines $(shell echo $(ENGINES) | tr ' ' ',') \
		$(BENCH_ARGS)

bench-deadlines: install
	$(BIN)/python bench/bench_deadlines.py

bench-workflow: install
	$(BIN)/python bench/bench_workflow.py

clean:
	rm -rf $(VENV) var
