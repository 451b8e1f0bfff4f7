"""Reads of Gérer une structure."""

from chorus.models import AuditEvent


def structure_history(*, structure):
    """The audit trail of one structure, the most recent event first."""
    return (
        AuditEvent.objects.filter(structure=structure).select_related("actor").order_by("-created_at", "-id")
    )
