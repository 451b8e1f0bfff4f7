"""A client-side limit of requests per period, shared by every client of the process.

INSEE allows 30 requests per minute per key and answers 429 beyond. Counting on our
side keeps a burst (a bulk refresh, several users at once) under the quota instead of
learning about it from refusals. When the cache is shared between processes (Redis,
REDIS_URL), every app server and worker counts in it: the quota is the platform's,
not each process's. Otherwise each process counts for itself, and several processes
sharing one key still meet the occasional 429, which the client retries."""

import logging
import math
import threading
import time
from collections import deque

from django.core.cache import caches
from django.core.cache.backends.dummy import DummyCache
from django.core.cache.backends.locmem import LocMemCache
from django.utils.functional import SimpleLazyObject

from structures.sirene.errors import SireneRateLimited

logger = logging.getLogger(__name__)

RATE = 30
PERIOD = 60.0


class RateLimiter:
    """A sliding window: at most `rate` acquisitions within any `period` seconds.

    `clock` (monotonic seconds) and `sleep` are injectable, so that tests drive time
    instead of waiting for it."""

    def __init__(self, rate: int = RATE, period: float = PERIOD, *, clock=time.monotonic, sleep=time.sleep):
        if rate < 1 or period <= 0:
            raise ValueError("rate must be at least 1 and period positive")
        self.rate = rate
        self.period = period
        self.clock = clock
        self.sleep = sleep
        self._stamps = deque()
        self._lock = threading.Lock()

    def _reserve(self) -> float:
        """Take a slot now and return 0, or return how long to wait for one."""
        with self._lock:
            now = self.clock()
            while self._stamps and self._stamps[0] <= now - self.period:
                self._stamps.popleft()
            if len(self._stamps) < self.rate:
                self._stamps.append(now)
                return 0.0
            return self._stamps[0] + self.period - now

    def acquire(self, max_wait: float | None = None) -> float:
        """Wait for a slot (sleeping outside the lock, so other threads keep
        counting) and return the time waited. When the wait would exceed `max_wait`,
        raise SireneRateLimited at once: a web page should not hang for a minute."""
        waited = 0.0
        while True:
            wait = self._reserve()
            if wait <= 0:
                return waited
            if max_wait is not None and waited + wait > max_wait:
                raise SireneRateLimited(
                    f"local limit of {self.rate} requests per {self.period:g} s reached",
                    retry_after=wait,
                )
            self.sleep(wait)
            waited += wait

    def remaining(self) -> int:
        with self._lock:
            now = self.clock()
            return self.rate - sum(1 for stamp in self._stamps if stamp > now - self.period)

    def reset(self) -> None:
        with self._lock:
            self._stamps.clear()


class CacheRateLimiter(RateLimiter):
    """The same sliding window, kept in the Django cache so that every process using
    that cache shares it. The window is `rate` slots; taking one is an atomic
    cache.add that expires after `period`, and stores when it frees up so that a
    full window can say how long to wait. If the cache is unreachable, the process
    falls back to counting for itself rather than stopping its calls to INSEE.

    `clock` must be wall-clock seconds (time.time): several machines compare it."""

    def __init__(
        self,
        rate: int = RATE,
        period: float = PERIOD,
        *,
        name: str = "sirene",
        cache_alias: str = "default",
        clock=time.time,
        sleep=time.sleep,
    ):
        super().__init__(rate, period, clock=clock, sleep=sleep)
        self.cache_alias = cache_alias
        self.keys = [f"ratelimit:{name}:{slot}" for slot in range(rate)]

    @property
    def cache(self):
        return caches[self.cache_alias]

    def _reserve(self) -> float:
        try:
            now, timeout = self.clock(), math.ceil(self.period)
            taken = self.cache.get_many(self.keys)
            for key in self.keys:
                if key not in taken and self.cache.add(key, now + self.period, timeout=timeout):
                    return 0.0
            # Every slot is taken (or was just taken by another process): wait for
            # the first one to free up, and look again.
            taken = self.cache.get_many(self.keys)
            return max(min(taken.values(), default=now) - now, 0.05)
        except Exception:
            logger.warning("Cache unreachable, Sirene requests counted by this process only", exc_info=True)
            return super()._reserve()

    def remaining(self) -> int:
        try:
            return self.rate - len(self.cache.get_many(self.keys))
        except Exception:
            return super().remaining()

    def reset(self) -> None:
        super().reset()
        try:
            self.cache.delete_many(self.keys)
        except Exception:
            logger.warning("Cache unreachable, shared Sirene limiter not reset", exc_info=True)


def cache_is_shared(alias: str = "default") -> bool:
    """Whether the cache is seen by other processes (Redis…), not local to this one."""
    return not isinstance(caches[alias], (LocMemCache, DummyCache))


def _process_limiter() -> RateLimiter:
    return CacheRateLimiter() if cache_is_shared() else RateLimiter()


# The one limiter of the process: every client built by get_client() shares it. Built
# on first use, once the settings say which cache there is.
default_limiter = SimpleLazyObject(_process_limiter)
