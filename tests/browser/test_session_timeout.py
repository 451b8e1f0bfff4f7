"""The session's end is announced: a dialog shortly before the idle timeout, "Rester
connecté" restarts the clock, and without an answer the page leads to the login page.
The timeout and the warning are shortened by the settings to a few seconds."""

import re

import pytest
from django.contrib.sessions.backends.db import SessionStore
from playwright.sync_api import expect

from core import sessions
from tests import factories
from tests.browser.test_shell_journeys import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _stored_session(page):
    [cookie] = [c for c in page.context.cookies() if c["name"] == "sessionid"]
    return SessionStore(session_key=cookie["value"]).load()


def test_the_warning_dialog_opens_and_stay_logged_in_restarts_the_idle_clock(page, settings):
    settings.SESSION_IDLE_TIMEOUT = 60
    settings.SESSION_IDLE_WARNING = 55  # the dialog opens 5 seconds after the page
    user = factories.UserFactory(email="marie@exemple.fr", first_name="Marie")
    log_in(page, user.email)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Bonjour Marie")
    page.check()
    logged_in_at = _stored_session(page)[sessions.ACTIVITY_AT_KEY]

    dialog = page.get_by_role("dialog", name="Votre session va expirer")
    expect(dialog).to_be_visible(timeout=20_000)
    expect(dialog).to_contain_text(re.compile(r"vous serez déconnecté à \d\d:\d\d"))
    page.check()
    dialog.get_by_role("button", name="Rester connecté").click()

    expect(dialog).to_be_hidden()
    session = _stored_session(page)
    assert session[sessions.ACTIVITY_AT_KEY] > logged_in_at + 3
    assert session[sessions.LOGIN_AT_KEY] <= logged_in_at + 1
    page.goto("/compte/mon-compte/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Mon compte")
    page.check()


def test_without_an_answer_the_page_leads_to_the_login_page_which_says_why(page, settings):
    settings.SESSION_IDLE_TIMEOUT = 25
    settings.SESSION_IDLE_WARNING = 15
    user = factories.UserFactory(email="paul@exemple.fr", first_name="Paul")
    log_in(page, user.email)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Bonjour Paul")
    page.check()
    page.goto("/compte/mon-compte/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Mon compte")
    page.check()

    expect(page.get_by_role("dialog", name="Votre session va expirer")).to_be_visible(timeout=20_000)
    page.wait_for_url(re.compile(r"/compte/connexion/\?next="), timeout=30_000)

    expect(page.get_by_role("alert")).to_contain_text("Votre session a expiré, reconnectez-vous.")
    page.check()
    page.get_by_label("Adresse électronique").fill(user.email)
    page.get_by_label("Mot de passe").first.fill(factories.PASSWORD)
    page.get_by_role("main").get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Mon compte")
    page.check()
