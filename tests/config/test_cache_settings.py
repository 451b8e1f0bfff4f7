"""With REDIS_URL, the cache, sessions, login lockouts, rate limits and background jobs
are shared through Redis; without it, everything stays in the process and the database."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.cache import caches

from structures import sirene
from structures.sirene.limiter import CacheRateLimiter, RateLimiter

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import json, django
django.setup()
from django.conf import settings
from config.celery import app
from structures.sirene import default_limiter
print(json.dumps({
    "cache": settings.CACHES["default"]["BACKEND"],
    "location": settings.CACHES["default"].get("LOCATION"),
    "sessions": settings.SESSION_ENGINE,
    "axes": settings.AXES_HANDLER,
    "broker": app.conf.broker_url,
    "backend": app.conf.result_backend,
    "eager": app.conf.task_always_eager,
    "limiter": default_limiter.__class__.__name__,
}))
"""


def _probe(**env):
    dropped = {"REDIS_URL", "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND", "DJANGO_SETTINGS_MODULE"}
    clean = {k: v for k, v in os.environ.items() if k not in dropped}
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env={**clean, "DEBUG": "true", "DJANGO_SETTINGS_MODULE": "config.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


def test_with_redis_url_cache_sessions_lockouts_and_jobs_use_redis():
    # Nothing connects at start-up: the address need not answer for the settings to load.
    settings = _probe(REDIS_URL="redis://redis.internal:6379/2")

    assert settings == {
        "cache": "django.core.cache.backends.redis.RedisCache",
        "location": "redis://redis.internal:6379/2",
        "sessions": "django.contrib.sessions.backends.cached_db",
        "axes": "axes.handlers.cache.AxesCacheHandler",
        "broker": "redis://redis.internal:6379/2",
        "backend": "redis://redis.internal:6379/2",
        "eager": False,
        "limiter": "CacheRateLimiter",
    }


def test_a_separate_broker_can_be_configured():
    settings = _probe(REDIS_URL="redis://cache:6379/0", CELERY_BROKER_URL="redis://broker:6379/1")
    assert (settings["location"], settings["broker"]) == ("redis://cache:6379/0", "redis://broker:6379/1")


def test_without_redis_url_everything_stays_local():
    settings = _probe()

    assert settings == {
        "cache": "django.core.cache.backends.locmem.LocMemCache",
        "location": None,
        "sessions": "django.contrib.sessions.backends.db",
        "axes": "axes.handlers.database.AxesDatabaseHandler",
        "broker": "memory://",
        "backend": None,
        "eager": True,
        "limiter": "RateLimiter",
    }


def test_the_test_suite_runs_without_redis(settings):
    assert settings.REDIS_URL == ""
    assert settings.CACHES["default"]["BACKEND"] == "django.core.cache.backends.locmem.LocMemCache"
    assert isinstance(sirene.default_limiter, RateLimiter)
    assert not isinstance(sirene.default_limiter, CacheRateLimiter)


class Clock:
    def __init__(self):
        self.now = 1_000_000.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


@pytest.fixture
def shared_cache():
    cache = caches["default"]
    cache.clear()
    yield cache
    cache.clear()


def test_cache_limiter_quota_is_shared_by_every_process(shared_cache):
    clock = Clock()
    # Two limiters on one cache: two app servers using the same Redis.
    first = CacheRateLimiter(rate=3, period=60, name="test", clock=clock, sleep=clock.sleep)
    second = CacheRateLimiter(rate=3, period=60, name="test", clock=clock, sleep=clock.sleep)

    first.acquire()
    clock.now += 10
    second.acquire()
    first.acquire()

    assert first.remaining() == second.remaining() == 0
    with pytest.raises(sirene.SireneRateLimited) as refused:
        second.acquire(max_wait=5)
    # The first slot frees up 60 s after it was taken, 10 s ago.
    assert refused.value.retry_after == pytest.approx(50)


def test_cache_limiter_waits_for_a_slot_then_reset_frees_them(shared_cache):
    clock = Clock()
    limiter = CacheRateLimiter(rate=1, period=60, name="test", clock=clock, sleep=clock.sleep)
    limiter.acquire()
    shared_cache.delete_many(limiter.keys[:1])  # the slot expired in the cache

    assert limiter.acquire() == 0
    limiter.reset()
    assert limiter.remaining() == 1


def test_cache_limiter_counts_locally_when_the_cache_is_down(shared_cache, caplog):
    clock = Clock()
    limiter = CacheRateLimiter(rate=2, period=60, name="test", clock=clock, sleep=clock.sleep)

    class Down:
        def __getattr__(self, name):
            raise ConnectionError("redis down")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(CacheRateLimiter, "cache", Down())
        limiter.acquire()
        limiter.acquire()
        with pytest.raises(sirene.SireneRateLimited):
            limiter.acquire(max_wait=1)
    assert "counted by this process only" in caplog.text
