"""The client-side limit of 30 requests per minute, driven by an injected clock: no
test waits for real."""

import threading

import pytest

from structures import sirene
from structures.sirene import RateLimiter


def test_allows_the_rate_without_waiting(clock):
    limiter = RateLimiter(rate=30, period=60, clock=clock, sleep=clock.sleep)
    for _ in range(30):
        assert limiter.acquire() == 0
    assert clock.sleeps == []
    assert limiter.remaining() == 0


def test_the_request_over_the_rate_waits_for_the_oldest_to_leave_the_window(clock):
    limiter = RateLimiter(rate=3, period=60, clock=clock, sleep=clock.sleep)
    limiter.acquire()
    clock.now += 10
    limiter.acquire()
    limiter.acquire()
    assert limiter.acquire() == 50
    assert clock.sleeps == [50]


def test_the_window_slides(clock):
    limiter = RateLimiter(rate=2, period=60, clock=clock, sleep=clock.sleep)
    limiter.acquire()
    clock.now += 30
    limiter.acquire()
    clock.now += 31  # the first one is out of the window
    assert limiter.acquire() == 0
    assert limiter.remaining() == 0
    clock.now += 30
    assert limiter.remaining() == 1


def test_a_wait_longer_than_allowed_raises_without_sleeping(clock):
    limiter = RateLimiter(rate=1, period=60, clock=clock, sleep=clock.sleep)
    limiter.acquire()
    with pytest.raises(sirene.SireneRateLimited) as raised:
        limiter.acquire(max_wait=5)
    assert raised.value.retry_after == 60
    assert clock.sleeps == []
    assert "trop de demandes" in str(raised.value.message)


def test_reset_frees_every_slot(clock):
    limiter = RateLimiter(rate=1, period=60, clock=clock, sleep=clock.sleep)
    limiter.acquire()
    limiter.reset()
    assert limiter.acquire() == 0


def test_threads_share_one_count(clock):
    limiter = RateLimiter(rate=30, period=60, clock=clock, sleep=clock.sleep)
    threads = [threading.Thread(target=limiter.acquire) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert limiter.remaining() == 10


def test_rejects_a_meaningless_rate():
    with pytest.raises(ValueError):
        RateLimiter(rate=0)


def test_the_process_limiter_allows_thirty_per_minute():
    assert (sirene.default_limiter.rate, sirene.default_limiter.period) == (30, 60)
