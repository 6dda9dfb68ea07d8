# Two commands do all the set-up on a fresh machine with Python 3.11+:
#   make demo   — install, then run `clausewatch demo` (offline, SQLite, ./.clausewatch)
#   make test   — install, start PostgreSQL/Redis and install Chromium if needed, run every test
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install demo test services lock

install: $(STAMP)

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -c requirements.lock -e ".[test]"
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/clausewatch demo

services:
	bash scripts/services.sh

test: $(STAMP) services
	$(PY) -m pytest

# Re-resolve the locked versions after changing dependencies in pyproject.toml.
lock:
	$(PY) -m pip install -q uv
	$(VENV)/bin/uv pip compile --quiet --extra test --extra train pyproject.toml -o requirements.lock
