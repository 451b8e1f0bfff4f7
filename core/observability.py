"""Request ids and the access log.

Each request gets an id: the caller's X-Request-ID when it looks like one (a load
balancer or another service may have set it, so that one request can be followed
across machines), a new one otherwise. It is sent back in the X-Request-ID response
header and carried by every log line written while the request runs, together with
one access-log line per request (method, path, status, duration, user id)."""

import contextvars
import logging
import re
import time
import uuid

from django.core.signals import request_finished
from django.dispatch import receiver
from django.utils.functional import SimpleLazyObject, empty

request_id_var = contextvars.ContextVar("request_id", default="-")

# Anything else (too long, spaces, quotes, newlines) could forge or break log lines.
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9\-_.]{1,64}")

access_logger = logging.getLogger("chorus.access")


def current_request_id():
    return request_id_var.get()


def _request_id(request):
    given = request.headers.get("X-Request-ID", "")
    return given if SANE_REQUEST_ID.fullmatch(given) else uuid.uuid4().hex


def _user_id(request):
    """The user's id if the request already loaded the user: a log line is no reason to
    read the session (the health probes never do)."""
    user = getattr(request, "user", None)
    if user is None or (isinstance(user, SimpleLazyObject) and user._wrapped is empty):
        return None
    return user.pk if user.is_authenticated else None


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.request_id = _request_id(request)
        # Kept until the response is closed (see _forget_request_id): Django logs 4xx and
        # 5xx answers, and a streamed download runs, after the middleware has returned.
        request_id_var.set(request.request_id)
        started = time.perf_counter()
        response = self.get_response(request)
        response["X-Request-ID"] = request.request_id
        duration_ms = round((time.perf_counter() - started) * 1000, 1)
        access_logger.info(
            "%s %s %s %sms",
            request.method,
            request.path,
            response.status_code,
            duration_ms,
            extra={
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "duration_ms": duration_ms,
                "user_id": _user_id(request),
            },
        )
        return response


@receiver(request_finished, dispatch_uid="core.observability.forget_request_id")
def _forget_request_id(**kwargs):
    request_id_var.set("-")


class RequestIdFilter(logging.Filter):
    """Adds the current request id to every record (a dash outside a request)."""

    def filter(self, record):
        record.request_id = request_id_var.get()
        return True
