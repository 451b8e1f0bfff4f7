"""Twenty people pressing the same button at the same instant: the transfer of the
principal manager, an approval decision, the first attachment to an empty structure, a
habilitation submit, a ticket transition, and twenty new tickets (the ticket form, the
logged-out form, chats turned into tickets) that each need the next number. Each
attempt is a real request (its own test client, thread and database connection)
released by a barrier. The invariants hold, no effect is applied twice, nothing is
lost, every refusal is a page, never a 500, and the audit trail's hash chain stays
intact.

They run on PostgreSQL (row locks) and on SQLite, the embedded default, which must make
concurrent writers wait their turn rather than answer "database is locked".

The two-thread tests next to each service (tests/structures/test_transfer.py,
tests/approvals/test_services.py, tests/users/test_principal_manager.py,
tests/users/test_habilitations.py) pin the service-level refusals; these push the same
races through the views at twenty."""

import html
import re
import threading
import time
from importlib import import_module

import pytest
from django.apps import apps
from django.db import connections
from django.test import Client
from django.urls import reverse

from approvals.models import ApprovalRequest
from chorus import audit
from chorus.models import AuditEvent, Habilitation, Level, Profile
from support.forms import tickets as ticket_forms
from support.models import ChatMessage, ChatSession, SubCategory, Ticket, TicketEvent
from tests import factories
from tests.approvals.helpers import pending_attachment
from users.models import Membership

ATTEMPTS = 20

pytestmark = pytest.mark.django_db(transaction=True)


def race(attempts):
    """Run every callable of `attempts` at the same instant, each in its own thread (so
    with its own database connection). Returns their results in order; an exception,
    a 500 included (the test client re-raises it), fails the test."""
    barrier = threading.Barrier(len(attempts))
    results, errors = [None] * len(attempts), []

    def run(index, attempt):
        try:
            barrier.wait(timeout=30)
            results[index] = attempt()
        except Exception as exc:  # reported below, a thread cannot fail the test itself
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=item) for item in enumerate(attempts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == [], errors
    assert all(not thread.is_alive() for thread in threads)
    return results


def logged_in(user):
    client = Client()
    client.force_login(user)
    return client


def post(client, url, data):
    """A POST as a browser sends it; the status and the page, for the assertions."""

    def attempt():
        response = client.post(url, data)
        return response.status_code, html.unescape(response.content.decode())

    return attempt


def assert_chain_intact():
    check = audit.verify()
    assert check.intact, f"audit chain broken at {check.broken.pk} ({check.reason})"


def structure_with_manager():
    manager = factories.UserFactory(email="gp@exemple.fr")
    structure = factories.StructureFactory(with_principal_manager=manager)
    return structure, manager


def test_twenty_transfers_of_the_principal_manager_apply_one(catalogue):
    structure, manager = structure_with_manager()
    candidates = [factories.UserFactory() for _index in range(ATTEMPTS)]
    for candidate in candidates:
        factories.attach(candidate, structure)
    url = reverse("structures:transfer")
    attempts = [
        post(logged_in(manager), url, {"type": "unitaire", f"structure_{structure.pk}": candidate.pk})
        for candidate in candidates
    ]

    results = race(attempts)

    statuses = [status for status, _page in results]
    assert statuses.count(302) == 1, statuses
    # The others are refused: by the service under the lock, or already by the access
    # rule once the former principal manager lost the role.
    assert set(statuses) <= {302, 200, 403}
    winner = candidates[statuses.index(302)]
    structure.refresh_from_db()
    assert structure.principal_manager == winner
    assert structure.is_active
    events = AuditEvent.objects.filter(action="principal_manager_transfer")
    assert [event.changes["principal_manager"]["after"] for event in events] == [winner.email]
    # The former principal manager stays attached, once.
    assert Membership.objects.filter(user=manager, structure=structure, service=None).count() == 1
    assert_chain_intact()


def test_twenty_decisions_on_one_request_decide_it_once(catalogue):
    structure, manager = structure_with_manager()
    approvers = [manager]
    for _index in range(3):
        delegate = factories.UserFactory()
        factories.attach(delegate, structure)
        factories.grant(delegate, structure, "ORGANISATION", Level.MODIFICATION)
        approvers.append(delegate)
    approval = pending_attachment(structure, requester=factories.UserFactory(email="demandeur@exemple.fr"))
    attempts = []
    for index in range(ATTEMPTS):
        client = logged_in(approvers[index % len(approvers)])
        if index % 2:
            attempts.append(
                post(client, reverse("approvals:refuse", args=[approval.pk]), {"reason": "Inconnu"})
            )
        else:
            attempts.append(post(client, reverse("approvals:approve", args=[approval.pk]), {}))

    results = race(attempts)

    # Decided, or told it was already decided (a redirect with a message), or no longer
    # among the requests left to decide.
    assert {status for status, _page in results} <= {302, 404}
    approval.refresh_from_db()
    assert approval.status in (ApprovalRequest.Status.APPROUVEE, ApprovalRequest.Status.REFUSEE)
    assert AuditEvent.objects.filter(action__in=["approval_approve", "approval_refuse"]).count() == 1
    expected = (
        Membership.Status.VALIDEE
        if approval.status == ApprovalRequest.Status.APPROUVEE
        else Membership.Status.REFUSEE
    )
    assert list(Membership.objects.filter(user=approval.requester).values_list("status", flat=True)) == [
        expected
    ]
    assert_chain_intact()


def test_twenty_first_comers_on_an_empty_structure_make_one_principal_manager(catalogue):
    structure = factories.StructureFactory()
    assert structure.awaits_principal_manager
    newcomers = [factories.UserFactory() for _index in range(ATTEMPTS)]
    url = reverse("approvals:request_attachment")
    attempts = [
        post(logged_in(user), url, {"identifiant": structure.identifier, "structure": structure.pk})
        for user in newcomers
    ]

    results = race(attempts)

    # Every request is taken: one granted at once, the others wait for the new manager.
    assert [status for status, _page in results] == [302] * ATTEMPTS
    structure.refresh_from_db()
    assert structure.is_active
    assert structure.principal_manager in newcomers
    granted = ApprovalRequest.objects.get(granted_at_once=True)
    assert granted.requester == structure.principal_manager
    assert ApprovalRequest.objects.filter(status=ApprovalRequest.Status.EN_ATTENTE).count() == ATTEMPTS - 1
    memberships = Membership.objects.filter(structure=structure)
    assert list(memberships.filter(status=Membership.Status.VALIDEE).values_list("user", flat=True)) == [
        structure.principal_manager.pk
    ]
    assert memberships.filter(status=Membership.Status.EN_COURS_DE_VALIDATION).count() == ATTEMPTS - 1
    takers = [
        event
        for event in AuditEvent.objects.filter(action="membership_attach")
        if "principal_manager" in event.changes
    ]
    assert len(takers) == 1
    assert_chain_intact()


def test_twenty_submits_of_the_same_habilitation_grant_it_once(catalogue):
    structure, manager = structure_with_manager()
    user = factories.UserFactory(email="simple@exemple.fr")
    factories.attach(user, structure)
    wanted = Profile.objects.get(application__code="FACTURE_RECUE", level=Level.MODIFICATION)
    url = f"{reverse('users:habilitations')}?structure={structure.pk}&user={user.pk}"
    pick = {"profil-application": str(wanted.application_id), "profil-level": str(int(wanted.level))}
    attempts = []
    for _index in range(ATTEMPTS):
        # Each manager's tab staged the same profile; all press Soumettre at once.
        client = logged_in(manager)
        token = _staged(client.post(url, {"staged": "", "action": "add"}))
        token = _staged(client.post(url, {"staged": token, "action": "stage", "picker": "add", **pick}))
        attempts.append(post(client, url, {"staged": token}))

    results = race(attempts)

    statuses = [status for status, _page in results]
    assert statuses.count(302) == 1, statuses
    refused = [page for status, page in results if status != 302]
    assert len(refused) == ATTEMPTS - 1
    assert all(
        "L’utilisateur possède déjà le profil sélectionné" in page or "Aucune modification" in page
        for page in refused
    )
    assert Habilitation.objects.filter(user=user, structure=structure, profile=wanted).count() == 1
    assert AuditEvent.objects.filter(action="habilitations_change").count() == 1
    assert_chain_intact()


def _staged(response):
    assert response.status_code == 200, response.status_code
    return html.unescape(re.search(r'name="staged" value="([^"]*)"', response.content.decode()).group(1))


def test_twenty_answers_to_a_solution_move_the_ticket_once(catalogue):
    if not SubCategory.objects.exists():
        import_module("support.migrations.0002_categories").seed_support(apps, None)
    from tests.support.test_tickets import make_ticket

    structure, _manager = structure_with_manager()
    requester = factories.UserFactory(email="demandeur@exemple.fr")
    factories.attach(requester, structure)
    agent = factories.UserFactory(email="agent@exemple.fr", is_staff=True)
    ticket = make_ticket(requester, Ticket.Status.RESOLU, structure=structure, assigned_to=agent)
    accept, refuse = (
        reverse(name, args=[ticket.pk]) for name in ("support:ticket_accept", "support:ticket_refuse")
    )
    attempts = [
        post(logged_in(requester), accept, {"message": ""})
        if index % 2
        else post(logged_in(requester), refuse, {"message": "La solution ne convient pas."})
        for index in range(ATTEMPTS)
    ]

    results = race(attempts)

    statuses = [status for status, _page in results]
    assert statuses.count(302) == 1, statuses
    # Refused by the page (the ticket already moved) or under the lock (it moved meanwhile).
    assert all("Action impossible : le ticket est" in page for status, page in results if status != 302)
    ticket.refresh_from_db()
    moves = list(ticket.events.filter(kind=TicketEvent.Kind.STATUS).values_list("from_status", "to_status"))
    assert moves == [(Ticket.Status.RESOLU, ticket.status)]
    assert ticket.status in (Ticket.Status.CLOTURE, Ticket.Status.EN_COURS)
    assert AuditEvent.objects.filter(action__in=["ticket_accept", "ticket_refuse"]).count() == 1
    assert_chain_intact()


# New tickets: each submission takes the next number of the year.


def seeded_support():
    """Transactional tests empty every table: put the support categories back."""
    if not SubCategory.objects.exists():
        import_module("support.migrations.0002_categories").seed_support(apps, None)


def ticket_form_data():
    from tests.support.test_tickets import submit_data

    return submit_data()


def assert_numbered_without_gap(count):
    """Every ticket kept, each with its own number, 1 to `count` in its year."""
    tickets = list(Ticket.objects.order_by("number"))
    assert len(tickets) == count
    for sequence, ticket in enumerate(tickets, start=1):
        assert ticket.status == Ticket.Status.SOUMIS
        assert ticket.number == f"T-{ticket.submitted_at.year}-{sequence:06d}"
    assert AuditEvent.objects.filter(action__in=["ticket_submit", "chat_to_ticket"]).count() == count


def test_twenty_users_submitting_tickets_or_drafts_at_once_each_get_the_next_number(catalogue):
    seeded_support()
    from tests.support.test_tickets import make_ticket

    users = [factories.UserFactory() for _index in range(ATTEMPTS)]
    # Half create a ticket and submit it at once, half submit the draft they saved.
    attempts = []
    for index, user in enumerate(users):
        if index % 2:
            url = reverse("support:ticket_create")
        else:
            draft = make_ticket(user, Ticket.Status.BROUILLON, description="")
            url = reverse("support:ticket_edit", args=[draft.pk])
        attempts.append(post(logged_in(user), url, ticket_form_data()))

    results = race(attempts)

    assert [status for status, _page in results] == [302] * ATTEMPTS
    assert_numbered_without_gap(ATTEMPTS)
    assert sorted(Ticket.objects.values_list("requester", flat=True)) == sorted(user.pk for user in users)
    assert_chain_intact()


def public_form_post(client, email):
    """What a browser does: load the form, answer the question it shows, send it."""
    page = html.unescape(client.get(reverse("support:public_ticket")).content.decode())
    a, b = map(int, re.search(r"combien font (\d+) \+ (\d+)", page).groups())
    challenge = re.search(r'name="challenge" value="([^"]*)"', page).group(1)
    sub = SubCategory.objects.filter(is_active=True, category__is_active=True).order_by("pk").first()
    data = {
        "category": sub.category_id,
        "subcategory": sub.pk,
        "email": email,
        "title": "Je ne peux plus me connecter",
        "description": "Mon compte est bloqué depuis hier.",
        "answer": str(a + b),
        "challenge": challenge,
        "website": "",
    }
    return post(client, reverse("support:public_ticket"), data)


def test_twenty_visitors_sending_the_logged_out_form_at_once_are_all_recorded(catalogue):
    seeded_support()
    # Twenty people, each from their own connection and with their own email address, each
    # with the form they loaded.
    attempts = [
        public_form_post(Client(REMOTE_ADDR=f"203.0.113.{index + 1}"), f"visiteur{index}@exemple.fr")
        for index in range(ATTEMPTS)
    ]
    # People take a few seconds to fill the form in; faster is refused as a robot.
    time.sleep(ticket_forms.MIN_FILL_SECONDS + 1)

    results = race(attempts)

    statuses = [status for status, _page in results]
    assert statuses == [302] * ATTEMPTS, [page for status, page in results if status != 302][:1]
    assert_numbered_without_gap(ATTEMPTS)
    assert not Ticket.objects.exclude(requester=None).exists()
    assert_chain_intact()


def test_chats_turned_into_tickets_while_others_submit_the_form_all_get_a_number(catalogue):
    seeded_support()
    theme = SubCategory.objects.filter(is_active=True).order_by("pk").first().category
    chats = []
    for _index in range(ATTEMPTS // 2):
        user = factories.UserFactory()
        session = ChatSession.objects.create(user=user, theme=theme)
        ChatMessage.objects.create(session=session, author=user, body="Ma facture est bloquée.")
        chats.append(session)
    attempts = [
        post(logged_in(session.user), reverse("support:chat_to_ticket", args=[session.pk]), {})
        for session in chats
    ]
    # The ticket form at the same moment: both paths take numbers from the same counter.
    form_users = [factories.UserFactory() for _index in range(ATTEMPTS - len(chats))]
    attempts += [
        post(logged_in(user), reverse("support:ticket_create"), ticket_form_data()) for user in form_users
    ]

    results = race(attempts)

    assert [status for status, _page in results] == [302] * ATTEMPTS
    assert_numbered_without_gap(ATTEMPTS)
    for session in chats:
        session.refresh_from_db()
        assert session.status == ChatSession.Status.TERMINE
        assert session.ticket.requester == session.user
    assert_chain_intact()
