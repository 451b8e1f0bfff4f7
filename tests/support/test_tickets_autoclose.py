"""support_autoclose: resolved tickets left unanswered for --days days (10 by default)
are closed through the status machine, and only those."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from support.models import Ticket
from tests import factories
from tests.support.test_tickets import make_ticket

S = Ticket.Status


def _aged(ticket, days):
    Ticket.objects.filter(pk=ticket.pk).update(last_activity_at=timezone.now() - timedelta(days=days))
    return ticket


def test_resolved_tickets_without_activity_are_closed_after_ten_days(
    db, mailoutbox, django_capture_on_commit_callbacks
):
    requester = factories.UserFactory(email="demandeur@exemple.fr")
    due = _aged(make_ticket(requester, S.RESOLU), 11)
    recent = _aged(make_ticket(requester, S.RESOLU), 9)
    waiting = _aged(make_ticket(requester, S.EN_ATTENTE_INFORMATION), 30)
    out = StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("support_autoclose", stdout=out)
    assert "1 ticket(s) clôturé(s) automatiquement." in out.getvalue()
    assert due.number in out.getvalue()
    due.refresh_from_db()
    assert due.status == S.CLOTURE
    assert due.closed_at is not None
    status_event = due.events.get(kind="STATUS")
    assert (status_event.from_status, status_event.to_status, status_event.author) == (
        S.RESOLU,
        S.CLOTURE,
        None,
    )
    assert "sans réponse pendant 10 jours" in due.events.get(kind="MESSAGE").body
    assert Ticket.objects.get(pk=recent.pk).status == S.RESOLU
    assert Ticket.objects.get(pk=waiting.pk).status == S.EN_ATTENTE_INFORMATION
    assert [mail.to for mail in mailoutbox] == [["demandeur@exemple.fr"]]
    assert due.number in mailoutbox[0].subject

    # Run again: nothing more to close.
    out = StringIO()
    call_command("support_autoclose", stdout=out)
    assert "0 ticket(s)" in out.getvalue()


def test_days_option(db):
    requester = factories.UserFactory()
    ticket = _aged(make_ticket(requester, S.RESOLU), 4)
    call_command("support_autoclose", "--days", "5", stdout=StringIO())
    assert Ticket.objects.get(pk=ticket.pk).status == S.RESOLU
    call_command("support_autoclose", "--days", "3", stdout=StringIO())
    assert Ticket.objects.get(pk=ticket.pk).status == S.CLOTURE


def test_days_must_be_positive(db):
    with pytest.raises(CommandError, match="au moins 1"):
        call_command("support_autoclose", "--days", "0", stdout=StringIO())


def test_ticket_answered_in_the_meantime_stays_open(db, monkeypatch):
    """The candidates are read first, then each is checked again under its lock."""
    from support.services import tickets as ticket_services

    requester = factories.UserFactory()
    ticket = _aged(make_ticket(requester, S.RESOLU), 20)
    original = ticket_services.Ticket.objects.filter

    def filter_then_answer(*args, **kwargs):
        queryset = original(*args, **kwargs)
        if kwargs.get("status") == S.RESOLU and "pk" not in kwargs:
            ids = list(queryset.values_list("pk", flat=True))
            # The requester writes just after the command listed the ticket.
            Ticket.objects.filter(pk=ticket.pk).update(last_activity_at=timezone.now())
            return original(pk__in=ids).order_by("pk")
        return queryset

    monkeypatch.setattr(ticket_services.Ticket.objects, "filter", filter_then_answer)
    assert ticket_services.tickets_autoclose(days=10) == []
    monkeypatch.undo()
    assert Ticket.objects.get(pk=ticket.pk).status == S.RESOLU
