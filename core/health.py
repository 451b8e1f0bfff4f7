"""Probes for the load balancer and the orchestrator.

/healthz says the process answers (liveness: restart it if not) and touches nothing;
/readyz says whether it can serve (readiness: send it traffic or not), checking each
dependency with its latency. Both are public (config/urls.py) and never cached. An error is reported by
its kind only: the full message, which may name hosts or users, goes to the log."""

import logging
import time
import uuid

from django.conf import settings
from django.core.cache import caches
from django.core.files.storage import default_storage
from django.db import connections
from django.http import HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from kombu import Connection

logger = logging.getLogger(__name__)

OK, DOWN, NOT_CONFIGURED = "ok", "down", "not configured"
# The broker must answer within this delay (seconds), or the process is not ready.
BROKER_TIMEOUT = 1
# A name no upload can take (uploads get a random hexadecimal name in a folder).
STORAGE_SENTINEL = "readiness-probe"


def check_database():
    for alias in connections:
        with connections[alias].cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()


def check_cache():
    cache = caches["default"]
    key, value = f"readiness:{uuid.uuid4().hex}", uuid.uuid4().hex
    cache.set(key, value, timeout=10)
    stored = cache.get(key)
    cache.delete(key)
    if stored != value:
        raise RuntimeError("the cache did not return the value just stored")


def broker_url():
    """The Celery broker, when there is one: "memory://" means tasks run inline."""
    url = getattr(settings, "CELERY_BROKER_URL", "") or getattr(settings, "REDIS_URL", "")
    return "" if not url or url.startswith("memory://") else url


def check_broker():
    url = broker_url()
    if not url:
        return NOT_CONFIGURED
    transport_options = {"socket_connect_timeout": BROKER_TIMEOUT, "socket_timeout": BROKER_TIMEOUT}
    with Connection(url, connect_timeout=BROKER_TIMEOUT, transport_options=transport_options) as connection:
        connection.ensure_connection(max_retries=0, timeout=BROKER_TIMEOUT)
        # Redis accepts a connection before it is able to serve (loading its data): ask it.
        client = getattr(connection.default_channel, "client", None)
        if client is not None:
            client.ping()
    return OK


def check_storage():
    default_storage.exists(STORAGE_SENTINEL)


CHECKS = {
    "database": check_database,
    "cache": check_cache,
    "broker": check_broker,
    "storage": check_storage,
}


def _run(name, check):
    started = time.perf_counter()
    try:
        status, error = check() or OK, None
    except Exception as error_raised:  # Any failure means "down": the probe must answer.
        logger.warning("Readiness check %s failed: %s", name, error_raised, exc_info=True)
        status, error = DOWN, type(error_raised).__name__
    latency = round((time.perf_counter() - started) * 1000, 1)
    result = {"status": status, "latency_ms": latency if status != NOT_CONFIGURED else None}
    if error:
        result["error"] = error
    return result


@never_cache
@require_safe
def healthz(request):
    return HttpResponse("ok", content_type="text/plain; charset=utf-8")


@never_cache
@require_safe
def readyz(request):
    results = {name: _run(name, check) for name, check in CHECKS.items()}
    ready = all(result["status"] != DOWN for result in results.values())
    return JsonResponse({"status": OK if ready else DOWN, "checks": results}, status=200 if ready else 503)
