"""A colleague invited to two structures at once with the default profiles finds, once
both invitations are accepted, the applications of each structure open."""

import pytest
from playwright.sync_api import expect

from chorus.models import Habilitation, Level
from tests import factories
from tests.browser.test_shell_journeys import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_colleague_invited_to_two_structures_finds_the_applications_of_both_open(page, catalogue):
    company = factories.StructureFactory(company_name="Menuiserie Martin")
    town = factories.StructureFactory(public=True, company_name="Mairie de Lyon")
    manager = factories.UserFactory(email="gestionnaire@exemple.fr", first_name="Gaëlle", last_name="Gérant")
    factories.attach(manager, company)
    factories.attach(manager, town)
    colleague = factories.UserFactory(email="collegue@exemple.fr", first_name="Colin", last_name="Collègue")

    log_in(page, manager.email)
    page.goto("/organisation/utilisateurs/rattacher-plusieurs/")
    page.check()
    profiles = page.get_by_role("group", name="Profils accordés à l’acceptation")
    # The choice appears once a structure is ticked, with its applications only.
    expect(profiles).to_be_hidden()
    page.get_by_label("Menuiserie Martin").check(force=True)  # the DSFR label covers it
    expect(profiles).to_be_visible()
    expect(profiles.get_by_role("group", name="Facture émise").get_by_label("Consultation")).to_be_checked()
    expect(profiles.get_by_role("group", name="Facture reçue")).to_be_hidden()
    page.get_by_label("Mairie de Lyon").check(force=True)
    expect(profiles.get_by_role("group", name="Facture reçue").get_by_label("Consultation")).to_be_checked()
    expect(profiles).to_contain_text("Chaque structure ne reçoit que les applications qui lui sont proposées")
    page.check()
    page.get_by_label("Adresse électronique de l’utilisateur").fill(colleague.email)
    page.get_by_role("button", name="Soumettre").click()
    expect(page.get_by_role("main")).to_contain_text("Mairie de Lyon : Factures de travaux – consultation")
    page.check()

    page.context.clear_cookies()
    log_in(page, colleague.email)
    for name in ("Menuiserie Martin", "Mairie de Lyon"):
        page.get_by_role("button", name=f"Accepter — {name}").click()
        expect(page.get_by_role("main")).to_contain_text(
            f"Vous êtes maintenant rattaché à la structure « {name} »."
        )
    page.check()
    for structure, count in ((company, 5), (town, 4)):
        granted = Habilitation.objects.filter(user=colleague, structure=structure)
        assert granted.filter(profile__level=Level.CONSULTATION).count() == granted.count() == count

    page.goto("/")
    main = page.get_by_role("main")
    expect(main.get_by_role("link", name="Facture émise")).to_be_visible()
    expect(main).not_to_contain_text("Vous n’avez pas de profil pour cette application")
    page.check()
    # Facture reçue, for public bodies, is open on the town hall; Organisation on both.
    page.goto("/applications/FACTURE_RECUE/")
    accesses = page.get_by_role("table", name="Vos accès à cette application")
    expect(accesses).to_contain_text("Mairie de Lyon")
    expect(accesses).not_to_contain_text("Menuiserie Martin")
    page.check()
    page.goto("/applications/ORGANISATION/")
    accesses = page.get_by_role("table", name="Vos accès à cette application")
    expect(accesses).to_contain_text("Mairie de Lyon")
    expect(accesses).to_contain_text("Menuiserie Martin")
    page.check()
