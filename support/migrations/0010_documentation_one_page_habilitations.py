"""Refresh the documentation pages from support/docs_content/: the habilitations are chosen
at the top of one page, the global transfer leaves a deactivated structure with its
manager, Gérer mes habilitations lists the requests waiting for a decision, and attaching
a user chooses their profiles."""

from importlib import import_module

from django.db import migrations

documentation = import_module("support.migrations.0003_documentation")


class Migration(migrations.Migration):
    dependencies = [("support", "0009_documentation_apostrophes")]

    operations = [migrations.RunPython(documentation.seed_pages, migrations.RunPython.noop)]
