"""On a phone (375 px): the waiting approvals in sight without opening the menu, and the
lists' filters folded so that the list comes first, unless a filter is applied."""

import io
import re

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from approvals import services as approvals
from structures.models import Structure
from tests import factories
from tests.browser.test_shell_journeys import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo(catalogue):
    """The demo accounts; three people ask to join the principal manager's company."""
    call_command("seed_demo", stdout=io.StringIO())
    company = Structure.objects.get(company_name="Atelier Textile du Nord")
    for n in range(3):
        requester = factories.UserFactory(email=f"demandeur{n}@exemple.fr")
        approvals.request_attachment(requester=requester, structure=company, comment="Nouvelle recrue")


def _log_in(page, email):
    log_in(page, email)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Bonjour")
    page.check()


def test_the_waiting_approvals_are_in_sight_on_a_phone(mobile_page, demo):
    page = mobile_page
    _log_in(page, "gestionnaire@exemple.fr")
    banner = page.get_by_role("banner")
    # The menu is closed: its links are out of sight, the count is not.
    expect(banner.get_by_role("button", name="Menu")).to_be_visible()
    expect(page.get_by_role("navigation", name="Menu principal")).to_be_hidden()
    approvals_link = banner.get_by_role("link", name="Approbations : 3 en attente")
    expect(approvals_link).to_be_visible()
    expect(approvals_link.locator(".fr-badge")).to_be_visible()
    expect(approvals_link.locator(".fr-badge")).to_have_text("3")
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 375

    approvals_link.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Approbations")
    page.check()
    expect(page.get_by_role("table")).to_contain_text("3 demandes en attente")


def test_no_count_when_nothing_waits(mobile_page, demo):
    _log_in(mobile_page, "utilisateur@exemple.fr")
    approvals_link = mobile_page.get_by_role("banner").get_by_role("link", name="Approbations", exact=True)
    expect(approvals_link).to_be_visible()
    expect(approvals_link.locator(".fr-badge")).to_have_count(0)


def test_list_filters_are_folded_on_a_phone_unless_one_is_applied(mobile_page, demo):
    page = mobile_page
    _log_in(page, "gestionnaire@exemple.fr")

    page.goto("/organisation/utilisateurs/")
    page.check()
    filters = page.get_by_role("search", name="Rechercher des utilisateurs")
    toggle = filters.get_by_text("Filtres", exact=True)
    expect(filters.get_by_label("Statut du rattachement")).to_be_hidden()
    # Folded, they leave the list near the top of the page.
    folded_top = page.get_by_role("table").bounding_box()["y"]

    toggle.click()
    expect(filters.get_by_label("Statut du rattachement")).to_be_visible()
    assert page.get_by_role("table").bounding_box()["y"] > folded_top + 300
    filters.get_by_label("Statut du rattachement").select_option(label="Validé")
    filters.get_by_role("button", name="Rechercher").click()
    page.wait_for_url(re.compile(r"status=VALIDEE"))
    page.check()
    # A filter is applied: the filters stay open, showing it.
    filters = page.get_by_role("search", name="Rechercher des utilisateurs")
    expect(filters.get_by_label("Statut du rattachement")).to_be_visible()
    expect(filters.get_by_label("Statut du rattachement")).to_have_value("VALIDEE")

    for url, search, field in [
        ("/approbations/", "Filtrer les demandes", "Type de demande"),
        ("/support/tickets/", "Rechercher dans les tickets", "Catégorie"),
    ]:
        page.goto(url)
        page.check()
        filters = page.get_by_role("search", name=search)
        expect(filters.get_by_text("Filtres", exact=True)).to_be_visible()
        expect(filters.get_by_label(field)).to_be_hidden()


def test_list_filters_are_open_on_a_wide_screen(page, demo):
    _log_in(page, "gestionnaire@exemple.fr")
    page.goto("/organisation/utilisateurs/")
    page.check()
    filters = page.get_by_role("search", name="Rechercher des utilisateurs")
    expect(filters.get_by_label("Statut du rattachement")).to_be_visible()
    # They can still be folded.
    filters.get_by_text("Filtres", exact=True).click()
    expect(filters.get_by_label("Statut du rattachement")).to_be_hidden()
