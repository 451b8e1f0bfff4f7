"""Background jobs shared by every app: sending an email, purging the kept uploads."""

import logging
from io import StringIO

from celery import shared_task
from django.core.cache import cache
from django.core.mail import send_mail
from django.core.management import call_command

logger = logging.getLogger(__name__)

# Long enough to cover every redelivery of a message (retries last minutes; the Redis
# broker redelivers an unacknowledged task after an hour).
SENT_MARK_TIMEOUT = 7 * 24 * 60 * 60
# One attempt to talk to the SMTP server takes seconds; a copy that holds the claim
# longer than this has died.
CLAIM_TIMEOUT = 5 * 60


def _cache_call(method, *args, **kwargs):
    """A cache operation that degrades to None when the cache is unreachable: when
    Redis is down, sending twice is better than not sending."""
    try:
        return getattr(cache, method)(*args, **kwargs)
    except Exception:
        logger.warning("Cache unreachable, email idempotency not enforced", exc_info=True)
        return None


@shared_task(
    # The name the queued messages carry, kept when the module moved: a worker of any
    # version takes the messages enqueued by another.
    name="chorus.tasks.send_email",
    bind=True,
    acks_late=True,
    # Nobody reads the outcome; and not subscribing to a result keeps an enqueue while
    # Redis is down quick to fail, so that the inline fallback comes at once.
    ignore_result=True,
    # SMTPException is an OSError, as are refused connections and timeouts: transient.
    autoretry_for=(OSError,),
    retry_backoff=True,
    retry_backoff_max=10 * 60,
    retry_jitter=True,
    max_retries=12,
)
def send_email(self, *, key: str, subject: str, body: str, recipients: list[str]) -> bool:
    """Send one rendered email, at most once per `key`, whatever the retries and
    redeliveries. Returns False when this key was already sent (or is being sent)."""
    sent_key, claim_key = f"mail:sent:{key}", f"mail:claim:{key}"
    if _cache_call("get", sent_key):
        return False
    # The claim keeps two copies of the same message (a redelivery while the first
    # copy still runs) from sending at the same time.
    if _cache_call("add", claim_key, self.request.id or "inline", timeout=CLAIM_TIMEOUT) is False:
        logger.info("Email %s is being sent by another worker", key)
        return False
    try:
        send_mail(subject, body, None, recipients)
    except Exception:
        _cache_call("delete", claim_key)
        raise
    _cache_call("set", sent_key, True, timeout=SENT_MARK_TIMEOUT)
    _cache_call("delete", claim_key)
    return True


# The name the beat schedule and the queued messages carry, kept when the task moved here.
@shared_task(
    name="structures.tasks.kept_uploads_purge",
    label="purge des fichiers conservés après une erreur de formulaire",
)
def kept_uploads_purge() -> int:
    """`manage.py kept_uploads_purge`: the files kept after a form error that nobody
    came back for."""
    out = StringIO()
    call_command("kept_uploads_purge", stdout=out)
    logger.info("kept_uploads_purge: %s", out.getvalue().strip())
    return out.getvalue()
