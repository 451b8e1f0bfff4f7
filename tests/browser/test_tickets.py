"""Créer un ticket in a real browser: utilisateur@exemple.fr saves a draft (the
sub-categories follow the category, a file is dropped on the zone), then submits it and
finds it under « En cours »; the same form without JavaScript; and leaving it warns.

The agent's half of the issue's journey is in tests/browser/test_agents.py."""

import base64
import io
import re
from importlib import import_module

import pytest
from django.apps import apps
from django.core.management import call_command
from playwright.sync_api import expect

from support.models import Queue, Ticket
from tests import factories
from tests.browser.test_shell_journeys import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

S = Ticket.Status


@pytest.fixture
def demo(catalogue):
    """The demo accounts, and the queues and categories that transactional tests empty."""
    call_command("seed_demo", stdout=io.StringIO())
    if not Queue.objects.exists():
        import_module("support.migrations.0002_categories").seed_support(apps, None)


def _drop_file(page, selector, name, content):
    """Drop a file on an element as a user dragging it from their desktop would."""
    data_transfer = page.evaluate_handle(
        """([name, encoded]) => {
            const bytes = Uint8Array.from(atob(encoded), (char) => char.charCodeAt(0));
            const transfer = new DataTransfer();
            transfer.items.add(new File([bytes], name, { type: "application/pdf" }));
            return transfer;
        }""",
        [name, base64.b64encode(content).decode()],
    )
    page.dispatch_event(selector, "drop", {"dataTransfer": data_transfer})


def test_user_saves_a_draft_then_submits_it_and_finds_it_in_progress(page, demo):
    log_in(page, "utilisateur@exemple.fr")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Bonjour")
    page.check()

    page.goto("/support/")
    page.check()
    main = page.get_by_role("main")
    for title in ("Assistant virtuel", "Échange avec un agent", "Créer un ticket"):
        expect(main.get_by_role("heading", name=title, level=2)).to_be_visible()
    # The assistant opens in place, over the page.
    main.get_by_role("link", name="Poser une question à l’assistant").click()
    assistant = page.get_by_role("dialog", name="Assistant virtuel")
    expect(assistant).to_be_visible()
    assert page.url.endswith("/support/")
    assistant.get_by_role("button", name="Fermer l’assistant").click()
    expect(assistant).to_be_hidden()
    main.get_by_role("link", name="Créer un ticket").click()
    page.wait_for_url("**/support/tickets/nouveau/")
    page.check()

    # Category then sub-category: the list follows at once, with the object type and
    # the recipient the sub-category implies.
    expect(page.get_by_role("button", name="Afficher les sous-catégories")).to_be_hidden()
    subcategory = page.get_by_label("Sous-catégorie *", exact=True)
    expect(subcategory.locator("option")).to_have_count(1)
    page.get_by_label("Catégorie *", exact=True).select_option(label="Factures émises")
    expect(subcategory.locator("option")).to_have_count(6)
    subcategory.select_option(label="Mise en paiement")
    expect(page.get_by_label("Type d’objet")).to_have_value("Facture")
    expect(page.get_by_label("Destinataire")).to_have_value("Support métier (AIFE)")
    expect(page.get_by_label("Identifiant de la structure émettrice *")).to_contain_text(
        "Atelier Textile du Nord"
    )
    expect(page.get_by_label("Adresse électronique de contact *")).to_have_value("utilisateur@exemple.fr")
    page.get_by_label("Numéro de l’objet").fill("F-2026-0107")
    page.get_by_label("Titre *", exact=True).fill("Facture payée en retard")

    _drop_file(page, "[data-dropzone]", "avis de paiement.pdf", factories.pdf_bytes())
    expect(page.locator("[data-dropzone-list]")).to_contain_text("avis de paiement.pdf")

    page.get_by_role("button", name="Enregistrer le brouillon").click()
    page.wait_for_url(re.compile(r"/support/tickets/\?tab=brouillons$"))
    page.check()
    expect(main).to_contain_text("Le brouillon a été enregistré")
    expect(page.get_by_role("link", name="Brouillons (1)")).to_have_attribute("aria-current", "page")
    draft = Ticket.objects.get()
    assert (draft.status, draft.number, draft.description) == (S.BROUILLON, None, "")
    assert draft.attachments.get().original_name == "avis de paiement.pdf"

    page.get_by_role("table").get_by_role("link", name=re.compile("^Brouillon")).click()
    page.check()
    page.get_by_role("link", name="Modifier et soumettre").click()
    page.check()
    expect(page.get_by_label("Titre *", exact=True)).to_have_value("Facture payée en retard")
    expect(page.get_by_label("Destinataire")).to_have_value("Support métier (AIFE)")
    expect(main).to_contain_text("avis de paiement.pdf")
    page.get_by_label("Description *").fill(
        "La facture F-2026-0107 est au statut « mise en paiement » depuis 45 jours."
    )
    page.get_by_role("button", name="Soumettre").click()
    page.wait_for_url(re.compile(rf"/support/tickets/{draft.pk}/$"))
    page.check()
    ticket = Ticket.objects.get()
    assert ticket.status == S.SOUMIS
    expect(main).to_contain_text(f"Votre ticket {ticket.number} a été soumis au Support métier (AIFE).")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Ticket {ticket.number}")
    expect(main).to_contain_text("Soumis")

    page.goto("/support/tickets/")
    page.check()
    page.get_by_role("link", name="En cours (1)").click()
    page.check()
    table = page.get_by_role("table")
    expect(table).to_contain_text(ticket.number)
    expect(table).to_contain_text("Facture payée en retard")
    expect(page.get_by_role("link", name="Brouillons (0)")).to_be_visible()


def test_leaving_a_changed_ticket_form_warns(page, demo):
    log_in(page, "utilisateur@exemple.fr")
    page.check()
    page.goto("/support/tickets/nouveau/")
    page.check()
    page.get_by_label("Titre *", exact=True).fill("Je change d’avis")
    page.get_by_role("link", name="Quitter sans enregistrer").click()
    dialog = page.get_by_role("dialog", name="Quitter la page ?")
    expect(dialog).to_contain_text("Les modifications apportées seront perdues")
    page.check()
    dialog.get_by_role("link", name="Quitter").click()
    page.wait_for_url("**/support/")
    page.check()
    assert not Ticket.objects.exists()


def _without_scripts(route):
    """The page as a browser without JavaScript runs it: no script at all (axe, which
    needs JavaScript, still checks it)."""
    if route.request.method != "GET":
        route.continue_()
        return
    response = route.fetch()
    body = re.sub(r"<script\b.*?</script>", "", response.text(), flags=re.DOTALL)
    route.fulfill(response=response, body=body)


def test_sub_categories_without_javascript_take_a_second_step(page, demo):
    log_in(page, "utilisateur@exemple.fr")
    page.check()
    page.route(re.compile(r"/support/tickets/nouveau/"), _without_scripts)
    page.goto("/support/tickets/nouveau/")
    page.check()
    subcategory = page.get_by_label("Sous-catégorie *", exact=True)
    expect(subcategory.locator("option")).to_have_count(1)
    page.get_by_label("Catégorie *", exact=True).select_option(label="Coordonnées bancaires")
    page.get_by_role("button", name="Afficher les sous-catégories").click()
    page.wait_for_url(re.compile(r"/support/tickets/nouveau/\?category=\d+$"))
    page.check()
    expect(subcategory.locator("option")).to_have_count(4)
    subcategory.select_option(label="Justificatif refusé")
    page.get_by_label("Titre *", exact=True).fill("Justificatif IBAN refusé")
    page.get_by_label("Description *").fill("Mon RIB a été refusé sans explication.")
    page.get_by_role("button", name="Soumettre").click()
    page.wait_for_url(re.compile(r"/support/tickets/\d+/$"))
    page.check()
    ticket = Ticket.objects.get()
    assert (ticket.status, ticket.subcategory.name, ticket.queue.code) == (
        S.SOUMIS,
        "Justificatif refusé",
        "portail",
    )


def test_visitor_without_account_files_a_ticket_and_gets_its_number(page, demo, mailoutbox):
    page.goto("/support/contact/")
    page.check()
    page.get_by_label("Catégorie *", exact=True).select_option(label="Compte et connexion")
    page.get_by_label("Sous-catégorie *", exact=True).select_option(
        label="Compte bloqué ou mot de passe oublié"
    )
    expect(page.get_by_label("Destinataire")).to_have_value("Support du portail")
    page.get_by_label("Adresse électronique *").fill("sans.compte@exemple.fr")
    page.get_by_label("Titre *", exact=True).fill("Compte bloqué")
    page.get_by_label("Description *").fill("Mon compte est bloqué après cinq essais.")
    question = page.get_by_label(re.compile("Vérification : combien font"))
    a, b = map(
        int, re.search(r"(\d+) \+ (\d+)", question.evaluate("el => el.labels[0].textContent")).groups()
    )
    question.fill(str(a + b))
    page.wait_for_timeout(3000)  # people take a few seconds; robots do not
    page.get_by_role("button", name="Soumettre").click()
    page.wait_for_url("**/support/contact/confirmation/")
    page.check()
    ticket = Ticket.objects.get()
    expect(page.get_by_role("main")).to_contain_text(f"Votre ticket porte le numéro {ticket.number}")
    assert (ticket.requester, ticket.status, ticket.contact_email) == (
        None,
        S.SOUMIS,
        "sans.compte@exemple.fr",
    )
