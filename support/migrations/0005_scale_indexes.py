from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("support", "0004_chat_ended_without_agent")]

    operations = []
