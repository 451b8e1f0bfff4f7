"""A client-side limit of requests per period, shared by every client of the process.

INSEE allows 30 requests per minute per key and answers 429 beyond. Counting on our
side keeps a burst (a bulk refresh, several users at once) under the quota instead of
learning about it from refusals. Each process counts for itself: several workers
sharing one key still meet the occasional 429, which the client retries."""

import threading
import time
from collections import deque

from structures.sirene.errors import SireneRateLimited

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


# The one limiter of the process: every client built by get_client() shares it.
default_limiter = RateLimiter()
