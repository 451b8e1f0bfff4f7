"""Créer / gérer un service in a real browser: the principal manager creates a service,
then deactivates it."""

import re

import pytest
from playwright.sync_api import expect

from structures.models import Service
from tests import factories
from tests.browser.test_shell_journeys import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_principal_manager_creates_a_service_then_deactivates_it(page):
    structure = factories.StructureFactory(company_name="Mairie de Test")
    manager = factories.UserFactory(email="gp@exemple.fr")
    factories.attach(manager, structure)
    log_in(page, manager.email)
    page.check()

    page.goto("/organisation/structure/services/nouveau/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Créer un service")
    page.check()
    form = page.get_by_role("main")
    form.get_by_role("combobox", name="Structure").select_option(str(structure.pk))
    form.get_by_role("textbox", name=re.compile(r"^Code(?! postal)")).fill("achats")
    form.get_by_label("Libellé").fill("Service des achats")
    form.get_by_label("Ville").fill("Lyon")
    form.get_by_label("Début de validité").fill("2026-01-01")
    form.get_by_label("Fin de validité").fill("2026-12-31")
    # A DSFR checkbox is drawn by its label: click it as a user does.
    form.locator("label[for='id_commitment_required']").click()
    expect(form.get_by_label("Numéro d’engagement obligatoire")).to_be_checked()
    form.get_by_role("button", name="Soumettre").click()

    page.wait_for_url(re.compile(r"/organisation/structure/services/\?structure="))
    expect(page.get_by_role("main")).to_contain_text(
        "Le service ACHATS a été créé dans la structure Mairie de Test"
    )
    row = page.get_by_role("row", name=re.compile("ACHATS"))
    expect(row).to_contain_text("Service des achats")
    expect(row).to_contain_text("du 01/01/2026 au 31/12/2026")
    expect(row).to_contain_text("Actif")
    page.check()
    service = Service.objects.get(structure=structure)
    assert (service.code, service.city, service.commitment_required) == ("ACHATS", "Lyon", True)

    row.get_by_role("link", name="Désactiver ACHATS").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Désactiver le service ACHATS")
    expect(page.get_by_role("main")).to_contain_text("Voulez-vous désactiver le service ACHATS ?")
    page.check()
    page.get_by_role("main").get_by_role("button", name="Soumettre").click()

    page.wait_for_url(re.compile(r"/organisation/structure/services/\?structure="))
    expect(page.get_by_role("main")).to_contain_text("Le service ACHATS a été désactivé.")
    expect(page.get_by_role("row", name=re.compile("ACHATS"))).to_contain_text("Inactif")
    page.check()
    service.refresh_from_db()
    assert service.is_active is False
