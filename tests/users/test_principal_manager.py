"""Invariants first-attached-becomes-principal-manager and one-principal-manager
(docs/architecture.md): the first user attached becomes the principal manager, and a
structure never has two, even when two first attachments race."""

import threading

import pytest
from django.db import connection, connections

from chorus.models import AuditEvent
from tests import factories
from users.models import Membership
from users.services.members import membership_attach


def test_first_user_attached_becomes_principal_manager(structure):
    first, second = factories.UserFactory(), factories.UserFactory()
    membership_attach(user=first, structure=structure)
    membership_attach(user=second, structure=structure)
    structure.refresh_from_db()
    assert structure.principal_manager == first
    assert AuditEvent.objects.filter(action="membership_attach").count() == 2


def test_attaching_to_a_service_of_another_structure_is_refused(structure):
    with pytest.raises(ValueError):
        membership_attach(
            user=factories.UserFactory(), structure=structure, service=factories.ServiceFactory()
        )
    assert not Membership.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_first_attachments_make_one_principal_manager(catalogue):
    if connection.vendor != "postgresql":
        pytest.skip("Needs the PostgreSQL server (DATABASE_URL=postgres://…): SQLite serialises writers.")
    structure = factories.StructureFactory()
    users = [factories.UserFactory(), factories.UserFactory()]
    barrier = threading.Barrier(len(users))
    errors = []

    def attach(user):
        try:
            barrier.wait(timeout=10)
            membership_attach(user=user, structure=structure)
        except Exception as exc:  # reported below, a thread cannot fail the test itself
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=attach, args=(user,)) for user in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    structure.refresh_from_db()
    assert structure.principal_manager in users
    assert Membership.objects.filter(structure=structure, status="VALIDEE").count() == 2
    gp_changes = [
        event.changes
        for event in AuditEvent.objects.filter(action="membership_attach")
        if "principal_manager" in event.changes
    ]
    assert len(gp_changes) == 1, "only one attachment may take the role"
    assert gp_changes[0]["principal_manager"]["after"] == structure.principal_manager.email
