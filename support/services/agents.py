"""What support agents do to a ticket: take it, reply, ask for information, propose a
solution, transfer it to another queue, write an internal note.

Each action is a keyword-only function that locks the ticket, checks that the agent
holds it and that its status allows the action, changes status only through the
status machine (support.services.workflow), writes the Activité entries and, except for
internal notes, the audit row and an email to the requester once the transaction
commits. A refused action
raises ActionRefused (a TransitionRefused, with a French `.message`) and changes nothing.
"""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from chorus import audit
from chorus.actions import AuditAction
from core import mail
from support.models import Queue, Ticket, TicketEvent
from support.selectors import agents as agent_selectors
from support.services import workflow

S = Ticket.Status

# The actions of the ticket page, as the views and templates name them.
REPLY = "reply"
REQUEST_INFORMATION = "request_information"
PROPOSE_SOLUTION = "propose_solution"
TRANSFER = "transfer"
NOTE = "note"

# Actions that move the ticket: where to, and what the trail records.
TARGET_STATUS = {REQUEST_INFORMATION: S.EN_ATTENTE_INFORMATION, PROPOSE_SOLUTION: S.RESOLU}
RECORDED_AS = {
    REQUEST_INFORMATION: AuditAction.TICKET_REQUEST_INFORMATION,
    PROPOSE_SOLUTION: AuditAction.TICKET_PROPOSE_SOLUTION,
}
# Actions that keep the status, and the statuses in which they make sense.
OPEN_STATUSES = {S.EN_COURS, S.EN_ATTENTE_INFORMATION, S.RESOLU}
ALLOWED_STATUSES = {
    REPLY: OPEN_STATUSES,
    TRANSFER: {S.SOUMIS, *OPEN_STATUSES},
    NOTE: {S.SOUMIS, *OPEN_STATUSES, S.CLOTURE},
}

NOT_ASSIGNED = _("Affectez-vous d’abord ce ticket.")
MESSAGE_REQUIRED = _("Le message est obligatoire.")
MAX_MESSAGE_LENGTH = 5000


class ActionRefused(workflow.TransitionRefused):
    """An agent action refused before anything changed."""


def _status_refusal(ticket):
    return _("Action impossible : le ticket est « %(status)s ».") % {"status": ticket.get_status_display()}


def refusal(ticket, agent, action) -> str:
    """Why this agent cannot do this action on this ticket now, or an empty string.
    The views use it to offer only what is possible; the services check it again
    under the ticket's lock."""
    if ticket.assigned_to_id != agent.pk:
        return str(NOT_ASSIGNED)
    if action in TARGET_STATUS:
        if TARGET_STATUS[action] not in workflow.allowed_targets(ticket.status, workflow.AGENT):
            return str(_status_refusal(ticket))
    elif ticket.status not in ALLOWED_STATUSES[action]:
        return str(_status_refusal(ticket))
    return ""


def available_actions(ticket, agent) -> list[str]:
    return [
        action
        for action in (REPLY, REQUEST_INFORMATION, PROPOSE_SOLUTION, TRANSFER, NOTE)
        if not refusal(ticket, agent, action)
    ]


def assign_refusal(ticket, agent) -> str:
    if ticket.status == S.CLOTURE:
        return str(_("Ce ticket est clôturé : il ne peut plus être affecté."))
    if ticket.assigned_to_id == agent.pk:
        return str(_("Ce ticket vous est déjà affecté."))
    return ""


def _lock(ticket_id) -> Ticket:
    return agent_selectors.agent_tickets().select_for_update().get(pk=ticket_id)


def _check(ticket, agent, action):
    reason = refusal(ticket, agent, action)
    if reason:
        raise ActionRefused(reason)


def _clean_message(message) -> str:
    message = (message or "").strip()
    if not message:
        raise ActionRefused(MESSAGE_REQUIRED)
    if len(message) > MAX_MESSAGE_LENGTH:
        raise ActionRefused(
            _("Le message ne doit pas dépasser %(max)d caractères.") % {"max": MAX_MESSAGE_LENGTH}
        )
    return message


def _touch(ticket):
    ticket.last_activity_at = timezone.now()
    ticket.save(update_fields=["last_activity_at"])


def _audit(agent, ticket, action, before):
    """What changed, never the message itself: the structure's administrators read
    this trail in its history."""
    audit.record(actor=agent, obj=ticket, action=action, changes=audit.diff(before, _state(ticket)))


def _state(ticket) -> dict:
    return {"status": ticket.status, "assigned_to": ticket.assigned_to_id, "queue": ticket.queue_id}


def _notify_requester(ticket, template, **context):
    """The requester hears of every agent action but internal notes, at the contact
    address of the ticket (the only one a ticket filed without an account has)."""
    mail.send_templated(
        template=template,
        to=[ticket.contact_email],
        context={"ticket": ticket, "has_account": ticket.requester_id is not None, **context},
    )


@transaction.atomic
def ticket_assign(*, ticket_id: int, agent, replacing_id: int | None = None) -> Ticket:
    """M’affecter: the agent takes the ticket; a submitted ticket goes to EN_COURS.

    `replacing_id` is the agent the ticket was assigned to when the page was shown: if
    someone else took it meanwhile, the agent is told instead of silently taking it."""
    ticket = _lock(ticket_id)
    reason = assign_refusal(ticket, agent)
    if reason:
        raise ActionRefused(reason)
    if ticket.assigned_to_id is not None and ticket.assigned_to_id != replacing_id:
        raise ActionRefused(
            _("Ce ticket vient d’être affecté à %(agent)s : vérifiez-le avant de le reprendre.")
            % {"agent": ticket.assigned_to}
        )
    before, previous = _state(ticket), ticket.assigned_to
    ticket.assigned_to = agent
    ticket.save(update_fields=["assigned_to"])
    body = _("Repris à %(agent)s.") % {"agent": previous} if previous else ""
    TicketEvent.objects.create(ticket=ticket, author=agent, kind=TicketEvent.Kind.ASSIGN, body=body)
    if ticket.status == S.SOUMIS:
        ticket = workflow.ticket_transition(
            ticket_id=ticket.pk, actor=agent, role=workflow.AGENT, to_status=S.EN_COURS
        )
    else:
        _touch(ticket)
    _audit(agent, ticket, AuditAction.TICKET_ASSIGN, before)
    _notify_requester(ticket, "support/email/agent_assign")
    return ticket


@transaction.atomic
def ticket_reply(*, ticket_id: int, agent, message: str) -> Ticket:
    """Répondre: a message to the requester; the status does not change."""
    ticket = _lock(ticket_id)
    _check(ticket, agent, REPLY)
    message = _clean_message(message)
    TicketEvent.objects.create(ticket=ticket, author=agent, kind=TicketEvent.Kind.MESSAGE, body=message)
    _touch(ticket)
    audit.record(actor=agent, obj=ticket, action=AuditAction.TICKET_REPLY)
    _notify_requester(ticket, "support/email/agent_reply", message=message)
    return ticket


def _move(ticket_id, agent, action, message, template) -> Ticket:
    ticket = _lock(ticket_id)
    _check(ticket, agent, action)
    message = _clean_message(message)
    before = _state(ticket)
    ticket = workflow.ticket_transition(
        ticket_id=ticket.pk,
        actor=agent,
        role=workflow.AGENT,
        to_status=TARGET_STATUS[action],
        message=message,
    )
    _audit(agent, ticket, RECORDED_AS[action], before)
    _notify_requester(ticket, template, message=message)
    return ticket


@transaction.atomic
def ticket_request_information(*, ticket_id: int, agent, message: str) -> Ticket:
    """Demander un complément: the ticket waits for the requester's information."""
    return _move(ticket_id, agent, REQUEST_INFORMATION, message, "support/email/agent_information")


@transaction.atomic
def ticket_propose_solution(*, ticket_id: int, agent, message: str) -> Ticket:
    """Proposer une solution: the ticket is resolved until the requester accepts or
    refuses it."""
    return _move(ticket_id, agent, PROPOSE_SOLUTION, message, "support/email/agent_solution")


@transaction.atomic
def ticket_transfer(*, ticket_id: int, agent, queue: Queue, reason: str) -> Ticket:
    """Transférer: to another queue, with a reason; nobody holds the ticket any more,
    so that an agent of that queue takes it."""
    ticket = _lock(ticket_id)
    _check(ticket, agent, TRANSFER)
    if queue.pk == ticket.queue_id:
        raise ActionRefused(_("Choisissez une file différente de la file actuelle du ticket."))
    reason = _clean_message(reason)
    before, previous = _state(ticket), ticket.queue
    ticket.queue = queue
    ticket.assigned_to = None
    ticket.last_activity_at = timezone.now()
    ticket.save(update_fields=["queue", "assigned_to", "last_activity_at"])
    TicketEvent.objects.create(
        ticket=ticket,
        author=agent,
        kind=TicketEvent.Kind.TRANSFER,
        body=_("Transféré de « %(from)s » à « %(to)s » : %(reason)s")
        % {"from": previous, "to": queue, "reason": reason},
    )
    _audit(agent, ticket, AuditAction.TICKET_TRANSFER, before)
    _notify_requester(ticket, "support/email/agent_transfer", queue=queue, reason=reason)
    return ticket


@transaction.atomic
def ticket_add_note(*, ticket_id: int, agent, body: str) -> TicketEvent:
    """Note interne: for agents only; the requester neither sees it nor hears of it,
    and it does not count as activity on the ticket. Its audit record names the note,
    not the ticket, and leaves its text out: the structure's history, which the
    requester's administrators read, does not show it."""
    ticket = _lock(ticket_id)
    _check(ticket, agent, NOTE)
    body = _clean_message(body)
    note = TicketEvent.objects.create(
        ticket=ticket, author=agent, kind=TicketEvent.Kind.NOTE, body=body, is_internal=True
    )
    audit.record(actor=agent, obj=note, action=AuditAction.TICKET_NOTE, changes={"ticket": ticket.number})
    return note
