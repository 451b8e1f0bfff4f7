from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("structures", "0004_principal_manager_invariant")]

    operations = [
        migrations.AddField(
            model_name="structure",
            name="two_factor_required",
            field=models.BooleanField(default=False, verbose_name="double authentification obligatoire"),
        ),
    ]
