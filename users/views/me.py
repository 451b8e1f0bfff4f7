"""The user menu's own pages: Mes rattachements, Changer mon adresse de connexion,
Désactiver mon compte, and the emailed links that confirm a new login address or
reactivate a deactivated account (users.services.me)."""

from django.contrib import messages
from django.contrib.auth import get_user_model, logout, update_session_auth_hash
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from chorus import access
from core.pages import ACCOUNT, page_context
from core.pagination import paginate
from core.ratelimit import hit_all
from users import selectors, tokens
from users.forms.me import ChangeEmailForm, DeactivateForm
from users.models import Membership
from users.services import accounts, me
from users.views.accounts import (
    _link_page,
    _link_url,
    _locked_out_of_session,
    _too_many_message,
    _wrong_password_lockout,
)

User = get_user_model()

MEMBERSHIPS_PER_PAGE = 50


# Mes rattachements


@access.authenticated
@require_GET
def my_memberships(request):
    page_obj = paginate(request, selectors.memberships_of(user=request.user), per_page=MEMBERSHIPS_PER_PAGE)
    title = _("Mes rattachements")
    return render(
        request,
        "users/me/memberships.html",
        page_context(
            title,
            links=[ACCOUNT],
            page_obj=page_obj,
            Status=Membership.Status,
            invitations=list(selectors.invitations_pending_for(user=request.user)),
            managed_ids=selectors.managed_structure_ids(user=request.user),
            transfer_url=_transfer_url(),
        ),
    )


# Changer mon adresse de connexion


@access.authenticated
def change_email(request):
    user = User.objects.get(pk=request.user.pk)
    if request.method == "POST":
        if locked := _locked_out_of_session(request, user):
            return locked
        form = ChangeEmailForm(request.POST, user=user)
        valid = form.is_valid()
        if not valid and (locked := _wrong_password_lockout(request, user, form)):
            return locked
        # Per account and per new address: neither one session nor many accounts can
        # fill a stranger's mailbox with confirmation links.
        if valid and not hit_all(
            (accounts.CHANGE_EMAIL_USER, user.pk),
            (accounts.CHANGE_EMAIL_TARGET, form.cleaned_data["email"]),
        ):
            form.add_error(None, _too_many_message())
            valid = False
        if valid:
            new_email = form.cleaned_data["email"]
            me.email_change_request(
                actor=user, new_email=new_email, link_url=_link_url(request, "users:change_email_confirm")
            )
            messages.success(
                request,
                _(
                    "Un courriel a été envoyé à %(email)s. Ouvrez le lien qu’il contient dans les "
                    "60 minutes : votre adresse de connexion ne changera qu’à ce moment-là."
                )
                % {"email": new_email},
            )
            return redirect("users:account")
    else:
        form = ChangeEmailForm(user=user)
    title = _("Changer mon adresse de connexion")
    return render(
        request,
        "users/me/change_email.html",
        page_context(title, links=[ACCOUNT], form=form, current_email=user.email),
    )


@access.public
@access.expect(**access.INVALID_TOKEN)
@require_GET
def change_email_confirm(request, token):
    payload, expired = tokens.read_token(token, me.CHANGE_EMAIL_SALT, me.CHANGE_EMAIL_MAX_AGE)
    title = _("Lien de confirmation invalide")
    invalid = _("Ce lien de confirmation est invalide ou a déjà été utilisé.")
    if payload is None:
        return _link_page(request, title=title, message=invalid, status=404)
    if expired:
        return _link_page(
            request,
            title=_("Lien de confirmation expiré"),
            message=_(
                "Ce lien était valable 60 minutes. Votre adresse de connexion n’a pas changé : "
                "refaites la demande depuis « Changer mon adresse de connexion »."
            ),
        )
    try:
        user = me.email_change_confirm(payload=payload)
    except me.EmailTaken:
        return _link_page(
            request,
            title=_("Adresse déjà utilisée"),
            message=_(
                "Cette adresse électronique est maintenant utilisée par un autre compte du portail : "
                "votre adresse de connexion n’a pas changé."
            ),
        )
    if user is None:
        return _link_page(request, title=title, message=invalid, status=404)
    new_email = user.email
    # The session hash covers the login address (User._get_session_auth_hash): every
    # session of the account ended with the change, except this one if it is theirs.
    if request.user.is_authenticated and request.user.pk == user.pk:
        update_session_auth_hash(request, user)
        messages.success(
            request, _("Votre adresse de connexion est maintenant %(email)s.") % {"email": new_email}
        )
        return redirect("users:account")
    messages.success(
        request,
        _("Votre adresse de connexion est maintenant %(email)s : connectez-vous avec elle.")
        % {"email": new_email},
    )
    return redirect("users:login")


# Désactiver mon compte, réactiver par le lien reçu


def _transfer_url():
    try:
        return reverse("structures:transfer")
    except NoReverseMatch:
        return reverse("domain", args=["organisation"])


@access.authenticated
def deactivate(request):
    user = User.objects.get(pk=request.user.pk)
    if locked := _locked_out_of_session(request, user):
        return locked
    blocking = list(selectors.structures_to_transfer(user=user))
    form = DeactivateForm(request.POST if request.method == "POST" and not blocking else None, user=user)
    if form.is_bound and not form.is_valid() and (locked := _wrong_password_lockout(request, user, form)):
        return locked
    if form.is_bound and form.is_valid():
        blocking = me.account_deactivate(actor=user, link_url=_link_url(request, "users:reactivate"))
        if not blocking:
            logout(request)
            messages.success(
                request,
                _(
                    "Votre compte est désactivé. Un lien pour le réactiver, valable 7 jours, a été envoyé à "
                    "%(email)s."
                )
                % {"email": user.email},
            )
            return redirect("home")
    title = _("Désactiver mon compte")
    return render(
        request,
        "users/me/deactivate.html",
        page_context(
            title,
            links=[ACCOUNT],
            form=form,
            blocking=blocking,
            transfer_url=_transfer_url(),
            refused=request.method == "POST" and bool(blocking),
        ),
    )


@access.public
@access.expect(**access.INVALID_TOKEN)
@require_http_methods(["GET", "POST"])
def reactivate(request, token):
    """GET: the link reactivates the account. An expired but genuine link offers (POST)
    a new one, sent to the account's login address."""
    payload, expired = tokens.read_token(token, me.REACTIVATE_SALT, me.REACTIVATE_MAX_AGE)
    invalid_title = _("Lien de réactivation invalide")
    invalid = _("Ce lien de réactivation est invalide ou a déjà été utilisé.")
    user = tokens.token_user(payload, me.REACTIVATE_SALT)
    if not me.reactivable(user, payload):
        return _link_page(request, title=invalid_title, message=invalid, status=404)
    if expired:
        if request.method == "POST":
            me.reactivation_link_send(user=user, link_url=_link_url(request, "users:reactivate"))
            return _link_page(
                request,
                title=_("Vérifiez votre messagerie"),
                message=_(
                    "Un nouveau lien de réactivation, valable 7 jours, a été envoyé à votre adresse "
                    "de connexion."
                ),
            )
        return _link_page(
            request,
            title=_("Lien de réactivation expiré"),
            message=_(
                "Ce lien était valable 7 jours. Vous pouvez en recevoir un nouveau à votre adresse "
                "de connexion."
            ),
            resend_url=request.path,
        )
    if request.method == "POST":
        return redirect(request.path)
    if me.account_reactivate(payload=payload) is None:
        return _link_page(request, title=invalid_title, message=invalid, status=404)
    messages.success(request, _("Votre compte est réactivé. Vous pouvez vous connecter."))
    return redirect("users:login")
