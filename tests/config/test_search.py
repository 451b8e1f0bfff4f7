"""The application search: the words users use (synonyms, accents, case) find the
applications they can open and the guides; nothing found offers the documentation search
and the assistant; nothing a user cannot open, and never the agents' back-office."""

from importlib import import_module
from urllib.parse import quote

import pytest
from django.apps import apps
from django.urls import reverse

from config import search
from support.models import DocPage
from tests import factories

SEARCH = reverse("search")


@pytest.fixture(autouse=True)
def seeded_docs(db):
    if not DocPage.objects.exists():
        import_module("support.migrations.0003_documentation").seed_pages(apps, None)


def found(client, query):
    response = client.get(SEARCH, {"q": query})
    assert response.status_code == 200
    return (
        [entry.application.code for entry in response.context["results"]],
        [page.slug for page in response.context["docs"]],
    )


# One line per synonym group: every word finds the application (and the guide) that
# never uses it in its name.
SYNONYM_GROUPS = [
    (
        ("RIB", "IBAN", "coordonnées bancaires", "BIC"),
        "CREER_COORDONNEE_BANCAIRE",
        "creer-une-coordonnee-bancaire",
    ),
    (("approbation", "valider", "approuver", "demande"), "APPROBATIONS", "approbations"),
    (("habilitation", "droits", "profil", "accès"), "GERER_HABILITATIONS", "gerer-les-habilitations"),
    (("SIRET", "SIREN", "établissement", "structure"), "GERER_STRUCTURE", "gerer-une-structure"),
    (("kbis", "pièce jointe", "justificatif", "document"), "CREER_PIECE_JOINTE", "creer-une-piece-jointe"),
    (("adresse", "INSEE"), "GERER_STRUCTURE", "gerer-une-structure"),
    (("gestionnaire principal", "transférer", "GP"), "TRANSFERER_GP", "transferer-le-gestionnaire-principal"),
    (("ticket", "sollicitation", "support", "réclamation"), "TICKETS_EMIS", "tickets-emis"),
    (("collègue", "collaborateur", "utilisateur"), "RATTACHER_UTILISATEUR", "rattacher-un-utilisateur"),
]


@pytest.mark.parametrize(("words", "application", "guide"), SYNONYM_GROUPS)
def test_each_word_of_a_synonym_group_finds_the_application_and_its_guide(
    client, principal_manager, words, application, guide
):
    client.force_login(principal_manager)
    for word in words:
        applications, docs = found(client, word)
        assert application in applications, word
        assert guide in docs, word


def test_the_application_named_by_the_words_comes_first(client, principal_manager):
    client.force_login(principal_manager)
    assert found(client, "RIB")[0][0] == "CREER_COORDONNEE_BANCAIRE"
    assert found(client, "transférer")[0][0] == "TRANSFERER_GP"
    assert found(client, "approbation")[0][0] == "APPROBATIONS"


def test_several_words_must_all_be_found(client, principal_manager):
    client.force_login(principal_manager)
    applications, _docs = found(client, "gérer IBAN")
    assert applications == ["GERER_COORDONNEE_BANCAIRE"]
    assert found(client, "supprimer pièce jointe")[0] == ["GERER_PIECE_JOINTE"]


def test_accents_and_case_do_not_matter(client, principal_manager):
    client.force_login(principal_manager)
    for variants in (
        ("Coordonnées Bancaires", "coordonnees bancaires", "COORDONNÉES BANCAIRES"),
        ("habilitations", "HABILITATIONS", "Habilitâtions"),
        ("pièce jointe", "PIECE JOINTE", "piéce jointe"),
        ("créer service", "creer service", "CRÉER SERVICE"),
    ):
        results = {tuple(found(client, variant)[0]) for variant in variants}
        assert len(results) == 1 and results != {()}, variants


def test_a_fragment_of_a_name_still_finds_it(client, principal_manager):
    client.force_login(principal_manager)
    assert "CREER_SERVICE" in found(client, "créer serv")[0]


def test_guides_are_found_by_their_title_for_visitors_too(client, db):
    applications, docs = found(client, "mot de passe")
    assert applications == []
    assert "mot-de-passe-oublie" in docs
    html = client.get(SEARCH, {"q": "mot de passe"}).content.decode()
    assert f'href="{reverse("support:doc_page", args=["mot-de-passe-oublie"])}"' in html
    assert "Dans la documentation" in html


def test_nothing_found_offers_the_documentation_search_and_the_assistant(client, principal_manager):
    client.force_login(principal_manager)
    response = client.get(SEARCH, {"q": "zygomatique héliotrope"})
    html = response.content.decode()
    assert response.context["results"] == [] and response.context["docs"] == []
    assert "Rien ne correspond à « zygomatique héliotrope »" in html
    words = quote("zygomatique héliotrope")
    assert f'href="{reverse("support:docs")}?q={words}"' in html
    assert f'href="{reverse("support:assistant_ask")}?question={words}"' in html
    # The assistant opens with the question typed in.
    page = client.get(reverse("support:assistant_ask"), {"question": "zygomatique héliotrope"})
    assert ">zygomatique héliotrope</textarea>" in page.content.decode()


def test_something_found_does_not_show_the_fallback(client, principal_manager):
    client.force_login(principal_manager)
    assert "Rien ne correspond" not in client.get(SEARCH, {"q": "RIB"}).content.decode()


def test_the_query_is_shown_escaped_everywhere(client, db):
    html = client.get(SEARCH, {"q": "<script>alert(1)</script>"}).content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "?question=%3Cscript%3Ealert%281%29%3C%2Fscript%3E" in html
    page = client.get(reverse("support:assistant_ask"), {"question": "<b>x</b>"}).content.decode()
    assert "<b>x</b></textarea>" not in page and "&lt;b&gt;x&lt;/b&gt;</textarea>" in page


# Only what the user may open


def test_applications_the_user_cannot_open_are_not_found(client, consultation_user):
    # Attached to nothing: the guide is offered, not the application.
    client.force_login(factories.UserFactory(email="seul@exemple.fr"))
    applications, docs = found(client, "RIB")
    assert applications == []
    assert "creer-une-coordonnee-bancaire" in docs
    # Their own habilitations, not the management of others'.
    applications = found(client, "droits")[0]
    assert applications[0] == "GERER_MES_HABILITATIONS" and "GERER_HABILITATIONS" not in applications
    client.force_login(consultation_user)
    assert "GERER_HABILITATIONS" in found(client, "droits")[0]


def test_visitors_find_no_application_that_needs_an_account(client, db):
    applications, docs = found(client, "ticket")
    assert "TICKETS_EMIS" not in applications and "TICKETS_RECUS" not in applications
    assert "tickets-emis" in docs


@pytest.mark.parametrize(
    "who", ["anonymous", "principal_manager", "consultation_user", "other_structure_user"]
)
def test_the_agents_back_office_is_never_found_by_users(client, who, request):
    if who != "anonymous":
        client.force_login(request.getfixturevalue(who))
    for query in ("tickets reçus", "ticket", "support", "agents du support", "M’affecter"):
        applications, docs = found(client, query)
        assert "TICKETS_RECUS" not in applications, query
        assert "tickets-recus" not in docs, query


def test_agents_find_their_back_office(client, staff_user):
    client.force_login(staff_user)
    applications, docs = found(client, "tickets reçus")
    assert applications[0] == "TICKETS_RECUS"
    assert "tickets-recus" in docs


def test_search_query_count_does_not_depend_on_the_words(
    client, principal_manager, django_assert_max_num_queries
):
    client.force_login(principal_manager)
    client.get(SEARCH, {"q": "RIB"})
    with django_assert_max_num_queries(30) as short:
        client.get(SEARCH, {"q": "RIB"})
    with django_assert_max_num_queries(len(short.captured_queries)):
        client.get(SEARCH, {"q": "coordonnées bancaires habilitations structure ticket " * 3})


# The lexicon


def test_an_expression_of_the_lexicon_is_one_thing_looked_for():
    groups = search.query_groups("Coordonnées bancaires de la structure")
    assert [group[0] for group in groups] == ["coordonnees bancaires", "structure"]
    # Plurals and verb forms join their group.
    assert search.query_groups("les droits")[0][1:] == search.query_groups("DROIT")[0][1:]
    assert search.query_groups("   ") == []
