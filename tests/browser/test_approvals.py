"""Approbations in a real browser, with the demo accounts: asking to join a company, the
principal manager refusing then approving, a delegate approving a profile request."""

import io
import re

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from approvals import services
from approvals.models import ApprovalRequest
from chorus.models import Habilitation, Level, Profile
from structures.models import Structure
from tests.browser.test_shell_journeys import log_in
from users.models import Membership, User

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

COMPANY_SIRET = "81234567600017"


@pytest.fixture
def demo(catalogue):
    call_command("seed_demo", stdout=io.StringIO())


def switch_user(page, email):
    page.context.clear_cookies()
    log_in(page, email)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Bonjour")
    page.check()


def ask_to_join_the_company(page, comment):
    page.goto("/approbations/demander-un-rattachement/")
    page.check()
    page.get_by_label("SIRET ou identifiant de la structure").fill(COMPANY_SIRET)
    page.get_by_role("button", name="Rechercher la structure").click()
    expect(page.get_by_role("main")).to_contain_text("Atelier Textile du Nord")
    page.check()
    page.get_by_label("Commentaire (facultatif)").fill(comment)
    page.get_by_role("button", name="Soumettre").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Historique de mes demandes")
    expect(page.get_by_role("main")).to_contain_text("Votre demande de rattachement")
    page.check()


def open_the_only_request(page):
    approvals = page.get_by_role("banner").get_by_role("link", name=re.compile("Approbations"))
    expect(approvals).to_contain_text("1")
    approvals.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Approbations")
    page.check()
    page.get_by_role("main").get_by_role("link", name=re.compile(r"DEM-\d{6}")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Demande DEM-")
    page.check()


def test_new_user_is_refused_then_approved_and_sees_the_company(page, demo):
    newcomer = User.objects.get(email="nouveau@exemple.fr")
    company = Structure.objects.get(identifier=COMPANY_SIRET)

    switch_user(page, "nouveau@exemple.fr")
    ask_to_join_the_company(page, "Je rejoins le service comptable.")
    expect(page.get_by_role("main")).to_contain_text("En attente")

    # The principal manager refuses, with a reason typed in the dialog.
    switch_user(page, "gestionnaire@exemple.fr")
    open_the_only_request(page)
    main = page.get_by_role("main")
    expect(main).to_contain_text("nouveau@exemple.fr")
    expect(main).to_contain_text("Je rejoins le service comptable.")
    main.get_by_role("button", name="Refuser").click()
    dialog = page.get_by_role("dialog", name=re.compile("Refuser la demande"))
    expect(dialog).to_be_visible()
    # The dialog fades in: checking contrast mid-transition would blend its colours.
    # A function, not an expression: the CSP refuses eval() and Playwright evaluates a bare
    # expression with it.
    page.wait_for_function("() => getComputedStyle(document.getElementById('modale-refus')).opacity === '1'")
    page.check()
    dialog.get_by_label("Motif du refus").fill("Personne inconnue de nos services.")
    dialog.get_by_role("button", name="Soumettre").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Approbations")
    expect(page.get_by_role("main")).to_contain_text("est refusée")
    page.check()
    assert ApprovalRequest.objects.get().status == ApprovalRequest.Status.REFUSEE
    assert not Membership.objects.filter(user=newcomer, status=Membership.Status.VALIDEE).exists()

    # The user reads the reason, asks again; this time the request is approved.
    switch_user(page, "nouveau@exemple.fr")
    page.goto("/approbations/mes-demandes/")
    expect(page.get_by_role("main")).to_contain_text("Personne inconnue de nos services.")
    page.check()
    ask_to_join_the_company(page, "Embauchée le 1er mars, service comptable.")

    switch_user(page, "gestionnaire@exemple.fr")
    open_the_only_request(page)
    page.get_by_role("main").get_by_role("button", name="Approuver").click()
    expect(page.get_by_role("main")).to_contain_text("est approuvée")
    expect(page.get_by_role("main")).to_contain_text("Aucune demande n’attend votre décision.")
    page.check()

    switch_user(page, "nouveau@exemple.fr")
    page.goto("/compte/mes-rattachements/")
    page.check()
    # The refused attachment stays as history, next to the validated one.
    rows = page.get_by_role("row", name=re.compile("Atelier Textile du Nord"))
    expect(rows.filter(has_text="Validé")).to_have_count(1)
    expect(rows.filter(has_text="Refusé")).to_have_count(1)
    assert Membership.objects.filter(
        user=newcomer, structure=company, service=None, status=Membership.Status.VALIDEE
    ).exists()


def test_delegate_approves_a_simple_users_profile_request(page, demo):
    user = User.objects.get(email="utilisateur@exemple.fr")
    company = Structure.objects.get(identifier=COMPANY_SIRET)
    modification = Profile.objects.get(application__code="ORGANISATION", level=Level.MODIFICATION)
    services.request_profiles(
        requester=user, structure=company, add=[modification], comment="Pendant les congés de Camille."
    )

    switch_user(page, "delegue@exemple.fr")
    open_the_only_request(page)
    main = page.get_by_role("main")
    expect(main).to_contain_text("Gérer les habilitations")
    expect(main).to_contain_text("Organisation – modification")
    expect(main).to_contain_text("Camille Martin")  # the principal manager, among the approvers
    page.get_by_role("link", name="Retour aux approbations").click()
    page.check()

    # Decided from the list, with its checkbox.
    # The DSFR box is drawn over the input by its label (whose text is for screen
    # readers only): the click lands on the box, as a user's would.
    page.get_by_label(re.compile("Sélectionner la demande DEM-")).check(force=True)
    page.get_by_text("Approuver", exact=True).click()
    page.get_by_role("button", name="Soumettre").click()
    expect(page.get_by_role("main")).to_contain_text("1 demande approuvée.")
    page.check()
    assert Habilitation.objects.filter(
        user=user, structure=company, service=None, profile=modification
    ).exists()
    assert ApprovalRequest.objects.get().decided_by.email == "delegue@exemple.fr"
