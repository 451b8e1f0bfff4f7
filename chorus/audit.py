"""The one audit trail: every change worth knowing is recorded here, by services."""

from chorus.models import AuditEvent


def record(*, actor, obj, action: str, changes: dict | None = None) -> AuditEvent:
    return AuditEvent.objects.create(
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        action=action,
        object_type=obj._meta.label,
        object_id=str(obj.pk),
        object_repr=str(obj)[:255],
        changes=changes or {},
    )
