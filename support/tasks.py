"""Background jobs of support: closing the resolved tickets left unanswered (Celery beat)."""

from celery import shared_task
from django.db import OperationalError

from support.services.tickets import AUTOCLOSE_DAYS, tickets_autoclose


@shared_task(
    acks_late=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
    label="support — clôture des tickets résolus sans réponse",
)
def support_autoclose(days: int = AUTOCLOSE_DAYS) -> list[str]:
    """What `manage.py support_autoclose` does. Idempotent: a closed ticket is no longer
    a candidate, and each ticket is checked again under its lock."""
    return tickets_autoclose(days=days)
