"""The locked dependencies: `make run` installs the runtime set only, so production code must not
import a development tool, and uv.lock must say exactly what pyproject.toml asks for."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parent.parent.parent

# Runs in the runtime-only environment with the production settings: imports every module of
# every package production loads (the apps installed with DEBUG off, the project package, the
# Sirene stand-in that `make run` starts) and names each one that fails.
IMPORT_EVERYTHING = r"""
import importlib, pkgutil, sys, traceback
from pathlib import Path
import django
django.setup()
from django.apps import apps
from django.conf import settings

root = Path.cwd()
installed = {config.name.split(".")[0] for config in apps.get_app_configs()}
project = {settings.ROOT_URLCONF.split(".")[0], settings.WSGI_APPLICATION.split(".")[0], "sirene_standin"}
packages = sorted(
    path.parent.name for path in root.glob("*/__init__.py")
    if path.parent.name in installed | project
)
failures, count = [], 0
for package in packages:
    for module in pkgutil.walk_packages([str(root / package)], prefix=package + "."):
        count += 1
        try:
            importlib.import_module(module.name)
        except Exception:
            failures.append(module.name + ": " + traceback.format_exc(limit=1).strip().splitlines()[-1])
for development_only in ("pytest", "factory", "playwright", "hypothesis", "locust", "moto"):
    try:
        importlib.import_module(development_only)
    except ImportError:
        pass
    else:
        failures.append(development_only + " is installed in the runtime environment")
print("PACKAGES", " ".join(packages))
print("IMPORTED", count)
print("\n".join(failures))
sys.exit(1 if failures else 0)
"""


def uv():
    """The uv that `make` uses (it exports UV), else one on PATH, else the one `make` installed
    into .tools/: the test needs the real installer."""
    local = REPOSITORY / ".tools" / "bin" / "uv"
    found = os.environ.get("UV") or shutil.which("uv") or (str(local) if local.exists() else None)
    if not found or not (Path(found).exists() or shutil.which(found)):
        pytest.fail("uv is needed: run the suite with `make test`, which installs it into .tools/.")
    return found


def uv_environment(**extra):
    environment = {key: value for key, value in os.environ.items() if not key.startswith("UV_PROJECT")}
    environment.update({"UV_PYTHON": sys.executable, "UV_PYTHON_DOWNLOADS": "never"}, **extra)
    environment.pop("VIRTUAL_ENV", None)
    return environment


def production_settings_module():
    manage = (REPOSITORY / "manage.py").read_text()
    return re.search(r'setdefault\("DJANGO_SETTINGS_MODULE", "([\w.]+)"\)', manage).group(1)


def test_lock_file_agrees_with_pyproject():
    result = subprocess.run(
        [uv(), "lock", "--check"], cwd=REPOSITORY, env=uv_environment(),
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr


def test_runtime_environment_imports_every_production_module(tmp_path):
    runtime = tmp_path / "runtime"
    install = subprocess.run(
        [uv(), "sync", "--locked", "--no-dev", "--quiet"],
        cwd=REPOSITORY, env=uv_environment(UV_PROJECT_ENVIRONMENT=str(runtime)),
        capture_output=True, text=True, timeout=600,
    )
    assert install.returncode == 0, install.stderr

    production = {
        key: value for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_", "REDIS_", "CELERY_", "BENCHMARK", "DEVTOOLS"))
    }
    production.update(
        DJANGO_SETTINGS_MODULE=production_settings_module(),
        DEBUG="false",
        SECRET_KEY="runtime-import-check-" + "k" * 32,
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        PYTHONDONTWRITEBYTECODE="1",
    )
    production.pop("VIRTUAL_ENV", None)
    result = subprocess.run(
        [str(runtime / "bin" / "python"), "-c", IMPORT_EVERYTHING],
        cwd=REPOSITORY, env=production, capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    packages = re.search(r"^PACKAGES (.*)$", result.stdout, re.MULTILINE).group(1).split()
    assert {"chorus", "structures", "users", "approvals", "support", "sirene_standin"} <= set(packages)
    assert int(re.search(r"^IMPORTED (\d+)$", result.stdout, re.MULTILINE).group(1)) > 100
