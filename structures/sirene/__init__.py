"""INSEE Sirene: the API client, its errors, the shared rate limiter, and the mapping of
an establishment to the fields of a Structure.

    from structures import sirene
    establishment = sirene.get_client().get_siret("81234567600017")
"""

from django.conf import settings

from structures.sirene.client import API_KEY_HEADER, SearchPage, SireneClient
from structures.sirene.errors import (
    SireneClosed,
    SireneError,
    SireneInvalidRequest,
    SireneNonDiffusible,
    SireneRateLimited,
    SireneTimeout,
    SireneUnauthorized,
    SireneUnavailable,
    SireneUnknown,
)
from structures.sirene.limiter import RateLimiter, default_limiter
from structures.sirene.mapping import INSEE_FIELDS, Establishment, establishment_from_json
from structures.sirene.validation import InvalidSiret, compact_siret, validate_siret

__all__ = [
    "API_KEY_HEADER",
    "INSEE_FIELDS",
    "Establishment",
    "InvalidSiret",
    "RateLimiter",
    "SearchPage",
    "SireneClient",
    "SireneClosed",
    "SireneError",
    "SireneInvalidRequest",
    "SireneNonDiffusible",
    "SireneRateLimited",
    "SireneTimeout",
    "SireneUnauthorized",
    "SireneUnavailable",
    "SireneUnknown",
    "compact_siret",
    "default_limiter",
    "establishment_from_json",
    "get_client",
    "validate_siret",
]

# A page waits a few seconds at most (a slow register is not asked twice); an
# operator's batch may wait for the quota and insists more.
INTERACTIVE = {"timeout": (3.05, 8.0), "retries": 1, "max_wait": 5.0, "retry_timeouts": False}
BATCH = {"timeout": (5.0, 30.0), "retries": 4, "max_wait": 90.0, "retry_timeouts": True}


def get_client(*, interactive: bool = True, **overrides) -> SireneClient:
    """A client on the configured server (SIRENE_API_URL, SIRENE_API_KEY), sharing the
    process's limiter. The optional setting SIRENE_CLIENT (a dict of SireneClient
    options: timeout, retries, backoff, max_wait) adjusts both profiles."""
    options = dict(INTERACTIVE if interactive else BATCH)
    options.update(getattr(settings, "SIRENE_CLIENT", None) or {})
    options.update(overrides)
    return SireneClient(settings.SIRENE_API_URL, settings.SIRENE_API_KEY, **options)
