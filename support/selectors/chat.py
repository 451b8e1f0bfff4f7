"""Reads of the chats: which ones a user may open, their current and recent chats, and
what the agents' list shows."""

from django.db.models import Count, Q

from support.models import ChatSession

Status = ChatSession.Status

# Chats still going on, and those waiting for an agent.
OPEN = ~Q(status=Status.TERMINE)
WAITING = Q(status=Status.EN_ATTENTE)


def chat_sessions(*, user, is_agent: bool):
    """The chats this user may open: their own, or every chat for a support agent.
    Anybody else's is a 404, which does not confirm that the chat exists."""
    sessions = ChatSession.objects.select_related("user", "agent", "theme", "ticket")
    if is_agent:
        return sessions
    return sessions.filter(user=user)


def own_chats(*, user):
    """The user's own chats: only they turn one into a ticket in their name."""
    return ChatSession.objects.filter(user=user)


def current_chat(*, user) -> ChatSession | None:
    return ChatSession.objects.filter(OPEN, user=user).order_by("-created_at", "-id").first()


def recent_chats(*, user, limit: int) -> list[ChatSession]:
    return list(own_chats(user=user).select_related("theme").order_by("-created_at", "-id")[:limit])


def waiting_chats() -> list[ChatSession]:
    return list(
        ChatSession.objects.filter(WAITING)
        .select_related("user", "theme")
        .annotate(message_count=Count("messages"))
        .order_by("theme__order", "theme__name", "created_at", "id")
    )


def agent_open_chats(*, agent) -> list[ChatSession]:
    return list(
        ChatSession.objects.filter(OPEN, agent=agent, status=Status.EN_COURS)
        .select_related("user", "theme")
        .order_by("taken_at", "id")
    )
