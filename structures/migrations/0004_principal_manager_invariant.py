from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("structures", "0003_bank_accounts_attachments")]

    operations = []
