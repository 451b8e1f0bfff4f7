"""Organisation › Utilisateurs pages are served by the users app's one URL namespace."""

from django.db import migrations

URL_NAMES = {
    "members:attach": "users:attach",
    "members:detach": "users:detach",
    "members:list": "users:member_list",
    "members:habilitations": "users:habilitations",
    "members:my_habilitations": "users:my_habilitations",
}


def rename(apps, mapping):
    Application = apps.get_model("chorus", "Application")
    for old, new in mapping.items():
        Application.objects.filter(url_name=old).update(url_name=new)


def forwards(apps, schema_editor):
    rename(apps, URL_NAMES)


def backwards(apps, schema_editor):
    rename(apps, {new: old for old, new in URL_NAMES.items()})


class Migration(migrations.Migration):
    dependencies = [
        ("chorus", "0012_catalogue_apostrophes"),
        ("users", "0006_invitation_profiles"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
