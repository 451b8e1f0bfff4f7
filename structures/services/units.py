"""Services (sub-units) of a structure: creating, modifying, activating, deactivating
and deleting them, audited.

Creating and modifying record what the form validated; activating, deactivating and
deleting check the structure and the service's history under a lock."""

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from chorus import audit
from chorus.actions import AuditAction
from chorus.models import AuditEvent, Habilitation
from structures.models import Service, Structure
from users.models import Membership

# What the audit trail records of a service.
AUDITED_FIELDS = [
    "code",
    "name",
    "description",
    "address",
    "address_complement_1",
    "address_complement_2",
    "postcode",
    "city",
    "country",
    "valid_from",
    "valid_until",
    "commitment_required",
    "is_active",
]

INACTIVE_STRUCTURE_MESSAGE = gettext_lazy(
    "Cette structure est désactivée : ses services ne peuvent être ni créés ni modifiés. "
    "Réactivez-la d’abord (Gérer une structure › Activer une structure)."
)


class ServiceChangeRefused(Exception):
    """A change of a service that cannot be applied; the message, in French, says why."""


def service_snapshot(service) -> dict:
    """The audited fields of a service, to compare before and after a change."""
    return {name: getattr(service, name) for name in AUDITED_FIELDS}


@transaction.atomic
def service_create(*, actor, service) -> Service:
    """Record a service built from a valid form. The same code created at the same
    moment by another request: the constraint refuses it (IntegrityError)."""
    service.save()
    audit.record(
        actor=actor,
        obj=service,
        action=AuditAction.SERVICE_CREATE,
        changes=audit.diff({}, service_snapshot(service)),
    )
    return service


@transaction.atomic
def service_update(*, actor, service, before: dict) -> dict:
    """Record the changes a valid form made to a service; `before` is its snapshot from
    before the form was validated. Returns the changes, audited when there are any."""
    service.save()
    changes = audit.diff(before, service_snapshot(service))
    if changes:
        audit.record(actor=actor, obj=service, action=AuditAction.SERVICE_UPDATE, changes=changes)
    return changes


def service_has_history(service) -> bool:
    """A service is part of history once someone was attached to it (whatever the
    attachment's status), held a profile on it, or it changed after its creation: it is
    then deactivated, never deleted, so that history keeps pointing at it."""
    if Membership.objects.filter(service=service).exists():
        return True
    if Habilitation.objects.filter(service=service).exists():
        return True
    return (
        AuditEvent.objects.filter(object_type=Service._meta.label, object_id=str(service.pk))
        .exclude(action=AuditAction.SERVICE_CREATE)
        .exists()
    )


def _lock(service):
    """Lock the structure, then the service. Attaching a user locks the structure too
    (users.services.members.membership_attach), so nobody joins a service while we delete it."""
    structure = Structure.objects.select_for_update().get(pk=service.structure_id)
    locked = Service.objects.select_for_update().get(pk=service.pk)
    locked.structure = structure
    if structure.status == Structure.Status.INACTIVE:
        raise ServiceChangeRefused(str(INACTIVE_STRUCTURE_MESSAGE))
    return locked


@transaction.atomic
def service_set_active(*, service, active: bool, actor) -> Service:
    """Activate or deactivate a service. A deactivated service keeps its members and its
    history; it can no longer be chosen for new invoices."""
    service = _lock(service)
    if service.is_active == active:
        raise ServiceChangeRefused(
            _("Ce service est déjà actif.") if active else _("Ce service est déjà désactivé.")
        )
    service.is_active = active
    service.save(update_fields=["is_active", "updated_at"])
    audit.record(
        actor=actor,
        obj=service,
        action=AuditAction.SERVICE_ACTIVATE if active else AuditAction.SERVICE_DEACTIVATE,
        changes={"is_active": {"before": not active, "after": active}},
    )
    return service


@transaction.atomic
def service_delete(*, service, actor) -> None:
    """Delete a service that never served: no member, no habilitation, no change since
    its creation. Any other service is refused (deactivate it instead)."""
    service = _lock(service)
    if service_has_history(service):
        raise ServiceChangeRefused(
            _("Ce service a des utilisateurs ou un historique : il est désactivé, pas supprimé.")
        )
    # Recorded before the row goes, while it still has its id; the event stays in the
    # structure's history.
    audit.record(
        actor=actor,
        obj=service,
        action=AuditAction.SERVICE_DELETE,
        changes={"code": service.code, "name": service.name},
    )
    service.delete()
