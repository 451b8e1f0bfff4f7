import threading

from django.core.cache import cache

from core import ratelimit

LIMIT = ratelimit.Limit("test", rate=3, period=60)


def test_a_key_gets_its_rate_then_is_refused():
    assert [ratelimit.hit(LIMIT, "203.0.113.9") for _attempt in range(4)] == [True, True, True, False]


def test_keys_are_counted_apart_and_case_insensitively():
    for _attempt in range(3):
        ratelimit.hit(LIMIT, "Victime@Exemple.fr")
    assert ratelimit.exhausted(LIMIT, "victime@exemple.fr")
    assert not ratelimit.exhausted(LIMIT, "autre@exemple.fr")
    assert ratelimit.hit(LIMIT, "autre@exemple.fr")


def test_the_window_ends(monkeypatch):
    now = [1_000_000.0]
    monkeypatch.setattr(ratelimit.time, "time", lambda: now[0])
    for _attempt in range(3):
        ratelimit.hit(LIMIT, "x")
    assert not ratelimit.hit(LIMIT, "x")
    now[0] += 61
    assert ratelimit.hit(LIMIT, "x")


def test_hit_all_counts_every_key_even_when_one_is_over():
    address = ratelimit.Limit("address", rate=1, period=60)
    target = ratelimit.Limit("target", rate=5, period=60)
    assert ratelimit.hit_all((address, "ip"), (target, "a@exemple.fr"))
    assert not ratelimit.hit_all((address, "ip"), (target, "b@exemple.fr"))
    assert ratelimit.exhausted(address, "ip")
    assert cache.get(ratelimit._key(target, ["b@exemple.fr"])) == 1


def test_parallel_attempts_never_exceed_the_rate():
    limit = ratelimit.Limit("parallel", rate=5, period=60)
    barrier = threading.Barrier(20)
    results = []

    def attempt():
        barrier.wait()
        results.append(ratelimit.hit(limit, "same"))

    threads = [threading.Thread(target=attempt) for _index in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results.count(True) == 5


def test_the_client_is_the_connection_without_trusted_proxies(rf, settings):
    settings.TRUSTED_PROXY_COUNT = 0
    request = rf.get("/", REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_FOR="198.51.100.1")
    assert ratelimit.client_address(request) == "203.0.113.9"


def test_behind_a_load_balancer_the_client_is_what_it_saw_not_what_the_client_wrote(rf, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    # The client wrote "1.2.3.4" itself; the balancer appended the address it came from.
    request = rf.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="1.2.3.4, 198.51.100.7")
    assert ratelimit.client_address(request) == "198.51.100.7"
    request = rf.get("/", REMOTE_ADDR="10.0.0.2")
    assert ratelimit.client_address(request) == "10.0.0.2"
