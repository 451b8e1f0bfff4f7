"""Forms of two-factor authentication: a code, and the confirmation of a removal."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from core.forms import DsfrForm
from users.forms.me import _password_field, _PasswordConfirmedForm
from users.services import two_factor


def _code_field(help_text):
    return forms.CharField(
        label=_("Code de vérification"),
        max_length=32,
        help_text=help_text,
        error_messages={"required": _("Saisissez un code de vérification.")},
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "autocapitalize": "off", "spellcheck": "false"}
        ),
    )


class EnrolForm(DsfrForm, forms.Form):
    code = _code_field(_("Le code à 6 chiffres affiché par votre application, par exemple 123456."))


class VerifyForm(DsfrForm, forms.Form):
    code = _code_field(
        _(
            "Le code à 6 chiffres de votre application d’authentification ou reçu par courriel, "
            "ou l’un de vos codes de secours."
        )
    )


class _PasswordAndCodeForm(_PasswordConfirmedForm):
    """What a login asks for, asked again: the password and a current code. A stolen
    session has neither, so it cannot remove the second factor or make itself one."""

    error_messages = {
        **_PasswordConfirmedForm.error_messages,
        "wrong_code": _(
            "Code incorrect. Saisissez le code affiché par votre application ou un code de secours."
        ),
    }

    password = _password_field()
    code = _code_field(
        _("Le code à 6 chiffres de votre application d’authentification, ou l’un de vos codes de secours.")
    )

    def clean(self):
        cleaned_data = super().clean()
        # The code is checked (and a recovery code spent) only with the right password.
        if "password" in cleaned_data and cleaned_data.get("code"):
            if two_factor.code_match(self.user, cleaned_data["code"]) is None:
                self.add_error("code", ValidationError(self.error_messages["wrong_code"], code="wrong_code"))
        return cleaned_data


class DisableForm(_PasswordAndCodeForm):
    """Removing the second factor."""


class RecoveryCodesRegenerateForm(_PasswordAndCodeForm):
    """New recovery codes: ten new ways in, which the session that asks must not be
    able to get on its own."""
