from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("chorus", "0008_audit_chain")]

    operations = []
