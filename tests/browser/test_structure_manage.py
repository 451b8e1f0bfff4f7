"""Gérer une structure in a real browser: the principal manager changes the structure's
email, then reads the change in its history."""

import re

import pytest
from playwright.sync_api import expect

from structures.models import Structure
from tests import factories
from tests.browser.test_shell_journeys import log_in
from tests.sirene.standin import running_standin

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_principal_manager_changes_the_structure_email_and_sees_it_in_the_history(page):
    structure = factories.StructureFactory(company_name="Menuiserie Martin")
    manager = factories.UserFactory(email="gp@exemple.fr")
    factories.attach(manager, structure)
    log_in(page, manager.email)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Bonjour")
    page.check()

    navigations = []
    page.on("framenavigated", lambda frame: frame == page.main_frame and navigations.append(frame.url))
    page.goto("/organisation/structure/")
    page.check()
    expect(page.get_by_role("heading", level=1)).to_have_text("Gérer une structure")
    # With JavaScript, choosing is enough: no button to press.
    expect(page.get_by_role("button", name="Valider")).to_be_hidden()
    # Choosing the type updates the page (the script submits the form).
    with page.expect_navigation():
        page.get_by_label("Type de demande").select_option(label="Modifier une structure")
    page.check()
    # Choosing the structure shows its form under the choice, at the same address.
    page.get_by_role("combobox", name=re.compile("^Structure")).select_option(str(structure.pk))
    page.wait_for_url(re.compile(rf"/organisation/structure/\?type=modifier&structure={structure.pk}"))
    page.check()
    expect(page.get_by_role("heading", level=2, name="Modifier une structure")).to_be_visible()
    expect(page.get_by_label("Type de demande")).to_have_value("modifier")

    main = page.get_by_role("main")
    expect(main).to_contain_text("Menuiserie Martin")
    page.get_by_label("Adresse électronique de la structure").fill("contact@menuiserie-martin.fr")
    page.get_by_role("button", name="Soumettre").click()
    page.wait_for_url(f"**/organisation/structure/{structure.pk}/")
    page.check()
    expect(main).to_contain_text("Les modifications de la structure Menuiserie Martin ont été enregistrées.")
    expect(main).to_contain_text("contact@menuiserie-martin.fr")
    # The page, the type, the structure (its form below), Soumettre (then the structure).
    assert len(navigations) == 4, navigations

    main.get_by_role("link", name="Historique").click()
    page.wait_for_url(re.compile(r"/historique/$"))
    page.check()
    history = page.get_by_role("table")
    expect(history).to_contain_text("Modification de la structure")
    expect(history).to_contain_text("contact@menuiserie-martin.fr")
    # The first attachment, in words: who became principal manager, not the recorded key.
    expect(history).to_contain_text("Gestionnaire principal")
    expect(history).not_to_contain_text(re.compile("principal_manager", re.IGNORECASE))
    structure.refresh_from_db()
    assert structure.email == "contact@menuiserie-martin.fr"
    assert structure.status == Structure.Status.ACTIVE


def test_reactivating_a_structure_closed_at_insee_is_refused_with_what_to_do(page, settings):
    structure = factories.StructureFactory(
        identifier="38512749300018", company_name="Ancienne Menuiserie Lefèvre"
    )
    manager = factories.UserFactory(email="gp@exemple.fr")
    factories.attach(manager, structure)
    Structure.objects.filter(pk=structure.pk).update(status=Structure.Status.INACTIVE)
    with running_standin(settings):
        log_in(page, manager.email)
        expect(page.get_by_role("heading", level=1)).to_contain_text("Bonjour")
        page.check()
        page.goto(f"/organisation/structure/{structure.pk}/")
        page.check()
        main = page.get_by_role("main")
        main.get_by_role("link", name="Activer", exact=True).click()
        page.wait_for_url(f"**/organisation/structure/{structure.pk}/activer/")
        page.check()
        expect(main).to_contain_text("Le SIRET est d’abord vérifié dans la base INSEE")
        main.get_by_role("button", name="Soumettre").click()
        page.wait_for_url(f"**/organisation/structure/{structure.pk}/")
        page.check()
    expect(main).to_contain_text(
        "est fermé dans la base INSEE (Sirene) : la structure ne peut pas être réactivée."
    )
    expect(main).to_contain_text("« Dupliquer une structure » avec ce nouveau SIRET")
    structure.refresh_from_db()
    assert structure.status == Structure.Status.INACTIVE


def test_without_javascript_valider_shows_the_form_under_the_choice(browser, live_server, catalogue):
    structure = factories.StructureFactory(company_name="Menuiserie Martin")
    manager = factories.UserFactory(email="gp@exemple.fr")
    factories.attach(manager, structure)
    context = browser.new_context(base_url=live_server.url, locale="fr-FR", java_script_enabled=False)
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        page.goto("/compte/connexion/")
        page.get_by_label("Adresse électronique").fill(manager.email)
        page.get_by_label("Mot de passe").first.fill(factories.PASSWORD)
        page.get_by_role("main").get_by_role("button", name="Se connecter").click()
        page.wait_for_load_state()
        page.goto("/organisation/structure/")
        page.get_by_label("Type de demande").select_option(label="Désactiver une structure")
        page.get_by_role("combobox", name=re.compile("^Structure")).select_option(str(structure.pk))
        page.get_by_role("button", name="Valider").click()
        page.wait_for_url(re.compile(r"/organisation/structure/\?.*type=desactiver"))
        main = page.get_by_role("main")
        expect(main.get_by_role("heading", level=2, name="Désactiver une structure")).to_be_visible()
        main.get_by_role("button", name="Soumettre").click()
        page.wait_for_url(f"**/organisation/structure/{structure.pk}/")
        expect(main).to_contain_text("La structure Menuiserie Martin est désactivée.")
    finally:
        context.close()
    structure.refresh_from_db()
    assert structure.status == Structure.Status.INACTIVE
