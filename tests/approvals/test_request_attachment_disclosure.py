"""Demander un rattachement shows a structure's service codes only to someone who typed
its identifier in full: a partial identifier, a name or a LIKE pattern lists nothing."""

import pytest
from django.urls import reverse

from tests import factories
from tests.approvals.helpers import newcomer

REQUEST = reverse("approvals:request_attachment")


@pytest.fixture
def bakery(db):
    structure = factories.StructureFactory(company_name="Boulangerie Martin")
    factories.attach(factories.UserFactory(email="gp.boulangerie@exemple.fr"), structure)
    factories.ServiceFactory(structure=structure, code="FOURNIL_NORD", name="Fournil nord")
    structure.refresh_from_db()
    return structure


def _partial_searches(identifier):
    return [
        identifier[:9],  # the SIREN
        identifier[:-1],  # one digit short
        identifier[1:],
        identifier[:-1] + "_",  # one-character wildcard of LIKE
        identifier[:9] + "%",  # any-length wildcard of LIKE
        "%",
        "Boulangerie",
        "boulangerie martin",
        "fournil",  # a service's name (what is typed is shown back in the field)
    ]


def test_a_partial_search_reveals_no_service_code(client, bakery):
    client.force_login(newcomer())
    for typed in _partial_searches(bakery.identifier):
        page = client.get(REQUEST, {"identifiant": typed}).content.decode()
        assert "FOURNIL_NORD" not in page, typed
        assert "Fournil nord" not in page, typed
        assert "Boulangerie Martin" not in page, typed


def test_a_partial_identifier_posted_with_the_structure_id_reveals_no_service_code(client, bakery):
    client.force_login(newcomer())
    service = bakery.services.get()
    for typed in _partial_searches(bakery.identifier):
        response = client.post(
            REQUEST, {"identifiant": typed, "structure": bakery.pk, "services": [service.pk]}
        )
        page = response.content.decode()
        assert response.status_code == 200, typed
        assert "FOURNIL_NORD" not in page, typed
        assert "Fournil nord" not in page, typed
    assert not bakery.memberships.exclude(user=bakery.principal_manager).exists()


def test_the_exact_identifier_shows_the_service_codes(client, bakery):
    client.force_login(newcomer())
    page = client.get(REQUEST, {"identifiant": bakery.identifier.lower()}).content.decode()
    assert "Fournil nord (FOURNIL_NORD)" in page
