"""Point the Organisation › Structure applications at their pages."""

from django.db import migrations

URL_NAMES = {
    "CREER_STRUCTURE": "structures:create",
    "GERER_STRUCTURE": "structures:manage",
    "CREER_SERVICE": "structures:service_create",
    "GERER_SERVICE": "structures:service_list",
    "CREER_COORDONNEE_BANCAIRE": "structures:bank_create",
    "GERER_COORDONNEE_BANCAIRE": "structures:bank_list",
    "CREER_PIECE_JOINTE": "structures:attachment_create",
    "GERER_PIECE_JOINTE": "structures:attachment_list",
    "DUPLIQUER_STRUCTURE": "structures:duplicate",
    "TRANSFERER_GP": "structures:transfer",
}


def set_url_names(apps, schema_editor):
    Application = apps.get_model("chorus", "Application")
    for code, url_name in URL_NAMES.items():
        Application.objects.filter(code=code).update(url_name=url_name)


def unset_url_names(apps, schema_editor):
    apps.get_model("chorus", "Application").objects.filter(code__in=URL_NAMES).update(url_name="")


class Migration(migrations.Migration):
    dependencies = [("chorus", "0004_audit_structure")]

    operations = [migrations.RunPython(set_url_names, unset_url_names)]
