"""Account pages: sign-up and activation, login and lockout, logout, password reset and
change, "Mon compte"."""

from axes.utils import reset as axes_reset
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth import views as auth_views
from django.db import IntegrityError, transaction
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.encoding import force_bytes, force_str
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from chorus import access, audit, mail
from chorus.pages import PageMixin, page_context
from users import forms, services, two_factor
from users.tokens import TokenStatus, activation_token

User = get_user_model()

SIGNUP_EMAIL_SESSION_KEY = "users_signup_email"


def _validity_minutes():
    return settings.ACCOUNT_ACTIVATION_TIMEOUT // 60


def _account_links():
    return [{"url": reverse("users:account"), "title": _("Mon compte")}]


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
        if form.is_valid():
            try:
                with transaction.atomic():
                    user = form.save()
                    audit.record(actor=user, obj=user, action="user_signup")
                    _send_activation_link(request, user)
            except IntegrityError:
                # The same address signed up a moment earlier, in another request.
                form.add_error("email", form.error_messages["duplicate_email"])
            else:
                request.session[SIGNUP_EMAIL_SESSION_KEY] = user.email
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
        return super().form_valid(form)


def lockout_username(request, credentials):
    """The login django-axes counts failures against (AXES_USERNAME_CALLABLE): logins are
    case-insensitive, so "Jean@…" and "jean@…" are the same account, here and in the admin."""
    username = (credentials or {}).get("username") or request.POST.get("username", "")
    return username.strip().lower()


def lockout(request, *args, **kwargs):
    """The page django-axes answers a locked account with (AXES_LOCKOUT_CALLABLE).

    axes 8 calls it as (request, original_response, credentials), older versions as
    (request, credentials); neither is needed here."""
    form = forms.LoginForm(request, initial={"username": request.POST.get("username", "")})
    context = {**_login_page(locked_out=True), "form": form, "next": ""}
    return render(request, "users/login.html", context, status=429)


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
    form_class = forms.PasswordResetForm
    subject_template_name = "email/password_reset_subject.txt"
    email_template_name = "email/password_reset_body.txt"
    success_url = reverse_lazy("users:password_reset_done")

    @property
    def extra_email_context(self):
        return {"validity_minutes": settings.PASSWORD_RESET_TIMEOUT // 60}


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

    def form_valid(self, form):
        response = super().form_valid(form)
        audit.record(actor=self.request.user, obj=self.request.user, action="password_change")
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
        if form.is_valid():
            with transaction.atomic():
                form.save()
                changes = {
                    name: {"before": form.initial.get(name), "after": form.cleaned_data[name]}
                    for name in form.changed_data
                }
                if changes:
                    audit.record(actor=user, obj=user, action="user_update", changes=changes)
            messages.success(request, _("Vos informations ont été enregistrées."))
            return redirect("users:account")
    else:
        form = forms.AccountForm(instance=user)
    title = _("Mon compte")
    return render(
        request,
        "users/account.html",
        page_context(title, form=form, account=user),
    )
