"""Échange avec un agent in two browsers: utilisateur@exemple.fr asks, agent@exemple.fr
takes the chat and answers; each side sees the other's messages appear without reloading."""

import io

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from support.models import Category, ChatMessage, ChatSession, SubCategory
from tests.browser.conftest import CheckedPage
from tests.browser.test_shell_journeys import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

THEME = "Compte et connexion (essai)"
QUESTION = "Bonjour, <b>mon compte</b> est bloqué <script>window.pwned = 1</script>"
ANSWER = "Bonjour, je débloque votre compte tout de suite."


@pytest.fixture
def demo(catalogue, settings):
    # Agents answer around the clock for this test, whatever time it runs.
    settings.SUPPORT_CHAT_HOURS = ("00:00", "23:59")
    settings.SUPPORT_CHAT_DAYS = (0, 1, 2, 3, 4, 5, 6)
    settings.SUPPORT_CHAT_CLOSED_ON_PUBLIC_HOLIDAYS = False
    call_command("seed_demo", stdout=io.StringIO())
    theme = Category.objects.create(name=THEME, order=0)
    SubCategory.objects.create(category=theme, name="Compte bloqué", object_type="Compte")
    return theme


@pytest.fixture
def agent_page(browser, live_server, catalogue):
    context = browser.new_context(
        base_url=live_server.url, locale="fr-FR", viewport={"width": 1280, "height": 900}
    )
    context.set_default_timeout(10_000)
    checked_page = CheckedPage(context.new_page())
    yield checked_page
    unchecked = checked_page.unchecked()
    context.close()
    assert not unchecked, f"pages visited without an accessibility check: {sorted(unchecked)}"


def log_in_and_check(page, email):
    log_in(page, email)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Bonjour")
    page.check()


def message_list(page):
    return page.locator("#chat-messages")


def test_user_and_agent_exchange_messages_without_reloading(page, agent_page, demo):
    # The user opens a chat on a theme.
    log_in_and_check(page, "utilisateur@exemple.fr")
    page.goto("/support/echange/")
    page.check()
    page.get_by_label(THEME).check(force=True)  # the DSFR label covers the radio
    page.get_by_role("button", name="Soumettre").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Échange du")
    expect(page.locator("#chat-status")).to_have_text("En attente d’un agent")
    page.check()
    session = ChatSession.objects.get()

    # The agent sees it waiting under its theme, and takes it.
    log_in_and_check(agent_page, "agent@exemple.fr")
    agent_page.goto("/support/agents/echanges/")
    agent_page.check()
    waiting = agent_page.get_by_role("table", name=f"{THEME} : 1 échange en attente")
    expect(waiting).to_contain_text("Lucas Petit")
    waiting.get_by_role("button", name="Prendre en charge").click()
    expect(agent_page.get_by_role("heading", level=1)).to_contain_text("Échange du")
    agent_page.check()
    expect(page.locator("#chat-status")).to_have_text("En cours")

    # Neither page reloads from here on: a marker set in each window must survive.
    for side in (page, agent_page):
        side.evaluate("window.chatMarker = 'same page'")

    # An empty message is refused in place, with the reason.
    expect(page.locator("#chat-form-error")).to_be_hidden()
    page.get_by_role("button", name="Soumettre").click()
    expect(page.locator("#chat-form-error")).to_have_text("Écrivez un message avant de l’envoyer.")

    # The user writes (HTML and script included): the agent's page shows it, as text.
    page.get_by_label("Votre message").fill(QUESTION)
    page.get_by_role("button", name="Soumettre").click()
    expect(message_list(page)).to_contain_text(QUESTION)
    expect(page.get_by_label("Votre message")).to_have_value("")
    expect(page.locator("#chat-form-error")).to_be_hidden()
    expect(message_list(agent_page)).to_contain_text(QUESTION)
    assert agent_page.locator("#chat-messages b").count() == 0
    assert agent_page.evaluate("window.pwned") is None

    # The agent answers: the user's page shows it.
    agent_page.get_by_label("Votre message").fill(ANSWER)
    agent_page.get_by_role("button", name="Soumettre").click()
    expect(message_list(page)).to_contain_text(ANSWER)
    expect(message_list(page).locator("li").last).to_contain_text("Julien, agent du support")
    page.check()
    agent_page.check()
    for side in (page, agent_page):
        assert side.evaluate("window.chatMarker") == "same page"

    assert list(ChatMessage.objects.order_by("id").values_list("body", flat=True)) == [QUESTION, ANSWER]

    # The user ends the chat; the agent's page says so and stops offering the form.
    page.get_by_role("button", name="Terminer l’échange").click()
    expect(page.get_by_role("main")).to_contain_text("L’échange est terminé.")
    page.check()
    expect(agent_page.locator("#chat-status")).to_have_text("Terminé")
    expect(agent_page.locator("#chat-form")).to_be_hidden()
    session.refresh_from_db()
    assert session.status == ChatSession.Status.TERMINE
