"""Structured logs: one JSON line per request (the access log) carrying the request id
sent back in X-Request-ID, the same id on every line written during the request, and
text lines for a person under DEBUG."""

import io
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.files.storage import InMemoryStorage

ROOT = Path(__file__).resolve().parents[2]


class UnreachableStorage(InMemoryStorage):
    def exists(self, name):
        raise ConnectionError("storage unreachable")


@pytest.fixture
def log_lines():
    """What the portal's console handler writes, as configured by settings.LOGGING."""
    handler = next(handler for handler in logging.getLogger().handlers if handler.name == "console")
    stream = io.StringIO()
    previous = handler.setStream(stream)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    handler.setStream(previous)


def _access_lines(lines):
    return [line for line in lines if line["logger"] == "chorus.access"]


def test_a_request_logs_one_json_line_with_the_request_id_of_the_response(client, log_lines):
    response = client.get("/healthz")

    request_id = response["X-Request-ID"]
    assert len(request_id) == 32
    [line] = _access_lines(log_lines())
    assert line["request_id"] == request_id
    assert line["level"] == "INFO"
    assert line["method"] == "GET"
    assert line["path"] == "/healthz"
    assert line["status"] == 200
    assert line["duration_ms"] >= 0
    assert line["user_id"] is None
    assert line["time"]


def test_each_request_gets_its_own_id(client, log_lines):
    first = client.get("/healthz")["X-Request-ID"]
    second = client.get("/healthz")["X-Request-ID"]

    assert first != second
    assert [line["request_id"] for line in _access_lines(log_lines())] == [first, second]


def test_the_callers_request_id_is_kept(client, log_lines):
    response = client.get("/healthz", HTTP_X_REQUEST_ID="lb-7f3a.2026_11-28")

    assert response["X-Request-ID"] == "lb-7f3a.2026_11-28"
    assert _access_lines(log_lines())[0]["request_id"] == "lb-7f3a.2026_11-28"


@pytest.mark.parametrize("given", ["x" * 65, "has space", 'quote"', "line\\nbreak", "é", ""])
def test_an_odd_request_id_is_replaced(client, given):
    response = client.get("/healthz", HTTP_X_REQUEST_ID=given)

    assert response["X-Request-ID"] != given
    assert len(response["X-Request-ID"]) == 32


def test_lines_written_during_the_request_carry_its_id(client, db, settings, log_lines):
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": f"{__name__}.UnreachableStorage"}}

    response = client.get("/readyz")

    lines = log_lines()
    warning = next(line for line in lines if line["logger"] == "core.health")
    assert warning["level"] == "WARNING"
    assert warning["request_id"] == response["X-Request-ID"]
    assert _access_lines(lines)[0]["status"] == 503


def test_the_access_line_names_the_logged_in_user(client, principal_manager, log_lines):
    client.force_login(principal_manager)

    client.get("/")

    assert _access_lines(log_lines())[-1]["user_id"] == principal_manager.pk


def test_lines_outside_a_request_have_a_dash_for_id(log_lines):
    logging.getLogger("chorus.test").warning("hors requête")

    [line] = log_lines()
    assert line["request_id"] == "-"
    assert line["message"] == "hors requête"


def _formatter(**env):
    dropped = {"DEBUG", "LOG_FORMAT", "DJANGO_SETTINGS_MODULE"}
    clean = {key: value for key, value in os.environ.items() if key not in dropped}
    script = "from django.conf import settings; print(settings.LOGGING['handlers']['console']['formatter'])"
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "config.settings", "SECRET_KEY": "k" * 50, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_json_in_production_text_under_debug_unless_chosen():
    assert _formatter(DEBUG="false") == "json"
    assert _formatter(DEBUG="true") == "text"
    assert _formatter(DEBUG="false", LOG_FORMAT="text") == "text"
    assert _formatter(DEBUG="true", LOG_FORMAT="json") == "json"


def test_django_own_line_about_a_404_carries_the_request_id(client, db, log_lines):
    response = client.get("/metrics", REMOTE_ADDR="203.0.113.9")

    assert response.status_code == 404
    not_found = next(line for line in log_lines() if line["logger"] == "django.request")
    assert not_found["request_id"] == response["X-Request-ID"]


def test_the_request_id_is_forgotten_once_the_response_is_sent(client, log_lines):
    client.get("/healthz")
    logging.getLogger("chorus.test").warning("après la requête")

    assert log_lines()[-1]["request_id"] == "-"
