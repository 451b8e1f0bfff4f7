"""Exactly one principal manager for every active structure, held by the database: a
structure nobody is attached to waits in "activation en cours" until its first user
takes the role, and no code path, form or raw update can leave an active structure
without one."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse

from chorus.models import AuditEvent
from structures.models import Structure
from structures.services.manage import StructureStateError, structure_activate, structure_deactivate
from tests import factories
from tests.sirene.standin import running_standin
from users.services.members import membership_attach

S = Structure.Status


def test_database_refuses_an_active_structure_without_principal_manager(db):
    with pytest.raises(IntegrityError), transaction.atomic():
        Structure.objects.create(
            identifier="12345678900011", company_name="Sans gestionnaire", status=S.ACTIVE
        )


def test_database_refuses_removing_the_principal_manager_of_an_active_structure(structure, principal_manager):
    with pytest.raises(IntegrityError), transaction.atomic():
        Structure.objects.filter(pk=structure.pk).update(principal_manager=None)
    structure.refresh_from_db()
    assert structure.principal_manager == principal_manager


@pytest.mark.parametrize("status", [S.INACTIVE, S.EN_COURS_ACTIVATION])
def test_a_structure_that_is_not_active_may_have_no_principal_manager(db, status):
    structure = factories.StructureFactory(status=status)
    assert structure.principal_manager is None


def test_model_validation_names_the_rule(db):
    structure = factories.StructureFactory.build(status=S.ACTIVE)
    with pytest.raises(ValidationError, match="Une structure active a toujours un gestionnaire principal"):
        structure.validate_constraints()


def test_first_attachment_to_a_waiting_structure_makes_the_manager_and_activates_it(db):
    structure = factories.StructureFactory()
    assert structure.status == S.EN_COURS_ACTIVATION and structure.awaits_principal_manager
    user = factories.UserFactory()

    membership_attach(user=user, structure=structure)

    structure.refresh_from_db()
    assert structure.status == S.ACTIVE
    assert structure.principal_manager == user
    event = AuditEvent.objects.get(action="membership_attach")
    assert event.changes["principal_manager"] == {"before": None, "after": user.email}
    assert event.changes["status"] == {"before": S.EN_COURS_ACTIVATION, "after": S.ACTIVE}


def test_first_attachment_to_an_inactive_structure_does_not_reactivate_it(db):
    structure = factories.StructureFactory(status=S.INACTIVE)
    user = factories.UserFactory()
    membership_attach(user=user, structure=structure)
    structure.refresh_from_db()
    assert structure.status == S.INACTIVE
    assert structure.principal_manager == user


def test_activating_a_structure_nobody_is_attached_to_is_refused_with_the_reason(db):
    structure = factories.StructureFactory()
    with pytest.raises(StructureStateError, match="elle deviendra active au premier rattachement"):
        structure_activate(structure=structure, actor=None)
    structure.refresh_from_db()
    assert structure.status == S.EN_COURS_ACTIVATION


def test_deactivated_structure_keeps_its_manager_and_can_be_reactivated(
    settings, structure, principal_manager
):
    # Activating asks INSEE: the structure takes a SIRET the stand-in knows as open.
    Structure.objects.filter(pk=structure.pk).update(identifier="81234567600017")
    structure.refresh_from_db()
    structure_deactivate(structure=structure, actor=principal_manager)
    with running_standin(settings):
        structure_activate(structure=structure, actor=principal_manager)
    structure.refresh_from_db()
    assert structure.is_active and structure.principal_manager == principal_manager


def test_newcomer_finds_a_waiting_structure_and_becomes_its_manager(client, db):
    structure = factories.StructureFactory()
    requester = factories.UserFactory(email="premier@exemple.fr")
    client.force_login(requester)
    response = client.post(
        reverse("approvals:request_attachment"),
        {"identifiant": structure.identifier, "structure": structure.pk},
        follow=True,
    )
    assert response.status_code == 200
    structure.refresh_from_db()
    assert structure.is_active and structure.principal_manager == requester


def test_admin_cannot_activate_a_structure_without_principal_manager(client, db):
    operator = factories.UserFactory(email="exploitation@exemple.fr", is_staff=True, is_superuser=True)
    structure = factories.StructureFactory()
    client.force_login(operator)
    url = reverse("admin:structures_structure_change", args=[structure.pk])
    page = client.get(url)
    data = {
        name: value
        for name, value in _form_values(page).items()
        if name not in ("principal_manager", "status", "origin")
    }
    response = client.post(url, {**data, "status": S.ACTIVE, "principal_manager": ""})
    assert response.status_code == 200
    assert "Une structure active a toujours un gestionnaire principal" in response.content.decode()
    structure.refresh_from_db()
    assert structure.status == S.EN_COURS_ACTIVATION


def _form_values(response):
    form = response.context["adminform"].form
    values = {}
    for name in form.fields:
        value = form[name].value()
        if value is None or value is False:
            continue
        values[name] = "on" if value is True else value
    formsets = [inline.formset for inline in response.context["inline_admin_formsets"]]
    for formset in formsets:
        management = formset.management_form
        for name in management.fields:
            values[management.add_prefix(name)] = management[name].value()
    return values
