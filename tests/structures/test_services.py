"""Créer / gérer un service: creation, list, modification, activation, deactivation and
deletion, with the permission matrix of every view."""

import datetime

import pytest
from django.urls import reverse

from chorus.models import AuditEvent, Level
from structures.models import Service, Structure
from structures.services import units
from tests import factories
from users.models import Membership

CREATE_URL = "/organisation/structure/services/nouveau/"
LIST_URL = "/organisation/structure/services/"

DUPLICATE = "Ce code de service existe déjà dans cette structure."
HAS_HISTORY = "Ce service a des utilisateurs ou un historique : il est désactivé, pas supprimé."
INACTIVE = "Cette structure est désactivée"


def _login(client, user):
    client.force_login(user)
    return client


def _messages(response):
    return [str(message) for message in response.context["messages"]]


def _data(structure, **overrides):
    data = {
        "structure": structure.pk,
        "code": "compta-1",
        "name": "Service comptabilité",
        "description": "Reçoit les factures de fournitures.",
        "address": "1 rue de la Paix",
        "address_complement_1": "Bâtiment B",
        "address_complement_2": "",
        "postcode": "75002",
        "city": "Paris",
        "country": "fr",
        "valid_from": "2026-01-01",
        "valid_until": "2026-12-31",
        "commitment_required": "on",
        "is_active": "on",
    }
    data.update(overrides)
    return data


def _update_data(service, **overrides):
    data = {
        "name": service.name,
        "description": service.description,
        "address": service.address,
        "address_complement_1": "",
        "address_complement_2": "",
        "postcode": service.postcode,
        "city": service.city,
        "country": service.country,
        "valid_from": "",
        "valid_until": "",
        "is_active": "on" if service.is_active else "",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value != ""}


@pytest.fixture
def service(structure, principal_manager):
    return factories.ServiceFactory(structure=structure, code="ACHATS", name="Service achats")


def _url(name, service):
    return reverse(f"structures:{name}", args=[service.pk])


# URLs


def test_service_pages_are_at_french_paths():
    assert reverse("structures:service_create") == CREATE_URL
    assert reverse("structures:service_list") == LIST_URL
    assert reverse("structures:service_update", args=[3]) == "/organisation/structure/services/3/modifier/"
    assert (
        reverse("structures:service_deactivate", args=[3]) == "/organisation/structure/services/3/desactiver/"
    )
    assert reverse("structures:service_activate", args=[3]) == "/organisation/structure/services/3/activer/"
    assert reverse("structures:service_delete", args=[3]) == "/organisation/structure/services/3/supprimer/"


# Permission matrix

OBJECT_VIEWS = ["service_update", "service_deactivate", "service_activate", "service_delete"]


@pytest.mark.parametrize("url", [CREATE_URL, LIST_URL])
def test_anonymous_visitor_is_sent_to_login(client, db, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("users:login"))


@pytest.mark.parametrize("name", OBJECT_VIEWS)
def test_anonymous_visitor_is_sent_to_login_from_a_service(client, service, name):
    response = client.get(_url(name, service))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("users:login"))


def test_consultation_user_cannot_create_service(client, structure, consultation_user):
    _login(client, consultation_user)
    assert client.get(CREATE_URL).status_code == 403
    assert client.post(CREATE_URL, _data(structure)).status_code == 403
    assert not Service.objects.exists()


@pytest.mark.parametrize("name", OBJECT_VIEWS)
def test_consultation_user_cannot_change_a_service(client, service, consultation_user, name):
    _login(client, consultation_user)
    assert client.get(_url(name, service)).status_code == 403
    assert client.post(_url(name, service), _update_data(service, name="Changé")).status_code == 403
    service.refresh_from_db()
    assert (service.name, service.is_active) == ("Service achats", True)


def test_consultation_user_sees_the_list_without_actions(client, structure, service, consultation_user):
    _login(client, consultation_user)
    response = client.get(LIST_URL)
    assert response.status_code == 200
    assert response.context["structure"] == structure
    assert [s.code for s in response.context["page_obj"]] == ["ACHATS"]
    assert response.context["can_change"] is False
    assert _url("service_update", service) not in response.content.decode()
    assert f"{CREATE_URL}?structure=" not in response.content.decode()


def test_attached_user_without_organisation_profile_cannot_open_the_list(
    client, structure, principal_manager
):
    user = factories.UserFactory()
    factories.attach(user, structure)
    _login(client, user)
    assert client.get(LIST_URL).status_code == 403
    assert client.get(CREATE_URL).status_code == 403


@pytest.mark.parametrize("name", OBJECT_VIEWS)
def test_user_of_another_structure_gets_404(client, service, other_structure_user, name):
    _login(client, other_structure_user)
    assert client.get(_url(name, service)).status_code == 404
    assert client.post(_url(name, service), _update_data(service, name="Changé")).status_code == 404
    service.refresh_from_db()
    assert Service.objects.filter(pk=service.pk, name="Service achats", is_active=True).exists()


def test_user_of_another_structure_cannot_list_our_services(client, structure, service, other_structure_user):
    _login(client, other_structure_user)
    response = client.get(LIST_URL, {"structure": structure.pk})
    assert response.status_code == 200
    assert response.context["page_obj"] is None
    assert "Sélectionnez un choix valide" in str(response.context["filter_form"].errors["structure"])
    assert "ACHATS" not in response.content.decode()


def test_user_of_another_structure_cannot_create_in_our_structure(client, structure, other_structure_user):
    _login(client, other_structure_user)
    response = client.get(CREATE_URL)
    assert response.status_code == 200
    assert structure not in response.context["form"].fields["structure"].queryset
    response = client.post(CREATE_URL, _data(structure))
    assert response.status_code == 200
    assert "Sélectionnez un choix valide" in str(response.context["form"].errors["structure"])
    assert not Service.objects.exists()


@pytest.mark.parametrize("persona", ["principal_manager", "delegate"])
def test_managers_open_every_service_page(client, request, service, persona):
    _login(client, request.getfixturevalue(persona))
    assert client.get(CREATE_URL).status_code == 200
    assert client.get(LIST_URL).status_code == 200
    for name in OBJECT_VIEWS:
        assert client.get(_url(name, service)).status_code == 200, name


# Créer un service


def test_principal_manager_creates_a_service(client, structure, principal_manager):
    _login(client, principal_manager)
    response = client.post(CREATE_URL, _data(structure))
    assert response.status_code == 302
    assert response["Location"] == f"{LIST_URL}?structure={structure.pk}"
    service = Service.objects.get()
    assert service.structure == structure
    assert service.code == "COMPTA-1"  # normalised to upper case
    assert service.name == "Service comptabilité"
    assert service.address_complement_1 == "Bâtiment B"
    assert service.country == "FR"
    assert service.valid_from == datetime.date(2026, 1, 1)
    assert service.valid_until == datetime.date(2026, 12, 31)
    assert service.commitment_required is True
    assert service.is_active is True
    event = AuditEvent.objects.get(action="service_create")
    assert event.actor == principal_manager
    assert event.structure == structure
    assert event.changes["code"] == {"before": None, "after": "COMPTA-1"}
    followed = client.get(response["Location"])
    assert "Le service COMPTA-1 a été créé dans la structure" in " ".join(_messages(followed))


def test_delegate_creates_a_service(client, structure, delegate):
    _login(client, delegate)
    response = client.post(CREATE_URL, _data(structure, code="RH"))
    assert response.status_code == 302
    assert Service.objects.get().code == "RH"


def test_create_form_preselects_the_structure_from_the_list(client, structure, principal_manager):
    _login(client, principal_manager)
    response = client.get(CREATE_URL, {"structure": structure.pk})
    assert response.context["form"]["structure"].value() == structure.pk


def test_create_form_ends_with_soumettre_and_warns_on_leaving(client, structure, principal_manager):
    _login(client, principal_manager)
    content = client.get(CREATE_URL).content.decode()
    assert "data-warn-unsaved" in content
    assert '<button class="fr-btn" type="submit">Soumettre</button>' in content
    assert "Il ne pourra plus être modifié." in content  # the code's help text
    assert 'class="fr-select"' in content  # the structure select, added after init, is styled


def test_duplicate_code_is_refused(client, structure, principal_manager):
    factories.ServiceFactory(structure=structure, code="COMPTA-1", name="Existant")
    _login(client, principal_manager)
    response = client.post(CREATE_URL, _data(structure, code="Compta-1"))
    assert response.status_code == 200
    assert DUPLICATE in response.context["form"].errors["code"]
    assert Service.objects.count() == 1
    assert not AuditEvent.objects.filter(action="service_create").exists()


def test_same_code_in_another_structure_is_accepted(client, structure, principal_manager):
    factories.ServiceFactory(code="COMPTA-1")
    _login(client, principal_manager)
    assert client.post(CREATE_URL, _data(structure)).status_code == 302
    assert Service.objects.filter(code="COMPTA-1").count() == 2


@pytest.mark.parametrize("code", ["FACTURES_PUBLIQUES", "factures_publiques"])
def test_reserved_code_is_refused(client, structure, principal_manager, code):
    _login(client, principal_manager)
    response = client.post(CREATE_URL, _data(structure, code=code))
    assert response.status_code == 200
    assert "Le code FACTURES_PUBLIQUES est réservé" in str(response.context["form"].errors["code"])
    assert not Service.objects.exists()


@pytest.mark.parametrize("code", ["COMPTA 1", "SERVICE_É", "A/B", "  "])
def test_code_with_other_characters_is_refused(client, structure, principal_manager, code):
    _login(client, principal_manager)
    response = client.post(CREATE_URL, _data(structure, code=code))
    assert response.status_code == 200
    assert response.context["form"].errors["code"]
    assert not Service.objects.exists()


def test_code_with_accent_gets_the_characters_message(client, structure, principal_manager):
    _login(client, principal_manager)
    response = client.post(CREATE_URL, _data(structure, code="ÉTUDES"))
    assert "Le code ne peut contenir que des lettres sans accent" in str(
        response.context["form"].errors["code"]
    )
    assert not Service.objects.exists()


def test_reversed_validity_dates_are_refused(client, structure, principal_manager):
    _login(client, principal_manager)
    response = client.post(CREATE_URL, _data(structure, valid_from="2026-12-31", valid_until="2026-01-01"))
    assert response.status_code == 200
    assert (
        "La date de fin de validité doit être postérieure ou égale à la date de début."
        in response.context["form"].errors["valid_until"]
    )
    assert not Service.objects.exists()


def test_same_day_validity_is_accepted(client, structure, principal_manager):
    _login(client, principal_manager)
    response = client.post(CREATE_URL, _data(structure, valid_from="2026-03-01", valid_until="2026-03-01"))
    assert response.status_code == 302


@pytest.mark.parametrize("country", ["F1", "9Z"])
def test_invalid_country_is_refused(client, structure, principal_manager, country):
    _login(client, principal_manager)
    response = client.post(CREATE_URL, _data(structure, country=country))
    assert response.status_code == 200
    assert "code ISO à deux lettres" in str(response.context["form"].errors["country"])
    assert not Service.objects.exists()


def test_missing_label_is_refused(client, structure, principal_manager):
    _login(client, principal_manager)
    response = client.post(CREATE_URL, _data(structure, name=""))
    assert response.status_code == 200
    assert response.context["form"].errors["name"]
    assert not Service.objects.exists()


def test_structure_id_of_another_user_typed_by_hand_is_an_invalid_choice(client, principal_manager):
    foreign = factories.StructureFactory(with_principal_manager=True)
    _login(client, principal_manager)
    response = client.post(CREATE_URL, _data(foreign))
    assert response.status_code == 200
    assert "Sélectionnez un choix valide" in str(response.context["form"].errors["structure"])
    assert not Service.objects.exists()


def test_creating_a_service_in_an_inactive_structure_is_refused(client, structure, principal_manager):
    Structure.objects.filter(pk=structure.pk).update(status=Structure.Status.INACTIVE)
    _login(client, principal_manager)
    response = client.post(CREATE_URL, _data(structure))
    assert response.status_code == 200
    errors = str(response.context["form"].errors["structure"])
    assert INACTIVE in errors
    assert "Activer une structure" in errors
    assert not Service.objects.exists()


# Gérer un service: the list


def test_list_shows_the_services_of_the_only_structure_at_once(client, structure, principal_manager):
    service = factories.ServiceFactory(
        structure=structure,
        code="ACHATS",
        name="Achats",
        commitment_required=True,
        valid_from=datetime.date(2026, 1, 1),
        valid_until=datetime.date(2026, 6, 30),
    )
    member = factories.UserFactory()
    factories.attach(member, structure, service=service)
    Membership.objects.create(
        user=factories.UserFactory(), structure=structure, service=service, status=Membership.Status.REFUSEE
    )
    _login(client, principal_manager)
    response = client.get(LIST_URL)
    assert response.status_code == 200
    rows = list(response.context["page_obj"])
    assert [row.code for row in rows] == ["ACHATS"]
    assert rows[0].member_count == 1  # validated members only
    content = response.content.decode()
    assert "du 01/01/2026 au 30/06/2026" in content
    assert _url("service_update", service) in content
    assert f"{CREATE_URL}?structure={structure.pk}" in content


def test_list_asks_to_choose_among_several_structures(client, structure, principal_manager):
    second = factories.StructureFactory()
    factories.attach(principal_manager, second)
    _login(client, principal_manager)
    response = client.get(LIST_URL)
    assert response.status_code == 200
    assert response.context["structure"] is None
    assert "Choisissez une structure pour afficher ses services." in response.content.decode()
    choices = set(response.context["filter_form"].fields["structure"].queryset)
    assert choices == {structure, second}


def test_list_filters_by_text_and_status(client, structure, principal_manager):
    factories.ServiceFactory(structure=structure, code="ACHATS", name="Achats")
    factories.ServiceFactory(structure=structure, code="RH", name="Ressources humaines", is_active=False)
    factories.ServiceFactory(structure=structure, code="INFO", name="Informatique achats")
    _login(client, principal_manager)

    def codes(**params):
        response = client.get(LIST_URL, {"structure": structure.pk, **params})
        return [service.code for service in response.context["page_obj"]]

    assert codes() == ["ACHATS", "INFO", "RH"]
    assert codes(q="achats") == ["ACHATS", "INFO"]
    assert codes(q="humaines") == ["RH"]
    assert codes(status="actif") == ["ACHATS", "INFO"]
    assert codes(status="inactif") == ["RH"]
    assert codes(q="achats", status="inactif") == []


def test_list_is_paginated_by_25(client, structure, principal_manager):
    for n in range(30):
        factories.ServiceFactory(structure=structure, code=f"S{n:02d}")
    _login(client, principal_manager)
    first = client.get(LIST_URL, {"structure": structure.pk})
    assert len(first.context["page_obj"]) == 25
    assert 'class="fr-pagination"' in first.content.decode()
    second = client.get(LIST_URL, {"structure": structure.pk, "page": 2})
    assert [s.code for s in second.context["page_obj"]] == [f"S{n:02d}" for n in range(25, 30)]


def test_list_of_an_inactive_structure_is_readable_without_actions(
    client, structure, service, principal_manager
):
    Structure.objects.filter(pk=structure.pk).update(status=Structure.Status.INACTIVE)
    _login(client, principal_manager)
    response = client.get(LIST_URL)
    content = response.content.decode()
    assert "ACHATS" in content
    assert INACTIVE in content
    assert _url("service_update", service) not in content
    assert f"{CREATE_URL}?structure=" not in content


@pytest.mark.parametrize("count", [1, 100])
def test_list_query_count_does_not_grow_with_services(
    client, structure, principal_manager, django_assert_max_num_queries, count
):
    for n in range(count):
        service = factories.ServiceFactory(structure=structure, code=f"S{n:03d}")
        factories.attach(factories.UserFactory(), structure, service=service)
    _login(client, principal_manager)
    # Session, user, access context, structure choice, count and page: never one per row.
    with django_assert_max_num_queries(12):
        response = client.get(LIST_URL, {"structure": structure.pk})
    assert response.status_code == 200
    assert len(response.context["page_obj"]) == min(count, 25)


def test_list_query_count_is_the_same_with_1_and_100_services(client, structure, principal_manager):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    _login(client, principal_manager)

    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert client.get(LIST_URL, {"structure": structure.pk}).status_code == 200
        return len(captured)

    factories.attach(
        factories.UserFactory(), structure, service=factories.ServiceFactory(structure=structure)
    )
    one = queries()
    for n in range(99):
        service = factories.ServiceFactory(structure=structure, code=f"S{n:03d}")
        factories.attach(factories.UserFactory(), structure, service=service)
    assert queries() == one


# Modifier un service


def test_principal_manager_updates_a_service(client, structure, service, principal_manager):
    _login(client, principal_manager)
    response = client.post(
        _url("service_update", service),
        _update_data(service, name="Achats et marchés", city="Lyon", valid_from="2026-02-01", code="AUTRE"),
    )
    assert response.status_code == 302
    assert response["Location"] == f"{LIST_URL}?structure={structure.pk}"
    service.refresh_from_db()
    assert service.name == "Achats et marchés"
    assert service.city == "Lyon"
    assert service.valid_from == datetime.date(2026, 2, 1)
    assert service.code == "ACHATS"  # read-only after creation
    event = AuditEvent.objects.get(action="service_update")
    assert event.changes["name"] == {"before": "Service achats", "after": "Achats et marchés"}
    assert "code" not in event.changes
    assert "Le service ACHATS a été modifié." in _messages(client.get(response["Location"]))


def test_update_page_shows_the_code_read_only(client, service, delegate):
    _login(client, delegate)
    response = client.get(_url("service_update", service))
    assert "code" not in response.context["form"].fields
    assert "il ne peut plus être modifié" in response.content.decode()


def test_update_with_reversed_dates_is_refused(client, service, principal_manager):
    _login(client, principal_manager)
    response = client.post(
        _url("service_update", service),
        _update_data(service, valid_from="2026-05-01", valid_until="2026-04-01"),
    )
    assert response.status_code == 200
    assert (
        "La date de fin de validité doit être postérieure ou égale à la date de début."
        in response.context["form"].errors["valid_until"]
    )
    service.refresh_from_db()
    assert service.valid_from is None
    assert not AuditEvent.objects.filter(action="service_update").exists()


def test_update_without_change_records_nothing(client, service, principal_manager):
    _login(client, principal_manager)
    response = client.post(_url("service_update", service), _update_data(service))
    assert response.status_code == 302
    assert not AuditEvent.objects.filter(action="service_update").exists()


def test_updating_a_service_of_an_inactive_structure_is_refused(
    client, structure, service, principal_manager
):
    Structure.objects.filter(pk=structure.pk).update(status=Structure.Status.INACTIVE)
    _login(client, principal_manager)
    page = client.get(_url("service_update", service))
    assert INACTIVE in page.content.decode()
    assert page.context["form"] is None
    response = client.post(_url("service_update", service), _update_data(service, name="Changé"))
    assert response.status_code == 200
    assert INACTIVE in response.content.decode()
    service.refresh_from_db()
    assert service.name == "Service achats"


# Activer / désactiver


def test_principal_manager_deactivates_then_activates_a_service(
    client, structure, service, principal_manager
):
    _login(client, principal_manager)
    page = client.get(_url("service_deactivate", service))
    assert "Voulez-vous désactiver le service ACHATS ?" in page.content.decode()
    service.refresh_from_db()
    assert service.is_active  # a GET changes nothing

    response = client.post(_url("service_deactivate", service))
    assert response.status_code == 302
    service.refresh_from_db()
    assert service.is_active is False
    assert "Le service ACHATS a été désactivé." in _messages(client.get(response["Location"]))
    event = AuditEvent.objects.get(action="service_deactivate")
    assert event.changes == {"is_active": {"before": True, "after": False}}
    assert event.structure == structure

    response = client.post(_url("service_activate", service))
    assert response.status_code == 302
    service.refresh_from_db()
    assert service.is_active is True
    assert AuditEvent.objects.filter(action="service_activate").count() == 1


def test_deactivating_an_inactive_service_is_refused(client, service, delegate):
    Service.objects.filter(pk=service.pk).update(is_active=False)
    _login(client, delegate)
    response = client.post(_url("service_deactivate", service))
    assert response.status_code == 200
    assert "Ce service est déjà désactivé." in response.content.decode()
    assert not AuditEvent.objects.filter(action="service_deactivate").exists()


def test_deactivating_a_service_of_an_inactive_structure_is_refused(
    client, structure, service, principal_manager
):
    Structure.objects.filter(pk=structure.pk).update(status=Structure.Status.INACTIVE)
    _login(client, principal_manager)
    response = client.post(_url("service_deactivate", service))
    assert response.status_code == 200
    assert INACTIVE in response.content.decode()
    service.refresh_from_db()
    assert service.is_active is True


def test_service_set_active_refuses_an_inactive_structure(structure, service, principal_manager):
    Structure.objects.filter(pk=structure.pk).update(status=Structure.Status.INACTIVE)
    with pytest.raises(units.ServiceChangeRefused, match="désactivée"):
        units.service_set_active(service=service, active=False, actor=principal_manager)
    service.refresh_from_db()
    assert service.is_active is True


# Supprimer


def test_principal_manager_deletes_a_service_without_history(client, structure, principal_manager):
    _login(client, principal_manager)
    client.post(CREATE_URL, _data(structure, code="TEMPORAIRE"))
    service = Service.objects.get()
    page = client.get(_url("service_delete", service))
    assert "Voulez-vous supprimer le service TEMPORAIRE ?" in page.content.decode()
    response = client.post(_url("service_delete", service))
    assert response.status_code == 302
    assert not Service.objects.exists()
    event = AuditEvent.objects.get(action="service_delete")
    assert event.structure == structure
    assert event.changes["code"] == "TEMPORAIRE"
    assert "Le service TEMPORAIRE a été supprimé." in _messages(client.get(response["Location"]))


@pytest.mark.parametrize("status", list(Membership.Status))
def test_service_with_a_member_is_not_deleted(client, structure, service, principal_manager, status):
    Membership.objects.create(
        user=factories.UserFactory(), structure=structure, service=service, status=status
    )
    _login(client, principal_manager)
    page = client.get(_url("service_delete", service))
    assert HAS_HISTORY in page.content.decode()
    assert _url("service_deactivate", service) in page.content.decode()  # offered instead
    response = client.post(_url("service_delete", service))
    assert response.status_code == 200
    assert HAS_HISTORY in response.content.decode()
    assert Service.objects.filter(pk=service.pk).exists()
    assert not AuditEvent.objects.filter(action="service_delete").exists()


def test_service_with_a_habilitation_is_not_deleted(client, structure, service, principal_manager):
    factories.grant(factories.UserFactory(), structure, "FACTURE_EMISE", Level.CONSULTATION, service=service)
    _login(client, principal_manager)
    response = client.post(_url("service_delete", service))
    assert HAS_HISTORY in response.content.decode()
    assert Service.objects.filter(pk=service.pk).exists()


def test_service_changed_after_its_creation_is_not_deleted(client, service, principal_manager):
    _login(client, principal_manager)
    client.post(_url("service_deactivate", service))
    response = client.post(_url("service_delete", service))
    assert HAS_HISTORY in response.content.decode()
    assert Service.objects.filter(pk=service.pk).exists()


def test_service_delete_refuses_a_service_with_history(structure, service, principal_manager):
    factories.attach(factories.UserFactory(), structure, service=service)
    with pytest.raises(units.ServiceChangeRefused, match="historique"):
        units.service_delete(service=service, actor=principal_manager)
    assert Service.objects.filter(pk=service.pk).exists()
