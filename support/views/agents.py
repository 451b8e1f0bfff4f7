"""Tickets reçus: the support agents' back-office (staff only). Queues with their counts,
the ticket page with everything agents need, the actions on a ticket (support/services/agents.py)
and the satisfaction ratings per queue and per agent. Drafts never show here: they are
a 404, as if they did not exist."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from chorus import access
from chorus.codes import ApplicationCode
from chorus.models import Level
from core.pages import SUPPORT, Crumb, page_context
from core.pagination import paginate
from core.storage import download_response
from support.forms.agents import (
    ALL_STATUSES,
    AssignForm,
    InformationRequestForm,
    NoteForm,
    QueueFilterForm,
    ReplyForm,
    SolutionForm,
    TransferForm,
)
from support.models import Queue, Ticket, TicketAttachment
from support.selectors import agents as agent_selectors
from support.services import agents as agent_services

PAGE_SIZE = 25
LATEST_COMMENTS = 20

S = Ticket.Status
OPEN_STATUSES = agent_selectors.OPEN_STATUSES


QUEUES = Crumb(gettext_lazy("Tickets reçus"), "support:agent_queues")


def _ticket_or_404(pk, *, detail=False):
    tickets = agent_selectors.agent_tickets().select_related("queue", "assigned_to")
    if detail:
        tickets = tickets.select_related("category", "subcategory", "requester", "structure", "rating")
    return get_object_or_404(tickets, pk=pk)


def _queue_counts():
    """Open tickets per queue and status, in one query, as rows for the summary table."""
    counts = agent_selectors.open_counts()
    rows = []
    for queue in Queue.objects.all():
        cells = [
            {
                "status": status,
                "count": counts.get((queue.pk, status.value), 0),
                "url": reverse("support:agent_queues")
                + "?"
                + urlencode({"queue": queue.pk, "status": status.value}),
            }
            for status in OPEN_STATUSES
        ]
        rows.append({"queue": queue, "cells": cells})
    return rows


@access.access_required(ApplicationCode.TICKETS_RECUS)
@require_GET
def agent_queues(request):
    form = QueueFilterForm(request.GET)
    tickets = agent_selectors.agent_tickets().select_related(
        "queue", "category", "subcategory", "assigned_to", "requester", "structure"
    )
    if form.is_valid():
        tickets = form.filter(tickets, request.user)
    else:
        tickets = tickets.none()
    # Oldest activity first: what has waited longest comes first.
    tickets = tickets.order_by("last_activity_at", "id")
    filtered = any(request.GET.get(name) for name in ("queue", "category", "status", "assignment", "q"))
    return render(
        request,
        "support/agents/queues.html",
        page_context(
            _("Tickets reçus"),
            links=[SUPPORT],
            filter_form=form,
            filtered=filtered,
            statuses=OPEN_STATUSES,
            queue_rows=_queue_counts(),
            page_obj=paginate(request, tickets, per_page=PAGE_SIZE, numbered=False),
            all_statuses=ALL_STATUSES,
        ),
    )


def _author_label(event, ticket):
    if event.author_id:
        return str(event.author)
    # No author: the logged-out requester, or the system (automatic closing).
    if ticket.requester_id is None and event.to_status != S.CLOTURE:
        return _("Demandeur")
    return _("Système")


@access.access_required(ApplicationCode.TICKETS_RECUS)
@require_GET
def agent_ticket(request, pk):
    ticket = _ticket_or_404(pk, detail=True)
    events = list(ticket.events.select_related("author"))
    for event in events:
        event.author_label = _author_label(event, ticket)
    return render(
        request,
        "support/agents/ticket.html",
        page_context(
            _("Ticket %(number)s") % {"number": ticket.number},
            links=[SUPPORT, QUEUES],
            ticket=ticket,
            events=events,
            attachments=list(ticket.attachments.select_related("uploaded_by")),
            rating=getattr(ticket, "rating", None),
            actions=agent_services.available_actions(ticket, request.user),
            assign_refusal=agent_services.assign_refusal(ticket, request.user),
        ),
    )


@access.access_required(ApplicationCode.TICKETS_RECUS)
@require_GET
def agent_attachment(request, pk, attachment_pk):
    attachment = get_object_or_404(
        TicketAttachment.objects.filter(ticket__in=agent_selectors.agent_tickets()),
        ticket_id=pk,
        pk=attachment_pk,
    )
    return download_response(
        attachment.file, filename=attachment.original_name, content_type=attachment.content_type
    )


@access.access_required(ApplicationCode.TICKETS_RECUS, Level.MODIFICATION)
@require_POST
def agent_assign(request, pk):
    ticket = _ticket_or_404(pk)
    form = AssignForm(request.POST)
    replacing = form.cleaned_data["replacing"] if form.is_valid() else None
    try:
        ticket = agent_services.ticket_assign(ticket_id=ticket.pk, agent=request.user, replacing_id=replacing)
    except agent_services.ActionRefused as refused:
        messages.error(request, refused.message)
    else:
        messages.success(
            request,
            _("Le ticket %(number)s vous est affecté : vous pouvez le traiter.") % {"number": ticket.number},
        )
    return redirect("support:agent_ticket", pk=ticket.pk)


# action -> (form, page title, confirmation). Lazy: translated per request.
ACTIONS = {
    agent_services.REPLY: (
        ReplyForm,
        gettext_lazy("Répondre"),
        gettext_lazy("Votre réponse a été envoyée au demandeur du ticket %(number)s."),
    ),
    agent_services.REQUEST_INFORMATION: (
        InformationRequestForm,
        gettext_lazy("Demander un complément"),
        gettext_lazy("Le ticket %(number)s est en attente des informations demandées au demandeur."),
    ),
    agent_services.PROPOSE_SOLUTION: (
        SolutionForm,
        gettext_lazy("Proposer une solution"),
        gettext_lazy("La solution a été proposée : le ticket %(number)s est résolu."),
    ),
    agent_services.NOTE: (
        NoteForm,
        gettext_lazy("Note interne"),
        gettext_lazy("La note interne a été ajoutée au ticket %(number)s."),
    ),
    agent_services.TRANSFER: (
        TransferForm,
        gettext_lazy("Transférer"),
        gettext_lazy("Le ticket %(number)s a été transféré à la file « %(queue)s »."),
    ),
}


def _run(action, ticket, agent, data):
    if action == agent_services.TRANSFER:
        return agent_services.ticket_transfer(
            ticket_id=ticket.pk, agent=agent, queue=data["queue"], reason=data["reason"]
        )
    if action == agent_services.NOTE:
        return agent_services.ticket_add_note(ticket_id=ticket.pk, agent=agent, body=data["message"])
    service = {
        agent_services.REPLY: agent_services.ticket_reply,
        agent_services.REQUEST_INFORMATION: agent_services.ticket_request_information,
        agent_services.PROPOSE_SOLUTION: agent_services.ticket_propose_solution,
    }[action]
    return service(ticket_id=ticket.pk, agent=agent, message=data["message"])


def _action(request, pk, action):
    """One page per action: the ticket's summary, the form, and the refusal instead of
    the form when the action is not possible (not my ticket, wrong status)."""
    ticket = _ticket_or_404(pk)
    form_class, title, done = ACTIONS[action]
    extra = {"ticket": ticket} if action == agent_services.TRANSFER else {}
    refusal = agent_services.refusal(ticket, request.user, action)
    form = None
    if not refusal:
        if request.method == "POST":
            form = form_class(request.POST, **extra)
            if form.is_valid():
                try:
                    _run(action, ticket, request.user, form.cleaned_data)
                except agent_services.ActionRefused as refused:
                    refusal = refused.message
                else:
                    values = {"number": ticket.number}
                    if action == agent_services.TRANSFER:
                        values["queue"] = form.cleaned_data["queue"]
                    messages.success(request, done % values)
                    return redirect("support:agent_ticket", pk=ticket.pk)
        else:
            form = form_class(**extra)
    return render(
        request,
        "support/agents/action.html",
        page_context(
            f"{title} — {ticket.number}",
            links=[
                SUPPORT,
                QUEUES,
                Crumb(ticket.number, "support:agent_ticket", (ticket.pk,)),
            ],
            ticket=ticket,
            action=action,
            form=form,
            refusal=refusal,
            can_assign=not agent_services.assign_refusal(ticket, request.user),
            submit_url=request.path,
        ),
    )


@access.access_required(ApplicationCode.TICKETS_RECUS, Level.MODIFICATION)
@require_http_methods(["GET", "POST"])
def agent_reply(request, pk):
    return _action(request, pk, agent_services.REPLY)


@access.access_required(ApplicationCode.TICKETS_RECUS, Level.MODIFICATION)
@require_http_methods(["GET", "POST"])
def agent_request_information(request, pk):
    return _action(request, pk, agent_services.REQUEST_INFORMATION)


@access.access_required(ApplicationCode.TICKETS_RECUS, Level.MODIFICATION)
@require_http_methods(["GET", "POST"])
def agent_propose_solution(request, pk):
    return _action(request, pk, agent_services.PROPOSE_SOLUTION)


@access.access_required(ApplicationCode.TICKETS_RECUS, Level.MODIFICATION)
@require_http_methods(["GET", "POST"])
def agent_transfer(request, pk):
    return _action(request, pk, agent_services.TRANSFER)


@access.access_required(ApplicationCode.TICKETS_RECUS, Level.MODIFICATION)
@require_http_methods(["GET", "POST"])
def agent_note(request, pk):
    return _action(request, pk, agent_services.NOTE)


@access.access_required(ApplicationCode.TICKETS_RECUS)
@require_GET
def agent_ratings(request):
    """Satisfaction per queue and per agent (the agent holding the ticket when it was
    rated), one aggregate query each, and the latest comments."""
    by_queue = agent_selectors.ratings_by_queue()
    by_agent = agent_selectors.ratings_by_agent()
    agents = [
        {
            "name": " ".join(
                part
                for part in (row["ticket__assigned_to__first_name"], row["ticket__assigned_to__last_name"])
                if part
            )
            or row["ticket__assigned_to__email"]
            or _("Aucun agent affecté"),
            "average": row["average"],
            "count": row["count"],
        }
        for row in by_agent
    ]
    comments = agent_selectors.latest_comments(limit=LATEST_COMMENTS)
    return render(
        request,
        "support/agents/ratings.html",
        page_context(
            _("Évaluations du support"),
            links=[SUPPORT, QUEUES],
            by_queue=list(by_queue),
            by_agent=agents,
            comments=list(comments),
        ),
    )
