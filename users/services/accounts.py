"""What protects an account beyond its password: who is told of a security change, how
often the account pages may send email, and how the owner of a locked account proves
who they are to get in again."""

import time

from axes.handlers.proxy import AxesProxyHandler
from axes.utils import reset as axes_reset
from django.conf import settings
from django.contrib.auth.signals import user_login_failed
from django.contrib.auth.tokens import default_token_generator
from django.db import transaction
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _

from chorus import audit
from chorus.actions import AuditAction
from core import mail
from core.errors import Refused
from core.ratelimit import Limit, client_address, hit_all
from users.models import User
from users.selectors import last_account_event_id, password_reset_accounts
from users.services.invitations import invitations_accept
from users.tokens import TokenStatus, activation_token, make_token

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

# Named where the unlock links were first made: changing it would void those already sent.
UNLOCK_SALT = "users.views.unlock"
UNLOCK_MAX_AGE = 60 * 60

# A browser that followed an unlock link may log in to that account for this long,
# whatever failures others add meanwhile.
UNLOCK_GRANT_SESSION_KEY = "users_unlock_grant"
UNLOCK_GRANT_MAX_AGE = 15 * 60


def client_and_target(request, client_limit, target_limit, target) -> bool:
    """One attempt by this client at this target (an address, an account)."""
    return hit_all((client_limit, client_address(request)), (target_limit, target))


# Security notifications


def lockout_username(request, credentials):
    """The login django-axes counts failures against (AXES_USERNAME_CALLABLE): logins are
    case-insensitive, so "Jean@…" and "jean@…" are the same account, here and in the admin."""
    username = (credentials or {}).get("username") or request.POST.get("username", "")
    return username.strip().lower()


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


def unlock_link_send(*, user, link_url) -> None:
    """Email the account's login address a link that unlocks it. `link_url(token)` is
    the link's absolute URL."""
    token = make_token(user, UNLOCK_SALT, d=last_account_event_id(user=user))
    mail.send_templated(
        template="users/email/unlock",
        to=user.email,
        context={"user": user, "unlock_url": link_url(token), "validity_minutes": UNLOCK_MAX_AGE // 60},
    )


@transaction.atomic
def account_unlock(*, user_id: int, check):
    """Lift the lockout of the account whose unlock link was followed. `check(user)`
    tells, under the row lock, whether the link still matches the account (it does
    not once used: this records a change of the account). Returns the user, or None."""
    user = User.objects.select_for_update().filter(pk=user_id, is_active=True).first()
    if user is None or not check(user):
        return None
    axes_reset(username=user.email)
    audit.record(actor=user, obj=user, action=AuditAction.USER_UNLOCK)
    return user


@transaction.atomic
def users_deactivate(*, user_ids, actor) -> list[User]:
    """Deactivate accounts from the back-office: they can no longer log in, and what they
    did stays in the history (deleting an account with a history is refused). Accounts
    already inactive are left as they are; each one deactivated is audited."""
    if actor.pk in set(user_ids):
        raise Refused(
            _("Vous ne pouvez pas désactiver votre propre compte : aucun compte n’a été désactivé.")
        )
    users = list(User.objects.select_for_update().filter(pk__in=user_ids, is_active=True).order_by("pk"))
    for user in users:
        user.is_active = False
        user.save(update_fields=["is_active"])
    # Recorded after every row is locked (chorus.audit: lock first, record last).
    for user in users:
        audit.record(
            actor=actor,
            obj=user,
            action=AuditAction.USER_DEACTIVATE,
            changes={"is_active": {"before": True, "after": False}},
        )
    return users


# Sign-up, activation and the account's own details


def activation_link_send(*, user, link_url) -> None:
    """Email the activation link to the login address, once the transaction that
    created (or found) the account has committed. `link_url(uidb64, token)` is the
    link's absolute URL."""
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    context = {
        "user": user,
        "activation_url": link_url(uid, activation_token.make_token(user)),
        "validity_minutes": settings.ACCOUNT_ACTIVATION_TIMEOUT // 60,
    }
    mail.send_templated(template="users/email/activation", to=user.email, context=context)


def signup_taken_notify(*, user, urls) -> None:
    """Tell the owner of the address someone tried to sign up with it, with the ways
    in (`urls`: login_url, password_reset_url, activation_resend_url)."""
    mail.send_templated(
        template="users/email/signup_taken",
        to=user.email,
        context={
            "user": user,
            **urls,
            # Never activated: the way in is a new activation link.
            "activated": user.is_active or user.activated_at is not None,
        },
    )


@transaction.atomic
def user_signup(*, user, link_url) -> User:
    """Save the new account, inactive until its owner follows the activation link sent
    to the address. Raises IntegrityError when the address signed up a moment earlier."""
    user.save()
    audit.record(actor=user, obj=user, action=AuditAction.USER_SIGNUP)
    activation_link_send(user=user, link_url=link_url)
    return user


@transaction.atomic
def user_activate(*, user, token) -> TokenStatus:
    """Activate the account the link was made for, and attach it where it was invited
    before it existed. Locked and checked again, so that two clicks at once activate
    only once."""
    user = User.objects.select_for_update().get(pk=user.pk)
    status = activation_token.check(user, token)
    if status is TokenStatus.VALID:
        user.is_active = True
        user.activated_at = timezone.now()
        user.save(update_fields=["is_active", "activated_at"])
        audit.record(actor=user, obj=user, action=AuditAction.USER_ACTIVATE)
        invitations_accept(user=user)
    return status


@transaction.atomic
def user_update(*, actor, changes) -> None:
    """Save the user's own details (already set on `actor`) and record what changed;
    a new contact address is told to both addresses."""
    actor.save()
    if not changes:
        return
    audit.record(actor=actor, obj=actor, action=AuditAction.USER_UPDATE, changes=changes)
    if "contact_email" in changes:
        old_contact_email = changes["contact_email"]["before"]
        security_notify(
            user=actor,
            template="users/email/contact_email_changed",
            context={"old_email": old_contact_email},
            also=[old_contact_email],
        )


def password_reset_links_send(*, email: str, domain: str, use_https: bool) -> None:
    """Email a reset link to each account that may reset its password at this address;
    nothing when there is none. The link is Django's (uid and token of the reset view)."""
    for user in password_reset_accounts(email=email):
        context = {
            "email": user.email,
            "domain": domain,
            "site_name": domain,
            "uid": urlsafe_base64_encode(force_bytes(user.pk)),
            "user": user,
            "token": default_token_generator.make_token(user),
            "protocol": "https" if use_https else "http",
            "validity_minutes": settings.PASSWORD_RESET_TIMEOUT // 60,
        }
        mail.send_templated(template="users/email/password_reset", to=user.email, context=context)


def password_reset_record(*, user) -> None:
    """The password was reset through an emailed link: proving ownership of the
    address lifts the lockout of failed logins; the owner is told."""
    axes_reset(username=user.get_username())
    audit.record(actor=user, obj=user, action=AuditAction.PASSWORD_RESET)
    security_notify(user=user, template="users/email/password_changed")


def password_change_record(*, actor) -> None:
    audit.record(actor=actor, obj=actor, action=AuditAction.PASSWORD_CHANGE)
    security_notify(user=actor, template="users/email/password_changed")
