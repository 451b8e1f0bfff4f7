import re

from django import forms
from django.contrib.auth import forms as auth_forms
from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.hashers import make_password
from django.core.exceptions import ValidationError
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_variables

from core.forms import DsfrForm
from users.services import two_factor
from users.validators import validate_login_email

User = get_user_model()


def _email_field(**kwargs):
    return forms.EmailField(
        label=_("Adresse électronique"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        **kwargs,
    )


def normalize_email(email):
    # Logins are case-insensitive (UserManager stores them in lower case).
    return User.objects.normalize_email(email.strip()).lower()


class SignupForm(DsfrForm, forms.ModelForm):
    error_messages = {
        "duplicate_email": _(
            "Un compte existe déjà avec cette adresse électronique. Connectez-vous, ou utilisez "
            "« Mot de passe oublié » ou « Recevoir un nouveau lien d’activation »."
        ),
        "password_mismatch": _("Les deux mots de passe ne correspondent pas."),
    }

    first_name = forms.CharField(
        label=_("Prénom"),
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "given-name"}),
        error_messages={"required": _("Saisissez votre prénom.")},
    )
    last_name = forms.CharField(
        label=_("Nom"),
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "family-name"}),
        error_messages={"required": _("Saisissez votre nom.")},
    )
    email = _email_field(
        help_text=_("Elle sera votre identifiant de connexion. Format attendu : nom@domaine.fr"),
        validators=[validate_login_email],
    )
    password1 = forms.CharField(
        label=_("Mot de passe"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password2 = forms.CharField(
        label=_("Confirmation du mot de passe"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("Saisissez le même mot de passe, pour vérification."),
    )

    class Meta:
        model = User
        fields = ["first_name", "last_name", "email"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The rules are read before typing, not learnt from an error. Built per form, in
        # the language of the request (the validators' texts are not lazy), as sentences
        # that fit the DSFR hint under the label; the bound field DsfrBaseForm already
        # cached copied the empty help text, hence its removal.
        self.fields["password1"].help_text = format_html_join(
            mark_safe("<br>"),
            "{}",
            ((text,) for text in password_validation.password_validators_help_texts()),
        )
        self._bound_fields_cache.pop("password1", None)

    def clean_email(self):
        email = normalize_email(self.cleaned_data["email"])
        if User.objects.filter(email__iexact=email).exists():
            raise ValidationError(self.error_messages["duplicate_email"], code="duplicate_email")
        return email

    @sensitive_variables("password1", "password2")
    def clean(self):
        cleaned_data = super().clean()
        password1, password2 = cleaned_data.get("password1"), cleaned_data.get("password2")
        if password1 and password2 and password1 != password2:
            self.add_error(
                "password2",
                ValidationError(self.error_messages["password_mismatch"], code="password_mismatch"),
            )
        return cleaned_data

    @sensitive_variables("password")
    def _post_clean(self):
        super()._post_clean()
        # After the model's own validation, so that the validators compare the password
        # with the email it would belong to.
        password = self.cleaned_data.get("password1")
        if password and "password2" not in self._errors:
            try:
                password_validation.validate_password(password, self.instance)
            except ValidationError as error:
                self.add_error("password1", error)

    def save(self, commit=True):
        user = super().save(commit=False)
        user.set_password(self.cleaned_data["password1"])
        # Nobody logs in before proving they own the address.
        user.is_active = False
        if commit:
            user.save()
        return user


class ActivationResendForm(DsfrForm, forms.Form):
    email = _email_field()

    def clean_email(self):
        return normalize_email(self.cleaned_data["email"])

    def get_user(self):
        """The account waiting for activation at this address, if any."""
        return User.objects.filter(
            email__iexact=self.cleaned_data["email"], is_active=False, activated_at__isnull=True
        ).first()


class LoginForm(DsfrForm, auth_forms.AuthenticationForm):
    error_messages = {
        "invalid_login": _("Adresse électronique ou mot de passe incorrect."),
        "inactive": _(
            "Votre compte n’est pas encore activé. Cliquez sur le lien reçu par courriel après "
            "votre inscription, ou demandez un nouveau lien d’activation."
        ),
    }

    username = auth_forms.UsernameField(
        label=_("Adresse électronique"),
        # Given here, the limit is also checked (AuthenticationForm only sets the
        # attribute): a huge value never reaches the database lookup.
        max_length=254,
        widget=forms.EmailInput(attrs={"autofocus": True}),
    )
    password = forms.CharField(
        label=_("Mot de passe"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def clean_username(self):
        # Lower case here too, so that the lockout counts "Jean@" and "jean@" as one account.
        return self.cleaned_data["username"].strip().lower()

    @sensitive_variables()
    def clean(self):
        try:
            return super().clean()
        except ValidationError as error:
            if error.code == "invalid_login" and self._is_unactivated_account():
                raise ValidationError(self.error_messages["inactive"], code="inactive") from None
            raise

    @sensitive_variables()
    def _is_unactivated_account(self):
        """The right password for an account never activated: say so, rather than
        "incorrect" (the authentication backend refuses inactive accounts silently).
        Never while locked out, so a locked account cannot be used to test passwords."""
        if getattr(self.request, "axes_locked_out", False):
            return False
        user = User.objects.filter(
            email__iexact=self.cleaned_data.get("username", ""),
            is_active=False,
            activated_at__isnull=True,
        ).first()
        return user is not None and user.check_password(self.cleaned_data.get("password", ""))


class PasswordResetForm(DsfrForm, auth_forms.PasswordResetForm):
    email = _email_field(help_text=_("L’adresse électronique qui vous sert à vous connecter."))


class UnlockRequestForm(DsfrForm, forms.Form):
    email = _email_field(help_text=_("L’adresse électronique qui vous sert à vous connecter."))

    def clean_email(self):
        return normalize_email(self.cleaned_data["email"])


class UnlockWithCodeForm(DsfrForm, forms.Form):
    """The password and a current second-factor code, as a login asks: enough to prove
    the owner, so the lockout is lifted."""

    error_messages = {
        "invalid": _(
            "Mot de passe ou code incorrect. Ce déblocage n’est possible que si la double "
            "authentification est activée sur votre compte ; sinon, demandez un lien de déblocage."
        )
    }

    email = _email_field()
    password = forms.CharField(
        label=_("Mot de passe"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    code = forms.CharField(
        label=_("Code de vérification"),
        max_length=32,
        help_text=_(
            "Le code à 6 chiffres de votre application d’authentification, ou l’un de vos codes de secours."
        ),
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "autocapitalize": "off", "spellcheck": "false"}
        ),
    )

    def clean_email(self):
        return normalize_email(self.cleaned_data["email"])

    @sensitive_variables()
    def get_user_and_device(self):
        """(user, device) when the password and the code are both right, else None.
        The code is checked (a recovery code spent) only after the right password; the
        answer is the same whichever is wrong."""
        user = User.objects.filter(email__iexact=self.cleaned_data["email"], is_active=True).first()
        if user is None:
            make_password(self.cleaned_data["password"])  # the time a password check takes
            return None
        if not user.check_password(self.cleaned_data["password"]) or not user.two_factor_enabled:
            return None
        device = two_factor.code_match(user, self.cleaned_data["code"])
        return None if device is None else (user, device)


class SetPasswordForm(DsfrForm, auth_forms.SetPasswordForm):
    pass


class PasswordChangeForm(DsfrForm, auth_forms.PasswordChangeForm):
    pass


# A French number: ten digits starting with 0, or +33 and the nine digits after the 0.
# Spaces, dots and hyphens between digits are accepted and normalised away.
PHONE_SEPARATORS = re.compile(r"[\s.\-]")
PHONE_NATIONAL = re.compile(r"0[1-9]\d{8}")
PHONE_INTERNATIONAL = re.compile(r"\+33[1-9]\d{8}")


def normalize_phone(value):
    """The number in a readable form (01 23 45 67 89, +33 1 23 45 67 89), or None when
    it is not a French number."""
    compact = PHONE_SEPARATORS.sub("", value)
    if PHONE_NATIONAL.fullmatch(compact):
        return " ".join(compact[i : i + 2] for i in range(0, 10, 2))
    if PHONE_INTERNATIONAL.fullmatch(compact):
        rest = compact[3:]
        return "+33 " + rest[0] + " " + " ".join(rest[i : i + 2] for i in range(1, 9, 2))
    return None


class AccountForm(DsfrForm, forms.ModelForm):
    """The user's own details. Changing the contact address, where notifications go,
    takes the password: a stolen session must not be able to divert them."""

    error_messages = {
        "password_required": _("Saisissez votre mot de passe actuel pour changer l’adresse de contact."),
        "wrong_password": _("Mot de passe incorrect."),
    }

    password = forms.CharField(
        label=_("Mot de passe actuel"),
        required=False,
        strip=False,
        help_text=_("Demandé seulement pour changer l’adresse de contact."),
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    class Meta:
        model = User
        fields = ["first_name", "last_name", "phone", "contact_email"]
        help_texts = {
            "phone": _("Format attendu : 01 23 45 67 89 ou +33 1 23 45 67 89"),
            "contact_email": _(
                "Reçoit les notifications du portail. Laissée vide, les notifications sont "
                "envoyées à votre adresse de connexion."
            ),
        }
        widgets = {
            "first_name": forms.TextInput(attrs={"autocomplete": "given-name"}),
            "last_name": forms.TextInput(attrs={"autocomplete": "family-name"}),
            "phone": forms.TextInput(attrs={"autocomplete": "tel", "type": "tel"}),
            "contact_email": forms.EmailInput(attrs={"autocomplete": "email"}),
        }

    def clean_phone(self):
        phone = self.cleaned_data["phone"].strip()
        if not phone:
            return ""
        normalized = normalize_phone(phone)
        if normalized is None:
            raise ValidationError(
                _(
                    "Saisissez un numéro de téléphone français : 10 chiffres (01 23 45 67 89) "
                    "ou +33 suivi de 9 chiffres (+33 1 23 45 67 89)."
                ),
                code="invalid_phone",
            )
        return normalized

    def clean_contact_email(self):
        email = self.cleaned_data["contact_email"]
        return User.objects.normalize_email(email) if email else ""

    def contact_email_changing(self) -> bool:
        """Whether the submission asks for another contact address (read before
        validation: the view checks the lockout first, as a login would)."""
        submitted = (self.data.get("contact_email") or "").strip().lower()
        return submitted != (self.initial.get("contact_email") or "").lower()

    @sensitive_variables("password")
    def clean(self):
        cleaned_data = super().clean()
        contact_changed = (cleaned_data.get("contact_email") or "").lower() != (
            self.initial.get("contact_email") or ""
        ).lower()
        if "contact_email" in cleaned_data and contact_changed:
            password = cleaned_data.get("password")
            if not password:
                self.add_error(
                    "password",
                    ValidationError(self.error_messages["password_required"], code="password_required"),
                )
            elif not self.instance.check_password(password):
                self.add_error(
                    "password", ValidationError(self.error_messages["wrong_password"], code="wrong_password")
                )
        return cleaned_data
