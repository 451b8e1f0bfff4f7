"""Activer une structure asks INSEE first, as Créer une structure does: a structure
whose establishment is closed at INSEE stays deactivated, with what to do instead;
when INSEE cannot answer, nothing is activated blindly. INSEE is the stand-in."""

import threading

import pytest
from django.db import connection, connections
from django.urls import reverse

from chorus.models import AuditEvent, Level
from structures.models import Structure
from structures.services.manage import StructureStateError, structure_activate, structure_deactivate
from tests import factories
from tests.sirene.standin import running_standin

pytestmark = pytest.mark.django_db

DEMO_CLOSED = "38512749300018"  # the demo's deactivated structure
COMPANY = "81234567600017"
CLOSED = "33917264500014"
UNKNOWN = "44211783400022"
DOWN = "50128476400021"
FORBIDDEN = "87654321600025"
HIDDEN = "87654321600017"

CLOSED_MESSAGE = "est fermé dans la base INSEE (Sirene) : la structure ne peut pas être réactivée."
DUPLICATE_ADVICE = "Dupliquer une structure"
DOWN_MESSAGE = "La base INSEE (Sirene) est indisponible pour le moment."


@pytest.fixture
def standin(settings):
    with running_standin(settings) as server:
        yield server


def _deactivated(structure, siret, *, identifier_type=Structure.IdentifierType.SIRET):
    Structure.objects.filter(pk=structure.pk).update(
        identifier=siret, identifier_type=identifier_type, status=Structure.Status.INACTIVE
    )
    structure.refresh_from_db()
    return structure


def _activate(client, user, structure):
    client.force_login(user)
    response = client.post(reverse("structures:activate", args=[structure.pk]), follow=True)
    return [str(message) for message in response.context["messages"]]


def _still_inactive(structure):
    structure.refresh_from_db()
    return (
        structure.status == Structure.Status.INACTIVE
        and not AuditEvent.objects.filter(action="structure_activate").exists()
    )


def test_demo_structure_closed_at_insee_is_not_reactivated(client, standin, structure, principal_manager):
    _deactivated(structure, DEMO_CLOSED)
    messages = _activate(client, principal_manager, structure)
    assert len(messages) == 1
    assert f"L’établissement de SIRET {DEMO_CLOSED} {CLOSED_MESSAGE}" in messages[0]
    assert DUPLICATE_ADVICE in messages[0]
    assert "nouveau SIRET" in messages[0]
    assert _still_inactive(structure)


def test_establishment_closed_since_deactivation_is_refused_by_the_service(
    standin, structure, principal_manager
):
    _deactivated(structure, COMPANY)
    standin.close(COMPANY, on="2026-01-31")
    with pytest.raises(StructureStateError) as refused:
        structure_activate(structure=structure, actor=principal_manager)
    assert CLOSED_MESSAGE in str(refused.value.message)
    assert _still_inactive(structure)


def test_closed_establishment_of_a_structure_waiting_for_activation_is_refused(
    client, standin, structure, principal_manager
):
    Structure.objects.filter(pk=structure.pk).update(
        identifier=CLOSED, status=Structure.Status.EN_COURS_ACTIVATION
    )
    messages = _activate(client, principal_manager, structure)
    assert CLOSED_MESSAGE in messages[0]
    structure.refresh_from_db()
    assert structure.status == Structure.Status.EN_COURS_ACTIVATION


def test_active_establishment_is_reactivated(client, standin, structure, principal_manager):
    _deactivated(structure, COMPANY)
    messages = _activate(client, principal_manager, structure)
    assert messages == [f"La structure {structure.display_name} est activée."]
    structure.refresh_from_db()
    assert structure.status == Structure.Status.ACTIVE
    assert AuditEvent.objects.filter(action="structure_activate", structure=structure).count() == 1
    assert standin.request_count == 1


def test_active_establishment_whose_data_insee_hides_is_reactivated(standin, structure, principal_manager):
    # Known open at INSEE: its name and address being hidden does not matter here.
    _deactivated(structure, HIDDEN)
    structure_activate(structure=structure, actor=principal_manager)
    structure.refresh_from_db()
    assert structure.status == Structure.Status.ACTIVE


def test_insee_unreachable_refuses_with_the_message_creation_gives(
    client, standin, structure, principal_manager
):
    _deactivated(structure, DOWN)
    messages = _activate(client, principal_manager, structure)
    assert len(messages) == 1 and DOWN_MESSAGE in messages[0]
    assert _still_inactive(structure)


def test_insee_server_not_running_refuses_too(client, settings, structure, principal_manager):
    with running_standin(settings):
        pass  # stopped: nothing listens there any more
    _deactivated(structure, COMPANY)
    messages = _activate(client, principal_manager, structure)
    assert len(messages) == 1 and DOWN_MESSAGE in messages[0]
    assert _still_inactive(structure)


@pytest.mark.parametrize(
    ("siret", "fragment"),
    [
        (UNKNOWN, "La base INSEE ne connaît pas (ou plus) le SIRET 44211783400022"),
        (FORBIDDEN, "ne communique pas l’état de l’établissement 87654321600025"),
    ],
)
def test_siret_insee_cannot_vouch_for_is_refused_with_the_reason(
    client, standin, structure, principal_manager, siret, fragment
):
    _deactivated(structure, siret)
    messages = _activate(client, principal_manager, structure)
    assert len(messages) == 1 and fragment in messages[0]
    assert _still_inactive(structure)


def test_structure_without_siret_is_reactivated_without_asking_insee(
    client, standin, structure, principal_manager
):
    _deactivated(structure, "FR-AUTRE-0001", identifier_type=Structure.IdentifierType.AUTRE)
    messages = _activate(client, principal_manager, structure)
    assert messages == [f"La structure {structure.display_name} est activée."]
    assert standin.request_count == 0


def test_state_refusals_come_before_insee_is_asked(client, standin, structure, principal_manager):
    Structure.objects.filter(pk=structure.pk).update(identifier=DEMO_CLOSED)
    messages = _activate(client, principal_manager, structure)
    assert messages == ["La structure est déjà active : rien n’a été modifié."]
    assert standin.request_count == 0


def test_deactivating_a_closed_establishment_needs_no_insee(structure, principal_manager):
    Structure.objects.filter(pk=structure.pk).update(identifier=DEMO_CLOSED)
    structure_deactivate(structure=structure, actor=principal_manager)
    structure.refresh_from_db()
    assert structure.status == Structure.Status.INACTIVE


def test_activation_page_says_insee_is_checked_first(client, structure, principal_manager):
    _deactivated(structure, DEMO_CLOSED)
    client.force_login(principal_manager)
    page = client.get(reverse("structures:activate", args=[structure.pk])).content.decode()
    assert "Le SIRET est d’abord vérifié dans la base INSEE (Sirene)" in page
    _deactivated(structure, "FR-AUTRE-0001", identifier_type=Structure.IdentifierType.AUTRE)
    page = client.get(reverse("structures:activate", args=[structure.pk])).content.decode()
    assert "vérifié dans la base INSEE" not in page


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_activations_past_insee_activate_once(catalogue, settings):
    if connection.vendor != "postgresql":
        pytest.skip("Needs the PostgreSQL server (DATABASE_URL=postgres://…): SQLite serialises writers.")
    structure = factories.StructureFactory(identifier=COMPANY)
    managers = [factories.UserFactory(), factories.UserFactory()]
    for manager in managers:
        factories.attach(manager, structure)
        factories.grant(manager, structure, "ORGANISATION", Level.MODIFICATION)
    Structure.objects.filter(pk=structure.pk).update(status=Structure.Status.INACTIVE)
    barrier = threading.Barrier(len(managers))
    outcomes = []

    def activate(manager):
        try:
            barrier.wait(timeout=10)
            # Both pass the state check and INSEE before either takes the lock.
            structure_activate(structure=Structure.objects.get(pk=structure.pk), actor=manager)
            outcomes.append("done")
        except StructureStateError:
            outcomes.append("refused")
        except Exception as exc:  # reported below, a thread cannot fail the test itself
            outcomes.append(exc)
        finally:
            connections.close_all()

    with running_standin(settings):
        threads = [threading.Thread(target=activate, args=(manager,)) for manager in managers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)

    assert sorted(outcomes, key=str) == ["done", "refused"]
    assert AuditEvent.objects.filter(action="structure_activate", structure=structure).count() == 1
