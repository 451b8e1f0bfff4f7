"""The catalogue's descriptions with the typographic apostrophe (’), as the interface
writes it: rows seeded before still hold the typewriter one. A description an operator
has rewritten is left as it is."""

from importlib import import_module

from django.db import migrations

catalogue = import_module("chorus.migrations.0003_catalogue")


def typographic(apps, schema_editor):
    seeded = {
        "Domain": [(row[0], row[2]) for row in catalogue.DOMAINS],
        "Application": [(row[0], row[-1]) for row in catalogue.APPLICATIONS],
    }
    for model, rows in seeded.items():
        Model = apps.get_model("chorus", model)
        for code, description in rows:
            if "’" in description:
                Model.objects.filter(code=code, description=description.replace("’", "'")).update(
                    description=description
                )


class Migration(migrations.Migration):
    dependencies = [("chorus", "0011_audit_plain_references")]

    operations = [migrations.RunPython(typographic, migrations.RunPython.noop)]
