# Two commands: `make run` (portal with demo data on http://127.0.0.1:$(PORT)) and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8000
PYTEST_ARGS ?=

.PHONY: run test install messages lint clean bench

$(BIN)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit("Python 3.11 or newer is required." if sys.version_info < (3, 11) else 0)'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $@

install: $(BIN)/.installed

# DEBUG defaults to on for the local server only; production sets its own environment.
run: export DEBUG ?= true
run: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	$(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Refresh the translation catalogues after changing user-facing strings.
messages: install
	$(BIN)/python manage.py makemessages --locale en --ignore '.venv/*' --ignore 'staticfiles/*'
	$(BIN)/python manage.py compilemessages --locale en --ignore '.venv/*'

lint: install
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) staticfiles .pytest_cache

# Server time and SQL queries of the main pages for a user with many structures.
bench: install
	$(BIN)/python benchmarks/pages.py
