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
# Unless SIRENE_API_URL is set (environment or .env), the local stand-in of INSEE's
# Sirene API serves on port 8765 for as long as the portal runs.
run: export DEBUG ?= true
run: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	@if [ -n "$$SIRENE_API_URL" ] || grep -qs '^SIRENE_API_URL=' .env; then \
		echo "API Sirene : $${SIRENE_API_URL:-celle de .env}"; \
		$(BIN)/python manage.py runserver 127.0.0.1:$(PORT); \
	else \
		$(BIN)/python -m sirene_standin --port 8765 --key demo-sirene-key & standin=$$!; \
		trap 'kill $$standin 2>/dev/null' EXIT; trap 'exit 130' INT TERM; \
		SIRENE_API_URL=http://127.0.0.1:8765/api-sirene/3.11 SIRENE_API_KEY=demo-sirene-key \
			$(BIN)/python manage.py runserver 127.0.0.1:$(PORT); \
	fi

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
