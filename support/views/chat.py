"""Échange avec un agent: the user opens a chat on a theme during opening hours, an
agent takes it from the back-office, both write; new messages reach the other side by
short polling (static/js/chat.js), and every page also works without JavaScript.

A chat is fetched through `chat_selectors.chat_sessions()`: its own user, or a support agent (staff,
Tickets reçus). Anybody else gets a 404, which does not confirm that the chat exists."""

import json

from django.contrib import messages
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from chorus import access
from chorus.catalogue import application_url
from chorus.codes import ApplicationCode
from core import sessions
from core.pages import SUPPORT, Crumb, page_context
from support.forms.chat import ChatMessageForm, ChatStartForm
from support.models import ChatSession
from support.selectors import chat as chat_selectors
from support.services import chat as chat_services

POLL_INTERVAL_MS = 3000
RECENT_CHATS = 10
# At most this many messages per poll: a client far behind catches up over a few polls.
POLL_BATCH = 200
# What the page's <template> of a message is rendered with: chat_services.js fills it in.
EMPTY_MESSAGE = {"id": "", "author": "", "is_agent": False, "body": "", "created_at": "", "time": ""}


def _application_link(request, code):
    application = access.get_access(request).catalogue[code]
    return Crumb(application.label, url=application_url(application))


def _user_links(request, *, with_start=False):
    links = [
        SUPPORT,
        _application_link(request, ApplicationCode.NOUS_CONTACTER),
    ]
    if with_start:
        links.append(Crumb(_("Échange avec un agent"), "support:chat_start"))
    return links


def _agent_links(request, *, with_list=False):
    links = [
        SUPPORT,
        _application_link(request, ApplicationCode.TICKETS_RECUS),
    ]
    if with_list:
        links.append(Crumb(_("Échanges avec les utilisateurs"), "support:agent_chats"))
    return links


def _is_agent(request):
    return access.can(request, ApplicationCode.TICKETS_RECUS)


def _get_session(request, pk):
    sessions = chat_selectors.chat_sessions(user=request.user, is_agent=_is_agent(request))
    return get_object_or_404(sessions, pk=pk)


def _chat_url(session):
    return reverse("support:chat", args=[session.pk])


def _wants_json(request):
    return "application/json" in request.headers.get("Accept", "")


def _json(data, status=200):
    """JSON whose text never holds <, > or &: the body stays inert even if a browser
    were made to read it as HTML. Parsed, the strings are exactly what was written."""
    text = json.dumps(data, ensure_ascii=False, cls=DjangoJSONEncoder)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    response = HttpResponse(text, content_type="application/json; charset=utf-8", status=status)
    response["Cache-Control"] = "no-store"
    return response


def _message_data(session, message):
    data = chat_services.message_json(session, message)
    data["time"] = formats.date_format(timezone.localtime(message.created_at), "d/m/Y H:i")
    return data


# The user's side


@access.access_required(ApplicationCode.NOUS_CONTACTER)
@require_http_methods(["GET", "POST"])
def chat_start(request):
    open_now = chat_services.is_open()
    current = chat_selectors.current_chat(user=request.user)
    form = None
    if open_now and current is None:
        form = ChatStartForm(request.POST if request.method == "POST" else None)
        if request.method == "POST" and form.is_valid():
            try:
                session = chat_services.chat_start(user=request.user, theme=form.cleaned_data["theme"])
            except chat_services.ChatRefused as refused:
                form.add_error(None, refused.message)
            else:
                messages.success(
                    request,
                    _(
                        "Votre demande d’échange sur le thème « %(theme)s » est transmise : "
                        "un agent va vous répondre."
                    )
                    % {"theme": session.theme.label},
                )
                return redirect(_chat_url(session))
    elif request.method == "POST":
        # Closed, or a chat already going on: the page says why, nothing is created.
        messages.error(
            request,
            _("Les agents ne sont pas disponibles en ce moment.")
            if not open_now
            else _("Vous avez déjà un échange en cours : terminez-le avant d’en ouvrir un autre."),
        )
        return redirect("support:chat_start")
    recent = chat_selectors.recent_chats(user=request.user, limit=RECENT_CHATS)
    return render(
        request,
        "support/chat/start.html",
        page_context(
            _("Échange avec un agent"),
            links=_user_links(request),
            form=form,
            has_themes=form is not None and form.fields["theme"].queryset.exists(),
            is_open=open_now,
            hours=chat_services.hours_label(),
            current=current,
            recent=[_row(session) for session in recent],
            ticket_url=reverse("support:ticket_create"),
        ),
    )


def _row(session):
    return {
        "session": session,
        "status_label": chat_services.status_label(session),
        "url": _chat_url(session),
    }


def _render_chat(request, session, *, form=None, status=200):
    is_user = session.user_id == request.user.pk
    ended = chat_services.is_ended(session)
    try:
        chat_services.check_can_write(session, request.user)
        can_write = True
    except chat_services.ChatRefused:
        can_write = False
    if can_write and form is None:
        form = ChatMessageForm()
    chat_messages = [
        _message_data(session, m) for m in session.messages.select_related("author").order_by("id")
    ]
    title = _("Échange du %(date)s") % {
        "date": formats.date_format(timezone.localtime(session.created_at), "d/m/Y")
    }
    links = _user_links(request, with_start=True) if is_user else _agent_links(request, with_list=True)
    return render(
        request,
        "support/chat/chat.html",
        page_context(
            title,
            links=links,
            session=session,
            status_code=chat_services.status_code(session),
            status_label=chat_services.status_label(session),
            chat_messages=chat_messages,
            last_id=chat_messages[-1]["id"] if chat_messages else 0,
            form=form if can_write else None,
            is_user=is_user,
            ended=ended,
            can_take=not is_user and session.status == ChatSession.Status.EN_ATTENTE and not ended,
            can_end=not ended and request.user.pk in (session.user_id, session.agent_id),
            can_convert=is_user and session.ticket_id is None,
            poll_interval=POLL_INTERVAL_MS,
            template_message=EMPTY_MESSAGE,
        ),
        status=status,
    )


@access.authenticated
@never_cache
@require_GET
def chat_detail(request, pk):
    return _render_chat(request, _get_session(request, pk))


@access.authenticated
@sessions.not_activity  # polled by the page itself: keeps no session alive
@never_cache
@require_GET
def chat_messages(request, pk):
    """The messages after ?after=<id>, and the chat's status, for the polling script."""
    session = _get_session(request, pk)
    try:
        after = max(int(request.GET.get("after", 0)), 0)
    except (TypeError, ValueError):
        after = 0
    newer = session.messages.filter(id__gt=after).select_related("author").order_by("id")[:POLL_BATCH]
    return _json(
        {
            "messages": [_message_data(session, message) for message in newer],
            "status": chat_services.status_code(session),
            "status_label": chat_services.status_label(session),
        }
    )


@access.authenticated
@require_POST
def chat_post(request, pk):
    session = _get_session(request, pk)
    form = ChatMessageForm(request.POST)
    if not form.is_valid():
        if _wants_json(request):
            return _json({"error": form.errors["body"][0]}, status=400)
        return _render_chat(request, session, form=form)
    try:
        message = chat_services.chat_post(
            session_id=session.pk, author=request.user, body=form.cleaned_data["body"]
        )
    except chat_services.ChatRefused as refused:
        if _wants_json(request):
            return _json({"error": str(refused.message)}, status=409)
        messages.error(request, refused.message)
        return redirect(_chat_url(session))
    if _wants_json(request):
        return _json({"message": _message_data(session, message)}, status=201)
    messages.success(request, _("Votre message a été envoyé."))
    return redirect(f"{_chat_url(session)}#message-{message.pk}")


@access.authenticated
@require_POST
def chat_end(request, pk):
    session = _get_session(request, pk)
    try:
        chat_services.chat_end(session_id=session.pk, actor=request.user)
    except chat_services.ChatRefused as refused:
        messages.error(request, refused.message)
    else:
        messages.success(request, _("L’échange est terminé."))
    return redirect(_chat_url(session))


@access.access_required(ApplicationCode.NOUS_CONTACTER)
@require_POST
def chat_to_ticket(request, pk):
    # Only the chat's own user turns it into a ticket in their name: an agent gets a 404.
    session = get_object_or_404(chat_selectors.own_chats(user=request.user), pk=pk)
    try:
        ticket = chat_services.chat_to_ticket(session_id=session.pk, user=request.user)
    except chat_services.ChatRefused as refused:
        messages.error(request, refused.message)
    else:
        messages.success(
            request,
            _(
                "Le ticket %(number)s a été créé avec la transcription de l’échange : "
                "suivez-le dans Tickets émis."
            )
            % {"number": ticket.number},
        )
    return redirect(_chat_url(session))


@access.authenticated
@require_GET
def chat_transcript(request, pk):
    session = _get_session(request, pk)
    response = HttpResponse(chat_services.transcript(session), content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="echange-{session.pk}.txt"'
    return response


# The agents' side


@access.access_required(ApplicationCode.TICKETS_RECUS)
@require_GET
def agent_chats(request):
    waiting = chat_selectors.waiting_chats()
    mine = chat_selectors.agent_open_chats(agent=request.user)
    return render(
        request,
        "support/chat/agent_list.html",
        page_context(
            _("Échanges avec les utilisateurs"),
            links=_agent_links(request),
            waiting=waiting,
            mine=mine,
        ),
    )


@access.access_required(ApplicationCode.TICKETS_RECUS)
@require_POST
def agent_chat_take(request, pk):
    session = get_object_or_404(ChatSession, pk=pk)
    try:
        session = chat_services.chat_take(session_id=session.pk, agent=request.user)
    except chat_services.ChatRefused as refused:
        messages.error(request, refused.message)
        return redirect("support:agent_chats")
    messages.success(request, _("Vous avez pris en charge l’échange avec %(user)s.") % {"user": session.user})
    return redirect(_chat_url(session))
