"""Tickets reçus, the agents' back-office: queues, the ticket page, the agent actions
(M'affecter, Répondre, Demander un complément, Proposer une solution, Transférer, Note
interne), the ratings page; with the permission matrix of every view, the emails sent to
the requester and the query counts of the lists."""

import itertools
import threading
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, connections
from django.urls import reverse
from django.utils import timezone

from chorus.models import AuditEvent
from support.models import Category, Queue, Rating, SubCategory, Ticket, TicketAttachment, TicketEvent
from support.services import agents as agent_services
from tests import factories

S = Ticket.Status
NOT_ASSIGNED = "Affectez-vous d’abord ce ticket."
QUEUES_URL = "/support/agents/"
RATINGS_URL = "/support/agents/evaluations/"

_numbers = itertools.count(1)


# Data built with the ORM: the agents' side must not depend on the requester's pages.


@pytest.fixture
def portail(db):
    return Queue.objects.get_or_create(
        code="portail", defaults={"name": "Support portail", "recipient": "Support du portail", "order": 1}
    )[0]


@pytest.fixture
def metier(db):
    return Queue.objects.get_or_create(
        code="metier", defaults={"name": "Support métier", "recipient": "Support métier (AIFE)", "order": 2}
    )[0]


@pytest.fixture
def category(db):
    return Category.objects.get_or_create(name="Factures émises")[0]


@pytest.fixture
def other_category(db):
    return Category.objects.get_or_create(name="Coordonnées bancaires")[0]


@pytest.fixture
def subcategory(category):
    return SubCategory.objects.get_or_create(
        category=category, name="Déposer une facture", defaults={"object_type": "Facture"}
    )[0]


@pytest.fixture
def requester(structure, principal_manager):
    user = factories.UserFactory(email="demandeur@exemple.fr", first_name="Lucas", last_name="Petit")
    factories.attach(user, structure)
    return user


@pytest.fixture
def agent(staff_user):
    return staff_user


@pytest.fixture
def colleague(db):
    return factories.UserFactory(
        email="collegue@exemple.fr", first_name="Inès", last_name="Roux", is_staff=True
    )


def make_ticket(
    *, queue, category, status=S.SOUMIS, assigned_to=None, requester=None, structure=None, **fields
):
    now = timezone.now()
    values = {
        "number": f"T-2026-{next(_numbers):06d}",
        "submitted_at": now,
        "queue": queue,
        "category": category,
        "status": status,
        "assigned_to": assigned_to,
        "requester": requester,
        "structure": structure,
        "contact_email": requester.email if requester else "sans-compte@exemple.fr",
        "title": "Facture rejetée",
        "summary": "Ma facture F-2026-12 a été rejetée",
        "description": "Le motif de rejet n’est pas clair.",
    }
    if status == S.BROUILLON:
        values.update(number=None, submitted_at=None)
    if status == S.CLOTURE:
        values["closed_at"] = now
    if status == S.RESOLU:
        values["resolved_at"] = now
    values.update(fields)
    return Ticket.objects.create(**values)


@pytest.fixture
def ticket(portail, category, subcategory, requester, structure):
    """A submitted ticket, waiting in the portal queue."""
    return make_ticket(
        queue=portail,
        category=category,
        subcategory=subcategory,
        requester=requester,
        structure=structure,
        phone="03 20 00 00 01",
        object_type="Facture",
        object_number="F-2026-12",
    )


@pytest.fixture
def my_ticket(ticket, agent):
    """The same ticket, taken by the agent: en cours, assigned to them."""
    Ticket.objects.filter(pk=ticket.pk).update(status=S.EN_COURS, assigned_to=agent)
    ticket.refresh_from_db()
    return ticket


def _url(name, ticket, *args):
    return reverse(f"support:{name}", args=[ticket.pk, *args])


def _messages(response):
    return [str(message) for message in response.context["messages"]]


def _snapshot(ticket):
    ticket.refresh_from_db()
    return (
        ticket.status,
        ticket.assigned_to_id,
        ticket.queue_id,
        ticket.last_activity_at,
        ticket.events.count(),
        AuditEvent.objects.filter(object_type="support.Ticket", object_id=str(ticket.pk)).count(),
    )


def _audit_actions(ticket):
    return sorted(
        AuditEvent.objects.filter(object_type="support.Ticket", object_id=str(ticket.pk)).values_list(
            "action", flat=True
        )
    )


ACTION_URLS = [
    "agent_reply",
    "agent_request_information",
    "agent_propose_solution",
    "agent_transfer",
    "agent_note",
]


# Permission matrix


def _get_urls(ticket):
    return [
        QUEUES_URL,
        RATINGS_URL,
        _url("agent_ticket", ticket),
        *[_url(name, ticket) for name in ACTION_URLS],
    ]


def test_urls_are_in_french():
    assert reverse("support:agent_queues") == QUEUES_URL
    assert reverse("support:agent_ratings") == RATINGS_URL
    assert reverse("support:agent_ticket", args=[7]) == "/support/agents/tickets/7/"


def test_anonymous_visitor_is_sent_to_login(client, ticket):
    for url in _get_urls(ticket):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.url.startswith(reverse("users:login")), url
    response = client.post(_url("agent_assign", ticket))
    assert response.status_code == 302
    assert _snapshot(ticket)[:2] == (S.SOUMIS, None)


@pytest.mark.parametrize("persona", ["requester", "other_structure_user", "principal_manager"])
def test_portal_users_and_the_requester_get_403(client, ticket, persona, request):
    client.force_login(request.getfixturevalue(persona))
    for url in _get_urls(ticket):
        assert client.get(url).status_code == 403, url
    assert client.post(_url("agent_reply", ticket), {"message": "Bonjour"}).status_code == 403
    assert client.post(_url("agent_assign", ticket)).status_code == 403
    assert _snapshot(ticket)[:2] == (S.SOUMIS, None)


def test_agent_opens_every_page(client, my_ticket, agent):
    client.force_login(agent)
    for url in _get_urls(my_ticket):
        assert client.get(url).status_code == 200, url


def test_operator_superuser_opens_the_back_office(client, ticket):
    operator = factories.UserFactory(is_staff=True, is_superuser=True)
    client.force_login(operator)
    assert client.get(QUEUES_URL).status_code == 200
    assert client.get(_url("agent_ticket", ticket)).status_code == 200


def test_drafts_are_a_404_for_agents(client, agent, portail, category, requester):
    draft = make_ticket(queue=portail, category=category, requester=requester, status=S.BROUILLON)
    draft.assigned_to = agent  # even if it somehow were theirs
    draft.save()
    client.force_login(agent)
    for url in [_url("agent_ticket", draft), *[_url(name, draft) for name in ACTION_URLS]]:
        assert client.get(url).status_code == 404, url
    assert client.post(_url("agent_assign", draft)).status_code == 404
    assert client.post(_url("agent_reply", draft), {"message": "Bonjour"}).status_code == 404
    assert not draft.events.exists()
    response = client.get(QUEUES_URL, {"status": "tous"})
    assert draft not in response.context["page_obj"].object_list


def test_unknown_ticket_is_a_404(client, agent, db):
    client.force_login(agent)
    assert client.get("/support/agents/tickets/999999/").status_code == 404


def test_assign_is_post_only(client, agent, ticket):
    client.force_login(agent)
    assert client.get(_url("agent_assign", ticket)).status_code == 405


# Queues


def test_queues_count_tickets_by_queue_and_status(client, agent, portail, metier, category, requester):
    for status, queue, n in [(S.SOUMIS, portail, 3), (S.EN_COURS, portail, 1), (S.RESOLU, metier, 2)]:
        for _ in range(n):
            make_ticket(queue=queue, category=category, status=status, requester=requester)
    make_ticket(queue=portail, category=category, status=S.BROUILLON, requester=requester)
    client.force_login(agent)
    response = client.get(QUEUES_URL)
    counts = {
        (row["queue"].code, cell["status"].value): cell["count"]
        for row in response.context["queue_rows"]
        for cell in row["cells"]
    }
    assert counts[("portail", S.SOUMIS)] == 3
    assert counts[("portail", S.EN_COURS)] == 1
    assert counts[("metier", S.RESOLU)] == 2
    assert counts[("metier", S.SOUMIS)] == 0
    assert S.BROUILLON not in {status for _queue, status in counts}


def test_queues_summary_counts_the_work_to_do_not_the_closed_history(
    client, agent, portail, category, requester
):
    make_ticket(queue=portail, category=category, status=S.SOUMIS, requester=requester)
    closed = make_ticket(queue=portail, category=category, status=S.CLOTURE, requester=requester)
    client.force_login(agent)
    response = client.get(QUEUES_URL)
    statuses = {cell["status"] for row in response.context["queue_rows"] for cell in row["cells"]}
    assert S.CLOTURE not in statuses
    assert "Les tickets clôturés n’y sont pas comptés" in response.content.decode()
    # Closed tickets stay one filter away.
    filtered = client.get(QUEUES_URL, {"status": S.CLOTURE})
    assert list(filtered.context["page_obj"]) == [closed]


def test_queue_list_filters(client, agent, colleague, portail, metier, category, other_category, requester):
    mine = make_ticket(queue=portail, category=category, status=S.EN_COURS, assigned_to=agent, title="Mien")
    theirs = make_ticket(queue=portail, category=category, status=S.EN_COURS, assigned_to=colleague)
    unassigned = make_ticket(queue=metier, category=other_category, title="IBAN refusé")
    closed = make_ticket(queue=portail, category=category, status=S.CLOTURE, assigned_to=agent)
    client.force_login(agent)

    def listed(**params):
        response = client.get(QUEUES_URL, params)
        assert response.status_code == 200
        return set(response.context["page_obj"].object_list)

    assert listed() == {mine, theirs, unassigned}  # closed ones are out of the way by default
    assert listed(status="tous") == {mine, theirs, unassigned, closed}
    assert listed(status=S.CLOTURE) == {closed}
    assert listed(queue=metier.pk) == {unassigned}
    assert listed(category=other_category.pk) == {unassigned}
    assert listed(assignment="moi") == {mine}
    assert listed(assignment="moi", status="tous") == {mine, closed}
    assert listed(assignment="non-affectes") == {unassigned}
    assert listed(q="iban") == {unassigned}
    assert listed(q=mine.number) == {mine}


def test_queue_list_refuses_unknown_filter_values(client, agent, ticket):
    client.force_login(agent)
    response = client.get(QUEUES_URL, {"status": "BROUILLON", "assignment": "-id"})
    assert response.status_code == 200
    assert list(response.context["page_obj"].object_list) == []
    assert "Les filtres choisis ne sont pas valides" in response.content.decode()


def test_queue_list_shows_oldest_activity_first(client, agent, portail, category, requester):
    now = timezone.now()
    recent = make_ticket(queue=portail, category=category, requester=requester)
    oldest = make_ticket(queue=portail, category=category, requester=requester)
    middle = make_ticket(queue=portail, category=category, requester=requester)
    for ticket, age in [(recent, 1), (oldest, 30), (middle, 10)]:
        Ticket.objects.filter(pk=ticket.pk).update(last_activity_at=now - timedelta(days=age))
    client.force_login(agent)
    response = client.get(QUEUES_URL)
    assert list(response.context["page_obj"].object_list) == [oldest, middle, recent]


def test_queue_list_paginates_by_25(client, agent, portail, category, requester):
    for _ in range(30):
        make_ticket(queue=portail, category=category, requester=requester)
    client.force_login(agent)
    first = client.get(QUEUES_URL)
    assert len(first.context["page_obj"]) == 25
    assert first.context["page_obj"].paginator.count == 30
    second = client.get(QUEUES_URL, {"page": 2})
    assert len(second.context["page_obj"]) == 5


def _bulk_tickets(count, *, queues, category, subcategory, requester, structure, agent):
    now = timezone.now()
    statuses = [S.SOUMIS, S.EN_COURS, S.EN_ATTENTE_INFORMATION, S.RESOLU]
    Ticket.objects.bulk_create(
        Ticket(
            number=f"T-2025-{next(_numbers):06d}",
            submitted_at=now,
            last_activity_at=now,
            queue=queues[n % 2],
            category=category,
            subcategory=subcategory,
            requester=requester,
            structure=structure,
            contact_email=requester.email,
            title=f"Demande {n}",
            status=statuses[n % 4],
            resolved_at=now if statuses[n % 4] == S.RESOLU else None,
            assigned_to=agent if n % 3 else None,
        )
        for n in range(count)
    )


@pytest.mark.parametrize("count", [5, 500])
def test_queue_list_query_count_does_not_grow_with_tickets(
    client,
    agent,
    portail,
    metier,
    category,
    subcategory,
    requester,
    structure,
    count,
    django_assert_max_num_queries,
):
    _bulk_tickets(
        count,
        queues=[portail, metier],
        category=category,
        subcategory=subcategory,
        requester=requester,
        structure=structure,
        agent=agent,
    )
    client.force_login(agent)
    # Session, user, access context (4), the application's help link, counts, queues,
    # filter choices (2), page count and rows: never one per ticket.
    with django_assert_max_num_queries(14):
        response = client.get(QUEUES_URL)
    assert response.status_code == 200
    assert len(response.context["page_obj"]) == min(count, 25)


def test_queue_list_query_count_is_the_same_with_5_and_500_tickets(
    client, agent, portail, metier, category, subcategory, requester, structure
):
    from django.test.utils import CaptureQueriesContext

    client.force_login(agent)
    common = dict(
        queues=[portail, metier],
        category=category,
        subcategory=subcategory,
        requester=requester,
        structure=structure,
        agent=agent,
    )

    def queries(params):
        with CaptureQueriesContext(connection) as captured:
            assert client.get(QUEUES_URL, params).status_code == 200
        return len(captured)

    params = {"queue": portail.pk, "assignment": "moi"}
    _bulk_tickets(5, **common)
    few = queries({}), queries(params)
    _bulk_tickets(495, **common)
    assert (queries({}), queries(params)) == few


# The ticket page


def test_ticket_page_shows_everything_agents_need(client, agent, colleague, my_ticket, structure, requester):
    TicketEvent.objects.create(
        ticket=my_ticket,
        author=colleague,
        kind=TicketEvent.Kind.NOTE,
        body="Déjà vu ce rejet.",
        is_internal=True,
    )
    TicketEvent.objects.create(
        ticket=my_ticket, author=requester, kind=TicketEvent.Kind.MESSAGE, body="Voici le motif <b>exact</b>."
    )
    client.force_login(agent)
    response = client.get(_url("agent_ticket", my_ticket))
    content = response.content.decode()
    assert response.status_code == 200
    for text in [
        my_ticket.number,
        "Facture rejetée",
        "Le motif de rejet n’est pas clair.",
        "F-2026-12",
        "Support portail",
        "Factures émises",
        "Déposer une facture",
        "demandeur@exemple.fr",
        "03 20 00 00 01",
        structure.identifier,
        structure.display_name,
        "Déjà vu ce rejet.",
        "Note interne — invisible pour le demandeur",
        "Lucas Petit",
    ]:
        assert text in content, text
    # Requester's text is escaped, never interpreted.
    assert "Voici le motif &lt;b&gt;exact&lt;/b&gt;." in content
    assert response.context["actions"] == [
        agent_services.REPLY,
        agent_services.REQUEST_INFORMATION,
        agent_services.PROPOSE_SOLUTION,
        agent_services.TRANSFER,
        agent_services.NOTE,
    ]


def test_ticket_page_of_a_logged_out_request(client, agent, portail, category):
    ticket = make_ticket(queue=portail, category=category, contact_email="visiteur@exemple.fr")
    TicketEvent.objects.create(
        ticket=ticket, kind=TicketEvent.Kind.STATUS, from_status=S.BROUILLON, to_status=S.SOUMIS
    )
    client.force_login(agent)
    response = client.get(_url("agent_ticket", ticket))
    content = response.content.decode()
    assert "Sans compte (formulaire sans connexion)" in content
    assert "visiteur@exemple.fr" in content
    assert "M’affecter" in content


def test_ticket_page_offers_to_assign_an_unassigned_ticket_and_no_action(client, agent, ticket):
    client.force_login(agent)
    response = client.get(_url("agent_ticket", ticket))
    content = response.content.decode()
    assert "M’affecter" in content
    assert "Ce ticket n’est affecté à personne." in content
    assert reverse("support:agent_reply", args=[ticket.pk]) not in content


def test_ticket_page_of_a_closed_ticket_offers_only_a_note(client, agent, portail, category, requester):
    ticket = make_ticket(
        queue=portail, category=category, requester=requester, status=S.CLOTURE, assigned_to=agent
    )
    Rating.objects.create(ticket=ticket, score=4, comment="Rapide et clair.")
    client.force_login(agent)
    response = client.get(_url("agent_ticket", ticket))
    assert response.context["actions"] == [agent_services.NOTE]
    assert "M’affecter" not in response.content.decode()
    assert "Rapide et clair." in response.content.decode()


def test_agent_downloads_an_attachment(client, agent, ticket, requester):
    attachment = TicketAttachment.objects.create(
        ticket=ticket,
        file=SimpleUploadedFile("x", factories.pdf_bytes()),
        original_name="facture.pdf",
        content_type="application/pdf",
        size=len(factories.pdf_bytes()),
        uploaded_by=requester,
    )
    client.force_login(agent)
    assert "facture.pdf" in client.get(_url("agent_ticket", ticket)).content.decode()
    response = client.get(_url("agent_attachment", ticket, attachment.pk))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert b"".join(response.streaming_content).startswith(b"%PDF")
    other = make_ticket(queue=ticket.queue, category=ticket.category)
    assert client.get(_url("agent_attachment", other, attachment.pk)).status_code == 404


@pytest.mark.parametrize("count", [1, 50])
def test_ticket_page_query_count_does_not_grow_with_activity(
    client, agent, my_ticket, requester, count, django_assert_max_num_queries
):
    TicketEvent.objects.bulk_create(
        TicketEvent(
            ticket=my_ticket,
            author=requester if n % 2 else agent,
            kind=TicketEvent.Kind.MESSAGE,
            body=f"Message {n}",
        )
        for n in range(count)
    )
    client.force_login(agent)
    with django_assert_max_num_queries(10):
        assert client.get(_url("agent_ticket", my_ticket)).status_code == 200


# M'affecter


def test_agent_takes_a_submitted_ticket_which_goes_en_cours(
    client, agent, ticket, mailoutbox, django_capture_on_commit_callbacks
):
    client.force_login(agent)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(_url("agent_assign", ticket), {"replacing": ""})
    assert response.status_code == 302
    assert response.url == _url("agent_ticket", ticket)
    ticket.refresh_from_db()
    assert ticket.status == S.EN_COURS
    assert ticket.assigned_to == agent
    kinds = list(ticket.events.values_list("kind", "from_status", "to_status", "author"))
    assert sorted(kinds) == sorted(
        [
            (TicketEvent.Kind.ASSIGN, "", "", agent.pk),
            (TicketEvent.Kind.STATUS, S.SOUMIS, S.EN_COURS, agent.pk),
        ]
    )
    assert [message.to for message in mailoutbox] == [["demandeur@exemple.fr"]]
    assert mailoutbox[0].subject == f"Votre demande {ticket.number} est prise en charge"
    audit = AuditEvent.objects.get(action="ticket_assign")
    # Support requests stay out of the structure's history.
    assert (audit.actor, audit.structure) == (agent, None)
    assert audit.changes == {
        "status": {"before": S.SOUMIS, "after": S.EN_COURS},
        "assigned_to": {"before": None, "after": agent.pk},
    }
    page = client.get(response.url)
    assert f"Le ticket {ticket.number} vous est affecté : vous pouvez le traiter." in _messages(page)


def test_agent_takes_over_a_colleagues_ticket(client, agent, colleague, ticket):
    Ticket.objects.filter(pk=ticket.pk).update(status=S.EN_COURS, assigned_to=colleague)
    client.force_login(agent)
    page = client.get(_url("agent_ticket", ticket))
    assert "Ce ticket est affecté à Inès Roux." in page.content.decode()
    client.post(_url("agent_assign", ticket), {"replacing": colleague.pk})
    ticket.refresh_from_db()
    assert (ticket.status, ticket.assigned_to) == (S.EN_COURS, agent)
    assert ticket.events.get(kind=TicketEvent.Kind.ASSIGN).body == "Repris à Inès Roux."


def test_agent_does_not_take_a_ticket_a_colleague_took_meanwhile(
    client, agent, colleague, ticket, mailoutbox
):
    # The page showed the ticket unassigned; the colleague took it before the click.
    Ticket.objects.filter(pk=ticket.pk).update(status=S.EN_COURS, assigned_to=colleague)
    before = _snapshot(ticket)
    client.force_login(agent)
    response = client.post(_url("agent_assign", ticket), {"replacing": ""}, follow=True)
    assert "Ce ticket vient d’être affecté à Inès Roux : vérifiez-le avant de le reprendre." in _messages(
        response
    )
    assert _snapshot(ticket) == before
    assert mailoutbox == []


def test_agent_cannot_take_a_closed_ticket_or_their_own_again(client, agent, portail, category, my_ticket):
    closed = make_ticket(queue=portail, category=category, status=S.CLOTURE)
    client.force_login(agent)
    for ticket, message in [
        (closed, "Ce ticket est clôturé : il ne peut plus être affecté."),
        (my_ticket, "Ce ticket vous est déjà affecté."),
    ]:
        before = _snapshot(ticket)
        response = client.post(_url("agent_assign", ticket), follow=True)
        assert message in _messages(response)
        assert _snapshot(ticket) == before


@pytest.mark.django_db(transaction=True)
def test_two_agents_taking_a_ticket_at_once_only_one_gets_it(catalogue, portail, category):
    ticket = make_ticket(queue=portail, category=category)
    agents = [factories.UserFactory(is_staff=True) for _ in range(2)]
    barrier = threading.Barrier(len(agents))
    outcomes, errors = [], []

    def take(agent):
        try:
            barrier.wait(timeout=10)
            agent_services.ticket_assign(ticket_id=ticket.pk, agent=agent, replacing_id=None)
            outcomes.append("taken")
        except agent_services.ActionRefused:
            outcomes.append("refused")
        except Exception as exc:  # reported below, a thread cannot fail the test itself
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=take, args=(agent,)) for agent in agents]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    assert sorted(outcomes) == ["refused", "taken"]
    ticket.refresh_from_db()
    assert ticket.status == S.EN_COURS
    assert ticket.events.filter(kind=TicketEvent.Kind.ASSIGN).count() == 1
    assert ticket.events.filter(kind=TicketEvent.Kind.STATUS).count() == 1


# Acting without holding the ticket


@pytest.mark.parametrize("name", ACTION_URLS)
def test_agent_cannot_act_on_a_ticket_not_assigned_to_them(
    client, agent, colleague, ticket, metier, name, mailoutbox
):
    Ticket.objects.filter(pk=ticket.pk).update(status=S.EN_COURS, assigned_to=colleague)
    before = _snapshot(ticket)
    client.force_login(agent)
    page = client.get(_url(name, ticket))
    assert page.context["refusal"] == NOT_ASSIGNED
    assert page.context["form"] is None
    response = client.post(_url(name, ticket), {"message": "Bonjour", "queue": metier.pk, "reason": "Métier"})
    assert response.status_code == 200
    assert NOT_ASSIGNED in response.content.decode()
    assert _snapshot(ticket) == before
    assert mailoutbox == []


def test_refusal_page_offers_to_assign_the_ticket(client, agent, ticket):
    client.force_login(agent)
    content = client.get(_url("agent_reply", ticket)).content.decode()
    assert NOT_ASSIGNED in content
    assert reverse("support:agent_assign", args=[ticket.pk]) in content


def test_service_refuses_an_unassigned_agent_under_the_lock(agent, ticket):
    with pytest.raises(agent_services.ActionRefused) as refused:
        agent_services.ticket_reply(ticket_id=ticket.pk, agent=agent, message="Bonjour")
    assert str(refused.value.message) == NOT_ASSIGNED
    assert not ticket.events.exists()


# Répondre


def test_agent_replies_and_the_status_does_not_change(
    client, agent, my_ticket, mailoutbox, django_capture_on_commit_callbacks
):
    before = my_ticket.last_activity_at
    client.force_login(agent)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            _url("agent_reply", my_ticket), {"message": "Le motif est le code 20003."}, follow=True
        )
    assert f"Votre réponse a été envoyée au demandeur du ticket {my_ticket.number}." in _messages(response)
    my_ticket.refresh_from_db()
    assert my_ticket.status == S.EN_COURS
    assert my_ticket.last_activity_at > before
    event = my_ticket.events.get()
    assert (event.kind, event.body, event.author, event.is_internal) == (
        TicketEvent.Kind.MESSAGE,
        "Le motif est le code 20003.",
        agent,
        False,
    )
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["demandeur@exemple.fr"]
    assert mailoutbox[0].subject == f"Réponse du support à votre demande {my_ticket.number}"
    assert "Le motif est le code 20003." in mailoutbox[0].body
    assert "Support › Tickets émis" in mailoutbox[0].body
    assert _audit_actions(my_ticket) == ["ticket_reply"]


def test_reply_goes_to_the_contact_email_of_a_logged_out_request(
    client, agent, portail, category, mailoutbox, django_capture_on_commit_callbacks
):
    ticket = make_ticket(
        queue=portail,
        category=category,
        status=S.EN_COURS,
        assigned_to=agent,
        contact_email="visiteur@exemple.fr",
    )
    client.force_login(agent)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(_url("agent_reply", ticket), {"message": "Voici la marche à suivre."})
    assert [message.to for message in mailoutbox] == [["visiteur@exemple.fr"]]
    assert "Vous avez déposé cette demande sans vous connecter" in mailoutbox[0].body


@pytest.mark.parametrize(
    "action, data",
    [
        ("agent_reply", {"message": "Voici la marche à suivre."}),
        ("agent_request_information", {"message": "Quel est le numéro de facture ?"}),
        ("agent_propose_solution", {"message": "Déposez la facture à nouveau."}),
    ],
)
def test_emails_to_an_unverified_address_carry_nothing_the_visitor_typed(
    client, agent, portail, category, mailoutbox, django_capture_on_commit_callbacks, action, data
):
    # Filed logged out, with someone else's address and a text of the sender's choice.
    ticket = make_ticket(
        queue=portail,
        category=category,
        status=S.EN_COURS,
        assigned_to=agent,
        contact_email="victime@exemple.fr",
        title="Gagnez 1000 euros sur http://arnaque.example",
    )
    client.force_login(agent)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(_url(action, ticket), data)
    assert [message.to for message in mailoutbox] == [["victime@exemple.fr"]]
    assert ticket.number in mailoutbox[0].body
    assert "arnaque" not in mailoutbox[0].body + mailoutbox[0].subject


def test_emails_to_a_requester_with_an_account_name_their_ticket(
    client, agent, my_ticket, mailoutbox, django_capture_on_commit_callbacks
):
    client.force_login(agent)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(_url("agent_reply", my_ticket), {"message": "Voici la marche à suivre."})
    assert f"{my_ticket.number} « Facture rejetée »" in mailoutbox[0].body


def test_empty_or_too_long_reply_is_refused(client, agent, my_ticket, mailoutbox):
    before = _snapshot(my_ticket)
    client.force_login(agent)
    response = client.post(_url("agent_reply", my_ticket), {"message": "   "})
    assert response.context["form"].errors["message"] == ["Saisissez votre réponse."]
    response = client.post(_url("agent_reply", my_ticket), {"message": "x" * 5001})
    assert response.context["form"].errors["message"] == [
        "Le message ne doit pas dépasser 5000 caractères (actuellement 5001)."
    ]
    assert _snapshot(my_ticket) == before
    assert mailoutbox == []


def test_reply_on_a_closed_ticket_is_refused(client, agent, portail, category, requester, mailoutbox):
    ticket = make_ticket(
        queue=portail, category=category, requester=requester, status=S.CLOTURE, assigned_to=agent
    )
    before = _snapshot(ticket)
    client.force_login(agent)
    response = client.post(_url("agent_reply", ticket), {"message": "Encore un mot"})
    assert "Action impossible : le ticket est « Clôturé »." in response.content.decode()
    assert _snapshot(ticket) == before
    assert mailoutbox == []


# Demander un complément


def test_agent_asks_for_information(client, agent, my_ticket, mailoutbox, django_capture_on_commit_callbacks):
    client.force_login(agent)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            _url("agent_request_information", my_ticket),
            {"message": "Joignez la facture en PDF."},
            follow=True,
        )
    assert (
        f"Le ticket {my_ticket.number} est en attente des informations demandées au demandeur."
        in _messages(response)
    )
    my_ticket.refresh_from_db()
    assert my_ticket.status == S.EN_ATTENTE_INFORMATION
    assert my_ticket.assigned_to == agent
    assert set(my_ticket.events.values_list("kind", "body")) == {
        (TicketEvent.Kind.MESSAGE, "Joignez la facture en PDF."),
        (TicketEvent.Kind.STATUS, ""),
    }
    assert len(mailoutbox) == 1
    assert "Joignez la facture en PDF." in mailoutbox[0].body
    assert "informations complémentaires attendues" in mailoutbox[0].subject
    assert _audit_actions(my_ticket) == ["ticket_request_information"]


def test_asking_for_information_needs_a_message(client, agent, my_ticket, mailoutbox):
    before = _snapshot(my_ticket)
    client.force_login(agent)
    response = client.post(_url("agent_request_information", my_ticket), {"message": ""})
    assert response.context["form"].errors["message"] == ["Précisez les informations que vous demandez."]
    assert _snapshot(my_ticket) == before
    assert mailoutbox == []


def test_asking_again_while_awaiting_information_is_refused(client, agent, my_ticket, mailoutbox):
    Ticket.objects.filter(pk=my_ticket.pk).update(status=S.EN_ATTENTE_INFORMATION)
    before = _snapshot(my_ticket)
    client.force_login(agent)
    response = client.post(_url("agent_request_information", my_ticket), {"message": "Et encore ?"})
    assert response.context["refusal"] == "Action impossible : le ticket est « En attente d’information »."
    assert _snapshot(my_ticket) == before
    assert mailoutbox == []


# Proposer une solution


def test_agent_proposes_a_solution(client, agent, my_ticket, mailoutbox, django_capture_on_commit_callbacks):
    client.force_login(agent)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            _url("agent_propose_solution", my_ticket),
            {"message": "Redéposez la facture avec le bon SIRET."},
            follow=True,
        )
    assert f"La solution a été proposée : le ticket {my_ticket.number} est résolu." in _messages(response)
    my_ticket.refresh_from_db()
    assert my_ticket.status == S.RESOLU
    assert my_ticket.resolved_at is not None
    assert my_ticket.events.filter(
        kind=TicketEvent.Kind.MESSAGE, body="Redéposez la facture avec le bon SIRET."
    ).exists()
    assert my_ticket.events.filter(
        kind=TicketEvent.Kind.STATUS, from_status=S.EN_COURS, to_status=S.RESOLU
    ).exists()
    assert len(mailoutbox) == 1
    assert mailoutbox[0].subject == f"Une solution est proposée pour votre demande {my_ticket.number}"
    assert "acceptez la solution" in mailoutbox[0].body
    assert _audit_actions(my_ticket) == ["ticket_propose_solution"]


@pytest.mark.parametrize("status", [S.EN_ATTENTE_INFORMATION, S.RESOLU])
def test_proposing_a_solution_is_refused_unless_en_cours(client, agent, my_ticket, status, mailoutbox):
    Ticket.objects.filter(pk=my_ticket.pk).update(status=status)
    before = _snapshot(my_ticket)
    client.force_login(agent)
    page = client.get(_url("agent_propose_solution", my_ticket))
    assert page.context["form"] is None
    response = client.post(_url("agent_propose_solution", my_ticket), {"message": "Voici la solution"})
    label = dict(S.choices)[status]
    assert response.context["refusal"] == f"Action impossible : le ticket est « {label} »."
    assert _snapshot(my_ticket) == before
    assert mailoutbox == []


def test_proposing_a_solution_needs_a_message(client, agent, my_ticket):
    before = _snapshot(my_ticket)
    client.force_login(agent)
    response = client.post(_url("agent_propose_solution", my_ticket), {"message": ""})
    assert response.context["form"].errors["message"] == ["Décrivez la solution proposée."]
    assert _snapshot(my_ticket) == before


def test_service_refuses_an_empty_solution(agent, my_ticket):
    with pytest.raises(agent_services.ActionRefused) as refused:
        agent_services.ticket_propose_solution(ticket_id=my_ticket.pk, agent=agent, message="  ")
    assert str(refused.value.message) == "Le message est obligatoire."
    my_ticket.refresh_from_db()
    assert my_ticket.status == S.EN_COURS


# Transférer


def test_agent_transfers_a_ticket_to_another_queue(
    client, agent, my_ticket, portail, metier, mailoutbox, django_capture_on_commit_callbacks
):
    client.force_login(agent)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            _url("agent_transfer", my_ticket),
            {"queue": metier.pk, "reason": "Question sur le rejet métier."},
            follow=True,
        )
    assert f"Le ticket {my_ticket.number} a été transféré à la file « Support métier »." in _messages(
        response
    )
    my_ticket.refresh_from_db()
    assert my_ticket.queue == metier
    assert my_ticket.assigned_to is None
    assert my_ticket.status == S.EN_COURS
    event = my_ticket.events.get()
    assert event.kind == TicketEvent.Kind.TRANSFER
    assert (
        event.body == "Transféré de « Support portail » à « Support métier » : Question sur le rejet métier."
    )
    assert len(mailoutbox) == 1
    assert "Support métier (AIFE)" in mailoutbox[0].body
    assert "Question sur le rejet métier." in mailoutbox[0].body
    audit = AuditEvent.objects.get(action="ticket_transfer")
    assert audit.changes == {
        "queue": {"before": portail.pk, "after": metier.pk},
        "assigned_to": {"before": agent.pk, "after": None},
    }
    # Nobody holds it any more: an agent of the new queue finds it among the unassigned.
    listed = client.get(QUEUES_URL, {"queue": metier.pk, "assignment": "non-affectes"})
    assert my_ticket in listed.context["page_obj"].object_list


def test_transfer_form_does_not_offer_the_current_queue(client, agent, my_ticket, portail, metier):
    client.force_login(agent)
    form = client.get(_url("agent_transfer", my_ticket)).context["form"]
    assert list(form.fields["queue"].queryset) == [metier]


def test_transfer_to_the_same_queue_or_without_reason_is_refused(
    client, agent, my_ticket, portail, metier, mailoutbox
):
    before = _snapshot(my_ticket)
    client.force_login(agent)
    response = client.post(_url("agent_transfer", my_ticket), {"queue": portail.pk, "reason": "Erreur"})
    assert response.context["form"].errors["queue"] == [
        "Choisissez une file différente de la file actuelle du ticket."
    ]
    response = client.post(_url("agent_transfer", my_ticket), {"queue": metier.pk, "reason": ""})
    assert response.context["form"].errors["reason"] == ["Indiquez le motif du transfert."]
    response = client.post(_url("agent_transfer", my_ticket), {"reason": "Métier"})
    assert response.context["form"].errors["queue"] == [
        "Choisissez la file vers laquelle transférer le ticket."
    ]
    assert _snapshot(my_ticket) == before
    assert mailoutbox == []


def test_service_refuses_a_transfer_to_the_same_queue(agent, my_ticket, portail):
    with pytest.raises(agent_services.ActionRefused):
        agent_services.ticket_transfer(ticket_id=my_ticket.pk, agent=agent, queue=portail, reason="Erreur")
    my_ticket.refresh_from_db()
    assert my_ticket.assigned_to == agent


# Note interne


def test_agent_writes_an_internal_note_the_requester_never_hears_of(
    client, agent, my_ticket, mailoutbox, django_capture_on_commit_callbacks
):
    before = my_ticket.last_activity_at
    client.force_login(agent)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            _url("agent_note", my_ticket), {"message": "Voir avec l’équipe facturation."}, follow=True
        )
    assert f"La note interne a été ajoutée au ticket {my_ticket.number}." in _messages(response)
    event = my_ticket.events.get()
    assert (event.kind, event.is_internal, event.body) == (
        TicketEvent.Kind.NOTE,
        True,
        "Voir avec l’équipe facturation.",
    )
    my_ticket.refresh_from_db()
    assert (my_ticket.status, my_ticket.last_activity_at) == (S.EN_COURS, before)
    assert mailoutbox == []
    # Not in the structure's history either, which the requester's administrators read.
    assert _audit_actions(my_ticket) == []
    assert "Note interne — invisible pour le demandeur" in response.content.decode()


def test_empty_note_is_refused(client, agent, my_ticket):
    client.force_login(agent)
    response = client.post(_url("agent_note", my_ticket), {"message": ""})
    assert response.context["form"].errors["message"] == ["Saisissez la note."]
    assert not my_ticket.events.exists()


# Action pages


def test_action_pages_have_a_form_that_warns_before_leaving(client, agent, my_ticket):
    client.force_login(agent)
    for name in ACTION_URLS:
        content = client.get(_url(name, my_ticket)).content.decode()
        assert "data-warn-unsaved" in content, name
        assert '<button class="fr-btn" type="submit">Soumettre</button>' in content, name


# Ratings


def _rated(queue, category, agent, score, comment=""):
    ticket = make_ticket(queue=queue, category=category, status=S.CLOTURE, assigned_to=agent)
    return Rating.objects.create(ticket=ticket, score=score, comment=comment)


def test_ratings_per_queue_and_per_agent(client, agent, colleague, portail, metier, category):
    _rated(portail, category, agent, 5, "Parfait.")
    _rated(portail, category, agent, 4)
    _rated(portail, category, colleague, 2, "Trop long.")
    _rated(metier, category, colleague, 3)
    _rated(metier, category, None, 1)
    client.force_login(agent)
    response = client.get(RATINGS_URL)
    by_queue = {queue.code: (queue.average, queue.count) for queue in response.context["by_queue"]}
    assert by_queue["portail"][1] == 3
    assert by_queue["portail"][0] == pytest.approx(11 / 3)
    assert by_queue["metier"] == (2, 2)
    by_agent = {row["name"]: (row["average"], row["count"]) for row in response.context["by_agent"]}
    assert by_agent == {
        str(agent): (4.5, 2),
        "Inès Roux": (2.5, 2),
        "Aucun agent affecté": (1, 1),
    }
    assert [rating.comment for rating in response.context["comments"]] == ["Trop long.", "Parfait."]
    content = response.content.decode()
    assert "3,7 / 5" in content
    assert "Trop long." in content


@pytest.mark.parametrize("count", [2, 60])
def test_ratings_query_count_does_not_grow_with_ratings(
    client, agent, colleague, portail, metier, category, count, django_assert_max_num_queries
):
    for n in range(count):
        _rated([portail, metier][n % 2], category, [agent, colleague][n % 2], 1 + n % 5, f"Commentaire {n}")
    client.force_login(agent)
    # Session, user, access context (4), per queue, per agent, latest comments.
    with django_assert_max_num_queries(9):
        assert client.get(RATINGS_URL).status_code == 200
