"""Home, domain pages, application pages and the application search."""

import pytest
from django.urls import reverse

from chorus.models import Level
from tests import factories


def test_anonymous_home_speaks_to_the_chosen_audience(client, db):
    page = client.get("/").content.decode()
    assert "Vous êtes une entreprise" in page
    assert "Se connecter" in page

    client.get(reverse("audience", args=["entite-publique"]))
    page = client.get("/").content.decode()
    assert "Vous êtes une entité publique" in page
    assert "Facture reçue" in page
    assert "Remboursement de taxes" not in page


def test_unknown_audience_is_not_found(client, db):
    assert client.get(reverse("audience", args=["pirates"])).status_code == 404


def test_home_lists_domains_and_greys_applications_without_profile(client, structure, consultation_user):
    client.force_login(consultation_user)
    page = client.get("/").content.decode()
    for domain in ("Facturation", "Organisation", "Support"):
        assert domain in page
    # Held: a link to the application; not held: greyed, with how to ask.
    assert f'href="{reverse("application", args=["FACTURE_EMISE"])}"' in page
    assert f'href="{reverse("application", args=["REMBOURSEMENT_TAXES"])}"' not in page
    assert "demandez-le depuis « Gérer mes habilitations »" in page


def _first_steps(page):
    start = page.index('id="premiers-pas-section"')
    return page[start : page.index("</section>", start)]


def test_home_guides_a_user_attached_to_nothing_to_create_or_join_a_structure(client, db):
    client.force_login(factories.UserFactory())
    page = client.get("/").content.decode()
    guide = _first_steps(page)
    assert "Vous n’êtes rattaché à aucune structure" in guide
    assert f'href="{reverse("structures:create")}">Créer une structure</a>' in guide
    assert f'href="{reverse("approvals:request_attachment")}">Demander un rattachement</a>' in guide
    assert "Gérer mes habilitations" not in guide
    # The greyed applications say the same, not "ask from Gérer mes habilitations".
    assert "demandez-le depuis « Gérer mes habilitations »" not in page
    assert (
        "Rattachez-vous d’abord à une structure : « Créer une structure » ou « Demander un rattachement »"
        in page
    )


def test_home_shows_a_pending_attachment_request_to_a_user_attached_to_nothing(
    client, structure, principal_manager
):
    from tests.approvals.helpers import pending_attachment

    approval = pending_attachment(structure)
    client.force_login(approval.requester)
    guide = _first_steps(client.get("/").content.decode())
    assert "Votre demande de rattachement est en attente" in guide
    assert f"{approval.number} — {structure.display_name} ({structure.identifier})" in guide
    assert f'href="{reverse("approvals:my_requests")}"' in guide


@pytest.mark.parametrize("persona", ["consultation_user", "principal_manager"])
def test_home_of_an_attached_user_has_no_first_steps(client, request, structure, persona):
    client.force_login(request.getfixturevalue(persona))
    page = client.get("/").content.decode()
    assert 'id="premiers-pas-section"' not in page


def test_home_of_staff_has_no_first_steps(client, staff_user):
    client.force_login(staff_user)
    assert 'id="premiers-pas-section"' not in client.get("/").content.decode()


def test_domain_page_guides_a_user_attached_to_nothing_too(client, db):
    client.force_login(factories.UserFactory())
    page = client.get(reverse("domain", args=["facturation"])).content.decode()
    assert "Rattachez-vous d’abord à une structure" in page
    assert "Gérer mes habilitations" not in page.split('id="contenu"', 1)[-1].split("<footer", 1)[0]


def test_menus_list_only_applications_the_user_can_open(client, structure, consultation_user):
    client.force_login(consultation_user)
    page = client.get("/").content.decode()
    nav = page[
        page.index('id="navigation-principale"') : page.index(
            "</nav>", page.index('id="navigation-principale"')
        )
    ]
    assert "Gérer une structure" in nav
    assert "Remboursement de taxes" not in nav
    assert "Tickets reçus" not in nav


def test_domain_page_lists_its_applications_by_section(client, structure, delegate):
    client.force_login(delegate)
    response = client.get(reverse("domain", args=["organisation"]))
    page = response.content.decode()
    assert response.status_code == 200
    assert "Structure" in page and "Utilisateurs" in page
    assert "Transférer le gestionnaire principal" in page
    assert "Facture émise" not in page


def test_unknown_domain_is_not_found(client, db):
    assert client.get(reverse("domain", args=["inconnu"])).status_code == 404


def test_application_page_shows_where_the_user_holds_it(client, structure, consultation_user):
    client.force_login(consultation_user)
    page = client.get(reverse("application", args=["GERER_STRUCTURE"])).content.decode()
    assert structure.company_name in page
    assert "consultation" in page


def test_application_page_explains_how_to_ask_when_not_held(client, other_structure_user, structure):
    client.force_login(other_structure_user)
    page = client.get(reverse("application", args=["FACTURE_EMISE"])).content.decode()
    assert "Vous n’avez pas accès à cette application" in page
    assert structure.company_name not in page


def test_application_page_requires_login(client, db):
    response = client.get(reverse("application", args=["GERER_STRUCTURE"]))
    assert response.status_code == 302
    assert response.url.startswith(reverse("users:login"))


def test_search_finds_applications_the_user_can_open_ignoring_accents(client, structure, delegate):
    client.force_login(delegate)
    page = client.get(reverse("search"), {"q": "creer service"}).content.decode()
    assert "Applications trouvées pour « creer service » : 1" in page
    assert "Créer un service" in page


def test_search_does_not_find_applications_the_user_cannot_open(client, structure, consultation_user):
    client.force_login(consultation_user)
    page = client.get(reverse("search"), {"q": "remboursement"}).content.decode()
    assert "Applications trouvées pour « remboursement » : 0" in page


def test_search_as_anonymous_finds_only_public_applications(client, db):
    page = client.get(reverse("search"), {"q": "documentation"}).content.decode()
    assert "Applications trouvées pour « documentation » : 1" in page
    response = client.get(reverse("search"), {"q": "structure"})
    # The guides speak of structures; no application that needs an account is offered.
    assert {entry.application.code for entry in response.context["results"]} <= {"DOCUMENTATION"}
    assert reverse("structures:manage") not in response.content.decode()


def test_pages_have_a_breadcrumb(client, structure, delegate):
    client.force_login(delegate)
    page = client.get(reverse("domain", args=["organisation"])).content.decode()
    assert 'class="fr-breadcrumb"' in page


def test_language_switch_serves_english(client, db):
    response = client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert response.status_code == 302
    page = client.get("/").content.decode()
    assert "Log in" in page
    assert '<html lang="en"' in page


def _populate(user, count):
    for _ in range(count):
        structure = factories.StructureFactory()
        factories.attach(user, structure)
        factories.grant(user, structure, "FACTURE_EMISE", Level.CONSULTATION)
        service = factories.ServiceFactory(structure=structure)
        factories.grant(user, structure, "ENGAGEMENT", Level.MODIFICATION, service=service)


@pytest.mark.parametrize(
    "url",
    ["/", "/recherche/?q=facture", "/domaines/facturation/", "/applications/FACTURE_EMISE/"],
)
def test_page_query_count_does_not_grow_with_structures(client, db, django_assert_max_num_queries, url):
    user = factories.UserFactory()
    client.force_login(user)
    _populate(user, 1)
    with django_assert_max_num_queries(10) as small:
        assert client.get(url).status_code == 200
    _populate(user, 49)
    with django_assert_max_num_queries(10) as large:
        assert client.get(url).status_code == 200
    assert len(large.captured_queries) == len(small.captured_queries)


def test_french_is_served_whatever_the_browser_asks(client, db):
    page = client.get("/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert "Se connecter" in page
    assert '<html lang="fr"' in page
