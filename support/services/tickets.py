"""Support tickets, the requester's side: drafts, submission, complements, accepting or
refusing the solution, closing, rating; the logged-out form; the automatic closing of
resolved tickets left unanswered. What the requester reads is in support.selectors.tickets.

Every status change goes through the status machine (support.services.workflow). Each function
here is keyword-only, locks the ticket it changes, refuses a wrong starting state by
raising (nothing changed), writes the audit trail and sends its emails on commit.
"""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from chorus import audit
from chorus.actions import AuditAction
from core import mail
from core.errors import Refused
from support.models import Rating, Ticket, TicketAttachment, TicketEvent
from support.selectors import tickets as ticket_selectors
from support.services import workflow

S = Ticket.Status

# The fields a requester fills in (the rest is derived: object type, queue).
FIELDS = (
    "category",
    "subcategory",
    "structure",
    "contact_email",
    "phone",
    "object_number",
    "title",
    "summary",
    "description",
)

RELATED_FIELDS = ("category", "subcategory", "structure")

# Settings-free: part of the product, documented in the command's help.
AUTOCLOSE_DAYS = 10


class TicketError(Refused):
    """What a requester cannot do now; `message` is French, for the user."""


def missing_for_submission(ticket) -> list[str]:
    """What a ticket still lacks to be submitted (the form says it field by field;
    this is the last check, under the lock)."""
    missing = []
    if ticket.category_id is None:
        missing.append(str(_("la catégorie")))
    if ticket.subcategory_id is None:
        missing.append(str(_("la sous-catégorie")))
    if not ticket.title.strip():
        missing.append(str(_("le titre")))
    if not ticket.description.strip():
        missing.append(str(_("la description")))
    if not ticket.contact_email:
        missing.append(str(_("l’adresse de contact")))
    return missing


# Drafts and submission


def _snapshot(ticket) -> dict:
    return {name: getattr(ticket, name) for name in FIELDS}


def _store_files(ticket, files, *, uploader, event=None) -> list[TicketAttachment]:
    """Store checked uploads (pairs of the uploaded file and what the validator found)."""
    stored = []
    for uploaded, checked in files:
        attachment = TicketAttachment(
            ticket=ticket,
            event=event,
            original_name=checked.name,
            content_type=checked.content_type,
            size=checked.size,
            uploaded_by=uploader if getattr(uploader, "is_authenticated", False) else None,
        )
        attachment.file.save(checked.name, uploaded, save=False)
        attachment.save()
        stored.append(attachment)
    return stored


def _lock_own(ticket_id, requester) -> Ticket:
    """The requester's ticket, locked; another user's ticket does not exist for them."""
    return Ticket.objects.select_for_update().get(pk=ticket_id, requester=requester)


@transaction.atomic
def ticket_save(
    *,
    requester,
    data: dict,
    files=(),
    ticket_id: int | None = None,
    submit: bool = False,
    acknowledgement_url: str = "",
) -> Ticket:
    """Create a draft or change one (a draft may lack fields), with its new files; with
    `submit`, submit it in the same transaction: all or nothing.

    `requester` is None for the logged-out form; its acknowledgement links to
    `acknowledgement_url`."""
    if ticket_id is None:
        ticket, before, action = (
            Ticket(requester=requester, status=S.BROUILLON),
            {},
            AuditAction.TICKET_CREATE,
        )
    else:
        ticket = _lock_own(ticket_id, requester)
        if ticket.status != S.BROUILLON:
            raise TicketError(_("Ce ticket a déjà été soumis : il ne peut plus être modifié."))
        before, action = _snapshot(ticket), AuditAction.TICKET_UPDATE
    for name in FIELDS:
        value = data.get(name)
        setattr(ticket, name, value if name in RELATED_FIELDS else (value or "").strip())
    if ticket.subcategory is not None and ticket.subcategory.category_id != ticket.category_id:
        raise TicketError(_("Cette sous-catégorie n’appartient pas à la catégorie choisie."))
    ticket.object_type = ticket.subcategory.object_type if ticket.subcategory else ""
    ticket.queue = ticket_selectors.route(ticket.subcategory)
    ticket.last_activity_at = timezone.now()
    ticket.save()
    stored = _store_files(ticket, files, uploader=requester)
    changes = audit.diff(before, _snapshot(ticket))
    if stored:
        changes["attachments"] = [attachment.original_name for attachment in stored]
    if submit:
        # One record for the action: the submission carries what was saved with it.
        return _submit(ticket, requester, changes=changes, acknowledgement_url=acknowledgement_url)
    audit.record(actor=requester, obj=ticket, action=action, changes=changes)
    return ticket


def _submit(ticket, actor, *, changes=None, acknowledgement_url="") -> Ticket:
    missing = missing_for_submission(ticket)
    if missing:
        raise TicketError(
            _("Le ticket ne peut pas être soumis : renseignez %(fields)s.") % {"fields": ", ".join(missing)}
        )
    if ticket.queue_id is None:
        raise TicketError(
            _("Aucune file du support ne reçoit cette sous-catégorie : contactez l’assistance.")
        )
    ticket = workflow.ticket_transition(
        ticket_id=ticket.pk, actor=actor, role=workflow.REQUESTER, to_status=S.SOUMIS
    )
    audit.record(
        actor=actor,
        obj=ticket,
        action=AuditAction.TICKET_SUBMIT,
        changes={**(changes or {}), "number": ticket.number},
    )
    mail.send_templated(
        template="support/email/ticket_submitted",
        to=[ticket.contact_email],
        context={
            "ticket": ticket,
            "queue": ticket.queue,
            "has_account": ticket.requester_id is not None,
            "acknowledgement_url": acknowledgement_url,
        },
    )
    return ticket


@transaction.atomic
def ticket_delete_draft(*, ticket_id: int, requester) -> None:
    """A draft is the requester's own: deleting it leaves nothing but the audit row."""
    ticket = _lock_own(ticket_id, requester)
    if ticket.status != S.BROUILLON:
        raise TicketError(_("Seul un brouillon peut être supprimé."))
    files = [(attachment.file.storage, attachment.file.name) for attachment in ticket.attachments.all()]
    audit.record(
        actor=requester, obj=ticket, action=AuditAction.TICKET_DELETE, changes={"title": ticket.title}
    )
    ticket.delete()

    def delete_files():
        for storage, name in files:
            storage.delete(name)

    transaction.on_commit(delete_files)


# The requester's answers


def _notify_agent(ticket, *, what, message=""):
    """The agent holding the ticket hears when the requester answers; a ticket nobody
    holds waits in its queue."""
    agent = ticket.assigned_to
    if agent is None or not agent.is_active:
        return
    mail.send_templated(
        template="support/email/ticket_requester_answer",
        to=[agent.notification_email],
        context={"ticket": ticket, "agent": agent, "what": what, "message": message},
    )


def _requester_move(ticket_id, requester, verb, to_status, message, *, action, what) -> Ticket:
    locked = _lock_own(ticket_id, requester)
    if verb not in workflow.requester_actions(locked.status):
        # Checked under the lock: the page was read before another tab moved the ticket
        # (accepting a solution just refused would close a ticket back with the support).
        raise TicketError(
            _("Action impossible : le ticket est « %(status)s ».") % {"status": locked.get_status_display()}
        )
    ticket = workflow.ticket_transition(
        ticket_id=ticket_id, actor=requester, role=workflow.REQUESTER, to_status=to_status, message=message
    )
    audit.record(actor=requester, obj=ticket, action=action, changes={"status": to_status})
    _notify_agent(ticket, what=what, message=message)
    return ticket


@transaction.atomic
def ticket_answer(*, ticket_id: int, requester, message: str, files=()) -> Ticket:
    """Apporter un complément d’information: the ticket goes back to the support, with
    the requester's message and files in its Activité."""
    message = (message or "").strip()
    if not message:
        raise TicketError(_("Écrivez votre complément d’information."))
    ticket = _requester_move(
        ticket_id,
        requester,
        workflow.ANSWER,
        S.EN_COURS,
        message,
        action=AuditAction.TICKET_ANSWER,
        what=_("a apporté le complément d’information demandé"),
    )
    if files:
        event = ticket.events.filter(kind=TicketEvent.Kind.MESSAGE).order_by("-created_at", "-id").first()
        _store_files(ticket, files, uploader=requester, event=event)
    return ticket


@transaction.atomic
def ticket_accept(*, ticket_id: int, requester, message: str = "") -> Ticket:
    """Accepter la solution: the ticket is closed."""
    return _requester_move(
        ticket_id,
        requester,
        workflow.ACCEPT,
        S.CLOTURE,
        (message or "").strip(),
        action=AuditAction.TICKET_ACCEPT,
        what=_("a accepté la solution proposée : le ticket est clôturé"),
    )


@transaction.atomic
def ticket_refuse(*, ticket_id: int, requester, message: str) -> Ticket:
    """Refuser la solution: back to the support, with the requester's comment."""
    message = (message or "").strip()
    if not message:
        raise TicketError(_("Expliquez pourquoi la solution ne vous convient pas."))
    return _requester_move(
        ticket_id,
        requester,
        workflow.REFUSE,
        S.EN_COURS,
        message,
        action=AuditAction.TICKET_REFUSE,
        what=_("a refusé la solution proposée"),
    )


@transaction.atomic
def ticket_close(*, ticket_id: int, requester, message: str = "") -> Ticket:
    """Clôturer: the requester no longer needs the support's help."""
    ticket = _lock_own(ticket_id, requester)
    if ticket.status == S.RESOLU:
        # A proposed solution is accepted or refused, not merely closed.
        raise TicketError(_("Une solution vous a été proposée : acceptez-la ou refusez-la."))
    return _requester_move(
        ticket_id,
        requester,
        workflow.CLOSE,
        S.CLOTURE,
        (message or "").strip(),
        action=AuditAction.TICKET_CLOSE,
        what=_("a clôturé le ticket"),
    )


@transaction.atomic
def ticket_rate(*, ticket_id: int, requester, score: int, comment: str = "") -> Rating:
    """Satisfaction: once, on a closed ticket, from 1 to 5."""
    ticket = _lock_own(ticket_id, requester)
    if workflow.RATE not in workflow.requester_actions(ticket.status):
        raise TicketError(_("Vous pourrez évaluer la réponse du support une fois le ticket clôturé."))
    if Rating.objects.filter(ticket=ticket).exists():
        raise TicketError(
            _("Vous avez déjà évalué ce ticket : une évaluation ne peut être donnée qu’une fois.")
        )
    if score not in range(1, 6):
        raise TicketError(_("Choisissez une note de 1 à 5."))
    rating = Rating.objects.create(ticket=ticket, score=score, comment=(comment or "").strip())
    audit.record(actor=requester, obj=ticket, action=AuditAction.TICKET_RATE, changes={"score": score})
    return rating


# Automatic closing


def tickets_autoclose(*, days: int = AUTOCLOSE_DAYS, now=None) -> list[str]:
    """Close the resolved tickets with no activity for `days` days, through the status
    machine ("system"). Each ticket in its own transaction, checked again under its
    lock: one answered in the meantime stays open. Returns the numbers closed."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=days)
    candidates = Ticket.objects.filter(status=S.RESOLU, last_activity_at__lt=cutoff).order_by("pk")
    closed = []
    message = _(
        "Ticket clôturé automatiquement : la solution proposée est restée sans réponse "
        "pendant %(days)d jours."
    ) % {"days": days}
    for ticket_id in candidates.values_list("pk", flat=True):
        with transaction.atomic():
            still_due = Ticket.objects.select_for_update().filter(
                pk=ticket_id, status=S.RESOLU, last_activity_at__lt=cutoff
            )
            if not still_due.exists():
                continue
            ticket = workflow.ticket_transition(
                ticket_id=ticket_id,
                actor=None,
                role=workflow.SYSTEM,
                to_status=S.CLOTURE,
                message=str(message),
            )
            audit.record(actor=None, obj=ticket, action=AuditAction.TICKET_AUTOCLOSE, changes={"days": days})
            mail.send_templated(
                template="support/email/ticket_autoclosed",
                to=[ticket.contact_email],
                context={"ticket": ticket, "days": days, "has_account": ticket.requester_id is not None},
            )
            closed.append(ticket.number)
    return closed
