"""Support › Nous contacter, Créer un ticket, Tickets émis and the ticket page, for the
requester; and the form for people who cannot log in.

A ticket is fetched through `ticket_selectors.visible_tickets()` (mine, or read-only a
submitted ticket of a structure I administer) and acted on only through the
requester's own tickets: anybody else's is a 404, which does not confirm it exists."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from chorus import access
from chorus.codes import ApplicationCode
from core import db, ratelimit
from core.pages import SUPPORT, Crumb, page_context
from core.pagination import paginate
from core.storage import download_response
from structures.forms.bank import ConfirmForm
from support import exports
from support.forms.tickets import (
    DRAFT,
    SUBMIT,
    CommentForm,
    MessageForm,
    PublicTicketForm,
    RatingForm,
    RefuseForm,
    TicketFilterForm,
    TicketForm,
)
from support.models import Ticket, TicketEvent
from support.selectors import tickets as ticket_selectors
from support.services import tickets as ticket_services
from support.services import workflow
from support.services.workflow import ACCEPT, ANSWER, CLOSE, RATE, REFUSE

PAGE_SIZE = 20
PUBLIC_SESSION_KEY = "support_public_ticket_number"
# The logged-out form sends an email to an address nobody has verified: few per client,
# fewer per mailbox, so that it cannot be used to flood someone.
PUBLIC_PER_CLIENT = ratelimit.Limit("support-public-ticket-client", rate=5, period=60 * 60)
PUBLIC_PER_EMAIL = ratelimit.Limit("support-public-ticket-email", rate=3, period=24 * 60 * 60)

S = Ticket.Status


def _optional_url(name):
    """A page another part of Support provides, when it is there."""
    try:
        return reverse(name)
    except NoReverseMatch:
        return ""


CONTACT = Crumb(gettext_lazy("Nous contacter"), "support:contact")
TICKETS = Crumb(gettext_lazy("Tickets émis"), "support:tickets")


def _ticket_crumb(ticket):
    return Crumb(_ticket_title(ticket), "support:ticket_detail", (ticket.pk,))


def _ticket_title(ticket):
    if ticket.number:
        return _("Ticket %(number)s") % {"number": ticket.number}
    return _("Brouillon de ticket")


# Nous contacter


@access.access_required(ApplicationCode.NOUS_CONTACTER)
@require_GET
def contact(request):
    return render(
        request,
        "support/tickets/contact.html",
        page_context(
            _("Nous contacter"),
            links=[SUPPORT],
            docs_url=_optional_url("support:docs"),
            chat_url=_optional_url("support:chat_start"),
        ),
    )


# Créer un ticket, modifier un brouillon


def _initial(request, ticket):
    """What the form opens with: the draft, or the user's contact details; then what
    the two-step GET (category chosen, without JavaScript) carries."""
    user = request.user
    if ticket is not None:
        initial = {name: getattr(ticket, name) for name in ticket_services.FIELDS}
        initial["structure"] = ticket.structure_id
        initial["category"] = ticket.category_id
        initial["subcategory"] = ticket.subcategory_id
    else:
        initial = {"contact_email": user.notification_email, "phone": user.phone}
        attached = access.get_access(request).attached_structure_ids()
        if len(attached) == 1:
            initial["structure"] = next(iter(attached))
    if "category" in request.GET:
        for name in ticket_services.FIELDS:
            if name in request.GET:
                initial[name] = request.GET[name]
    return initial


def _ticket_form(request, ticket=None):
    if request.method == "POST":
        action = DRAFT if request.POST.get("action") == DRAFT else SUBMIT
        form = TicketForm(request.POST, request.FILES, request=request, action=action)
        if form.is_valid():
            try:
                saved = ticket_services.ticket_save(
                    requester=request.user,
                    data=form.ticket_data(),
                    files=form.checked_files,
                    ticket_id=ticket.pk if ticket else None,
                    submit=action == SUBMIT,
                )
            except (ticket_services.TicketError, workflow.TransitionRefused) as error:
                form.add_error(None, error.message)
                form.keep_files()
            else:
                form.discard_kept()
                if action == SUBMIT:
                    messages.success(
                        request,
                        _(
                            "Votre ticket %(number)s a été soumis au %(recipient)s. Un courriel de "
                            "confirmation vous a été envoyé."
                        )
                        % {"number": saved.number, "recipient": saved.queue.recipient_label},
                    )
                    return redirect("support:ticket_detail", pk=saved.pk)
                messages.success(
                    request,
                    _("Le brouillon a été enregistré : retrouvez-le dans l’onglet « Brouillons »."),
                )
                return redirect(f"{reverse('support:tickets')}?{urlencode({'tab': 'brouillons'})}")
    else:
        form = TicketForm(initial=_initial(request, ticket), request=request)
    if ticket is None:
        title, links = _("Créer un ticket"), [SUPPORT, CONTACT]
    else:
        title, links = _("Modifier le brouillon"), [SUPPORT, TICKETS]
    return render(
        request,
        "support/tickets/form.html",
        page_context(
            title,
            links=links,
            form=form,
            ticket=ticket,
            attachments=list(ticket.attachments.all()) if ticket else [],
            cancel_url=reverse("support:ticket_detail", args=[ticket.pk])
            if ticket
            else reverse("support:contact"),
        ),
    )


@access.access_required(ApplicationCode.NOUS_CONTACTER)
@require_http_methods(["GET", "POST"])
def ticket_create(request):
    return _ticket_form(request)


def _own_ticket(request, pk):
    tickets = ticket_selectors.own_tickets(user=request.user).select_related(
        "category", "subcategory", "queue", "structure"
    )
    return get_object_or_404(tickets, pk=pk)


@access.access_required(ApplicationCode.TICKETS_EMIS)
@require_http_methods(["GET", "POST"])
def ticket_edit(request, pk):
    ticket = _own_ticket(request, pk)
    if ticket.status != S.BROUILLON:
        messages.error(request, _("Ce ticket a déjà été soumis : il ne peut plus être modifié."))
        return redirect("support:ticket_detail", pk=ticket.pk)
    return _ticket_form(request, ticket)


@access.access_required(ApplicationCode.TICKETS_EMIS)
@require_http_methods(["GET", "POST"])
def ticket_delete(request, pk):
    ticket = _own_ticket(request, pk)
    if ticket.status != S.BROUILLON:
        messages.error(request, _("Seul un brouillon peut être supprimé."))
        return redirect("support:ticket_detail", pk=ticket.pk)
    form = ConfirmForm(
        request.POST if request.method == "POST" else None,
        question=_("Voulez-vous supprimer ce brouillon ?"),
    )
    if form.is_valid():
        if not form.confirmed:
            messages.info(request, _("Le brouillon n’a pas été supprimé."))
            return redirect("support:ticket_detail", pk=ticket.pk)
        try:
            ticket_services.ticket_delete_draft(ticket_id=ticket.pk, requester=request.user)
        except ticket_services.TicketError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("Le brouillon a été supprimé."))
            return redirect(f"{reverse('support:tickets')}?{urlencode({'tab': 'brouillons'})}")
    return render(
        request,
        "support/tickets/delete.html",
        page_context(
            _("Supprimer le brouillon"),
            links=[SUPPORT, TICKETS, _ticket_crumb(ticket)],
            ticket=ticket,
            form=form,
        ),
    )


# Tickets émis


def _tab(request, counts):
    code = request.GET.get("tab", "")
    tab = ticket_selectors.TABS_BY_CODE.get(code)
    if tab is None or (tab.structures and "structures" not in counts):
        return ticket_selectors.TABS[0]
    return tab


def _list_state(request):
    counts = ticket_selectors.tab_counts(access=access.get_access(request))
    tab = _tab(request, counts)
    form = TicketFilterForm(
        request.GET if any(k in request.GET for k in ("q", "category", "order")) else None
    )
    return counts, tab, form


def _query(request, **changes) -> str:
    query = {key: value for key, value in request.GET.items() if key in ("tab", "q", "category", "order")}
    query.update(changes)
    return urlencode({key: value for key, value in query.items() if value})


@access.access_required(ApplicationCode.TICKETS_EMIS)
@require_GET
def ticket_list(request):
    counts, tab, form = _list_state(request)
    tickets = ticket_selectors.tab_tickets(access=access.get_access(request), tab=tab, **form.filters())
    page_obj = paginate(request, tickets, per_page=PAGE_SIZE)
    tabs = [
        {
            "code": candidate.code,
            "label": candidate.label,
            "count": counts[candidate.code],
            "url": f"{reverse('support:tickets')}?{_query(request, tab=candidate.code)}",
            "current": candidate == tab,
        }
        for candidate in ticket_selectors.TABS
        if candidate.code in counts
    ]
    export_url = reverse("support:tickets_export")
    return render(
        request,
        "support/tickets/list.html",
        page_context(
            _("Tickets émis"),
            links=[SUPPORT],
            tab=tab,
            tabs=tabs,
            form=form,
            page_obj=page_obj,
            rows=[exports.row_for(ticket) for ticket in page_obj.object_list],
            columns=exports.columns(),
            export_urls={
                fmt: f"{export_url}?{_query(request, tab=tab.code, format=fmt)}" for fmt in exports.FORMATS
            },
            reset_url=f"{reverse('support:tickets')}?{urlencode({'tab': tab.code})}",
            filtered=bool(form.is_bound),
        ),
    )


@access.access_required(ApplicationCode.TICKETS_EMIS)
@require_GET
def ticket_export(request):
    """The current tab with its search and filters, every page, as a file."""
    respond = exports.FORMATS.get(request.GET.get("format", ""))
    if respond is None:
        raise Http404
    _counts, tab, form = _list_state(request)
    tickets = db.reporting(
        ticket_selectors.tab_tickets(access=access.get_access(request), tab=tab, **form.filters())
    )
    return respond([exports.row_for(ticket) for ticket in tickets])


# The ticket page


def _event_view(event, ticket, user):
    """What the Activité timeline says of one entry: who, and what."""
    author = event.author
    if author is None:
        who = _("Système") if ticket.requester_id else _("Demandeur")
    elif author.pk == user.pk:
        who = _("Vous")
    elif author.pk == ticket.requester_id:
        who = str(author)
    elif author.is_staff:
        who = _("%(name)s (support)") % {"name": author}
    else:
        who = str(author)
    if event.kind == TicketEvent.Kind.STATUS:
        what = _("Statut : %(before)s → %(after)s") % {
            "before": event.get_from_status_display(),
            "after": event.get_to_status_display(),
        }
    elif event.kind == TicketEvent.Kind.ASSIGN:
        what = _("Ticket pris en charge par le support.")
    else:
        what = ""
    body = event.body if event.kind in (TicketEvent.Kind.MESSAGE, TicketEvent.Kind.TRANSFER) else ""
    return {"event": event, "who": who, "what": what, "body": body, "attachments": []}


# The draft's own links: a draft is edited, submitted or deleted, not moved.
DRAFT_LINKS = [
    (gettext_lazy("Modifier et soumettre"), "support:ticket_edit", ""),
    (gettext_lazy("Supprimer le brouillon"), "support:ticket_delete", "fr-btn--secondary"),
]


@access.access_required(ApplicationCode.TICKETS_EMIS)
@require_GET
def ticket_detail(request, pk):
    tickets = ticket_selectors.visible_tickets(access=access.get_access(request)).select_related(
        "category", "subcategory", "queue", "structure", "requester", "rating"
    )
    ticket = get_object_or_404(tickets, pk=pk)
    is_requester = ticket.requester_id == request.user.pk
    events = [_event_view(event, ticket, request.user) for event in ticket_selectors.requester_events(ticket)]
    attachments = list(ticket_selectors.requester_attachments(ticket))
    by_event = {entry["event"].pk: entry for entry in events}
    for attachment in attachments:
        if attachment.event_id in by_event:
            by_event[attachment.event_id]["attachments"].append(attachment)
    rating = getattr(ticket, "rating", None)
    actions = _requester_links(ticket, rated=rating is not None) if is_requester else []
    return render(
        request,
        "support/tickets/detail.html",
        page_context(
            _ticket_title(ticket),
            links=[SUPPORT, TICKETS],
            ticket=ticket,
            is_requester=is_requester,
            events=events,
            attachments=attachments,
            rating=rating,
            actions=actions,
        ),
    )


@access.access_required(ApplicationCode.TICKETS_EMIS)
@require_GET
def ticket_attachment(request, pk, attachment_pk):
    ticket = get_object_or_404(ticket_selectors.visible_tickets(access=access.get_access(request)), pk=pk)
    attachment = get_object_or_404(ticket_selectors.requester_attachments(ticket), pk=attachment_pk)
    return download_response(
        attachment.file, filename=attachment.original_name, content_type=attachment.content_type
    )


# The requester's actions: one page each, the form or why it is not possible now. Which
# action a status allows is the status machine's to say (workflow.requester_actions).

ACTIONS = {
    ANSWER: {
        "form": MessageForm,
        "title": gettext_lazy("Apporter un complément d’information"),
        "link": gettext_lazy("Apporter un complément d’information"),
        "style": "",
        "intro": gettext_lazy(
            "Le support attend des informations de votre part. Votre réponse lui est transmise et le "
            "ticket repasse « En cours »."
        ),
        "done": gettext_lazy("Votre complément d’information a été transmis au support (ticket %(number)s)."),
    },
    ACCEPT: {
        "form": CommentForm,
        "title": gettext_lazy("Accepter la solution"),
        "link": gettext_lazy("Accepter la solution"),
        "style": "",
        "intro": gettext_lazy("En acceptant la solution proposée, vous clôturez le ticket."),
        "done": gettext_lazy(
            "Vous avez accepté la solution : le ticket %(number)s est clôturé. Vous pouvez maintenant "
            "évaluer la réponse du support."
        ),
    },
    REFUSE: {
        "form": RefuseForm,
        "title": gettext_lazy("Refuser la solution"),
        "link": gettext_lazy("Refuser la solution"),
        "style": "fr-btn--secondary",
        "intro": gettext_lazy(
            "Le ticket retourne au support avec votre commentaire : dites ce qui ne convient pas."
        ),
        "done": gettext_lazy(
            "Votre refus a été transmis au support : le ticket %(number)s est de nouveau en cours."
        ),
    },
    CLOSE: {
        "form": CommentForm,
        "title": gettext_lazy("Clôturer le ticket"),
        "link": gettext_lazy("Clôturer"),
        "style": "fr-btn--secondary",
        "intro": gettext_lazy(
            "Vous n’avez plus besoin de l’aide du support : le ticket sera clôturé et ne pourra plus "
            "être rouvert."
        ),
        "done": gettext_lazy("Le ticket %(number)s est clôturé."),
    },
    RATE: {
        "form": RatingForm,
        "title": gettext_lazy("Évaluer la réponse du support"),
        "link": gettext_lazy("Évaluer la réponse du support"),
        "style": "",
        "intro": gettext_lazy(
            "Votre avis aide le support à s’améliorer. Vous ne pouvez évaluer un ticket qu’une fois."
        ),
        "done": gettext_lazy("Merci : votre évaluation du ticket %(number)s a été enregistrée."),
    },
}


def _requester_links(ticket, *, rated):
    """The ticket page's buttons: what the status machine lets the requester do now (a
    ticket is rated once), or the draft's own links."""
    if ticket.status == S.BROUILLON:
        links = DRAFT_LINKS
    else:
        links = [
            (ACTIONS[action]["link"], f"support:ticket_{action}", ACTIONS[action]["style"])
            for action in workflow.requester_actions(ticket.status)
            if not (action == RATE and rated)
        ]
    return [
        {"label": label, "url": reverse(name, args=[ticket.pk]), "style": style}
        for label, name, style in links
    ]


def _refusal(ticket, action) -> str:
    if action == RATE and hasattr(ticket, "rating"):
        return _("Vous avez déjà évalué ce ticket : une évaluation ne peut être donnée qu’une fois.")
    if action not in workflow.requester_actions(ticket.status):
        return _("Action impossible : le ticket est « %(status)s ».") % {
            "status": ticket.get_status_display()
        }
    return ""


def _run(action, ticket, user, form):
    data = form.cleaned_data
    if action == ANSWER:
        ticket_services.ticket_answer(
            ticket_id=ticket.pk, requester=user, message=data["message"], files=form.checked_files
        )
    elif action == ACCEPT:
        ticket_services.ticket_accept(ticket_id=ticket.pk, requester=user, message=data["message"])
    elif action == REFUSE:
        ticket_services.ticket_refuse(ticket_id=ticket.pk, requester=user, message=data["message"])
    elif action == CLOSE:
        ticket_services.ticket_close(ticket_id=ticket.pk, requester=user, message=data["message"])
    else:
        ticket_services.ticket_rate(
            ticket_id=ticket.pk, requester=user, score=data["score"], comment=data["comment"]
        )


def _action(request, pk, action):
    ticket = get_object_or_404(
        ticket_selectors.own_tickets(user=request.user).select_related(
            "category", "subcategory", "queue", "rating"
        ),
        pk=pk,
    )
    spec = ACTIONS[action]
    refusal = _refusal(ticket, action)
    form = None
    if not refusal:
        if request.method == "POST":
            if action == ANSWER:
                form = spec["form"](request.POST, request.FILES, request=request)
            else:
                form = spec["form"](request.POST, request.FILES)
            if form.is_valid():
                try:
                    _run(action, ticket, request.user, form)
                except (ticket_services.TicketError, workflow.TransitionRefused) as error:
                    form.add_error(None, error.message)
                    if action == ANSWER:
                        form.keep_files()
                else:
                    if action == ANSWER:
                        form.discard_kept()
                    messages.success(request, spec["done"] % {"number": ticket.number})
                    return redirect("support:ticket_detail", pk=ticket.pk)
        else:
            form = spec["form"]()
    return render(
        request,
        "support/tickets/action.html",
        page_context(
            str(spec["title"]),
            links=[SUPPORT, TICKETS, _ticket_crumb(ticket)],
            ticket=ticket,
            intro=spec["intro"],
            form=form,
            refusal=refusal,
            with_files=action == ANSWER,
        ),
    )


@access.access_required(ApplicationCode.TICKETS_EMIS)
@require_http_methods(["GET", "POST"])
def ticket_answer(request, pk):
    return _action(request, pk, ANSWER)


@access.access_required(ApplicationCode.TICKETS_EMIS)
@require_http_methods(["GET", "POST"])
def ticket_accept(request, pk):
    return _action(request, pk, ACCEPT)


@access.access_required(ApplicationCode.TICKETS_EMIS)
@require_http_methods(["GET", "POST"])
def ticket_refuse(request, pk):
    return _action(request, pk, REFUSE)


@access.access_required(ApplicationCode.TICKETS_EMIS)
@require_http_methods(["GET", "POST"])
def ticket_close(request, pk):
    return _action(request, pk, CLOSE)


@access.access_required(ApplicationCode.TICKETS_EMIS)
@require_http_methods(["GET", "POST"])
def ticket_rate(request, pk):
    return _action(request, pk, RATE)


# Without an account


@access.public
@require_http_methods(["GET", "POST"])
def public_ticket(request):
    if request.method == "POST":
        form = PublicTicketForm(request.POST)
        if form.is_valid():
            ticket = _public_ticket_submit(request, form)
            if ticket is not None:
                request.session[PUBLIC_SESSION_KEY] = ticket.number
                return redirect("support:public_ticket_done")
            # The question was used by this submission: the form shown again asks another.
            form.renew_challenge()
    else:
        initial = {
            name: request.GET[name]
            for name in ("category", "subcategory", "email", "title", "description")
            if name in request.GET
        }
        form = PublicTicketForm(initial=initial)
    return render(
        request,
        "support/tickets/public.html",
        page_context(_("Contacter le support sans compte"), form=form),
    )


def _public_ticket_submit(request, form):
    """The ticket, or None with the reason on the form when the client or the email
    address used up its submissions."""
    client_allowed = ratelimit.hit(PUBLIC_PER_CLIENT, ratelimit.client_address(request))
    email_allowed = ratelimit.hit(PUBLIC_PER_EMAIL, form.cleaned_data["email"])
    if not client_allowed:
        form.add_error(
            None, _("Trop de demandes ont été envoyées depuis votre connexion : réessayez dans une heure.")
        )
        return None
    if not email_allowed:
        form.add_error(
            "email",
            _(
                "Trop de demandes ont été envoyées aujourd’hui pour cette adresse électronique : "
                "réessayez demain."
            ),
        )
        return None
    try:
        return ticket_services.ticket_save(
            requester=None,
            data=form.ticket_data(),
            submit=True,
            acknowledgement_url=request.build_absolute_uri(reverse("support:public_ticket")),
        )
    except (ticket_services.TicketError, workflow.TransitionRefused) as error:
        form.add_error(None, error.message)
        return None


@access.public
@require_GET
def public_ticket_done(request):
    number = request.session.get(PUBLIC_SESSION_KEY)
    if not number:
        return redirect("support:public_ticket")
    return render(
        request,
        "support/tickets/public_done.html",
        page_context(
            _("Votre demande est enregistrée"),
            links=[Crumb(_("Contacter le support sans compte"), "support:public_ticket")],
            number=number,
        ),
    )
