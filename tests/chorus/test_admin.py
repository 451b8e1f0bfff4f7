"""The back-office: operators reach every model, others do not; changelists do not run a
query per row; the principal manager is assigned only to an attached user, audited; the
audit trail cannot be edited."""

from io import StringIO

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.forms import MultiWidget
from django.test import Client, RequestFactory
from django.urls import reverse

from chorus import audit
from chorus.models import Application, AuditEvent, Domain, Habilitation, Level, Profile
from structures.models import Service, Structure
from tests import factories
from users.models import Membership

User = get_user_model()

MODELS = [
    Domain,
    Application,
    Profile,
    Habilitation,
    AuditEvent,
    User,
    Membership,
    Structure,
    Service,
]


def admin_url(model, view, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def form_data(response):
    """The POST data of an admin change form as the page shows it, inlines included."""
    adminform = response.context["adminform"]
    formsets = [inline.formset for inline in response.context["inline_admin_formsets"]]
    data = {}
    for form in [adminform.form, *(form for formset in formsets for form in formset.forms)]:
        for name in form.fields:
            value = form[name].value()
            assert not isinstance(form.fields[name].widget, MultiWidget) or value is None, name
            if value is None or value is False:
                continue
            if value is True:
                value = "on"
            elif isinstance(value, list | tuple):
                value = [str(item) for item in value]
            data[form.add_prefix(name)] = value
    for formset in formsets:
        management = formset.management_form
        for name in management.fields:
            data[management.add_prefix(name)] = management[name].value()
    return data


@pytest.fixture
def operator(db):
    return factories.UserFactory(email="exploitation@exemple.fr", is_staff=True, is_superuser=True)


@pytest.fixture
def operator_client(client, operator):
    client.force_login(operator)
    return client


@pytest.fixture
def demo(db):
    call_command("seed_demo", stdout=StringIO())


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_operator_opens_changelist_and_change_page(demo, operator_client, model):
    assert operator_client.get(admin_url(model, "changelist")).status_code == 200
    obj = model._default_manager.order_by("pk").first()
    assert obj is not None
    assert operator_client.get(admin_url(model, "change", obj.pk)).status_code == 200


@pytest.mark.parametrize("model", [m for m in MODELS if m is not AuditEvent], ids=lambda m: m.__name__)
def test_operator_opens_add_page(demo, operator_client, model):
    assert operator_client.get(admin_url(model, "add")).status_code == 200


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_staff_agent_without_permission_is_refused(client, staff_user, model):
    client.force_login(staff_user)
    assert client.get(admin_url(model, "changelist")).status_code == 403


def test_portal_user_is_sent_to_the_admin_login(client, principal_manager):
    client.force_login(principal_manager)
    response = client.get(admin_url(Structure, "changelist"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("admin:login"))


# The same bound at both sizes: a query per row would break it at 30 rows.
CHANGELIST_MAX_QUERIES = 10


@pytest.mark.parametrize("rows", [1, 30])
def test_structure_changelist_queries_do_not_grow_with_rows(
    operator_client, django_assert_max_num_queries, rows
):
    for _index in range(rows):
        factories.StructureFactory(with_principal_manager=True)
    with django_assert_max_num_queries(CHANGELIST_MAX_QUERIES):
        response = operator_client.get(admin_url(Structure, "changelist"))
    assert response.status_code == 200
    assert len(response.context["cl"].result_list) == rows


@pytest.mark.parametrize("rows", [1, 30])
def test_user_changelist_queries_do_not_grow_with_rows(operator_client, django_assert_max_num_queries, rows):
    factories.UserFactory.create_batch(rows - 1)  # the operator is the first row
    with django_assert_max_num_queries(CHANGELIST_MAX_QUERIES):
        response = operator_client.get(admin_url(User, "changelist"))
    assert response.status_code == 200
    assert len(response.context["cl"].result_list) == rows


@pytest.mark.parametrize("rows", [1, 30])
def test_membership_and_habilitation_changelists_queries_do_not_grow(
    operator_client, django_assert_max_num_queries, rows
):
    for _index in range(rows):
        structure = factories.StructureFactory()
        user = factories.UserFactory()
        factories.attach(user, structure)
        factories.grant(user, structure, "FACTURE_EMISE", Level.CONSULTATION)
    for model in (Membership, Habilitation, AuditEvent, Service, Profile, Application):
        with django_assert_max_num_queries(CHANGELIST_MAX_QUERIES):
            assert operator_client.get(admin_url(model, "changelist")).status_code == 200


def test_structure_change_page_queries_do_not_grow_with_members(
    operator_client, django_assert_max_num_queries, structure, principal_manager
):
    for _index in range(20):
        factories.attach(factories.UserFactory(), structure)
        factories.ServiceFactory(structure=structure)
    with django_assert_max_num_queries(12):
        assert operator_client.get(admin_url(Structure, "change", structure.pk)).status_code == 200


@pytest.mark.parametrize(
    "attachment",
    [
        None,
        Membership.Status.EN_COURS_DE_VALIDATION,
        Membership.Status.REFUSEE,
        Membership.Status.DESACTIVEE,
    ],
)
def test_admin_refuses_principal_manager_without_validated_membership(
    operator_client, structure, principal_manager, attachment
):
    candidate = factories.UserFactory(email="candidat@exemple.fr")
    if attachment:
        factories.MembershipFactory(user=candidate, structure=structure, status=attachment)
    url = admin_url(Structure, "change", structure.pk)
    data = form_data(operator_client.get(url))
    data["principal_manager"] = str(candidate.pk)

    response = operator_client.post(url, data)

    assert response.status_code == 200
    assert "principal_manager" in response.context["adminform"].form.errors
    assert "rattachement validé" in response.content.decode()
    structure.refresh_from_db()
    assert structure.principal_manager == principal_manager
    assert not AuditEvent.objects.filter(action="principal_manager_assign").exists()


def test_admin_assigns_attached_principal_manager_and_audits_it(
    operator_client, operator, structure, principal_manager
):
    successor = factories.UserFactory(email="successeur@exemple.fr")
    factories.attach(successor, structure)
    url = admin_url(Structure, "change", structure.pk)
    data = form_data(operator_client.get(url))
    data["principal_manager"] = str(successor.pk)

    response = operator_client.post(url, data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    structure.refresh_from_db()
    assert structure.principal_manager == successor
    event = AuditEvent.objects.get(action="principal_manager_assign")
    assert event.actor == operator
    assert event.object_id == str(structure.pk)
    assert event.changes == {"before": "gp@exemple.fr", "after": "successeur@exemple.fr"}


def test_admin_edit_without_changing_principal_manager_writes_no_assignment(
    operator_client, structure, principal_manager
):
    url = admin_url(Structure, "change", structure.pk)
    data = form_data(operator_client.get(url))
    data["phone"] = "01 23 45 67 89"
    assert operator_client.post(url, data).status_code == 302
    structure.refresh_from_db()
    assert structure.phone == "01 23 45 67 89"
    assert not AuditEvent.objects.filter(action="principal_manager_assign").exists()


def test_admin_refuses_to_remove_principal_manager_of_active_structure(
    operator_client, structure, principal_manager
):
    url = admin_url(Structure, "change", structure.pk)
    data = form_data(operator_client.get(url))
    data.pop("principal_manager")
    response = operator_client.post(url, data)
    assert response.status_code == 200
    structure.refresh_from_db()
    assert structure.principal_manager == principal_manager


def test_audit_trail_has_no_add_change_or_delete(operator_client, operator, structure, principal_manager):
    event = AuditEvent.objects.first()
    model_admin = admin.site._registry[AuditEvent]
    request = RequestFactory().get("/")
    request.user = operator
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request, event)
    assert not model_admin.has_delete_permission(request, event)

    assert operator_client.get(admin_url(AuditEvent, "add")).status_code == 403
    response = operator_client.get(admin_url(AuditEvent, "change", event.pk))
    assert response.status_code == 200
    assert response.context["has_change_permission"] is False
    assert operator_client.post(admin_url(AuditEvent, "change", event.pk), {"action": "x"}).status_code == 403
    assert operator_client.post(admin_url(AuditEvent, "delete", event.pk), {"post": "yes"}).status_code == 403
    response = operator_client.post(
        admin_url(AuditEvent, "changelist"),
        {"action": "delete_selected", "_selected_action": [event.pk]},
    )
    assert AuditEvent.objects.filter(pk=event.pk).exists()
    event.refresh_from_db()
    assert event.action == "membership_attach"


def test_admin_creates_user_from_email(operator_client):
    response = operator_client.post(
        admin_url(User, "add"),
        {
            "email": "Nouvelle.Personne@Exemple.fr",
            "usable_password": "true",
            "password1": "Un-mot-de-passe-solide-2026",
            "password2": "Un-mot-de-passe-solide-2026",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    user = User.objects.get(email="nouvelle.personne@exemple.fr")
    assert user.check_password("Un-mot-de-passe-solide-2026")


def test_admin_refuses_an_email_that_differs_only_by_case(operator_client, principal_manager):
    response = operator_client.post(
        admin_url(User, "add"),
        {"email": "GP@exemple.fr", "usable_password": "false"},
    )
    assert response.status_code == 200
    assert "email" in response.context["adminform"].form.errors
    assert User.objects.filter(email__iexact="gp@exemple.fr").count() == 1


def test_admin_attaching_first_user_makes_them_principal_manager(operator_client, structure):
    user = factories.UserFactory()
    response = operator_client.post(
        admin_url(Membership, "add"),
        {
            "user": user.pk,
            "structure": structure.pk,
            "status": Membership.Status.VALIDEE,
            "started_at_0": "2026-01-05",
            "started_at_1": "09:00:00",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    structure.refresh_from_db()
    assert structure.principal_manager == user
    assert AuditEvent.objects.filter(action="membership_attach", actor__is_superuser=True).exists()


def test_admin_refuses_to_detach_the_principal_manager(operator_client, structure, principal_manager):
    membership = Membership.objects.get(user=principal_manager, structure=structure)
    url = admin_url(Membership, "change", membership.pk)
    data = form_data(operator_client.get(url))
    data["status"] = Membership.Status.DESACTIVEE
    response = operator_client.post(url, data)
    assert response.status_code == 200
    assert "status" in response.context["adminform"].form.errors
    membership.refresh_from_db()
    assert membership.status == Membership.Status.VALIDEE


def test_admin_detaching_a_simple_user_is_audited(
    operator_client, structure, principal_manager, consultation_user
):
    membership = Membership.objects.get(user=consultation_user, structure=structure)
    url = admin_url(Membership, "change", membership.pk)
    data = form_data(operator_client.get(url))
    data["status"] = Membership.Status.DESACTIVEE
    assert operator_client.post(url, data).status_code == 302
    event = AuditEvent.objects.get(action="membership_status")
    assert event.changes == {"before": "VALIDEE", "after": "DESACTIVEE"}
    membership.refresh_from_db()
    assert membership.ended_at is not None


def test_admin_refuses_a_second_live_membership(operator_client, structure, principal_manager):
    ended = factories.MembershipFactory(
        user=principal_manager, structure=structure, status=Membership.Status.DESACTIVEE
    )
    url = admin_url(Membership, "change", ended.pk)
    data = form_data(operator_client.get(url))
    data["status"] = Membership.Status.VALIDEE
    response = operator_client.post(url, data)
    assert response.status_code == 200
    assert "status" in response.context["adminform"].form.errors
    ended.refresh_from_db()
    assert ended.status == Membership.Status.DESACTIVEE


def test_membership_cannot_be_deleted(operator_client, structure, principal_manager):
    membership = Membership.objects.get(user=principal_manager)
    assert operator_client.get(admin_url(Membership, "delete", membership.pk)).status_code == 403


def test_habilitation_service_must_belong_to_structure(operator_client, structure, principal_manager):
    other_service = factories.ServiceFactory()
    profile = Profile.objects.get(application__code="FACTURE_EMISE", level=Level.CONSULTATION)
    response = operator_client.post(
        admin_url(Habilitation, "add"),
        {
            "user": principal_manager.pk,
            "structure": structure.pk,
            "service": other_service.pk,
            "profile": profile.pk,
        },
    )
    assert response.status_code == 200
    assert "service" in response.context["adminform"].form.errors
    assert not Habilitation.objects.exists()


def test_reserved_service_code_is_refused(operator_client, structure):
    response = operator_client.post(
        admin_url(Service, "add"),
        {
            "structure": structure.pk,
            "code": "FACTURES_PUBLIQUES",
            "name": "Réservé",
            "country": "FR",
            "is_active": "on",
        },
    )
    assert response.status_code == 200
    assert "code" in response.context["adminform"].form.errors
    assert not Service.objects.exists()


def test_principal_manager_autocomplete_finds_users_by_email(operator_client, structure, principal_manager):
    response = operator_client.get(
        reverse("admin:autocomplete"),
        {
            "app_label": "structures",
            "model_name": "structure",
            "field_name": "principal_manager",
            "term": "gp@",
        },
    )
    assert response.status_code == 200
    assert [result["id"] for result in response.json()["results"]] == [str(principal_manager.pk)]


# Deletions in the back-office -------------------------------------------------------


def delete_selected(client, model, pks):
    return client.post(
        admin_url(model, "changelist"),
        {"action": "delete_selected", "_selected_action": [str(pk) for pk in pks], "post": "yes"},
    )


def flash(response):
    return " ".join(str(message) for message in response.wsgi_request._messages)


def test_admin_deletion_is_audited_with_who_and_what(operator_client, operator):
    domain = Domain.objects.create(name="Domaine à supprimer", code="A_SUPPRIMER", order=99)
    domain_pk = domain.pk
    response = operator_client.post(admin_url(Domain, "delete", domain_pk), {"post": "yes"})
    assert response.status_code == 302
    assert not Domain.objects.filter(pk=domain_pk).exists()
    event = AuditEvent.objects.get(action="admin_delete")
    assert event.actor == operator
    assert (event.object_type, event.object_id) == ("chorus.Domain", str(domain_pk))
    assert event.object_repr == str(domain)
    assert audit.verify().intact


def test_admin_bulk_deletion_writes_one_record_per_object(operator_client):
    domains = [
        Domain.objects.create(name=f"Domaine {n}", code=f"DOMAINE_{n}", order=90 + n) for n in range(3)
    ]
    delete_selected(operator_client, Domain, [domain.pk for domain in domains[:2]])
    assert list(Domain.objects.filter(pk__in=[d.pk for d in domains]).values_list("pk", flat=True)) == [
        domains[2].pk
    ]
    deleted = AuditEvent.objects.filter(action="admin_delete").values_list("object_id", flat=True)
    assert sorted(deleted) == sorted(str(domain.pk) for domain in domains[:2])
    assert audit.verify().intact


def test_deleting_a_library_model_in_the_admin_is_audited_too(operator_client, principal_manager):
    """Every admin of the site records its deletions, also those the portal does not write
    (here a two-factor device)."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.create(user=principal_manager, name="téléphone")
    operator_client.post(admin_url(TOTPDevice, "delete", device.pk), {"post": "yes"})
    assert not TOTPDevice.objects.filter(pk=device.pk).exists()
    event = AuditEvent.objects.get(action="admin_delete")
    assert (event.object_type, event.object_id) == ("otp_totp.TOTPDevice", str(device.pk))


def test_admin_deletion_of_a_structure_keeps_the_chain_intact(operator_client, operator):
    structure = factories.StructureFactory()
    audit.record(actor=operator, obj=structure, action="avant")
    structure_pk = structure.pk
    response = operator_client.post(admin_url(Structure, "delete", structure_pk), {"post": "yes"})
    assert response.status_code == 302
    assert not Structure.objects.filter(pk=structure_pk).exists()
    event = AuditEvent.objects.get(action="admin_delete")
    assert event.structure is None and event.structure_id_value == structure_pk
    assert audit.verify().intact


def test_admin_deletion_of_a_user_without_history_is_allowed_and_audited(operator_client, operator):
    unused = factories.UserFactory(email="jamais.servi@exemple.fr")
    unused_pk = unused.pk
    response = operator_client.post(admin_url(User, "delete", unused_pk), {"post": "yes"})
    assert response.status_code == 302
    assert not User.objects.filter(pk=unused_pk).exists()
    event = AuditEvent.objects.get(action="admin_delete")
    assert (event.object_type, event.object_id, event.actor) == ("users.User", str(unused_pk), operator)
    assert audit.verify().intact


@pytest.mark.parametrize("method", ["get", "post"])
def test_admin_refuses_to_delete_a_user_with_history(operator_client, principal_manager, method):
    url = admin_url(User, "delete", principal_manager.pk)
    response = getattr(operator_client, method)(url, {"post": "yes"} if method == "post" else None)
    assert response.status_code == 302
    assert response.url == f"{admin_url(User, 'changelist')}?id__exact={principal_manager.pk}"
    listed = operator_client.get(response.url)
    assert listed.status_code == 200 and list(listed.context["cl"].result_list) == [principal_manager]
    message = flash(response)
    assert "historique" in message and "Désactiver" in message
    assert User.objects.filter(pk=principal_manager.pk).exists()
    assert not AuditEvent.objects.filter(action="admin_delete").exists()


def test_admin_bulk_deletion_refused_when_one_user_has_history(operator_client, principal_manager):
    unused = factories.UserFactory()
    response = delete_selected(operator_client, User, [unused.pk, principal_manager.pk])
    assert response.status_code == 302
    message = flash(response)
    assert principal_manager.email in message and "Désactiver" in message
    assert User.objects.filter(pk__in=[unused.pk, principal_manager.pk]).count() == 2
    assert not AuditEvent.objects.filter(action="admin_delete").exists()


def test_admin_deactivates_selected_users_and_audits_each(operator_client, operator, principal_manager):
    other = factories.UserFactory()
    already = factories.UserFactory(is_active=False)
    other_session = Client()
    other_session.force_login(other)
    assert other_session.get(reverse("users:deactivate")).status_code == 200
    response = operator_client.post(
        admin_url(User, "changelist"),
        {
            "action": "deactivate",
            "_selected_action": [str(principal_manager.pk), str(other.pk), str(already.pk)],
        },
    )
    assert response.status_code == 302
    assert "2 comptes désactivés" in flash(response)
    assert not User.objects.filter(pk__in=[principal_manager.pk, other.pk], is_active=True).exists()
    events = AuditEvent.objects.filter(action="user_deactivate")
    assert sorted(events.values_list("object_id", flat=True)) == sorted(
        [str(principal_manager.pk), str(other.pk)]
    )
    assert {event.actor for event in events} == {operator}
    assert events.first().changes == {"is_active": {"before": True, "after": False}}
    # Their open session ends: the next page asks them to log in.
    response = other_session.get(reverse("users:deactivate"))
    assert response.status_code == 302 and response.url.startswith(reverse("users:login"))


def test_admin_does_not_deactivate_the_operators_own_account(operator_client, operator):
    response = operator_client.post(
        admin_url(User, "changelist"), {"action": "deactivate", "_selected_action": [str(operator.pk)]}
    )
    assert response.status_code == 302
    assert "votre propre compte" in flash(response)
    operator.refresh_from_db()
    assert operator.is_active
    assert not AuditEvent.objects.filter(action="user_deactivate").exists()


def test_audit_list_shows_each_action_in_french_words(operator_client, principal_manager):
    audit.record(actor=principal_manager, obj=principal_manager, action="ticket_submit")
    audit.record(actor=principal_manager, obj=principal_manager, action="two_factor_enable")
    response = operator_client.get(admin_url(AuditEvent, "changelist"))
    content = response.content.decode()
    assert "Envoi d’un ticket" in content
    assert "Activation de la double authentification" in content
    # Neither in the rows nor in the filter by action.
    assert ">ticket_submit<" not in content and ">two_factor_enable<" not in content
    assert "Envoi d’un ticket</a>" in content  # the filter choice
    filtered = operator_client.get(admin_url(AuditEvent, "changelist"), {"action": "ticket_submit"})
    assert [event.action for event in filtered.context["cl"].result_list] == ["ticket_submit"]


def test_audit_record_page_shows_the_action_in_french_words(operator_client, principal_manager):
    event = audit.record(actor=principal_manager, obj=principal_manager, action="ticket_submit")
    content = operator_client.get(admin_url(AuditEvent, "change", event.pk)).content.decode()
    assert "Envoi d’un ticket" in content


def test_audit_record_names_its_action_in_french_words(db):
    from chorus import audit
    from tests import factories

    user = factories.UserFactory(email="gp@exemple.fr")
    event = audit.record(actor=user, obj=user, action="user_deactivate")
    assert "user_deactivate" not in str(event)
    assert "Désactivation d’un compte" in str(event)
