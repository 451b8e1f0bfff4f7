"""The operators' back-office in a real browser: an account with a history cannot be
deleted, the message points to deactivation, and the deactivation action works."""

import re

import pytest
from playwright.sync_api import expect

from chorus.models import AuditEvent
from tests import factories
from tests.browser.test_shell_journeys import log_in
from users.models import User

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_operator_deactivates_an_account_that_cannot_be_deleted(page):
    operator = factories.UserFactory(email="exploitation@exemple.fr", is_staff=True, is_superuser=True)
    structure = factories.StructureFactory(company_name="Entreprise Exemple")
    manager = factories.UserFactory(email="gp@exemple.fr")
    factories.attach(manager, structure)
    log_in(page, operator.email)
    page.check()

    # Deleting the account is refused, with the way out: the list, showing that
    # account, where the deactivation action is.
    page.goto(f"/admin/users/user/{manager.pk}/delete/")
    page.wait_for_url(re.compile(rf"/admin/users/user/\?id__exact={manager.pk}$"))
    expect(page.locator(".messagelist")).to_contain_text("a un historique")
    expect(page.locator(".messagelist")).to_contain_text("Désactiver les comptes sélectionnés")
    page.check()
    assert User.objects.filter(pk=manager.pk).exists()

    page.get_by_role("row", name=re.compile("gp@exemple.fr")).get_by_role("checkbox").check()
    page.get_by_role("combobox", name=re.compile("^Action")).select_option(
        label="Désactiver les comptes sélectionnés (leur historique est conservé)"
    )
    page.get_by_role("button", name=re.compile("Envoyer|Go")).click()
    expect(page.locator(".messagelist")).to_contain_text("1 compte désactivé")
    page.check()
    manager.refresh_from_db()
    assert not manager.is_active
    assert AuditEvent.objects.filter(
        action="user_deactivate", actor=operator, object_id=str(manager.pk)
    ).exists()
