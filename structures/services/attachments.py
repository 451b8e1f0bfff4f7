"""Pièces jointes: depositing files for a structure and deleting them, audited."""

from django.db import transaction

from chorus import audit
from chorus.actions import AuditAction
from structures.models import Attachment


@transaction.atomic
def attachment_create(*, actor, structure, files) -> list:
    """Store every file and record it, all or nothing. `files` are the (uploaded,
    checked) pairs of a valid form: each one already passed the upload validator."""
    created = []
    for uploaded, checked in files:
        attachment = Attachment(
            structure=structure,
            original_name=checked.name,
            content_type=checked.content_type,
            size=checked.size,
            uploaded_by=actor,
        )
        attachment.file.save(checked.name, uploaded, save=False)
        attachment.save()
        audit.record(
            actor=actor,
            obj=attachment,
            action=AuditAction.ATTACHMENT_CREATE,
            changes={"name": checked.name, "size": checked.size, "content_type": checked.content_type},
        )
        created.append(attachment)
    return created


@transaction.atomic
def attachment_delete(*, actor, attachment) -> None:
    """Delete an attachment, audited with its name; its stored file goes once the
    deletion is committed."""
    file_name, storage = attachment.file.name, attachment.file.storage
    audit.record(
        actor=actor,
        obj=attachment,
        action=AuditAction.ATTACHMENT_DELETE,
        changes={"name": attachment.original_name, "size": attachment.size},
    )
    attachment.delete()

    def delete_file():
        # A duplicated structure may share the stored file: keep it while referenced.
        if not Attachment.objects.filter(file=file_name).exists():
            storage.delete(file_name)

    transaction.on_commit(delete_file)
