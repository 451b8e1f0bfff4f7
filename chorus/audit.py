"""The one audit trail: every change worth knowing is recorded here, by services and
views, in the same transaction as the change. Nobody edits it."""

from chorus.models import AuditEvent


def record(*, actor, obj, action: str, changes: dict | None = None, structure=None) -> AuditEvent:
    """Record one change. `changes` is {"field": {"before": …, "after": …}} or any
    JSON-serialisable detail. The structure defaults to the object itself or its
    `structure`, so the change shows in that structure's history."""
    if structure is None:
        from structures.models import Structure

        # A model may opt out of its structure's history with `audit_structure = None`.
        default = getattr(obj, "structure", None)
        structure = obj if isinstance(obj, Structure) else getattr(obj, "audit_structure", default)
    return AuditEvent.objects.create(
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        action=action,
        object_type=obj._meta.label,
        object_id=str(obj.pk),
        object_repr=str(obj)[:255],
        structure=structure,
        changes=changes or {},
    )


def diff(before: dict, after: dict) -> dict:
    """{"field": {"before": old, "after": new}} for the fields whose value changed."""
    return {
        name: {"before": _plain(before.get(name)), "after": _plain(value)}
        for name, value in after.items()
        if before.get(name) != value
    }


def _plain(value):
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)
