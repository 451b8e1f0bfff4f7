"""Revendiquer une structure in a real browser: someone whose company was registered on
the portal by an outsider finds it by its SIRET, reports it with a PDF proof, and finds
their claim waiting for the operators."""

import re

import pytest
from playwright.sync_api import expect

from structures.models import StructureClaim
from tests import factories
from tests.browser.test_shell_journeys import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_real_manager_claims_a_structure_an_outsider_registered(page, tmp_path):
    proof = tmp_path / "Kbis Menuiserie Leroy.pdf"
    proof.write_bytes(factories.pdf_bytes())
    structure = factories.StructureFactory(company_name="Menuiserie Leroy")
    factories.attach(factories.UserFactory(email="usurpateur@exemple.fr"), structure)
    claimant = factories.UserFactory(email="gerante@exemple.fr")
    log_in(page, claimant.email)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Bonjour")
    page.check()

    page.goto("/approbations/demander-un-rattachement/")
    page.check()
    page.get_by_label("SIRET ou identifiant de la structure").fill(structure.identifier)
    page.get_by_role("button", name="Rechercher la structure").click()
    expect(page.get_by_role("main")).to_contain_text("Menuiserie Leroy")
    page.check()

    page.get_by_role("link", name="Signaler une structure usurpée / revendiquer cette structure").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Revendiquer une structure")
    expect(page.get_by_role("main")).not_to_contain_text("usurpateur@exemple.fr")
    page.check()

    explanation = page.get_by_role("textbox", name=re.compile("^Pourquoi revendiquez-vous cette structure"))
    # Sent without an explanation: the form says what is missing, nothing is stored.
    explanation.fill(" ")
    explanation.evaluate("element => element.removeAttribute('required')")
    page.get_by_role("button", name="Envoyer aux opérateurs").click()
    expect(page.get_by_role("main")).to_contain_text("Expliquez pourquoi vous revendiquez cette structure.")
    assert not StructureClaim.objects.exists()
    page.check()

    explanation.fill(
        "Je suis la gérante de la menuiserie ; la personne qui l’administre n’y a jamais travaillé."
    )
    page.locator("#id_proof").set_input_files(str(proof))
    page.get_by_role("button", name="Envoyer aux opérateurs").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Historique de mes demandes")
    expect(page.get_by_role("main")).to_contain_text(
        "Votre revendication de la structure Menuiserie Leroy est transmise aux opérateurs du portail."
    )
    page.check()
    claim = StructureClaim.objects.get()
    assert (claim.claimant, claim.structure, claim.proof_name) == (
        claimant,
        structure,
        "Kbis Menuiserie Leroy.pdf",
    )
