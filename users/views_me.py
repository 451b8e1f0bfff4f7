"""The user menu's own pages: Mes rattachements, Changer mon adresse de connexion,
Désactiver mon compte, and the emailed links that confirm a new login address or
reactivate a deactivated account.

Links are signed (django.core.signing) and carry a fingerprint of the account (its
login, password hash and active state): once used, the account changed and the link no
longer matches, so each link works once."""

from django.contrib import messages
from django.contrib.auth import get_user_model, logout, update_session_auth_hash
from django.core.paginator import Paginator
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from chorus import access, audit
from core import mail
from core.pages import page_context
from core.ratelimit import hit_all
from structures.models import Structure
from users import account_security, services
from users.forms_me import ChangeEmailForm, DeactivateForm
from users.links import last_account_event_id as _last_account_event_id
from users.links import link_page as _link_page
from users.links import make_token as _make_token
from users.links import read_token as _read_token
from users.links import token_user as _token_user
from users.models import Membership
from users.views import locked_out_of_session, too_many_message, wrong_password_lockout

User = get_user_model()

CHANGE_EMAIL_SALT = "users.views_me.change_email"
CHANGE_EMAIL_MAX_AGE = 60 * 60
REACTIVATE_SALT = "users.views_me.reactivate"
REACTIVATE_MAX_AGE = 7 * 24 * 60 * 60
MEMBERSHIPS_PER_PAGE = 50


def _account_links():
    return [{"url": reverse("users:account"), "title": _("Mon compte")}]


# Mes rattachements


@access.authenticated
@require_GET
def my_memberships(request):
    memberships = (
        Membership.objects.filter(user=request.user)
        .select_related("structure", "service")
        .order_by("-started_at", "-pk")
    )
    paginator = Paginator(memberships, MEMBERSHIPS_PER_PAGE)
    page_obj = paginator.get_page(request.GET.get("page"))
    page_obj.pages_list = list(paginator.get_elided_page_range(page_obj.number, on_each_side=1, on_ends=1))
    title = _("Mes rattachements")
    return render(
        request,
        "users/me_memberships.html",
        page_context(
            title,
            links=_account_links(),
            page_obj=page_obj,
            Status=Membership.Status,
            invitations=list(services.invitations_pending_for(user=request.user)),
            # The principal manager hands the role over instead of leaving.
            managed_ids=set(
                Structure.objects.filter(principal_manager=request.user).values_list("pk", flat=True)
            ),
            transfer_url=_transfer_url(),
        ),
    )


# Changer mon adresse de connexion


@access.authenticated
def change_email(request):
    user = User.objects.get(pk=request.user.pk)
    if request.method == "POST":
        if locked := locked_out_of_session(request, user):
            return locked
        form = ChangeEmailForm(request.POST, user=user)
        valid = form.is_valid()
        if not valid and (locked := wrong_password_lockout(request, user, form)):
            return locked
        # Per account and per new address: neither one session nor many accounts can
        # fill a stranger's mailbox with confirmation links.
        if valid and not hit_all(
            (account_security.CHANGE_EMAIL_USER, user.pk),
            (account_security.CHANGE_EMAIL_TARGET, form.cleaned_data["email"]),
        ):
            form.add_error(None, too_many_message())
            valid = False
        if valid:
            new_email = form.cleaned_data["email"]
            with transaction.atomic():
                audit.record(
                    actor=user,
                    obj=user,
                    action="user_email_change_request",
                    changes={"email": {"before": user.email, "after": new_email}},
                )
                url = request.build_absolute_uri(
                    reverse(
                        "users:change_email_confirm", args=[_make_token(user, CHANGE_EMAIL_SALT, e=new_email)]
                    )
                )
                mail.send_templated(
                    template="change_email",
                    to=new_email,
                    context={
                        "user": user,
                        "new_email": new_email,
                        "confirm_url": url,
                        "validity_minutes": 60,
                    },
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
        "users/me_change_email.html",
        page_context(title, links=_account_links(), form=form, current_email=user.email),
    )


@access.public
@access.expect(**access.INVALID_TOKEN)
@require_GET
def change_email_confirm(request, token):
    payload, expired = _read_token(token, CHANGE_EMAIL_SALT, CHANGE_EMAIL_MAX_AGE)
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
    new_email = payload.get("e", "")
    try:
        with transaction.atomic():
            user = _token_user(payload, CHANGE_EMAIL_SALT, lock=True)
            if user is None or not new_email:
                return _link_page(request, title=title, message=invalid, status=404)
            if User.objects.filter(email__iexact=new_email).exclude(pk=user.pk).exists():
                raise IntegrityError
            old_email = user.email
            user.email = new_email
            user.save(update_fields=["email"])
            audit.record(
                actor=user,
                obj=user,
                action="user_email_change",
                changes={"email": {"before": old_email, "after": new_email}},
            )
            # The old address (and the contact address) learn of the change: if it was
            # not their owner's doing, they can react.
            account_security.security_notify(
                user=user,
                template="change_email_done",
                context={"old_email": old_email, "new_email": new_email},
                also=[old_email],
            )
    except IntegrityError:
        return _link_page(
            request,
            title=_("Adresse déjà utilisée"),
            message=_(
                "Cette adresse électronique est maintenant utilisée par un autre compte du portail : "
                "votre adresse de connexion n’a pas changé."
            ),
        )
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


def _structures_to_transfer(user):
    """Active structures I am principal manager of, where other users are attached:
    someone must administer them after me."""
    others = Count(
        "memberships__user",
        filter=Q(memberships__status=Membership.Status.VALIDEE) & ~Q(memberships__user=user),
        distinct=True,
    )
    return (
        Structure.objects.filter(principal_manager=user, status=Structure.Status.ACTIVE)
        .annotate(other_users=others)
        .filter(other_users__gt=0)
        .order_by("company_name", "identifier")
    )


def _transfer_url():
    try:
        return reverse("structures:transfer")
    except NoReverseMatch:
        return reverse("domain", args=["organisation"])


def _send_reactivation_link(request, user):
    """To the login and the contact addresses: a deactivation the owner did not make
    must reach them, with the way back."""
    token = _make_token(user, REACTIVATE_SALT, d=_last_account_event_id(user))
    url = request.build_absolute_uri(reverse("users:reactivate", args=[token]))
    account_security.security_notify(
        user=user, template="reactivate", context={"reactivate_url": url, "validity_days": 7}
    )


@access.authenticated
def deactivate(request):
    user = User.objects.get(pk=request.user.pk)
    if locked := locked_out_of_session(request, user):
        return locked
    blocking = list(_structures_to_transfer(user))
    form = DeactivateForm(request.POST if request.method == "POST" and not blocking else None, user=user)
    if form.is_bound and not form.is_valid() and (locked := wrong_password_lockout(request, user, form)):
        return locked
    if form.is_bound and form.is_valid():
        with transaction.atomic():
            user = User.objects.select_for_update().get(pk=user.pk)
            # Checked again under the lock: an attachment may have arrived meanwhile.
            blocking = list(_structures_to_transfer(user))
            if not blocking:
                user.is_active = False
                user.save(update_fields=["is_active"])
                audit.record(
                    actor=user,
                    obj=user,
                    action="user_deactivate",
                    changes={"is_active": {"before": True, "after": False}},
                )
                _send_reactivation_link(request, user)
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
        "users/me_deactivate.html",
        page_context(
            title,
            links=_account_links(),
            form=form,
            blocking=blocking,
            transfer_url=_transfer_url(),
            refused=request.method == "POST" and bool(blocking),
        ),
    )


def _reactivable(user, payload):
    """A deactivated account (once activated) whose last change is the deactivation the
    link was sent for."""
    return (
        user is not None
        and not user.is_active
        and user.activated_at is not None
        and payload.get("d") is not None
        and payload.get("d") == _last_account_event_id(user)
    )


@access.public
@access.expect(**access.INVALID_TOKEN)
@require_http_methods(["GET", "POST"])
def reactivate(request, token):
    """GET: the link reactivates the account. An expired but genuine link offers (POST)
    a new one, sent to the account's login address."""
    payload, expired = _read_token(token, REACTIVATE_SALT, REACTIVATE_MAX_AGE)
    invalid_title = _("Lien de réactivation invalide")
    invalid = _("Ce lien de réactivation est invalide ou a déjà été utilisé.")
    user = _token_user(payload, REACTIVATE_SALT)
    if not _reactivable(user, payload):
        return _link_page(request, title=invalid_title, message=invalid, status=404)
    if expired:
        if request.method == "POST":
            _send_reactivation_link(request, user)
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
    with transaction.atomic():
        user = _token_user(payload, REACTIVATE_SALT, lock=True)
        if not _reactivable(user, payload):
            return _link_page(request, title=invalid_title, message=invalid, status=404)
        user.is_active = True
        user.save(update_fields=["is_active"])
        audit.record(
            actor=user,
            obj=user,
            action="user_reactivate",
            changes={"is_active": {"before": False, "after": True}},
        )
    messages.success(request, _("Votre compte est réactivé. Vous pouvez vous connecter."))
    return redirect("users:login")
