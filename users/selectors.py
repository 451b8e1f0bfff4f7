"""Reads of the users app that carry a rule: keyword-only, given plain values (the
user, a structure), never the request."""

from django.contrib.auth import get_user_model
from django.db.models import Count, Prefetch, Q
from django.utils import timezone

from chorus.models import AuditEvent, Profile
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
