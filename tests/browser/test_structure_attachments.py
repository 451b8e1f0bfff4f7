"""Pièces jointes in a real browser: the principal manager uploads a document,
downloads it, then deletes it."""

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from structures.models import Attachment
from tests import factories
from tests.browser.test_shell_journeys import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_principal_manager_uploads_downloads_and_deletes_an_attachment(page, tmp_path):
    document = tmp_path / "carte grise.pdf"
    content = factories.pdf_bytes()
    document.write_bytes(content)
    structure = factories.StructureFactory(company_name="Transports Durand")
    manager = factories.UserFactory(email="gp@exemple.fr")
    factories.attach(manager, structure)
    log_in(page, manager.email)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Bonjour")
    page.check()

    page.goto("/organisation/structure/pieces-jointes/nouvelle/")
    page.check()
    main = page.get_by_role("main")
    notice = "Les pièces jointes sont visibles par tous les utilisateurs de la structure."
    expect(main).to_contain_text(notice)
    expect(page.get_by_role("combobox", name=re.compile("^Structure"))).to_have_value(str(structure.pk))
    page.locator("#id_files").set_input_files(str(document))
    page.get_by_role("button", name="Soumettre").click()
    page.wait_for_url(re.compile(r"/pieces-jointes/\?structure="))
    page.check()
    expect(main).to_contain_text("La pièce jointe « carte grise.pdf » a été déposée.")
    table = page.get_by_role("table")
    expect(table).to_contain_text("PDF")

    with page.expect_download() as download_info:
        table.get_by_role("link", name="Télécharger carte grise.pdf").click()
    download = download_info.value
    assert download.suggested_filename == "carte grise.pdf"
    assert Path(download.path()).read_bytes() == content

    table.get_by_role("link", name=re.compile("^Supprimer")).click()
    page.wait_for_url(re.compile(r"/pieces-jointes/\d+/supprimer/$"))
    page.check()
    page.get_by_role("group", name="Voulez-vous supprimer la pièce jointe « carte grise.pdf » ?").get_by_text(
        "Oui", exact=True
    ).click()
    page.get_by_role("button", name="Soumettre").click()
    page.wait_for_url(re.compile(r"/pieces-jointes/\?structure="))
    page.check()
    expect(main).to_contain_text("La pièce jointe « carte grise.pdf » a été supprimée.")
    expect(main).to_contain_text("Aucune pièce jointe n’est déposée pour cette structure.")
    assert not Attachment.objects.exists()
