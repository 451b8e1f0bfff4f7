"""Emails of the portal: a subject and a body template per message, sent on commit
by a background job (core.tasks.send_email)."""

import logging
import uuid

from django.db import transaction
from django.template import Context
from django.template.loader import get_template

from core.tasks import send_email

logger = logging.getLogger(__name__)


def send_templated(*, template: str, to: list[str] | str, context: dict) -> None:
    """Render <template>_subject.txt and _body.txt now, and hand the message to the
    email job once the current transaction commits: no email for a change that was
    rolled back. An email is named by its app's folder: "support/email/ticket_submitted"
    is templates/support/email/ticket_submitted_{subject,body}.txt."""
    recipients = [to] if isinstance(to, str) else list(to)
    if not recipients:
        return
    # A subject is one header line: a name typed with a line break stays on it.
    subject = " ".join(render_plain(f"{template}_subject.txt", context).split())
    body = render_plain(f"{template}_body.txt", context)
    # Rendered here, in the request's language and with the objects as they are now;
    # the key lets a retried or redelivered job recognise a message already sent.
    message = {
        "key": f"{template}:{uuid.uuid4()}",
        "subject": subject,
        "body": body,
        "recipients": recipients,
    }
    transaction.on_commit(lambda: dispatch(message))


def render_plain(name: str, context: dict) -> str:
    """Render a text/plain template with autoescaping off: an HTML entity would reach
    the reader as is ("d&#x27;architecture"). Nothing here is ever shown as HTML."""
    return get_template(name).template.render(Context(context, autoescape=False))


def dispatch(message: dict) -> None:
    """Enqueue the email job; if the broker cannot take it, send inline. Runs after the
    commit, so it never raises: the decision the email reports is already saved."""
    try:
        send_email.apply_async(kwargs=message)
        return
    except Exception:
        logger.exception("Broker unreachable, sending email %s inline", message["key"])
    result = send_email.apply(kwargs=message, throw=False)
    if result.failed():
        logger.error("Email %s could not be sent: %r", message["key"], result.result)
