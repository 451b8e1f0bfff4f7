"""Reads of Transférer le gestionnaire principal."""

from structures.models import Structure


def transferred_structures(*, access, structure_ids):
    """The structures just transferred that the user is still attached to."""
    attached = access.attached_structure_ids()
    return (
        Structure.objects.filter(pk__in=[pk for pk in structure_ids if pk in attached])
        .select_related("principal_manager")
        .order_by("company_name", "identifier")
    )


def kept_structures(*, user, structure_ids):
    """Deactivated structures a global transfer left with the user, still theirs."""
    return Structure.objects.filter(pk__in=structure_ids, principal_manager=user).order_by(
        "company_name", "identifier"
    )
