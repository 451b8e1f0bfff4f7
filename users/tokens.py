"""Account activation links: signed, valid ACCOUNT_ACTIVATION_TIMEOUT seconds, usable once."""

import enum

from django.conf import settings
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.utils.crypto import constant_time_compare
from django.utils.http import base36_to_int


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
