from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("chorus", "0007_application_urls_support")]

    operations = []
