"""The application search in a real browser: a user's own word (a synonym) finds the
application and its guide; a search that finds nothing leads to the documentation search
and to the assistant, with the words already typed."""

import re
from importlib import import_module

import pytest
from django.apps import apps
from playwright.sync_api import expect

from support.models import DocPage
from tests import factories
from tests.browser.test_shell_journeys import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def docs(catalogue):
    """Transactional tests start from empty tables: put the seeded pages back."""
    if not DocPage.objects.exists():
        import_module("support.migrations.0003_documentation").seed_pages(apps, None)


def search_from_the_header(page, words):
    header = page.get_by_role("search").first
    header.get_by_label("Rechercher une application").fill(words)
    header.get_by_role("button", name="Rechercher").click()
    page.wait_for_url(re.compile(r"/recherche/\?q="))
    page.check()


def test_a_manager_finds_the_bank_details_by_typing_rib_and_gets_help_when_nothing_matches(page, docs):
    structure = factories.StructureFactory(company_name="Menuiserie Martin")
    manager = factories.UserFactory(email="gp@exemple.fr")
    factories.attach(manager, structure)
    log_in(page, manager.email)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Bonjour")
    page.check()

    # "RIB" is not in any application's name: the synonym finds it, and its guide.
    search_from_the_header(page, "RIB")
    applications = page.get_by_role("region", name="Applications")
    expect(applications.get_by_role("link", name="Créer une coordonnée bancaire")).to_be_visible()
    guides = page.get_by_role("region", name="Dans la documentation")
    expect(guides.get_by_role("link", name="Créer une coordonnée bancaire")).to_have_attribute(
        "href", "/support/documentation/creer-une-coordonnee-bancaire/"
    )
    expect(page.get_by_text("Rien ne correspond")).to_have_count(0)
    applications.get_by_role("link", name="Créer une coordonnée bancaire").click()
    page.wait_for_url(re.compile(r"/organisation/"))
    page.check()

    # Nothing matches: the documentation search and the assistant, for the same words.
    search_from_the_header(page, "affacturage inversé")
    main = page.get_by_role("main")
    expect(main).to_contain_text("Rien ne correspond à « affacturage inversé »")
    main.get_by_role("link", name="Chercher dans la documentation").click()
    page.wait_for_url(re.compile(r"/support/documentation/\?q=affacturage"))
    page.check()
    expect(page.get_by_role("searchbox", name=re.compile("^Mots-clés"))).to_have_value("affacturage inversé")
    page.go_back()
    page.get_by_role("main").get_by_role("link", name="Poser la question à l’assistant").click()
    page.wait_for_url(re.compile(r"/support/assistant/\?question="))
    page.check()
    question = page.get_by_role("main").get_by_role("textbox", name=re.compile("^Votre question"))
    expect(question).to_have_value("affacturage inversé")
    expect(question).to_be_focused()
    page.get_by_role("main").get_by_role("button", name="Envoyer").click()
    expect(page.get_by_role("heading", name="Réponse")).to_be_visible()
    expect(page.get_by_role("main")).to_contain_text("affacturage inversé")
    page.check()


def test_a_user_never_finds_the_agents_back_office(page, docs):
    user = factories.UserFactory(email="camille@exemple.fr")
    log_in(page, user.email)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Bonjour")
    page.check()
    search_from_the_header(page, "tickets reçus")
    main = page.get_by_role("main")
    expect(main.get_by_role("link", name="Tickets reçus")).to_have_count(0)
    expect(main.get_by_role("link", name=re.compile("agents du support"))).to_have_count(0)
