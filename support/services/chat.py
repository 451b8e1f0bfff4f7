"""Échange avec un agent: opening hours, and the services that start, take, feed, end a
chat and turn it into a ticket. Views only call these functions.

"""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from chorus import audit
from chorus.actions import AuditAction
from core.errors import Refused
from support.models import ChatMessage, ChatSession, Queue, SubCategory, Ticket
from support.selectors.chat import OPEN, WAITING
from support.services import workflow

Status = ChatSession.Status

MAX_MESSAGE_LENGTH = 4000
DEFAULT_HOURS = ("08:30", "18:30")
DEFAULT_DAYS = (0, 1, 2, 3, 4)  # Monday to Friday
TIME_ZONE = "Europe/Paris"

DAY_NAMES = [
    gettext_lazy("lundi"),
    gettext_lazy("mardi"),
    gettext_lazy("mercredi"),
    gettext_lazy("jeudi"),
    gettext_lazy("vendredi"),
    gettext_lazy("samedi"),
    gettext_lazy("dimanche"),
]


class ChatRefused(Refused):
    """An action the chat's state or the actor's role does not allow; `message` is for
    the user, in French."""


# Opening hours


def _parse_time(value) -> time:
    if isinstance(value, time):
        return value
    try:
        hours, minutes = str(value).split(":")
        return time(int(hours), int(minutes))
    except ValueError:
        raise ImproperlyConfigured(f"SUPPORT_CHAT_HOURS: {value!r} is not HH:MM") from None


def opening_hours() -> tuple[time, time]:
    """(opening, closing) from settings.SUPPORT_CHAT_HOURS; the closing minute is
    included, so ("00:00", "23:59") means all day."""
    start, end = getattr(settings, "SUPPORT_CHAT_HOURS", DEFAULT_HOURS)
    return _parse_time(start), _parse_time(end)


def working_days() -> tuple[int, ...]:
    """Week days (Monday is 0) from settings.SUPPORT_CHAT_DAYS."""
    return tuple(sorted(set(getattr(settings, "SUPPORT_CHAT_DAYS", DEFAULT_DAYS))))


def closed_on_public_holidays() -> bool:
    return getattr(settings, "SUPPORT_CHAT_CLOSED_ON_PUBLIC_HOLIDAYS", True)


def _easter(year) -> date:
    """Gregorian Easter Sunday (anonymous Gregorian algorithm)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    g = (8 * b + 13) // 25
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    weekday = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 19 * weekday) // 433
    month = (h + weekday - 7 * m + 90) // 25
    day = (h + weekday - 7 * m + 33 * month + 19) % 32
    return date(year, month, day)


def french_public_holidays(year) -> set[date]:
    """The eleven public holidays of metropolitan France."""
    easter = _easter(year)
    fixed = [(1, 1), (5, 1), (5, 8), (7, 14), (8, 15), (11, 1), (11, 11), (12, 25)]
    return {date(year, month, day) for month, day in fixed} | {
        easter + timedelta(days=1),  # Lundi de Pâques
        easter + timedelta(days=39),  # Ascension
        easter + timedelta(days=50),  # Lundi de Pentecôte
    }


def local_now(now=None) -> datetime:
    return timezone.localtime(now or timezone.now(), ZoneInfo(TIME_ZONE))


def is_open(now=None) -> bool:
    """Whether agents take new chats at `now` (default: the current time), in Paris time."""
    moment = local_now(now)
    if moment.weekday() not in working_days():
        return False
    if closed_on_public_holidays() and moment.date() in french_public_holidays(moment.year):
        return False
    start, end = opening_hours()
    minute = moment.time().replace(second=0, microsecond=0)
    return start <= minute <= end


def _time_label(value: time) -> str:
    return f"{value.hour} h {value.minute:02d}" if value.minute else f"{value.hour} h"


def _days_label(days) -> str:
    if len(days) == 7:
        return _("tous les jours")
    if len(days) > 2 and list(days) == list(range(days[0], days[-1] + 1)):
        return _("du %(first)s au %(last)s") % {"first": DAY_NAMES[days[0]], "last": DAY_NAMES[days[-1]]}
    return ", ".join(_("le %(day)s") % {"day": DAY_NAMES[day]} for day in days)


def hours_label() -> str:
    """The opening hours in words, e.g. « du lundi au vendredi, de 8 h 30 à 18 h 30
    (heure de Paris), hors jours fériés »."""
    start, end = opening_hours()
    label = _("%(days)s, de %(start)s à %(end)s (heure de Paris)") % {
        "days": _days_label(working_days()),
        "start": _time_label(start),
        "end": _time_label(end),
    }
    if closed_on_public_holidays():
        label += _(", hors jours fériés")
    return label


# State


def is_ended(session) -> bool:
    return session.status == Status.TERMINE


def status_code(session) -> str:
    return Status.TERMINE if is_ended(session) else session.status


def status_label(session) -> str:
    return str(Status(status_code(session)).label)


def is_agent_message(session, message) -> bool:
    return message.author_id != session.user_id


def author_label(session, message) -> str:
    """The user's name, or the agent's first name: agents are not named in full."""
    if is_agent_message(session, message):
        first_name = message.author.first_name
        return _("%(name)s, agent du support") % {"name": first_name} if first_name else _("Agent du support")
    return str(message.author)


def message_json(session, message) -> dict:
    return {
        "id": message.pk,
        "author": author_label(session, message),
        "is_agent": is_agent_message(session, message),
        "body": message.body,
        "created_at": timezone.localtime(message.created_at).isoformat(),
    }


def check_body(body) -> str:
    """The message as stored (surrounding blank space removed), or ChatRefused."""
    body = (body or "").strip()
    if not body:
        raise ChatRefused(_("Écrivez un message avant de l’envoyer."))
    if len(body) > MAX_MESSAGE_LENGTH:
        raise ChatRefused(
            _("Le message ne doit pas dépasser %(max)s caractères (il en compte %(count)s).")
            % {"max": MAX_MESSAGE_LENGTH, "count": len(body)}
        )
    return body


# Services


@transaction.atomic
def chat_start(*, user, theme, now=None) -> ChatSession:
    """Open a chat waiting for an agent, during opening hours, one at a time per user."""
    if not theme.is_active:
        raise ChatRefused(_("Ce thème n’est plus proposé : choisissez-en un autre."))
    if not is_open(now):
        raise ChatRefused(
            _("Les agents ne sont pas disponibles en ce moment. Horaires : %(hours)s.")
            % {"hours": hours_label()}
        )
    # The user's row serialises two starts sent at the same moment.
    get_user_model().objects.select_for_update().get(pk=user.pk)
    if ChatSession.objects.filter(OPEN, user=user).exists():
        raise ChatRefused(_("Vous avez déjà un échange en cours : terminez-le avant d’en ouvrir un autre."))
    session = ChatSession.objects.create(user=user, theme=theme)
    audit.record(actor=user, obj=session, action=AuditAction.CHAT_START, changes={"theme": theme.name})
    return session


def chat_take(*, session_id: int, agent) -> ChatSession:
    """An agent takes a waiting chat. One conditional UPDATE: of two agents at the same
    moment, exactly one gets it."""
    with transaction.atomic():
        taken = ChatSession.objects.filter(WAITING, pk=session_id).update(
            status=Status.EN_COURS, agent=agent, taken_at=timezone.now()
        )
        session = ChatSession.objects.select_related("user", "theme", "agent").get(pk=session_id)
        if not taken:
            if is_ended(session):
                raise ChatRefused(_("Cet échange est terminé."))
            raise ChatRefused(_("Cet échange est déjà pris en charge."))
        audit.record(actor=agent, obj=session, action=AuditAction.CHAT_TAKE)
    return session


def _lock(session_id) -> ChatSession:
    return (
        ChatSession.objects.select_for_update(of=("self",)).select_related("user", "agent").get(pk=session_id)
    )


def check_can_write(session, user):
    """Refuse, with the reason, a message this user may not write in this chat."""
    if is_ended(session):
        raise ChatRefused(_("Cet échange est terminé : vous ne pouvez plus y écrire."))
    if user.pk == session.user_id:
        return
    if session.agent_id is None:
        raise ChatRefused(_("Prenez en charge cet échange avant d’y répondre."))
    if session.agent_id != user.pk:
        raise ChatRefused(_("Cet échange est pris en charge par un autre agent."))


@transaction.atomic
def chat_post(*, session_id: int, author, body: str) -> ChatMessage:
    """Add a message from the chat's user or its agent."""
    session = _lock(session_id)
    check_can_write(session, author)
    return ChatMessage.objects.create(session=session, author=author, body=check_body(body))


def _close(session):
    session.ended_at = timezone.now()
    session.status = Status.TERMINE
    session.save(update_fields=["ended_at", "status"])


def _end(session, actor, action):
    _close(session)
    audit.record(actor=actor, obj=session, action=action)


@transaction.atomic
def chat_end(*, session_id: int, actor) -> ChatSession:
    """End a chat, by its user or by its agent."""
    session = _lock(session_id)
    if is_ended(session):
        raise ChatRefused(_("Cet échange est déjà terminé."))
    if actor.pk not in (session.user_id, session.agent_id):
        raise ChatRefused(_("Seuls l’utilisateur et l’agent de cet échange peuvent y mettre fin."))
    _end(session, actor, AuditAction.CHAT_END)
    return session


def transcript(session) -> str:
    """The whole chat as plain text, in Paris time."""
    session = ChatSession.objects.select_related("user", "agent", "theme").get(pk=session.pk)
    lines = [
        _("Échange avec un agent — %(theme)s") % {"theme": session.theme.name},
        _("Ouvert le %(date)s par %(user)s")
        % {"date": _datetime_label(session.created_at), "user": session.user},
    ]
    if session.agent_id:
        lines.append(_("Pris en charge le %(date)s") % {"date": _datetime_label(session.taken_at)})
    if session.ended_at:
        lines.append(_("Terminé le %(date)s") % {"date": _datetime_label(session.ended_at)})
    lines.append("")
    for message in session.messages.select_related("author").order_by("created_at", "id"):
        lines.append(f"[{_datetime_label(message.created_at)}] {author_label(session, message)} :")
        lines.extend(message.body.splitlines() or [""])
        lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"


def _datetime_label(value) -> str:
    if value is None:
        return ""
    return formats.date_format(timezone.localtime(value, ZoneInfo(TIME_ZONE)), "d/m/Y H:i")


def ticket_title(session) -> str:
    return _("Échange avec un agent du %(date)s") % {
        "date": formats.date_format(timezone.localtime(session.created_at, ZoneInfo(TIME_ZONE)), "d/m/Y")
    }


@transaction.atomic
def chat_to_ticket(*, session_id: int, user) -> Ticket:
    """Turn the user's chat into a submitted ticket whose description is the transcript,
    routed by the chat's theme; the chat ends and keeps a link to the ticket."""
    session = _lock(session_id)
    if session.user_id != user.pk:
        raise ChatRefused(_("Seul l’utilisateur de cet échange peut en faire un ticket."))
    if session.ticket_id is not None:
        raise ChatRefused(
            _("Cet échange a déjà été transformé en ticket (%(number)s).") % {"number": session.ticket.number}
        )
    if not session.messages.exists():
        raise ChatRefused(_("Cet échange ne contient aucun message : il n’y a rien à transmettre."))
    subcategory = (
        SubCategory.objects.filter(category_id=session.theme_id, is_active=True)
        .order_by("order", "name")
        .first()
    )
    if subcategory is None:
        raise ChatRefused(
            _("Ce thème n’a pas de sous-catégorie active : ouvrez un ticket depuis Nous contacter.")
        )
    queue = Queue.objects.filter(code=subcategory.queue_code).first()
    if queue is None:
        raise ChatRefused(
            _("La file du support n’est pas configurée : ouvrez un ticket depuis Nous contacter.")
        )
    ending = not is_ended(session)
    if ending:
        _close(session)
    ticket = Ticket.objects.create(
        requester=user,
        contact_email=user.notification_email,
        phone=user.phone,
        category_id=session.theme_id,
        subcategory=subcategory,
        object_type=subcategory.object_type,
        queue=queue,
        title=ticket_title(session),
        description=transcript(session),
    )
    ticket = workflow.ticket_transition(
        ticket_id=ticket.pk, actor=user, role=workflow.REQUESTER, to_status=Ticket.Status.SOUMIS
    )
    session.ticket = ticket
    session.save(update_fields=["ticket"])
    # Recorded once the ticket has its number: the audit chain's lock comes after the
    # ticket counter's, as in every other submission (see support.services.workflow.next_number).
    if ending:
        audit.record(actor=user, obj=session, action=AuditAction.CHAT_END)
    audit.record(
        actor=user, obj=session, action=AuditAction.CHAT_TO_TICKET, changes={"ticket": ticket.number}
    )
    return ticket
