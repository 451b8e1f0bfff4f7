import hashlib
import json
from datetime import UTC

import django.utils.timezone
from django.db import migrations, models


def chain_hash(event, prev_hash):
    """The hash as chorus.audit computed it when this migration was written (over the
    foreign key ids: the plain columns came later, in 0011, with the same content)."""
    names = ("actor_id", "action", "object_type", "object_id", "object_repr", "structure_id", "changes")
    values = {name: getattr(event, name) for name in names}
    values["created_at"] = event.created_at.astimezone(UTC).isoformat()
    values["prev_hash"] = prev_hash
    canonical = json.dumps(values, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def chain_existing_records(apps, schema_editor):
    """Seal the records written before the chain, in id order, as record() then did."""
    AuditEvent = apps.get_model("chorus", "AuditEvent")
    prev_hash, batch = "", []
    for event in AuditEvent.objects.order_by("id").iterator(chunk_size=2000):
        event.prev_hash = prev_hash
        event.hash = prev_hash = chain_hash(event, prev_hash)
        batch.append(event)
        if len(batch) == 2000:
            AuditEvent.objects.bulk_update(batch, ["prev_hash", "hash"])
            batch = []
    AuditEvent.objects.bulk_update(batch, ["prev_hash", "hash"])


class Migration(migrations.Migration):
    dependencies = [("chorus", "0007_application_urls_support")]

    operations = [
        migrations.AlterField(
            model_name="auditevent",
            name="created_at",
            field=models.DateTimeField(
                db_index=True, default=django.utils.timezone.now, editable=False, verbose_name="date"
            ),
        ),
        migrations.AddField(
            model_name="auditevent",
            name="prev_hash",
            field=models.CharField(
                blank=True, editable=False, max_length=64, verbose_name="empreinte précédente"
            ),
        ),
        migrations.AddField(
            model_name="auditevent",
            name="hash",
            field=models.CharField(blank=True, editable=False, max_length=64, verbose_name="empreinte"),
        ),
        migrations.RunPython(chain_existing_records, migrations.RunPython.noop),
    ]
