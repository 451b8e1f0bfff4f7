"""Organisation › Utilisateurs in a real browser: the principal manager invites a user
to a service, who accepts from their home page; another is detached with a comment; a
member leaves a structure from Mes rattachements."""

import re

import pytest
from playwright.sync_api import expect

from chorus.models import Level
from tests import factories
from tests.browser.test_shell_journeys import log_in
from users.models import Membership

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def company(catalogue):
    structure = factories.StructureFactory(company_name="Textiles du Nord")
    manager = factories.UserFactory(email="gestionnaire@exemple.fr", first_name="Gaëlle", last_name="Gérant")
    factories.attach(manager, structure)
    structure.refresh_from_db()
    return structure, manager


def test_principal_manager_invites_a_user_who_accepts_from_the_home_page(page, company):
    structure, manager = company
    textile = factories.ServiceFactory(structure=structure, code="TEXTILE", name="Service textile")
    factories.ServiceFactory(structure=structure, code="COMPTA", name="Service comptable")
    newcomer = factories.UserFactory(email="nouveau@exemple.fr", first_name="Noé", last_name="Nouveau")

    log_in(page, manager.email)
    page.check()
    page.goto("/organisation/utilisateurs/rattacher/")
    page.check()
    expect(page.get_by_role("heading", level=1)).to_have_text("Rattacher un utilisateur")
    # The structure is the manager's only one: it is chosen already.
    page.get_by_label("Adresse électronique de l’utilisateur").fill("nouveau@exemple.fr")
    page.get_by_text("Maille service", exact=True).click()
    page.get_by_text("TEXTILE — Service textile", exact=True).click()
    expect(page.get_by_role("radio", name="Maille service")).to_be_checked()
    expect(page.get_by_role("checkbox", name="TEXTILE — Service textile")).to_be_checked()
    page.get_by_role("button", name="Soumettre").click()

    expect(page.get_by_role("main")).to_contain_text(
        "Une invitation a été envoyée à nouveau@exemple.fr pour les services « Service textile » "
        "de la structure « Textiles du Nord »."
    )
    page.check()
    assert not Membership.objects.filter(user=newcomer).exists()

    # The invited user sees the invitation on their home page, and accepts it.
    page.context.clear_cookies()
    log_in(page, newcomer.email)
    expect(page.get_by_role("heading", level=1)).to_have_text("Bonjour Noé")
    card = page.get_by_role("region", name="Une invitation attend votre réponse")
    expect(card).to_contain_text("Textiles du Nord")
    expect(card).to_contain_text("gestionnaire@exemple.fr")
    page.check()
    card.get_by_role("button", name="Accepter").click()
    expect(page.get_by_role("main")).to_contain_text(
        "Vous êtes maintenant rattaché à la structure « Textiles du Nord »."
    )
    page.check()
    membership = Membership.objects.get(user=newcomer)
    assert (membership.service, membership.status) == (textile, Membership.Status.VALIDEE)

    # Now in the manager's users list.
    page.context.clear_cookies()
    log_in(page, manager.email)
    page.check()
    page.goto("/organisation/utilisateurs/")
    expect(page.get_by_role("main")).to_contain_text("nouveau@exemple.fr")
    page.check()


def test_member_leaves_a_structure_from_my_memberships(page, company):
    structure, manager = company
    member = factories.UserFactory(email="membre@exemple.fr", first_name="Mia", last_name="Membre")
    factories.attach(member, structure)

    log_in(page, member.email)
    page.check()
    page.goto("/compte/mes-rattachements/")
    page.check()
    page.get_by_role("link", name="Quitter — Textiles du Nord").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Quitter une structure")
    page.check()
    page.get_by_role("button", name="Quitter la structure").click()

    expect(page.get_by_role("main")).to_contain_text("Vous avez quitté la structure « Textiles du Nord ».")
    page.check()
    assert Membership.objects.get(user=member).status == Membership.Status.DESACTIVEE


def test_principal_manager_detaches_a_user_with_a_comment(page, company):
    structure, manager = company
    leaving = factories.UserFactory(email="partant@exemple.fr", first_name="Paul", last_name="Partant")
    factories.attach(leaving, structure)

    log_in(page, manager.email)
    page.check()
    page.goto("/organisation/utilisateurs/detacher/")
    page.check()
    page.get_by_role("combobox", name="Utilisateur").select_option(label="Paul Partant (partant@exemple.fr)")
    page.get_by_text("Maille structure", exact=True).click()
    page.get_by_label("Commentaire").fill("Fin de contrat")
    page.get_by_role("button", name="Soumettre").click()

    expect(page.get_by_role("main")).to_contain_text(
        "Paul Partant est détaché de la structure « Textiles du Nord »."
    )
    page.check()
    membership = Membership.objects.get(user=leaving)
    assert (membership.status, membership.comment) == (Membership.Status.DESACTIVEE, "Fin de contrat")


def test_choosing_the_structure_fills_the_attach_form_in_place(page, company):
    structure, manager = company
    other = factories.StructureFactory(company_name="Atelier du Sud")
    factories.attach(manager, other)
    factories.ServiceFactory(structure=other, code="SUD", name="Service sud")
    log_in(page, manager.email)
    page.check()
    page.goto("/organisation/utilisateurs/rattacher/")
    page.check()
    step = page.get_by_role("form", name="Choix de la structure")
    # No button to press: choosing is enough, and the same page shows the form.
    expect(step.get_by_role("button", name="Choisir cette structure")).to_be_hidden()
    expect(page.get_by_label("Adresse électronique de l’utilisateur")).to_have_count(0)
    step.get_by_role("combobox").select_option(str(other.pk))
    page.wait_for_url(re.compile(rf"/rattacher/\?structure={other.pk}$"))
    expect(page.get_by_label("Adresse électronique de l’utilisateur")).to_be_visible()
    expect(page.get_by_text("SUD — Service sud", exact=True)).to_be_attached()
    page.check()


def test_copy_shows_the_profiles_to_copy_once_both_users_are_chosen(page, company):
    structure, manager = company
    source = factories.UserFactory(email="source@exemple.fr", first_name="Sonia", last_name="Source")
    target = factories.UserFactory(email="cible@exemple.fr", first_name="Cyril", last_name="Cible")
    for user in (source, target):
        factories.attach(user, structure)
    factories.grant(source, structure, "FACTURE_EMISE", Level.CONSULTATION)
    log_in(page, manager.email)
    page.check()
    page.goto("/organisation/utilisateurs/habilitations/copier/")
    page.check()
    expect(page.get_by_role("button", name="Voir les profils à copier")).to_be_hidden()
    page.get_by_label("Copier les habilitations de").select_option(str(source.pk))
    # One list chosen of two: the page waits for the other.
    expect(page.get_by_role("heading", name="Profils à copier")).to_have_count(0)
    page.get_by_label("Vers l’utilisateur").select_option(str(target.pk))
    expect(page.get_by_role("heading", name="Profils à copier")).to_be_visible()
    expect(page.get_by_role("table")).to_contain_text("Facture émise – consultation")
    page.check()
