"""A user attached to no structure, in a real browser: the home page shows the two ways
in (Créer une structure, Demander un rattachement), the request then waits on the home
page and on Gérer mes habilitations, and the approver reads its comment in the list."""

import re

import pytest
from playwright.sync_api import expect

from tests import factories
from tests.browser.test_shell_journeys import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_user_attached_to_nothing_asks_to_join_from_the_home_page(page):
    manager = factories.UserFactory(email="gp@exemple.fr")
    company = factories.StructureFactory(
        company_name="Atelier Textile du Nord", with_principal_manager=manager
    )
    factories.UserFactory(email="nouveau@exemple.fr", first_name="Emma", last_name="Durand")

    log_in(page, "nouveau@exemple.fr")
    expect(page.get_by_role("heading", level=1)).to_have_text("Bonjour Emma")
    page.check()
    guide = page.locator("#premiers-pas-section")
    expect(guide.get_by_role("heading", name="Vous n’êtes rattaché à aucune structure")).to_be_visible()
    expect(guide.get_by_role("link", name="Créer une structure")).to_be_visible()
    expect(guide).not_to_contain_text("Gérer mes habilitations")
    expect(page.get_by_role("main")).not_to_contain_text("demandez-le depuis « Gérer mes habilitations »")

    guide.get_by_role("link", name="Demander un rattachement").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Demander un rattachement")
    page.check()
    page.get_by_label("SIRET ou identifiant de la structure").fill(company.identifier)
    page.get_by_role("button", name="Rechercher la structure").click()
    expect(page.get_by_role("main")).to_contain_text("Atelier Textile du Nord")
    page.check()
    page.get_by_label("Commentaire (facultatif)").fill("Je rejoins le service comptable.")
    page.get_by_role("main").get_by_role("button", name="Soumettre").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Historique de mes demandes")
    page.check()

    # Home: still attached to nothing, the request is shown as waiting.
    page.goto("/")
    page.check()
    waiting = page.locator("#premiers-pas-section")
    expect(waiting).to_contain_text("Votre demande de rattachement est en attente")
    expect(waiting).to_contain_text(f"Atelier Textile du Nord ({company.identifier})")

    # Gérer mes habilitations lists it too.
    page.goto("/organisation/utilisateurs/mes-habilitations/")
    page.check()
    pending = page.locator("#demandes-en-attente")
    expect(pending.get_by_role("row", name=re.compile("Atelier Textile du Nord"))).to_contain_text(
        "En attente"
    )

    # The principal manager reads the comment in the approvals list.
    page.context.clear_cookies()
    log_in(page, "gp@exemple.fr")
    page.check()
    page.goto("/approbations/")
    page.check()
    row = page.get_by_role("row", name=re.compile("nouveau@exemple.fr"))
    expect(row).to_contain_text("Je rejoins le service comptable.")


def test_a_user_attached_to_nothing_opens_create_a_structure_from_the_home_page(page):
    factories.UserFactory(email="nouveau@exemple.fr", first_name="Emma", last_name="Durand")
    log_in(page, "nouveau@exemple.fr")
    page.check()
    page.locator("#premiers-pas-section").get_by_role("link", name="Créer une structure").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Créer une structure")
    page.check()


def test_the_first_steps_fit_a_phone_screen(mobile_page):
    factories.UserFactory(email="nouveau@exemple.fr", first_name="Emma", last_name="Durand")
    log_in(mobile_page, "nouveau@exemple.fr")
    mobile_page.check()
    guide = mobile_page.locator("#premiers-pas-section")
    for name in ("Créer une structure", "Demander un rattachement"):
        link = guide.get_by_role("link", name=name)
        link.scroll_into_view_if_needed()
        expect(link).to_be_in_viewport()
    assert mobile_page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
