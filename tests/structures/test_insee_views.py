"""The INSEE pages: Créer une structure, Mettre à jour depuis la base INSEE, Dupliquer
une structure. INSEE is the stand-in, over HTTP; each page's permission matrix; every
bad input and every failure of the register gives a French message and changes nothing."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from chorus.models import AuditEvent
from structures.models import Service, Structure
from tests import factories
from tests.sirene.standin import running_standin
from users.models import Membership

CREATE_URL = "/organisation/structure/nouvelle/"
DUPLICATE_URL = "/organisation/structure/dupliquer/"

COMPANY = "81234567600017"
NEW_SITE = "81234567600025"
COMMUNE = "21180026300017"
BAKERY = "44211783400014"
CLOSED = "33917264500014"
HIDDEN = "87654321600017"
FORBIDDEN = "87654321600025"
LA_POSTE = "35600000000010"
DUPLICATE = "52398614900020"
KEPT = "52398614900012"
UNKNOWN = "44211783400022"
DOWN = "50128476400021"

CHECKSUM = "Ce SIRET n’existe pas : sa clé de contrôle est fausse."
LENGTH = "vous en avez saisi 13"
LETTERS = "Le SIRET ne contient que des chiffres"
CLOSED_MESSAGE = "Cet établissement est fermé dans la base INSEE"
UNKNOWN_MESSAGE = "Aucun établissement ne correspond à ce SIRET"
HIDDEN_MESSAGE = "Cet établissement est non diffusible"
DOWN_MESSAGE = "La base INSEE (Sirene) est indisponible pour le moment."
SLOW_MESSAGE = "La base INSEE (Sirene) met trop de temps à répondre."
QUOTA_MESSAGE = "La base INSEE reçoit trop de demandes en ce moment."
KEY_MESSAGE = "Le portail n’est pas autorisé à interroger la base INSEE"
EXISTS_MESSAGE = "Une structure existe déjà sur le portail pour ce SIRET"

pytestmark = pytest.mark.django_db


@pytest.fixture
def standin(settings):
    with running_standin(settings) as server:
        yield server


@pytest.fixture
def company(structure, principal_manager):
    """The conftest structure, as the company the stand-in knows."""
    Structure.objects.filter(pk=structure.pk).update(
        identifier=COMPANY, company_name="Atelier Textile", city="Roubaix", postcode="59100"
    )
    structure.refresh_from_db()
    return structure


def _login(client, user):
    client.force_login(user)
    return client


def _messages(response):
    return [str(message) for message in response.context["messages"]] if response.context else []


def _page(response):
    return response.content.decode()


def _update_url(structure):
    return reverse("structures:insee_update", args=[structure.pk])


def _state():
    return (Structure.objects.count(), Membership.objects.count(), AuditEvent.objects.count())


def test_urls_are_french():
    assert reverse("structures:create") == CREATE_URL
    assert reverse("structures:insee_update", args=[7]) == "/organisation/structure/7/mise-a-jour-insee/"
    assert reverse("structures:duplicate") == DUPLICATE_URL


# Créer une structure: permissions


def test_anonymous_visitor_is_sent_to_login_from_create(client, db):
    response = client.get(CREATE_URL)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("users:login"))


def test_user_without_structure_may_open_create(client, db):
    response = _login(client, factories.UserFactory()).get(CREATE_URL)
    assert response.status_code == 200
    assert "Rechercher dans la base INSEE" in _page(response)


@pytest.mark.parametrize(
    "persona", ["consultation_user", "delegate", "principal_manager", "other_structure_user"]
)
def test_every_portal_user_may_open_create(client, request, persona):
    assert _login(client, request.getfixturevalue(persona)).get(CREATE_URL).status_code == 200


def test_operator_cannot_create_a_structure(client, db):
    operator = factories.UserFactory(is_staff=True, is_superuser=True)
    assert _login(client, operator).get(CREATE_URL).status_code == 403


# Créer une structure: the journey


def test_new_user_sees_what_insee_says_then_creates_and_becomes_principal_manager(client, standin):
    user = factories.UserFactory(email="nouveau@exemple.fr")
    _login(client, user)
    response = client.get(CREATE_URL, {"siret": "442 117 834 00014"})
    page = _page(response)
    assert "Boulangerie des Quatre Vents" in page and "44 boulevard des Brotteaux" in page
    assert "Actif" in page and "data-warn-unsaved" in page and "Soumettre" in page
    assert not Structure.objects.exists()

    response = client.post(CREATE_URL, {"siret": BAKERY})
    structure = Structure.objects.get(identifier=BAKERY)
    assert response.status_code == 302
    assert response["Location"] == reverse("structures:detail", args=[structure.pk])
    assert structure.principal_manager == user
    assert structure.kind == Structure.Kind.PRIVEE
    assert (structure.company_name, structure.label, structure.city) == (
        "Boulangerie des Quatre Vents",
        "Aux Quatre Vents",
        "Lyon",
    )
    assert Membership.objects.get(structure=structure).status == Membership.Status.VALIDEE
    assert AuditEvent.objects.filter(action="structure_create", structure=structure, actor=user).exists()
    assert "Vous en êtes le gestionnaire principal" in _messages(client.get(response["Location"]))[0]


def test_a_public_body_is_created_public(client, standin):
    _login(client, factories.UserFactory())
    client.post(CREATE_URL, {"siret": COMMUNE})
    assert Structure.objects.get(identifier=COMMUNE).kind == Structure.Kind.PUBLIQUE


GERMANY = {
    "numeroVoieEtablissement": None,
    "typeVoieEtablissement": None,
    "libelleVoieEtablissement": "FRIEDRICHSTRASSE 68",
    "codePostalEtablissement": None,
    "libelleCommuneEtablissement": None,
    "codeCommuneEtablissement": None,
    "libelleCommuneEtrangerEtablissement": "10117 BERLIN",
    "codePaysEtrangerEtablissement": "99109",
    "libellePaysEtrangerEtablissement": "ALLEMAGNE",
}


def test_an_establishment_abroad_is_shown_and_created_in_its_country(client, standin):
    standin.update(BAKERY, {"adresseEtablissement": GERMANY})
    _login(client, factories.UserFactory())
    page = _page(client.get(CREATE_URL, {"siret": BAKERY}))
    assert "Allemagne (DE)" in page and "10117 BERLIN" in page
    response = client.post(CREATE_URL, {"siret": BAKERY})
    assert Structure.objects.get(identifier=BAKERY).country == "DE"
    assert "Allemagne (DE)" in _page(client.get(response["Location"]))


def test_an_epic_is_shown_and_created_public(client, standin):
    standin.update(BAKERY, {"uniteLegale": {"categorieJuridiqueUniteLegale": "4140"}})
    _login(client, factories.UserFactory())
    page = _page(client.get(CREATE_URL, {"siret": BAKERY}))
    assert "Publique" in page and "4140" in page
    client.post(CREATE_URL, {"siret": BAKERY})
    assert Structure.objects.get(identifier=BAKERY).kind == Structure.Kind.PUBLIQUE


def test_la_poste_establishment_can_be_created(client, standin):
    _login(client, factories.UserFactory())
    client.post(CREATE_URL, {"siret": "356 000 000 00010"})
    assert Structure.objects.get(identifier=LA_POSTE).company_name == "La Poste"


@pytest.mark.parametrize(
    ("siret", "message"),
    [("81234567600018", CHECKSUM), ("8123456760001", LENGTH), ("8123456760001A", LETTERS)],
)
@pytest.mark.parametrize("method", ["get", "post"])
def test_bad_siret_is_refused_before_asking_insee(client, standin, siret, message, method):
    _login(client, factories.UserFactory())
    before = _state()
    response = getattr(client, method)(CREATE_URL, {"siret": siret})
    assert response.status_code == 200
    assert message in _page(response)
    assert standin.request_count == 0
    assert _state() == before


@pytest.mark.parametrize(
    ("siret", "message"),
    [
        (CLOSED, CLOSED_MESSAGE),
        (UNKNOWN, UNKNOWN_MESSAGE),
        (HIDDEN, HIDDEN_MESSAGE),
        (FORBIDDEN, HIDDEN_MESSAGE),
    ],
)
@pytest.mark.parametrize("method", ["get", "post"])
def test_closed_unknown_or_hidden_siret_is_refused_with_the_reason(client, standin, siret, message, method):
    _login(client, factories.UserFactory())
    before = _state()
    response = getattr(client, method)(CREATE_URL, {"siret": siret})
    assert response.status_code == 200
    assert message in _page(response)
    assert "Soumettre" not in _page(response)
    assert _state() == before


def test_closed_siret_shows_since_when(client, standin):
    _login(client, factories.UserFactory())
    assert "Fermé depuis le 31/03/2021" in _page(client.get(CREATE_URL, {"siret": CLOSED}))


def test_siret_with_a_structure_offers_to_ask_for_attachment(client, standin, company):
    _login(client, factories.UserFactory())
    before = _state()
    for response in (client.get(CREATE_URL, {"siret": COMPANY}), client.post(CREATE_URL, {"siret": COMPANY})):
        page = _page(response)
        assert "Cette structure existe déjà sur le portail" in page
        assert f'href="{reverse("approvals:request_attachment")}?identifiant={COMPANY}"' in page
    assert standin.request_count == 0
    assert _state() == before


def test_attachment_link_opens_the_request_form_with_the_structure_chosen(client, standin, company):
    _login(client, factories.UserFactory())
    page = _page(client.get(CREATE_URL, {"siret": "812 345 676 00017"}))
    link = page.split("Demander un rattachement à cette structure")[0].rsplit('href="', 1)[1].split('"')[0]
    form_page = client.get(link.replace("&amp;", "&"))
    assert form_page.status_code == 200
    assert form_page.context["form"] is not None
    assert form_page.context["form"].initial["structure"] == company.pk
    assert "Atelier Textile" in _page(form_page)


def test_member_of_the_existing_structure_is_told_so(client, standin, company, principal_manager):
    page = _page(_login(client, principal_manager).get(CREATE_URL, {"siret": COMPANY}))
    assert "vous y êtes déjà rattaché" in page


def test_duplicate_siret_is_created_under_the_siret_insee_keeps(client, standin):
    _login(client, factories.UserFactory())
    page = _page(client.get(CREATE_URL, {"siret": DUPLICATE}))
    assert f"la base INSEE le remplace par le SIRET {KEPT}" in page
    client.post(CREATE_URL, {"siret": DUPLICATE})
    assert Structure.objects.filter(identifier=KEPT).exists()
    assert not Structure.objects.filter(identifier=DUPLICATE).exists()


def _over_quota(standin):
    standin.quota = 0


def _slow(standin, settings):
    settings.SIRENE_CLIENT = {"backoff": 0.0, "timeout": (1.0, 0.2), "retries": 0}
    standin.behave(BAKERY, delay=3)


def _down(standin):
    standin.behave(BAKERY, status=503)


def _wrong_key(settings):
    settings.SIRENE_API_KEY = "mauvaise-cle"


FAILURES = [
    (lambda standin, settings: _down(standin), DOWN_MESSAGE),
    (_slow, SLOW_MESSAGE),
    (lambda standin, settings: _over_quota(standin), QUOTA_MESSAGE),
    (lambda standin, settings: _wrong_key(settings), KEY_MESSAGE),
]


@pytest.mark.parametrize(("break_register", "message"), FAILURES)
@pytest.mark.parametrize("method", ["get", "post"])
def test_register_failure_gives_a_clear_message_and_creates_nothing(
    client, standin, settings, break_register, message, method
):
    _login(client, factories.UserFactory())
    break_register(standin, settings)
    before = _state()
    response = getattr(client, method)(CREATE_URL, {"siret": BAKERY})
    assert response.status_code == 200
    assert message in _page(response)
    assert _state() == before


# Mettre à jour depuis la base INSEE: permissions


def test_anonymous_visitor_is_sent_to_login_from_update(client, company):
    response = client.get(_update_url(company))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("users:login"))


def test_user_of_another_structure_gets_404_on_update(client, standin, company, other_structure_user):
    _login(client, other_structure_user)
    assert client.get(_update_url(company)).status_code == 404
    assert client.post(_update_url(company), {"fingerprint": "x"}).status_code == 404
    assert standin.request_count == 0


def test_consultation_user_cannot_update_from_insee(client, standin, company, consultation_user):
    _login(client, consultation_user)
    assert client.get(_update_url(company)).status_code == 403
    assert client.post(_update_url(company), {"fingerprint": "x"}).status_code == 403


@pytest.mark.parametrize("persona", ["delegate", "principal_manager"])
def test_managers_may_update_from_insee(client, standin, company, request, persona):
    assert _login(client, request.getfixturevalue(persona)).get(_update_url(company)).status_code == 200


# Mettre à jour depuis la base INSEE: the page


def _fingerprint(response):
    form = response.context["form"]
    return form["fingerprint"].value()


def test_manager_sees_the_differences_then_applies_them(client, standin, company, principal_manager):
    standin.update(COMPANY, {"adresseEtablissement": {"libelleCommuneEtablissement": "Lille"}})
    _login(client, principal_manager)
    response = client.get(_update_url(company))
    page = _page(response)
    assert "Différences avec la base INSEE" in page
    assert "Roubaix" in page and "Lille" in page and "Atelier Textile du Nord" in page
    company.refresh_from_db()
    assert company.city == "Roubaix"

    response = client.post(_update_url(company), {"fingerprint": _fingerprint(response)})
    assert response["Location"] == reverse("structures:detail", args=[company.pk])
    company.refresh_from_db()
    assert (company.city, company.company_name) == ("Lille", "Atelier Textile du Nord")
    assert company.insee_updated_at is not None
    event = AuditEvent.objects.get(action="structure_insee_update")
    assert event.actor == principal_manager
    assert event.changes["city"] == {"before": "Roubaix", "after": "Lille"}
    assert "champs modifiés" in _messages(client.get(response["Location"]))[0]


def test_update_corrects_an_establishment_abroad_recorded_in_france(
    client, standin, company, principal_manager
):
    standin.update(COMPANY, {"adresseEtablissement": GERMANY})
    _login(client, principal_manager)
    response = client.get(_update_url(company))
    rows = {row["label"]: (row["before"], row["after"]) for row in response.context["changes"]}
    assert rows["pays"] == ("FR", "DE")
    assert rows["pays (libellé INSEE)"] == ("", "Allemagne")
    response = client.post(_update_url(company), {"fingerprint": _fingerprint(response)})
    company.refresh_from_db()
    assert (company.country, company.country_label) == ("DE", "Allemagne")
    assert "Allemagne (DE)" in _page(client.get(response["Location"]))


def test_update_shows_the_change_to_public_in_words(client, standin, company, principal_manager):
    standin.update(COMPANY, {"uniteLegale": {"categorieJuridiqueUniteLegale": "4110"}})
    _login(client, principal_manager)
    response = client.get(_update_url(company))
    rows = {row["label"]: (row["before"], row["after"]) for row in response.context["changes"]}
    assert rows["structure privée ou publique"] == ("Privée", "Publique")
    client.post(_update_url(company), {"fingerprint": _fingerprint(response)})
    company.refresh_from_db()
    assert company.kind == Structure.Kind.PUBLIQUE


def test_nothing_is_applied_when_insee_changed_after_the_page_was_shown(
    client, standin, company, principal_manager
):
    _login(client, principal_manager)
    shown = _fingerprint(client.get(_update_url(company)))
    standin.update(COMPANY, {"adresseEtablissement": {"libelleCommuneEtablissement": "Lille"}})
    response = client.post(_update_url(company), {"fingerprint": shown})
    assert response.status_code == 200
    assert "Les données de la base INSEE ont changé depuis l’affichage de la page" in _page(response)
    company.refresh_from_db()
    assert company.city == "Roubaix" and company.insee_updated_at is None
    assert not AuditEvent.objects.filter(action="structure_insee_update").exists()


def test_a_closed_establishment_is_reported(client, standin, company, principal_manager):
    standin.close(COMPANY, "2026-03-01")
    page = _page(_login(client, principal_manager).get(_update_url(company)))
    assert "La base INSEE indique que cet établissement est fermé depuis le 01/03/2026." in page
    assert reverse("structures:deactivate", args=[company.pk]) in page


def test_no_difference_says_so(client, standin, company, principal_manager):
    _login(client, principal_manager)
    client.post(_update_url(company), {"fingerprint": _fingerprint(client.get(_update_url(company)))})
    response = client.get(_update_url(company))
    assert "Les données de la structure sont identiques à celles de la base INSEE" in _page(response)
    response = client.post(_update_url(company), {"fingerprint": _fingerprint(response)})
    assert "déjà conforme à la base INSEE" in _messages(client.get(response["Location"]))[0]


@pytest.mark.parametrize("method", ["get", "post"])
def test_register_down_changes_nothing(client, standin, company, principal_manager, method):
    standin.behave(COMPANY, status=503)
    _login(client, principal_manager)
    response = getattr(client, method)(_update_url(company), {"fingerprint": "x"})
    assert DOWN_MESSAGE in _page(response)
    company.refresh_from_db()
    assert company.company_name == "Atelier Textile" and company.insee_updated_at is None


def test_a_siret_insee_no_longer_knows(client, standin, company, principal_manager):
    standin.remove(COMPANY)
    page = _page(_login(client, principal_manager).get(_update_url(company)))
    assert f"La base INSEE ne connaît pas (ou plus) le SIRET {COMPANY}" in page


def test_a_structure_without_siret_cannot_be_updated_from_insee(client, standin, company, principal_manager):
    Structure.objects.filter(pk=company.pk).update(identifier_type=Structure.IdentifierType.HORS_UE)
    page = _page(_login(client, principal_manager).get(_update_url(company)))
    assert "Seule une structure identifiée par un SIRET" in page
    assert standin.request_count == 0


# Dupliquer une structure: permissions


def test_anonymous_visitor_is_sent_to_login_from_duplicate(client, db):
    response = client.get(DUPLICATE_URL)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("users:login"))


def test_consultation_user_cannot_duplicate(client, company, consultation_user):
    _login(client, consultation_user)
    assert client.get(DUPLICATE_URL).status_code == 403
    assert client.post(DUPLICATE_URL, {"model": company.pk, "siret": NEW_SITE}).status_code == 403


def test_user_without_structure_cannot_duplicate(client, db):
    assert _login(client, factories.UserFactory()).get(DUPLICATE_URL).status_code == 403


def test_manager_of_another_structure_cannot_choose_ours(client, standin, company, other_structure_user):
    _login(client, other_structure_user)
    response = client.get(DUPLICATE_URL)
    assert response.status_code == 200
    assert company.identifier not in _page(response)
    before = _state()
    response = client.post(DUPLICATE_URL, {"model": company.pk, "siret": NEW_SITE})
    assert "Sélectionnez un choix valide" in _page(response)
    assert _state() == before
    assert standin.request_count == 0


@pytest.mark.parametrize("persona", ["delegate", "principal_manager"])
def test_managers_may_duplicate(client, company, request, persona):
    response = _login(client, request.getfixturevalue(persona)).get(DUPLICATE_URL)
    assert response.status_code == 200
    assert company.identifier in _page(response)


def test_duplicate_form_queries_do_not_grow_with_structures(client, company, principal_manager):
    _login(client, principal_manager)

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(DUPLICATE_URL).status_code == 200
        return len(queries)

    few = count()
    for _ in range(10):
        factories.StructureFactory(with_principal_manager=principal_manager)
    assert count() == few


# Dupliquer une structure: the page


def test_duplication_refused_for_a_closed_siret_then_done_for_an_active_one(
    client, standin, company, principal_manager, delegate
):
    factories.ServiceFactory(structure=company, code="TEXTILE")
    _login(client, principal_manager)
    before = _state()
    response = client.get(DUPLICATE_URL, {"model": company.pk, "siret": CLOSED})
    assert CLOSED_MESSAGE in _page(response)
    response = client.post(DUPLICATE_URL, {"model": company.pk, "siret": CLOSED})
    assert CLOSED_MESSAGE in _page(response)
    assert _state() == before

    response = client.get(DUPLICATE_URL, {"model": company.pk, "siret": NEW_SITE})
    page = _page(response)
    assert "Tourcoing" in page and "Services : 1" in page and "Soumettre" in page
    response = client.post(DUPLICATE_URL, {"model": company.pk, "siret": NEW_SITE})
    new = Structure.objects.get(identifier=NEW_SITE)
    assert response["Location"] == reverse("structures:detail", args=[new.pk])
    assert new.origin == company and new.principal_manager == principal_manager
    assert Service.objects.filter(structure=new, code="TEXTILE").exists()
    assert new.memberships.filter(user=delegate).exists()
    company.refresh_from_db()
    assert company.status == Structure.Status.INACTIVE
    assert "est désactivée" in _messages(client.get(response["Location"]))[0]


@pytest.mark.parametrize(
    ("siret", "message"),
    [
        ("81234567600018", CHECKSUM),
        ("8123456760002", LENGTH),
        ("812345676000AB", LETTERS),
        (UNKNOWN, UNKNOWN_MESSAGE),
        (COMPANY, "Le nouveau SIRET doit être différent"),
        (DOWN, DOWN_MESSAGE),
    ],
)
def test_duplication_bad_input_changes_nothing(client, standin, company, principal_manager, siret, message):
    _login(client, principal_manager)
    before = _state()
    response = client.post(DUPLICATE_URL, {"model": company.pk, "siret": siret})
    assert response.status_code == 200
    assert message in _page(response)
    assert _state() == before
    company.refresh_from_db()
    assert company.status == Structure.Status.ACTIVE


def test_duplication_onto_a_siret_that_has_a_structure_is_refused(
    client, standin, company, principal_manager
):
    factories.StructureFactory(identifier=NEW_SITE)
    _login(client, principal_manager)
    before = _state()
    response = client.post(DUPLICATE_URL, {"model": company.pk, "siret": NEW_SITE})
    assert EXISTS_MESSAGE in _page(response)
    assert _state() == before
