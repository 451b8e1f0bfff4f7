"""Raising requests and deciding them: what is applied, what is refused, exactly once."""

import threading

import pytest
from django.core import mail
from django.db import IntegrityError, connection, connections, transaction
from django.utils import timezone

from approvals import selectors, services
from approvals.models import ApprovalRequest
from chorus.access import load_access
from chorus.models import AuditEvent, Habilitation, Level, Profile
from structures.models import Structure
from tests import factories
from tests.approvals.helpers import newcomer, pending_attachment
from users.models import Membership

Status = ApprovalRequest.Status


def profile(code, level):
    return Profile.objects.get(application__code=code, level=level)


# Asking to be attached


def test_attachment_request_waits_and_shows_a_membership_being_validated(structure, principal_manager):
    requester = newcomer()
    approval = services.request_attachment(requester=requester, structure=structure, comment="Comptable")

    assert approval.status == Status.EN_ATTENTE
    assert approval.number == f"DEM-{approval.pk:06d}"
    membership = Membership.objects.get(user=requester)
    assert membership.status == Membership.Status.EN_COURS_DE_VALIDATION
    assert membership.structure == structure and membership.service is None
    assert AuditEvent.objects.filter(action="approval_request", object_id=str(approval.pk)).exists()


def test_service_level_request_creates_one_pending_membership_per_service(structure, principal_manager):
    first, second = (
        factories.ServiceFactory(structure=structure),
        factories.ServiceFactory(structure=structure),
    )
    requester = newcomer()
    approval = services.request_attachment(requester=requester, structure=structure, services=[first, second])

    assert set(approval.services.all()) == {first, second}
    assert set(Membership.objects.filter(user=requester).values_list("service", "status")) == {
        (first.pk, Membership.Status.EN_COURS_DE_VALIDATION),
        (second.pk, Membership.Status.EN_COURS_DE_VALIDATION),
    }


def test_structure_with_nobody_attached_is_granted_at_once_and_requester_becomes_principal_manager(db):
    structure = factories.StructureFactory()
    requester = newcomer()
    approval = services.request_attachment(requester=requester, structure=structure)

    assert approval.status == Status.APPROUVEE and approval.granted_at_once
    assert approval.decided_by == requester
    structure.refresh_from_db()
    assert structure.principal_manager == requester
    assert Membership.objects.get(user=requester).status == Membership.Status.VALIDEE


def test_second_identical_pending_request_is_refused(structure, principal_manager):
    requester = newcomer()
    first = services.request_attachment(requester=requester, structure=structure)

    with pytest.raises(services.RequestError) as error:
        services.request_attachment(requester=requester, structure=structure)

    assert "Une demande identique est déjà en attente de validation" in error.value.message
    assert first.number in error.value.message
    assert ApprovalRequest.objects.count() == 1
    assert Membership.objects.filter(user=requester).count() == 1


def test_request_of_an_attached_user_is_refused(structure, principal_manager, delegate):
    with pytest.raises(services.RequestError, match="déjà rattaché à toute cette structure"):
        services.request_attachment(requester=delegate, structure=structure)
    assert not ApprovalRequest.objects.exists()


def test_request_for_a_service_already_pending_is_refused(structure, principal_manager):
    service = factories.ServiceFactory(structure=structure, code="COMPTA", name="Comptabilité")
    other = factories.ServiceFactory(structure=structure)
    requester = newcomer()
    services.request_attachment(requester=requester, structure=structure, services=[service])

    with pytest.raises(services.RequestError, match="au service Comptabilité est déjà en attente"):
        services.request_attachment(requester=requester, structure=structure, services=[service, other])
    assert ApprovalRequest.objects.count() == 1


def test_request_for_a_service_of_another_structure_is_refused(structure, principal_manager):
    foreign = factories.ServiceFactory()
    with pytest.raises(services.RequestError, match="n’appartient pas à cette structure"):
        services.request_attachment(requester=newcomer(), structure=structure, services=[foreign])
    assert not ApprovalRequest.objects.exists()
    assert not Membership.objects.filter(status=Membership.Status.EN_COURS_DE_VALIDATION).exists()


def test_request_to_an_inactive_structure_is_refused(structure, principal_manager):
    Structure.objects.filter(pk=structure.pk).update(status=Structure.Status.INACTIVE)
    with pytest.raises(services.RequestError, match="Activer une structure"):
        services.request_attachment(requester=newcomer(), structure=structure)
    assert not ApprovalRequest.objects.exists()


# Asking for profiles


def test_profile_request_of_an_attached_user_waits(structure, consultation_user):
    approval = services.request_profiles(
        requester=consultation_user,
        structure=structure,
        add=[profile("ORGANISATION", Level.MODIFICATION)],
        comment="Congés du gestionnaire",
    )
    assert approval.kind == ApprovalRequest.Kind.HABILITATIONS
    assert list(approval.profiles_to_add.all()) == [profile("ORGANISATION", Level.MODIFICATION)]
    assert approval.status == Status.EN_ATTENTE


def test_profile_already_held_is_refused(structure, consultation_user):
    with pytest.raises(services.RequestError, match="Vous possédez déjà le profil sélectionné"):
        services.request_profiles(
            requester=consultation_user,
            structure=structure,
            add=[profile("FACTURE_EMISE", Level.CONSULTATION)],
        )
    assert not ApprovalRequest.objects.exists()


def test_second_identical_profile_request_is_refused(structure, consultation_user):
    wanted = [profile("ORGANISATION", Level.MODIFICATION)]
    services.request_profiles(requester=consultation_user, structure=structure, add=wanted)
    with pytest.raises(services.RequestError, match="Une demande identique est déjà en attente"):
        services.request_profiles(requester=consultation_user, structure=structure, add=wanted)
    assert ApprovalRequest.objects.count() == 1


def test_profile_request_without_profile_is_refused(structure, consultation_user):
    with pytest.raises(services.RequestError, match="au moins un profil"):
        services.request_profiles(requester=consultation_user, structure=structure)
    assert not ApprovalRequest.objects.exists()


def test_profile_request_of_an_unattached_user_is_refused(structure, principal_manager, other_structure_user):
    with pytest.raises(services.RequestError, match="pas rattaché"):
        services.request_profiles(
            requester=other_structure_user,
            structure=structure,
            add=[profile("FACTURE_EMISE", Level.CONSULTATION)],
        )
    assert not ApprovalRequest.objects.exists()


# Deciding


@pytest.mark.parametrize("approver_fixture", ["principal_manager", "delegate"])
def test_approval_attaches_exactly_the_requested_services(
    request, structure, principal_manager, approver_fixture, django_capture_on_commit_callbacks
):
    approver = request.getfixturevalue(approver_fixture)
    wanted, other = (
        factories.ServiceFactory(structure=structure),
        factories.ServiceFactory(structure=structure),
    )
    approval = pending_attachment(structure, services_=[wanted])

    with django_capture_on_commit_callbacks(execute=True):
        services.approval_decide(request_id=approval.pk, approver=approver, approve=True)

    approval.refresh_from_db()
    assert approval.status == Status.APPROUVEE
    assert approval.decided_by == approver and approval.decided_at is not None
    memberships = Membership.objects.filter(user=approval.requester)
    assert list(memberships.values_list("structure", "service", "status")) == [
        (structure.pk, wanted.pk, Membership.Status.VALIDEE)
    ]
    assert not memberships.filter(service=other).exists()
    structure.refresh_from_db()
    assert structure.principal_manager == principal_manager
    assert AuditEvent.objects.filter(action="approval_approve", actor=approver).count() == 1
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [approval.requester.email]
    assert "approuvée" in mail.outbox[0].subject


def test_approval_of_a_structure_level_request_attaches_to_the_whole_structure(structure, principal_manager):
    approval = pending_attachment(structure)
    services.approval_decide(request_id=approval.pk, approver=principal_manager, approve=True)
    assert list(Membership.objects.filter(user=approval.requester).values_list("service", "status")) == [
        (None, Membership.Status.VALIDEE)
    ]


def test_refusal_applies_nothing_and_emails_the_reason(
    structure, principal_manager, django_capture_on_commit_callbacks
):
    approval = pending_attachment(structure)

    with django_capture_on_commit_callbacks(execute=True):
        services.approval_decide(
            request_id=approval.pk,
            approver=principal_manager,
            approve=False,
            reason="  Inconnu du service.  ",
        )

    approval.refresh_from_db()
    assert approval.status == Status.REFUSEE and approval.reason == "Inconnu du service."
    assert list(Membership.objects.filter(user=approval.requester).values_list("status", flat=True)) == [
        Membership.Status.REFUSEE
    ]
    assert not Membership.objects.filter(user=approval.requester, status=Membership.Status.VALIDEE).exists()
    assert len(mail.outbox) == 1
    assert "refusée" in mail.outbox[0].subject
    assert "Inconnu du service." in mail.outbox[0].body
    assert AuditEvent.objects.get(action="approval_refuse").changes["reason"] == "Inconnu du service."


def _paragraphs(body):
    return body.strip().split("\n\n")


def test_refusal_email_says_each_sentence_in_one_piece(
    structure, principal_manager, django_capture_on_commit_callbacks
):
    approval = pending_attachment(structure)

    with django_capture_on_commit_callbacks(execute=True):
        services.approval_decide(
            request_id=approval.pk, approver=principal_manager, approve=False, reason="Inconnu du service."
        )

    assert _paragraphs(mail.outbox[0].body) == [
        "Bonjour,",
        f"Votre demande {approval.number} (Rattachement) concernant la structure {structure.display_name} "
        f"({structure.identifier}) a été refusée, pour le motif suivant :",
        "Inconnu du service.",
        "L’historique de vos demandes est dans le menu de votre compte, « Historique de mes demandes ».",
        "L’équipe du Portail Organisation",
    ]


def test_decision_emails_name_the_services_within_the_sentence(
    structure, principal_manager, django_capture_on_commit_callbacks
):
    first = factories.ServiceFactory(structure=structure, code="ACH", name="Achats")
    second = factories.ServiceFactory(structure=structure, code="COMPTA", name="Comptabilité")
    refused = services.request_attachment(requester=newcomer(), structure=structure, services=[first, second])
    approved = services.request_attachment(
        requester=factories.UserFactory(), structure=structure, services=[first]
    )

    with django_capture_on_commit_callbacks(execute=True):
        services.approval_decide(
            request_id=refused.pk, approver=principal_manager, approve=False, reason="Non."
        )
    with django_capture_on_commit_callbacks(execute=True):
        services.approval_decide(request_id=approved.pk, approver=principal_manager, approve=True)

    target = f"concernant la structure {structure.display_name} ({structure.identifier})"
    assert _paragraphs(mail.outbox[0].body)[1] == (
        f"Votre demande {refused.number} (Rattachement) {target} — Achats, Comptabilité "
        "a été refusée, pour le motif suivant :"
    )
    assert _paragraphs(mail.outbox[1].body)[1] == (
        f"Votre demande {approved.number} (Rattachement) {target} — Achats a été approuvée. "
        "Elle s’applique dès maintenant : vous la retrouvez dans « Mes rattachements » et "
        "« Mes habilitations »."
    )


@pytest.mark.parametrize("reason", ["", "   "])
def test_refusal_without_reason_is_refused_and_changes_nothing(
    structure, principal_manager, reason, django_capture_on_commit_callbacks
):
    approval = pending_attachment(structure)
    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(services.RequestError, match="Indiquez le motif du refus"):
            services.approval_decide(
                request_id=approval.pk, approver=principal_manager, approve=False, reason=reason
            )
    approval.refresh_from_db()
    assert approval.status == Status.EN_ATTENTE
    assert Membership.objects.get(user=approval.requester).status == Membership.Status.EN_COURS_DE_VALIDATION
    assert mail.outbox == []


def test_second_decision_is_already_decided(structure, principal_manager, delegate):
    approval = pending_attachment(structure)
    services.approval_decide(request_id=approval.pk, approver=principal_manager, approve=True)

    with pytest.raises(services.AlreadyDecided) as error:
        services.approval_decide(request_id=approval.pk, approver=delegate, approve=False, reason="Non")

    assert error.value.message == "Cette demande a déjà été traitée"
    approval.refresh_from_db()
    assert approval.status == Status.APPROUVEE and approval.decided_by == principal_manager
    assert Membership.objects.filter(user=approval.requester, status=Membership.Status.VALIDEE).count() == 1


@pytest.mark.parametrize("persona", ["consultation_user", "other_structure_user", "requester"])
def test_decision_by_someone_who_does_not_administer_the_structure_is_not_found(
    request, structure, principal_manager, persona
):
    approval = pending_attachment(structure)
    who = approval.requester if persona == "requester" else request.getfixturevalue(persona)
    with pytest.raises(ApprovalRequest.DoesNotExist):
        services.approval_decide(request_id=approval.pk, approver=who, approve=True)
    approval.refresh_from_db()
    assert approval.status == Status.EN_ATTENTE
    assert not Membership.objects.filter(user=approval.requester, status=Membership.Status.VALIDEE).exists()


def test_approval_on_a_structure_deactivated_since_is_refused(structure, principal_manager):
    approval = pending_attachment(structure)
    Structure.objects.filter(pk=structure.pk).update(status=Structure.Status.INACTIVE)
    with pytest.raises(services.RequestError, match="désactivée"):
        services.approval_decide(request_id=approval.pk, approver=principal_manager, approve=True)
    approval.refresh_from_db()
    assert approval.status == Status.EN_ATTENTE
    assert not Membership.objects.filter(user=approval.requester, status=Membership.Status.VALIDEE).exists()


def test_approved_profile_request_grants_exactly_the_requested_profiles(
    structure, principal_manager, consultation_user
):
    wanted = profile("ORGANISATION", Level.MODIFICATION)
    removed = profile("FACTURE_EMISE", Level.CONSULTATION)
    before = set(Habilitation.objects.filter(user=consultation_user).values_list("profile_id", flat=True))
    approval = services.request_profiles(
        requester=consultation_user, structure=structure, add=[wanted], remove=[removed]
    )

    services.approval_decide(request_id=approval.pk, approver=principal_manager, approve=True)

    after = set(Habilitation.objects.filter(user=consultation_user).values_list("profile_id", flat=True))
    assert after == (before | {wanted.pk}) - {removed.pk}


def test_refused_profile_request_grants_nothing(structure, principal_manager, consultation_user):
    before = set(Habilitation.objects.filter(user=consultation_user).values_list("profile_id", flat=True))
    approval = services.request_profiles(
        requester=consultation_user, structure=structure, add=[profile("ORGANISATION", Level.MODIFICATION)]
    )
    services.approval_decide(request_id=approval.pk, approver=principal_manager, approve=False, reason="Non")
    after = set(Habilitation.objects.filter(user=consultation_user).values_list("profile_id", flat=True))
    assert after == before


def test_profile_granted_meanwhile_makes_the_approval_fail_with_nothing_applied(
    structure, principal_manager, consultation_user
):
    wanted = profile("ORGANISATION", Level.MODIFICATION)
    approval = services.request_profiles(requester=consultation_user, structure=structure, add=[wanted])
    factories.grant(consultation_user, structure, "ORGANISATION", Level.MODIFICATION)
    with pytest.raises(services.RequestError):
        services.approval_decide(request_id=approval.pk, approver=principal_manager, approve=True)
    approval.refresh_from_db()
    assert approval.status == Status.EN_ATTENTE


# The database keeps the rules too


def test_database_refuses_a_refusal_without_reason(structure, principal_manager):
    approval = pending_attachment(structure)
    with pytest.raises(IntegrityError), transaction.atomic():
        ApprovalRequest.objects.filter(pk=approval.pk).update(
            status=Status.REFUSEE, decided_by=principal_manager, decided_at=timezone.now(), reason="  "
        )


def test_database_refuses_a_decision_without_approver(structure, principal_manager):
    approval = pending_attachment(structure)
    with pytest.raises(IntegrityError), transaction.atomic():
        ApprovalRequest.objects.filter(pk=approval.pk).update(
            status=Status.APPROUVEE, decided_at=timezone.now()
        )


# The header count


def test_pending_count_counts_only_requests_of_administered_structures(
    structure, principal_manager, delegate, consultation_user
):
    pending_attachment(structure)
    pending_attachment(
        factories.StructureFactory(with_principal_manager=True), requester=newcomer("x@exemple.fr")
    )
    assert selectors.pending_count_for(access=load_access(principal_manager)) == 1
    assert selectors.pending_count_for(access=load_access(delegate)) == 1
    assert selectors.pending_count_for(access=load_access(consultation_user)) == 0


def test_own_request_is_not_counted_for_its_requester(structure, principal_manager, consultation_user):
    factories.grant(consultation_user, structure, "ORGANISATION", Level.MODIFICATION)
    other = factories.StructureFactory(with_principal_manager=True)
    factories.ServiceFactory(structure=structure)
    services.request_profiles(
        requester=consultation_user, structure=structure, add=[profile("FACTURE_EMISE", Level.MODIFICATION)]
    )
    assert selectors.pending_count_for(access=load_access(consultation_user)) == 0
    assert selectors.pending_count_for(access=load_access(principal_manager)) == 1
    assert selectors.pending_count_for(access=load_access(other.principal_manager)) == 0


# Decided exactly once, under concurrent approvers


@pytest.mark.django_db(transaction=True)
def test_two_approvers_deciding_at_once_produce_one_effect(catalogue):
    if connection.vendor != "postgresql":
        pytest.skip("Needs the PostgreSQL server (DATABASE_URL=postgres://…): SQLite serialises writers.")
    structure = factories.StructureFactory()
    manager = factories.UserFactory()
    factories.attach(manager, structure)
    delegate = factories.UserFactory()
    factories.attach(delegate, structure)
    factories.grant(delegate, structure, "ORGANISATION", Level.MODIFICATION)
    approval = pending_attachment(structure)
    decisions = [(manager, True, ""), (delegate, False, "Inconnu")]
    barrier = threading.Barrier(len(decisions))
    outcomes, errors = [], []

    def decide(approver, approve, reason):
        try:
            barrier.wait(timeout=10)
            services.approval_decide(
                request_id=approval.pk, approver=approver, approve=approve, reason=reason
            )
            outcomes.append("decided")
        except services.AlreadyDecided:
            outcomes.append("already")
        except Exception as exc:  # reported below, a thread cannot fail the test itself
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=decide, args=decision) for decision in decisions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    assert sorted(outcomes) == ["already", "decided"]
    approval.refresh_from_db()
    assert approval.status in (Status.APPROUVEE, Status.REFUSEE)
    assert AuditEvent.objects.filter(action__in=["approval_approve", "approval_refuse"]).count() == 1
    memberships = list(Membership.objects.filter(user=approval.requester).values_list("status", flat=True))
    expected = Membership.Status.VALIDEE if approval.status == Status.APPROUVEE else Membership.Status.REFUSEE
    assert memberships == [expected]
