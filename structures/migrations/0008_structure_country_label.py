from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("structures", "0007_structure_claims"),
    ]

    operations = [
        migrations.AddField(
            model_name="structure",
            name="country_label",
            field=models.CharField(
                blank=True, db_default="", default="", max_length=100, verbose_name="pays (libellé INSEE)"
            ),
        ),
    ]
