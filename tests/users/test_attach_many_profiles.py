"""Rattacher à plusieurs structures and deciding several attachment requests at once
give profiles like their one-structure forms: consultation of the applications each
structure offers, so that a new member does not find every application closed."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from approvals import services as approval_services
from approvals.models import ApprovalRequest
from chorus.models import AuditEvent, Habilitation, Level, Profile
from tests import factories
from tests.approvals.helpers import newcomer, pending_attachment
from tests.users.test_attach_profiles import (
    COMPANY_APPLICATIONS,
    PUBLIC_APPLICATIONS,
    accept,
    defaults,
    field,
    held,
    snapshot,
)
from users.models import Invitation, Membership
from users.services import invitations as invitation_services
from users.services import members

pytestmark = pytest.mark.django_db

ATTACH_MANY = "users:attach_many"
INBOX = "approvals:inbox"
# Catalogue order of the applications offered to a company or to a public body.
UNION = [
    "FACTURE_EMISE",
    "FACTURES_TRAVAUX",
    "FACTURE_RECUE",
    "MEMOIRE_FRAIS_JUSTICE",
    "REMBOURSEMENT_TAXES",
    "ENGAGEMENT",
    "ORGANISATION",
]
EACH_ITS_OWN = "Chaque structure ne reçoit que les applications qui lui sont proposées."
BULK_NOTICE = (
    "Les demandes de rattachement approuvées ensemble reçoivent les profils en consultation proposés à "
    "leur structure ; pour choisir, ouvrez la demande."
)


@pytest.fixture
def public(principal_manager):
    return factories.StructureFactory(public=True, with_principal_manager=principal_manager)


def attach_many_page(client, manager):
    client.force_login(manager)
    return client.get(reverse(ATTACH_MANY))


def attach_many(client, structures, email, profiles):
    return client.post(
        reverse(ATTACH_MANY), {"email": email, "structures": [s.pk for s in structures], **profiles}
    )


def consultation_of(codes):
    return {(code, Level.CONSULTATION) for code in codes}


# Rattacher à plusieurs structures


def test_the_page_offers_the_applications_of_all_the_structures_at_consultation(
    client, structure, public, principal_manager
):
    response = attach_many_page(client, principal_manager)

    form = response.context["form"]
    assert sorted(form.offered) == sorted(field(code) for code in UNION)
    assert all(form.fields[name].initial == Level.CONSULTATION for name in form.offered)
    assert "Profils accordés à l’acceptation" in response.text
    assert EACH_ITS_OWN in response.text
    # The page's script reads each structure's public and each application's.
    assert 'data-public="entite-publique"' in response.text
    assert 'data-publics="entite-publique"' in response.text


def test_invited_to_two_structures_with_the_defaults_each_receives_its_own_applications(
    client, structure, public, principal_manager, django_capture_on_commit_callbacks
):
    colleague = factories.UserFactory(email="collegue@exemple.fr")
    form = attach_many_page(client, principal_manager).context["form"]

    with django_capture_on_commit_callbacks(execute=True):
        response = attach_many(client, [structure, public], colleague.email, defaults(form))

    assert response.status_code == 302
    page = client.get(response.url)
    assert "Profils accordés à l’acceptation" in page.text
    assert f"{public.display_name} : Factures de travaux – consultation, Facture reçue" in page.text
    invitations = {invitation.structure_id: invitation for invitation in Invitation.objects.all()}
    company_profiles = {p.application.code for p in invitations[structure.pk].profiles.all()}
    public_profiles = {p.application.code for p in invitations[public.pk].profiles.all()}
    assert company_profiles == set(COMPANY_APPLICATIONS)
    assert public_profiles == set(PUBLIC_APPLICATIONS)
    # One record per invitation, each with its own profiles.
    events = AuditEvent.objects.filter(action="invitation_send")
    sent = {event.object_id: event.changes["profiles"] for event in events}
    assert "Facture reçue – consultation" in sent[str(invitations[public.pk].pk)]
    assert "Facture reçue – consultation" not in sent[str(invitations[structure.pk].pk)]

    for invitation in invitations.values():
        accept(client, colleague, invitation)

    assert held(colleague, structure) == consultation_of(COMPANY_APPLICATIONS)
    assert held(colleague, public) == consultation_of(PUBLIC_APPLICATIONS)


def test_applications_of_structures_not_ticked_are_not_granted_nor_refused(
    client, structure, public, principal_manager
):
    form = attach_many_page(client, principal_manager).context["form"]

    # Without the page's script, the public body's applications are sent too.
    response = attach_many(client, [structure], "nouveau@exemple.fr", defaults(form))

    assert response.status_code == 302
    granted = {p.application.code for p in Invitation.objects.get().profiles.all()}
    assert granted == set(COMPANY_APPLICATIONS)


def test_chosen_levels_apply_to_every_structure_that_offers_the_application(
    client, structure, public, principal_manager
):
    client.force_login(principal_manager)
    chosen = {field("FACTURES_TRAVAUX"): "2", field("ORGANISATION"): "", field("FACTURE_RECUE"): "1"}

    attach_many(client, [structure, public], "nouveau@exemple.fr", chosen)

    invitations = {invitation.structure_id: invitation for invitation in Invitation.objects.all()}
    assert {(p.application.code, p.level) for p in invitations[structure.pk].profiles.all()} == {
        ("FACTURES_TRAVAUX", Level.MODIFICATION)
    }
    assert {(p.application.code, p.level) for p in invitations[public.pk].profiles.all()} == {
        ("FACTURES_TRAVAUX", Level.MODIFICATION),
        ("FACTURE_RECUE", Level.CONSULTATION),
    }


def test_all_aucun_grants_nothing_and_says_so(client, structure, public, principal_manager):
    client.force_login(principal_manager)

    response = attach_many(client, [structure, public], "nouveau@exemple.fr", {})

    assert response.status_code == 302
    assert "Aucun profil n’est accordé" in client.get(response.url).text
    assert not any(invitation.profiles.exists() for invitation in Invitation.objects.all())


@pytest.mark.parametrize(
    ("posted", "error"),
    [
        (
            {field("FACTURE_RECUE"): "1"},
            "L’application « Facture reçue » n’est proposée à aucune de vos structures.",
        ),
        ({field("GERER_STRUCTURE"): "1"}, "L’application « Gérer une structure » n’est proposée à aucune"),
        ({field("INCONNUE"): "1"}, "Une des applications choisies n’existe pas."),
        (
            {field("FACTURE_EMISE"): "3"},
            "Choisissez Aucun, Consultation ou Modification pour « Facture émise ».",
        ),
    ],
)
def test_forged_profiles_are_refused_with_a_french_error_and_nothing_changes(
    client, structure, principal_manager, posted, error
):
    second = factories.StructureFactory(with_principal_manager=principal_manager)
    client.force_login(principal_manager)
    before = snapshot()

    response = attach_many(client, [structure, second], "nouveau@exemple.fr", posted)

    assert response.status_code == 200
    assert error in response.text
    assert snapshot() == before


def test_the_service_refuses_a_profile_a_structure_does_not_offer(structure, public, principal_manager):
    reception = Profile.objects.get(application__code="FACTURE_RECUE", level=Level.CONSULTATION)
    before = snapshot()

    with pytest.raises(members.MembershipError) as refused:
        invitation_services.invitation_send(
            actor=principal_manager,
            email="x@exemple.fr",
            structures=[structure, public],
            profiles_by_structure={structure.pk: [reception], public.pk: [reception]},
            signup_url="",
            answer_url="",
        )

    assert "n’est pas proposé pour la structure" in refused.value.message
    assert snapshot() == before


def test_another_structures_manager_cannot_attach_to_ours(client, structure, other_structure_user):
    client.force_login(other_structure_user)
    before = snapshot()

    response = attach_many(client, [structure], "intrus@exemple.fr", {field("ORGANISATION"): "2"})

    assert response.status_code == 200
    assert "La structure choisie ne fait pas partie de vos structures." in response.text
    assert snapshot() == before


def test_consultation_user_still_cannot_attach(client, structure, consultation_user):
    client.force_login(consultation_user)
    before = snapshot()

    response = attach_many(client, [structure], "x@exemple.fr", {field("FACTURE_EMISE"): "1"})

    assert response.status_code == 403
    assert snapshot() == before


# Deciding several attachment requests at once


def decide(client, approvals, decision="approuver", reason=""):
    return client.post(
        reverse(INBOX), {"requests": [a.pk for a in approvals], "decision": decision, "reason": reason}
    )


def test_the_inbox_says_what_approving_together_grants(client, structure, principal_manager):
    pending_attachment(structure)
    client.force_login(principal_manager)

    assert BULK_NOTICE in client.get(reverse(INBOX)).text


def test_approving_together_grants_each_structure_its_consultation_profiles(
    client, structure, public, principal_manager
):
    textile = factories.ServiceFactory(structure=structure)
    first = pending_attachment(structure, services_=[textile])
    second = pending_attachment(public, requester=newcomer("autre@exemple.fr"))
    client.force_login(principal_manager)
    records = AuditEvent.objects.count()

    response = decide(client, [first, second])

    assert response.status_code == 302
    assert "2 demandes approuvées." in client.get(response.url).text
    assert held(first.requester, structure, textile) == consultation_of(COMPANY_APPLICATIONS)
    assert held(second.requester, public) == consultation_of(PUBLIC_APPLICATIONS)
    # Each decision is its own record, the profiles in it.
    assert AuditEvent.objects.count() == records + 2
    for event in AuditEvent.objects.filter(action="approval_approve"):
        assert "Organisation – consultation" in event.changes["applied"]["added"]


def test_refusing_together_grants_nothing(client, structure, principal_manager):
    approval = pending_attachment(structure)
    client.force_login(principal_manager)

    decide(client, [approval], decision="refuser", reason="Inconnu de nos services.")

    assert not Habilitation.objects.filter(user=approval.requester).exists()
    assert Membership.objects.get(user=approval.requester).status == Membership.Status.REFUSEE


def test_a_profile_request_approved_together_receives_only_what_it_asked(
    client, structure, principal_manager
):
    member = factories.UserFactory()
    factories.attach(member, structure)
    profile = Profile.objects.get(application__code="FACTURE_EMISE", level=Level.MODIFICATION)
    approval = approval_services.request_profiles(requester=member, structure=structure, add=[profile])
    client.force_login(principal_manager)

    decide(client, [approval])

    assert held(member, structure) == {("FACTURE_EMISE", Level.MODIFICATION)}


def test_another_structures_request_in_the_batch_is_refused_and_nothing_changes(
    client, structure, principal_manager, other_structure_user
):
    ours = pending_attachment(structure)
    theirs = pending_attachment(other_structure_user.memberships.first().structure, newcomer("x@exemple.fr"))
    client.force_login(principal_manager)
    before = snapshot()

    response = decide(client, [ours, theirs])

    assert response.status_code == 200
    assert "Une des demandes sélectionnées est introuvable." in response.text
    assert snapshot() == before
    assert ApprovalRequest.objects.filter(status=ApprovalRequest.Status.EN_ATTENTE).count() == 2


def _page_queries(client):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse(ATTACH_MANY))
    assert response.status_code == 200
    return len(queries)


def test_the_page_costs_the_same_queries_with_many_structures(client, structure, public, principal_manager):
    client.force_login(principal_manager)
    _page_queries(client)  # warm caches (sessions, content types)
    few = _page_queries(client)
    for number in range(10):
        factories.StructureFactory(public=number % 2 == 0, with_principal_manager=principal_manager)

    assert _page_queries(client) == few
