from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("chorus", "0009_two_factor_policy")]

    operations = [
        migrations.AddIndex(
            model_name="auditevent",
            index=models.Index(fields=["structure", "-created_at", "-id"], name="audit_structure_recent"),
        ),
    ]
