from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("users", "0003_two_factor")]

    operations = []
