"""Gérer une structure: the status transitions (activate, deactivate)."""

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from chorus import audit
from chorus.errors import Refused
from structures.models import Structure
from users.models import Membership


class StructureStateError(Refused):
    """The structure is not in a state that allows the change; the message says why,
    in French, for the user."""


def _set_status(*, structure, actor, new_status, allowed_from, refused_message, action) -> Structure:
    # Locked, then checked: two managers pressing Soumettre at once change it once.
    locked = Structure.objects.select_for_update().get(pk=structure.pk)
    if locked.status not in allowed_from:
        raise StructureStateError(refused_message)
    if new_status == Structure.Status.ACTIVE and locked.principal_manager_id is None:
        # Invariant (a database check): an active structure has exactly one principal manager.
        if locked.memberships.filter(status=Membership.Status.VALIDEE).exists():
            raise StructureStateError(
                _(
                    "La structure n’a pas de gestionnaire principal : un opérateur doit en désigner "
                    "un avant qu’elle puisse être activée."
                )
            )
        raise StructureStateError(
            _(
                "Aucun utilisateur n’est rattaché à la structure : elle deviendra active au premier "
                "rattachement, qui désigne son gestionnaire principal."
            )
        )
    before = {"status": locked.status}
    locked.status = new_status
    locked.save(update_fields=["status", "updated_at"])
    audit.record(
        actor=actor,
        obj=locked,
        action=action,
        changes=audit.diff(before, {"status": locked.status}),
    )
    structure.status = locked.status
    return locked


@transaction.atomic
def structure_activate(*, structure: Structure, actor) -> Structure:
    """A new (activation in progress) or deactivated structure becomes active."""
    return _set_status(
        structure=structure,
        actor=actor,
        new_status=Structure.Status.ACTIVE,
        allowed_from={Structure.Status.INACTIVE, Structure.Status.EN_COURS_ACTIVATION},
        refused_message=_("La structure est déjà active : rien n’a été modifié."),
        action="structure_activate",
    )


@transaction.atomic
def structure_deactivate(*, structure: Structure, actor) -> Structure:
    """The structure can no longer send or receive invoices; its history stays readable."""
    return _set_status(
        structure=structure,
        actor=actor,
        new_status=Structure.Status.INACTIVE,
        allowed_from={Structure.Status.ACTIVE, Structure.Status.EN_COURS_ACTIVATION},
        refused_message=_("La structure est déjà désactivée : rien n’a été modifié."),
        action="structure_deactivate",
    )
