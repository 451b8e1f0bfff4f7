"""Tickets reçus in a real browser: an agent works a ticket from the queues; and the
issue's whole journey, the requester and the agent each in their own browser."""

import io
from importlib import import_module

import pytest
from django.apps import apps
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import expect

from support.models import Category, Queue, Ticket
from tests.browser.conftest import CheckedPage
from tests.browser.test_shell_journeys import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

S = Ticket.Status


@pytest.fixture
def demo(catalogue):
    """The demo accounts, and the queues and categories (transactional tests empty the
    tables the data migration filled)."""
    call_command("seed_demo", stdout=io.StringIO())
    if not Queue.objects.exists():
        import_module("support.migrations.0002_categories").seed_support(apps, None)


def _submitted_ticket(**fields):
    from django.contrib.auth import get_user_model

    requester = get_user_model().objects.get(email="utilisateur@exemple.fr")
    category = Category.objects.get(name="Factures émises")
    return Ticket.objects.create(
        number="T-2026-000042",
        status=S.SOUMIS,
        submitted_at=timezone.now(),
        requester=requester,
        contact_email=requester.email,
        queue=Queue.objects.get(code="portail"),
        category=category,
        subcategory=category.subcategories.first(),
        title="Facture rejetée",
        description="Le motif du rejet n’est pas clair.",
        **fields,
    )


def _open_ticket_from_queues(page, number):
    page.goto("/support/agents/")
    page.check()
    page.get_by_label("Affectation").select_option(label="Non affectés")
    page.get_by_role("button", name="Afficher les tickets").click()
    page.check()
    page.get_by_role("link", name=number).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Ticket {number}")
    page.check()


def _act(page, action, label, text):
    page.get_by_role("link", name=action, exact=True).click()
    page.check()
    page.get_by_label(label).fill(text)
    page.get_by_role("button", name="Soumettre").click()
    page.check()


def test_agent_takes_a_ticket_notes_transfers_and_sees_the_ratings(page, demo):
    ticket = _submitted_ticket()
    log_in(page, "agent@exemple.fr")
    page.check()
    _open_ticket_from_queues(page, ticket.number)

    # Acting before taking the ticket is refused, with the way out.
    page.goto(f"/support/agents/tickets/{ticket.pk}/repondre/")
    page.check()
    expect(page.get_by_role("alert")).to_contain_text("Affectez-vous d’abord ce ticket.")
    page.get_by_role("button", name="M’affecter").click()
    expect(page.get_by_role("main")).to_contain_text(f"Le ticket {ticket.number} vous est affecté")
    page.check()
    expect(page.get_by_role("main")).to_contain_text("En cours")

    _act(page, "Note interne", "Note interne", "Voir avec l’équipe facturation.")
    expect(page.get_by_role("main")).to_contain_text("Note interne — invisible pour le demandeur")

    page.get_by_role("link", name="Transférer", exact=True).click()
    page.check()
    page.get_by_label("Nouvelle file").select_option(label="Support métier")
    page.get_by_label("Motif du transfert").fill("Question de rejet métier.")
    page.get_by_role("button", name="Soumettre").click()
    expect(page.get_by_role("main")).to_contain_text("a été transféré à la file « Support métier »")
    page.check()
    expect(page.get_by_role("button", name="M’affecter")).to_be_visible()

    page.goto("/support/agents/evaluations/")
    page.check()
    expect(page.get_by_role("heading", level=1)).to_have_text("Évaluations du support")
    ticket.refresh_from_db()
    assert (ticket.queue.code, ticket.assigned_to, ticket.status) == ("metier", None, S.EN_COURS)


@pytest.fixture
def agent_page(browser, live_server, catalogue):
    """The agent's own browser: a second context, with its own session."""
    context = browser.new_context(
        base_url=live_server.url, locale="fr-FR", viewport={"width": 1280, "height": 900}
    )
    context.set_default_timeout(10_000)
    checked_page = CheckedPage(context.new_page())
    yield checked_page
    unchecked = checked_page.unchecked()
    context.close()
    assert not unchecked, f"pages visited without an accessibility check: {sorted(unchecked)}"


def _log_in(page, email):
    log_in(page, email)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Bonjour")
    page.check()


def _agent_proposes(agent_page, ticket, solution):
    agent_page.goto(f"/support/agents/tickets/{ticket.pk}/")
    agent_page.check()
    _act(agent_page, "Proposer une solution", "Solution proposée", solution)
    expect(agent_page.get_by_role("main")).to_contain_text(f"le ticket {ticket.number} est résolu")


def _requester_opens(page, ticket):
    page.goto(f"/support/tickets/{ticket.pk}/")
    page.check()


def test_the_whole_journey_of_a_ticket(page, agent_page, demo, mailoutbox):
    # The user saves a draft, then submits it.
    _log_in(page, "utilisateur@exemple.fr")
    page.goto("/support/tickets/nouveau/")
    page.check()
    page.get_by_label("Catégorie *", exact=True).select_option(label="Factures émises")
    page.get_by_label("Sous-catégorie *", exact=True).select_option(label="Motif de rejet d’une facture")
    page.get_by_label("Numéro de l’objet").fill("F-2026-0042")
    page.get_by_label("Titre *", exact=True).fill("Facture rejetée sans motif lisible")
    page.get_by_label("Description").fill("Ma facture F-2026-0042 a été rejetée ; le motif affiché est vide.")
    page.get_by_role("button", name="Enregistrer le brouillon").click()
    expect(page.get_by_role("main")).to_contain_text("Le brouillon a été enregistré")
    page.check()
    draft = Ticket.objects.get()
    assert draft.status == S.BROUILLON
    page.goto(f"/support/tickets/{draft.pk}/modifier/")
    page.check()
    page.get_by_role("button", name="Soumettre").click()
    expect(page.get_by_role("main")).to_contain_text("a été soumis")
    page.check()
    ticket = Ticket.objects.get()
    assert ticket.status == S.SOUMIS and ticket.number

    # The agent takes it and asks for information.
    _log_in(agent_page, "agent@exemple.fr")
    _open_ticket_from_queues(agent_page, ticket.number)
    agent_page.get_by_role("button", name="M’affecter").click()
    expect(agent_page.get_by_role("main")).to_contain_text(f"Le ticket {ticket.number} vous est affecté")
    agent_page.check()
    _act(
        agent_page,
        "Demander un complément",
        "Informations demandées",
        "Joignez la capture du motif de rejet.",
    )
    expect(agent_page.get_by_role("main")).to_contain_text("est en attente des informations demandées")

    # The user answers.
    _requester_opens(page, ticket)
    expect(page.get_by_role("main")).to_contain_text("Joignez la capture du motif de rejet.")
    page.get_by_role("link", name="Apporter un complément d’information").click()
    page.check()
    page.get_by_label("Votre complément d’information").fill("Le motif affiché est « 20003 ».")
    page.get_by_role("button", name="Soumettre").click()
    expect(page.get_by_role("main")).to_contain_text("a été transmis au support")
    page.check()

    # The agent proposes a solution; the user refuses it.
    _agent_proposes(agent_page, ticket, "Redéposez la facture en PDF.")
    _requester_opens(page, ticket)
    page.get_by_role("link", name="Refuser la solution").click()
    page.check()
    page.get_by_label("Pourquoi la solution ne vous convient-elle pas ?").fill("Elle était déjà en PDF.")
    page.get_by_role("button", name="Soumettre").click()
    expect(page.get_by_role("main")).to_contain_text("de nouveau en cours")
    page.check()

    # The agent sees the refusal and proposes another; the user accepts it.
    agent_page.goto(f"/support/agents/tickets/{ticket.pk}/")
    agent_page.check()
    expect(agent_page.get_by_role("main")).to_contain_text("Elle était déjà en PDF.")
    _act(agent_page, "Proposer une solution", "Solution proposée", "Le PDF dépassait 10 Mo : compressez-le.")
    _requester_opens(page, ticket)
    expect(page.get_by_role("main")).to_contain_text("compressez-le")
    page.get_by_role("link", name="Accepter la solution").click()
    page.check()
    page.get_by_role("button", name="Soumettre").click()
    expect(page.get_by_role("main")).to_contain_text("est clôturé")
    page.check()
    expect(page.get_by_role("main")).to_contain_text("Clôturé")

    ticket.refresh_from_db()
    assert ticket.status == S.CLOTURE
    assert ticket.closed_at is not None
    statuses = list(
        ticket.events.filter(kind="STATUS").order_by("created_at", "id").values_list("to_status", flat=True)
    )
    assert statuses == [
        S.SOUMIS,
        S.EN_COURS,
        S.EN_ATTENTE_INFORMATION,
        S.EN_COURS,
        S.RESOLU,
        S.EN_COURS,
        S.RESOLU,
        S.CLOTURE,
    ]
    # The requester heard of each agent action, at the ticket's contact address.
    subjects = [message.subject for message in mailoutbox if message.to == [ticket.contact_email]]
    assert f"Votre demande {ticket.number} est prise en charge" in subjects
    assert f"Votre demande {ticket.number} : informations complémentaires attendues" in subjects
    assert subjects.count(f"Une solution est proposée pour votre demande {ticket.number}") == 2
    # The agent's page shows the closed ticket; it offers nothing but a note.
    agent_page.goto(f"/support/agents/tickets/{ticket.pk}/")
    agent_page.check()
    expect(agent_page.get_by_role("main")).to_contain_text("Clôturé")
    expect(agent_page.get_by_role("link", name="Proposer une solution", exact=True)).to_have_count(0)
