"""Two-factor authentication in a real browser: enrol an authenticator app from the
QR code page, log out, log in again with a code."""

from base64 import b32decode

import pytest
from django_otp.oath import TOTP
from playwright.sync_api import expect

from tests import factories
from tests.browser.test_shell_journeys import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def code_from_secret(secret, steps_ahead=0):
    """What the user's app shows for the key typed by hand, `steps_ahead` periods from now."""
    key = secret.replace(" ", "")
    totp = TOTP(b32decode(key + "=" * (-len(key) % 8)))
    totp.time = totp.time + steps_ahead * 30
    return f"{totp.token():06d}"


def open_user_menu(page, name):
    page.get_by_role("navigation", name="Menu principal").get_by_role("button", name=name).click()


def test_enrol_from_the_qr_code_page_then_log_in_with_a_code(page):
    factories.UserFactory(email="prudent@exemple.fr", first_name="Paul", last_name="Prudent")
    log_in(page, "prudent@exemple.fr")
    page.check()

    open_user_menu(page, "Paul Prudent")
    page.get_by_role("link", name="Sécurité du compte").click()
    page.check()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sécurité du compte")
    page.get_by_role("link", name="Activer la double authentification").click()
    page.check()
    expect(page.locator(".portail-qr-code svg")).to_be_visible()
    secret = page.locator("#two-factor-secret").inner_text()

    page.get_by_label("Code de vérification").fill("000000")
    page.get_by_role("button", name="Soumettre").click()
    expect(page.get_by_role("main")).to_contain_text("Code incorrect.")
    page.check()
    page.get_by_label("Code de vérification").fill(code_from_secret(secret))
    page.get_by_role("button", name="Soumettre").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Vos codes de secours")
    expect(page.locator(".portail-recovery-codes li")).to_have_count(10)
    page.check()
    with page.expect_download() as download:
        page.get_by_role("link", name="Télécharger les codes (fichier texte)").click()
    assert download.value.suggested_filename.endswith(".txt")
    page.get_by_role("button", name="J’ai conservé mes codes de secours").click()
    expect(page.get_by_role("main")).to_contain_text("Activée")
    page.check()

    open_user_menu(page, "Paul Prudent")
    page.get_by_role("button", name="Se déconnecter").click()
    expect(page.get_by_role("main")).to_contain_text("Vous êtes déconnecté.")

    log_in(page, "prudent@exemple.fr")
    expect(page.get_by_role("heading", level=1)).to_have_text("Vérification de votre identité")
    page.check()
    # The code of the next period: the one given at enrolment cannot serve twice.
    page.get_by_label("Code de vérification").fill(code_from_secret(secret, steps_ahead=1))
    page.get_by_role("main").get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Bonjour")
    page.check()


def _enrolled(email):
    """A user whose authenticator is confirmed, and the code function of their app."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from users.services import two_factor

    user = factories.UserFactory(email=email, first_name="Paul", last_name="Prudent")
    device = TOTPDevice.objects.create(user=user, name="default", confirmed=True)
    two_factor._new_recovery_codes(user)
    user.two_factor_enabled = True
    user.save(update_fields=["two_factor_enabled"])

    def code(steps_ahead=0):
        totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
        totp.time = totp.time + steps_ahead * device.step
        return f"{totp.token():06d}"

    return user, code


def test_new_recovery_codes_ask_for_the_password_and_a_code(page):
    _user, code = _enrolled("prudent@exemple.fr")
    log_in(page, "prudent@exemple.fr")
    expect(page.get_by_role("heading", level=1)).to_have_text("Vérification de votre identité")
    page.check()
    page.get_by_label("Code de vérification").fill(code())
    page.get_by_role("main").get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Bonjour")
    page.check()

    page.goto("/compte/securite/")
    page.check()
    page.get_by_role("link", name="Générer de nouveaux codes de secours").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Générer de nouveaux codes de secours")
    page.check()
    page.get_by_label("Mot de passe actuel").fill("Mauvais-Secret-2026")
    page.get_by_label("Code de vérification").fill(code(1))
    page.get_by_role("button", name="Générer de nouveaux codes").click()
    expect(page.get_by_role("main")).to_contain_text("Mot de passe incorrect.")
    page.check()
    page.get_by_label("Mot de passe actuel").fill(factories.PASSWORD)
    page.get_by_label("Code de vérification").fill(code(1))
    page.get_by_role("button", name="Générer de nouveaux codes").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Vos codes de secours")
    expect(page.locator(".portail-recovery-codes li")).to_have_count(10)
    page.check()


def test_a_locked_two_factor_user_unlocks_with_password_and_code(page):
    _user, code = _enrolled("prudent@exemple.fr")
    for attempt in range(5):  # a stranger guessing
        log_in(page, "prudent@exemple.fr", f"Mauvais-Secret-{attempt}")
    expect(page.get_by_role("alert")).to_contain_text("Votre compte est verrouillé")
    page.check()

    page.get_by_role("link", name="Débloquer avec un code").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Débloquer mon compte avec un code")
    page.check()
    page.get_by_label("Adresse électronique").fill("prudent@exemple.fr")
    page.get_by_label("Mot de passe").fill(factories.PASSWORD)
    page.get_by_label("Code de vérification").fill(code())
    page.get_by_role("button", name="Débloquer et me connecter").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Bonjour")
    expect(page.get_by_role("main")).to_contain_text("Votre compte est débloqué.")
    page.check()
