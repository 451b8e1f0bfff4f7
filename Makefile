# Two commands: `make run` (portal with demo data on http://127.0.0.1:$(PORT)) and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8000
# The local stand-in of INSEE's Sirene API; exported so that the settings point at it.
SIRENE_STANDIN_PORT ?= 8765
export SIRENE_STANDIN_PORT
PYTEST_ARGS ?=
# Both cores by default: `make test WORKERS=0` runs the suite in one process. Tests go to the
# workers in pytest-django's order (database tests that flush tables last), hence no work stealing.
WORKERS ?= auto

# Dependencies come from uv.lock (see docs/dependencies.md), installed by uv: the one on PATH, or
# this pinned version installed from PyPI into .tools/ with the machine's Python and pip.
UV_VERSION := 0.13.9
TOOLS := .tools
UV ?= $(or $(shell command -v uv 2>/dev/null),$(TOOLS)/bin/uv)
export UV
export UV_PROJECT_ENVIRONMENT := $(VENV)
# uv uses this machine's Python and never downloads one.
export UV_PYTHON := $(PYTHON)
export UV_PYTHON_DOWNLOADS := never

.PHONY: run test install install-dev lock lock-check messages lint clean bench prod-local demo-reset

$(TOOLS)/bin/uv:
	@$(PYTHON) -c 'import sys; sys.exit("Python 3.11 or newer is required." if sys.version_info < (3, 11) else 0)'
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install -qq --disable-pip-version-check uv==$(UV_VERSION)

# The runtime set only (what `make run` and production need). `--inexact` keeps the development
# set when it is there, so that `make run` after `make test` installs nothing.
$(BIN)/.runtime-installed: pyproject.toml uv.lock | $(UV)
	@$(PYTHON) -c 'import sys; sys.exit("Python 3.11 or newer is required." if sys.version_info < (3, 11) else 0)'
	$(UV) sync --locked --no-dev --inexact --quiet
	@touch $@

# The runtime and development sets, exactly as locked.
$(BIN)/.dev-installed: pyproject.toml uv.lock | $(UV)
	@$(PYTHON) -c 'import sys; sys.exit("Python 3.11 or newer is required." if sys.version_info < (3, 11) else 0)'
	$(UV) sync --locked --quiet
	@touch $@ $(BIN)/.runtime-installed

install: $(BIN)/.runtime-installed
install-dev: $(BIN)/.dev-installed

# After editing the dependencies in pyproject.toml: `make lock` (UPGRADE=1 also moves every
# pinned version to the newest one the ranges allow). Commit uv.lock with the change.
lock: | $(UV)
	$(UV) lock $(if $(UPGRADE),--upgrade)

# Fails when pyproject.toml and uv.lock disagree (CI runs it).
lock-check: | $(UV)
	$(UV) lock --check

# DEBUG defaults to on for the local server only; production sets its own environment.
# Unless SIRENE_API_URL is set (environment or .env), the local stand-in of INSEE's
# Sirene API serves on port $(SIRENE_STANDIN_PORT) for as long as the portal runs (one already
# serving there is reused). A port already taken stops here with one line naming the variable.
# The periodic tasks (approvers' digest, auto-close, INSEE refresh, purge) run beside it, without
# Celery: `manage.py run_schedule` (docs/deployment.md), stopped with the portal.
run: export DEBUG ?= true
run: install
	@$(BIN)/python -m sirene_standin.ports $(PORT) PORT
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	@if [ -n "$$SIRENE_API_URL" ] || grep -qs '^SIRENE_API_URL=' .env; then \
		echo "API Sirene : $${SIRENE_API_URL:-celle de .env}"; \
	else \
		status=0; $(BIN)/python -m sirene_standin --check --port $(SIRENE_STANDIN_PORT) || status=$$?; \
		if [ $$status -eq 0 ]; then \
			$(BIN)/python -m sirene_standin --port $(SIRENE_STANDIN_PORT) --key demo-sirene-key & standin=$$!; \
		elif [ $$status -ne 3 ]; then \
			exit 1; \
		fi; \
		export SIRENE_API_URL=http://127.0.0.1:$(SIRENE_STANDIN_PORT)/api-sirene/3.11 SIRENE_API_KEY=demo-sirene-key; \
	fi; \
	$(BIN)/python manage.py run_schedule & scheduler=$$!; \
	trap 'kill $$scheduler $$standin 2>/dev/null' EXIT; \
	trap 'exit 130' INT TERM; \
	$(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

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

test: install-dev
	$(BIN)/python -m pytest --numprocesses $(WORKERS) $(PYTEST_ARGS)

# Refresh the translation catalogues after changing user-facing strings (the development
# settings: no secret key is needed to read the templates).
messages: export DEBUG ?= true
messages: install
	$(BIN)/python manage.py makemessages --locale en --ignore '.venv/*' --ignore '.tools/*' --ignore 'staticfiles/*'
	$(BIN)/python manage.py compilemessages --locale en --ignore '.venv/*'

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/lint-imports

clean:
	rm -rf $(VENV) $(TOOLS) staticfiles .pytest_cache

# Load benchmark of the key pages on the production stack (PostgreSQL, gunicorn, Redis):
# generates SCALE_STRUCTURES structures into their own database when it is empty, then
# writes docs/benchmarks/<date>-<label>.md and .csv (see docs/benchmarks.md).
#   make bench SCALE_STRUCTURES=100000 BENCH_ARGS="--seconds 30"
SCALE_STRUCTURES ?= 1000
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/portail_bench_$(SCALE_STRUCTURES)
BENCH_ARGS ?=
bench: install-dev
	$(BIN)/python benchmarks/load.py --structures $(SCALE_STRUCTURES) \
		--database-url $(BENCH_DATABASE_URL) $(BENCH_ARGS)
