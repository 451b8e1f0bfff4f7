"""The ticket status machine: every allowed transition, who may make it, in one place."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.errors import Refused
from support.models import Ticket, TicketCounter, TicketEvent

S = Ticket.Status

REQUESTER, AGENT, SYSTEM = "requester", "agent", "system"

# (from, to) -> the roles allowed to make that move.
TRANSITIONS = {
    (S.BROUILLON, S.SOUMIS): {REQUESTER},
    (S.SOUMIS, S.EN_COURS): {AGENT},
    (S.EN_COURS, S.EN_ATTENTE_INFORMATION): {AGENT},
    (S.EN_ATTENTE_INFORMATION, S.EN_COURS): {REQUESTER},  # the requester brings the information
    (S.EN_COURS, S.RESOLU): {AGENT},
    (S.RESOLU, S.CLOTURE): {REQUESTER, SYSTEM},  # solution accepted, or no answer in time
    (S.RESOLU, S.EN_COURS): {REQUESTER},  # solution refused, with a comment
    (S.SOUMIS, S.CLOTURE): {REQUESTER},
    (S.EN_COURS, S.CLOTURE): {REQUESTER},
    (S.EN_ATTENTE_INFORMATION, S.CLOTURE): {REQUESTER},
}


class TransitionRefused(Refused):
    """A move the machine does not allow; `message` is for the user, in French."""


# What the requester does on their ticket, as the pages and the services name it.
ANSWER, ACCEPT, REFUSE, CLOSE, RATE = "answer", "accept", "refuse", "close", "rate"


def allowed_targets(status, role) -> list[str]:
    return [to for (frm, to), roles in TRANSITIONS.items() if frm == status and role in roles]


def requester_actions(status) -> list[str]:
    """The requester's actions on a ticket in this status, read from TRANSITIONS: from a
    proposed solution, closing is accepting it and going back to the support is refusing
    it; from any other status, going back to the support is bringing the information
    asked for. A closed ticket can be rated (once: the service checks it)."""
    actions = []
    for target in allowed_targets(status, REQUESTER):
        if target == S.CLOTURE:
            actions.append(ACCEPT if status == S.RESOLU else CLOSE)
        elif target == S.EN_COURS:
            actions.append(REFUSE if status == S.RESOLU else ANSWER)
    if status == S.CLOTURE:
        actions.append(RATE)
    return actions


def next_number(now=None) -> str:
    """T-<year>-<6 digits>, counted per year without gap. Must run inside the submitting
    transaction: it locks the year's counter until that transaction ends, so submissions
    take their numbers one after the other and one that rolls back gives its number back.
    Take it before any audit record (see chorus.audit): the order of the locks is the
    same for every writer."""
    year = (now or timezone.now()).year
    counter = TicketCounter.objects.select_for_update().filter(year=year).first()
    if counter is None:
        # The year's first submission: of two at once, one creates the row, the other
        # waits for it (no error), then both lock it.
        TicketCounter.objects.bulk_create([TicketCounter(year=year)], ignore_conflicts=True)
        counter = TicketCounter.objects.select_for_update().get(year=year)
    counter.last = max(counter.last, _last_given(year)) + 1
    counter.save(update_fields=["last"])
    return f"T-{year}-{counter.last:06d}"


def _last_given(year) -> int:
    """The highest number of the year on a ticket: tickets loaded in bulk (the scale
    generator) bypass the counter, which must never hand out one of theirs again."""
    last = (
        Ticket.objects.filter(number__startswith=f"T-{year}-")
        .order_by("-number")
        .values_list("number", flat=True)
        .first()
    )
    return int(last.rsplit("-", 1)[1]) if last else 0


@transaction.atomic
def ticket_transition(*, ticket_id: int, actor, role: str, to_status: str, message: str = "") -> Ticket:
    """Move a ticket to another status, or refuse and change nothing.

    Locks the ticket, checks the transition against TRANSITIONS, stamps the dates, and
    writes the Activité entries (the status change, and the accompanying message)."""
    ticket = Ticket.objects.select_for_update().get(pk=ticket_id)
    roles = TRANSITIONS.get((ticket.status, to_status))
    if not roles or role not in roles:
        raise TransitionRefused(
            _("Action impossible : le ticket est « %(status)s ».") % {"status": ticket.get_status_display()}
        )
    now = timezone.now()
    before = ticket.status
    ticket.status = to_status
    ticket.last_activity_at = now
    fields = ["status", "last_activity_at"]
    if to_status == S.SOUMIS and ticket.submitted_at is None:
        ticket.submitted_at = now
        ticket.number = next_number(now)
        fields += ["submitted_at", "number"]
    if to_status == S.RESOLU:
        ticket.resolved_at = now
        fields.append("resolved_at")
    if to_status == S.CLOTURE:
        ticket.closed_at = now
        fields.append("closed_at")
    ticket.save(update_fields=fields)
    author = actor if getattr(actor, "is_authenticated", False) else None
    if message:
        TicketEvent.objects.create(ticket=ticket, author=author, kind=TicketEvent.Kind.MESSAGE, body=message)
    TicketEvent.objects.create(
        ticket=ticket, author=author, kind=TicketEvent.Kind.STATUS, from_status=before, to_status=to_status
    )
    return ticket
