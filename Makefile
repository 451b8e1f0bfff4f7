# Two commands: `make run` (portal with demo data on http://127.0.0.1:$(PORT)) and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8000
# The local stand-in of INSEE's Sirene API; exported so that the settings point at it.
SIRENE_STANDIN_PORT ?= 8765
export SIRENE_STANDIN_PORT
PYTEST_ARGS ?=

.PHONY: run test install messages lint clean bench prod-local demo-reset

$(BIN)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit("Python 3.11 or newer is required." if sys.version_info < (3, 11) else 0)'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $@

install: $(BIN)/.installed

# DEBUG defaults to on for the local server only; production sets its own environment.
# Unless SIRENE_API_URL is set (environment or .env), the local stand-in of INSEE's
# Sirene API serves on port $(SIRENE_STANDIN_PORT) for as long as the portal runs (one already
# serving there is reused). A port already taken stops here with one line naming the variable.
run: export DEBUG ?= true
run: install
	@$(BIN)/python -m sirene_standin.ports $(PORT) PORT
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	@if [ -n "$$SIRENE_API_URL" ] || grep -qs '^SIRENE_API_URL=' .env; then \
		echo "API Sirene : $${SIRENE_API_URL:-celle de .env}"; \
		$(BIN)/python manage.py runserver 127.0.0.1:$(PORT); \
	else \
		status=0; $(BIN)/python -m sirene_standin --check --port $(SIRENE_STANDIN_PORT) || status=$$?; \
		if [ $$status -eq 0 ]; then \
			$(BIN)/python -m sirene_standin --port $(SIRENE_STANDIN_PORT) --key demo-sirene-key & standin=$$!; \
			trap 'kill $$standin 2>/dev/null' EXIT; \
		elif [ $$status -ne 3 ]; then \
			exit 1; \
		fi; \
		trap 'exit 130' INT TERM; \
		SIRENE_API_URL=http://127.0.0.1:$(SIRENE_STANDIN_PORT)/api-sirene/3.11 SIRENE_API_KEY=demo-sirene-key \
			$(BIN)/python manage.py runserver 127.0.0.1:$(PORT); \
	fi

# The production topology on this machine: gunicorn, a Celery worker with beat, DEBUG off,
# against the local PostgreSQL (DATABASE_URL) and Redis (REDIS_URL). See docs/deployment.md.
prod-local: install
	PORT=$(PORT) SIRENE_STANDIN_PORT=$(SIRENE_STANDIN_PORT) BIN=$(BIN) deploy/prod-local.sh

# Puts the demo accounts and structures back as `seed_demo` first created them, after a
# confirmation (CONFIRM=oui skips it, for scripts).
demo-reset: export DEBUG ?= true
demo-reset: install
	@if [ "$(CONFIRM)" != "oui" ]; then \
		printf '%s' "Les comptes et structures de démonstration, et tout ce qui en dépend, vont être supprimés puis recréés. Continuer ? [oui/non] "; \
		read answer; \
		[ "$$answer" = "oui" ] || { echo "Rien n’a été modifié."; exit 1; }; \
	fi
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo --reset

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Refresh the translation catalogues after changing user-facing strings (the development
# settings: no secret key is needed to read the templates).
messages: export DEBUG ?= true
messages: install
	$(BIN)/python manage.py makemessages --locale en --ignore '.venv/*' --ignore 'staticfiles/*'
	$(BIN)/python manage.py compilemessages --locale en --ignore '.venv/*'

lint: install
	$(BIN)/ruff check .
	$(BIN)/lint-imports

clean:
	rm -rf $(VENV) staticfiles .pytest_cache

# Load benchmark of the key pages on the production stack (PostgreSQL, gunicorn, Redis):
# generates SCALE_STRUCTURES structures into their own database when it is empty, then
# writes docs/benchmarks/<date>-<label>.md and .csv (see docs/benchmarks.md).
#   make bench SCALE_STRUCTURES=100000 BENCH_ARGS="--seconds 30"
SCALE_STRUCTURES ?= 1000
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/portail_bench_$(SCALE_STRUCTURES)
BENCH_ARGS ?=
bench: install
	$(BIN)/python benchmarks/load.py --structures $(SCALE_STRUCTURES) \
		--database-url $(BENCH_DATABASE_URL) $(BENCH_ARGS)
