"""Reads of the agents' back-office: the tickets agents see, the open work per queue,
and the satisfaction ratings."""

from django.db.models import Avg, Count

from support.models import Queue, Rating, Ticket

S = Ticket.Status
# Statuses agents count and filter by (drafts are the requester's own).
COUNTED_STATUSES = [status for status in S if status != S.BROUILLON]
# The summary table shows the work to do; closed tickets, most of the history, are
# reached through the status filter. Same list as the partial index ticket_open_queue_status.
OPEN_STATUSES = [status for status in COUNTED_STATUSES if status != S.CLOTURE]


def agent_tickets():
    """Every ticket agents may see: drafts belong to their author alone."""
    return Ticket.objects.exclude(status=S.BROUILLON)


def open_counts() -> dict:
    """{(queue id, status): number of open tickets}, in one query."""
    return {
        (row["queue_id"], row["status"]): row["n"]
        for row in agent_tickets()
        .filter(status__in=OPEN_STATUSES)
        .values("queue_id", "status")
        # COUNT(*), not COUNT(id): the partial index alone answers (index-only scan).
        .annotate(n=Count("*"))
        .order_by("queue_id", "status")
    }


def ratings_by_queue():
    return Queue.objects.annotate(
        average=Avg("tickets__rating__score"), count=Count("tickets__rating")
    ).order_by("order", "name")


def ratings_by_agent():
    """Averages per agent holding the ticket when it was rated, with their name parts."""
    return (
        Rating.objects.values(
            "ticket__assigned_to_id",
            "ticket__assigned_to__first_name",
            "ticket__assigned_to__last_name",
            "ticket__assigned_to__email",
        )
        .annotate(average=Avg("score"), count=Count("id"))
        .order_by(
            "ticket__assigned_to__last_name", "ticket__assigned_to__first_name", "ticket__assigned_to_id"
        )
    )


def latest_comments(*, limit: int):
    return (
        Rating.objects.exclude(comment="")
        .select_related("ticket__queue", "ticket__assigned_to")
        .order_by("-created_at", "-id")[:limit]
    )
