"""Every URL of the portal × every persona: the outcome declared next to the view
(chorus.access.EXPECTED and `@access.expect`) is the one the user gets, for GET and
for POST. A new view cannot escape: its pattern is enumerated from the URL resolver."""

import pytest
from django.conf import settings
from django.db import transaction
from django.test import Client
from django.urls import reverse

from chorus import access
from chorus.models import Application
from tests.security.world import OBJECT_KWARGS, QUERY, portal_patterns, url_kwargs, world_in_transaction

RAISE = False
PATTERNS = sorted((name, route, pattern) for name, route, pattern in portal_patterns())
# The Django admin, by its own rules: staff and superusers only.
ADMIN_EXPECTED = {
    **dict.fromkeys(access.PERSONAS, access.LOGIN),
    "agent": access.ALLOWED,
    "operator": access.ALLOWED,
}


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    yield from world_in_transaction(django_db_blocker)


def outcome_of(response) -> str | int:
    if response.status_code in (301, 302):
        location = response["Location"]
        login = reverse(settings.LOGIN_URL) if ":" in settings.LOGIN_URL else settings.LOGIN_URL
        if location.startswith(login) or location.startswith("/admin/login/"):
            return access.LOGIN
        return access.ALLOWED
    if response.status_code in (200, 400, 405):
        return access.ALLOWED
    return response.status_code


def expectations(name, pattern) -> dict:
    if name == "admin:index":
        return ADMIN_EXPECTED
    view = pattern.callback
    application_access = None
    if isinstance(view.access_rule, tuple):
        application_access = Application.objects.get(code=view.access_rule[0]).access
    has_object = bool(OBJECT_KWARGS & set(pattern.pattern.converters))
    return access.expected_outcomes(view, application_access, has_object)


def call(world, name, pattern, persona, method):
    user = world.users[persona]
    client = Client(raise_request_exception=RAISE)
    if name == "admin:index":
        url = reverse("admin:index")
    else:
        kwargs = url_kwargs(world, name, list(pattern.pattern.converters), persona)
        url = reverse(name, kwargs=kwargs) + QUERY.get(name, "")
    # Each call is undone, so that a POST that succeeds leaves the world as it was.
    with transaction.atomic():
        if user is not None:
            client.force_login(user)
        response = getattr(client, method)(url)
        transaction.set_rollback(True)
    return url, response


@pytest.mark.parametrize(("name", "route", "pattern"), PATTERNS, ids=[name for name, _, _ in PATTERNS])
def test_every_persona_gets_the_declared_outcome(world, db, name, route, pattern):
    expected = expectations(name, pattern)
    assert set(expected) == set(access.PERSONAS), name
    mismatches = []
    for persona in access.PERSONAS:
        for method in ("get", "post"):
            url, response = call(world, name, pattern, persona, method)
            got = outcome_of(response)
            if response.status_code == 405:
                # The method is refused before anything is looked up: nothing is told.
                continue
            if response.status_code >= 500 or got != expected[persona]:
                mismatches.append(
                    f"{method.upper()} {url} as {persona}: {response.status_code} ({got}), "
                    f"expected {expected[persona]}"
                )
    assert not mismatches, "\n".join(mismatches)


def test_the_matrix_covers_every_portal_url():
    """The count reported in SECURITY.md: URL patterns × personas × (GET, POST)."""
    assert len(PATTERNS) > 100


def test_a_declaration_names_known_personas_only():
    with pytest.raises(ValueError, match="Unknown personas"):
        access.expect(consultant=404)


def test_a_declaration_next_to_the_view_overrides_the_rule_default():
    @access.access_required("GERER_STRUCTURE")
    @access.expect(no_structure=404)
    def view(request):
        raise AssertionError("not called")

    outcomes = access.expected_outcomes(view, Application.Access.PROFILE, has_object=True)

    assert outcomes["no_structure"] == 404  # declared
    assert outcomes["other_structure"] == 404  # an object URL
    assert outcomes["consultation"] == access.ALLOWED
    assert outcomes["anonymous"] == access.LOGIN
    assert outcomes["operator"] == 403
