"""The one policy function, persona by persona."""

import pytest
from django.contrib.auth.models import AnonymousUser

from chorus import access
from chorus.models import Level
from tests import factories

M, C = Level.MODIFICATION, Level.CONSULTATION


def test_principal_manager_always_holds_organisation_modification(structure, principal_manager):
    assert access.can(principal_manager, "ORGANISATION", M, structure=structure)
    # Every Organisation tool is opened by that profile.
    assert access.can(principal_manager, "RATTACHER_UTILISATEUR", M, structure=structure)
    assert access.can(principal_manager, "GERER_STRUCTURE", C, structure=structure)


def test_principal_manager_has_no_invoicing_profile_unless_granted(structure, principal_manager):
    assert not access.can(principal_manager, "FACTURE_EMISE", C, structure=structure)
    factories.grant(principal_manager, structure, "FACTURE_EMISE", M)
    assert access.can(principal_manager, "FACTURE_EMISE", M, structure=structure)


def test_delegate_with_organisation_modification_administers_the_structure(structure, delegate):
    assert access.can(delegate, "DETACHER_UTILISATEUR", M, structure=structure)
    assert access.structure_ids_for(delegate, "ORGANISATION", M) == {structure.pk}


def test_consultation_user_may_read_but_not_modify(structure, consultation_user):
    assert access.can(consultation_user, "GERER_STRUCTURE", C, structure=structure)
    assert not access.can(consultation_user, "GERER_STRUCTURE", M, structure=structure)
    assert access.can(consultation_user, "FACTURE_EMISE", C, structure=structure)
    assert not access.can(consultation_user, "FACTURE_EMISE", M, structure=structure)
    assert access.structure_ids_for(consultation_user, "ORGANISATION", M) == set()


def test_user_of_another_structure_has_nothing_here(structure, principal_manager, other_structure_user):
    assert not access.can(other_structure_user, "GERER_STRUCTURE", C, structure=structure)
    # Principal manager of their own structure, but not of this one.
    assert access.structure_ids_for(other_structure_user, "ORGANISATION", M) != set()
    assert structure.pk not in access.structure_ids_for(other_structure_user, "ORGANISATION", C)


def test_anonymous_has_only_public_applications(structure):
    anonymous = AnonymousUser()
    assert not access.can(anonymous, "GERER_STRUCTURE", C, structure=structure)
    assert not access.can(anonymous, "GERER_STRUCTURE", C)
    assert not access.can(anonymous, "NOUS_CONTACTER", C)
    assert access.structures_for(anonymous, "ORGANISATION").count() == 0


def test_staff_is_not_a_member_of_any_structure(structure, staff_user):
    """Operators and agents work from the admin and back-office: no implicit rights."""
    assert not access.can(staff_user, "GERER_STRUCTURE", C, structure=structure)
    assert not access.can(staff_user, "ORGANISATION", C)
    assert access.can(staff_user, "TICKETS_RECUS", C)


def test_support_desk_is_refused_to_portal_users(principal_manager):
    assert not access.can(principal_manager, "TICKETS_RECUS", C)
    assert access.can(principal_manager, "NOUS_CONTACTER", C)


def test_habilitation_stops_counting_when_the_user_is_detached(structure, consultation_user):
    consultation_user.memberships.update(status="DESACTIVEE")
    assert not access.can(consultation_user, "GERER_STRUCTURE", C, structure=structure)


def test_service_profile_covers_that_service_only(structure, principal_manager):
    textile = factories.ServiceFactory(structure=structure, code="TEXTILE")
    other = factories.ServiceFactory(structure=structure, code="CUIR")
    user = factories.UserFactory()
    factories.attach(user, structure, service=textile)
    factories.grant(user, structure, "FACTURE_EMISE", M, service=textile)
    assert access.can(user, "FACTURE_EMISE", M, service=textile)
    assert not access.can(user, "FACTURE_EMISE", C, service=other)
    # A service-level profile does not open structure-wide actions.
    assert not access.can(user, "FACTURE_EMISE", C, structure=structure)


def test_service_of_another_structure_is_refused(structure, principal_manager):
    elsewhere = factories.ServiceFactory()
    assert not access.can(principal_manager, "ORGANISATION", C, structure=structure, service=elsewhere)


def test_unknown_application_is_refused(principal_manager):
    assert not access.can(principal_manager, "N_EXISTE_PAS", C)


@pytest.mark.parametrize("level", [C, M])
def test_modification_implies_consultation(structure, delegate, level):
    assert access.can(delegate, "GERER_SERVICE", level, structure=structure)


def test_access_is_loaded_once_per_request(rf, structure, delegate, django_assert_num_queries):
    request = rf.get("/")
    request.user = delegate
    request.access = access.load_access(delegate)
    with django_assert_num_queries(0):
        for code in ("GERER_STRUCTURE", "RATTACHER_UTILISATEUR", "FACTURE_EMISE"):
            access.can(request, code, C, structure=structure)
        access.abilities(request)
