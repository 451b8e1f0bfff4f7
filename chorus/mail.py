"""Emails of the portal: a subject and a body template per message, sent on commit."""

from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string


def send_templated(*, template: str, to: list[str] | str, context: dict) -> None:
    """Render templates/email/<template>_subject.txt and _body.txt and send them once
    the current transaction commits: no email for a change that was rolled back."""
    recipients = [to] if isinstance(to, str) else list(to)
    if not recipients:
        return
    subject = "".join(render_to_string(f"email/{template}_subject.txt", context).splitlines())
    body = render_to_string(f"email/{template}_body.txt", context)
    transaction.on_commit(lambda: send_mail(subject, body, None, recipients))
