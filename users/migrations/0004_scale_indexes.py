import django.db.models.functions.text
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("users", "0003_two_factor")]

    operations = [
        migrations.AddIndex(
            model_name="user",
            index=models.Index(django.db.models.functions.text.Upper("email"), name="user_email_upper"),
        ),
        migrations.AddIndex(
            model_name="user",
            index=models.Index(fields=["last_name", "first_name", "email"], name="user_default_order"),
        ),
    ]
