"""Account pages: sign-up and activation, login and lockout, logout, password reset and
change, "Mon compte"."""

from axes.utils import reset as axes_reset
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model, login, logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.hashers import make_password
from django.contrib.sites.shortcuts import get_current_site
from django.db import IntegrityError
from django.http import HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.encoding import force_str
from django.utils.http import urlsafe_base64_decode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods
from django_otp import login as otp_login

from chorus import access
from core.pages import ACCOUNT, PageMixin, page_context
from core.ratelimit import hit
from users import tasks, tokens
from users.forms.accounts import (
    AccountForm,
    ActivationResendForm,
    LoginForm,
    PasswordChangeForm,
    PasswordResetForm,
    SetPasswordForm,
    SignupForm,
    UnlockRequestForm,
    UnlockWithCodeForm,
    normalize_email,
)
from users.selectors import last_account_event_id
from users.services import accounts, two_factor
from users.services.accounts import client_and_target
from users.tokens import TokenStatus, activation_token

User = get_user_model()

SIGNUP_EMAIL_SESSION_KEY = "users_signup_email"


def _validity_minutes():
    return settings.ACCOUNT_ACTIVATION_TIMEOUT // 60


def _too_many_message():
    return _(
        "Trop de demandes pour cette adresse ou depuis votre connexion. Aucun courriel n’a été "
        "envoyé : réessayez dans une heure."
    )


# A wrong password typed inside a session counts as a failed login (see
# users.services.accounts.password_failed): these two end the session at the lockout.


def _locked_out_of_session(request, user):
    """The lockout page, and the end of this session, when the account is locked;
    None otherwise. Checked before a password is, as a login would be."""
    if request.method == "POST" and accounts.is_locked(request, user):
        logout(request)
        return lockout(request, accounts.credentials_of(user))
    return None


def _wrong_password_lockout(request, user, form, field="password", code="wrong_password"):
    """Count the form's wrong password as a failed login; on the one that locks the
    account, end the session and answer with the lockout page. None otherwise."""
    if form.has_error(field, code) and accounts.password_failed(request, user):
        logout(request)
        return lockout(request, accounts.credentials_of(user))
    return None


def _activation_url(request):
    """The activation link's absolute URL, from the account's id and token."""
    return lambda uid, token: request.build_absolute_uri(reverse("users:activate", args=[uid, token]))


def _link_url(request, name):
    """Turns an emailed link's token into the absolute URL of the page `name`."""
    return lambda token: request.build_absolute_uri(reverse(name, args=[token]))


def _link_page(request, *, title, message, status=200, **extra):
    """The page an emailed link answers with when it cannot do its work (invalid, expired)."""
    context = {"message": message, "resend_url": "", **extra}
    return render(request, "users/accounts/link.html", page_context(title, **context), status=status)


# Sign-up and activation


@access.public
def signup(request):
    if request.user.is_authenticated:
        return redirect("home")
    if request.method == "POST":
        form = SignupForm(request.POST)
        # An address that has an account gets the same answer as a new one: the
        # sign-up must not tell who has an account. Its owner is told by email.
        taken = form.has_error("email", "duplicate_email")
        if taken:
            del form.errors["email"]
        if not form.errors:
            email = normalize_email(request.POST.get("email", ""))
            if taken:
                _signup_taken(request, email)
            else:
                try:
                    accounts.user_signup(user=form.save(commit=False), link_url=_activation_url(request))
                except IntegrityError:
                    # The same address signed up a moment earlier, in another request.
                    _signup_taken(request, email)
            request.session[SIGNUP_EMAIL_SESSION_KEY] = email
            return redirect("users:signup_done")
    else:
        # An invitation links here with the invited address filled in.
        form = SignupForm(initial={"email": request.GET.get("email", "")})
    title = _("Créer un compte")
    return render(
        request,
        "users/accounts/signup.html",
        page_context(title, form=form),
    )


def _signup_taken(request, email):
    """Tell the owner of the address someone tried to sign up with it, and spend the
    time a sign-up spends hashing the password."""
    make_password(request.POST.get("password1", ""))
    user = User.objects.filter(email__iexact=email).first()
    if user is None or not hit(accounts.SIGNUP_TAKEN_EMAIL, email):
        return
    accounts.signup_taken_notify(
        user=user,
        urls={
            "login_url": request.build_absolute_uri(reverse("users:login")),
            "password_reset_url": request.build_absolute_uri(reverse("users:password_reset")),
            "activation_resend_url": request.build_absolute_uri(reverse("users:activation_resend")),
        },
    )


@access.public
@require_GET
def signup_done(request):
    title = _("Vérifiez votre messagerie")
    return render(
        request,
        "users/accounts/check_inbox.html",
        page_context(
            title,
            email=request.session.get(SIGNUP_EMAIL_SESSION_KEY, ""),
            resent=False,
            validity_minutes=_validity_minutes(),
        ),
    )


def _user_from_uidb64(uidb64):
    try:
        return User.objects.get(pk=force_str(urlsafe_base64_decode(uidb64)))
    except (TypeError, ValueError, OverflowError, User.DoesNotExist):
        return None


@access.public
@require_GET
def activate(request, uidb64, token):
    user = _user_from_uidb64(uidb64)
    status = activation_token.check(user, token)
    if status is TokenStatus.VALID:
        status = accounts.user_activate(user=user, token=token)
        if status is TokenStatus.VALID:
            messages.success(request, _("Votre compte est activé. Vous pouvez maintenant vous connecter."))
            return redirect("users:login")
    if status is TokenStatus.EXPIRED:
        title = _("Lien d’activation expiré")
        return render(
            request,
            "users/accounts/activation_expired.html",
            page_context(
                title,
                # The link was genuine, so this is the owner: spare them typing the address.
                form=ActivationResendForm(initial={"email": user.email}),
                validity_minutes=_validity_minutes(),
            ),
        )
    title = _("Lien d’activation invalide")
    return render(
        request,
        "users/accounts/activation_invalid.html",
        page_context(title),
    )


@access.public
def activation_resend(request):
    if request.method == "POST":
        form = ActivationResendForm(request.POST)
        if form.is_valid():
            email = form.cleaned_data["email"]
            if not client_and_target(
                request, accounts.ACTIVATION_CLIENT, accounts.ACTIVATION_EMAIL, email
            ):
                form.add_error(None, _too_many_message())
            else:
                user = form.get_user()
                if user is not None:
                    accounts.activation_link_send(user=user, link_url=_activation_url(request))
                # The same answer whether or not an account waits at this address: this
                # form must not tell who has an account.
                return redirect("users:activation_resend_done")
    else:
        form = ActivationResendForm()
    title = _("Recevoir un nouveau lien d’activation")
    return render(
        request,
        "users/accounts/activation_resend.html",
        page_context(
            title,
            form=form,
            validity_minutes=_validity_minutes(),
        ),
    )


@access.public
@require_GET
def activation_resend_done(request):
    title = _("Vérifiez votre messagerie")
    return render(
        request,
        "users/accounts/check_inbox.html",
        page_context(
            title,
            email="",
            resent=True,
            validity_minutes=_validity_minutes(),
        ),
    )


# Login, lockout, logout


def _login_page(locked_out=False):
    title = _("Connexion")
    return page_context(title, locked_out=locked_out)


class LoginView(auth_views.LoginView):
    template_name = "users/accounts/login.html"
    form_class = LoginForm
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs):
        return super().get_context_data(**_login_page(), **kwargs)

    def form_valid(self, form):
        user = form.get_user()
        if user.two_factor_enabled:
            # Not logged in yet: the code page finishes the login.
            two_factor.pending_start(self.request, user, next_url=self.get_success_url())
            return redirect("users:two_factor_verify")
        accounts.unlock_grant_clear(self.request)
        return super().form_valid(form)


def lockout(request, *args, **kwargs):
    """The page django-axes answers a locked account with (AXES_LOCKOUT_CALLABLE): it
    offers the owner a way in now, by proving who they are, rather than in an hour.

    axes 8 calls it as (request, original_response, credentials), older versions as
    (request, credentials)."""
    credentials = next((arg for arg in args if isinstance(arg, dict)), None) or kwargs.get("credentials")
    username = accounts.lockout_username(request, credentials)
    form = LoginForm(request, initial={"username": username})
    context = {
        **_login_page(locked_out=True),
        "form": form,
        "next": "",
        "unlock_form": UnlockRequestForm(initial={"email": username}),
    }
    return render(request, "users/accounts/login.html", context, status=429)


# Unlocking a locked account

@access.public
@require_http_methods(["GET", "POST"])
def unlock_request(request):
    """Email a link that unlocks the account to its login address: following it proves
    the owner has the mailbox, which a stranger guessing the password has not."""
    if request.method == "POST":
        form = UnlockRequestForm(request.POST)
        if form.is_valid():
            email = form.cleaned_data["email"]
            if not client_and_target(
                request, accounts.UNLOCK_CLIENT, accounts.UNLOCK_EMAIL, email
            ):
                form.add_error(None, _too_many_message())
            else:
                user = User.objects.filter(email__iexact=email, is_active=True).first()
                if user is not None:
                    accounts.unlock_link_send(
                        user=user,
                        link_url=_link_url(request, "users:unlock"),
                    )
                # The same answer whether or not an account has this address.
                messages.success(
                    request,
                    _(
                        "Si un compte correspond à cette adresse, un lien de déblocage valable "
                        "%(minutes)s minutes vient d’y être envoyé."
                    )
                    % {"minutes": accounts.UNLOCK_MAX_AGE // 60},
                )
                return redirect("users:login")
    else:
        form = UnlockRequestForm()
    return render(
        request,
        "users/accounts/unlock_request.html",
        page_context(_("Débloquer mon compte"), form=form, validity_minutes=accounts.UNLOCK_MAX_AGE // 60),
    )


@access.public
@access.expect(**access.INVALID_TOKEN)
@require_GET
def unlock(request, token):
    payload, expired = tokens.read_token(token, accounts.UNLOCK_SALT, accounts.UNLOCK_MAX_AGE)

    def still_matches(user):
        # Used once: the unlock is recorded, so the account's last change is no longer
        # the one the link was sent after.
        last_change = last_account_event_id(user=user)
        return tokens.matches(user, payload, accounts.UNLOCK_SALT) and payload.get("d") == last_change

    user = None
    if isinstance(payload, dict) and not expired:
        user = accounts.account_unlock(user_id=payload.get("u"), check=still_matches)
    if user is None:
        return _link_page(
            request,
            title=_("Lien de déblocage invalide"),
            message=_(
                "Ce lien de déblocage est invalide, expiré ou a déjà été utilisé. Vous pouvez en "
                "demander un nouveau depuis la page de connexion."
            ),
            status=404,
        )
    accounts.unlock_grant(request, user.email)
    messages.success(request, _("Votre compte est débloqué : vous pouvez vous connecter."))
    return redirect("users:login")


@access.public
@require_http_methods(["GET", "POST"])
def unlock_with_code(request):
    """A user with two-factor authentication unlocks their account with what a login
    asks for: the password and a current code."""
    form = UnlockWithCodeForm(request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid():
        email = form.cleaned_data["email"]
        if not client_and_target(
            request, accounts.UNLOCK_CODE_CLIENT, accounts.UNLOCK_CODE_EMAIL, email
        ):
            form.add_error(None, _too_many_message())
        else:
            found = form.get_user_and_device()
            if found is None:
                form.add_error(None, form.error_messages["invalid"])
            else:
                user, device = found
                axes_reset(username=user.email)
                login(request, user, backend="django.contrib.auth.backends.ModelBackend")
                otp_login(request, device)
                messages.success(request, _("Votre compte est débloqué."))
                return redirect("home")
    return render(
        request,
        "users/accounts/unlock_with_code.html",
        page_context(_("Débloquer mon compte avec un code"), form=form),
    )


class LogoutView(auth_views.LogoutView):
    def post(self, request, *args, **kwargs):
        was_logged_in = request.user.is_authenticated
        response = super().post(request, *args, **kwargs)
        if was_logged_in:
            messages.info(request, _("Vous êtes déconnecté."))
        return response


# Password reset (anonymous) and change (logged in)


class PasswordResetView(PageMixin, auth_views.PasswordResetView):
    page_title = gettext_lazy("Mot de passe oublié")
    template_name = "users/accounts/password_reset.html"
    # The form hands the address to a background job, which renders and sends the email.
    form_class = PasswordResetForm
    success_url = reverse_lazy("users:password_reset_done")

    def form_valid(self, form):
        if not client_and_target(
            self.request,
            accounts.PASSWORD_RESET_CLIENT,
            accounts.PASSWORD_RESET_EMAIL,
            form.cleaned_data["email"],
        ):
            form.add_error(None, _too_many_message())
            return self.form_invalid(form)
        # The address goes to the background job, known or not: looking the account up
        # here would make the answer faster for an unknown address.
        tasks.password_reset_enqueue(
            email=form.cleaned_data["email"],
            domain=get_current_site(self.request).domain,
            use_https=self.request.is_secure(),
        )
        return HttpResponseRedirect(self.get_success_url())


class PasswordResetDoneView(PageMixin, auth_views.PasswordResetDoneView):
    page_title = gettext_lazy("Vérifiez votre messagerie")
    template_name = "users/accounts/password_reset_done.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(validity_minutes=settings.PASSWORD_RESET_TIMEOUT // 60, **kwargs)


class PasswordResetConfirmView(PageMixin, auth_views.PasswordResetConfirmView):
    page_title = gettext_lazy("Nouveau mot de passe")
    template_name = "users/accounts/password_reset_confirm.html"
    form_class = SetPasswordForm
    success_url = reverse_lazy("users:password_reset_complete")

    def form_valid(self, form):
        response = super().form_valid(form)
        accounts.password_reset_record(user=self.user)
        return response


class PasswordResetCompleteView(PageMixin, auth_views.PasswordResetCompleteView):
    page_title = gettext_lazy("Mot de passe modifié")
    template_name = "users/accounts/password_reset_complete.html"


class PasswordChangeView(PageMixin, auth_views.PasswordChangeView):
    page_title = gettext_lazy("Modifier mon mot de passe")
    template_name = "users/accounts/password_change.html"
    form_class = PasswordChangeForm
    success_url = reverse_lazy("users:password_change_done")

    breadcrumb = (ACCOUNT,)

    def post(self, request, *args, **kwargs):
        return _locked_out_of_session(request, request.user) or super().post(request, *args, **kwargs)

    def form_invalid(self, form):
        locked = _wrong_password_lockout(
            self.request, self.request.user, form, "old_password", "password_incorrect"
        )
        return locked or super().form_invalid(form)

    def form_valid(self, form):
        # Django keeps this session (update_session_auth_hash); the others end, their
        # hash no longer matching the password.
        response = super().form_valid(form)
        accounts.password_change_record(actor=self.request.user)
        return response


class PasswordChangeDoneView(PageMixin, auth_views.PasswordChangeDoneView):
    page_title = gettext_lazy("Mot de passe modifié")
    template_name = "users/accounts/password_change_done.html"

    breadcrumb = (ACCOUNT,)


# Mon compte


@access.authenticated
def account(request):
    # A copy of the user, not request.user: an invalid form must not show its rejected
    # values in the header.
    user = User.objects.get(pk=request.user.pk)
    if request.method == "POST":
        form = AccountForm(request.POST, instance=user)
        # Only a new contact address takes the password, and so the lockout.
        if form.contact_email_changing() and (locked := _locked_out_of_session(request, user)):
            return locked
        if form.is_valid():
            changes = {
                name: {"before": form.initial.get(name), "after": form.cleaned_data[name]}
                for name in form.changed_data
                if name != "password"
            }
            # The form set the new values on the user; the service saves and records them.
            accounts.user_update(actor=user, changes=changes)
            messages.success(request, _("Vos informations ont été enregistrées."))
            return redirect("users:account")
        if locked := _wrong_password_lockout(request, user, form):
            return locked
    else:
        form = AccountForm(instance=user)
    title = _("Mon compte")
    return render(
        request,
        "users/accounts/account.html",
        page_context(title, form=form, account=user),
    )
