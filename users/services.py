"""Attachment of users to structures: the transitions that keep the invariants."""

from django.db import transaction

from chorus import audit
from structures.models import Structure
from users.models import Membership


@transaction.atomic
def membership_attach(*, user, structure, service=None, actor=None, comment="") -> Membership:
    """Attach a user to a structure (or one of its services), validated at once.

    The first user attached to a structure without a principal manager becomes its
    principal manager. The structure row is locked so that two simultaneous first
    attachments cannot both take the role: the second one waits, then sees the first.
    """
    structure = Structure.objects.select_for_update().get(pk=structure.pk)
    if service is not None and service.structure_id != structure.pk:
        raise ValueError("The service does not belong to the structure.")
    membership = Membership.objects.create(
        user=user, structure=structure, service=service, status=Membership.Status.VALIDEE, comment=comment
    )
    changes = {"service": service.code if service else None}
    if structure.principal_manager_id is None:
        structure.principal_manager = user
        structure.save(update_fields=["principal_manager", "updated_at"])
        changes["principal_manager"] = {"before": None, "after": user.email}
    audit.record(actor=actor or user, obj=membership, action="membership_attach", changes=changes)
    return membership
