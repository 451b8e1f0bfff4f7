import os
import random
import sys

import pytest
from django.db.models.query import QuerySet
from django.template.base import Origin

from chorus.models import Level
from tests import factories

# Playwright's sync API runs an event loop in the test thread; the ORM calls the tests
# make around it are synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

PROJECT_TEMPLATES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "templates")


class UndefinedVariable(str):
    """Raised on an undefined variable in the project's own templates (third-party
    templates, such as the DSFR form snippets, rely on undefined variables on purpose)."""

    def __mod__(self, variable):
        frame = sys._getframe(1)
        while frame is not None:
            template = getattr(frame.f_locals.get("self"), "origin", None)
            if isinstance(template, Origin) and template.name:
                if str(template.name).startswith(PROJECT_TEMPLATES):
                    raise AssertionError(f"Undefined template variable {variable!r} in {template.name}")
                return ""
            frame = frame.f_back
        return ""

    def __contains__(self, item):
        return item == "%s"


@pytest.fixture(autouse=True)
def _strict_templates(settings):
    for engine in settings.TEMPLATES:
        engine.setdefault("OPTIONS", {})["string_if_invalid"] = UndefinedVariable("%s")


@pytest.fixture(autouse=True)
def _unordered_querysets_in_random_order(monkeypatch):
    """A queryset without an explicit order comes back shuffled: tests must not depend on
    row order the database happens to give."""
    original = QuerySet._fetch_all

    def fetch_all(self):
        was_cached = self._result_cache is not None
        original(self)
        if not was_cached and not self.ordered and isinstance(self._result_cache, list):
            random.shuffle(self._result_cache)

    monkeypatch.setattr(QuerySet, "_fetch_all", fetch_all)


@pytest.fixture
def structure(db):
    return factories.StructureFactory()


@pytest.fixture
def principal_manager(structure):
    user = factories.UserFactory(email="gp@exemple.fr")
    factories.attach(user, structure)
    structure.refresh_from_db()
    return user


@pytest.fixture
def delegate(structure, principal_manager):
    user = factories.UserFactory(email="delegue@exemple.fr")
    factories.attach(user, structure)
    factories.grant(user, structure, "ORGANISATION", Level.MODIFICATION)
    return user


@pytest.fixture
def consultation_user(structure, principal_manager):
    user = factories.UserFactory(email="consultation@exemple.fr")
    factories.attach(user, structure)
    factories.grant(user, structure, "ORGANISATION", Level.CONSULTATION)
    factories.grant(user, structure, "FACTURE_EMISE", Level.CONSULTATION)
    return user


@pytest.fixture
def other_structure_user(db):
    other = factories.StructureFactory(company_name="Autre structure")
    user = factories.UserFactory(email="autre@exemple.fr")
    factories.attach(user, other)
    return user


@pytest.fixture
def staff_user(db):
    return factories.UserFactory(email="agent@exemple.fr", is_staff=True)


@pytest.fixture
def catalogue(transactional_db):
    """Transactional tests (browser, concurrency) empty every table between tests, the
    catalogue seeded by the data migration included: put it back."""
    from importlib import import_module

    from django.apps import apps

    from chorus.models import Application

    if not Application.objects.exists():
        import_module("chorus.migrations.0003_catalogue").seed_catalogue(apps, None)
        import_module("chorus.migrations.0005_application_urls").set_url_names(apps, None)
        import_module("chorus.migrations.0006_application_urls_users").set_url_names(apps, None)
        import_module("chorus.migrations.0007_application_urls_support").set_url_names(apps, None)
        import_module("users.migrations.0007_application_url_names").forwards(apps, None)


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    """Rate limits count in the cache: each test starts with none used."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()
