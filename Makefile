# Voortgang: `make run` serves the real programme on SQLite, `make test` runs the suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum < pyproject.toml | cut -d' ' -f1)

.PHONY: install run test lint translations bench bench-round bench-exports clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed (set PYTHON=...)")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/voortgang db upgrade
	$(BIN)/voortgang seed
	@if [ "$${ENVIRONMENT:-development}" != production ]; then $(BIN)/voortgang dev-account; fi
	$(BIN)/voortgang serve

test: $(STAMP)
	$(BIN)/pytest $(PYTEST_ARGS)

# ruff (lint and format) and mypy (the [tool.mypy] settings in pyproject.toml).
lint: $(STAMP)
	$(BIN)/ruff check app migrations tests bench
	$(BIN)/ruff format --check app migrations tests bench
	$(BIN)/mypy

# Re-extract the messages and merge them into the catalogues; then translate the new entries.
translations: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k N_ -k _ -k gettext -k ngettext:1,2 \
		--no-location --omit-header -o app/locale/messages.pot .
	$(BIN)/pybabel update -i app/locale/messages.pot -d app/locale -l nl --no-fuzzy-matching --omit-header

bench: $(STAMP)
	$(BIN)/pip install --quiet -e ".[dev,bench]"
	$(BIN)/python bench/run.py

# Only the update round in progress (SQLite, and PostgreSQL on 127.0.0.1:5432): bench/results/round.md
bench-round: $(STAMP)
	$(BIN)/python bench/run.py --round

bench-exports: $(STAMP)
	$(BIN)/python bench/exports.py

clean:
	rm -rf $(VENV) data
