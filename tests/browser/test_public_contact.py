"""The logged-out contact form in a real browser: a solved question copied into another
visitor's form is refused, and the new question shown opens the ticket."""

import re

import pytest
from playwright.sync_api import expect

from support.models import Ticket
from tests.browser.test_tickets import demo  # noqa: F401 (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def fill_the_form(page, email):
    page.goto("/support/contact/")
    page.check()
    page.get_by_label("Catégorie *", exact=True).select_option(label="Compte et connexion")
    page.get_by_label("Sous-catégorie *", exact=True).select_option(
        label="Compte bloqué ou mot de passe oublié"
    )
    page.get_by_label("Adresse électronique *").fill(email)
    page.get_by_label("Titre *", exact=True).fill("Compte bloqué")
    page.get_by_label("Description *").fill("Mon compte est bloqué après cinq essais.")


def answer_the_question(page):
    question = page.get_by_label(re.compile("Vérification : combien font"))
    a, b = map(
        int, re.search(r"(\d+) \+ (\d+)", question.evaluate("el => el.labels[0].textContent")).groups()
    )
    question.fill(str(a + b))
    page.wait_for_timeout(3000)  # people take a few seconds; robots do not
    return str(a + b)


def test_a_solved_question_reused_by_another_visitor_opens_no_second_ticket(page, demo, mailoutbox):  # noqa: F811
    fill_the_form(page, "premier@exemple.fr")
    answer = answer_the_question(page)
    solved = page.locator("input[name=challenge]").input_value()
    page.get_by_role("button", name="Soumettre").click()
    page.wait_for_url("**/support/contact/confirmation/")
    page.check()

    # Another visitor (no cookie) sends the question and answer already used.
    page.context.clear_cookies()
    fill_the_form(page, "second@exemple.fr")
    page.locator("input[name=challenge]").evaluate("(input, value) => { input.value = value; }", solved)
    page.get_by_label(re.compile("Vérification : combien font")).fill(answer)
    page.get_by_role("button", name="Soumettre").click()
    expect(page.get_by_role("main")).to_contain_text(
        "Cette vérification a déjà servi : répondez à la nouvelle question."
    )
    expect(page.get_by_label(re.compile("Vérification : combien font"))).to_have_value("")
    expect(page.get_by_label("Titre *", exact=True)).to_have_value("Compte bloqué")
    page.check()
    assert Ticket.objects.count() == 1

    answer_the_question(page)
    page.get_by_role("button", name="Soumettre").click()
    page.wait_for_url("**/support/contact/confirmation/")
    page.check()
    assert sorted(Ticket.objects.values_list("contact_email", flat=True)) == [
        "premier@exemple.fr",
        "second@exemple.fr",
    ]
