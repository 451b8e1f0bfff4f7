"""`make run` keeps working with nothing but Python: SQLite, no Redis, no object storage.
The test runs what the target runs (migrate, seed_demo, runserver) in fresh processes."""

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
# Anything that would switch on a production service is removed from the environment.
PRODUCTION_ONLY = {"REDIS_URL", "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND", "S3_BUCKET", "DATABASE_URL"}


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def embedded_env(tmp_path):
    env = {key: value for key, value in os.environ.items() if key not in PRODUCTION_ONLY}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env.update(
        DEBUG="true",
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        MEDIA_ROOT=str(tmp_path / "media"),
    )
    # A developer's .env may name a Redis or a bucket; this test is about the default.
    for name in PRODUCTION_ONLY - {"DATABASE_URL"}:
        env[name] = ""
    return env


def _manage(env, *args):
    done = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done


def test_make_run_serves_the_portal_with_sqlite_and_no_other_service(embedded_env):
    _manage(embedded_env, "migrate", "--noinput")
    _manage(embedded_env, "seed_demo")
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env=embedded_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                requests.get(f"{base}/healthz", timeout=2)
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline, "the development server did not start"
                time.sleep(0.3)

        session = requests.Session()
        login = session.get(f"{base}/compte/connexion/", timeout=10)
        assert login.status_code == 200
        assert "Connexion" in login.text
        answer = session.post(
            f"{base}/compte/connexion/",
            data={
                "username": "gestionnaire@exemple.fr",
                "password": "Demo-Portail-2026",
                "csrfmiddlewaretoken": session.cookies["csrftoken"],
            },
            headers={"Referer": f"{base}/compte/connexion/"},
            timeout=10,
        )
        assert answer.status_code == 200
        assert answer.url == f"{base}/"
        assert "Se déconnecter" in answer.text

        ready = session.get(f"{base}/readyz", timeout=10)
        checks = json.loads(ready.text)["checks"]
        assert ready.status_code == 200
        assert checks["database"]["status"] == "ok"
        assert checks["cache"]["status"] == "ok"
        assert checks["storage"]["status"] == "ok"
        assert checks["broker"]["status"] == "not configured"
    finally:
        server.terminate()
        server.wait(timeout=10)
