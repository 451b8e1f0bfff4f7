"""Sécurité du compte: enrol an authenticator app, recovery codes, disable; and the
login's second step (the code page). The rules live in users.services.two_factor."""

from urllib.parse import urlencode

from axes.handlers.proxy import AxesProxyHandler
from axes.utils import reset as axes_reset
from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth.signals import user_login_failed
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_otp import login as otp_login

from chorus import access
from core.pages import ACCOUNT, Crumb, page_context
from users.forms.two_factor import DisableForm, EnrolForm, RecoveryCodesRegenerateForm, VerifyForm
from users.services import accounts, two_factor
from users.views.accounts import _locked_out_of_session, _wrong_password_lockout, lockout

SECURITY = Crumb(gettext_lazy("Sécurité du compte"), "users:security")


def _safe_next(request, url, default):
    if url and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return default


# Sécurité du compte


@access.authenticated
@require_GET
def security(request):
    user = request.user
    reasons = two_factor.requirement_reasons(user)
    return render(
        request,
        "users/two_factor/security.html",
        page_context(
            _("Sécurité du compte"),
            links=[ACCOUNT],
            enabled=user.two_factor_enabled,
            reasons=reasons,
            recovery_codes_left=two_factor.recovery_codes_left(user) if user.two_factor_enabled else 0,
        ),
    )


def _show_recovery_codes(request, codes, next_url=""):
    request.session[two_factor.RECOVERY_CODES_SESSION_KEY] = {
        "codes": codes,
        "at": timezone.now().timestamp(),
        "next": next_url,
    }
    return redirect("users:two_factor_recovery_codes")


@access.authenticated
@never_cache
@require_http_methods(["GET", "POST"])
def enrol(request):
    user = request.user
    if user.two_factor_enabled:
        messages.info(request, _("La double authentification est déjà activée sur votre compte."))
        return redirect("users:security")
    device = two_factor.pending_device(user)
    form = EnrolForm(request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid():
        try:
            device, codes = two_factor.two_factor_enable(
                user=user, device_id=device.pk, code=form.cleaned_data["code"]
            )
        except two_factor.TwoFactorError as error:
            form.add_error("code", error.message)
        else:
            user.two_factor_enabled = True
            # This session gave the code: it is verified from now on.
            otp_login(request, device)
            request.session.pop(two_factor.ENROL_SESSION_KEY, None)
            messages.success(request, _("La double authentification est activée sur votre compte."))
            next_url = _safe_next(request, request.GET.get("next"), "")
            return _show_recovery_codes(request, codes, next_url)
    return render(
        request,
        "users/two_factor/enrol.html",
        page_context(
            _("Activer la double authentification"),
            links=[ACCOUNT, SECURITY],
            form=form,
            # Our own drawing of the otpauth URL (path data only), not user input.
            qr_code=mark_safe(two_factor.qr_code_svg(device)),  # noqa: S308
            secret=two_factor.secret_of(device),
            required=request.session.get(two_factor.ENROL_SESSION_KEY, False),
            next=request.GET.get("next", ""),
        ),
    )


def _codes_in_session(request):
    data = request.session.get(two_factor.RECOVERY_CODES_SESSION_KEY)
    if not isinstance(data, dict):
        return None
    if timezone.now().timestamp() - data.get("at", 0) > two_factor.RECOVERY_CODES_MAX_AGE:
        request.session.pop(two_factor.RECOVERY_CODES_SESSION_KEY, None)
        return None
    return data


def _grouped(code):
    return f"{code[:4]} {code[4:]}"


@access.authenticated
@never_cache
@require_http_methods(["GET", "POST"])
def recovery_codes(request):
    """The codes just generated, shown once: they are forgotten when the user says
    they kept them (or after 30 minutes)."""
    data = _codes_in_session(request)
    if request.method == "POST":
        request.session.pop(two_factor.RECOVERY_CODES_SESSION_KEY, None)
        return redirect(_safe_next(request, (data or {}).get("next"), reverse("users:security")))
    if data is None:
        messages.info(
            request,
            _(
                "Vos codes de secours ne sont affichés qu’une fois. Si vous ne les avez plus, "
                "générez-en de nouveaux."
            ),
        )
        return redirect("users:security")
    return render(
        request,
        "users/two_factor/recovery_codes.html",
        page_context(
            _("Vos codes de secours"),
            links=[ACCOUNT, SECURITY],
            codes=[_grouped(code) for code in data["codes"]],
        ),
    )


@access.authenticated
@never_cache
@require_GET
def recovery_codes_download(request):
    data = _codes_in_session(request)
    if data is None:
        return redirect("users:security")
    lines = [
        _("Portail Organisation — codes de secours de %(email)s") % {"email": request.user.email},
        _("Chaque code ne sert qu’une fois, à la place du code de votre application."),
        "",
        *(_grouped(code) for code in data["codes"]),
        "",
    ]
    response = HttpResponse("\n".join(lines), content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="codes-de-secours-portail-organisation.txt"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


@access.authenticated
@never_cache
@require_http_methods(["GET", "POST"])
def recovery_codes_regenerate(request):
    user = request.user
    if not user.two_factor_enabled:
        messages.info(request, _("La double authentification n’est pas activée sur votre compte."))
        return redirect("users:security")
    if locked := _locked_out_of_session(request, user):
        return locked
    form = RecoveryCodesRegenerateForm(request.POST if request.method == "POST" else None, user=user)
    if form.is_bound and form.is_valid():
        try:
            codes = two_factor.recovery_codes_regenerate(user=user)
        except two_factor.TwoFactorError as error:
            messages.error(request, error.message)
            return redirect("users:security")
        messages.success(
            request, _("Vos nouveaux codes de secours sont prêts : les anciens ne fonctionnent plus.")
        )
        return _show_recovery_codes(request, codes)
    if form.is_bound and (locked := _wrong_password_lockout(request, user, form)):
        return locked
    return render(
        request,
        "users/two_factor/recovery_codes_regenerate.html",
        page_context(_("Générer de nouveaux codes de secours"), links=[ACCOUNT, SECURITY], form=form),
    )


@access.authenticated
@require_http_methods(["GET", "POST"])
def disable(request):
    user = request.user
    if not user.two_factor_enabled:
        messages.info(request, _("La double authentification n’est pas activée sur votre compte."))
        return redirect("users:security")
    if locked := _locked_out_of_session(request, user):
        return locked
    reasons = two_factor.requirement_reasons(user)
    form = DisableForm(request.POST if request.method == "POST" and not reasons else None, user=user)
    if form.is_bound and not form.is_valid() and (locked := _wrong_password_lockout(request, user, form)):
        return locked
    if form.is_bound and form.is_valid():
        try:
            two_factor.two_factor_disable(user=user)
        except two_factor.TwoFactorError as error:
            messages.error(request, error.message)
        else:
            two_factor.forget_device(request)
            messages.success(request, _("La double authentification est désactivée sur votre compte."))
        return redirect("users:security")
    return render(
        request,
        "users/two_factor/disable.html",
        page_context(
            _("Désactiver la double authentification"),
            links=[ACCOUNT, SECURITY],
            form=form,
            reasons=reasons,
            refused=request.method == "POST" and bool(reasons),
        ),
        status=403 if request.method == "POST" and reasons else 200,
    )


# The login's second step


def _verifying(request):
    """(user, backend, next url) of the user asked for a code: the one who just gave
    their password, or a logged-in user whose session is not verified yet."""
    if request.user.is_authenticated:
        if request.user.two_factor_enabled and not request.user.is_verified():
            return request.user, None, request.POST.get("next") or request.GET.get("next", "")
        return None
    return two_factor.pending_get(request)


def _give_up(request):
    two_factor.pending_clear(request)
    if request.user.is_authenticated:
        logout(request)


def _second_step(request):
    """The login waiting for its second factor, as ((user, backend, next url), None), or
    (None, the redirect to answer) when there is none to finish."""
    if request.user.is_authenticated and not (
        request.user.two_factor_enabled and not request.user.is_verified()
    ):
        return None, redirect("home")
    verifying = _verifying(request)
    if verifying is None:
        messages.info(request, _("Votre connexion a expiré : saisissez à nouveau votre mot de passe."))
        return None, redirect("users:login")
    return verifying, None


# Public, as the password step is not a login yet; without that step there is nothing
# to verify, and the visitor is sent to the login page.
@access.public
@access.expect(anonymous=access.LOGIN)
@never_cache
@require_http_methods(["GET", "POST"])
def verify(request):
    verifying, elsewhere = _second_step(request)
    if elsewhere:
        return elsewhere
    user, backend, next_url = verifying
    credentials = {"username": user.email}
    if not AxesProxyHandler.is_allowed(request, credentials):
        _give_up(request)
        return lockout(request)
    form = VerifyForm(request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid():
        device = two_factor.code_match(user, form.cleaned_data["code"])
        if device is not None:
            if not request.user.is_authenticated:
                login(request, user, backend=backend)
            else:
                axes_reset(username=user.email)
            accounts.unlock_grant_clear(request)
            two_factor.pending_clear(request)
            otp_login(request, device)
            return redirect(_safe_next(request, next_url, reverse("home")))
        # A wrong code is a failed login: five lock the account for an hour.
        user_login_failed.send(sender=__name__, credentials=credentials, request=request)
        if getattr(request, "axes_locked_out", False):
            _give_up(request)
            return lockout(request)
        form.add_error(
            "code",
            _(
                "Code incorrect ou expiré. Saisissez le code affiché en ce moment par votre application, "
                "un code de secours non utilisé, ou le dernier code reçu par courriel."
            ),
        )
    return render(
        request,
        "users/two_factor/verify.html",
        page_context(_("Vérification de votre identité"), form=form, email=user.email, next=next_url),
    )


@access.public
@access.expect(anonymous=access.LOGIN)
@require_POST
def email_code(request):
    verifying, elsewhere = _second_step(request)
    if elsewhere:
        return elsewhere
    user, _backend, next_url = verifying
    if two_factor.email_code_send(user):
        messages.success(
            request,
            _("Un code valable %(minutes)s minutes a été envoyé à %(email)s.")
            % {"minutes": two_factor.EMAIL_CODE_VALIDITY_MINUTES, "email": user.email},
        )
    else:
        messages.info(
            request,
            _("Un code vient de vous être envoyé : attendez une minute avant d’en demander un autre."),
        )
    url = reverse("users:two_factor_verify")
    if request.user.is_authenticated and next_url:
        url = f"{url}?{urlencode({'next': next_url})}"
    return redirect(url)
