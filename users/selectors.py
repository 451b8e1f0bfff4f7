"""Reads of the users app that carry a rule: keyword-only, given plain values (the
user, a structure), never the request."""

import unicodedata

from django.contrib.auth import get_user_model
from django.db.models import Count, Exists, F, OuterRef, Prefetch, Q
from django.utils import timezone

from chorus.access import PRINCIPAL_MANAGER_PROFILE
from chorus.models import AuditEvent, Habilitation, Profile
from structures.models import Structure
from users.models import Invitation, Membership


def open_invitations(invitations):
    """Those of `invitations` still waiting for an answer, and not expired."""
    return invitations.filter(
        accepted_at__isnull=True,
        declined_at__isnull=True,
        created_at__gt=timezone.now() - Invitation.VALIDITY,
    )


def signup_invitations(*, email):
    """The invitations to create an account at this address, still open."""
    return open_invitations(Invitation.objects.filter(email__iexact=email, user__isnull=True))


def password_reset_accounts(*, email):
    """The accounts a reset link goes to: active, with a password, at exactly this
    address once case and Unicode forms are set aside (as Django's password reset)."""
    wanted = _comparable(email)
    candidates = get_user_model().objects.filter(email__iexact=email, is_active=True)
    return [user for user in candidates if user.has_usable_password() and _comparable(user.email) == wanted]


def _comparable(email):
    return unicodedata.normalize("NFKC", email).casefold()


def invitations_pending_for(*, user):
    """The invitations a user may answer: made to their account, or to their login
    address before it had one."""
    return (
        open_invitations(
            Invitation.objects.filter(Q(user=user) | Q(user__isnull=True, email__iexact=user.email))
        )
        .select_related("structure", "invited_by")
        .prefetch_related(
            "services",
            Prefetch(
                "profiles",
                queryset=Profile.objects.select_related("application").order_by(
                    "application__domain__order", "application__order", "level"
                ),
            ),
        )
        .order_by("created_at", "pk")
    )


def memberships_of(*, user):
    """Mes rattachements: every attachment of the user, live or ended, newest first."""
    return (
        Membership.objects.filter(user=user)
        .select_related("structure", "service")
        .order_by("-started_at", "-pk")
    )


def managed_structure_ids(*, user) -> set:
    """The structures the user is principal manager of: they hand the role over
    instead of leaving."""
    return set(Structure.objects.filter(principal_manager=user).values_list("pk", flat=True))


def structures_to_transfer(*, user):
    """Active structures the user is principal manager of, where other users are
    attached: someone must administer them after this user."""
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


def last_account_event_id(*, user):
    """The last recorded change of the account. A reactivation or unlock link names
    the change it was sent after: any later change (the reactivation or unlock itself,
    an operator's action) makes it stale."""
    return (
        AuditEvent.objects.filter(object_type=get_user_model()._meta.label, object_id=str(user.pk))
        .order_by("-created_at", "-id")
        .values_list("pk", flat=True)
        .first()
    )


def my_structures(*, access):
    """The structures I belong to (validated attachment) or manage."""
    return Structure.objects.filter(pk__in=access.attached_structure_ids()).order_by(
        "company_name", "identifier"
    )


def my_services(*, user, structure):
    """The services of a structure I may hold profiles on: all of them when I belong to
    the whole structure, else those I am attached to."""
    services = structure.services.order_by("code")
    whole = (
        structure.principal_manager_id == user.pk
        or Membership.objects.filter(
            user=user, structure=structure, service__isnull=True, status=Membership.Status.VALIDEE
        ).exists()
    )
    if whole:
        return services
    return services.filter(memberships__user=user, memberships__status=Membership.Status.VALIDEE).distinct()


def directory_memberships(*, structures, filters: dict):
    """Organisation › Utilisateurs: the attachments to the given structures (those the
    user may consult users of) for these filters, in a stable order, with what each row
    needs loaded in a fixed number of queries."""
    memberships = Membership.objects.filter(structure__in=structures)
    for word in filters.get("q", "").split():
        memberships = memberships.filter(
            Q(user__last_name__icontains=word)
            | Q(user__first_name__icontains=word)
            | Q(user__email__icontains=word)
        )
    if "structure" in filters:
        memberships = memberships.filter(structure=filters["structure"])
    if "service" in filters:
        memberships = memberships.filter(service=filters["service"])
    if "status" in filters:
        memberships = memberships.filter(status=filters["status"])
    if "profile" in filters:
        memberships = memberships.filter(_holds_profile(filters["profile"]))
    return (
        memberships.select_related("user", "structure", "service")
        .prefetch_related(
            Prefetch(
                "user__habilitations",
                queryset=Habilitation.objects.filter(structure__in=structures).select_related(
                    "profile__application"
                ),
                to_attr="visible_habilitations",
            )
        )
        .order_by(
            "user__last_name",
            "user__first_name",
            "user__email",
            "structure__company_name",
            "structure__identifier",
            "service__code",
            "pk",
        )
    )


def _holds_profile(profile) -> Q:
    """Rows whose user holds the profile at the row's level, as the Profils column shows."""
    held = Habilitation.objects.filter(
        user=OuterRef("user"), structure=OuterRef("structure"), profile=profile
    )
    condition = Q(Exists(held.filter(service__isnull=True)), service__isnull=True) | Q(
        Exists(held.filter(service=OuterRef("service"))), service__isnull=False
    )
    if (profile.application.code, profile.level) == PRINCIPAL_MANAGER_PROFILE:
        condition |= Q(service__isnull=True, user=F("structure__principal_manager"))
    return condition
