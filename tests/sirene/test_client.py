"""The Sirene client against the stand-in, over real HTTP: every error class, retries,
the rate limit, redirects and searches. Nothing sleeps: time is injected."""

import socket

import pytest

from structures import sirene
from structures.sirene import RateLimiter
from tests.sirene.standin import FakeClock

COMPANY = "81234567600017"
COMMUNE = "21180026300017"
CLOSED = "33917264500014"
PERSON = "90312847800018"
HIDDEN = "87654321600017"
FORBIDDEN = "87654321600025"
LA_POSTE = "35600000000010"
DUPLICATE = "52398614900020"
KEPT = "52398614900012"
UNKNOWN = "44211783400022"  # a valid SIRET the register does not know


def make_client(server, clock=None, **options):
    clock = clock or FakeClock()
    options.setdefault("limiter", RateLimiter(clock=clock, sleep=clock.sleep))
    return sirene.SireneClient(server.url, server.key, sleep=clock.sleep, clock=clock, **options)


def test_get_siret_maps_a_company_to_structure_fields(standin):
    establishment = make_client(standin).get_siret(COMPANY)
    assert establishment.is_active and not establishment.non_diffusible
    assert establishment.structure_fields() == {
        "company_name": "Atelier Textile du Nord",
        "label": "Atelier Textile du Nord",
        "last_name": "",
        "first_name": "",
        "vat_number": "FR19812345676",
        "address": "12 rue de la Filature",
        "address_complement_1": "",
        "address_complement_2": "",
        "postcode": "59100",
        "city": "Roubaix",
        "country": "FR",
        "country_label": "",
        "legal_category": "5710",
        "company_category": "PME",
        "non_diffusible": False,
    }


def test_the_key_travels_in_the_insee_header(standin):
    make_client(standin).get_siret(COMPANY)
    assert standin.requests[-1]["path"] == f"/api-sirene/3.11/siret/{COMPANY}"
    assert standin.requests[-1]["key"] == standin.key


def test_a_person_is_named_first_name_then_last_name(standin):
    establishment = make_client(standin).get_siret(PERSON)
    assert establishment.is_person
    assert (establishment.company_name, establishment.first_name, establishment.last_name) == (
        "Léa Rousseau",
        "Léa",
        "Rousseau",
    )
    assert establishment.address == "15 bis rue des Juifs"


def test_a_public_body_is_public_and_gets_no_derived_vat_number(standin):
    establishment = make_client(standin).get_siret(COMMUNE)
    assert establishment.is_public
    assert "vat_number" not in establishment.structure_fields()


def test_la_poste_siret_is_accepted_and_fetched(standin):
    establishment = make_client(standin).get_siret(LA_POSTE)
    assert establishment.company_name == "La Poste"
    assert establishment.vat_number == "FR39356000000"


def test_closed_establishment_is_returned_and_refused_for_use(standin):
    establishment = make_client(standin).get_siret(CLOSED)
    assert not establishment.is_active
    assert establishment.state_since.isoformat() == "2021-03-31"
    with pytest.raises(sirene.SireneClosed) as raised:
        establishment.check_usable()
    assert "fermé" in str(raised.value.message)


def test_hidden_values_are_unknown_not_copied(standin):
    establishment = make_client(standin).get_siret(HIDDEN)
    assert establishment.non_diffusible
    fields = establishment.structure_fields()
    assert "company_name" not in fields and "address" not in fields
    assert "[ND]" not in str(fields)
    assert fields["city"] == "Paris"
    with pytest.raises(sirene.SireneNonDiffusible):
        establishment.check_usable()


def test_403_is_non_diffusible(standin):
    with pytest.raises(sirene.SireneNonDiffusible) as raised:
        make_client(standin).get_siret(FORBIDDEN)
    assert "403" in raised.value.detail
    assert "non diffusible" in str(raised.value.message)


def test_unknown_siret_is_sirene_unknown(standin):
    with pytest.raises(sirene.SireneUnknown) as raised:
        make_client(standin).get_siret(UNKNOWN)
    assert "404" in raised.value.detail
    assert "Aucun établissement" in str(raised.value.message)


def test_wrong_key_is_unauthorized(standin):
    client = sirene.SireneClient(standin.url, "wrong-key", limiter=RateLimiter())
    with pytest.raises(sirene.SireneUnauthorized) as raised:
        client.get_siret(COMPANY)
    assert "401" in raised.value.detail
    assert "clé d’accès refusée" in str(raised.value.message)


def test_missing_key_is_unauthorized(standin):
    client = sirene.SireneClient(standin.url, "", limiter=RateLimiter())
    with pytest.raises(sirene.SireneUnauthorized):
        client.get_siret(COMPANY)


def test_a_query_the_register_refuses_is_an_invalid_request(standin):
    with pytest.raises(sirene.SireneInvalidRequest) as raised:
        make_client(standin).search("denominationUniteLegale:Atelier AND (")
    assert "400" in raised.value.detail


def test_a_malformed_siret_is_refused_before_any_request(standin):
    with pytest.raises(sirene.SireneInvalidRequest):
        make_client(standin).get_siret("8123456760001")
    assert standin.request_count == 0


def test_duplicate_siret_follows_the_redirect_to_the_siret_kept(standin):
    establishment = make_client(standin).get_siret(DUPLICATE)
    assert establishment.siret == KEPT
    assert establishment.requested_siret == DUPLICATE
    assert establishment.was_redirected
    assert [r["path"].rsplit("/", 1)[1] for r in standin.requests] == [DUPLICATE, KEPT]


def test_server_error_is_retried_with_backoff_then_unavailable(standin):
    standin.behave(COMPANY, status=503)
    clock = FakeClock()
    client = make_client(standin, clock, retries=2, backoff=0.5)
    with pytest.raises(sirene.SireneUnavailable) as raised:
        client.get_siret(COMPANY)
    assert "503" in raised.value.detail
    assert "indisponible" in str(raised.value.message)
    assert standin.request_count == 3
    assert clock.sleeps == [0.5, 1.0]


def test_server_error_then_recovery_succeeds_on_retry(standin):
    standin.behave(COMPANY, status=500)
    clock = FakeClock()

    def sleep(seconds):
        clock.sleep(seconds)
        standin.behave(COMPANY, status=None)

    client = sirene.SireneClient(standin.url, standin.key, sleep=sleep, clock=clock, limiter=RateLimiter())
    assert client.get_siret(COMPANY).company_name == "Atelier Textile du Nord"
    assert standin.request_count == 2


def test_a_stalled_answer_times_out(standin):
    standin.behave(COMPANY, delay=5)
    client = make_client(standin, timeout=(1.0, 0.2), retries=1, backoff=0)
    with pytest.raises(sirene.SireneTimeout) as raised:
        client.get_siret(COMPANY)
    assert isinstance(raised.value, sirene.SireneUnavailable)
    assert "trop de temps" in str(raised.value.message)
    assert standin.request_count == 2


def test_connection_refused_is_unavailable():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = sirene.SireneClient(
        f"http://127.0.0.1:{port}/api-sirene/3.11", "key", retries=0, limiter=RateLimiter()
    )
    with pytest.raises(sirene.SireneUnavailable) as raised:
        client.get_siret(COMPANY)
    assert not isinstance(raised.value, sirene.SireneTimeout)


def test_over_quota_waits_until_the_reset_the_server_gives(standin):
    clock = FakeClock()
    standin.clock = clock
    standin.quota = 2
    client = make_client(standin, clock, max_wait=120)
    client.get_siret(COMPANY)
    client.get_siret(COMMUNE)
    assert client.get_siret(COMPANY).siret == COMPANY
    # The third call met a 429 whose X-Rate-Limit-Reset was 60 s away: waited exactly that.
    assert clock.sleeps == [60.0]
    assert standin.request_count == 4


def test_over_quota_with_a_reset_too_far_away_raises_at_once(standin):
    clock = FakeClock()
    standin.clock = clock
    standin.quota = 1
    client = make_client(standin, clock, max_wait=5)
    client.get_siret(COMPANY)
    with pytest.raises(sirene.SireneRateLimited) as raised:
        client.get_siret(COMPANY)
    assert raised.value.retry_after == 60.0
    assert "trop de demandes" in str(raised.value.message)
    assert clock.sleeps == []


def test_over_quota_after_every_retry_is_rate_limited(standin):
    clock = FakeClock()
    standin.clock = clock
    standin.quota = 1
    client = make_client(standin, clock, max_wait=120, retries=2)
    client.get_siret(COMPANY)
    standin.clock = lambda: clock.now - 3600  # the server's window never ends
    with pytest.raises(sirene.SireneRateLimited):
        client.get_siret(COMPANY)
    assert standin.request_count == 4


def test_client_limiter_spaces_requests_without_real_sleep(standin):
    clock = FakeClock()
    client = make_client(
        standin, clock, limiter=RateLimiter(rate=2, period=60, clock=clock, sleep=clock.sleep)
    )
    client.max_wait = 120
    for _ in range(3):
        client.get_siret(COMPANY)
    assert clock.sleeps == [60.0]
    assert standin.request_count == 3


def test_search_follows_cursors_until_they_stop(standin):
    client = make_client(standin)
    found = list(client.search_all("siren:812345676 OR siren:523986149", nombre=1))
    assert [e.siret for e in found] == ["52398614900012", "81234567600017", "81234567600025"]
    assert standin.request_count == 3
    assert [r["query"]["curseur"] for r in standin.requests][0] == "*"


def test_search_without_result_is_an_empty_page(standin):
    page = make_client(standin).search(f"siret:{UNKNOWN}")
    assert page.establishments == [] and page.total == 0 and page.is_last


def test_get_sirets_asks_once_for_many(standin):
    found = make_client(standin).get_sirets([COMPANY, CLOSED, UNKNOWN, "812 345 676 00025"])
    assert sorted(found) == [CLOSED, COMPANY, "81234567600025"]
    assert standin.request_count == 1
    assert standin.requests[0]["query"]["q"].count(" OR ") == 3


def test_search_page_size_is_bounded():
    client = sirene.SireneClient("http://127.0.0.1:9/x", "k")
    with pytest.raises(ValueError):
        client.search("siret:1", nombre=1001)


def test_get_client_reads_settings_and_shares_the_process_limiter(settings):
    settings.SIRENE_API_URL = "http://sirene.exemple/api-sirene/3.11"
    settings.SIRENE_API_KEY = "clef"
    settings.SIRENE_CLIENT = {"retries": 7}
    first, second = sirene.get_client(), sirene.get_client(interactive=False)
    assert first.base_url == "http://sirene.exemple/api-sirene/3.11/"
    assert first.api_key == "clef"
    assert first.retries == second.retries == 7
    assert first.limiter is second.limiter is sirene.default_limiter
    assert first.max_wait < second.max_wait


def test_a_page_does_not_ask_a_slow_register_twice(standin, settings):
    settings.SIRENE_CLIENT = {"timeout": (1.0, 0.2), "backoff": 0.0}
    standin.behave(COMPANY, delay=5)
    with pytest.raises(sirene.SireneTimeout):
        sirene.get_client().get_siret(COMPANY)
    assert standin.request_count == 1
