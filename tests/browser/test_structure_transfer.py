"""Transférer le gestionnaire principal in a real browser: the principal manager hands
the role to a delegated administrator with a transfert unitaire."""

import re

import pytest
from playwright.sync_api import expect

from chorus.models import Level
from structures.models import Structure
from tests import factories
from tests.browser.test_shell_journeys import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_principal_manager_transfers_the_role_to_the_delegate(page):
    structure = factories.StructureFactory(company_name="Entreprise Exemple")
    manager = factories.UserFactory(email="gp@exemple.fr")
    factories.attach(manager, structure)
    delegate = factories.UserFactory(email="delegue@exemple.fr", first_name="Paul", last_name="Durand")
    factories.attach(delegate, structure)
    factories.grant(delegate, structure, "ORGANISATION", Level.MODIFICATION)
    log_in(page, manager.email)
    page.check()

    page.goto("/organisation/structure/transfert-gestionnaire-principal/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Transférer le gestionnaire principal")
    page.check()
    page.get_by_label("Type de demande").select_option(label="Transfert unitaire")
    page.get_by_role("button", name="Afficher le formulaire").click()
    page.wait_for_url(re.compile(r"\?type=unitaire"))
    page.check()

    choice = page.get_by_label(f"{structure.identifier} — Entreprise Exemple")
    expect(choice).to_have_value("")  # "— ne pas transférer —" until chosen
    choice.select_option(label="Paul Durand — delegue@exemple.fr")
    page.get_by_role("main").get_by_role("button", name="Soumettre").click()

    page.wait_for_url(re.compile(r"/transfert-gestionnaire-principal/effectue/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Transfert du gestionnaire principal effectué")
    main = page.get_by_role("main")
    expect(main).to_contain_text(
        "Le rôle de gestionnaire principal a été transféré : Entreprise Exemple → Paul Durand"
    )
    expect(page.get_by_role("row", name=re.compile("Entreprise Exemple"))).to_contain_text(
        "delegue@exemple.fr"
    )
    page.check()
    assert Structure.objects.get(pk=structure.pk).principal_manager == delegate
