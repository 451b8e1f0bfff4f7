"""The approvals pages: who reaches what, the decisions they make, what lists cost."""

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from approvals import selectors, services
from approvals.models import ApprovalRequest
from chorus.models import AuditEvent, Level, Profile
from structures.models import Structure
from tests import factories
from tests.approvals.helpers import newcomer, pending_attachment
from users.models import Membership

Status = ApprovalRequest.Status
INBOX = reverse("approvals:inbox")
REQUEST = reverse("approvals:request_attachment")
MINE = reverse("approvals:my_requests")


@pytest.fixture
def approval(structure, principal_manager):
    return pending_attachment(structure)


def messages_of(response):
    return [str(message) for message in response.context["messages"]]


# Permission matrix


@pytest.mark.parametrize("url", [INBOX, REQUEST, MINE])
def test_anonymous_is_sent_to_login(client, db, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response.url.startswith(reverse("users:login"))


@pytest.mark.parametrize("name", ["detail", "approve", "refuse"])
def test_anonymous_is_sent_to_login_from_a_request(client, approval, name):
    url = reverse(f"approvals:{name}", args=[approval.pk])
    response = client.post(url) if name != "detail" else client.get(url)
    assert response.status_code == 302
    assert response.url.startswith(reverse("users:login"))


@pytest.mark.parametrize("persona", ["principal_manager", "delegate"])
def test_approvers_see_the_request_in_their_inbox_and_its_detail(request, client, approval, persona):
    client.force_login(request.getfixturevalue(persona))
    inbox = client.get(INBOX)
    assert inbox.status_code == 200
    assert [a.pk for a in inbox.context["page_obj"]] == [approval.pk]
    detail = client.get(reverse("approvals:detail", args=[approval.pk]))
    assert detail.status_code == 200
    page = detail.content.decode()
    assert approval.number in page
    assert approval.requester.email in page
    assert approval.structure.identifier in page
    assert "Je suis comptable." in page


def test_inbox_shows_the_requesters_comment_shortened_and_the_detail_in_full(
    client, structure, principal_manager
):
    short = pending_attachment(
        structure, requester=newcomer("court@exemple.fr"), comment="Je suis comptable."
    )
    long_comment = "Je remplace Mme Martin à la comptabilité fournisseurs. " * 5 + "FIN-DU-COMMENTAIRE"
    long = pending_attachment(structure, requester=newcomer("long@exemple.fr"), comment=long_comment)
    silent = pending_attachment(structure, requester=newcomer("muet@exemple.fr"), comment="")
    client.force_login(principal_manager)

    page = client.get(INBOX).content.decode()

    assert "Commentaire du demandeur" in page
    assert "Je suis comptable." in page
    # Shortened in the list, with a link to the whole of it on the request's page.
    assert "Je remplace Mme Martin à la comptabilité fournisseurs." in page
    assert "FIN-DU-COMMENTAIRE" not in page
    assert "…" in page
    detail_url = reverse("approvals:detail", args=[long.pk])
    assert f'href="{detail_url}">Lire le commentaire entier' in page
    assert f'href="{reverse("approvals:detail", args=[short.pk])}">Lire le commentaire entier' not in page
    assert "FIN-DU-COMMENTAIRE" in client.get(detail_url).content.decode()
    assert silent.comment == ""


def test_inbox_escapes_the_requesters_comment(client, structure, principal_manager):
    pending_attachment(structure, comment="<script>alert(1)</script> & co")
    client.force_login(principal_manager)
    page = client.get(INBOX).content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in page


@pytest.mark.parametrize("persona", ["consultation_user", "other_structure_user", "staff_user"])
def test_non_approvers_have_an_empty_inbox_and_no_access_to_the_request(request, client, approval, persona):
    client.force_login(request.getfixturevalue(persona))
    inbox = client.get(INBOX)
    assert inbox.status_code == 200
    assert list(inbox.context["page_obj"]) == []
    assert "Aucune demande n’attend votre décision." in inbox.content.decode()
    assert client.get(reverse("approvals:detail", args=[approval.pk])).status_code == 404


@pytest.mark.parametrize("persona", ["consultation_user", "other_structure_user"])
def test_forged_decision_on_another_structures_request_is_not_found(request, client, approval, persona):
    client.force_login(request.getfixturevalue(persona))
    assert client.post(reverse("approvals:approve", args=[approval.pk])).status_code == 404
    assert client.post(reverse("approvals:refuse", args=[approval.pk]), {"reason": "Non"}).status_code == 404
    approval.refresh_from_db()
    assert approval.status == Status.EN_ATTENTE
    assert not Membership.objects.filter(user=approval.requester, status=Membership.Status.VALIDEE).exists()


def test_requester_cannot_open_or_decide_their_own_request(client, structure, principal_manager, delegate):
    own = services.request_profiles(
        requester=delegate,
        structure=structure,
        add=[Profile.objects.get(application__code="FACTURE_EMISE", level=Level.MODIFICATION)],
    )
    client.force_login(delegate)
    assert client.get(reverse("approvals:detail", args=[own.pk])).status_code == 404
    assert client.post(reverse("approvals:approve", args=[own.pk])).status_code == 404
    own.refresh_from_db()
    assert own.status == Status.EN_ATTENTE


def test_operator_without_portal_role_is_refused(client, db):
    operator = factories.UserFactory(is_staff=True, is_superuser=True)
    client.force_login(operator)
    assert client.get(INBOX).status_code == 403
    assert client.get(REQUEST).status_code == 403


def test_decisions_are_posted_only(client, approval, principal_manager):
    client.force_login(principal_manager)
    assert client.get(reverse("approvals:approve", args=[approval.pk])).status_code == 405
    assert client.get(reverse("approvals:refuse", args=[approval.pk])).status_code == 405


# Detail: approve, refuse


def test_detail_shows_approvers_and_the_refusal_dialog(client, approval, principal_manager, delegate):
    client.force_login(delegate)
    page = client.get(reverse("approvals:detail", args=[approval.pk])).content.decode()
    assert str(principal_manager) in page and str(delegate) in page
    assert 'id="modale-refus"' in page and 'aria-controls="modale-refus"' in page
    assert "<noscript>" in page
    assert "Toute la structure" in page
    assert approval.structure.company_name in page


def test_approve_applies_and_returns_to_the_list_with_a_confirmation(
    client, approval, principal_manager, django_capture_on_commit_callbacks
):
    client.force_login(principal_manager)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("approvals:approve", args=[approval.pk]), follow=True)
    assert response.redirect_chain[-1][0] == INBOX
    assert f"La demande {approval.number}" in " ".join(messages_of(response))
    approval.refresh_from_db()
    assert approval.status == Status.APPROUVEE
    assert Membership.objects.get(user=approval.requester).status == Membership.Status.VALIDEE
    assert len(mail.outbox) == 1


def test_refuse_without_reason_shows_the_error_and_changes_nothing(client, approval, principal_manager):
    client.force_login(principal_manager)
    response = client.post(reverse("approvals:refuse", args=[approval.pk]), {"reason": "  "})
    assert response.status_code == 200
    assert "Indiquez le motif du refus." in response.content.decode()
    approval.refresh_from_db()
    assert approval.status == Status.EN_ATTENTE
    assert Membership.objects.get(user=approval.requester).status == Membership.Status.EN_COURS_DE_VALIDATION


def test_refuse_with_reason_refuses_and_emails_it(
    client, approval, principal_manager, django_capture_on_commit_callbacks
):
    client.force_login(principal_manager)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("approvals:refuse", args=[approval.pk]), {"reason": "Personne inconnue"}, follow=True
        )
    assert response.redirect_chain[-1][0] == INBOX
    approval.refresh_from_db()
    assert approval.status == Status.REFUSEE and approval.reason == "Personne inconnue"
    assert Membership.objects.get(user=approval.requester).status == Membership.Status.REFUSEE
    assert "Personne inconnue" in mail.outbox[0].body


def test_second_decision_says_it_was_already_decided(client, approval, principal_manager, delegate):
    services.approval_decide(request_id=approval.pk, approver=delegate, approve=True)
    client.force_login(principal_manager)
    response = client.post(reverse("approvals:refuse", args=[approval.pk]), {"reason": "Non"}, follow=True)
    assert "Cette demande a déjà été traitée" in messages_of(response)
    approval.refresh_from_db()
    assert approval.status == Status.APPROUVEE and approval.decided_by == delegate


# Inbox: filters, order, several at once


def test_inbox_lists_oldest_first_and_filters_by_kind_and_structure(client, structure, principal_manager):
    other = factories.StructureFactory(with_principal_manager=principal_manager)
    first = pending_attachment(structure)
    second = pending_attachment(other, requester=newcomer("b@exemple.fr"))
    attached = factories.UserFactory()
    factories.attach(attached, structure)
    third = services.request_profiles(
        requester=attached,
        structure=structure,
        add=[Profile.objects.get(application__code="FACTURE_EMISE", level=Level.CONSULTATION)],
    )
    client.force_login(principal_manager)

    def listed(query=""):
        return [a.pk for a in client.get(f"{INBOX}{query}").context["page_obj"]]

    assert listed() == [first.pk, second.pk, third.pk]
    assert listed("?kind=HABILITATIONS") == [third.pk]
    assert listed(f"?structure={other.pk}") == [second.pk]
    assert listed(f"?kind=RATTACHEMENT&structure={structure.pk}") == [first.pk]


def test_inbox_structure_filter_refuses_a_structure_i_do_not_administer(client, approval, principal_manager):
    foreign = factories.StructureFactory(with_principal_manager=True)
    pending_attachment(foreign, requester=newcomer("c@exemple.fr"))
    client.force_login(principal_manager)
    response = client.get(f"{INBOX}?structure={foreign.pk}")
    assert response.status_code == 200
    assert response.context["filter_form"].errors
    assert [a.pk for a in response.context["page_obj"]] == [approval.pk]


def _several(structure, count):
    return [
        pending_attachment(structure, requester=newcomer(f"demandeur{i}@exemple.fr")) for i in range(count)
    ]


def test_bulk_approval_applies_each_request_and_emails_each_requester(
    client, structure, principal_manager, django_capture_on_commit_callbacks
):
    approvals = _several(structure, 3)
    left = pending_attachment(structure, requester=newcomer("reste@exemple.fr"))
    client.force_login(principal_manager)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            INBOX, {"requests": [a.pk for a in approvals], "decision": "approuver"}, follow=True
        )
    assert "3 demandes approuvées." in messages_of(response)
    assert set(ApprovalRequest.objects.filter(status=Status.APPROUVEE)) == set(approvals)
    assert (
        Membership.objects.filter(
            status=Membership.Status.VALIDEE, user__in=[a.requester for a in approvals]
        ).count()
        == 3
    )
    left.refresh_from_db()
    assert left.status == Status.EN_ATTENTE
    assert sorted(message.to[0] for message in mail.outbox) == sorted(a.requester.email for a in approvals)


def test_bulk_refusal_requires_one_reason(client, structure, principal_manager):
    approvals = _several(structure, 2)
    client.force_login(principal_manager)
    response = client.post(
        INBOX, {"requests": [a.pk for a in approvals], "decision": "refuser", "reason": ""}
    )
    assert response.status_code == 200
    assert "Indiquez le motif du refus : il est envoyé à chaque demandeur." in response.content.decode()
    assert not ApprovalRequest.objects.exclude(status=Status.EN_ATTENTE).exists()


def test_bulk_refusal_gives_each_request_the_reason(
    client, structure, principal_manager, django_capture_on_commit_callbacks
):
    approvals = _several(structure, 2)
    client.force_login(principal_manager)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            INBOX,
            {"requests": [a.pk for a in approvals], "decision": "refuser", "reason": "Hors périmètre"},
            follow=True,
        )
    assert "2 demandes refusées." in messages_of(response)
    assert set(ApprovalRequest.objects.values_list("status", "reason")) == {
        (Status.REFUSEE, "Hors périmètre")
    }
    assert len(mail.outbox) == 2
    assert AuditEvent.objects.filter(action="approval_refuse").count() == 2


def test_bulk_decision_reports_requests_already_decided(client, structure, principal_manager, delegate):
    decided, pending = _several(structure, 2)
    services.approval_decide(request_id=decided.pk, approver=delegate, approve=False, reason="Non")
    client.force_login(principal_manager)
    response = client.post(
        INBOX, {"requests": [decided.pk, pending.pk], "decision": "approuver"}, follow=True
    )
    assert "1 demande approuvée." in messages_of(response)
    assert f"Cette demande a déjà été traitée : {decided.number}." in messages_of(response)
    decided.refresh_from_db()
    assert decided.status == Status.REFUSEE


def test_bulk_decision_with_a_forged_request_applies_nothing(client, structure, principal_manager):
    mine = pending_attachment(structure)
    foreign = pending_attachment(
        factories.StructureFactory(with_principal_manager=True), newcomer("d@exemple.fr")
    )
    client.force_login(principal_manager)
    response = client.post(INBOX, {"requests": [mine.pk, foreign.pk], "decision": "approuver"})
    assert response.status_code == 200
    assert "Une des demandes sélectionnées est introuvable." in response.content.decode()
    assert not ApprovalRequest.objects.exclude(status=Status.EN_ATTENTE).exists()


def test_bulk_decision_without_selection_is_refused(client, approval, principal_manager):
    client.force_login(principal_manager)
    response = client.post(INBOX, {"decision": "approuver"})
    assert "Sélectionnez au moins une demande." in response.content.decode()
    approval.refresh_from_db()
    assert approval.status == Status.EN_ATTENTE


def test_inbox_paginates_by_25(client, structure, principal_manager):
    requester = factories.UserFactory()
    factories.attach(requester, structure)
    ApprovalRequest.objects.bulk_create(
        ApprovalRequest(kind=ApprovalRequest.Kind.HABILITATIONS, requester=requester, structure=structure)
        for _index in range(30)
    )
    client.force_login(principal_manager)
    assert len(client.get(INBOX).context["page_obj"]) == 25
    assert len(client.get(f"{INBOX}?page=2").context["page_obj"]) == 5


# Query counts do not grow with rows


def _requests_with_profiles(structure, count):
    requester = factories.UserFactory()
    factories.attach(requester, structure)
    services_ = [factories.ServiceFactory(structure=structure) for _index in range(2)]
    profiles = list(Profile.objects.all()[:3])
    for _index in range(count):
        attachment = ApprovalRequest.objects.create(
            kind=ApprovalRequest.Kind.RATTACHEMENT,
            requester=newcomer(f"n{_index}-{count}@exemple.fr"),
            structure=structure,
        )
        attachment.services.set(services_)
        habilitations = ApprovalRequest.objects.create(
            kind=ApprovalRequest.Kind.HABILITATIONS,
            requester=requester,
            structure=structure,
            service=services_[0],
        )
        habilitations.profiles_to_add.set(profiles[:2])
        habilitations.profiles_to_remove.set(profiles[2:])


def test_inbox_query_count_does_not_grow_with_requests(client, structure, principal_manager):
    client.force_login(principal_manager)
    counts = []
    for count in (2, 10):
        _requests_with_profiles(structure, count)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(INBOX).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_my_requests_query_count_does_not_grow_with_requests(client, structure, principal_manager):
    requester = factories.UserFactory()
    factories.attach(requester, structure)
    client.force_login(requester)
    profiles = list(Profile.objects.all()[:2])
    counts = []
    for count in (2, 12):
        for _index in range(count):
            approval = ApprovalRequest.objects.create(
                kind=ApprovalRequest.Kind.HABILITATIONS, requester=requester, structure=structure
            )
            approval.profiles_to_add.set(profiles)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(MINE).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]


@pytest.mark.parametrize("persona", ["principal_manager", "delegate"])
def test_header_badge_costs_the_same_queries_for_0_1_and_150_pending(request, client, structure, persona):
    user = request.getfixturevalue(persona)
    requester = factories.UserFactory()
    factories.attach(requester, structure)
    client.force_login(user)
    counts, badges = [], []
    for total in (0, 1, 150):
        missing = total - ApprovalRequest.objects.count()
        ApprovalRequest.objects.bulk_create(
            ApprovalRequest(kind=ApprovalRequest.Kind.HABILITATIONS, requester=requester, structure=structure)
            for _index in range(missing)
        )
        with CaptureQueriesContext(connection) as queries:
            response = client.get(reverse("home"))
        counts.append(len(queries))
        badges.append(str(response.context["approvals_waiting"]))
    assert badges == ["0", "1", "150"]
    assert counts[0] == counts[1] == counts[2]


def test_pending_count_is_one_query_on_top_of_the_access_context(
    rf, structure, principal_manager, approval, django_assert_num_queries
):
    from chorus.access import load_access

    http_request = rf.get("/")
    http_request.user = principal_manager
    http_request.access = load_access(principal_manager)
    with django_assert_num_queries(1):
        assert selectors.pending_count_for(access=http_request.access) == 1


def test_header_shows_the_number_waiting(client, approval, principal_manager):
    client.force_login(principal_manager)
    page = client.get(reverse("home")).content.decode()
    assert 'title="Demandes en attente">1</span>' in page


# Demander un rattachement


def test_user_finds_a_structure_by_its_siret_and_sees_its_services(client, structure, principal_manager):
    factories.ServiceFactory(structure=structure, name="Comptabilité", code="COMPTA")
    client.force_login(newcomer())
    spaced = " ".join([structure.identifier[:3], structure.identifier[3:]])
    response = client.get(REQUEST, {"identifiant": spaced})
    page = response.content.decode()
    assert structure.company_name in page
    assert "Comptabilité (COMPTA)" in page
    assert "data-warn-unsaved" in page and "Soumettre" in page


@pytest.mark.parametrize("typed", ["123", "Structure"])
def test_partial_identifier_finds_nothing(client, structure, principal_manager, typed):
    client.force_login(newcomer())
    response = client.get(REQUEST, {"identifiant": typed})
    page = response.content.decode()
    assert "Aucune structure ne correspond à cet identifiant" in page
    assert structure.company_name not in page
    assert response.context["form"] is None


def test_user_asks_to_join_and_sees_it_pending(client, structure, principal_manager):
    service = factories.ServiceFactory(structure=structure)
    requester = newcomer()
    client.force_login(requester)
    response = client.post(
        REQUEST,
        {
            "identifiant": structure.identifier,
            "structure": structure.pk,
            "services": [service.pk],
            "comment": "Bonjour",
        },
        follow=True,
    )
    assert response.redirect_chain[-1][0] == MINE
    approval = ApprovalRequest.objects.get(requester=requester)
    assert list(approval.services.all()) == [service] and approval.comment == "Bonjour"
    assert f"Votre demande de rattachement {approval.number}" in " ".join(messages_of(response))
    assert "En attente" in response.content.decode()
    assert Membership.objects.get(user=requester).status == Membership.Status.EN_COURS_DE_VALIDATION


def test_first_user_of_a_structure_becomes_its_principal_manager(client, db):
    structure = factories.StructureFactory()
    requester = newcomer()
    client.force_login(requester)
    response = client.post(
        REQUEST, {"identifiant": structure.identifier, "structure": structure.pk}, follow=True
    )
    assert "vous en êtes le gestionnaire principal" in " ".join(messages_of(response))
    structure.refresh_from_db()
    assert structure.principal_manager == requester


def test_duplicate_request_shows_the_error_and_creates_nothing(client, structure, principal_manager):
    requester = newcomer()
    first = pending_attachment(structure, requester=requester)
    client.force_login(requester)
    response = client.post(REQUEST, {"identifiant": structure.identifier, "structure": structure.pk})
    assert response.status_code == 200
    expected = f"Une demande identique est déjà en attente de validation ({first.number})."
    assert expected in response.content.decode()
    assert ApprovalRequest.objects.count() == 1


def test_posted_service_of_another_structure_is_refused(client, structure, principal_manager):
    foreign = factories.ServiceFactory()
    client.force_login(newcomer())
    response = client.post(
        REQUEST, {"identifiant": structure.identifier, "structure": structure.pk, "services": [foreign.pk]}
    )
    assert response.status_code == 200
    assert "Un des services choisis n’appartient pas à cette structure." in response.content.decode()
    assert not ApprovalRequest.objects.exists()


def test_posted_structure_must_match_the_identifier(client, structure, principal_manager):
    other = factories.StructureFactory(with_principal_manager=True)
    client.force_login(newcomer())
    response = client.post(REQUEST, {"identifiant": structure.identifier, "structure": other.pk})
    assert response.status_code == 200
    assert "Cette structure est introuvable" in response.content.decode()
    assert not ApprovalRequest.objects.exists()


def test_inactive_structure_cannot_be_joined(client, structure, principal_manager):
    Structure.objects.filter(pk=structure.pk).update(status=Structure.Status.INACTIVE)
    client.force_login(newcomer())
    response = client.post(REQUEST, {"identifiant": structure.identifier, "structure": structure.pk})
    assert "Activer une structure" in response.content.decode()
    assert not ApprovalRequest.objects.exists()


# Historique de mes demandes


def test_my_requests_show_only_mine_with_the_refusal_reason(client, structure, principal_manager):
    mine = pending_attachment(structure)
    services.approval_decide(request_id=mine.pk, approver=principal_manager, approve=False, reason="Inconnu")
    someone_else = pending_attachment(structure, requester=newcomer("autre-demandeur@exemple.fr"))
    client.force_login(mine.requester)
    response = client.get(MINE)
    assert [a.pk for a in response.context["page_obj"]] == [mine.pk]
    page = response.content.decode()
    assert "Refusée" in page and "Motif : Inconnu" in page
    assert someone_else.number not in page
