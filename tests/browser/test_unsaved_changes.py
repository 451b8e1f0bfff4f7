"""Invariant nothing-until-submit (docs/architecture.md): leaving a changed form warns, with
Quitter / Rester."""

import pytest
from playwright.sync_api import expect

from tests import factories
from tests.browser.test_shell_journeys import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_leaving_a_changed_form_asks_to_stay_or_quit(page):
    user = factories.UserFactory(email="marie@exemple.fr", first_name="Marie")
    log_in(page, user.email)
    page.check()
    page.goto("/compte/mon-compte/")
    page.check()
    page.get_by_label("Prénom").fill("Marie-Claude")

    page.get_by_role("banner").get_by_role("link", name="Portail Organisation", exact=True).click()
    dialog = page.get_by_role("dialog", name="Quitter la page ?")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Les modifications apportées seront perdues")
    page.check()

    dialog.get_by_role("button", name="Rester").click()
    expect(dialog).to_be_hidden()
    expect(page.get_by_label("Prénom")).to_have_value("Marie-Claude")

    page.get_by_role("banner").get_by_role("link", name="Portail Organisation", exact=True).click()
    dialog.get_by_role("link", name="Quitter").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Bonjour Marie")
    page.check()
    user.refresh_from_db()
    assert user.first_name == "Marie"
