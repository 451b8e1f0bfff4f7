"""The Sirene stand-in for tests: started on a free port in a thread, with the portal's
settings pointed at it. Test modules outside tests/sirene use `running_standin` in a
fixture of their own (conftest fixtures do not cross folders)."""

from contextlib import contextmanager

from sirene_standin import StandinServer
from structures.sirene import default_limiter

TEST_KEY = "test-sirene-key"


class FakeClock:
    """Time that moves only when told to: `sleep` advances it."""

    def __init__(self, now=1_800_000_000.0):
        self.now = now
        self.sleeps = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


@contextmanager
def running_standin(settings, **options):
    """Start a stand-in, point SIRENE_API_URL / SIRENE_API_KEY at it, and give the
    test a fresh process-wide limiter and clients that retry without waiting."""
    options.setdefault("key", TEST_KEY)
    server = StandinServer(port=0, **options).start()
    settings.SIRENE_API_URL = server.url
    settings.SIRENE_API_KEY = server.key
    settings.SIRENE_CLIENT = {"backoff": 0.0}
    default_limiter.reset()
    try:
        yield server
    finally:
        server.stop()
        default_limiter.reset()
