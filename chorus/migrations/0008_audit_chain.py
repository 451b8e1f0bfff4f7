import django.utils.timezone
from django.db import migrations, models


def chain_existing_records(apps, schema_editor):
    """Seal the records written before the chain, in id order, as record() now does."""
    from chorus.audit import chain_hash

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
