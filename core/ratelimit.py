"""Counting attempts per client and per target, so that a form cannot be used to flood
someone's mailbox or to guess at scale.

A fixed window per (limit, key) in the default cache: Redis when REDIS_URL is set, so
every app server counts together; otherwise the process's own memory, which is what
the single-process embedded default needs. `cache.add` then `cache.incr` are atomic in
both, so two requests at the same instant cannot both take the last slot.

The client is REMOTE_ADDR, or, behind TRUSTED_PROXY_COUNT proxies that each append to
X-Forwarded-For, the address the outermost of them saw (docs/deployment.md): never an
entry the client could have written itself."""

import hashlib
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache


@dataclass(frozen=True)
class Limit:
    """At most `rate` attempts per `period` seconds for one key of `name`."""

    name: str
    rate: int
    period: int


def _key(limit: Limit, parts) -> str:
    digest = hashlib.sha256("\x1f".join(str(part).strip().lower() for part in parts).encode()).hexdigest()
    window = int(time.time() // limit.period)
    return f"ratelimit:{limit.name}:{digest[:32]}:{window}"


def hit(limit: Limit, *parts) -> bool:
    """Count one attempt for the key made of `parts` (an address, an email…); False
    when the key already used its `rate` attempts in the current window."""
    key = _key(limit, parts)
    cache.add(key, 0, timeout=limit.period + 1)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr: this is the window's first attempt
        cache.add(key, 1, timeout=limit.period + 1)
        count = 1
    return count <= limit.rate


def exhausted(limit: Limit, *parts) -> bool:
    """Whether the key has no attempt left, without counting one."""
    return (cache.get(_key(limit, parts)) or 0) >= limit.rate


def hit_all(*checks) -> bool:
    """Count an attempt against each (limit, *parts) of `checks`; False when any of them
    is over its rate. Every check is counted, so that switching target does not reset
    the client's count."""
    allowed = True
    for limit, *parts in checks:
        allowed = hit(limit, *parts) and allowed
    return allowed


def client_address(request) -> str:
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies:
        # Each trusted proxy appends the address it received from: the one the outermost
        # proxy appended is the client; anything to its left the client may have forged.
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        forwarded = [part for part in forwarded if part]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR", "") or "unknown"
