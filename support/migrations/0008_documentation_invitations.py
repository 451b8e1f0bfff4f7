"""Refresh the documentation pages from support/docs_content/: attaching a user is an
invitation its owner accepts or declines, members may leave a structure, sign-up asks
for names, and overseas bank accounts keep their territory."""

from importlib import import_module

from django.db import migrations

documentation = import_module("support.migrations.0003_documentation")


class Migration(migrations.Migration):
    dependencies = [("support", "0007_ticket_counter")]

    operations = [migrations.RunPython(documentation.seed_pages, migrations.RunPython.noop)]
