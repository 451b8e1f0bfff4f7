"""Reads of support tickets that carry a rule: where a ticket is routed, what a
requester may open, and the tabs of Tickets émis (the page and its export read the same
rows). Each takes the loaded access context, or plain values."""

from dataclasses import dataclass

from django.db.models import Count, Q
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from chorus import access as policy
from chorus.codes import ApplicationCode
from chorus.models import Level
from support.models import Queue, Ticket, TicketEvent

S = Ticket.Status


def route(subcategory) -> Queue | None:
    """The queue a sub-category sends tickets to ("M…" → business support)."""
    if subcategory is None:
        return None
    return Queue.objects.filter(code=subcategory.queue_code).first()


# Tickets émis: tabs, search, filters (the page and its export read the same rows)


@dataclass(frozen=True)
class Tab:
    code: str
    label: str
    statuses: tuple = ()
    structures: bool = False  # the tickets of the structures I administer, read-only


TABS = (
    Tab("actions", _("Actions requises"), (S.EN_ATTENTE_INFORMATION, S.RESOLU)),
    Tab("en-cours", _("En cours"), (S.SOUMIS, S.EN_COURS)),
    Tab("clotures", _("Clôturés"), (S.CLOTURE,)),
    Tab("brouillons", _("Brouillons"), (S.BROUILLON,)),
    Tab("structures", _("Tickets de mes structures"), structures=True),
)
TABS_BY_CODE = {tab.code: tab for tab in TABS}
ORDERS = {"desc": ("-opened_at", "-id"), "asc": ("opened_at", "id")}


def managed_structure_ids(*, access) -> set:
    """The structures whose tickets I may read: those I administer (principal manager
    or Organisation – modification)."""
    return policy.structure_ids_for(access, ApplicationCode.ORGANISATION, Level.MODIFICATION)


def _mine(user) -> Q:
    return Q(requester=user)


def _of_my_structures(structure_ids) -> Q:
    # Drafts are their author's alone.
    return Q(structure_id__in=structure_ids) & ~Q(status=S.BROUILLON)


def visible_tickets(*, access):
    """Every ticket the user may open: their own, and (read-only) the submitted tickets
    of the structures they administer. Anything else is a 404."""
    condition = _mine(access.user)
    structure_ids = managed_structure_ids(access=access)
    if structure_ids:
        condition |= _of_my_structures(structure_ids)
    return Ticket.objects.filter(condition)


def tab_counts(*, access) -> dict:
    """{tab code: count}, in one query (conditional aggregation)."""
    mine = _mine(access.user)
    aggregates = {
        tab.code: Count("pk", filter=mine & Q(status__in=tab.statuses)) for tab in TABS if not tab.structures
    }
    structure_ids = managed_structure_ids(access=access)
    condition = mine
    if structure_ids:
        theirs = _of_my_structures(structure_ids)
        aggregates["structures"] = Count("pk", filter=theirs)
        condition = mine | theirs
    return Ticket.objects.filter(condition).aggregate(**aggregates)


def tab_tickets(*, access, tab: Tab, q: str = "", category=None, order: str = "desc"):
    """The rows of a tab, searched and filtered, in a stable order, with what each row
    shows loaded in the same query."""
    if tab.structures:
        tickets = Ticket.objects.filter(_of_my_structures(managed_structure_ids(access=access)))
    else:
        tickets = Ticket.objects.filter(_mine(access.user), status__in=tab.statuses)
    for word in q.split():
        tickets = tickets.filter(
            Q(number__icontains=word)
            | Q(title__icontains=word)
            | Q(summary__icontains=word)
            | Q(description__icontains=word)
        )
    if category is not None:
        tickets = tickets.filter(category=category)
    return (
        tickets.annotate(opened_at=Coalesce("submitted_at", "created_at"))
        .select_related("category", "subcategory", "queue", "structure", "requester")
        .order_by(*ORDERS.get(order, ORDERS["desc"]))
    )


def own_tickets(*, user):
    """The requester's own tickets: the only ones they act on."""
    return Ticket.objects.filter(requester=user)


def requester_events(ticket):
    """The Activité a requester reads: internal notes are for agents, never shown to
    the requester, whatever their kind."""
    return (
        ticket.events.filter(is_internal=False)
        .exclude(kind=TicketEvent.Kind.NOTE)
        .select_related("author")
        .order_by("-created_at", "-id")
    )


def requester_attachments(ticket):
    """The files a requester may download: none attached to an internal entry."""
    return ticket.attachments.filter(Q(event__isnull=True) | Q(event__is_internal=False)).order_by(
        "created_at", "id"
    )
