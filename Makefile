# Everyday commands. `make run` and `make test` work on a fresh machine with Python 3.11.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip

.PHONY: run test lint fmt check migrate seed clean install dev-install

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(PY)
	$(PIP) install -q -e .
	touch $@

$(VENV)/.dev-installed: pyproject.toml | $(PY)
	$(PIP) install -q -e '.[dev]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
dev-install: $(VENV)/.dev-installed

migrate: install
	$(PY) manage.py migrate --noinput

seed: migrate
	$(PY) manage.py seed_demo

run: seed
	$(PY) manage.py collectstatic --noinput -v 0
	DEBUG=$${DEBUG:-1} $(PY) manage.py run_all

test: dev-install
	$(PY) -m pytest $(PYTEST_ARGS)

lint: dev-install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(PY) manage.py makemigrations --check --dry-run

fmt: dev-install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

check: lint test

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
