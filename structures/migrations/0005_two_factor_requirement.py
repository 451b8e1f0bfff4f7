from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("structures", "0004_principal_manager_invariant")]

    operations = []
