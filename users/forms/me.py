"""Forms of the user menu: change my login address, deactivate my account."""

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_variables

from core.forms import DsfrForm
from users.forms.accounts import normalize_email
from users.validators import validate_login_email

User = get_user_model()


def _password_field():
    return forms.CharField(
        label=_("Mot de passe actuel"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class _PasswordConfirmedForm(DsfrForm, forms.Form):
    """A change only the account's owner may make: their password confirms it."""

    error_messages = {"wrong_password": _("Mot de passe incorrect.")}

    def __init__(self, *args, user, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)

    @sensitive_variables("password")
    def clean_password(self):
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise ValidationError(self.error_messages["wrong_password"], code="wrong_password")
        return password


class ChangeEmailForm(_PasswordConfirmedForm):
    error_messages = {
        **_PasswordConfirmedForm.error_messages,
        "same_email": _("C’est déjà votre adresse de connexion."),
        "duplicate_email": _("Cette adresse électronique est déjà utilisée par un compte du portail."),
    }

    email = forms.EmailField(
        label=_("Nouvelle adresse de connexion"),
        max_length=254,
        validators=[validate_login_email],
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        help_text=_(
            "Format attendu : nom@domaine.fr. Un lien de confirmation y sera envoyé ; elle ne "
            "remplacera l’actuelle qu’une fois ce lien ouvert."
        ),
    )
    password = _password_field()

    def clean_email(self):
        email = normalize_email(self.cleaned_data["email"])
        if email == self.user.email.lower():
            raise ValidationError(self.error_messages["same_email"], code="same_email")
        if User.objects.filter(email__iexact=email).exists():
            raise ValidationError(self.error_messages["duplicate_email"], code="duplicate_email")
        return email


class DeactivateForm(_PasswordConfirmedForm):
    password = _password_field()
