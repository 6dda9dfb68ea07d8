# Two commands do all the set-up on a fresh machine with Python 3.11+:
#   make demo   — install, then run `clausewatch demo` (offline, SQLite, ./.clausewatch/demo)
#   make test   — install, start PostgreSQL/Redis and install Chromium if needed, run every test
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# pywb replays exported WACZ files in the tests. It pins old gevent/greenlet that
# would drag Playwright back years, so it lives in a venv of its own (decision 0011).
REPLAY_VENV ?= .venv-pywb
REPLAY_STAMP := $(REPLAY_VENV)/.installed

.PHONY: install demo test services lock replay

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

replay: $(REPLAY_STAMP)

$(REPLAY_STAMP):
	$(PYTHON) -m venv $(REPLAY_VENV)
	$(REPLAY_VENV)/bin/python -m pip install -q "pywb==2.10.0"
	touch $(REPLAY_STAMP)

# Spread over the cores (at most four workers): every test has its own folders, ports, PostgreSQL schema and
# Redis keys. `$(PY) -m pytest FILE` runs one file in one process, as before.
test: $(STAMP) $(REPLAY_STAMP) services
	$(PY) -m pytest -n auto --maxprocesses 4

# Re-resolve the locked versions after changing dependencies in pyproject.toml.
lock:
	$(PY) -m pip install -q uv
	$(VENV)/bin/uv pip compile --quiet --extra test --extra train pyproject.toml -o requirements.lock
