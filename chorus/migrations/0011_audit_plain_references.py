from django.db import migrations, models


def fill_plain_references(apps, schema_editor):
    """Copy the actor and structure ids into the plain columns the hash now reads. The
    hashed content stays exactly what it was (same names, same integers), so no record is
    resealed and anchors taken before stay valid. The actor's email is left empty: the
    hashes of these records do not cover it."""
    AuditEvent = apps.get_model("chorus", "AuditEvent")
    AuditEvent.objects.filter(actor_id_value__isnull=True).update(actor_id_value=models.F("actor_id"))
    AuditEvent.objects.filter(structure_id_value__isnull=True).update(
        structure_id_value=models.F("structure_id")
    )


class Migration(migrations.Migration):
    dependencies = [("chorus", "0010_scale_indexes")]

    operations = [
        migrations.AddField(
            model_name="auditevent",
            name="actor_id_value",
            field=models.BigIntegerField(
                blank=True, editable=False, null=True, verbose_name="identifiant de l’auteur"
            ),
        ),
        migrations.AddField(
            model_name="auditevent",
            name="actor_email",
            field=models.EmailField(
                blank=True, editable=False, max_length=254, verbose_name="adresse de l’auteur"
            ),
        ),
        migrations.AddField(
            model_name="auditevent",
            name="structure_id_value",
            field=models.BigIntegerField(
                blank=True, editable=False, null=True, verbose_name="identifiant de la structure"
            ),
        ),
        migrations.RunPython(fill_plain_references, migrations.RunPython.noop),
    ]
