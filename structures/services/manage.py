"""Gérer une structure: its modification and its status transitions (activate, deactivate)."""

import logging

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from chorus import audit
from chorus.actions import AuditAction
from core.errors import Refused
from structures import sirene
from structures.models import Structure
from users.models import Membership

logger = logging.getLogger(__name__)

CLOSED_AT_INSEE = _(
    "L’établissement de SIRET %(siret)s est fermé dans la base INSEE (Sirene) : la structure ne peut pas "
    "être réactivée. Si l’activité continue sous un nouveau SIRET, utilisez « Dupliquer une structure » "
    "avec ce nouveau SIRET : la nouvelle structure reprend ses services, coordonnées bancaires, pièces "
    "jointes et utilisateurs."
)
UNKNOWN_AT_INSEE = _(
    "La base INSEE ne connaît pas (ou plus) le SIRET %(siret)s : la structure ne peut pas être activée. "
    "Si l’établissement a un nouveau SIRET, utilisez « Dupliquer une structure » avec ce nouveau SIRET ; "
    "sinon, contactez le support."
)
HIDDEN_AT_INSEE = _(
    "L’INSEE ne communique pas l’état de l’établissement %(siret)s (non diffusible) : le portail ne peut "
    "pas vérifier qu’il est ouvert. Contactez le support pour réactiver la structure."
)


@transaction.atomic
def structure_update(*, actor, structure, before: dict, after: dict) -> dict:
    """Record the changes a valid form made to a structure, `before` and `after` being
    the form's fields before validation and as cleaned. Only the fields changed here are
    written: an INSEE refresh at the same moment keeps its own. Returns the changes."""
    changes = audit.diff(before, after)
    if changes:
        structure.save(update_fields=[*changes, "updated_at"])
        audit.record(actor=actor, obj=structure, action=AuditAction.STRUCTURE_UPDATE, changes=changes)
    return changes


class StructureStateError(Refused):
    """The structure is not in a state that allows the change; the message says why,
    in French, for the user."""


def _check_state(structure, *, new_status, allowed_from, refused_message) -> None:
    if structure.status not in allowed_from:
        raise StructureStateError(refused_message)
    if new_status == Structure.Status.ACTIVE and structure.principal_manager_id is None:
        # Invariant one-principal-manager (docs/architecture.md), a database check: an active
        # structure has exactly one principal manager.
        if structure.memberships.filter(status=Membership.Status.VALIDEE).exists():
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


def _set_status(*, structure, actor, new_status, allowed_from, refused_message, action) -> Structure:
    # Locked, then checked: two managers pressing Soumettre at once change it once.
    locked = Structure.objects.select_for_update().get(pk=structure.pk)
    _check_state(locked, new_status=new_status, allowed_from=allowed_from, refused_message=refused_message)
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


def _check_open_at_insee(siret: str) -> None:
    """Refuse, with what to do, unless INSEE says the establishment is open: the check
    creation makes (Establishment.check_usable). INSEE not answering is a refusal too."""
    establishment = None
    try:
        establishment = sirene.get_client().get_siret(siret)
        establishment.check_usable()
    except sirene.SireneClosed:
        raise StructureStateError(CLOSED_AT_INSEE % {"siret": siret}) from None
    except sirene.SireneNonDiffusible:
        # Open (check_usable looks at the state first) with its data hidden: activating
        # copies nothing from INSEE. A 403 instead hides the state itself.
        if establishment is None:
            raise StructureStateError(HIDDEN_AT_INSEE % {"siret": siret}) from None
    except sirene.SireneUnknown:
        raise StructureStateError(UNKNOWN_AT_INSEE % {"siret": siret}) from None
    except sirene.SireneError as error:
        logger.warning("Sirene lookup of %s before activation failed: %s", siret, error.detail)
        raise StructureStateError(error.message) from None


def structure_activate(*, structure: Structure, actor) -> Structure:
    """A new (activation in progress) or deactivated structure becomes active, if INSEE
    says its SIRET's establishment is open. INSEE is asked before the transaction, so
    that no lock is held while it answers; the state is checked before (to ask INSEE
    only when activating is possible) and again under the lock."""
    states = {
        "new_status": Structure.Status.ACTIVE,
        "allowed_from": {Structure.Status.INACTIVE, Structure.Status.EN_COURS_ACTIVATION},
        "refused_message": _("La structure est déjà active : rien n’a été modifié."),
    }
    current = Structure.objects.get(pk=structure.pk)
    _check_state(current, **states)
    if current.identifier_type == Structure.IdentifierType.SIRET:
        _check_open_at_insee(current.identifier)
    with transaction.atomic():
        return _set_status(structure=structure, actor=actor, action=AuditAction.STRUCTURE_ACTIVATE, **states)


@transaction.atomic
def structure_deactivate(*, structure: Structure, actor) -> Structure:
    """The structure can no longer send or receive invoices; its history stays readable."""
    return _set_status(
        structure=structure,
        actor=actor,
        new_status=Structure.Status.INACTIVE,
        allowed_from={Structure.Status.ACTIVE, Structure.Status.EN_COURS_ACTIVATION},
        refused_message=_("La structure est déjà désactivée : rien n’a été modifié."),
        action=AuditAction.STRUCTURE_DEACTIVATE,
    )
