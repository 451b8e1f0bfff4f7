"""Reads of the services (sub-units) of structures."""

from django.db.models import Count, Q

from structures.models import Service
from users.models import Membership


def services_within(*, structures):
    """The services of these structures (those the user may manage services of): any
    other structure's service is then a 404."""
    return Service.objects.filter(structure__in=structures).select_related("structure")


def services_of(*, structure):
    return Service.objects.filter(structure=structure)


def services_listed(*, services):
    """The services of the list, by code, with the number of users attached to each."""
    return services.annotate(
        member_count=Count("memberships", filter=Q(memberships__status=Membership.Status.VALIDEE))
    ).order_by("code", "pk")
