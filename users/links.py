"""Signed links of the account pages (confirm a new login address, reactivate,
unlock). Each carries a fingerprint of the account (its login, password hash and
active state): once used, the account changed and the link no longer matches, so each
link works once."""

from django.contrib.auth import get_user_model
from django.core import signing
from django.shortcuts import render
from django.utils.crypto import constant_time_compare, salted_hmac

from chorus.models import AuditEvent
from core.pages import page_context


def fingerprint(user, salt):
    return salted_hmac(salt, f"{user.pk}|{user.email}|{user.password}|{user.is_active}").hexdigest()[:32]


def make_token(user, salt, **extra):
    return signing.dumps({"u": user.pk, "f": fingerprint(user, salt), **extra}, salt=salt)


def read_token(token, salt, max_age):
    """(payload, expired) of a genuine link, (None, False) for a forged one."""
    try:
        return signing.loads(token, salt=salt, max_age=max_age), False
    except signing.SignatureExpired:
        return signing.loads(token, salt=salt), True
    except signing.BadSignature:
        return None, False


def matches(user, payload, salt) -> bool:
    return constant_time_compare(str(payload.get("f", "")), fingerprint(user, salt))


def token_user(payload, salt, *, lock=False):
    """The account a genuine payload designates, if the link still matches it."""
    if not isinstance(payload, dict):
        return None
    User = get_user_model()
    users = User.objects.select_for_update() if lock else User.objects
    user = users.filter(pk=payload.get("u")).first()
    if user is None or not matches(user, payload, salt):
        return None
    return user


def last_account_event_id(user):
    """The last recorded change of the account. A reactivation or unlock link names
    the change it was sent after: any later change (the reactivation or unlock itself,
    an operator's action) makes it stale."""
    return (
        AuditEvent.objects.filter(object_type=get_user_model()._meta.label, object_id=str(user.pk))
        .order_by("-created_at", "-id")
        .values_list("pk", flat=True)
        .first()
    )


def link_page(request, *, title, message, status=200, **extra):
    """The page a link answers with when it cannot do its work (invalid, expired)."""
    context = {"message": message, "resend_url": "", **extra}
    return render(request, "users/me_link.html", page_context(title, **context), status=status)
