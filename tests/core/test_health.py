"""/healthz (liveness) and /readyz (readiness): public, never cached, each dependency
reported down when it is (a 503 for the load balancer), and no secret in the answer."""

import socket
import time

import pytest
from django.core.files.storage import InMemoryStorage
from django.db.utils import ConnectionHandler

from core import health

SECRET = "s3cret-Password-never-shown"


def closed_port():
    """A local port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class UnreachableStorage(InMemoryStorage):
    """A storage whose service does not answer."""

    def exists(self, name):
        raise ConnectionError(f"could not reach https://key:{SECRET}@storage.internal/")


def _ready(client):
    response = client.get("/readyz")
    return response, response.json()


# Liveness


def test_healthz_answers_ok_to_anonymous_visitors_without_touching_the_database(client):
    # No database fixture: any query would fail the test.
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.content == b"ok"
    assert "no-cache" in response["Cache-Control"]


def test_healthz_answers_even_when_every_dependency_is_down(client, settings):
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": f"{__name__}.UnreachableStorage"}}
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{closed_port()}/0"

    assert client.get("/healthz").status_code == 200


def test_probes_are_not_redirected_to_https(client, settings, db):
    settings.SECURE_SSL_REDIRECT = True

    assert client.get("/").status_code == 301
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 200


# Readiness


def test_readyz_reports_each_dependency_with_its_latency(client, db):
    response, body = _ready(client)

    assert response.status_code == 200
    assert "no-cache" in response["Cache-Control"]
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "cache", "broker", "storage"}
    for name in ("database", "cache", "storage"):
        assert body["checks"][name]["status"] == "ok"
        assert body["checks"][name]["latency_ms"] >= 0
        assert "error" not in body["checks"][name]
    # The embedded default runs tasks inline: no broker to wait for.
    assert body["checks"]["broker"] == {"status": "not configured", "latency_ms": None}


def test_readyz_with_redis_as_cache_and_broker(client, db, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:6379/0",
        }
    }
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:6379/0"

    response, body = _ready(client)

    assert response.status_code == 200, body
    assert body["checks"]["cache"]["status"] == "ok"
    assert body["checks"]["broker"]["status"] == "ok"


def test_readyz_reports_the_database_down(client, db, monkeypatch):
    broken = ConnectionHandler(
        {
            "default": {
                "ENGINE": "django.db.backends.postgresql",
                "HOST": "127.0.0.1",
                "PORT": closed_port(),
                "NAME": "portail",
                "USER": "portail",
                "PASSWORD": SECRET,
                "OPTIONS": {"connect_timeout": 1},
            }
        }
    )
    monkeypatch.setattr(health, "connections", broken)
    try:
        response, body = _ready(client)
    finally:
        broken.close_all()

    assert response.status_code == 503
    assert body["status"] == "down"
    assert body["checks"]["database"]["status"] == "down"
    assert body["checks"]["database"]["error"] == "OperationalError"
    assert body["checks"]["cache"]["status"] == "ok"
    assert SECRET not in response.content.decode()


def test_readyz_reports_the_cache_down(client, db, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://:{SECRET}@127.0.0.1:{closed_port()}/0",
        }
    }

    response, body = _ready(client)

    assert response.status_code == 503
    assert body["checks"]["cache"]["status"] == "down"
    assert body["checks"]["cache"]["error"] == "ConnectionError"
    assert body["checks"]["database"]["status"] == "ok"
    assert SECRET not in response.content.decode()


def test_readyz_reports_the_broker_down_within_a_second_or_so(client, db, settings):
    settings.CELERY_BROKER_URL = f"redis://:{SECRET}@127.0.0.1:{closed_port()}/0"

    started = time.perf_counter()
    response, body = _ready(client)

    assert time.perf_counter() - started < 3
    assert response.status_code == 503
    assert body["checks"]["broker"]["status"] == "down"
    assert body["checks"]["broker"]["error"]
    assert body["checks"]["storage"]["status"] == "ok"
    assert SECRET not in response.content.decode()


def test_readyz_reports_the_storage_down(client, db, settings):
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": f"{__name__}.UnreachableStorage"}}

    response, body = _ready(client)

    assert response.status_code == 503
    assert body["checks"]["storage"] == {
        "status": "down",
        "latency_ms": body["checks"]["storage"]["latency_ms"],
        "error": "ConnectionError",
    }
    assert SECRET not in response.content.decode()


def test_readyz_failure_is_logged_for_the_operator(client, db, settings, caplog):
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": f"{__name__}.UnreachableStorage"}}

    _ready(client)

    assert any("Readiness check storage failed" in record.getMessage() for record in caplog.records)


@pytest.mark.parametrize("method", ["post", "put", "delete"])
def test_probes_accept_no_other_method_than_get(client, method):
    assert getattr(client, method)("/healthz").status_code == 405
    assert getattr(client, method)("/readyz").status_code == 405
