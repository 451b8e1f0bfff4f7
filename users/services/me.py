"""The user's own account changes (Mon compte): a new login address confirmed by an
emailed link, deactivation, and reactivation by the link sent then.

The links are signed (users.tokens) and carry a fingerprint of the account: once used,
the account changed and the link no longer matches, so each link works once."""

from django.db import IntegrityError, transaction

from chorus import audit
from chorus.actions import AuditAction
from core import mail
from users import tokens
from users.models import User
from users.selectors import last_account_event_id, structures_to_transfer
from users.services.accounts import security_notify

# The salts name where the links were first made: changing them would void the links
# already sent.
CHANGE_EMAIL_SALT = "users.views_me.change_email"
CHANGE_EMAIL_MAX_AGE = 60 * 60
REACTIVATE_SALT = "users.views_me.reactivate"
REACTIVATE_MAX_AGE = 7 * 24 * 60 * 60


class EmailTaken(Exception):
    """The new login address belongs to another account now."""


@transaction.atomic
def email_change_request(*, actor, new_email, link_url) -> None:
    """Email the new address a link that makes it the login address; nothing changes
    until it is followed. `link_url` turns the link's token into its absolute URL."""
    audit.record(
        actor=actor,
        obj=actor,
        action=AuditAction.USER_EMAIL_CHANGE_REQUEST,
        changes={"email": {"before": actor.email, "after": new_email}},
    )
    mail.send_templated(
        template="users/email/change_email",
        to=new_email,
        context={
            "user": actor,
            "new_email": new_email,
            "confirm_url": link_url(tokens.make_token(actor, CHANGE_EMAIL_SALT, e=new_email)),
            "validity_minutes": CHANGE_EMAIL_MAX_AGE // 60,
        },
    )


def email_change_confirm(*, payload):
    """Make the address the link carries the login address of the account it names:
    the account, or None when the link no longer matches it. Raises EmailTaken when
    another account has the address now."""
    new_email = payload.get("e", "")
    try:
        with transaction.atomic():
            user = tokens.token_user(payload, CHANGE_EMAIL_SALT, lock=True)
            if user is None or not new_email:
                return None
            if User.objects.filter(email__iexact=new_email).exclude(pk=user.pk).exists():
                raise IntegrityError
            old_email = user.email
            user.email = new_email
            user.save(update_fields=["email"])
            audit.record(
                actor=user,
                obj=user,
                action=AuditAction.USER_EMAIL_CHANGE,
                changes={"email": {"before": old_email, "after": new_email}},
            )
            # The old address (and the contact address) learn of the change: if it was
            # not their owner's doing, they can react.
            security_notify(
                user=user,
                template="users/email/change_email_done",
                context={"old_email": old_email, "new_email": new_email},
                also=[old_email],
            )
    except IntegrityError as error:
        raise EmailTaken from error
    return user


def reactivation_link_send(*, user, link_url) -> None:
    """To the login and the contact addresses: a deactivation the owner did not make
    must reach them, with the way back."""
    token = tokens.make_token(user, REACTIVATE_SALT, d=last_account_event_id(user=user))
    security_notify(
        user=user,
        template="users/email/reactivate",
        context={"reactivate_url": link_url(token), "validity_days": REACTIVATE_MAX_AGE // (24 * 60 * 60)},
    )


@transaction.atomic
def account_deactivate(*, actor, link_url) -> list:
    """The user deactivates their own account, unless they are principal manager of a
    structure where others are attached: those structures are returned, and nothing
    changes. Otherwise a link to reactivate the account is sent."""
    user = User.objects.select_for_update().get(pk=actor.pk)
    # Checked again under the lock: an attachment may have arrived meanwhile.
    blocking = list(structures_to_transfer(user=user))
    if blocking:
        return blocking
    user.is_active = False
    user.save(update_fields=["is_active"])
    audit.record(
        actor=user,
        obj=user,
        action=AuditAction.USER_DEACTIVATE,
        changes={"is_active": {"before": True, "after": False}},
    )
    reactivation_link_send(user=user, link_url=link_url)
    return []


def reactivable(user, payload) -> bool:
    """A deactivated account (once activated) whose last change is the deactivation the
    link was sent for."""
    return (
        user is not None
        and not user.is_active
        and user.activated_at is not None
        and payload.get("d") is not None
        and payload.get("d") == last_account_event_id(user=user)
    )


@transaction.atomic
def account_reactivate(*, payload):
    """Reactivate the account the link names: the account, or None when the link no
    longer matches it."""
    user = tokens.token_user(payload, REACTIVATE_SALT, lock=True)
    if not reactivable(user, payload):
        return None
    user.is_active = True
    user.save(update_fields=["is_active"])
    audit.record(
        actor=user,
        obj=user,
        action=AuditAction.USER_REACTIVATE,
        changes={"is_active": {"before": False, "after": True}},
    )
    return user
