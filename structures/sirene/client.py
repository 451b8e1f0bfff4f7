"""The INSEE Sirene 3.11 API client (see docs in ../shared/reference/SIRENE.md).

One establishment by SIRET, multi-criteria searches with cursor paging, timeouts,
retries with backoff on 429 and 5xx (a 429 waits until X-Rate-Limit-Reset), a limit of
requests per minute shared by the process, and typed errors."""

import logging
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from urllib.parse import urljoin

import requests

from structures.sirene.errors import (
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
from structures.sirene.mapping import Establishment, establishment_from_json
from structures.sirene.validation import InvalidSiret, validate_siret

logger = logging.getLogger(__name__)

API_KEY_HEADER = "X-INSEE-Api-Key-Integration"
MAX_PAGE_SIZE = 1000  # the API's maximum for `nombre`
MAX_REDIRECTS = 3


@dataclass(frozen=True)
class SearchPage:
    establishments: list[Establishment]
    total: int
    cursor: str
    next_cursor: str

    @property
    def is_last(self) -> bool:
        return not self.establishments or not self.next_cursor or self.next_cursor == self.cursor


class SireneClient:
    """`timeout` is (connect, read) in seconds; `retries` is the number of new
    attempts after a 429, a 5xx, a connection error or (with `retry_timeouts`) a
    timeout; a 429 whose reset is
    further than `max_wait` seconds away (or the local limiter's wait) raises
    SireneRateLimited at once. `sleep` and `clock` (epoch seconds, to read
    X-Rate-Limit-Reset) are injectable: tests never wait."""

    def __init__(
        self,
        base_url: str,
        api_key: str = "",
        *,
        timeout: tuple[float, float] = (3.05, 10.0),
        retries: int = 2,
        backoff: float = 0.5,
        max_wait: float = 5.0,
        retry_timeouts: bool = True,
        limiter: RateLimiter | None = None,
        sleep=time.sleep,
        clock=time.time,
        session: requests.Session | None = None,
    ):
        self.base_url = base_url.rstrip("/") + "/"
        self.api_key = api_key
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.max_wait = max_wait
        self.retry_timeouts = retry_timeouts
        self.limiter = limiter if limiter is not None else default_limiter
        self.sleep = sleep
        self.clock = clock
        # Without a session, each call opens and closes its connection: a page asks
        # INSEE once or twice, and nothing is left open behind it.
        self.session = session

    # Operations

    def get_siret(self, siret: str) -> Establishment:
        """One establishment, closed or not (see Establishment.check_usable). A
        duplicate SIRET that INSEE redirects comes back as the establishment kept,
        with `requested_siret` set."""
        try:
            number = validate_siret(siret)
        except InvalidSiret as error:
            raise SireneInvalidRequest(f"invalid SIRET {siret!r}: {error.code}", siret=siret) from None
        data = self._request("GET", f"siret/{number}", single=number)
        establishment = data.get("etablissement")
        if not isinstance(establishment, dict):
            raise SireneUnavailable(f"no 'etablissement' in the answer for {number}", siret=number)
        return establishment_from_json(establishment, requested_siret=number)

    def search(
        self, q: str, *, nombre: int = 20, curseur: str = "*", champs: str | None = None
    ) -> SearchPage:
        """One page of a multi-criteria search; no result is an empty page."""
        if not 1 <= nombre <= MAX_PAGE_SIZE:
            raise ValueError(f"nombre must be between 1 and {MAX_PAGE_SIZE}")
        params = {"q": q, "nombre": nombre, "curseur": curseur}
        if champs:
            params["champs"] = champs
        try:
            data = self._request("GET", "siret", params=params)
        except SireneUnknown:
            return SearchPage([], 0, curseur, curseur)
        header = data.get("header") or {}
        items = data.get("etablissements") or []
        return SearchPage(
            establishments=[establishment_from_json(item) for item in items],
            total=int(header.get("total") or len(items)),
            cursor=str(header.get("curseur") or curseur),
            next_cursor=str(header.get("curseurSuivant") or ""),
        )

    def search_all(self, q: str, *, nombre: int = MAX_PAGE_SIZE) -> Iterator[Establishment]:
        """Every result of a search, following `curseurSuivant` until it stops moving."""
        cursor = "*"
        while True:
            page = self.search(q, nombre=nombre, curseur=cursor)
            yield from page.establishments
            if page.is_last:
                return
            cursor = page.next_cursor

    def get_sirets(self, sirets: Iterable[str]) -> dict[str, Establishment]:
        """Several establishments in one search (`siret:A OR siret:B …`), by SIRET.
        A SIRET missing from the result is unknown to INSEE."""
        numbers = sorted({validate_siret(siret) for siret in sirets})
        if not numbers:
            return {}
        q = " OR ".join(f"siret:{number}" for number in numbers)
        found = {}
        for establishment in self.search_all(q, nombre=min(len(numbers), MAX_PAGE_SIZE)):
            found[establishment.siret] = establishment
        return found

    # Transport

    def _request(self, method: str, path: str, *, params=None, single: str = "") -> dict:
        url = urljoin(self.base_url, path)
        headers = {"Accept": "application/json", "User-Agent": "portail-organisation"}
        if self.api_key:
            headers[API_KEY_HEADER] = self.api_key
        sender = self.session or requests
        attempt = 0
        redirects = 0
        while True:
            wait = None  # seconds until the server's rate-limit reset, after a 429
            self.limiter.acquire(self.max_wait)
            try:
                response = sender.request(
                    method, url, params=params, headers=headers, timeout=self.timeout, allow_redirects=False
                )
            except requests.Timeout as error:
                failure = SireneTimeout(f"{method} {url}: {error}", siret=single)
            except requests.RequestException as error:
                failure = SireneUnavailable(f"{method} {url}: {error}", siret=single)
            else:
                status = response.status_code
                if status in (301, 302, 307, 308):
                    url = self._redirect_target(response, url, single)
                    redirects += 1
                    if redirects > MAX_REDIRECTS:
                        raise SireneUnavailable(f"too many redirects from {path}", siret=single)
                    params = None  # the Location carries everything
                    continue
                if status == 200:
                    return self._json(response, url, single)
                failure, wait = self._retryable_failure(response, url, single)
            self._wait_before_retry(failure, wait, attempt)
            attempt += 1

    def _retryable_failure(self, response, url, single):
        """(the failure, seconds until the rate-limit reset or None) when asking again
        may help; any other failure is raised."""
        failure = self._failure(response, url, single)
        if not isinstance(failure, (SireneRateLimited, SireneUnavailable)):
            raise failure
        wait = None
        if isinstance(failure, SireneRateLimited):
            wait = self._reset_wait(response)
            if wait is not None and wait > self.max_wait:
                failure.retry_after = wait
                raise failure
        return failure, wait

    def _wait_before_retry(self, failure, wait, attempt) -> None:
        """Raise the failure when no attempt is left, else wait before the next one."""
        if attempt >= self.retries or (isinstance(failure, SireneTimeout) and not self.retry_timeouts):
            raise failure
        delay = wait if wait is not None else self.backoff * 2**attempt
        logger.warning("Sirene: %s; new attempt in %.1f s", failure.detail, delay)
        if delay > 0:
            self.sleep(delay)

    def _redirect_target(self, response, url, single) -> str:
        location = response.headers.get("Location", "")
        target = urljoin(url, location)
        # The API key goes to the configured server only.
        if not location or not target.startswith(self.base_url):
            raise SireneUnavailable(f"redirect from {url} to an unexpected place: {location!r}", siret=single)
        return target

    def _json(self, response, url, single) -> dict:
        try:
            data = response.json()
        except ValueError:
            raise SireneUnavailable(f"unreadable JSON from {url}", siret=single) from None
        if not isinstance(data, dict):
            raise SireneUnavailable(f"unexpected JSON from {url}", siret=single)
        return data

    def _failure(self, response, url, single) -> SireneError:
        status = response.status_code
        try:
            body = response.json()
            message = (body.get("header") or {}).get("message") or body.get("message") or ""
        except (ValueError, AttributeError):
            message = response.text[:200]
        detail = f"{response.request.method} {url}: HTTP {status} {message}".strip()
        if status == 400:
            return SireneInvalidRequest(detail, siret=single)
        if status == 401:
            return SireneUnauthorized(detail, siret=single)
        if status == 403:
            # On one establishment, 403 means INSEE may not disclose it; elsewhere,
            # that the key has no subscription to the API.
            if single:
                return SireneNonDiffusible(detail, siret=single)
            return SireneUnauthorized(detail, siret=single)
        if status == 404:
            return SireneUnknown(detail, siret=single)
        if status == 429:
            return SireneRateLimited(detail, siret=single)
        return SireneUnavailable(detail, siret=single)

    def _reset_wait(self, response) -> float | None:
        """Seconds until X-Rate-Limit-Reset (epoch milliseconds), or None without it."""
        value = response.headers.get("X-Rate-Limit-Reset")
        try:
            reset = int(value) / 1000
        except (TypeError, ValueError):
            return None
        return max(0.0, reset - self.clock())
