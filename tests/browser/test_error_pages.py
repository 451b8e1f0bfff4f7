"""The portal's error pages in a real browser: DSFR, accessible, within the
Content-Security-Policy (the `page` fixture fails on either), and saying what to do."""

import re

import pytest
from playwright.sync_api import expect

from tests import factories
from tests.browser.test_shell_journeys import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_member_without_profile_is_told_what_to_ask_and_goes_to_ask_it(page):
    structure = factories.StructureFactory(company_name="Menuiserie Dupont")
    manager = factories.UserFactory(email="gp@exemple.fr", first_name="Claire", last_name="Martin")
    factories.attach(manager, structure)
    member = factories.UserFactory(email="membre@exemple.fr")
    factories.attach(member, structure)
    log_in(page, member.email)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Bonjour")
    page.check()

    response = page.goto("/organisation/structure/")

    assert response.status == 403
    expect(page.get_by_role("heading", level=1)).to_have_text("Accès refusé")
    main = page.get_by_role("main")
    expect(main).to_contain_text(
        "Vous n’avez pas le profil « Organisation – consultation » sur vos structures"
    )
    expect(main).to_contain_text("Menuiserie Dupont")
    expect(main).to_contain_text("Claire Martin")
    page.check()

    main.get_by_role("link", name="Gérer mes habilitations").click()
    page.wait_for_url(re.compile(r"/organisation/utilisateurs/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Gérer mes habilitations")
    page.check()


def test_unknown_address_shows_the_french_404_page(page):
    response = page.goto("/nulle-part/")

    assert response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Page introuvable")
    page.check()
    page.get_by_role("main").get_by_role("link", name="Retour à l’accueil").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Vous êtes une entreprise")
    page.check()
