"""Two-factor authentication: an authenticator app (TOTP), ten single-use recovery
codes, and a code sent by email as a fallback, on top of django-otp.

A user "has two-factor authentication" once their authenticator is confirmed
(`User.two_factor_enabled`). Such a user logs in in two steps: the password, then a
code (users.views.two_factor.verify); the session is verified
(`request.user.is_verified()`) only after the code. A user who must use it (their
structure or the operators require it) and has no authenticator yet is sent to the
enrolment page after the password. `users.middleware.TwoFactorMiddleware` keeps both
kinds of users away from every other page until they are done."""

from base64 import b32encode

import qrcode
import qrcode.image.svg
from django.contrib.auth.signals import user_logged_in
from django.db import transaction
from django.db.models import Q
from django.db.models.signals import post_delete
from django.dispatch import receiver
from django.utils import timezone
from django.utils.translation import gettext as _
from django_otp import DEVICE_ID_SESSION_KEY, devices_for_user
from django_otp.plugins.otp_email.models import EmailDevice
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from chorus import audit
from chorus.actions import AuditAction
from chorus.models import SecurityPolicy
from core import mail
from structures.models import Structure
from users.models import Membership, User
from users.services.accounts import security_notify

RECOVERY_CODES_COUNT = 10
EMAIL_CODE_VALIDITY_MINUTES = 10
DEVICE_NAME = "default"
RECOVERY_DEVICE_NAME = "recovery"
EMAIL_DEVICE_NAME = "email"

# Session keys. PENDING: the password was right, the code is awaited (the user is not
# logged in yet). ENROL: logged in, but must enrol before anything else. RECOVERY_CODES:
# the codes just generated, shown (and downloadable) until the user says they kept them.
PENDING_SESSION_KEY = "two_factor_pending"
ENROL_SESSION_KEY = "two_factor_enrol_required"
RECOVERY_CODES_SESSION_KEY = "two_factor_recovery_codes"
# The password step is valid this long: past it, the user starts again.
PENDING_MAX_AGE = 15 * 60
RECOVERY_CODES_MAX_AGE = 30 * 60


class TwoFactorError(Exception):
    def __init__(self, message):
        super().__init__(message)
        self.message = message


# Who must use it


def requirement_reasons(user) -> list[str]:
    """Why this user may not go without a second factor (empty: they may)."""
    reasons = []
    if SecurityPolicy.load().two_factor_required:
        reasons.append(_("Les opérateurs du portail l’exigent pour tous les utilisateurs."))
    structures = (
        Structure.objects.filter(two_factor_required=True)
        .filter(
            Q(principal_manager=user)
            | Q(memberships__user=user, memberships__status=Membership.Status.VALIDEE)
        )
        .distinct()
        .order_by("company_name", "identifier")
    )
    for structure in structures:
        reasons.append(
            _("La structure %(name)s l’exige de ses utilisateurs.") % {"name": structure.display_name}
        )
    return reasons


def is_required(user) -> bool:
    return bool(requirement_reasons(user))


@receiver(user_logged_in, dispatch_uid="users.two_factor.enrolment_check")
def _check_requirement_on_login(sender, request, user, **kwargs):
    """Decided once, at login, whatever the login page (the portal's or the admin's):
    the pages that follow read the answer from the session, without a query."""
    if request is None or not hasattr(request, "session"):
        return
    if not user.two_factor_enabled and is_required(user):
        request.session[ENROL_SESSION_KEY] = True
    else:
        request.session.pop(ENROL_SESSION_KEY, None)


@receiver(post_delete, sender=TOTPDevice, dispatch_uid="users.two_factor.device_deleted")
def _keep_flag_in_step(sender, instance, **kwargs):
    """An authenticator deleted elsewhere (the admin's device pages): without a
    confirmed one left, the user no longer has two-factor authentication."""
    if (
        instance.confirmed
        and not TOTPDevice.objects.filter(user_id=instance.user_id, confirmed=True).exists()
    ):
        User.objects.filter(pk=instance.user_id).update(two_factor_enabled=False)


# The login's second step


def pending_start(request, user, *, next_url):
    """The password was right: remember whom the code is awaited for, in a new session
    (a session id planted before the login must not be the one that gets verified)."""
    request.session.cycle_key()
    request.session[PENDING_SESSION_KEY] = {
        "user": user.pk,
        "backend": user.backend,
        "next": next_url,
        "at": timezone.now().timestamp(),
    }


def pending_get(request):
    """(user, backend, next url) of a password step still valid, or None."""
    pending = request.session.get(PENDING_SESSION_KEY)
    if not isinstance(pending, dict):
        return None
    if timezone.now().timestamp() - pending.get("at", 0) > PENDING_MAX_AGE:
        request.session.pop(PENDING_SESSION_KEY, None)
        return None
    user = User.objects.filter(pk=pending.get("user"), is_active=True).first()
    if user is None or not user.two_factor_enabled:
        return None
    return user, pending.get("backend"), pending.get("next")


def pending_clear(request):
    request.session.pop(PENDING_SESSION_KEY, None)


def normalize_code(code: str) -> str:
    # Recovery codes are shown in groups ("abcd efgh") and in lower case.
    return "".join(code.split()).replace("-", "").lower()


def code_match(user, code: str):
    """The device that accepts this code (authenticator, an unused recovery code, or
    the email code), or None. A recovery code or an email code is spent here."""
    code = normalize_code(code)
    if not code:
        return None
    with transaction.atomic():
        for device in devices_for_user(user, for_verify=True):
            if device.verify_token(code):
                if isinstance(device, StaticDevice):
                    audit.record(
                        actor=user,
                        obj=user,
                        action=AuditAction.TWO_FACTOR_RECOVERY_CODE_USED,
                        changes={"recovery_codes_left": device.token_set.count()},
                    )
                return device
    return None


def email_code_send(user) -> bool:
    """Email a 6-digit code valid 10 minutes, once. False while the last one is less
    than a minute old (a click repeated, or someone filling the user's mailbox)."""
    with transaction.atomic():
        device, _created = EmailDevice.objects.select_for_update().get_or_create(
            user=user, name=EMAIL_DEVICE_NAME, defaults={"confirmed": True}
        )
        allowed, _detail = device.generate_is_allowed()
        if not allowed:
            return False
        device.cooldown_set(commit=False)
        device.generate_token(valid_secs=EMAIL_CODE_VALIDITY_MINUTES * 60, commit=True)
        mail.send_templated(
            template="users/email/two_factor_email_code",
            to=user.email,
            context={"user": user, "code": device.token, "validity_minutes": EMAIL_CODE_VALIDITY_MINUTES},
        )
    return True


# Enrolment


def pending_device(user) -> TOTPDevice:
    """The authenticator being enrolled: the same one (the same QR code) until confirmed."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)
    return device


def secret_of(device: TOTPDevice) -> str:
    """The key as typed in an app by hand: base32, in groups of four."""
    secret = b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def qr_code_svg(device: TOTPDevice) -> str:
    """The provisioning QR code as inline SVG: drawn here, no external service, no
    script. Holds only the otpauth URL, encoded as path data (no user text)."""
    image = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathFillImage, box_size=8)
    svg = image.to_string(encoding="unicode")
    # Described by the text next to it (the secret to type by hand).
    return svg.replace("<svg ", '<svg aria-hidden="true" focusable="false" ', 1)


def _new_recovery_codes(user) -> list[str]:
    device, _created = StaticDevice.objects.get_or_create(
        user=user, name=RECOVERY_DEVICE_NAME, defaults={"confirmed": True}
    )
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _i in range(RECOVERY_CODES_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


def _notify(user, template, **context):
    security_notify(user=user, template=template, context=context)


@transaction.atomic
def two_factor_enable(*, user, device_id: int, code: str) -> tuple[TOTPDevice, list[str]]:
    """Confirm the authenticator with its first code; returns it and the new recovery codes."""
    user = User.objects.select_for_update().get(pk=user.pk)
    device = TOTPDevice.objects.select_for_update().filter(pk=device_id, user=user, confirmed=False).first()
    if device is None or user.two_factor_enabled:
        raise TwoFactorError(_("La double authentification est déjà activée sur votre compte."))
    if not device.verify_token(normalize_code(code)):
        raise TwoFactorError(
            _(
                "Code incorrect. Saisissez le code à 6 chiffres affiché en ce moment par votre "
                "application d’authentification."
            )
        )
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    # An abandoned enrolment in another tab leaves nothing behind.
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    codes = _new_recovery_codes(user)
    user.two_factor_enabled = True
    user.save(update_fields=["two_factor_enabled"])
    audit.record(
        actor=user,
        obj=user,
        action=AuditAction.TWO_FACTOR_ENABLE,
        changes={"two_factor_enabled": {"before": False, "after": True}},
    )
    _notify(user, "users/email/two_factor_enabled", recovery_codes_count=RECOVERY_CODES_COUNT)
    return device, codes


@transaction.atomic
def recovery_codes_regenerate(*, user) -> list[str]:
    """Ten new codes; the old ones stop working."""
    if not user.two_factor_enabled:
        raise TwoFactorError(_("La double authentification n’est pas activée sur votre compte."))
    codes = _new_recovery_codes(user)
    audit.record(actor=user, obj=user, action=AuditAction.TWO_FACTOR_RECOVERY_CODES_REGENERATE)
    _notify(user, "users/email/two_factor_recovery_codes", recovery_codes_count=RECOVERY_CODES_COUNT)
    return codes


@transaction.atomic
def two_factor_disable(*, user):
    """Remove every device. Refused while a structure or the operators require it."""
    user = User.objects.select_for_update().get(pk=user.pk)
    if not user.two_factor_enabled:
        raise TwoFactorError(_("La double authentification n’est pas activée sur votre compte."))
    if is_required(user):
        raise TwoFactorError(
            _(
                "La double authentification est obligatoire pour votre compte : elle ne peut pas "
                "être désactivée."
            )
        )
    _remove_devices(user)
    audit.record(
        actor=user,
        obj=user,
        action=AuditAction.TWO_FACTOR_DISABLE,
        changes={"two_factor_enabled": {"before": True, "after": False}},
    )
    _notify(user, "users/email/two_factor_disabled")
    return user


@transaction.atomic
def two_factor_reset(*, user, actor):
    """An operator removes the devices of a user who lost both their phone and their
    recovery codes. A user who must use two-factor authentication enrols again at their
    next login."""
    user = User.objects.select_for_update().get(pk=user.pk)
    before = user.two_factor_enabled
    _remove_devices(user)
    audit.record(
        actor=actor,
        obj=user,
        action=AuditAction.TWO_FACTOR_RESET,
        changes={"two_factor_enabled": {"before": before, "after": False}},
    )
    _notify(user, "users/email/two_factor_disabled")
    return user


def _remove_devices(user):
    for model in (TOTPDevice, StaticDevice, EmailDevice):
        model.objects.filter(user=user).delete()
    user.two_factor_enabled = False
    user.save(update_fields=["two_factor_enabled"])


def recovery_codes_left(user) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def forget_device(request):
    """The session is no longer verified (the devices are gone)."""
    request.session.pop(DEVICE_ID_SESSION_KEY, None)
