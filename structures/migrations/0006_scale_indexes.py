from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("structures", "0005_two_factor_requirement")]

    operations = []
