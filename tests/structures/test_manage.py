"""Gérer une structure: the type-de-demande page, search, detail, update, activation,
deactivation and history."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from chorus import audit
from chorus.models import AuditEvent, Level
from structures.models import Structure
from structures.services.manage import StructureStateError, structure_activate, structure_deactivate
from tests import factories
from tests.sirene.standin import running_standin

MANAGE_URL = "/organisation/structure/"
OPEN_SIRET = "81234567600017"  # open in the Sirene stand-in


def _login(client, user):
    client.force_login(user)
    return client


def _url(name, structure):
    return reverse(f"structures:{name}", args=[structure.pk])


def _count_queries(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


def _messages(response):
    return [str(message) for message in response.context["messages"]] if response.context else []


# URLs


def test_manage_page_is_at_the_french_path():
    assert reverse("structures:manage") == MANAGE_URL
    assert reverse("structures:detail", args=[7]) == "/organisation/structure/7/"
    assert reverse("structures:update", args=[7]) == "/organisation/structure/7/modifier/"
    assert reverse("structures:activate", args=[7]) == "/organisation/structure/7/activer/"
    assert reverse("structures:deactivate", args=[7]) == "/organisation/structure/7/desactiver/"
    assert reverse("structures:history", args=[7]) == "/organisation/structure/7/historique/"


# Permission matrix


OBJECT_VIEWS = ["detail", "update", "activate", "deactivate", "history"]
CHANGE_VIEWS = ["update", "activate", "deactivate", "history"]


@pytest.mark.parametrize("name", OBJECT_VIEWS)
def test_anonymous_visitor_is_sent_to_login(client, structure, name):
    response = client.get(_url(name, structure))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("users:login"))


def test_anonymous_visitor_is_sent_to_login_from_the_manage_page(client, db):
    response = client.get(MANAGE_URL)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("users:login"))


def test_user_without_any_structure_cannot_open_the_manage_page(client, db):
    _login(client, factories.UserFactory())
    assert client.get(MANAGE_URL).status_code == 403


@pytest.mark.parametrize("name", OBJECT_VIEWS)
def test_user_of_another_structure_gets_404(client, structure, principal_manager, other_structure_user, name):
    _login(client, other_structure_user)
    assert client.get(_url(name, structure)).status_code == 404
    assert client.post(_url(name, structure)).status_code in (404, 405)
    structure.refresh_from_db()
    assert structure.status == Structure.Status.ACTIVE


@pytest.mark.parametrize("name", CHANGE_VIEWS)
def test_consultation_user_cannot_open_modification_views(client, structure, consultation_user, name):
    _login(client, consultation_user)
    assert client.get(_url(name, structure)).status_code == 403
    assert client.post(_url(name, structure), {"email": "x@exemple.fr"}).status_code == 403
    structure.refresh_from_db()
    assert structure.status == Structure.Status.ACTIVE
    assert structure.email == ""


def test_consultation_user_reads_the_detail_without_action_links(client, structure, consultation_user):
    _login(client, consultation_user)
    response = client.get(_url("detail", structure))
    assert response.status_code == 200
    content = response.content.decode()
    assert structure.identifier in content
    for name in CHANGE_VIEWS:
        assert _url(name, structure) not in content


def test_consultation_user_of_one_structure_gets_404_on_history_of_it_when_gp_elsewhere(
    client, structure, consultation_user
):
    # Modification held on another structure opens the view, not this structure's history.
    own = factories.StructureFactory()
    factories.attach(consultation_user, own)
    _login(client, consultation_user)
    assert client.get(_url("history", own)).status_code == 200
    assert client.get(_url("history", structure)).status_code == 404


@pytest.mark.parametrize("persona", ["principal_manager", "delegate"])
@pytest.mark.parametrize("name", OBJECT_VIEWS)
def test_managers_open_every_view(client, request, structure, persona, name):
    _login(client, request.getfixturevalue(persona))
    if name == "activate":
        structure.status = Structure.Status.INACTIVE
        structure.save()
    response = client.get(_url(name, structure))
    assert response.status_code == 200


@pytest.mark.parametrize("persona", ["principal_manager", "delegate"])
def test_managers_see_action_links_on_the_detail(client, request, structure, persona):
    _login(client, request.getfixturevalue(persona))
    content = client.get(_url("detail", structure)).content.decode()
    for name in ["update", "deactivate", "history"]:
        assert _url(name, structure) in content
    assert _url("activate", structure) not in content


@pytest.mark.parametrize(
    "persona", ["principal_manager", "delegate", "consultation_user", "other_structure_user"]
)
def test_every_user_with_a_structure_opens_the_manage_page(client, request, structure, persona):
    _login(client, request.getfixturevalue(persona))
    assert client.get(MANAGE_URL).status_code == 200


def test_history_and_detail_refuse_post(client, structure, principal_manager):
    _login(client, principal_manager)
    assert client.post(_url("history", structure)).status_code == 405
    assert client.post(_url("detail", structure)).status_code == 405


# Type de demande


def test_consultation_user_is_offered_only_consultation(client, structure, consultation_user):
    _login(client, consultation_user)
    form = client.get(MANAGE_URL).context["form"]
    assert [value for value, _label in form.fields["type"].choices] == ["consulter"]
    assert "structure" not in form.fields


def test_manager_is_offered_every_type_and_only_their_structures(
    client, structure, principal_manager, other_structure_user
):
    _login(client, principal_manager)
    response = client.get(MANAGE_URL)
    form = response.context["form"]
    assert [label for _value, label in form.fields["type"].choices] == [
        "Consulter / rechercher une structure",
        "Modifier une structure",
        "Activer une structure",
        "Mettre à jour depuis la base INSEE",
        "Désactiver une structure",
    ]
    assert list(form.fields["structure"].queryset) == [structure]
    content = response.content.decode()
    assert "Type de demande" in content
    assert 'name="valider"' in content
    # Choosing submits the form at once with JavaScript; without it, the buttons stay.
    assert "js/choosers.js" in content
    assert "data-chooser-button" in content


def test_structure_choice_excludes_structures_held_in_consultation_only(client, structure, consultation_user):
    managed = factories.StructureFactory()
    factories.attach(consultation_user, managed)
    _login(client, consultation_user)
    form = client.get(MANAGE_URL).context["form"]
    assert list(form.fields["structure"].queryset) == [managed]


def _manage_url(request_type, structure):
    return f"{MANAGE_URL}?type={request_type}&structure={structure.pk}"


@pytest.mark.parametrize(
    "request_type, title, button",
    [
        ("modifier", "Modifier une structure", "Contact et catégorie"),
        ("activer", "Activer une structure", "La structure est déjà active."),
        ("desactiver", "Désactiver une structure", "La structure ne pourra plus émettre"),
    ],
)
@pytest.mark.parametrize("valider", [False, True])
def test_choosing_a_request_shows_its_form_under_the_choice(
    client, structure, principal_manager, request_type, title, button, valider
):
    _login(client, principal_manager)
    query = {"type": request_type, "structure": structure.pk, **({"valider": "1"} if valider else {})}
    response = client.get(MANAGE_URL, query)
    assert response.status_code == 200
    content = response.content.decode()
    assert f'<h2 id="titre-demande">{title}</h2>' in content
    assert button in content
    # The choice stays at the top of the same page.
    assert response.context["form"].data["structure"] == str(structure.pk)
    assert response.context["panel"]["action"] == _manage_url(request_type, structure)


def test_insee_request_shows_the_differences_under_the_choice(client, structure, principal_manager, settings):
    Structure.objects.filter(pk=structure.pk).update(identifier=OPEN_SIRET, city="Ailleurs")
    _login(client, principal_manager)
    with running_standin(settings):
        response = client.get(_manage_url("insee", structure))
    content = response.content.decode()
    assert '<h2 id="titre-demande">Mettre à jour depuis la base INSEE</h2>' in content
    assert "Différences avec la base INSEE" in content
    assert f'action="{MANAGE_URL}?type=insee&amp;structure={structure.pk}"' in content


def test_the_form_shown_in_place_saves_at_the_same_address(client, structure, principal_manager):
    _login(client, principal_manager)
    page = client.get(_manage_url("modifier", structure)).content.decode()
    assert f'action="{MANAGE_URL}?type=modifier&amp;structure={structure.pk}"' in page
    response = client.post(_manage_url("modifier", structure), _update_data())
    assert response.status_code == 302
    assert response["Location"] == _url("detail", structure)
    structure.refresh_from_db()
    assert structure.email == "contact@structure.fr"
    assert AuditEvent.objects.filter(action="structure_update", structure=structure).count() == 1


def test_a_bad_value_in_place_is_refused_on_the_same_page(client, structure, principal_manager):
    _login(client, principal_manager)
    response = client.post(_manage_url("modifier", structure), _update_data(phone="12"))
    assert response.status_code == 200
    assert "Saisissez un numéro de téléphone français" in response.content.decode()
    assert response.context["form"].data["type"] == "modifier"
    structure.refresh_from_db()
    assert structure.phone == ""
    assert not AuditEvent.objects.filter(action="structure_update").exists()


def test_deactivating_in_place(client, structure, principal_manager):
    _login(client, principal_manager)
    response = client.post(_manage_url("desactiver", structure), follow=True)
    assert "est désactivée" in response.content.decode()
    structure.refresh_from_db()
    assert structure.status == Structure.Status.INACTIVE
    assert AuditEvent.objects.filter(action="structure_deactivate").count() == 1


@pytest.mark.parametrize("request_type", ["modifier", "activer", "insee", "desactiver"])
def test_another_structure_in_the_query_is_refused_and_nothing_of_it_shown(
    client, structure, principal_manager, request_type
):
    other = factories.StructureFactory(company_name="Voisins Secrets", with_principal_manager=True)
    _login(client, principal_manager)
    response = client.get(_manage_url(request_type, other))
    assert response.status_code == 200
    assert response.context["form"].errors["structure"]
    assert response.context["panel"] is None
    assert "Voisins Secrets" not in response.content.decode()
    before = AuditEvent.objects.count()
    response = client.post(_manage_url(request_type, other), {**_update_data(), "fingerprint": "x"})
    assert response.status_code == 200
    other.refresh_from_db()
    assert other.status == Structure.Status.ACTIVE and other.email != "contact@structure.fr"
    assert AuditEvent.objects.count() == before


def test_consultation_user_cannot_post_a_request_in_place(client, structure, consultation_user):
    _login(client, consultation_user)
    response = client.post(_manage_url("desactiver", structure))
    assert response.status_code == 200
    assert response.context["panel"] is None
    structure.refresh_from_db()
    assert structure.status == Structure.Status.ACTIVE


def test_the_former_addresses_keep_serving(client, structure, principal_manager):
    _login(client, principal_manager)
    for name in ("update", "activate", "deactivate"):
        response = client.get(_url(name, structure))
        assert response.status_code == 200
        assert response.context["panel"]["action"] == _url(name, structure)


def test_changing_the_type_without_validating_only_adapts_the_page(client, structure, principal_manager):
    _login(client, principal_manager)
    response = client.get(MANAGE_URL, {"type": "modifier", "structure": ""})
    assert response.status_code == 200
    assert not response.context["form"].errors
    assert response.context["form"].initial["type"] == "modifier"
    assert "page_obj" not in response.context


def test_validating_a_change_without_structure_asks_for_it(client, structure, principal_manager):
    _login(client, principal_manager)
    response = client.get(MANAGE_URL, {"type": "modifier", "structure": "", "valider": "1"})
    assert response.status_code == 200
    assert "Choisissez la structure concernée par la demande." in response.content.decode()


def test_another_structures_id_is_an_invalid_choice(client, structure, principal_manager):
    other = factories.StructureFactory(with_principal_manager=True)
    _login(client, principal_manager)
    response = client.get(MANAGE_URL, {"type": "desactiver", "structure": other.pk, "valider": "1"})
    assert response.status_code == 200
    assert response.context["form"].errors["structure"]
    other.refresh_from_db()
    assert other.status == Structure.Status.ACTIVE


def test_consultation_user_cannot_choose_a_change_by_hand(client, structure, consultation_user):
    _login(client, consultation_user)
    response = client.get(MANAGE_URL, {"type": "modifier", "structure": structure.pk, "valider": "1"})
    assert response.status_code == 200
    assert response.context["form"].errors["type"]


def test_unknown_type_in_the_query_string_falls_back_to_consultation(client, structure, principal_manager):
    _login(client, principal_manager)
    response = client.get(MANAGE_URL, {"type": "supprimer"})
    assert response.status_code == 200
    assert response.context["consult"] is True


# Consulter / rechercher


def test_search_lists_only_the_users_structures(client, structure, principal_manager, other_structure_user):
    _login(client, principal_manager)
    response = client.get(MANAGE_URL)
    assert list(response.context["page_obj"]) == [structure]
    content = response.content.decode()
    assert structure.identifier in content
    assert "Autre structure" not in content
    assert _url("detail", structure) in content


def test_search_by_identifier_company_name_and_status(client, principal_manager, structure):
    acme = factories.StructureFactory(company_name="Acme Travaux")
    closed = factories.StructureFactory(company_name="Boulangerie", status=Structure.Status.INACTIVE)
    for other in (acme, closed):
        factories.attach(principal_manager, other)
    _login(client, principal_manager)

    def found(**params):
        return set(client.get(MANAGE_URL, params).context["page_obj"])

    assert found(identifiant=acme.identifier[-6:]) == {acme}
    assert found(raison_sociale="acme") == {acme}
    assert found(statut="INACTIVE") == {closed}
    assert found(statut="ACTIVE") == {structure, acme}
    assert found(raison_sociale="introuvable") == set()
    assert (
        "Aucune structure ne correspond à votre recherche."
        in client.get(MANAGE_URL, {"raison_sociale": "introuvable"}).content.decode()
    )


def test_search_shows_the_columns(client, structure, principal_manager):
    _login(client, principal_manager)
    content = client.get(MANAGE_URL).content.decode()
    for text in ["Identifiant", "Type d’identifiant", "Raison sociale", "Statut", "Gestionnaire principal"]:
        assert text in content
    assert str(principal_manager) in content
    assert "Paris" in content
    assert "Active" in content


def test_search_is_paginated_by_20(client, principal_manager, structure):
    for _i in range(24):
        factories.attach(principal_manager, factories.StructureFactory())
    _login(client, principal_manager)
    first = client.get(MANAGE_URL)
    assert len(first.context["page_obj"]) == 20
    assert "fr-pagination" in first.content.decode()
    assert len(client.get(MANAGE_URL, {"page": 2}).context["page_obj"]) == 5


def test_search_query_count_is_the_same_with_1_and_30_structures(client, django_assert_max_num_queries, db):
    counts = []
    for size in (1, 30):
        user = factories.UserFactory()
        for _i in range(size):
            factories.attach(user, factories.StructureFactory())
        _login(client, user)
        with django_assert_max_num_queries(12):
            counts.append(_count_queries(client, MANAGE_URL))
    assert counts[0] == counts[1]


# Detail


def test_detail_shows_identity_address_insee_manager_and_services(client, structure, principal_manager):
    structure.label = "Siège"
    structure.address = "1 rue de la Paix"
    structure.legal_category = "5710"
    structure.save()
    factories.ServiceFactory(structure=structure, code="COMPTA", name="Comptabilité")
    factories.ServiceFactory(structure=structure, code="ANCIEN", name="Ancien service", is_active=False)
    _login(client, principal_manager)
    content = client.get(_url("detail", structure)).content.decode()
    for text in ["Siège", "1 rue de la Paix", "5710", principal_manager.email, "COMPTA", "Comptabilité"]:
        assert text in content
    assert "Ancien service" in content
    assert "Paramètres de la structure publique" not in content


def test_detail_of_a_public_structure_shows_its_parameters(client, principal_manager, structure):
    public = factories.StructureFactory(public=True, is_moa=True)
    factories.attach(principal_manager, public)
    _login(client, principal_manager)
    content = client.get(_url("detail", public)).content.decode()
    assert "Paramètres de la structure publique" in content
    assert "Maître d’ouvrage (MOA)" in content


def test_inactive_structure_keeps_its_detail_readable(
    client, structure, consultation_user, principal_manager
):
    structure_deactivate(structure=structure, actor=principal_manager)
    _login(client, consultation_user)
    response = client.get(_url("detail", structure))
    assert response.status_code == 200
    assert "Structure désactivée" in response.content.decode()


def test_detail_of_an_inactive_structure_offers_activation_not_modification(
    client, structure, principal_manager
):
    structure_deactivate(structure=structure, actor=principal_manager)
    _login(client, principal_manager)
    content = client.get(_url("detail", structure)).content.decode()
    assert _url("activate", structure) in content
    assert _url("update", structure) not in content
    assert _url("history", structure) in content


# Modifier une structure


def _update_data(**overrides):
    data = {"email": "contact@structure.fr", "phone": "01 23 45 67 89", "court_fee_provider_category": ""}
    data.update(overrides)
    return data


def test_principal_manager_updates_the_structure(client, structure, principal_manager):
    _login(client, principal_manager)
    response = client.post(_url("update", structure), _update_data(phone="0123456789"))
    assert response.status_code == 302
    assert response["Location"] == _url("detail", structure)
    structure.refresh_from_db()
    assert structure.email == "contact@structure.fr"
    assert structure.phone == "01 23 45 67 89"
    event = AuditEvent.objects.get(action="structure_update")
    assert event.actor == principal_manager
    assert event.structure == structure
    assert event.changes == {
        "email": {"before": "", "after": "contact@structure.fr"},
        "phone": {"before": "", "after": "01 23 45 67 89"},
    }
    followed = client.get(response["Location"])
    assert any("ont été enregistrées" in message for message in _messages(followed))
    assert "contact@structure.fr" in followed.content.decode()


def test_delegate_updates_the_court_fee_category(client, structure, delegate):
    _login(client, delegate)
    client.post(_url("update", structure), _update_data(court_fee_provider_category="Expert"))
    structure.refresh_from_db()
    assert structure.court_fee_provider_category == "Expert"


def test_update_form_is_filled_and_shows_insee_fields_read_only(client, structure, principal_manager):
    structure.email = "avant@structure.fr"
    structure.rcs_number = "RCS PARIS 123"
    structure.save()
    _login(client, principal_manager)
    response = client.get(_url("update", structure))
    content = response.content.decode()
    assert response.context["form"].initial["email"] == "avant@structure.fr"
    assert "RCS PARIS 123" in content
    assert 'name="company_name"' not in content
    assert 'name="identifier"' not in content
    assert 'name="rcs_number"' not in content
    assert "Catégorie de prestataire (mémoires de frais de justice)" in content
    assert "data-warn-unsaved" in content
    assert "Soumettre" in content
    # Public parameters are for public bodies only.
    assert 'name="is_moa"' not in content


def test_bad_phone_is_refused_with_a_french_message(client, structure, principal_manager):
    _login(client, principal_manager)
    response = client.post(_url("update", structure), _update_data(phone="12345"))
    assert response.status_code == 200
    assert "Saisissez un numéro de téléphone français" in response.content.decode()
    structure.refresh_from_db()
    assert structure.phone == "" and structure.email == ""
    assert not AuditEvent.objects.filter(action="structure_update").exists()


def test_bad_email_is_refused(client, structure, principal_manager):
    _login(client, principal_manager)
    response = client.post(_url("update", structure), _update_data(email="pas-une-adresse"))
    assert response.status_code == 200
    assert response.context["form"].errors["email"]
    structure.refresh_from_db()
    assert structure.email == ""


def test_posted_read_only_fields_are_ignored(client, structure, principal_manager, other_structure_user):
    before = Structure.objects.values().get(pk=structure.pk)
    _login(client, principal_manager)
    client.post(
        _url("update", structure),
        _update_data(
            company_name="Pirate",
            identifier="00000000000000",
            identifier_type="AUTRE",
            rcs_number="X",
            vat_number="X",
            status="INACTIVE",
            kind="PUBLIQUE",
            principal_manager=other_structure_user.pk,
            address="Ailleurs",
            postcode="99999",
            city="Nulle part",
            country="DE",
            is_moa="on",
        ),
    )
    after = Structure.objects.values().get(pk=structure.pk)
    assert after["email"] == "contact@structure.fr"
    for name in [
        "company_name",
        "identifier",
        "identifier_type",
        "rcs_number",
        "vat_number",
        "status",
        "kind",
        "principal_manager_id",
        "address",
        "postcode",
        "city",
        "country",
        "is_moa",
    ]:
        assert after[name] == before[name], name


def test_public_structure_parameters_are_editable(client, principal_manager, structure):
    public = factories.StructureFactory(public=True)
    factories.attach(principal_manager, public)
    _login(client, principal_manager)
    client.post(
        _url("update", public),
        _update_data(service_code_required="on", is_moa="on", is_moa_only="on", payment_status_managed="on"),
    )
    public.refresh_from_db()
    assert public.service_code_required and public.is_moa and public.is_moa_only
    assert public.payment_status_managed
    assert not public.commitment_required
    changes = AuditEvent.objects.get(action="structure_update").changes
    assert changes["is_moa"] == {"before": False, "after": True}


def test_moa_only_without_moa_is_refused(client, principal_manager, structure):
    public = factories.StructureFactory(public=True)
    factories.attach(principal_manager, public)
    _login(client, principal_manager)
    response = client.post(_url("update", public), _update_data(is_moa_only="on"))
    assert response.status_code == 200
    assert "ne peut être coché que si « Maître d’ouvrage (MOA) » l’est aussi" in response.content.decode()
    public.refresh_from_db()
    assert not public.is_moa_only and public.email == ""
    assert not AuditEvent.objects.filter(action="structure_update").exists()


def test_submitting_without_change_records_nothing(client, structure, principal_manager):
    _login(client, principal_manager)
    response = client.post(
        _url("update", structure), {"email": "", "phone": "", "court_fee_provider_category": ""}, follow=True
    )
    assert "Aucune modification" in response.content.decode()
    assert not AuditEvent.objects.filter(action="structure_update").exists()


def test_inactive_structure_cannot_be_modified(client, structure, principal_manager):
    structure_deactivate(structure=structure, actor=principal_manager)
    _login(client, principal_manager)
    response = client.post(_url("update", structure), _update_data(), follow=True)
    assert "Réactivez-la d’abord" in response.content.decode()
    structure.refresh_from_db()
    assert structure.email == ""


# Activer / Désactiver


def test_deactivation_page_explains_the_consequence(client, structure, principal_manager):
    _login(client, principal_manager)
    content = client.get(_url("deactivate", structure)).content.decode()
    assert (
        "La structure ne pourra plus émettre ni recevoir de factures ; son historique reste consultable."
        in (content)
    )
    assert "Soumettre" in content


@pytest.fixture
def open_at_insee(settings, structure):
    """Activating asks INSEE: the structure takes a SIRET the stand-in knows as open."""
    Structure.objects.filter(pk=structure.pk).update(identifier=OPEN_SIRET)
    structure.refresh_from_db()
    with running_standin(settings) as server:
        yield server


def test_principal_manager_deactivates_then_activates(client, structure, principal_manager, open_at_insee):
    _login(client, principal_manager)
    response = client.post(_url("deactivate", structure), follow=True)
    assert "est désactivée" in response.content.decode()
    structure.refresh_from_db()
    assert structure.status == Structure.Status.INACTIVE
    event = AuditEvent.objects.get(action="structure_deactivate")
    assert event.changes == {"status": {"before": "ACTIVE", "after": "INACTIVE"}}

    response = client.post(_url("activate", structure), follow=True)
    assert "est activée" in response.content.decode()
    structure.refresh_from_db()
    assert structure.status == Structure.Status.ACTIVE
    assert AuditEvent.objects.filter(action="structure_activate", structure=structure).count() == 1


def test_delegate_activates_a_structure_waiting_for_activation(client, structure, delegate, open_at_insee):
    Structure.objects.filter(pk=structure.pk).update(status=Structure.Status.EN_COURS_ACTIVATION)
    _login(client, delegate)
    client.post(_url("activate", structure))
    structure.refresh_from_db()
    assert structure.status == Structure.Status.ACTIVE


def test_deactivating_twice_shows_a_message_and_changes_nothing(client, structure, principal_manager):
    _login(client, principal_manager)
    client.post(_url("deactivate", structure))
    response = client.post(_url("deactivate", structure), follow=True)
    assert "La structure est déjà désactivée : rien n’a été modifié." in _messages(response)
    structure.refresh_from_db()
    assert structure.status == Structure.Status.INACTIVE
    assert AuditEvent.objects.filter(action="structure_deactivate").count() == 1


def test_activating_an_active_structure_shows_a_message(client, structure, principal_manager):
    _login(client, principal_manager)
    page = client.get(_url("activate", structure)).content.decode()
    assert "La structure est déjà active." in page
    assert "Soumettre" not in page
    response = client.post(_url("activate", structure), follow=True)
    assert "La structure est déjà active : rien n’a été modifié." in _messages(response)
    assert not AuditEvent.objects.filter(action="structure_activate").exists()


def test_services_refuse_a_wrong_starting_state(structure, principal_manager):
    with pytest.raises(StructureStateError):
        structure_activate(structure=structure, actor=principal_manager)
    structure_deactivate(structure=structure, actor=principal_manager)
    with pytest.raises(StructureStateError):
        structure_deactivate(structure=structure, actor=principal_manager)
    assert structure.status == Structure.Status.INACTIVE
    assert AuditEvent.objects.filter(action__startswith="structure_").count() == 1


# Historique


def _event(structure, actor, action="structure_update", changes=None, **kwargs):
    event = audit.record(actor=actor, obj=structure, action=action, changes=changes, **kwargs)
    return event


def test_history_lists_the_structures_events_newest_first(client, structure, principal_manager):
    other = factories.StructureFactory(with_principal_manager=True)
    old = _event(structure, principal_manager, changes={"email": {"before": "", "after": "a@b.fr"}})
    AuditEvent.objects.filter(pk=old.pk).update(
        created_at=datetime.datetime(2020, 1, 15, 23, 30, tzinfo=datetime.UTC)
    )
    _event(
        structure,
        principal_manager,
        action="structure_deactivate",
        changes=audit.diff({"status": "ACTIVE"}, {"status": "INACTIVE"}),
    )
    _event(other, None, action="structure_update", changes={"email": {"before": "", "after": "secret@x.fr"}})
    _login(client, principal_manager)
    response = client.get(_url("history", structure))
    rows = response.context["rows"]
    assert [row["event"].action for row in rows] == [
        "structure_deactivate",
        "membership_attach",
        "structure_update",
    ]
    assert rows[-1]["event"] == old
    content = response.content.decode()
    assert "secret@x.fr" not in content
    assert "16/01/2020 00:30" in content  # Europe/Paris
    assert "Modification de la structure" in content
    assert "Désactivation de la structure" in content
    assert "Adresse électronique de la structure" in content
    assert "a@b.fr" in content
    # Status values are shown with their labels.
    assert "Active" in content and "Inactive" in content
    assert str(principal_manager) in content
    main = content.split('id="contenu"')[1].split("</main>")[0]
    assert "<form" not in main  # read-only


def test_history_labels_known_actions_and_shows_unknown_ones_as_is(client, structure, principal_manager):
    _event(structure, principal_manager, action="principal_manager_transfer")
    _event(structure, principal_manager, action="quelque_chose_de_nouveau", changes={"note": "texte libre"})
    _login(client, principal_manager)
    content = client.get(_url("history", structure)).content.decode()
    assert "Transfert du gestionnaire principal" in content
    assert "Rattachement" in content  # the principal manager's attachment
    assert "quelque_chose_de_nouveau" in content
    assert "texte libre" in content


def test_history_is_paginated_by_50(client, structure, principal_manager):
    for _i in range(55):
        _event(structure, principal_manager)
    _login(client, principal_manager)
    assert len(client.get(_url("history", structure)).context["rows"]) == 50
    assert len(client.get(_url("history", structure), {"page": 2}).context["rows"]) == 6  # + attachment


def test_history_query_count_is_the_same_with_1_and_60_events(client, django_assert_max_num_queries, db):
    counts = []
    for size in (1, 60):
        structure = factories.StructureFactory()
        manager = factories.UserFactory()
        factories.attach(manager, structure)
        AuditEvent.objects.filter(structure=structure).delete()
        for _i in range(size):
            _event(structure, factories.UserFactory(), changes={"email": {"before": "", "after": "x@y.fr"}})
        _login(client, manager)
        with django_assert_max_num_queries(12):
            counts.append(_count_queries(client, _url("history", structure)))
    assert counts[0] == counts[1]


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_deactivations_change_the_structure_once(catalogue):
    if connection.vendor != "postgresql":
        pytest.skip("Needs the PostgreSQL server (DATABASE_URL=postgres://…): SQLite serialises writers.")
    import threading

    from django.db import connections

    structure = factories.StructureFactory()
    managers = [factories.UserFactory(), factories.UserFactory()]
    for manager in managers:
        factories.attach(manager, structure)
        factories.grant(manager, structure, "ORGANISATION", Level.MODIFICATION)
    barrier = threading.Barrier(len(managers))
    outcomes = []

    def deactivate(manager):
        try:
            barrier.wait(timeout=10)
            structure_deactivate(structure=Structure.objects.get(pk=structure.pk), actor=manager)
            outcomes.append("done")
        except StructureStateError:
            outcomes.append("refused")
        except Exception as exc:  # reported below, a thread cannot fail the test itself
            outcomes.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=deactivate, args=(manager,)) for manager in managers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes) == ["done", "refused"]
    assert AuditEvent.objects.filter(action="structure_deactivate", structure=structure).count() == 1


def test_activation_refused_while_users_are_attached_without_principal_manager(structure, delegate):
    Structure.objects.filter(pk=structure.pk).update(status=Structure.Status.INACTIVE, principal_manager=None)
    structure.refresh_from_db()
    with pytest.raises(StructureStateError, match="pas de gestionnaire principal"):
        structure_activate(structure=structure, actor=delegate)
    structure.refresh_from_db()
    assert structure.status == Structure.Status.INACTIVE


def test_history_names_an_author_whose_account_was_deleted(client, structure, principal_manager):
    former = factories.UserFactory(email="ancien.delegue@exemple.fr")
    _event(structure, former, changes={"email": {"before": "", "after": "a@b.fr"}})
    former.delete()
    _login(client, principal_manager)
    content = client.get(_url("history", structure)).content.decode()
    assert "ancien.delegue@exemple.fr" in content


def test_history_labels_invitation_answers_and_departures(client, structure, principal_manager):
    _event(structure, principal_manager, action="invitation_decline")
    _event(structure, principal_manager, action="membership_leave")
    _login(client, principal_manager)
    content = client.get(_url("history", structure)).content.decode()
    assert "Invitation refusée" in content
    assert "Départ d’un utilisateur" in content
    assert "invitation_decline" not in content


def _history_table(client, structure):
    content = client.get(_url("history", structure)).content.decode()
    return content.split("<table>")[1].split("</table>")[0]


def _assert_no_internal_value(table):
    for raw in ("{", "[", "'", "None", "True", "False", "_", "EN_COURS", "ACTIVE", "VALIDEE", "DESACTIVEE"):
        assert raw not in table.split("<tbody>")[1], raw


def test_history_shows_a_first_attachment_in_french_words(client, db):
    from users.services.members import membership_attach

    structure = factories.StructureFactory(
        status=Structure.Status.EN_COURS_ACTIVATION, principal_manager=None
    )
    manager = factories.UserFactory(email="premier@exemple.fr")
    membership_attach(user=manager, structure=structure)
    table = _history_table(_login(client, manager), structure)
    assert "Gestionnaire principal" in table
    assert "premier@exemple.fr" in table
    assert "Activation en cours" in table and "Active" in table
    assert "Principal_manager" not in table
    _assert_no_internal_value(table)


def test_history_shows_a_transfer_by_the_managers_emails(client, structure, principal_manager):
    from structures.services.transfer import structure_transfer_principal_manager

    successor = factories.UserFactory(email="successeur@exemple.fr")
    factories.attach(successor, structure)
    structure_transfer_principal_manager(structure=structure, new_manager=successor, actor=principal_manager)
    table = _history_table(_login(client, successor), structure)
    assert "Transfert du gestionnaire principal" in table
    assert "gp@exemple.fr" in table and "successeur@exemple.fr" in table
    _assert_no_internal_value(table)


def test_history_shows_a_duplication_as_french_pairs_not_a_python_dict(client, structure, principal_manager):
    copied = {"services": 2, "bank_accounts": 1, "attachments": 0, "memberships": 3, "habilitations": 4}
    _event(
        structure,
        principal_manager,
        action="structure_duplicate",
        changes={"origin": {"before": None, "after": "12345678900011"}, "copied": copied},
    )
    table = _history_table(_login(client, principal_manager), structure)
    assert "Duplication de la structure" in table
    assert "Structure d’origine" in table and "12345678900011" in table
    assert "Services : 2" in table
    assert "Coordonnées bancaires : 1" in table
    assert "Pièces jointes : 0" in table
    assert "Rattachements : 3" in table
    assert "Habilitations : 4" in table
    _assert_no_internal_value(table)


def test_history_shows_invitations_habilitations_and_statuses_in_french_words(
    client, structure, principal_manager
):
    member = factories.UserFactory(email="membre@exemple.fr")
    membership = factories.attach(member, structure)
    audit.record(
        actor=principal_manager,
        obj=membership,
        action="invitation_accept",
        changes={"service": ["COMPTA", "ACHATS"], "invited_by": "gp@exemple.fr"},
    )
    audit.record(
        actor=principal_manager,
        obj=membership,
        action="membership_status",
        changes={"before": "VALIDEE", "after": "DESACTIVEE"},
    )
    audit.record(
        actor=principal_manager,
        obj=member,
        structure=structure,
        action="habilitations_change",
        changes={
            "user": "membre@exemple.fr",
            "service": None,
            "added": ["Factures émises – consultation"],
            "removed": [],
            "profiles": {"before": [], "after": ["Factures émises – consultation"]},
        },
    )
    audit.record(
        actor=principal_manager,
        obj=structure,
        action="principal_manager_transfer",
        changes={
            "principal_manager": {"before": "gp@exemple.fr", "after": "membre@exemple.fr"},
            "former_principal_manager_attached": True,
        },
    )
    table = _history_table(_login(client, principal_manager), structure)
    assert "Ancien gestionnaire principal resté rattaché" in table and "Oui" in table
    assert "COMPTA, ACHATS" in table
    assert "Invité par" in table
    assert "Statut" in table and "Validé" in table and "Désactivé" in table
    assert "Utilisateur" in table and "membre@exemple.fr" in table
    assert "Profils ajoutés" in table and "Profils retirés" in table
    _assert_no_internal_value(table)
