"""The ticket status machine (support/services/workflow.py), table-driven: every pair of statuses
for every role is either allowed, and applied with its dates and Activité entries, or
refused with a French message and nothing changed."""

import itertools
import re
from datetime import UTC, datetime
from importlib import import_module

import pytest
from django.apps import apps
from django.db import transaction
from django.utils import timezone

from chorus import audit
from support.models import Ticket, TicketCounter, TicketEvent
from support.services import tickets as ticket_services
from support.services import workflow
from tests import factories
from tests.support.test_tickets import make_ticket, subcategory

S = Ticket.Status
REQUESTER, AGENT, SYSTEM = workflow.REQUESTER, workflow.AGENT, workflow.SYSTEM
ROLES = (REQUESTER, AGENT, SYSTEM)

# The issue's status machine, written out independently of the code it checks.
ALLOWED = {
    (S.BROUILLON, S.SOUMIS): {REQUESTER},
    (S.SOUMIS, S.EN_COURS): {AGENT},
    (S.EN_COURS, S.EN_ATTENTE_INFORMATION): {AGENT},
    (S.EN_ATTENTE_INFORMATION, S.EN_COURS): {REQUESTER},
    (S.EN_COURS, S.RESOLU): {AGENT},
    (S.RESOLU, S.CLOTURE): {REQUESTER, SYSTEM},
    (S.RESOLU, S.EN_COURS): {REQUESTER},
    (S.SOUMIS, S.CLOTURE): {REQUESTER},
    (S.EN_COURS, S.CLOTURE): {REQUESTER},
    (S.EN_ATTENTE_INFORMATION, S.CLOTURE): {REQUESTER},
}

CASES = [
    pytest.param(
        before, after, role, role in ALLOWED.get((before, after), ()), id=f"{before}->{after}-{role}"
    )
    for before, after in itertools.product(S, S)
    for role in ROLES
]


def test_the_machine_is_the_issues_table():
    assert {key: set(roles) for key, roles in workflow.TRANSITIONS.items()} == ALLOWED


@pytest.mark.parametrize(("before", "after", "role", "allowed"), CASES)
def test_every_transition_is_applied_or_refused_whole(db, before, after, role, allowed):
    requester = factories.UserFactory()
    agent = factories.UserFactory(is_staff=True)
    ticket = make_ticket(requester, before)
    actor = {REQUESTER: requester, AGENT: agent, SYSTEM: None}[role]
    snapshot = Ticket.objects.values().get(pk=ticket.pk)

    if not allowed:
        with pytest.raises(workflow.TransitionRefused) as refused:
            workflow.ticket_transition(
                ticket_id=ticket.pk, actor=actor, role=role, to_status=after, message="Un message"
            )
        assert str(refused.value.message) == f"Action impossible : le ticket est « {S(before).label} »."
        assert Ticket.objects.values().get(pk=ticket.pk) == snapshot
        assert not TicketEvent.objects.exists()
        return

    moved = workflow.ticket_transition(
        ticket_id=ticket.pk, actor=actor, role=role, to_status=after, message="Un message"
    )
    moved.refresh_from_db()
    assert moved.status == after
    assert moved.last_activity_at > snapshot["last_activity_at"]
    events = list(
        moved.events.order_by("id").values_list("kind", "body", "from_status", "to_status", "author")
    )
    author = actor.pk if actor else None
    assert events == [
        ("MESSAGE", "Un message", "", "", author),
        ("STATUS", "", before, after, author),
    ]
    if after == S.SOUMIS:
        assert re.fullmatch(r"T-\d{4}-\d{6}", moved.number)
        assert moved.submitted_at is not None
    if after == S.RESOLU:
        assert moved.resolved_at is not None
    if after == S.CLOTURE:
        assert moved.closed_at is not None


@pytest.mark.parametrize(
    ("status", "role", "targets"),
    [
        (S.BROUILLON, REQUESTER, [S.SOUMIS]),
        (S.SOUMIS, AGENT, [S.EN_COURS]),
        (S.SOUMIS, REQUESTER, [S.CLOTURE]),
        (S.EN_COURS, AGENT, [S.EN_ATTENTE_INFORMATION, S.RESOLU]),
        (S.EN_ATTENTE_INFORMATION, REQUESTER, [S.EN_COURS, S.CLOTURE]),
        (S.RESOLU, REQUESTER, [S.CLOTURE, S.EN_COURS]),
        (S.RESOLU, SYSTEM, [S.CLOTURE]),
        (S.CLOTURE, REQUESTER, []),
        (S.CLOTURE, AGENT, []),
    ],
)
def test_allowed_targets(status, role, targets):
    assert sorted(workflow.allowed_targets(status, role)) == sorted(targets)


@pytest.mark.parametrize(
    ("status", "actions"),
    [
        (S.BROUILLON, []),
        (S.SOUMIS, ["close"]),
        (S.EN_COURS, ["close"]),
        (S.EN_ATTENTE_INFORMATION, ["answer", "close"]),
        (S.RESOLU, ["accept", "refuse"]),
        (S.CLOTURE, ["rate"]),
    ],
)
def test_the_requester_actions_are_read_from_the_transitions(status, actions):
    assert workflow.requester_actions(status) == actions


def test_submissions_are_numbered_in_sequence_per_year(db):
    requester = factories.UserFactory()
    first = make_ticket(requester, S.BROUILLON)
    second = make_ticket(requester, S.BROUILLON)
    first = workflow.ticket_transition(
        ticket_id=first.pk, actor=requester, role=REQUESTER, to_status=S.SOUMIS
    )
    second = workflow.ticket_transition(
        ticket_id=second.pk, actor=requester, role=REQUESTER, to_status=S.SOUMIS
    )
    year = first.submitted_at.year
    assert (first.number, second.number) == (f"T-{year}-000001", f"T-{year}-000002")


def _ticket_data():
    sub = subcategory()
    return {
        "category": sub.category,
        "subcategory": sub,
        "contact_email": "contact@exemple.fr",
        "title": "Facture bloquée",
        "description": "Ma facture reste au statut déposée.",
    }


def test_a_submission_that_fails_gives_its_number_back(db, monkeypatch):
    requester = factories.UserFactory()
    first = ticket_services.ticket_save(requester=requester, data=_ticket_data(), submit=True)
    year = first.submitted_at.year

    def broken_audit(**kwargs):
        raise RuntimeError("audit store unavailable")

    # The submission fails after its number was taken: nothing of it is kept.
    with monkeypatch.context() as patch:
        patch.setattr(audit, "record", broken_audit)
        with pytest.raises(RuntimeError):
            ticket_services.ticket_save(requester=requester, data=_ticket_data(), submit=True)
    assert Ticket.objects.count() == 1

    third = ticket_services.ticket_save(requester=requester, data=_ticket_data(), submit=True)
    assert (first.number, third.number) == (f"T-{year}-000001", f"T-{year}-000002")
    assert TicketCounter.objects.get(year=year).last == 2


def test_numbering_continues_after_tickets_loaded_without_the_counter(db):
    requester = factories.UserFactory()
    year = timezone.now().year
    # Bulk-loaded data (the scale generator) writes its numbers directly.
    make_ticket(requester, number=f"T-{year}-000041")
    draft = make_ticket(requester, S.BROUILLON)
    ticket = workflow.ticket_transition(
        ticket_id=draft.pk, actor=requester, role=REQUESTER, to_status=S.SOUMIS
    )
    assert ticket.number == f"T-{year}-000042"


def test_each_year_starts_again_at_one(db):
    make_ticket(factories.UserFactory(), number="T-2030-000005")
    with transaction.atomic():
        numbers = [
            workflow.next_number(datetime(2030, 12, 31, 23, 59, tzinfo=UTC)),
            workflow.next_number(datetime(2031, 1, 1, 0, 1, tzinfo=UTC)),
            workflow.next_number(datetime(2031, 1, 2, tzinfo=UTC)),
        ]
    assert numbers == ["T-2030-000006", "T-2031-000001", "T-2031-000002"]
    assert dict(TicketCounter.objects.values_list("year", "last")) == {2030: 6, 2031: 2}


def test_migration_starts_each_counter_at_the_years_highest_number(db):
    requester = factories.UserFactory()
    for number in ("T-2024-000007", "T-2024-000003", "T-2025-000012", "T-2025-000002"):
        make_ticket(requester, number=number)
    make_ticket(requester, S.BROUILLON)
    TicketCounter.objects.all().delete()

    import_module("support.migrations.0007_ticket_counter").seed_counters(apps, None)

    assert dict(TicketCounter.objects.values_list("year", "last")) == {2024: 7, 2025: 12}


def test_no_transition_leads_back_to_a_draft():
    # A ticket is submitted (and numbered) once.
    assert not [key for key in workflow.TRANSITIONS if key[1] == S.BROUILLON]
