"""The virtual assistant and the documentation in a real browser: the bubble opens an
accessible dialog, answers from the documentation with links to its pages, shows a
question's HTML as text, and each application's "i" link opens its guide."""

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


def open_assistant(page):
    bubble = page.get_by_role("button", name="Assistant virtuel")
    expect(bubble).to_have_attribute("aria-expanded", "false")
    bubble.click()
    dialog = page.get_by_role("dialog", name="Assistant virtuel")
    expect(dialog).to_be_visible()
    expect(bubble).to_have_attribute("aria-expanded", "true")
    question = dialog.get_by_role("textbox", name=re.compile("^Votre question"))
    expect(question).to_be_focused()
    return bubble, dialog, question


def test_principal_manager_asks_how_to_add_an_iban_on_the_bank_details_page(page, docs):
    structure = factories.StructureFactory(company_name="Menuiserie Martin")
    manager = factories.UserFactory(email="gp@exemple.fr")
    factories.attach(manager, structure)
    log_in(page, manager.email)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Bonjour")
    page.check()

    page.goto("/organisation/structure/coordonnees-bancaires/")
    page.check()
    expect(page.get_by_role("link", name="Aide : Gérer une coordonnée bancaire")).to_have_attribute(
        "href", "/support/documentation/gerer-une-coordonnee-bancaire/"
    )
    bubble, dialog, question = open_assistant(page)
    page.check()

    question.fill("comment ajouter un IBAN ?")
    dialog.get_by_role("button", name="Envoyer").click()
    expect(dialog).to_contain_text("Voici ce que dit la documentation")
    answer_link = dialog.get_by_role("link", name=re.compile("^Créer une coordonnée bancaire"))
    expect(answer_link).to_have_attribute(
        "href", re.compile(r"^/support/documentation/creer-une-coordonnee-bancaire/")
    )
    expect(dialog).to_contain_text("comment ajouter un IBAN ?")
    expect(question).to_have_value("")
    page.check()

    # Escape closes the dialog and gives the focus back to the bubble.
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(bubble).to_be_focused()
    expect(bubble).to_have_attribute("aria-expanded", "false")

    # The answer's link opens the documentation page.
    bubble.click()
    answer_link.click()
    page.wait_for_url(re.compile(r"/support/documentation/creer-une-coordonnee-bancaire/"))
    page.check()
    expect(page.get_by_role("heading", level=1)).to_have_text("Créer une coordonnée bancaire")


def test_i_link_opens_the_guide_of_the_application(page, docs):
    structure = factories.StructureFactory()
    manager = factories.UserFactory(email="gp@exemple.fr")
    factories.attach(manager, structure)
    log_in(page, manager.email)
    page.check()
    page.goto("/organisation/structure/transfert-gestionnaire-principal/")
    page.check()
    page.get_by_role("link", name="Aide : Transférer le gestionnaire principal").click()
    page.wait_for_url(re.compile(r"/support/documentation/transferer-le-gestionnaire-principal/$"))
    page.check()
    expect(page.get_by_role("heading", level=1)).to_have_text("Transférer le gestionnaire principal")
    expect(
        page.get_by_role("link", name="Ouvrir l’application « Transférer le gestionnaire principal »")
    ).to_be_visible()


def test_anonymous_visitor_sees_html_as_text_and_is_offered_the_right_buttons(page, docs):
    page.goto("/")
    page.check()
    _bubble, dialog, question = open_assistant(page)

    typed = '<img src=x onerror="window.pwned = 1">je n’ai pas reçu mon lien d’activation'
    question.fill(typed)
    question.press("Enter")
    expect(dialog.get_by_text(typed)).to_be_visible()
    assert page.evaluate("window.pwned") is None
    expect(dialog.get_by_role("link", name="Recevoir un nouveau lien d’activation")).to_have_attribute(
        "href", "/compte/activation/nouveau-lien/"
    )

    question.fill("Quelle est la météo à Paris demain ?")
    question.press("Enter")
    expect(dialog).to_contain_text("Je n’ai pas trouvé de réponse sûre dans la documentation.")
    expect(dialog.get_by_role("link", name="Ouvrir un ticket").last).to_be_visible()
    expect(dialog.get_by_role("link", name="Échanger avec un agent").last).to_be_visible()

    question.fill("")
    dialog.get_by_role("button", name="Envoyer").click()
    # The browser itself asks for the question (required): nothing is sent.
    expect(dialog.locator(".portail-assistant__echange")).to_have_count(2)
    page.check()

    dialog.get_by_role("button", name="Fermer l’assistant").click()
    expect(dialog).to_be_hidden()


def test_documentation_search_finds_a_page(page, docs):
    page.goto("/support/documentation/")
    page.check()
    search = page.get_by_role("search", name="Rechercher dans la documentation")
    search.get_by_role("searchbox", name=re.compile("^Mots-clés")).fill("coordonnee bancaire")
    search.get_by_role("button", name="Rechercher").click()
    page.wait_for_url(re.compile(r"\?q=coordonnee"))
    page.check()
    page.get_by_role("main").get_by_role("link", name="Créer une coordonnée bancaire").click()
    page.wait_for_url(re.compile(r"/support/documentation/creer-une-coordonnee-bancaire/$"))
    page.check()
