"""The portal's own 403, 404 and 500 pages: French, in the portal's layout, saying why
and what to do, with the status code unchanged."""

import pytest
from django.test import Client, RequestFactory
from django.urls import reverse

from tests import factories


def _main(response):
    page = response.content.decode()
    return page[page.index('<main id="contenu"') : page.index("</main>")]


@pytest.fixture
def member_without_profile(structure, principal_manager):
    user = factories.UserFactory(email="sans.profil@exemple.fr")
    factories.attach(user, structure)
    return user


@pytest.fixture
def operator(db):
    return factories.UserFactory(email="operateur@exemple.fr", is_staff=True, is_superuser=True)


def test_member_without_profile_is_told_which_profile_is_missing_and_whom_to_ask(
    client, structure, principal_manager, member_without_profile
):
    principal_manager.first_name, principal_manager.last_name = "Claire", "Martin"
    principal_manager.save()
    client.force_login(member_without_profile)

    response = client.get(reverse("structures:manage"))

    assert response.status_code == 403
    main = _main(response)
    assert "Accès refusé" in main
    assert "Vous n’avez pas le profil « Organisation – consultation » sur vos structures" in main
    assert "« Gérer une structure »" in main
    # Whom to ask, and where.
    assert "gestionnaire principal" in main
    assert "Claire Martin" in main
    assert structure.company_name in main
    assert f'href="{reverse("users:my_habilitations")}"' in main
    assert f'href="{reverse("home")}"' in main
    assert "Forbidden" not in response.content.decode()
    # The portal's layout: its header and footer.
    assert 'class="fr-header"' in response.content.decode()
    assert 'id="pied-de-page"' in response.content.decode()


def test_consultation_user_opening_a_modification_page_is_told_the_level_missing(
    client, structure, consultation_user
):
    client.force_login(consultation_user)

    response = client.get(reverse("structures:transfer"))

    assert response.status_code == 403
    assert "Vous n’avez pas le profil « Organisation – modification »" in _main(response)


def test_former_principal_manager_reopening_transfer_gets_a_french_explanation(
    client, structure, principal_manager
):
    successor = factories.UserFactory(email="successeur@exemple.fr")
    factories.attach(successor, structure)
    structure.principal_manager = successor
    structure.save()
    client.force_login(principal_manager)

    response = client.get(reverse("structures:transfer"))

    assert response.status_code == 403
    main = _main(response)
    assert "Vous n’avez pas le profil « Organisation – modification » sur vos structures" in main
    assert "« Transférer le gestionnaire principal »" in main
    assert f'href="{reverse("users:my_habilitations")}"' in main


def test_user_attached_nowhere_is_sent_to_ask_for_an_attachment(client, db):
    client.force_login(factories.UserFactory(email="seul@exemple.fr"))

    response = client.get(reverse("structures:manage"))

    assert response.status_code == 403
    main = _main(response)
    assert "Vous n’êtes rattaché à aucune structure" in main
    assert f'href="{reverse("approvals:request_attachment")}"' in main


def test_operator_opening_my_habilitations_is_told_the_page_is_for_portal_users(client, operator):
    client.force_login(operator)

    response = client.get(reverse("users:my_habilitations"))

    assert response.status_code == 403
    main = _main(response)
    assert "Cette page est réservée aux utilisateurs du portail" in main
    assert f'href="{reverse("admin:index")}"' in main
    assert "Vous n’avez pas le profil" not in main


def test_support_agent_opening_an_organisation_page_is_told_it_is_for_portal_users(client, staff_user):
    client.force_login(staff_user)

    response = client.get(reverse("structures:manage"))

    assert response.status_code == 403
    main = _main(response)
    assert "Cette page est réservée aux utilisateurs du portail" in main
    assert f'href="{reverse("support:agent_queues")}"' in main


def test_portal_user_opening_a_support_agent_page_is_told_it_is_for_agents(client, member_without_profile):
    client.force_login(member_without_profile)

    response = client.get(reverse("support:agent_queues"))

    assert response.status_code == 403
    assert "Cette page est réservée aux agents du support" in _main(response)


def test_unknown_page_is_a_french_404_with_links_home_search_and_documentation(client, db):
    response = client.get("/cette-page-n-existe-pas/")

    assert response.status_code == 404
    main = _main(response)
    assert "Page introuvable" in main
    assert f'href="{reverse("home")}"' in main
    assert f'action="{reverse("search")}"' in main or f'href="{reverse("search")}"' in main
    assert f'href="{reverse("support:docs")}"' in main
    assert "Not Found" not in response.content.decode()


def test_object_of_another_structure_is_the_same_french_404(client, other_structure_user, structure):
    client.force_login(other_structure_user)

    response = client.get(reverse("approvals:detail", args=[999999]))

    assert response.status_code == 404
    assert "Page introuvable" in _main(response)


def test_server_error_is_a_french_page_with_the_request_id(db, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("chorus.catalogue.entries", broken)
    client = Client(raise_request_exception=False)

    response = client.get(reverse("search"), {"q": "facture"}, HTTP_X_REQUEST_ID="req-1234abcd")

    assert response.status_code == 500
    page = response.content.decode()
    assert "Erreur" in page and "Une erreur inattendue" in page
    assert "req-1234abcd" in page
    assert response["X-Request-ID"] == "req-1234abcd"
    assert f'href="{reverse("home")}"' in page
    assert "Server Error" not in page


def test_server_error_page_runs_no_query(db, django_assert_num_queries):
    from config import error_views

    request = RequestFactory().get("/")
    request.request_id = "abc123"

    with django_assert_num_queries(0):
        response = error_views.server_error(request)

    assert response.status_code == 500
    assert "abc123" in response.content.decode()
