"""Refresh the documentation pages from support/docs_content/: the error messages they
quote use the typographic apostrophe (’), as the interface does."""

from importlib import import_module

from django.db import migrations

documentation = import_module("support.migrations.0003_documentation")


class Migration(migrations.Migration):
    dependencies = [("support", "0008_documentation_invitations")]

    operations = [migrations.RunPython(documentation.seed_pages, migrations.RunPython.noop)]
