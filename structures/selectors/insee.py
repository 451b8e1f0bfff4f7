"""Reads of the pages that ask the INSEE Sirene register."""

from django.db.models import Count, Q

from structures.models import Structure
from users.models import Membership


def structure_by_siret(*, siret):
    """The structure of this SIRET, if any, with what the pages show of it."""
    return (
        Structure.objects.filter(identifier_type=Structure.IdentifierType.SIRET, identifier=siret)
        .only("pk", "identifier", "company_name", "first_name", "last_name")
        .first()
    )


def is_attached_or_waiting(*, user, structure) -> bool:
    """Whether the user is attached to the structure, or waits for it."""
    return Membership.objects.filter(
        user=user, structure=structure, status__in=Membership.LIVE_STATUSES
    ).exists()


def copied_counts(*, structure) -> dict:
    """What a duplication copies of the structure: its services, attached users and
    habilitations."""
    return Structure.objects.filter(pk=structure.pk).aggregate(
        services=Count("services", distinct=True),
        memberships=Count(
            "memberships", filter=Q(memberships__status=Membership.Status.VALIDEE), distinct=True
        ),
        habilitations=Count("habilitations", distinct=True),
    )
