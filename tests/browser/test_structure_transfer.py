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


def test_global_transfer_leaves_the_deactivated_structure_with_its_manager(page):
    manager = factories.UserFactory(email="gp@exemple.fr")
    heir = factories.UserFactory(email="relais@exemple.fr", first_name="Inès", last_name="Roux")
    active = []
    for name in ("Atelier Nord", "Atelier Sud"):
        structure = factories.StructureFactory(company_name=name)
        factories.attach(manager, structure)
        factories.attach(heir, structure)
        active.append(structure)
    closed = factories.StructureFactory(
        company_name="Ancienne agence", with_principal_manager=manager, status=Structure.Status.INACTIVE
    )
    log_in(page, manager.email)
    page.check()

    page.goto("/organisation/structure/transfert-gestionnaire-principal/")
    page.check()
    page.get_by_label("Type de demande").select_option(label="Transfert global")
    page.get_by_role("button", name="Afficher le formulaire").click()
    page.wait_for_url(re.compile(r"\?type=global"))
    page.check()

    # Told before submitting what happens to the deactivated structure.
    notice = page.locator("#transfer-kept")
    expect(notice).to_contain_text("Une structure désactivée reste à votre nom")
    expect(notice).to_contain_text(f"{closed.identifier} — Ancienne agence")
    page.get_by_label("Nouveau gestionnaire principal de toutes vos structures actives").select_option(
        label="Inès Roux — relais@exemple.fr"
    )
    page.get_by_role("main").get_by_role("button", name="Soumettre").click()

    page.wait_for_url(re.compile(r"/transfert-gestionnaire-principal/effectue/$"))
    main = page.get_by_role("main")
    expect(main).to_contain_text("Atelier Nord → Inès Roux (relais@exemple.fr)")
    expect(main).to_contain_text(
        "La structure Ancienne agence est désactivée : elle n’a pas été transférée, "
        "vous en restez le gestionnaire principal."
    )
    expect(page.locator("#transfer-kept")).to_contain_text("Structures désactivées restées à votre nom")
    page.check()
    assert [Structure.objects.get(pk=s.pk).principal_manager for s in active] == [heir, heir]
    assert Structure.objects.get(pk=closed.pk).principal_manager == manager
