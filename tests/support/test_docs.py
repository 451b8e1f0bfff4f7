"""Documentation: public pages grouped by theme, the search (SQLite's accent-insensitive
match, PostgreSQL's French full-text search when DATABASE_URL points to it), the safe
Markdown subset, the seeded content, each application's "i" link, and the admin with
its preview."""

from importlib import import_module

import pytest
from django.apps import apps
from django.db import connection
from django.urls import reverse

from chorus.models import Application
from support import markdown
from support.models import DocPage
from tests import factories

DOCS = reverse("support:docs")
SCRIPT = "<script>alert('x')</script>"

ORGANISATION_AND_SUPPORT = [
    "CREER_STRUCTURE",
    "GERER_STRUCTURE",
    "CREER_SERVICE",
    "GERER_SERVICE",
    "CREER_COORDONNEE_BANCAIRE",
    "GERER_COORDONNEE_BANCAIRE",
    "CREER_PIECE_JOINTE",
    "GERER_PIECE_JOINTE",
    "DUPLIQUER_STRUCTURE",
    "TRANSFERER_GP",
    "RATTACHER_UTILISATEUR",
    "DETACHER_UTILISATEUR",
    "CONSULTER_UTILISATEURS",
    "AFFICHER_UTILISATEUR",
    "GERER_HABILITATIONS",
    "GERER_MES_HABILITATIONS",
    "DEMANDER_RATTACHEMENT",
    "APPROBATIONS",
    "NOUS_CONTACTER",
    "TICKETS_EMIS",
    "TICKETS_RECUS",
    "DOCUMENTATION",
]


def page_url(slug):
    return reverse("support:doc_page", args=[slug])


@pytest.fixture(autouse=True)
def seeded_docs(db):
    """The pages of the data migration (emptied by any transactional test run before)."""
    if not DocPage.objects.exists():
        import_module("support.migrations.0003_documentation").seed_pages(apps, None)


# Listing and pages


def test_anonymous_visitor_reads_the_documentation_grouped_by_theme_and_section(client):
    response = client.get(DOCS)
    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1>Documentation</h1>" in html
    assert "Factures et demandes de paiement › Gérer les structures" in html
    assert "Factures et demandes de paiement › Gérer les utilisateurs" in html
    assert "Support › Obtenir de l’aide" in html
    assert f'href="{page_url("creer-une-coordonnee-bancaire")}"' in html
    # Themes in the order of their pages: the guides before Support.
    assert html.index("Gérer les structures") < html.index("Obtenir de l’aide")


def test_audience_filter_keeps_pages_for_everybody_and_for_that_audience(client):
    public_only = page_url("parametres-structure-publique")
    assert public_only in client.get(DOCS).content.decode()
    assert public_only in client.get(DOCS, {"public": "entite-publique"}).content.decode()
    company = client.get(DOCS, {"public": "entreprise"}).content.decode()
    assert public_only not in company
    assert page_url("creer-une-structure") in company


def test_unknown_audience_is_an_error_on_the_form_not_a_500(client):
    response = client.get(DOCS, {"public": "martiens"})
    assert response.status_code == 200
    assert "Sélectionnez un choix valide" in response.content.decode()


def test_anonymous_visitor_reads_a_page_rendered_from_markdown(client):
    response = client.get(page_url("creer-une-coordonnee-bancaire"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1>Créer une coordonnée bancaire</h1>" in html
    assert '<h2 id="etape-par-etape-ajouter-un-iban-ou-un-rib">' in html
    assert "<ol><li>Ouvrez <strong>Organisation › Structure › Créer une coordonnée bancaire</strong>" in html
    # The page opens its application, and links to the related guide.
    assert f'href="{reverse("structures:bank_create")}"' in html
    assert f'<a href="{page_url("gerer-une-coordonnee-bancaire")}">Gérer une coordonnée bancaire</a>' in html
    assert 'href="#messages-que-vous-pouvez-rencontrer"' in html  # the summary


def test_unpublished_or_unknown_page_is_a_404(client):
    DocPage.objects.filter(slug="tickets-recus").update(is_published=False)
    assert client.get(page_url("tickets-recus")).status_code == 404
    assert client.get(page_url("nexiste-pas")).status_code == 404
    assert page_url("tickets-recus") not in client.get(DOCS).content.decode()


def test_documentation_list_query_count_does_not_grow_with_pages(client, django_assert_max_num_queries):
    with django_assert_max_num_queries(50) as few:
        client.get(DOCS)
    for n in range(40):
        DocPage.objects.create(
            slug=f"page-{n}", title=f"Page {n}", theme="Thème", section=f"Rubrique {n % 4}", body="Texte."
        )
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(DOCS)
    assert page_url("page-39") in response.content.decode()


# Seeded content


@pytest.mark.parametrize("code", ORGANISATION_AND_SUPPORT)
def test_every_organisation_and_support_application_has_a_published_page(code):
    page = DocPage.objects.filter(application__code=code, is_published=True).first()
    assert page is not None, code
    assert len(page.body) > 400
    assert page.summary


@pytest.mark.parametrize(
    "slug", ["creer-un-compte", "activer-mon-compte", "se-connecter", "mot-de-passe-oublie"]
)
def test_account_help_pages_are_seeded(client, slug):
    response = client.get(page_url(slug))
    assert response.status_code == 200
    assert "Messages que vous pouvez rencontrer" in response.content.decode()


def test_seeded_pages_quote_the_messages_the_portal_shows():
    from structures.forms.bank import IBAN_ERRORS
    from structures.services.bank import INACTIVE_STRUCTURE_MESSAGE
    from users.forms.accounts import LoginForm, SignupForm

    bank = DocPage.objects.get(slug="creer-une-coordonnee-bancaire").body
    for error in ("InvalidChecksumDigits", "InvalidLength", "InvalidCountryCode"):
        message = next(str(m) for cls, m in IBAN_ERRORS.items() if cls.__name__ == error)
        assert message in bank
    assert str(INACTIVE_STRUCTURE_MESSAGE) in bank
    login = DocPage.objects.get(slug="se-connecter").body
    assert str(LoginForm.error_messages["invalid_login"]) in login
    assert str(LoginForm.error_messages["inactive"]) in login
    signup = DocPage.objects.get(slug="creer-un-compte").body
    assert str(SignupForm.error_messages["duplicate_email"]) in signup
    assert str(SignupForm.error_messages["password_mismatch"]) in signup


def test_seeded_internal_links_all_resolve():
    for page in DocPage.objects.all():
        for target in markdown.LINK_RE.findall(page.body):
            assert markdown.safe_href(target[1]), (page.slug, target)


def test_seed_is_idempotent_and_keeps_operators_pages():
    DocPage.objects.create(slug="ma-page", title="Ma page", theme="Thème", section="Rubrique", body="Texte.")
    count = DocPage.objects.count()
    import_module("support.migrations.0003_documentation").seed_pages(apps, None)
    assert DocPage.objects.count() == count
    assert DocPage.objects.filter(slug="ma-page").exists()


# Search


def test_search_is_accent_insensitive_and_ranks_the_best_page_first(client):
    response = client.get(DOCS, {"q": "coordonnee bancaire"})
    assert response.status_code == 200
    results = [page.slug for page in response.context["results"]]
    assert set(results[:2]) == {"creer-une-coordonnee-bancaire", "gerer-une-coordonnee-bancaire"}


def test_search_finds_synonyms_and_plurals(client):
    results = [page.slug for page in client.get(DOCS, {"q": "habilitations"}).context["results"]]
    assert "gerer-les-habilitations" in results[:3]
    iban = [page.slug for page in client.get(DOCS, {"q": "IBAN"}).context["results"]]
    assert "creer-une-coordonnee-bancaire" in iban[:2]


def test_search_respects_the_audience_filter(client):
    response = client.get(DOCS, {"q": "engagement juridique", "public": "entreprise"})
    assert "parametres-structure-publique" not in [page.slug for page in response.context["results"]]
    response = client.get(DOCS, {"q": "engagement juridique", "public": "entite-publique"})
    assert "parametres-structure-publique" in [page.slug for page in response.context["results"]]


def test_search_without_result_says_so(client):
    response = client.get(DOCS, {"q": "hippopotame"})
    assert response.context["results"] == []
    assert "Aucune page ne correspond à votre recherche." in response.content.decode()


def test_search_query_is_shown_escaped_and_too_long_a_query_is_refused(client):
    html = client.get(DOCS, {"q": SCRIPT}).content.decode()
    assert SCRIPT not in html
    assert "&lt;script&gt;" in html
    response = client.get(DOCS, {"q": "x" * 201})
    assert response.status_code == 200
    assert "Assurez-vous que cette valeur comporte au plus 200 caractères" in response.content.decode()
    assert response.context["results"] == []


def test_search_ignores_unpublished_pages(client):
    DocPage.objects.filter(slug="tickets-recus").update(is_published=False)
    results = [page.slug for page in client.get(DOCS, {"q": "M’affecter"}).context["results"]]
    assert "tickets-recus" not in results


def test_search_uses_postgresql_full_text_search_there_and_the_simple_match_on_sqlite(monkeypatch):
    from support.selectors import docs as doc_selectors

    used = []
    simple = doc_selectors._search_simple
    monkeypatch.setattr(
        doc_selectors, "_search_simple", lambda query, pages: used.append("simple") or simple(query, pages)
    )
    results = [
        page.slug for page in doc_selectors.search_pages("approbations", doc_selectors.published_pages())
    ]
    assert results[0] == "approbations"
    # PostgreSQL finds it with its French configuration; SQLite falls to the simple match.
    assert used == ([] if connection.vendor == "postgresql" else ["simple"])


def test_postgresql_search_falls_back_to_the_accent_insensitive_match():
    from support.selectors import docs as doc_selectors

    # "coordonnee" without its accent: the French configuration does not fold accents.
    results = [
        page.slug for page in doc_selectors.search_pages("coordonnee", doc_selectors.published_pages())
    ]
    assert "creer-une-coordonnee-bancaire" in results


# The "i" link


def test_application_page_shows_the_i_link_to_its_documentation(client, principal_manager):
    client.force_login(principal_manager)
    html = client.get(reverse("structures:bank_list")).content.decode()
    assert 'id="aide-contextuelle"' in html
    assert f'href="{page_url("gerer-une-coordonnee-bancaire")}"' in html
    assert 'title="Aide : Gérer une coordonnée bancaire"' in html
    assert ">Aide : Gérer une coordonnée bancaire</a>" in html


def test_i_link_of_the_public_documentation_page(client):
    html = client.get(DOCS).content.decode()
    assert f'id="aide-contextuelle" href="{page_url("documentation")}"' in html


def test_no_i_link_on_a_page_that_is_no_application(client, principal_manager):
    client.force_login(principal_manager)
    assert 'id="aide-contextuelle"' not in client.get(reverse("home")).content.decode()
    assert 'id="aide-contextuelle"' not in client.get(reverse("users:account")).content.decode()


def test_no_i_link_when_the_application_page_is_unpublished(client, principal_manager):
    DocPage.objects.filter(application__code="GERER_COORDONNEE_BANCAIRE").update(is_published=False)
    client.force_login(principal_manager)
    assert 'id="aide-contextuelle"' not in client.get(reverse("structures:bank_list")).content.decode()


def test_i_link_costs_one_query_and_only_on_application_pages(
    client, principal_manager, django_assert_max_num_queries
):
    client.force_login(principal_manager)
    url = reverse("structures:bank_list")
    with django_assert_max_num_queries(100) as with_page:
        client.get(url)
    Application.objects.filter(code="GERER_COORDONNEE_BANCAIRE").update(url_name="")
    with django_assert_max_num_queries(100) as without_match:
        client.get(url)
    docpage_queries = [q for q in with_page.captured_queries if '"support_docpage"' in q["sql"]]
    assert len(docpage_queries) == 1
    assert not [q for q in without_match.captured_queries if '"support_docpage"' in q["sql"]]


# The safe Markdown subset


def test_markdown_escapes_html_and_drops_unsafe_links():
    html = str(
        markdown.render(
            f"## Titre {SCRIPT}\n\nTexte <b>gras</b> [clic](javascript:alert(1)) "
            "[ailleurs](https://exemple.fr) [//hôte](//exemple.fr) [ici](/organisation/structure/)\n\n"
            '- [x](/a" onmouseover="alert(1)) [y](/a"b)\n'
        )
    )
    assert "<script>" not in html and "<b>" not in html
    assert "&lt;script&gt;" in html and "&lt;b&gt;gras&lt;/b&gt;" in html
    assert "javascript:" not in html
    assert 'href="https://exemple.fr"' not in html and 'href="//exemple.fr"' not in html
    assert '<a href="/organisation/structure/">ici</a>' in html
    assert 'onmouseover="' not in html
    assert 'href="/a' not in html


def test_markdown_subset_renders_headings_lists_emphasis_code_and_quotes():
    html = str(
        markdown.render(
            "# Un\n\n## Deux\n\n### Trois\n\n"
            "Du **gras**, de l’*italique*, du `code <x>` et FACTURES_PUBLIQUES.\n\n"
            "1. un\n2. deux\n   suite\n\n- a\n- b\n\n> Attention\n\n```\n<pre>\n```\n"
        )
    )
    assert '<h2 id="un">Un</h2>' in html  # a page has one h1: its title
    assert '<h2 id="deux">Deux</h2>' in html and '<h3 id="trois">Trois</h3>' in html
    assert "<strong>gras</strong>" in html and "<em>italique</em>" in html
    assert "<code>code &lt;x&gt;</code>" in html and "FACTURES_PUBLIQUES" in html
    assert "<ol><li>un</li><li>deux suite</li></ol>" in html
    assert "<ul><li>a</li><li>b</li></ul>" in html
    assert '<div class="fr-highlight"><p>Attention</p></div>' in html
    assert "<pre><code>&lt;pre&gt;</code></pre>" in html


def test_markdown_resolves_doc_and_named_url_links():
    html = str(
        markdown.render("[a](doc:se-connecter) [b](url:users:login) [c](url:nexiste:pas) [d](doc:../x)")
    )
    assert f'<a href="{page_url("se-connecter")}">a</a>' in html
    assert f'<a href="{reverse("users:login")}">b</a>' in html
    assert " c " in html and " d" in html and "nexiste" not in html


def test_markdown_sections_give_plain_text_for_the_assistant():
    sections = markdown.sections(
        "Intro **gras**.\n\n## Étape 1\n\n- [lien](/x) et `code`\n\n## Étape 1\n\nFin."
    )
    assert [(s.anchor, s.heading) for s in sections] == [
        ("", ""),
        ("etape-1", "Étape 1"),
        ("etape-1-2", "Étape 1"),
    ]
    assert sections[0].lines == ["Intro gras."]
    assert sections[1].lines == ["lien et code"]


# Admin


@pytest.fixture
def operator_client(client):
    client.force_login(factories.UserFactory(email="operateur@exemple.fr", is_staff=True, is_superuser=True))
    return client


def test_operator_edits_a_page_with_its_preview(operator_client):
    page = DocPage.objects.get(slug="se-connecter")
    assert operator_client.get(reverse("admin:support_docpage_changelist")).status_code == 200
    response = operator_client.get(reverse("admin:support_docpage_change", args=[page.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert (
        '<div class="documentation-apercu" id="apercu-markdown"><h2 id="se-connecter">Se connecter</h2>'
        in html
    )
    assert reverse("admin:support_docpage_preview") in html
    assert operator_client.get(reverse("admin:support_docpage_add")).status_code == 200


def test_live_preview_renders_the_typed_markdown_escaped(operator_client):
    response = operator_client.post(
        reverse("admin:support_docpage_preview"), {"body": f"## Titre\n\n{SCRIPT}"}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert '<h2 id="titre">Titre</h2>' in html
    assert SCRIPT not in html and "&lt;script&gt;" in html


def test_live_preview_is_for_operators_only(client, principal_manager):
    url = reverse("admin:support_docpage_preview")
    assert client.post(url, {"body": "x"}).status_code == 302
    client.force_login(principal_manager)
    assert client.post(url, {"body": "x"}).status_code == 302


def test_the_agents_guide_is_listed_and_found_for_agents_only(client, principal_manager, staff_user):
    for who in (None, principal_manager):
        if who is not None:
            client.force_login(who)
        assert page_url("tickets-recus") not in client.get(DOCS).content.decode()
        results = [page.slug for page in client.get(DOCS, {"q": "M’affecter"}).context["results"]]
        assert "tickets-recus" not in results
    client.force_login(staff_user)
    assert page_url("tickets-recus") in client.get(DOCS).content.decode()
    assert "tickets-recus" in [page.slug for page in client.get(DOCS, {"q": "M’affecter"}).context["results"]]
