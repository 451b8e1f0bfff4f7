"""The approvers' digest: at most one email per approver per run, never twice for the
same request."""

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.management import call_command

from approvals import services
from approvals.models import ApprovalRequest
from chorus.models import Level, Profile
from structures.models import Structure
from tests import factories
from tests.approvals.helpers import newcomer, pending_attachment


def run_digest(capture):
    out = StringIO()
    with capture(execute=True):
        call_command("approvals_digest", stdout=out)
    return out.getvalue()


def test_each_approver_gets_one_email_listing_every_new_request(
    structure, principal_manager, delegate, django_capture_on_commit_callbacks
):
    first = pending_attachment(structure)
    second = pending_attachment(structure, requester=newcomer("second@exemple.fr"))

    output = run_digest(django_capture_on_commit_callbacks)

    assert sorted(message.to[0] for message in mail.outbox) == sorted(
        [principal_manager.email, delegate.email]
    )
    for message in mail.outbox:
        assert "2 nouvelles demandes" in message.subject
        assert first.number in message.body and second.number in message.body
    assert "2 courriel(s) envoyé(s), 2 demande(s) signalée(s)." in output
    assert not ApprovalRequest.objects.filter(notified_at__isnull=True).exists()


def test_an_approver_of_several_structures_gets_a_single_email(
    structure, principal_manager, django_capture_on_commit_callbacks
):
    other = factories.StructureFactory(with_principal_manager=principal_manager)
    pending_attachment(structure)
    pending_attachment(other, requester=newcomer("second@exemple.fr"))

    run_digest(django_capture_on_commit_callbacks)

    assert [message.to for message in mail.outbox] == [[principal_manager.email]]


def test_running_again_sends_nothing_already_notified(
    structure, principal_manager, django_capture_on_commit_callbacks
):
    pending_attachment(structure)
    run_digest(django_capture_on_commit_callbacks)
    mail.outbox.clear()

    output = run_digest(django_capture_on_commit_callbacks)

    assert mail.outbox == []
    assert "0 courriel(s) envoyé(s)" in output


def test_only_new_requests_are_in_the_next_digest(
    structure, principal_manager, django_capture_on_commit_callbacks
):
    old = pending_attachment(structure)
    run_digest(django_capture_on_commit_callbacks)
    mail.outbox.clear()
    new = pending_attachment(structure, requester=newcomer("plus-tard@exemple.fr"))

    run_digest(django_capture_on_commit_callbacks)

    assert len(mail.outbox) == 1
    assert new.number in mail.outbox[0].body and old.number not in mail.outbox[0].body


def test_decided_requests_and_non_approvers_are_left_out(
    structure, principal_manager, consultation_user, django_capture_on_commit_callbacks
):
    decided = pending_attachment(structure)
    decided.status, decided.decided_by = ApprovalRequest.Status.APPROUVEE, principal_manager
    decided.decided_at = decided.created_at
    decided.save()

    run_digest(django_capture_on_commit_callbacks)

    assert mail.outbox == []


def test_stuck_requests_wait_for_an_approver_then_are_notified(
    structure, principal_manager, django_capture_on_commit_callbacks
):
    member = factories.UserFactory(email="membre@exemple.fr")
    factories.attach(member, structure)
    approval = pending_attachment(structure)
    # The principal manager left without transferring the role: their account is deactivated.
    get_user_model().objects.filter(pk=principal_manager.pk).update(is_active=False)

    run_digest(django_capture_on_commit_callbacks)
    assert mail.outbox == []
    approval.refresh_from_db()
    assert approval.notified_at is None

    Structure.objects.filter(pk=structure.pk).update(principal_manager=member)
    run_digest(django_capture_on_commit_callbacks)
    assert [message.to for message in mail.outbox] == [[member.email]]


def test_a_delegate_no_longer_attached_is_not_an_approver(
    structure, principal_manager, delegate, django_capture_on_commit_callbacks
):
    delegate.memberships.update(status="DESACTIVEE")
    pending_attachment(structure)
    run_digest(django_capture_on_commit_callbacks)
    assert [message.to for message in mail.outbox] == [[principal_manager.email]]


def test_requester_approver_is_not_told_about_their_own_request(
    structure, principal_manager, delegate, django_capture_on_commit_callbacks
):
    services.request_profiles(
        requester=delegate,
        structure=structure,
        add=[Profile.objects.get(application__code="FACTURE_EMISE", level=Level.MODIFICATION)],
    )
    run_digest(django_capture_on_commit_callbacks)
    assert [message.to for message in mail.outbox] == [[principal_manager.email]]


def test_command_help_tells_operators_to_schedule_it_hourly():
    from approvals.management.commands.approvals_digest import Command

    assert "toutes les heures" in Command.help


@pytest.mark.parametrize("count", [1, 20])
def test_digest_queries_do_not_grow_with_requests(
    structure, principal_manager, delegate, count, django_assert_max_num_queries
):
    for index in range(count):
        pending_attachment(structure, requester=newcomer(f"d{index}@exemple.fr"))
    with django_assert_max_num_queries(8):
        call_command("approvals_digest", stdout=StringIO())
