"""The portal shell in a real browser: audiences, menus, search, language, mobile."""

import re

import pytest
from playwright.sync_api import expect

from chorus.models import Level
from tests import factories

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_in(page, email, password=factories.PASSWORD):
    page.goto("/compte/connexion/")
    page.check()
    page.get_by_label("Adresse électronique").fill(email)
    page.get_by_label("Mot de passe").first.fill(password)
    page.get_by_role("main").get_by_role("button", name="Se connecter").click()


def test_anonymous_visitor_switches_audience_tab(page):
    page.goto("/")
    page.check()
    expect(page.get_by_role("heading", level=1)).to_have_text("Vous êtes une entreprise")
    page.get_by_role("navigation", name="Menu principal").get_by_role("link", name="Entité publique").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Vous êtes une entité publique")
    page.check()
    expect(page.get_by_role("heading", name="Facture reçue")).to_be_visible()


def test_user_finds_an_application_with_the_header_search(page):
    structure = factories.StructureFactory()
    user = factories.UserFactory(email="camille@exemple.fr")
    factories.attach(user, structure)
    log_in(page, user.email)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Bonjour")
    page.check()
    page.get_by_role("search").first.get_by_label("Rechercher une application").fill("habilitations")
    page.get_by_role("search").first.get_by_role("button", name="Rechercher").click()
    page.wait_for_url(re.compile(r"/recherche/\?q=habilitations"))
    page.check()
    results = page.get_by_role("main").get_by_role("region", name="Applications")
    expect(results.get_by_role("link", name="Gérer les habilitations des utilisateurs")).to_be_visible()
    expect(results.get_by_role("link", name="Gérer mes habilitations")).to_be_visible()


def test_domain_menu_opens_the_domain_page(page):
    structure = factories.StructureFactory()
    user = factories.UserFactory(email="lea@exemple.fr")
    factories.attach(user, structure)
    factories.grant(user, structure, "FACTURE_EMISE", Level.CONSULTATION)
    log_in(page, user.email)
    page.check()
    nav = page.get_by_role("navigation", name="Menu principal")
    nav.get_by_role("button", name="Organisation").click()
    nav.get_by_role("link", name="Accéder au domaine").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile("Organisation"))
    page.check()
    expect(page.get_by_role("navigation", name="vous êtes ici :")).to_be_visible()


def test_language_switch_in_the_footer(page):
    page.goto("/")
    page.check()
    page.get_by_role("contentinfo").get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_have_text("You are a company")
    page.check()


def test_mobile_menu_opens_from_the_burger_button(mobile_page):
    page = mobile_page
    page.goto("/")
    page.check()
    nav = page.get_by_role("navigation", name="Menu principal")
    expect(nav).to_be_hidden()
    page.get_by_role("button", name="Menu").click()
    expect(nav.get_by_role("link", name="Particulier")).to_be_visible()
