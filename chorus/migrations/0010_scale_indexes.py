from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("chorus", "0009_two_factor_policy")]

    operations = []
