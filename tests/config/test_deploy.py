"""The production settings pass Django's deployment checklist with no warning."""

import json
import os
import runpy
import secrets
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "ALLOWED_HOSTS": "portail.exemple.gouv.fr",
    "DJANGO_SETTINGS_MODULE": "config.settings",
}


def _run(*args, **env):
    # The test run allows async-unsafe calls (live server); a production process does not.
    dropped = {"DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "DJANGO_SETTINGS_MODULE", "SECURE_SSL_REDIRECT"}
    dropped |= {"DJANGO_ALLOW_ASYNC_UNSAFE"}
    clean = {key: value for key, value in os.environ.items() if key not in dropped}
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env={**clean, **PRODUCTION, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_gives_no_warning():
    result = _run("manage.py", "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def _settings(**env):
    code = (
        "import django, json; django.setup(); from django.conf import settings as s;"
        "print(json.dumps({name: getattr(s, name, None) for name in ("
        "'SECURE_SSL_REDIRECT', 'SECURE_HSTS_SECONDS', 'SECURE_HSTS_INCLUDE_SUBDOMAINS',"
        "'SECURE_HSTS_PRELOAD', 'SECURE_PROXY_SSL_HEADER', 'SESSION_COOKIE_SECURE',"
        "'SESSION_COOKIE_HTTPONLY', 'CSRF_COOKIE_SECURE', 'SECURE_REFERRER_POLICY', 'X_FRAME_OPTIONS')}))"
    )
    result = _run("-c", code, **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_production_defaults_are_strict():
    values = _settings()
    assert values["SECURE_SSL_REDIRECT"] is True
    assert values["SECURE_HSTS_SECONDS"] == 365 * 24 * 60 * 60
    assert values["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert values["SESSION_COOKIE_SECURE"] is True
    assert values["SESSION_COOKIE_HTTPONLY"] is True
    assert values["CSRF_COOKIE_SECURE"] is True
    assert values["SECURE_REFERRER_POLICY"] == "same-origin"
    assert values["X_FRAME_OPTIONS"] == "DENY"
    assert values["SECURE_PROXY_SSL_HEADER"] is None


def test_a_tls_terminating_load_balancer_is_declared_by_environment():
    values = _settings(SECURE_PROXY_SSL_HEADER="X-Forwarded-Proto,https", SECURE_HSTS_PRELOAD="false")
    assert values["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert values["SECURE_HSTS_PRELOAD"] is False


def test_development_keeps_plain_http():
    values = _settings(DEBUG="true")
    assert not values["SECURE_SSL_REDIRECT"]
    assert not values["SECURE_HSTS_SECONDS"]
    assert values["SESSION_COOKIE_SECURE"] is False


def test_gunicorn_config_sizes_workers_from_the_cpu_count(monkeypatch):
    monkeypatch.delenv("WEB_CONCURRENCY", raising=False)
    monkeypatch.delenv("GUNICORN_BIND", raising=False)
    config = runpy.run_path(str(ROOT / "deploy" / "gunicorn.conf.py"))
    assert config["bind"] == "127.0.0.1:8000"
    assert config["workers"] == 2 * (os.cpu_count() or 1) + 1


def test_prod_local_script_is_valid_bash():
    result = subprocess.run(
        ["bash", "-n", str(ROOT / "deploy" / "prod-local.sh")], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.django_db
def test_prod_local_creates_its_database_when_missing(settings):
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        pytest.skip(
            "Needs the PostgreSQL server (DATABASE_URL=postgres://…, as .ci/run sets): "
            "the script creates a PostgreSQL database; this run uses SQLite."
        )
    import psycopg

    default = settings.DATABASES["default"]
    name = f"{default['NAME']}_ensure"
    url = f"postgres://{default['USER']}@{default['HOST'] or '127.0.0.1'}:{default['PORT'] or 5432}/{name}"
    connect = {
        "host": default["HOST"] or "127.0.0.1",
        "port": default["PORT"] or 5432,
        "user": default["USER"],
    }
    with psycopg.connect(dbname="postgres", autocommit=True, **connect) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
    try:
        for _ in range(2):  # the second run finds it and does nothing
            result = _run("deploy/ensure_database.py", DATABASE_URL=url)
            assert result.returncode == 0, result.stderr
        with psycopg.connect(dbname="postgres", autocommit=True, **connect) as connection:
            assert connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
    finally:
        with psycopg.connect(dbname="postgres", autocommit=True, **connect) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}"')


def test_the_sirene_url_follows_the_standin_port():
    code = "import django; django.setup(); from django.conf import settings; print(settings.SIRENE_API_URL)"
    clean = {key: value for key, value in os.environ.items() if key != "SIRENE_API_URL"}
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={
            **clean,
            "DEBUG": "true",
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "SIRENE_STANDIN_PORT": "9876",
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "http://127.0.0.1:9876/api-sirene/3.11"


def test_gunicorn_child_exit_without_metrics_directory(monkeypatch):
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    config = runpy.run_path(str(ROOT / "deploy" / "gunicorn.conf.py"))
    config["child_exit"](None, SimpleNamespace(pid=4242))  # nothing to do, and no error


def test_gunicorn_child_exit_marks_the_dead_worker_only(monkeypatch, tmp_path):
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    config = runpy.run_path(str(ROOT / "deploy" / "gunicorn.conf.py"))
    (tmp_path / "gauge_livesum_4242.db").write_bytes(b"")
    (tmp_path / "gauge_livesum_4343.db").write_bytes(b"")
    (tmp_path / "counter_4242.db").write_bytes(b"")
    config["child_exit"](None, SimpleNamespace(pid=4242))
    assert sorted(path.name for path in tmp_path.iterdir()) == ["counter_4242.db", "gauge_livesum_4343.db"]
    # Stopping after the directory went away (the script removes it on the next start).
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path / "gone"))
    config["child_exit"](None, SimpleNamespace(pid=4343))
