"""Operators read the requests and find the stuck ones (no active approver)."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from approvals.models import ApprovalRequest
from tests import factories
from tests.approvals.helpers import newcomer, pending_attachment

User = get_user_model()
CHANGELIST = reverse("admin:approvals_approvalrequest_changelist")


@pytest.fixture
def operator_client(client, db):
    client.force_login(
        factories.UserFactory(email="exploitation@exemple.fr", is_staff=True, is_superuser=True)
    )
    return client


def test_operator_lists_and_reads_requests(operator_client, structure, principal_manager):
    approval = pending_attachment(structure)
    response = operator_client.get(CHANGELIST)
    assert response.status_code == 200
    assert approval.number in response.content.decode()
    page = operator_client.get(reverse("admin:approvals_approvalrequest_change", args=[approval.pk]))
    assert page.status_code == 200
    assert reverse("admin:structures_structure_change", args=[structure.pk]) in page.content.decode()


def test_decisions_cannot_be_edited_in_the_admin(operator_client, structure, principal_manager):
    approval = pending_attachment(structure)
    url = reverse("admin:approvals_approvalrequest_change", args=[approval.pk])
    operator_client.post(url, {"status": "APPROUVEE"})
    approval.refresh_from_db()
    assert approval.status == ApprovalRequest.Status.EN_ATTENTE
    assert operator_client.get(reverse("admin:approvals_approvalrequest_add")).status_code == 403


def test_filter_lists_pending_requests_of_structures_without_active_approver(
    operator_client, structure, principal_manager
):
    stuck_structure = factories.StructureFactory(with_principal_manager=True)
    stuck = pending_attachment(stuck_structure)
    # An active structure always has a principal manager (a database check): it is their
    # deactivated account that leaves the request without an approver.
    User.objects.filter(pk=stuck_structure.principal_manager_id).update(is_active=False)
    fine = pending_attachment(structure, requester=newcomer("autre@exemple.fr"))

    response = operator_client.get(CHANGELIST, {"sans_approbateur": "1"})

    assert [a.pk for a in response.context["cl"].result_list] == [stuck.pk]
    assert fine.number not in response.content.decode()


def test_search_by_request_number(operator_client, structure, principal_manager):
    first = pending_attachment(structure)
    pending_attachment(structure, requester=newcomer("autre@exemple.fr"))
    response = operator_client.get(CHANGELIST, {"q": first.number})
    assert [a.pk for a in response.context["cl"].result_list] == [first.pk]


@pytest.mark.parametrize("rows", [1, 20])
def test_changelist_queries_do_not_grow_with_rows(
    operator_client, structure, principal_manager, rows, django_assert_max_num_queries
):
    for index in range(rows):
        pending_attachment(structure, requester=newcomer(f"a{index}@exemple.fr"))
    with django_assert_max_num_queries(10):
        assert operator_client.get(CHANGELIST).status_code == 200
