"""Support in the admin: operators edit queues, categories and sub-categories; tickets,
their activity and ratings are read only; ratings read per queue and per agent; the
changelists do not run a query per row."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from support.models import Category, Queue, Rating, SubCategory, Ticket, TicketEvent
from tests import factories
from tests.support.test_tickets import make_ticket, subcategory

S = Ticket.Status


def admin_url(model, view, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


@pytest.fixture
def operator_client(client, db):
    client.force_login(factories.UserFactory(email="operateur@exemple.fr", is_staff=True, is_superuser=True))
    return client


@pytest.fixture
def closed_tickets(db):
    requester = factories.UserFactory()
    alice = factories.UserFactory(
        email="alice@exemple.fr", first_name="Alice", last_name="Agent", is_staff=True
    )
    bruno = factories.UserFactory(
        email="bruno@exemple.fr", first_name="Bruno", last_name="Agent", is_staff=True
    )
    rated = [
        (make_ticket(requester, S.CLOTURE, assigned_to=alice), 5),
        (make_ticket(requester, S.CLOTURE, assigned_to=alice), 3),
        (make_ticket(requester, S.CLOTURE, assigned_to=bruno, sub=subcategory("Mise en paiement")), 2),
    ]
    for ticket, score in rated:
        Rating.objects.create(ticket=ticket, score=score, comment="Merci")
    TicketEvent.objects.create(
        ticket=rated[0][0], author=alice, kind="NOTE", body="Note interne", is_internal=True
    )
    return {"alice": alice, "bruno": bruno, "tickets": [ticket for ticket, _score in rated]}


@pytest.mark.parametrize("model", [Queue, Category, Ticket, TicketEvent, Rating], ids=lambda m: m.__name__)
def test_operator_opens_changelist_and_change_page(operator_client, closed_tickets, model):
    assert operator_client.get(admin_url(model, "changelist")).status_code == 200
    obj = model._default_manager.order_by("pk").first()
    assert operator_client.get(admin_url(model, "change", obj.pk)).status_code == 200


@pytest.mark.parametrize("model", [Ticket, TicketEvent, Rating], ids=lambda m: m.__name__)
def test_history_is_read_only(operator_client, closed_tickets, model):
    obj = model._default_manager.order_by("pk").first()
    assert operator_client.get(admin_url(model, "add")).status_code == 403
    assert operator_client.get(admin_url(model, "delete", obj.pk)).status_code == 403
    before = model._default_manager.values().get(pk=obj.pk)
    assert (
        operator_client.post(
            admin_url(model, "change", obj.pk), {"status": "BROUILLON", "score": 1}
        ).status_code
        == 403
    )
    assert model._default_manager.values().get(pk=obj.pk) == before


def test_ticket_page_shows_internal_notes_to_operators(operator_client, closed_tickets):
    ticket = closed_tickets["tickets"][0]
    response = operator_client.get(admin_url(Ticket, "change", ticket.pk))
    assert "Note interne" in response.text


def test_operator_edits_a_category_and_its_sub_categories(operator_client, db):
    category = Category.objects.get(name="Coordonnées bancaires")
    response = operator_client.get(admin_url(Category, "change", category.pk))
    assert response.status_code == 200
    subs = list(category.subcategories.order_by("pk"))
    data = {"name": "Coordonnées bancaires", "order": 6, "is_active": "on"}
    prefix = "subcategories"
    data.update(
        {
            f"{prefix}-TOTAL_FORMS": len(subs) + 1,
            f"{prefix}-INITIAL_FORMS": len(subs),
            f"{prefix}-MIN_NUM_FORMS": 0,
            f"{prefix}-MAX_NUM_FORMS": 1000,
        }
    )
    for index, sub in enumerate(subs):
        data.update(
            {
                f"{prefix}-{index}-id": sub.pk,
                f"{prefix}-{index}-category": category.pk,
                f"{prefix}-{index}-name": sub.name,
                f"{prefix}-{index}-object_type": sub.object_type,
                f"{prefix}-{index}-order": sub.order,
                f"{prefix}-{index}-is_active": "on",
            }
        )
    new = len(subs)
    data.update(
        {
            f"{prefix}-{new}-category": category.pk,
            f"{prefix}-{new}-name": "Mandat de prélèvement",
            f"{prefix}-{new}-object_type": "Coordonnée bancaire",
            f"{prefix}-{new}-order": 9,
            f"{prefix}-{new}-is_active": "on",
        }
    )
    response = operator_client.post(admin_url(Category, "change", category.pk), data)
    assert response.status_code == 302, response.context["errors"] if response.context else response
    added = SubCategory.objects.get(category=category, name="Mandat de prélèvement")
    assert added.queue_code == "metier"


def test_ratings_changelist_shows_averages_per_queue_and_agent(operator_client, closed_tickets):
    response = operator_client.get(admin_url(Rating, "changelist"))
    by_queue = {
        row["ticket__queue__name"]: (row["average"], row["count"]) for row in response.context["by_queue"]
    }
    assert by_queue == {"Support portail": (4, 2), "Support métier": (2, 1)}
    by_agent = {row["name"]: (row["average"], row["count"]) for row in response.context["by_agent"]}
    assert by_agent == {"Alice Agent": (4, 2), "Bruno Agent": (2, 1)}
    assert "Satisfaction des évaluations affichées" in response.text

    # Filtered by agent: the averages follow the filter.
    response = operator_client.get(
        admin_url(Rating, "changelist"), {"ticket__assigned_to__id__exact": closed_tickets["bruno"].pk}
    )
    assert len(response.context["cl"].result_list) == 1
    assert [(row["name"], row["count"]) for row in response.context["by_agent"]] == [("Bruno Agent", 1)]


def test_staff_agent_without_permission_is_refused(client, staff_user):
    client.force_login(staff_user)
    for model in (Queue, Category, Ticket, Rating):
        assert client.get(admin_url(model, "changelist")).status_code == 403


@pytest.mark.parametrize("model", [Ticket, TicketEvent, Rating], ids=lambda m: m.__name__)
def test_changelists_do_not_run_a_query_per_row(operator_client, model):
    requester = factories.UserFactory()
    agent = factories.UserFactory(is_staff=True)

    def rows(count):
        for _index in range(count):
            ticket = make_ticket(requester, S.CLOTURE, assigned_to=agent)
            Rating.objects.create(ticket=ticket, score=4)
            TicketEvent.objects.create(ticket=ticket, author=agent, kind="MESSAGE", body="Réponse")

    def count_queries():
        with CaptureQueriesContext(connection) as context:
            assert operator_client.get(admin_url(model, "changelist")).status_code == 200
        return len(context.captured_queries)

    rows(2)
    small = count_queries()
    rows(28)
    assert count_queries() == small
