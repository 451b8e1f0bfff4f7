"""Account journeys in a real browser: sign-up to home, lockout, the demo logins."""

import io
import re

import pytest
from django.core import mail
from django.core.management import call_command
from playwright.sync_api import expect

from tests import factories
from tests.browser.test_shell_journeys import log_in
from users.models import User

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LINK = re.compile(r"https?://\S+/compte/activation/\S+/")


def test_sign_up_activate_log_in_and_see_the_domains(page):
    page.goto("/")
    page.check()
    page.get_by_role("main").get_by_role("link", name="Créer un compte").click()
    page.check()
    # The password rules are there before anything is typed.
    expect(page.locator("#id_password1_helptext")).to_be_visible()
    expect(page.locator("#id_password1_helptext")).to_contain_text("au minimum 12 caractères")
    page.get_by_label("Prénom").fill("Claire")
    page.get_by_role("textbox", name=re.compile(r"^Nom\b")).fill("Dupont")
    page.get_by_label("Adresse électronique").fill("claire.dupont@exemple.fr")
    page.get_by_label("Mot de passe", exact=False).first.fill("Velours-Cotonnier-2026")
    page.get_by_label("Confirmation du mot de passe").fill("Velours-Cotonnier-2026")
    page.get_by_role("button", name="Créer mon compte").click()
    expect(page.get_by_role("main")).to_contain_text("claire.dupont@exemple.fr")
    page.check()

    # The activation link arrives by email; following it activates the account.
    assert len(mail.outbox) == 1
    link = LINK.search(mail.outbox[0].body).group(0)
    page.goto(link)
    page.check()
    expect(page.get_by_role("main")).to_contain_text("activé")

    log_in(page, "claire.dupont@exemple.fr", "Velours-Cotonnier-2026")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Bonjour")
    page.check()
    user = User.objects.get(email="claire.dupont@exemple.fr")
    assert (user.first_name, user.last_name) == ("Claire", "Dupont")
    for domain in ("Facturation", "Organisation", "Support"):
        expect(page.get_by_role("heading", level=2, name=domain)).to_be_visible()
    # Attached to no structure yet: the Organisation tools are greyed with how to ask.
    expect(page.get_by_test_id("application-indisponible").first).to_be_visible()


def test_sign_up_with_an_existing_email_answers_as_a_new_one_and_tells_the_owner(page):
    factories.UserFactory(email="deja@exemple.fr")
    page.goto("/compte/inscription/")
    page.check()
    page.get_by_label("Prénom").fill("Denis")
    page.get_by_role("textbox", name=re.compile(r"^Nom\b")).fill("Déjà")
    page.get_by_label("Adresse électronique").fill("Deja@Exemple.fr")
    page.get_by_label("Mot de passe", exact=False).first.fill("Velours-Cotonnier-2026")
    page.get_by_label("Confirmation du mot de passe").fill("Velours-Cotonnier-2026")
    page.get_by_role("button", name="Créer mon compte").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Vérifiez votre messagerie")
    page.check()
    assert [message.to for message in mail.outbox] == [["deja@exemple.fr"]]
    assert "Quelqu’un a essayé de créer un compte" in mail.outbox[0].body


def test_five_wrong_passwords_lock_the_account(page):
    factories.UserFactory(email="distrait@exemple.fr")
    for attempt in range(5):
        log_in(page, "distrait@exemple.fr", f"Mauvais-Secret-{attempt}")
    expect(page.get_by_role("alert")).to_contain_text("Votre compte est verrouillé pendant une heure")
    page.check()

    log_in(page, "distrait@exemple.fr")  # the right password, too late
    expect(page.get_by_role("alert")).to_contain_text("Votre compte est verrouillé")
    expect(page.get_by_role("heading", level=1)).to_have_text("Connexion")


UNLOCK_LINK = re.compile(r"https?://\S+/compte/connexion/deblocage/\S+/")


def test_the_owner_of_a_locked_account_unlocks_it_by_email_and_logs_in(page):
    factories.UserFactory(email="proprietaire@exemple.fr")
    for attempt in range(5):  # a stranger guessing
        log_in(page, "proprietaire@exemple.fr", f"Mauvais-Secret-{attempt}")
    expect(page.get_by_role("alert")).to_contain_text("Votre compte est verrouillé")
    page.check()

    page.get_by_role("button", name="Recevoir un lien de déblocage").click()
    expect(page.get_by_role("main")).to_contain_text("un lien de déblocage valable 60 minutes")
    page.check()
    assert [message.to for message in mail.outbox] == [["proprietaire@exemple.fr"]]
    link = UNLOCK_LINK.search(mail.outbox[0].body).group(0)

    page.goto(link)
    expect(page.get_by_role("main")).to_contain_text("Votre compte est débloqué")
    page.check()
    page.get_by_label("Adresse électronique").fill("proprietaire@exemple.fr")
    page.get_by_label("Mot de passe").first.fill(factories.PASSWORD)
    page.get_by_role("main").get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Bonjour")
    page.check()


@pytest.mark.parametrize(
    ("email", "expected"),
    [
        ("gestionnaire@exemple.fr", "Transférer le gestionnaire principal"),
        ("delegue@exemple.fr", "Rattacher un utilisateur"),
        ("utilisateur@exemple.fr", "Gérer une structure"),
        ("nouveau@exemple.fr", "Demander un rattachement"),
        ("agent@exemple.fr", "Tickets reçus"),
        ("operateur@exemple.fr", "Administration"),
    ],
)
def test_every_demo_login_works(page, email, expected):
    call_command("seed_demo", stdout=io.StringIO())
    log_in(page, email, "Demo-Portail-2026")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Bonjour")
    page.check()
    expect(page.get_by_role("banner")).to_contain_text(expected)
