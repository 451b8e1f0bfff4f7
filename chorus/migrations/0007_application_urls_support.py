"""Point the Support applications at their pages."""

from django.db import migrations

URL_NAMES = {
    "NOUS_CONTACTER": "support:contact",
    "TICKETS_EMIS": "support:tickets",
    "TICKETS_RECUS": "support:agent_queues",
    "DOCUMENTATION": "support:docs",
}


def set_url_names(apps, schema_editor):
    Application = apps.get_model("chorus", "Application")
    for code, url_name in URL_NAMES.items():
        Application.objects.filter(code=code).update(url_name=url_name)


def unset_url_names(apps, schema_editor):
    apps.get_model("chorus", "Application").objects.filter(code__in=URL_NAMES).update(url_name="")


class Migration(migrations.Migration):
    dependencies = [("chorus", "0006_application_urls_users")]

    operations = [migrations.RunPython(set_url_names, unset_url_names)]
