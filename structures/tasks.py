"""Background jobs of structures: the nightly refresh from the INSEE Sirene register."""

import logging
from io import StringIO

from celery import shared_task
from django.core.management import CommandError, call_command
from django.utils import timezone

logger = logging.getLogger(__name__)


@shared_task(bind=True, acks_late=True, max_retries=4, label="structures — mise à jour depuis la base INSEE")
def sirene_refresh(self, since: str | None = None) -> str:
    """`manage.py sirene_refresh`, the very same code. Idempotent: every structure is
    saved as soon as it is refreshed, and a retry resumes with --since the first
    attempt's start, skipping what is already done. Returns the command's summary."""
    since = since or timezone.now().isoformat()
    out, err = StringIO(), StringIO()
    try:
        call_command("sirene_refresh", since=since, stdout=out, stderr=err)
    except CommandError as error:
        # The register was unavailable or the quota exhausted: try again later.
        logger.warning("sirene_refresh interrupted, retrying: %s", error)
        countdown = min(10 * 60 * 2**self.request.retries, 60 * 60)
        raise self.retry(exc=error, countdown=countdown, kwargs={"since": since}) from error
    summary = out.getvalue()
    logger.info("sirene_refresh: %s", summary)
    return summary

