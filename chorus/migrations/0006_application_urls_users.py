"""Point the Organisation › Utilisateurs applications and the approvals at their pages."""

from django.db import migrations

URL_NAMES = {
    "RATTACHER_UTILISATEUR": "members:attach",
    "DETACHER_UTILISATEUR": "members:detach",
    "CONSULTER_UTILISATEURS": "members:list",
    "AFFICHER_UTILISATEUR": "members:list",
    "GERER_HABILITATIONS": "members:habilitations",
    "GERER_MES_HABILITATIONS": "members:my_habilitations",
    "DEMANDER_RATTACHEMENT": "approvals:request_attachment",
    "APPROBATIONS": "approvals:inbox",
}


def set_url_names(apps, schema_editor):
    Application = apps.get_model("chorus", "Application")
    for code, url_name in URL_NAMES.items():
        Application.objects.filter(code=code).update(url_name=url_name)


def unset_url_names(apps, schema_editor):
    apps.get_model("chorus", "Application").objects.filter(code__in=URL_NAMES).update(url_name="")


class Migration(migrations.Migration):
    dependencies = [("chorus", "0005_application_urls")]

    operations = [migrations.RunPython(set_url_names, unset_url_names)]
