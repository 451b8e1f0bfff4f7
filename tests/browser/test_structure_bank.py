"""Créer / gérer une coordonnée bancaire in a real browser: the principal manager
declares an IBAN with its PDF proof, previewed before submitting, then deactivates it
(Oui → Valider)."""

import re

import pytest
from playwright.sync_api import expect
from schwifty import IBAN

from structures.models import BankAccount
from tests import factories
from tests.browser.test_shell_journeys import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_principal_manager_creates_an_iban_with_its_proof_then_deactivates_it(page, tmp_path):
    proof = tmp_path / "RIB Menuiserie Martin.pdf"
    proof.write_bytes(factories.pdf_bytes())
    structure = factories.StructureFactory(company_name="Menuiserie Martin")
    manager = factories.UserFactory(email="gp@exemple.fr")
    factories.attach(manager, structure)
    log_in(page, manager.email)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Bonjour")
    page.check()

    page.goto("/organisation/structure/coordonnees-bancaires/nouvelle/")
    page.check()
    main = page.get_by_role("main")
    expect(page.get_by_role("heading", level=1)).to_have_text("Créer une coordonnée bancaire")
    expect(main).to_contain_text("le comptable public ne paie que sur les coordonnées bancaires déclarées")
    page.get_by_role("textbox", name=re.compile("^Nom de la coordonnée bancaire")).fill("IBAN test")
    expect(page.get_by_role("combobox", name=re.compile("^Structure"))).to_have_value(str(structure.pk))
    page.get_by_text("IBAN", exact=True).first.click()
    page.get_by_role("textbox", name=re.compile("^IBAN")).fill("FR76 3000 6000 0112 3456 7890 189")
    page.get_by_role("textbox", name=re.compile(r"^BIC \/ SWIFT")).fill("BNPAFRPP")

    # The preview appears once the PDF is chosen, before anything is sent.
    preview = page.locator("#apercu-justificatif iframe")
    expect(preview).to_be_hidden()
    page.locator("#id_proof").set_input_files(str(proof))
    expect(preview).to_be_visible()
    expect(preview).to_have_attribute("src", re.compile("^blob:"))
    expect(preview).to_have_attribute("title", "Aperçu du justificatif : RIB Menuiserie Martin.pdf")
    assert not BankAccount.objects.exists()
    page.check()

    page.get_by_role("button", name="Soumettre").click()
    page.wait_for_url(re.compile(r"/coordonnees-bancaires/\?structure="))
    page.check()
    expect(main).to_contain_text("La coordonnée bancaire « IBAN test » a été créée.")
    table = page.get_by_role("table")
    expect(table).to_contain_text("FR76 **** **** **** **** ***0 189")
    expect(table).to_contain_text("Active")
    bank_account = BankAccount.objects.get()
    assert bank_account.proof_name == "RIB Menuiserie Martin.pdf"

    table.get_by_role("link", name="IBAN test").click()
    page.wait_for_url(f"**/coordonnees-bancaires/{bank_account.pk}/")
    page.check()
    question = page.get_by_role("group", name="Voulez-vous désactiver ces informations bancaires ?")
    question.get_by_text("Oui", exact=True).click()
    page.get_by_role("button", name="Valider").click()
    page.wait_for_url(f"**/coordonnees-bancaires/{bank_account.pk}/")
    page.check()
    expect(main).to_contain_text("Les coordonnées bancaires « IBAN test » ont été désactivées.")
    expect(main).to_contain_text("Désactivée")
    bank_account.refresh_from_db()
    assert not bank_account.is_active
    assert bank_account.deactivated_at is not None


def test_principal_manager_declares_a_rib_of_la_reunion(page, tmp_path):
    proof = tmp_path / "RIB Saint-Denis.pdf"
    proof.write_bytes(factories.pdf_bytes())
    structure = factories.StructureFactory(company_name="Distillerie de Saint-Denis")
    manager = factories.UserFactory(email="gp.reunion@exemple.fr")
    factories.attach(manager, structure)
    iban = IBAN.generate("FR", bank_code="11899", branch_code="00100", account_code="00012345678")
    log_in(page, manager.email)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Bonjour")
    page.check()

    page.goto("/organisation/structure/coordonnees-bancaires/nouvelle/")
    page.check()
    page.get_by_role("textbox", name=re.compile("^Nom de la coordonnée bancaire")).fill("Compte Réunion")
    page.get_by_text("RIB", exact=True).first.click()
    page.get_by_role("combobox", name=re.compile("^Pays du compte")).select_option("RE")
    page.get_by_role("textbox", name=re.compile("^Code banque")).fill(iban.bank_code)
    page.get_by_role("textbox", name=re.compile("^Code guichet")).fill(iban.branch_code)
    page.get_by_role("textbox", name=re.compile("^Numéro de compte")).fill(iban.account_code)
    page.get_by_role("textbox", name=re.compile("^Clé RIB")).fill(iban.bban[-2:])
    page.get_by_role("textbox", name=re.compile(r"^BIC \/ SWIFT")).fill("BNPARERX")
    page.locator("#id_proof").set_input_files(str(proof))
    page.get_by_role("button", name="Soumettre").click()

    page.wait_for_url(re.compile(r"/coordonnees-bancaires/\?structure="))
    page.check()
    expect(page.get_by_role("main")).to_contain_text("La coordonnée bancaire « Compte Réunion » a été créée.")
    bank_account = BankAccount.objects.get()
    assert (bank_account.kind, bank_account.country, bank_account.iban) == ("RIB", "RE", iban.compact)
