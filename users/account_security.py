"""What protects an account beyond its password: who is told of a security change, how
often the account pages may send email, and how the owner of a locked account proves
who they are to get in again."""

import time

from axes.handlers.proxy import AxesProxyHandler
from axes.utils import reset as axes_reset
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_login_failed
from django.db import transaction

from chorus import audit
from core import mail
from core.ratelimit import Limit, client_address, hit_all

# At most this many emails per hour to one address, and requests per hour from one
# client, per kind of link: enough for a typo and a retry, not for a flood.
PASSWORD_RESET_EMAIL = Limit("password_reset_email", rate=3, period=3600)
PASSWORD_RESET_CLIENT = Limit("password_reset_client", rate=20, period=3600)
ACTIVATION_EMAIL = Limit("activation_resend_email", rate=3, period=3600)
ACTIVATION_CLIENT = Limit("activation_resend_client", rate=20, period=3600)
CHANGE_EMAIL_USER = Limit("change_email_user", rate=5, period=3600)
CHANGE_EMAIL_TARGET = Limit("change_email_target", rate=3, period=3600)
UNLOCK_EMAIL = Limit("unlock_email", rate=3, period=3600)
UNLOCK_CLIENT = Limit("unlock_client", rate=20, period=3600)
# Password and code on the lockout page: a locked account must not become a place to
# guess passwords at leisure.
UNLOCK_CODE_EMAIL = Limit("unlock_code_email", rate=5, period=3600)
UNLOCK_CODE_CLIENT = Limit("unlock_code_client", rate=20, period=3600)
# "Someone tried to sign up with your address": one notice an hour is enough.
SIGNUP_TAKEN_EMAIL = Limit("signup_taken_email", rate=1, period=3600)

# A browser that followed an unlock link may log in to that account for this long,
# whatever failures others add meanwhile.
UNLOCK_GRANT_SESSION_KEY = "users_unlock_grant"
UNLOCK_GRANT_MAX_AGE = 15 * 60


def client_and_target(request, client_limit, target_limit, target) -> bool:
    """One attempt by this client at this target (an address, an account)."""
    return hit_all((client_limit, client_address(request)), (target_limit, target))


# Security notifications


def security_recipients(user) -> list[str]:
    """The login address, and the contact address when it is another one: a change
    made from a stolen session must reach the owner wherever they read their mail."""
    recipients = []
    for email in (user.email, user.contact_email):
        if email and email.lower() not in {known.lower() for known in recipients}:
            recipients.append(email)
    return recipients


def security_notify(*, user, template, context=None, also=()) -> None:
    """Email a security notification, on commit, to the login and contact addresses
    (and to the addresses in `also`: one that was just replaced), each once."""
    to = security_recipients(user)
    for email in also:
        if email and email.lower() not in {known.lower() for known in to}:
            to.append(email)
    mail.send_templated(template=template, to=to, context={"user": user, **(context or {})})


# Passwords typed inside a session


def credentials_of(user) -> dict:
    return {"username": user.email}


def is_locked(request, user) -> bool:
    """Whether the lockout refuses this account to this request, as it would a login."""
    return not AxesProxyHandler.is_allowed(request, credentials_of(user))


def password_failed(request, user) -> bool:
    """A wrong password typed on a page of a logged-in session is a failed login, for
    the same count: a stolen session cannot be used to guess the password. True when
    this failure locks the account."""
    user_login_failed.send(sender=__name__, credentials=credentials_of(user), request=request)
    return bool(getattr(request, "axes_locked_out", False))


# Unlocking


def unlock_grant(request, username) -> None:
    request.session[UNLOCK_GRANT_SESSION_KEY] = {"username": username.lower(), "at": time.time()}


def unlock_grant_clear(request) -> None:
    if hasattr(request, "session"):
        request.session.pop(UNLOCK_GRANT_SESSION_KEY, None)


def unlocked_here(request, credentials) -> bool:
    """AXES_WHITELIST_CALLABLE: the browser that followed the account's unlock link
    logs in to it without the lockout (others' failures keep counting and locking)."""
    session = getattr(request, "session", None)
    grant = session.get(UNLOCK_GRANT_SESSION_KEY) if session is not None else None
    if not isinstance(grant, dict) or time.time() - grant.get("at", 0) > UNLOCK_GRANT_MAX_AGE:
        return False
    username = ((credentials or {}).get("username") or "").strip().lower()
    return bool(username) and username == grant.get("username")


@transaction.atomic
def account_unlock(*, user_id: int, check):
    """Lift the lockout of the account whose unlock link was followed. `check(user)`
    tells, under the row lock, whether the link still matches the account (it does
    not once used: this records a change of the account). Returns the user, or None."""
    user = get_user_model().objects.select_for_update().filter(pk=user_id, is_active=True).first()
    if user is None or not check(user):
        return None
    axes_reset(username=user.email)
    audit.record(actor=user, obj=user, action="user_unlock")
    return user
