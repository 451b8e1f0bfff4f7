"""Rattacher un utilisateur proposes the structure's applications, consultation chosen by
default, and the profiles chosen are granted when the invitation is accepted: an invited
colleague does not find every application closed."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from approvals import services as approval_services
from chorus import catalogue
from chorus.models import Application, AuditEvent, Domain, Habilitation, Level, Profile
from structures.models import Structure
from tests import factories
from tests.approvals.helpers import pending_attachment
from users.models import Invitation, Membership
from users.services import invitations, members
from users.services.habilitations import offered_profiles

pytestmark = pytest.mark.django_db

ATTACH = "users:attach"
ANSWER = "users:invitation_answer"
# The applications opened by their own profile, for a company and for a public body.
# Catalogue order: the Facturation domain comes before Organisation.
COMPANY_APPLICATIONS = [
    "FACTURE_EMISE",
    "FACTURES_TRAVAUX",
    "MEMOIRE_FRAIS_JUSTICE",
    "REMBOURSEMENT_TAXES",
    "ORGANISATION",
]
PUBLIC_APPLICATIONS = ["FACTURES_TRAVAUX", "FACTURE_RECUE", "ENGAGEMENT", "ORGANISATION"]


def field(code):
    return f"profil_{code}"


def attach_page(client, manager, structure):
    client.force_login(manager)
    return client.get(reverse(ATTACH), {"structure": structure.pk})


def defaults(form):
    """What the page submits when the manager changes no profile."""
    return {name: form.fields[name].initial for name in form.offered}


def attach(client, structure, email, profiles, level="structure", services_=()):
    return client.post(
        reverse(ATTACH),
        {
            "structure": structure.pk,
            "email": email,
            "level": level,
            "services": [service.pk for service in services_],
            **profiles,
        },
    )


def held(user, structure, service=None):
    return {
        (row.profile.application.code, row.profile.level)
        for row in Habilitation.objects.filter(
            user=user, structure=structure, service=service
        ).select_related("profile__application")
    }


def snapshot():
    return (
        set(Membership.objects.values_list("pk", "user_id", "structure_id", "service_id", "status")),
        set(Habilitation.objects.values_list("pk", "user_id", "structure_id", "service_id", "profile_id")),
        Invitation.objects.count(),
        AuditEvent.objects.count(),
    )


def accept(client, user, invitation):
    client.force_login(user)
    return client.post(reverse(ANSWER), {"invitation": invitation.pk, "decision": "accepter"})


# The form


def test_attach_form_offers_the_companys_applications_at_consultation_by_default(
    client, structure, principal_manager
):
    response = attach_page(client, principal_manager, structure)

    form = response.context["form"]
    assert list(form.offered) == [field(code) for code in COMPANY_APPLICATIONS]
    assert all(form.fields[name].initial == Level.CONSULTATION for name in form.offered)
    assert "Profils accordés à l’acceptation" in response.text
    assert "Facture reçue" not in response.text
    # Each application: Aucun, Consultation, Modification; consultation checked.
    checked = f'name="{field("FACTURE_EMISE")}" value="1"'
    assert checked in response.text
    assert response.text.count("checked") >= len(COMPANY_APPLICATIONS)
    for label in ("Aucun", "Consultation", "Modification"):
        assert label in response.text


def test_attach_form_offers_a_public_bodys_own_applications(client, principal_manager):
    public = factories.StructureFactory(public=True, with_principal_manager=principal_manager)

    form = attach_page(client, principal_manager, public).context["form"]

    assert list(form.offered) == [field(code) for code in PUBLIC_APPLICATIONS]


def test_attach_form_offers_no_profiles_before_a_structure_is_chosen(client, principal_manager):
    second = factories.StructureFactory(with_principal_manager=principal_manager)
    client.force_login(principal_manager)

    response = client.get(reverse(ATTACH))

    assert second.pk and response.context["form"] is None
    assert "Profils accordés à l’acceptation" not in response.text


# Granted on acceptance


def test_invited_colleague_accepting_with_the_defaults_finds_their_applications_open(
    client, structure, principal_manager, django_capture_on_commit_callbacks
):
    colleague = factories.UserFactory(email="collegue@exemple.fr")
    form = attach_page(client, principal_manager, structure).context["form"]
    with django_capture_on_commit_callbacks(execute=True):
        response = attach(client, structure, colleague.email, defaults(form))
    assert response.status_code == 302
    page = client.get(response.url)
    assert "Profils accordés à l’acceptation : Facture émise – consultation, Factures de travaux" in page.text
    assert not Habilitation.objects.filter(user=colleague).exists(), "nothing before they accept"
    sent = AuditEvent.objects.get(action="invitation_send")
    assert "Facture émise – consultation" in sent.changes["profiles"]

    # The invitation says what comes with it.
    client.force_login(colleague)
    card = client.get(reverse("home")).text
    assert "Profils accordés : Facture émise – consultation, Factures de travaux – consultation" in card

    records = AuditEvent.objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        response = accept(client, colleague, Invitation.objects.get())

    assert response.status_code == 302
    assert held(colleague, structure) == {(code, Level.CONSULTATION) for code in COMPANY_APPLICATIONS}
    assert set(Habilitation.objects.filter(user=colleague).values_list("granted_by", flat=True)) == {
        principal_manager.pk
    }
    # One record for the acceptance, the profiles in it.
    assert AuditEvent.objects.count() == records + 1
    accepted = AuditEvent.objects.get(action="invitation_accept")
    assert "Facture émise – consultation" in accepted.changes["added"]
    # Their home page: no application of theirs is closed for want of a profile.
    home = client.get(reverse("home"))
    assert "Vous n’avez pas de profil pour cette application" not in home.text
    request = home.wsgi_request
    opened = {entry.application.code for entry in catalogue.entries(request) if entry.available}
    assert {"GERER_STRUCTURE", "CONSULTER_UTILISATEURS", "FACTURE_EMISE"} <= opened


def test_chosen_levels_are_granted_modification_included_and_aucun_skipped(
    client, structure, delegate, django_capture_on_commit_callbacks
):
    colleague = factories.UserFactory()
    profiles = {
        field("ORGANISATION"): "",
        field("FACTURE_EMISE"): "2",
        field("FACTURES_TRAVAUX"): "1",
        field("MEMOIRE_FRAIS_JUSTICE"): "",
    }
    client.force_login(delegate)
    with django_capture_on_commit_callbacks(execute=True):
        attach(client, structure, colleague.email, profiles)

    accept(client, colleague, Invitation.objects.get())

    assert held(colleague, structure) == {
        ("FACTURE_EMISE", Level.MODIFICATION),
        ("FACTURES_TRAVAUX", Level.CONSULTATION),
    }


def test_all_aucun_grants_nothing_and_says_so(client, structure, principal_manager):
    colleague = factories.UserFactory()
    form = attach_page(client, principal_manager, structure).context["form"]

    response = attach(client, structure, colleague.email, dict.fromkeys(form.offered, ""))

    assert "Aucun profil n’est accordé" in client.get(response.url).text
    accept(client, colleague, Invitation.objects.get())
    assert Membership.objects.filter(user=colleague, structure=structure).exists()
    assert not Habilitation.objects.filter(user=colleague).exists()


def test_service_level_invitation_grants_the_profiles_on_each_service(client, structure, principal_manager):
    textile, compta = (
        factories.ServiceFactory(structure=structure),
        factories.ServiceFactory(structure=structure),
    )
    colleague = factories.UserFactory()
    client.force_login(principal_manager)
    attach(
        client,
        structure,
        colleague.email,
        {field("FACTURE_EMISE"): "1"},
        level="service",
        services_=[textile, compta],
    )

    accept(client, colleague, Invitation.objects.get())

    assert held(colleague, structure) == set()
    assert held(colleague, structure, textile) == {("FACTURE_EMISE", Level.CONSULTATION)}
    assert held(colleague, structure, compta) == {("FACTURE_EMISE", Level.CONSULTATION)}


def test_a_new_account_gets_the_profiles_when_it_is_activated(
    client, structure, principal_manager, mailoutbox, django_capture_on_commit_callbacks
):
    client.force_login(principal_manager)
    attach(client, structure, "nouveau@exemple.fr", {field("FACTURE_EMISE"): "1", field("ORGANISATION"): "1"})
    user = factories.UserFactory(email="nouveau@exemple.fr")

    invitations.invitations_accept(user=user)

    assert held(user, structure) == {
        ("FACTURE_EMISE", Level.CONSULTATION),
        ("ORGANISATION", Level.CONSULTATION),
    }
    accepted = AuditEvent.objects.get(action="invitation_accept")
    assert accepted.changes["added"] == ["Facture émise – consultation", "Organisation – consultation"]


def test_profiles_already_held_are_not_granted_twice(structure, principal_manager):
    user = factories.UserFactory()
    textile = factories.ServiceFactory(structure=structure)
    factories.attach(user, structure, service=textile)
    factories.grant(user, structure, "FACTURE_EMISE", service=textile)
    profile = Profile.objects.get(application__code="FACTURE_EMISE", level=Level.CONSULTATION)
    invitations.invitation_send(
        actor=principal_manager,
        email=user.email,
        structures=[structure],
        profiles=[profile],
        signup_url="",
        answer_url="",
    )

    invitations.invitation_accept(invitation_id=Invitation.objects.get().pk, user=user)

    assert held(user, structure) == {("FACTURE_EMISE", Level.CONSULTATION)}
    assert Habilitation.objects.filter(user=user).count() == 2


def test_the_first_member_becomes_principal_manager_without_an_organisation_profile(db):
    structure = factories.StructureFactory()
    profiles = Profile.objects.filter(
        application__code__in=["ORGANISATION", "FACTURE_EMISE"], level=Level.CONSULTATION
    )
    invitation = Invitation.objects.create(email="premier@exemple.fr", structure=structure)
    invitation.profiles.set(profiles)
    # An invitation a delegate made before the manager left: still someone who may grant.
    structure_b = factories.StructureFactory(with_principal_manager=True)
    invitation.invited_by = structure_b.principal_manager
    invitation.save()
    user = factories.UserFactory(email="premier@exemple.fr")

    invitations.invitations_accept(user=user)

    structure.refresh_from_db()
    assert structure.principal_manager == user
    assert held(user, structure) == set(), "the inviter may not grant on this structure"
    assert AuditEvent.objects.get(action="invitation_accept").changes["profiles_not_granted"]


def test_an_inviter_who_lost_the_right_grants_nothing(client, structure, principal_manager, delegate):
    colleague = factories.UserFactory()
    client.force_login(delegate)
    attach(client, structure, colleague.email, {field("FACTURE_EMISE"): "2"})
    Habilitation.objects.filter(user=delegate).delete()  # no longer a delegated administrator

    accept(client, colleague, Invitation.objects.get())

    assert Membership.objects.filter(user=colleague, structure=structure).exists()
    assert held(colleague, structure) == set()
    accepted = AuditEvent.objects.get(action="invitation_accept")
    assert accepted.changes["profiles_not_granted"] == ["Facture émise – modification"]


# Refused


@pytest.mark.parametrize(
    ("posted", "error"),
    [
        (
            {field("FACTURE_RECUE"): "1"},
            "L’application « Facture reçue » n’est pas proposée pour cette structure.",
        ),
        ({field("ENGAGEMENT"): "2"}, "L’application « Engagement » n’est pas proposée pour cette structure."),
        ({field("GERER_STRUCTURE"): "1"}, "L’application « Gérer une structure » n’est pas proposée"),
        ({field("INCONNUE"): "1"}, "Une des applications choisies n’existe pas."),
        (
            {field("FACTURE_EMISE"): "3"},
            "Choisissez Aucun, Consultation ou Modification pour « Facture émise ».",
        ),
        ({field("FACTURE_EMISE"): "consultation"}, "Choisissez Aucun, Consultation ou Modification"),
    ],
)
def test_forged_profiles_are_refused_with_a_french_error_and_nothing_changes(
    client, structure, principal_manager, posted, error
):
    colleague = factories.UserFactory()
    client.force_login(principal_manager)
    before = snapshot()

    response = attach(client, structure, colleague.email, {field("ORGANISATION"): "1", **posted})

    assert response.status_code == 200
    assert error in response.text
    assert snapshot() == before


def test_the_service_refuses_a_profile_not_offered_to_the_structure(structure, principal_manager):
    reception = Profile.objects.get(application__code="FACTURE_RECUE", level=Level.CONSULTATION)
    before = snapshot()

    with pytest.raises(members.MembershipError) as refused:
        invitations.invitation_send(
            actor=principal_manager,
            email="x@exemple.fr",
            structures=[structure],
            profiles=[reception],
            signup_url="",
            answer_url="",
        )

    assert "n’est pas proposé pour la structure" in refused.value.message
    assert snapshot() == before


def test_the_service_refuses_profiles_from_someone_who_may_not_grant_them(structure, consultation_user):
    profile = Profile.objects.get(application__code="FACTURE_EMISE", level=Level.CONSULTATION)

    with pytest.raises(members.MembershipError) as refused:
        invitations.invitation_send(
            actor=consultation_user,
            email="x@exemple.fr",
            structures=[structure],
            profiles=[profile],
            signup_url="",
            answer_url="",
        )

    assert "Vous ne pouvez pas accorder de profils" in refused.value.message
    assert not Invitation.objects.exists()


def test_other_structures_manager_cannot_attach_with_profiles(client, structure, other_structure_user):
    client.force_login(other_structure_user)
    before = snapshot()

    response = attach(client, structure, "intrus@exemple.fr", {field("ORGANISATION"): "2"})

    assert "Choisissez une structure parmi les vôtres." in response.text
    assert snapshot() == before


def test_the_audience_of_a_structure_decides_the_offer(db):
    person = factories.StructureFactory(identifier_type=Structure.IdentifierType.PARTICULIER)
    association = factories.StructureFactory(legal_category="9220")

    assert [a.code for a, _levels in offered_profiles(person)] == [
        "FACTURE_EMISE",
        "MEMOIRE_FRAIS_JUSTICE",
        "ORGANISATION",
    ]
    assert [a.code for a, _levels in offered_profiles(association)] == [
        "FACTURE_EMISE",
        "MEMOIRE_FRAIS_JUSTICE",
        "ORGANISATION",
    ]


# Cost


def _queries(client, structure):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse(ATTACH), {"structure": structure.pk})
    assert response.status_code == 200
    return len(queries)


def test_the_attach_page_costs_the_same_queries_with_many_applications(client, structure, principal_manager):
    client.force_login(principal_manager)
    _queries(client, structure)  # warm caches (sessions, content types)
    few = _queries(client, structure)
    domain = Domain.objects.get(code="facturation")
    for number in range(30):
        application = Application.objects.create(
            code=f"OUTIL_{number}", name=f"Outil {number}", domain=domain
        )
        Profile.objects.bulk_create(
            [
                Profile(application=application, level=level)
                for level in (Level.CONSULTATION, Level.MODIFICATION)
            ]
        )

    response = client.get(reverse(ATTACH), {"structure": structure.pk})
    assert "Outil 29" in response.text
    assert _queries(client, structure) == few


# Approving a request to be attached: the approver chooses the profiles the same way


def _pending_request(structure, services_=()):
    return pending_attachment(structure, services_=services_)


def test_approval_page_offers_the_profiles_at_consultation_by_default(client, structure, principal_manager):
    approval = _pending_request(structure)
    client.force_login(principal_manager)

    page = client.get(reverse("approvals:detail", args=[approval.pk]))

    form = page.context["profiles_form"]
    assert list(form.offered) == [field(code) for code in COMPANY_APPLICATIONS]
    assert all(form.fields[name].initial == Level.CONSULTATION for name in form.offered)
    assert "Profils accordés à l’approbation" in page.text
    assert 'form="approbation"' in page.text


def test_approving_with_the_defaults_grants_the_profiles_in_the_approvals_one_record(
    client, structure, delegate
):
    textile = factories.ServiceFactory(structure=structure)
    approval = _pending_request(structure, services_=[textile])
    client.force_login(delegate)
    form = client.get(reverse("approvals:detail", args=[approval.pk])).context["profiles_form"]
    records = AuditEvent.objects.count()

    response = client.post(reverse("approvals:approve", args=[approval.pk]), defaults(form))

    assert response.status_code == 302
    requester = approval.requester
    assert held(requester, structure, textile) == {
        (code, Level.CONSULTATION) for code in COMPANY_APPLICATIONS
    }
    assert AuditEvent.objects.count() == records + 1
    record = AuditEvent.objects.get(action="approval_approve")
    assert "Facture émise – consultation" in record.changes["applied"]["added"]


def test_approving_without_profile_fields_attaches_only(client, structure, principal_manager):
    approval = _pending_request(structure)
    client.force_login(principal_manager)

    client.post(reverse("approvals:approve", args=[approval.pk]))

    assert Membership.objects.get(user=approval.requester).status == Membership.Status.VALIDEE
    assert not Habilitation.objects.filter(user=approval.requester).exists()


@pytest.mark.parametrize(
    ("posted", "error"),
    [
        (
            {field("FACTURE_RECUE"): "1"},
            "L’application « Facture reçue » n’est pas proposée pour cette structure.",
        ),
        (
            {field("FACTURE_EMISE"): "9"},
            "Choisissez Aucun, Consultation ou Modification pour « Facture émise ».",
        ),
    ],
)
def test_approval_with_forged_profiles_is_refused_and_changes_nothing(
    client, structure, principal_manager, posted, error
):
    approval = _pending_request(structure)
    client.force_login(principal_manager)
    before = snapshot()

    response = client.post(reverse("approvals:approve", args=[approval.pk]), posted)

    assert response.status_code == 200
    assert error in response.text
    assert snapshot() == before
    approval.refresh_from_db()
    assert approval.is_pending


def test_a_profile_request_has_no_profile_choice_on_approval(client, structure, principal_manager):
    member = factories.UserFactory()
    factories.attach(member, structure)
    profile = Profile.objects.get(application__code="FACTURE_EMISE", level=Level.CONSULTATION)
    approval = approval_services.request_profiles(requester=member, structure=structure, add=[profile])
    client.force_login(principal_manager)

    page = client.get(reverse("approvals:detail", args=[approval.pk]))

    assert page.context["profiles_form"] is None
    assert "Profils accordés à l’approbation" not in page.text
