"""Reads of the attachments of structures."""

from structures.models import Attachment


def attachments_within(*, structures):
    """The attachments of these structures (those the user may act on): any other
    structure's attachment is then a 404."""
    return Attachment.objects.filter(structure__in=structures).select_related("structure")


def attachments_listed(*, structure):
    """The attachments of one structure, most recent first, with who deposited them."""
    return (
        Attachment.objects.filter(structure=structure)
        .select_related("uploaded_by")
        .order_by("-created_at", "-id")
    )
