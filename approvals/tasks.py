"""Background jobs of approvals: the approvers' hourly digest (Celery beat)."""

from celery import shared_task
from django.db import OperationalError

from approvals.services import digest_send


@shared_task(
    acks_late=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
    label="approbations — récapitulatif des demandes",
)
def approvals_digest() -> dict:
    """What `manage.py approvals_digest` does. Idempotent: a request already announced
    (notified_at) is never announced again, and overlapping runs skip locked rows."""
    emails, requests = digest_send()
    return {"emails": emails, "requests": requests}
