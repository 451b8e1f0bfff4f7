"""Background jobs of the account pages."""

import logging

from celery import shared_task
from django.db import transaction
from django.utils import translation

from users.services.accounts import password_reset_links_send

logger = logging.getLogger(__name__)


@shared_task(ignore_result=True)
def password_reset_send(*, email: str, domain: str, use_https: bool, language: str) -> None:
    """Email a reset link to the active accounts at this address; nothing when there
    is none. The request hands every address to this job, known or not, so that it
    does the same work either way and its answer time tells nothing."""
    with translation.override(language):
        password_reset_links_send(email=email, domain=domain, use_https=use_https)


def password_reset_enqueue(*, email: str, domain: str, use_https: bool) -> None:
    kwargs = {
        "email": email,
        "domain": domain,
        "use_https": use_https,
        "language": translation.get_language(),
    }
    transaction.on_commit(lambda: _dispatch(kwargs))


def _dispatch(kwargs):
    # As core.mail.dispatch: when the broker cannot take the job, run it here.
    try:
        password_reset_send.apply_async(kwargs=kwargs)
        return
    except Exception:
        logger.exception("Broker unreachable, running the password reset job inline")
    password_reset_send.apply(kwargs=kwargs, throw=False)
