# Two commands on a fresh machine: `make run` and `make test`. Nothing but Python 3.11 and the
# package index is needed; Debian extras (Chromium, LibreOffice, CJK fonts) are optional and their
# absence is explained, not fatal.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test install install-test migrate demo serve lint bench clean

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

demo: migrate
	$(BIN)/xinfang load_demo

run: demo
	$(BIN)/xinfang doctor
	$(BIN)/xinfang runserver $(HOST):$(PORT)

test: install-test
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install-test
	$(BIN)/ruff check .

bench: install
	$(BIN)/python bench/bench_deadlines.py

clean:
	rm -rf $(VENV) var
