from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("users", "0002_invitation")]

    operations = [
        migrations.AddField(
            model_name="user",
            name="two_factor_enabled",
            field=models.BooleanField(default=False, verbose_name="double authentification activée"),
        ),
    ]
