"""Paginated lists stay accessible on their first page (greyed links included)."""

import pytest
from playwright.sync_api import expect

from tests import factories
from tests.browser.test_shell_journeys import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_first_page_of_a_long_users_list_is_accessible(page):
    structure = factories.StructureFactory()
    manager = factories.UserFactory(email="gp@exemple.fr")
    factories.attach(manager, structure)
    for _ in range(30):
        factories.attach(factories.UserFactory(), structure)
    log_in(page, manager.email)
    page.check()
    page.goto("/organisation/utilisateurs/")
    expect(page.get_by_role("navigation", name="Pagination")).to_be_visible()
    page.check()
