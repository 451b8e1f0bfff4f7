"""The INSEE journeys in a real browser, the stand-in playing INSEE over HTTP: a new
user creates a structure from its SIRET; the principal manager updates a structure
after INSEE's data changed; a duplication refused for a closed SIRET, then done."""

import re

import pytest
from playwright.sync_api import expect

from structures.models import Structure
from tests import factories
from tests.browser.test_shell_journeys import log_in
from tests.sirene.standin import running_standin
from users.models import Membership

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

COMPANY = "81234567600017"
NEW_SITE = "81234567600025"
CLOSED = "33917264500014"
BAKERY = "44211783400014"


@pytest.fixture
def standin(settings):
    with running_standin(settings) as server:
        yield server


def _company_with_manager():
    structure = factories.StructureFactory(
        identifier=COMPANY,
        company_name="Atelier Textile du Nord",
        label="Atelier Textile du Nord",
        address="12 rue de la Filature",
        postcode="59100",
        city="Roubaix",
        legal_category="5710",
        company_category="PME",
        vat_number="FR19812345676",
    )
    manager = factories.UserFactory(email="gestionnaire@exemple.fr", first_name="Camille")
    factories.attach(manager, structure)
    structure.refresh_from_db()
    return structure, manager


def test_new_user_creates_a_structure_from_its_siret_and_becomes_principal_manager(page, standin):
    user = factories.UserFactory(email="nouveau@exemple.fr", first_name="Emma")
    log_in(page, user.email)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Bonjour")
    page.check()

    page.goto("/domaines/organisation/")
    page.check()
    page.get_by_role("main").get_by_role("link", name="Créer une structure").click()
    page.wait_for_url("**/organisation/structure/nouvelle/")
    page.check()
    main = page.get_by_role("main")
    expect(page.get_by_role("heading", level=1)).to_have_text("Créer une structure")

    # A typo first: the checksum catches it, INSEE is not asked.
    main.get_by_label("SIRET").fill("442 117 834 00015")
    main.get_by_role("button", name="Rechercher dans la base INSEE").click()
    page.wait_for_url(re.compile(r"siret="))
    page.check()
    expect(main).to_contain_text("Ce SIRET n’existe pas : sa clé de contrôle est fausse.")
    assert standin.request_count == 0

    main.get_by_label("SIRET").fill("442 117 834 00014")
    main.get_by_role("button", name="Rechercher dans la base INSEE").click()
    page.wait_for_url(re.compile(r"siret=442"))
    page.check()
    insee = main.get_by_role("region", name="Ce que dit la base INSEE")
    expect(insee).to_contain_text("Boulangerie des Quatre Vents")
    expect(insee).to_contain_text("44 boulevard des Brotteaux")
    expect(insee).to_contain_text("Actif")
    assert not Structure.objects.exists()

    main.get_by_role("button", name="Soumettre").click()
    page.wait_for_url(re.compile(r"/organisation/structure/\d+/$"))
    page.check()
    expect(main).to_contain_text("Vous en êtes le gestionnaire principal.")
    expect(page.get_by_role("heading", level=1)).to_have_text("Boulangerie des Quatre Vents")
    structure = Structure.objects.get(identifier=BAKERY)
    assert structure.principal_manager == user
    assert Membership.objects.filter(
        user=user, structure=structure, status=Membership.Status.VALIDEE
    ).exists()


def test_principal_manager_updates_a_structure_after_insee_data_changed(page, standin):
    structure, manager = _company_with_manager()
    standin.update(
        COMPANY,
        {
            "adresseEtablissement": {
                "numeroVoieEtablissement": "30",
                "libelleVoieEtablissement": "du Général Leclerc",
                "typeVoieEtablissement": "AV",
                "libelleCommuneEtablissement": "Lille",
                "codePostalEtablissement": "59000",
            }
        },
    )
    log_in(page, manager.email)
    page.check()
    page.goto(f"/organisation/structure/{structure.pk}/mise-a-jour-insee/")
    page.check()
    main = page.get_by_role("main")
    expect(page.get_by_role("heading", level=1)).to_have_text("Mettre à jour depuis la base INSEE")
    differences = main.get_by_role("table", name="Différences avec la base INSEE")
    expect(differences.get_by_role("row")).to_have_count(4)  # header + address, postcode, city
    expect(differences.get_by_role("row", name=re.compile("Ville"))).to_contain_text("Roubaix")
    expect(differences.get_by_role("row", name=re.compile("Ville"))).to_contain_text("Lille")
    expect(differences).to_contain_text("30 avenue du Général Leclerc")

    main.get_by_role("button", name="Soumettre").click()
    page.wait_for_url(f"**/organisation/structure/{structure.pk}/")
    page.check()
    expect(main).to_contain_text("La structure est mise à jour depuis la base INSEE : 3 champs modifiés.")
    expect(main).to_contain_text("30 avenue du Général Leclerc")
    structure.refresh_from_db()
    assert (structure.address, structure.postcode, structure.city) == (
        "30 avenue du Général Leclerc",
        "59000",
        "Lille",
    )
    assert structure.insee_updated_at is not None


def test_duplication_refused_for_a_closed_siret_then_done_for_an_active_one(page, standin):
    structure, manager = _company_with_manager()
    factories.ServiceFactory(structure=structure, code="TEXTILE", name="Service textile")
    log_in(page, manager.email)
    page.check()
    page.goto("/organisation/structure/dupliquer/")
    page.check()
    main = page.get_by_role("main")
    main.get_by_label("Structure modèle (ancien identifiant)").select_option(str(structure.pk))
    main.get_by_role("textbox", name=re.compile("^Nouveau SIRET")).fill(CLOSED)
    main.get_by_role("button", name="Vérifier le nouveau SIRET dans la base INSEE").click()
    page.wait_for_url(re.compile(rf"siret={CLOSED}"))
    page.check()
    expect(main).to_contain_text("Cet établissement est fermé dans la base INSEE")
    expect(main.get_by_role("button", name="Soumettre")).to_have_count(0)

    main.get_by_role("textbox", name=re.compile("^Nouveau SIRET")).fill("812 345 676 00025")
    main.get_by_role("button", name="Vérifier le nouveau SIRET dans la base INSEE").click()
    page.wait_for_url(re.compile(r"siret=812"))
    page.check()
    expect(main.get_by_role("region", name=re.compile("Nouveau SIRET"))).to_contain_text("Tourcoing")
    expect(main).to_contain_text("Services : 1")
    main.get_by_role("button", name="Soumettre").click()
    page.wait_for_url(re.compile(r"/organisation/structure/\d+/$"))
    page.check()
    expect(main).to_contain_text("est désactivée")
    new = Structure.objects.get(identifier=NEW_SITE)
    assert page.url.endswith(f"/organisation/structure/{new.pk}/")
    assert new.origin == structure and new.principal_manager == manager
    assert new.services.filter(code="TEXTILE").exists()
    structure.refresh_from_db()
    assert structure.status == Structure.Status.INACTIVE


def test_new_user_asks_to_join_a_structure_the_portal_already_has(page, standin):
    structure, manager = _company_with_manager()
    user = factories.UserFactory(email="arrivant@exemple.fr", first_name="Lucas")
    log_in(page, user.email)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Bonjour")
    page.check()

    page.goto("/organisation/structure/nouvelle/")
    page.check()
    main = page.get_by_role("main")
    main.get_by_label("SIRET").fill("812 345 676 00017")
    main.get_by_role("button", name="Rechercher dans la base INSEE").click()
    page.wait_for_url(re.compile(r"siret=812"))
    page.check()
    expect(main).to_contain_text("Cette structure existe déjà sur le portail")

    main.get_by_role("link", name="Demander un rattachement à cette structure").click()
    page.wait_for_url(re.compile(r"/demander-un-rattachement/\?identifiant=81234567600017"))
    page.check()
    expect(page.get_by_role("heading", level=1)).to_have_text("Demander un rattachement")
    expect(main).to_contain_text("Atelier Textile du Nord")
    main.get_by_label("Commentaire (facultatif)").fill("Comptable de l’atelier.")
    main.get_by_role("button", name="Soumettre").click()
    page.wait_for_url("**/mes-demandes/**")
    page.check()
    expect(main).to_contain_text("Votre demande de rattachement")
    assert structure.approval_requests.filter(requester=user, status="EN_ATTENTE").count() == 1
    # Waiting for the managers' decision, not attached yet.
    assert Membership.objects.get(user=user, structure=structure).status == (
        Membership.Status.EN_COURS_DE_VALIDATION
    )


def test_update_from_insee_corrects_the_country_and_the_public_nature(page, standin):
    # Recorded before the portal knew every INSEE country and every public-law category:
    # in France, and private.
    structure, manager = _company_with_manager()
    standin.update(
        COMPANY,
        {
            "uniteLegale": {"categorieJuridiqueUniteLegale": "4140"},
            "adresseEtablissement": {
                "numeroVoieEtablissement": None,
                "typeVoieEtablissement": None,
                "libelleVoieEtablissement": "RUE DU RHONE 12",
                "codePostalEtablissement": None,
                "libelleCommuneEtablissement": None,
                "codeCommuneEtablissement": None,
                "libelleCommuneEtrangerEtablissement": "1204 GENEVE",
                "codePaysEtrangerEtablissement": "99140",
                "libellePaysEtrangerEtablissement": "SUISSE",
            },
        },
    )
    log_in(page, manager.email)
    page.check()
    page.goto(f"/organisation/structure/{structure.pk}/mise-a-jour-insee/")
    page.check()
    main = page.get_by_role("main")
    differences = main.get_by_role("table", name="Différences avec la base INSEE")
    country = differences.get_by_role("row", name=re.compile(r"^Pays FR"))
    expect(country).to_contain_text("FR")
    expect(country).to_contain_text("CH")
    expect(differences.get_by_role("row", name=re.compile("libellé INSEE"))).to_contain_text("Suisse")
    kind = differences.get_by_role("row", name=re.compile("Structure privée ou publique"))
    expect(kind).to_contain_text("Privée")
    expect(kind).to_contain_text("Publique")

    main.get_by_role("button", name="Soumettre").click()
    page.wait_for_url(f"**/organisation/structure/{structure.pk}/")
    page.check()
    expect(main).to_contain_text("Suisse (CH)")
    expect(main).to_contain_text("1204 GENEVE")
    structure.refresh_from_db()
    assert (structure.country, structure.kind) == ("CH", Structure.Kind.PUBLIQUE)
