"""Account pages: sign-up and activation, login and lockout, logout, password reset and
change, "Mon compte"."""

from axes.utils import reset as axes_reset
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model, login, logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.hashers import make_password
from django.db import IntegrityError, transaction
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.encoding import force_bytes, force_str
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods
from django_otp import login as otp_login

from chorus import access, audit
from core import mail
from core.pages import PageMixin, page_context
from core.ratelimit import hit
from users import account_security, forms, links, services, two_factor
from users.account_security import client_and_target
from users.tokens import TokenStatus, activation_token

User = get_user_model()

SIGNUP_EMAIL_SESSION_KEY = "users_signup_email"


def _validity_minutes():
    return settings.ACCOUNT_ACTIVATION_TIMEOUT // 60


def _account_links():
    return [{"url": reverse("users:account"), "title": _("Mon compte")}]


def too_many_message():
    return _(
        "Trop de demandes pour cette adresse ou depuis votre connexion. Aucun courriel n’a été "
        "envoyé : réessayez dans une heure."
    )


# A wrong password typed inside a session counts as a failed login (see
# users.account_security.password_failed): these two end the session at the lockout.


def locked_out_of_session(request, user):
    """The lockout page, and the end of this session, when the account is locked;
    None otherwise. Checked before a password is, as a login would be."""
    if request.method == "POST" and account_security.is_locked(request, user):
        logout(request)
        return lockout(request, account_security.credentials_of(user))
    return None


def wrong_password_lockout(request, user, form, field="password", code="wrong_password"):
    """Count the form's wrong password as a failed login; on the one that locks the
    account, end the session and answer with the lockout page. None otherwise."""
    if form.has_error(field, code) and account_security.password_failed(request, user):
        logout(request)
        return lockout(request, account_security.credentials_of(user))
    return None


def _send_activation_link(request, user):
    """Email the activation link to the login address, once the transaction that
    created (or found) the account has committed."""
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    context = {
        "user": user,
        "activation_url": request.build_absolute_uri(
            reverse("users:activate", args=[uid, activation_token.make_token(user)])
        ),
        "validity_minutes": _validity_minutes(),
    }
    mail.send_templated(template="activation", to=user.email, context=context)


# Sign-up and activation


@access.public
def signup(request):
    if request.user.is_authenticated:
        return redirect("home")
    if request.method == "POST":
        form = forms.SignupForm(request.POST)
        # An address that has an account gets the same answer as a new one: the
        # sign-up must not tell who has an account. Its owner is told by email.
        taken = form.has_error("email", "duplicate_email")
        if taken:
            del form.errors["email"]
        if not form.errors:
            email = forms.normalize_email(request.POST.get("email", ""))
            try:
                with transaction.atomic():
                    if taken:
                        _signup_taken(request, email)
                    else:
                        user = form.save()
                        audit.record(actor=user, obj=user, action="user_signup")
                        _send_activation_link(request, user)
            except IntegrityError:
                # The same address signed up a moment earlier, in another request.
                _signup_taken(request, email)
            request.session[SIGNUP_EMAIL_SESSION_KEY] = email
            return redirect("users:signup_done")
    else:
        # An invitation links here with the invited address filled in.
        form = forms.SignupForm(initial={"email": request.GET.get("email", "")})
    title = _("Créer un compte")
    return render(
        request,
        "users/signup.html",
        page_context(title, form=form),
    )


def _signup_taken(request, email):
    """Tell the owner of the address someone tried to sign up with it, and spend the
    time a sign-up spends hashing the password."""
    make_password(request.POST.get("password1", ""))
    user = User.objects.filter(email__iexact=email).first()
    if user is None or not hit(account_security.SIGNUP_TAKEN_EMAIL, email):
        return
    mail.send_templated(
        template="signup_taken",
        to=user.email,
        context={
            "user": user,
            "login_url": request.build_absolute_uri(reverse("users:login")),
            "password_reset_url": request.build_absolute_uri(reverse("users:password_reset")),
            "activation_resend_url": request.build_absolute_uri(reverse("users:activation_resend")),
            # Never activated: the way in is a new activation link.
            "activated": user.is_active or user.activated_at is not None,
        },
    )


@access.public
@require_GET
def signup_done(request):
    title = _("Vérifiez votre messagerie")
    return render(
        request,
        "users/check_inbox.html",
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
        with transaction.atomic():
            # Locked and checked again, so that two clicks at once activate only once.
            user = User.objects.select_for_update().get(pk=user.pk)
            status = activation_token.check(user, token)
            if status is TokenStatus.VALID:
                user.is_active = True
                user.activated_at = timezone.now()
                user.save(update_fields=["is_active", "activated_at"])
                audit.record(actor=user, obj=user, action="user_activate")
                services.invitations_accept(user=user)
        if status is TokenStatus.VALID:
            messages.success(request, _("Votre compte est activé. Vous pouvez maintenant vous connecter."))
            return redirect("users:login")
    if status is TokenStatus.EXPIRED:
        title = _("Lien d’activation expiré")
        return render(
            request,
            "users/activation_expired.html",
            page_context(
                title,
                # The link was genuine, so this is the owner: spare them typing the address.
                form=forms.ActivationResendForm(initial={"email": user.email}),
                validity_minutes=_validity_minutes(),
            ),
        )
    title = _("Lien d’activation invalide")
    return render(
        request,
        "users/activation_invalid.html",
        page_context(title),
    )


@access.public
def activation_resend(request):
    if request.method == "POST":
        form = forms.ActivationResendForm(request.POST)
        if form.is_valid():
            email = form.cleaned_data["email"]
            if not client_and_target(
                request, account_security.ACTIVATION_CLIENT, account_security.ACTIVATION_EMAIL, email
            ):
                form.add_error(None, too_many_message())
            else:
                user = form.get_user()
                if user is not None:
                    _send_activation_link(request, user)
                # The same answer whether or not an account waits at this address: this
                # form must not tell who has an account.
                return redirect("users:activation_resend_done")
    else:
        form = forms.ActivationResendForm()
    title = _("Recevoir un nouveau lien d’activation")
    return render(
        request,
        "users/activation_resend.html",
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
        "users/check_inbox.html",
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
    template_name = "users/login.html"
    form_class = forms.LoginForm
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs):
        return super().get_context_data(**_login_page(), **kwargs)

    def form_valid(self, form):
        user = form.get_user()
        if user.two_factor_enabled:
            # Not logged in yet: the code page finishes the login.
            two_factor.pending_start(self.request, user, next_url=self.get_success_url())
            return redirect("users:two_factor_verify")
        account_security.unlock_grant_clear(self.request)
        return super().form_valid(form)


def lockout_username(request, credentials):
    """The login django-axes counts failures against (AXES_USERNAME_CALLABLE): logins are
    case-insensitive, so "Jean@…" and "jean@…" are the same account, here and in the admin."""
    username = (credentials or {}).get("username") or request.POST.get("username", "")
    return username.strip().lower()


def lockout(request, *args, **kwargs):
    """The page django-axes answers a locked account with (AXES_LOCKOUT_CALLABLE): it
    offers the owner a way in now, by proving who they are, rather than in an hour.

    axes 8 calls it as (request, original_response, credentials), older versions as
    (request, credentials)."""
    credentials = next((arg for arg in args if isinstance(arg, dict)), None) or kwargs.get("credentials")
    username = lockout_username(request, credentials)
    form = forms.LoginForm(request, initial={"username": username})
    context = {
        **_login_page(locked_out=True),
        "form": form,
        "next": "",
        "unlock_form": forms.UnlockRequestForm(initial={"email": username}),
    }
    return render(request, "users/login.html", context, status=429)


# Unlocking a locked account

UNLOCK_SALT = "users.views.unlock"
UNLOCK_MAX_AGE = 60 * 60


@access.public
@require_http_methods(["GET", "POST"])
def unlock_request(request):
    """Email a link that unlocks the account to its login address: following it proves
    the owner has the mailbox, which a stranger guessing the password has not."""
    if request.method == "POST":
        form = forms.UnlockRequestForm(request.POST)
        if form.is_valid():
            email = form.cleaned_data["email"]
            if not client_and_target(
                request, account_security.UNLOCK_CLIENT, account_security.UNLOCK_EMAIL, email
            ):
                form.add_error(None, too_many_message())
            else:
                user = User.objects.filter(email__iexact=email, is_active=True).first()
                if user is not None:
                    _send_unlock_link(request, user)
                # The same answer whether or not an account has this address.
                messages.success(
                    request,
                    _(
                        "Si un compte correspond à cette adresse, un lien de déblocage valable "
                        "%(minutes)s minutes vient d’y être envoyé."
                    )
                    % {"minutes": UNLOCK_MAX_AGE // 60},
                )
                return redirect("users:login")
    else:
        form = forms.UnlockRequestForm()
    return render(
        request,
        "users/unlock_request.html",
        page_context(_("Débloquer mon compte"), form=form, validity_minutes=UNLOCK_MAX_AGE // 60),
    )


def _send_unlock_link(request, user):
    token = links.make_token(user, UNLOCK_SALT, d=links.last_account_event_id(user))
    mail.send_templated(
        template="unlock",
        to=user.email,
        context={
            "user": user,
            "unlock_url": request.build_absolute_uri(reverse("users:unlock", args=[token])),
            "validity_minutes": UNLOCK_MAX_AGE // 60,
        },
    )


@access.public
@access.expect(**access.INVALID_TOKEN)
@require_GET
def unlock(request, token):
    payload, expired = links.read_token(token, UNLOCK_SALT, UNLOCK_MAX_AGE)

    def still_matches(user):
        # Used once: the unlock is recorded, so the account's last change is no longer
        # the one the link was sent after.
        last_change = links.last_account_event_id(user)
        return links.matches(user, payload, UNLOCK_SALT) and payload.get("d") == last_change

    user = None
    if isinstance(payload, dict) and not expired:
        user = account_security.account_unlock(user_id=payload.get("u"), check=still_matches)
    if user is None:
        return links.link_page(
            request,
            title=_("Lien de déblocage invalide"),
            message=_(
                "Ce lien de déblocage est invalide, expiré ou a déjà été utilisé. Vous pouvez en "
                "demander un nouveau depuis la page de connexion."
            ),
            status=404,
        )
    account_security.unlock_grant(request, user.email)
    messages.success(request, _("Votre compte est débloqué : vous pouvez vous connecter."))
    return redirect("users:login")


@access.public
@require_http_methods(["GET", "POST"])
def unlock_with_code(request):
    """A user with two-factor authentication unlocks their account with what a login
    asks for: the password and a current code."""
    form = forms.UnlockWithCodeForm(request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid():
        email = form.cleaned_data["email"]
        if not client_and_target(
            request, account_security.UNLOCK_CODE_CLIENT, account_security.UNLOCK_CODE_EMAIL, email
        ):
            form.add_error(None, too_many_message())
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
        "users/unlock_with_code.html",
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
    template_name = "users/password_reset.html"
    # The form hands the address to a background job, which renders and sends the email.
    form_class = forms.PasswordResetForm
    success_url = reverse_lazy("users:password_reset_done")

    def form_valid(self, form):
        if not client_and_target(
            self.request,
            account_security.PASSWORD_RESET_CLIENT,
            account_security.PASSWORD_RESET_EMAIL,
            form.cleaned_data["email"],
        ):
            form.add_error(None, too_many_message())
            return self.form_invalid(form)
        return super().form_valid(form)


class PasswordResetDoneView(PageMixin, auth_views.PasswordResetDoneView):
    page_title = gettext_lazy("Vérifiez votre messagerie")
    template_name = "users/password_reset_done.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(validity_minutes=settings.PASSWORD_RESET_TIMEOUT // 60, **kwargs)


class PasswordResetConfirmView(PageMixin, auth_views.PasswordResetConfirmView):
    page_title = gettext_lazy("Nouveau mot de passe")
    template_name = "users/password_reset_confirm.html"
    form_class = forms.SetPasswordForm
    success_url = reverse_lazy("users:password_reset_complete")

    def form_valid(self, form):
        response = super().form_valid(form)
        # Proving ownership of the address lifts the lockout of failed logins.
        axes_reset(username=self.user.get_username())
        audit.record(actor=self.user, obj=self.user, action="password_reset")
        account_security.security_notify(user=self.user, template="password_changed")
        return response


class PasswordResetCompleteView(PageMixin, auth_views.PasswordResetCompleteView):
    page_title = gettext_lazy("Mot de passe modifié")
    template_name = "users/password_reset_complete.html"


class PasswordChangeView(PageMixin, auth_views.PasswordChangeView):
    page_title = gettext_lazy("Modifier mon mot de passe")
    template_name = "users/password_change.html"
    form_class = forms.PasswordChangeForm
    success_url = reverse_lazy("users:password_change_done")

    def breadcrumb_links(self):
        return _account_links()

    def post(self, request, *args, **kwargs):
        return locked_out_of_session(request, request.user) or super().post(request, *args, **kwargs)

    def form_invalid(self, form):
        locked = wrong_password_lockout(
            self.request, self.request.user, form, "old_password", "password_incorrect"
        )
        return locked or super().form_invalid(form)

    def form_valid(self, form):
        # Django keeps this session (update_session_auth_hash); the others end, their
        # hash no longer matching the password.
        response = super().form_valid(form)
        audit.record(actor=self.request.user, obj=self.request.user, action="password_change")
        account_security.security_notify(user=self.request.user, template="password_changed")
        return response


class PasswordChangeDoneView(PageMixin, auth_views.PasswordChangeDoneView):
    page_title = gettext_lazy("Mot de passe modifié")
    template_name = "users/password_change_done.html"

    def breadcrumb_links(self):
        return _account_links()


# Mon compte


@access.authenticated
def account(request):
    # A copy of the user, not request.user: an invalid form must not show its rejected
    # values in the header.
    user = User.objects.get(pk=request.user.pk)
    if request.method == "POST":
        form = forms.AccountForm(request.POST, instance=user)
        # Only a new contact address takes the password, and so the lockout.
        if form.contact_email_changing() and (locked := locked_out_of_session(request, user)):
            return locked
        old_contact_email = user.contact_email
        if form.is_valid():
            with transaction.atomic():
                form.save()
                changes = {
                    name: {"before": form.initial.get(name), "after": form.cleaned_data[name]}
                    for name in form.changed_data
                    if name != "password"
                }
                if changes:
                    audit.record(actor=user, obj=user, action="user_update", changes=changes)
                if "contact_email" in changes:
                    account_security.security_notify(
                        user=user,
                        template="contact_email_changed",
                        context={"old_email": old_contact_email},
                        also=[old_contact_email],
                    )
            messages.success(request, _("Vos informations ont été enregistrées."))
            return redirect("users:account")
        if locked := wrong_password_lockout(request, user, form):
            return locked
    else:
        form = forms.AccountForm(instance=user)
    title = _("Mon compte")
    return render(
        request,
        "users/account.html",
        page_context(title, form=form, account=user),
    )
