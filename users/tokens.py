"""The account's emailed links. Activation links: Django's reset tokens, valid
ACCOUNT_ACTIVATION_TIMEOUT seconds, usable once. Signed links (confirm a new login
address, reactivate, unlock): each carries a fingerprint of the account (its login,
password hash and active state): once used, the account changed and the link no longer
matches, so each link works once."""

import enum

from django.conf import settings
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.core import signing
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.http import base36_to_int

from users.models import User


class TokenStatus(enum.Enum):
    VALID = "valid"
    EXPIRED = "expired"
    INVALID = "invalid"


class ActivationTokenGenerator(PasswordResetTokenGenerator):
    """Django's reset tokens, with their own salt and timeout. The hash covers the
    activation state, so a link stops working once the account is activated."""

    key_salt = "users.tokens.ActivationTokenGenerator"

    def _make_hash_value(self, user, timestamp):
        activated_at = (
            "" if user.activated_at is None else user.activated_at.replace(microsecond=0, tzinfo=None)
        )
        return f"{user.pk}{user.password}{user.is_active}{activated_at}{timestamp}{user.email}"

    def check(self, user, token) -> TokenStatus:
        """Tell an expired link (genuine but too old: offer a new one) from a forged or
        already used one. The signature is checked before the age, so only the
        account's owner learns that their link expired."""
        if user is None or not token:
            return TokenStatus.INVALID
        try:
            ts_b36, _hash = token.split("-")
            timestamp = base36_to_int(ts_b36)
        except ValueError:
            return TokenStatus.INVALID
        if not any(
            constant_time_compare(self._make_token_with_timestamp(user, timestamp, secret), token)
            for secret in [self.secret, *self.secret_fallbacks]
        ):
            return TokenStatus.INVALID
        if self._num_seconds(self._now()) - timestamp > settings.ACCOUNT_ACTIVATION_TIMEOUT:
            return TokenStatus.EXPIRED
        return TokenStatus.VALID

    def check_token(self, user, token):
        return self.check(user, token) is TokenStatus.VALID


activation_token = ActivationTokenGenerator()


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
    users = User.objects.select_for_update() if lock else User.objects
    user = users.filter(pk=payload.get("u")).first()
    if user is None or not matches(user, payload, salt):
        return None
    return user
