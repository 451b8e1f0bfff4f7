"""A colleague invited with the attach form's default profiles finds their applications
open once they accept: no "Accès non ouvert" on the tools of their structure."""

import pytest
from playwright.sync_api import expect

from chorus.models import Habilitation, Level
from tests import factories
from tests.browser.test_shell_journeys import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_colleague_invited_with_the_default_profiles_finds_the_applications_open(page, catalogue):
    structure = factories.StructureFactory(company_name="Menuiserie Martin")
    manager = factories.UserFactory(email="gestionnaire@exemple.fr", first_name="Gaëlle", last_name="Gérant")
    factories.attach(manager, structure)
    colleague = factories.UserFactory(email="collegue@exemple.fr", first_name="Colin", last_name="Collègue")

    log_in(page, manager.email)
    page.goto("/organisation/utilisateurs/rattacher/")
    page.check()
    profiles = page.get_by_role("group", name="Profils accordés à l’acceptation")
    expect(profiles).to_be_visible()
    # Consultation is chosen for each application offered; Facture reçue is for public bodies.
    expect(profiles.get_by_role("group", name="Facture émise").get_by_label("Consultation")).to_be_checked()
    expect(profiles.get_by_role("group", name="Organisation").get_by_label("Consultation")).to_be_checked()
    expect(profiles).not_to_contain_text("Facture reçue")
    page.get_by_label("Adresse électronique de l’utilisateur").fill(colleague.email)
    page.get_by_role("button", name="Soumettre").click()
    expect(page.get_by_role("main")).to_contain_text(
        "Profils accordés à l’acceptation : Facture émise – consultation"
    )
    page.check()

    page.context.clear_cookies()
    log_in(page, colleague.email)
    card = page.get_by_role("region", name="Une invitation attend votre réponse")
    card.get_by_role("button", name="Accepter").click()
    expect(page.get_by_role("main")).to_contain_text(
        "Vous êtes maintenant rattaché à la structure « Menuiserie Martin »."
    )
    page.check()
    assert Habilitation.objects.filter(user=colleague, profile__level=Level.CONSULTATION).count() == 5

    page.goto("/")
    main = page.get_by_role("main")
    expect(main.get_by_role("link", name="Facture émise")).to_be_visible()
    expect(main).not_to_contain_text("Vous n’avez pas de profil pour cette application")
    page.check()
    # Organisation at consultation: the structure opens, read only.
    page.goto("/domaines/organisation/")
    page.check()
    expect(page.get_by_role("main").get_by_role("link", name="Gérer une structure")).to_be_visible()
    page.get_by_role("main").get_by_role("link", name="Gérer une structure").click()
    expect(page.get_by_role("main")).to_contain_text("Menuiserie Martin")
    page.check()
