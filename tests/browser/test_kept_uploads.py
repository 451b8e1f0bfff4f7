"""Files chosen on a form that comes back with an error are not lost, in a real browser:
the bank-detail PDF after a wrong IBAN key (kept, previewed, saved without being chosen
again) and the valid file of a ticket when another one is refused."""

import re

import pytest
from playwright.sync_api import expect

from structures.models import BankAccount
from support.models import Ticket
from tests import factories
from tests.browser.test_shell_journeys import log_in
from tests.browser.test_tickets import demo  # noqa: F401  (the fixture, used below)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_bank_proof_is_kept_after_a_wrong_iban_key_and_saved_once_the_key_is_fixed(page, tmp_path):
    proof = tmp_path / "RIB Boulangerie Durand.pdf"
    proof.write_bytes(factories.pdf_bytes())
    structure = factories.StructureFactory(company_name="Boulangerie Durand")
    manager = factories.UserFactory(email="gp@exemple.fr")
    factories.attach(manager, structure)
    log_in(page, manager.email)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Bonjour")
    page.check()

    page.goto("/organisation/structure/coordonnees-bancaires/nouvelle/")
    page.check()
    main = page.get_by_role("main")
    page.get_by_role("textbox", name=re.compile("^Nom de la coordonnée bancaire")).fill("Compte courant")
    page.get_by_text("IBAN", exact=True).first.click()
    iban = page.get_by_role("textbox", name=re.compile("^IBAN"))
    # The last digit is wrong: the IBAN's check digits do not match.
    iban.fill("FR76 3000 6000 0112 3456 7890 188")
    page.locator("#id_proof").set_input_files(str(proof))
    page.get_by_role("button", name="Soumettre").click()
    page.wait_for_url("**/coordonnees-bancaires/nouvelle/")
    page.check()

    expect(main).to_contain_text("L’IBAN n’est pas valide")
    expect(main).to_contain_text("Fichier conservé : RIB Boulangerie Durand.pdf")
    # The kept PDF is previewed as a chosen one is.
    preview = page.locator("#apercu-justificatif iframe")
    expect(preview).to_be_visible()
    expect(preview).to_have_attribute("src", re.compile("^blob:"))
    expect(preview).to_have_attribute("title", "Aperçu du justificatif : RIB Boulangerie Durand.pdf")
    expect(main).to_contain_text("Remplacer le justificatif (facultatif)")
    expect(page.locator("#id_proof")).to_have_value("")
    assert not BankAccount.objects.exists()

    page.get_by_role("textbox", name=re.compile("^IBAN")).fill("FR76 3000 6000 0112 3456 7890 189")
    page.get_by_role("button", name="Soumettre").click()
    page.wait_for_url(re.compile(r"/coordonnees-bancaires/\?structure="))
    page.check()
    expect(main).to_contain_text("La coordonnée bancaire « Compte courant » a été créée.")
    bank_account = BankAccount.objects.get()
    assert bank_account.proof_name == "RIB Boulangerie Durand.pdf"
    assert bank_account.proof.read() == factories.pdf_bytes()


@pytest.mark.usefixtures("demo")
def test_ticket_keeps_its_valid_file_when_another_is_refused(page, tmp_path):
    valid = tmp_path / "avis de paiement.pdf"
    valid.write_bytes(factories.pdf_bytes())
    refused = tmp_path / "capture.pdf"
    refused.write_bytes(b"<html>pas un pdf</html>")
    log_in(page, "utilisateur@exemple.fr")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Bonjour")
    page.check()

    page.goto("/support/tickets/nouveau/")
    page.check()
    main = page.get_by_role("main")
    page.get_by_label("Catégorie *", exact=True).select_option(label="Factures émises")
    page.get_by_label("Sous-catégorie *", exact=True).select_option(label="Mise en paiement")
    page.get_by_label("Titre *", exact=True).fill("Facture payée en retard")
    page.get_by_label("Description *").fill("La facture F-2026-0107 attend depuis 45 jours.")
    page.get_by_label("Ajouter un fichier").set_input_files([str(valid), str(refused)])
    page.get_by_role("button", name="Soumettre").click()
    page.wait_for_url("**/support/tickets/nouveau/")
    page.check()

    expect(main).to_contain_text("« capture.pdf » : Le fichier n’est pas un PDF valide.")
    expect(main).to_contain_text(
        "Le fichier « capture.pdf » a été refusé et n’a pas été conservé : c’est le seul à choisir de nouveau"
    )
    kept = page.get_by_role("group", name=re.compile("^Fichiers conservés"))
    expect(kept.get_by_role("checkbox", name=re.compile("^avis de paiement.pdf"))).to_be_checked()
    expect(page.get_by_label("Titre *", exact=True)).to_have_value("Facture payée en retard")
    assert not Ticket.objects.exists()

    page.get_by_role("button", name="Soumettre").click()
    page.wait_for_url(re.compile(r"/support/tickets/\d+/$"))
    page.check()
    ticket = Ticket.objects.get()
    expect(main).to_contain_text(f"Votre ticket {ticket.number} a été soumis")
    assert [a.original_name for a in ticket.attachments.all()] == ["avis de paiement.pdf"]
    expect(main).to_contain_text("avis de paiement.pdf")
