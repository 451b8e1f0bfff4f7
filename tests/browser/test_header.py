"""The header in a real browser: one user icon, and no warning of the DSFR script (or
any other) on the console, on a phone and on a desktop."""

import pytest
from playwright.sync_api import expect

from tests import factories
from tests.browser.test_shell_journeys import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ANONYMOUS_PAGES = ["/", "/compte/connexion/", "/compte/inscription/"]
USER_PAGES = ["/", "/domaines/organisation/", "/recherche/?q=habilitations"]


def console_problems(page):
    """Warnings and errors the page's scripts write to the console."""
    problems = []

    def keep(message):
        if message.type in ("warning", "error"):
            problems.append(f"{page.url}: {message.text}")

    page.on("console", keep)
    return problems


def visit(page, path):
    page.goto(path)
    page.check()
    # The DSFR script starts its components after load, then checks them frame by frame.
    page.wait_for_function("() => document.documentElement.hasAttribute('data-fr-js')")
    page.evaluate("() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))")


def user():
    structure = factories.StructureFactory()
    camille = factories.UserFactory(email="camille@exemple.fr", first_name="Camille", last_name="Martin")
    factories.attach(camille, structure)
    return camille


@pytest.mark.parametrize("viewport", ["page", "mobile_page"])
def test_pages_write_no_warning_on_the_console(request, viewport):
    page = request.getfixturevalue(viewport)
    problems = console_problems(page)
    for path in ANONYMOUS_PAGES:
        visit(page, path)
    log_in(page, user().email)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Bonjour")
    for path in USER_PAGES:
        visit(page, path)

    assert problems == []


def test_search_modal_is_named_by_its_button_on_a_phone(mobile_page):
    visit(mobile_page, "/")
    mobile_page.get_by_role("button", name="Rechercher une application").click()

    dialog = mobile_page.get_by_role("dialog", name="Rechercher une application")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("searchbox", name="Rechercher une application")).to_be_visible()


# The icons an element draws: its ::before and ::after that are rendered with a mask.
ICONS_OF = """element => ['::before', '::after']
    .map(pseudo => getComputedStyle(element, pseudo))
    .filter(style => style.content !== 'none' && style.display !== 'none')
    .map(style => style.maskImage)
    .filter(image => image && image !== 'none')
    .map(image => image.split('/').pop().replace(/\\.svg.*$/, ''))"""


def test_user_menu_button_draws_one_user_icon_and_its_chevron(page):
    log_in(page, user().email)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Bonjour")
    page.check()

    button = page.get_by_role("button", name="Camille Martin")
    icons = button.evaluate(ICONS_OF) + [
        icon for child in button.locator("*").all() for icon in child.evaluate(ICONS_OF)
    ]
    assert sorted(icons) == ["account-circle-line", "arrow-down-s-line"]
