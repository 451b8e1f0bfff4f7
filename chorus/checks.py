"""System checks of the kernel's vocabulary against what the migrations install."""

import sys

from django.core import checks
from django.db.migrations.loader import MigrationLoader

from chorus.codes import ApplicationCode


def installed_catalogue() -> dict[str, str]:
    """{application code: URL name} as the migrations, run in order, leave the catalogue.
    They write it in two shapes: `APPLICATIONS` rows (the code first) seed applications;
    `URL_NAMES` maps a code to its page's URL name, or an old URL name ("ns:name") to its
    new one when a page moves."""
    loader = MigrationLoader(None, ignore_no_migrations=True)
    plan = []
    for leaf in loader.graph.leaf_nodes():
        plan += [key for key in loader.graph.forwards_plan(leaf) if key not in plan]
    catalogue: dict[str, str] = {}
    for key in plan:
        module = sys.modules[type(loader.graph.nodes[key]).__module__]
        for row in getattr(module, "APPLICATIONS", ()):
            catalogue.setdefault(row[0], "")
        for old, new in getattr(module, "URL_NAMES", {}).items():
            if ":" in old:
                catalogue |= {code: new for code, url_name in catalogue.items() if url_name == old}
            elif old in catalogue:
                catalogue[old] = new
    return catalogue


def check_application_codes(app_configs=None, **kwargs):
    """ApplicationCode names every application of the catalogue, with its URL name."""
    catalogue = installed_catalogue()
    errors = []
    for member in ApplicationCode:
        if member not in catalogue:
            errors.append(
                checks.Error(f"ApplicationCode.{member.name} is not in the catalogue.", id="chorus.E001")
            )
        elif catalogue[member] != member.url_name:
            errors.append(
                checks.Error(
                    f"ApplicationCode.{member.name} opens {member.url_name!r}, "
                    f"the catalogue {catalogue[member]!r}.",
                    id="chorus.E002",
                )
            )
    for code in sorted(set(catalogue) - set(ApplicationCode)):
        errors.append(checks.Error(f"The catalogue's {code} has no ApplicationCode.", id="chorus.E003"))
    return errors
