import re
from datetime import timedelta
from types import SimpleNamespace
from unittest import mock

import pytest
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from chorus.models import AuditEvent, SecurityPolicy
from tests.factories import PASSWORD, UserFactory
from users.services import two_factor

LOCKOUT_MESSAGE = (
    "Votre compte est verrouillé pendant une heure après 5 tentatives de connexion infructueuses."
)
WRONG_CODE = "Code incorrect ou expiré."


def code_for(device, steps_ahead=0):
    """The code the user's app shows, `steps_ahead` periods of 30 s from now: a code
    already accepted once cannot be used again, the next one can."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = totp.time + steps_ahead * device.step
    return f"{totp.token():06d}"


def enrolled(user):
    """A user whose authenticator is confirmed, with their recovery codes."""
    device = TOTPDevice.objects.create(user=user, name="default", confirmed=True)
    codes = two_factor._new_recovery_codes(user)
    user.two_factor_enabled = True
    user.save(update_fields=["two_factor_enabled"])
    return device, codes


def log_in(client, email, password=PASSWORD):
    return client.post(reverse("users:login"), {"username": email, "password": password})


def give_code(client, code):
    return client.post(reverse("users:two_factor_verify"), {"code": code})


def is_logged_in(client):
    return "_auth_user_id" in client.session


def is_verified(client):
    return "otp_device_id" in client.session


@pytest.fixture
def mailbox(mailoutbox, monkeypatch):
    """Emails leave when the transaction commits; each test here runs inside one, so
    they are sent at once."""
    monkeypatch.setattr("core.mail.transaction", SimpleNamespace(on_commit=lambda func, **kwargs: func()))
    return mailoutbox


@pytest.fixture
def user(db):
    return UserFactory(email="agent@exemple.fr")


# Sécurité du compte: enrolment


def test_security_page_is_in_the_user_menu(client, user):
    client.force_login(user)

    response = client.get(reverse("users:account"))

    assert f'href="{reverse("users:security")}"' in response.text
    assert "Sécurité du compte" in response.text


def test_enrol_page_shows_qr_code_and_secret_without_script(client, user):
    client.force_login(user)

    response = client.get(reverse("users:two_factor_enrol"))

    device = TOTPDevice.objects.get(user=user, confirmed=False)
    assert response.status_code == 200
    assert "<svg" in response.text
    assert two_factor.secret_of(device) in response.text
    assert "data:" not in response.text.split("<svg", 1)[1].split("</svg>", 1)[0]
    # Reloading the page keeps the same key, so the QR code already scanned still works.
    client.get(reverse("users:two_factor_enrol"))
    assert TOTPDevice.objects.filter(user=user).count() == 1


def test_enrol_with_a_wrong_code_says_so_in_french(client, user):
    client.force_login(user)
    client.get(reverse("users:two_factor_enrol"))

    response = client.post(reverse("users:two_factor_enrol"), {"code": "000000"})

    assert response.status_code == 200
    assert "Code incorrect. Saisissez le code à 6 chiffres" in response.text
    user.refresh_from_db()
    assert not user.two_factor_enabled
    assert not TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def test_enrol_with_an_empty_code_says_so_in_french(client, user):
    client.force_login(user)

    response = client.post(reverse("users:two_factor_enrol"), {"code": ""})

    assert "Saisissez un code de vérification." in response.text


def test_enrol_confirms_the_app_and_shows_ten_recovery_codes_once(client, user, mailbox):
    client.force_login(user)
    client.get(reverse("users:two_factor_enrol"))
    device = TOTPDevice.objects.get(user=user)

    response = client.post(reverse("users:two_factor_enrol"), {"code": code_for(device)})

    assert response["Location"] == reverse("users:two_factor_recovery_codes")
    user.refresh_from_db()
    assert user.two_factor_enabled
    assert is_verified(client)
    page = client.get(reverse("users:two_factor_recovery_codes"))
    shown = re.findall(r"<code>([a-z2-7]{4} [a-z2-7]{4})</code>", page.text)
    assert len(shown) == 10
    stored = set(StaticToken.objects.filter(device__user=user).values_list("token", flat=True))
    assert {code.replace(" ", "") for code in shown} == stored

    download = client.get(reverse("users:two_factor_recovery_codes_download"))
    assert download["Content-Disposition"].startswith("attachment;")
    assert download["Content-Type"].startswith("text/plain")
    assert all(code in download.content.decode() for code in shown)

    client.post(reverse("users:two_factor_recovery_codes"))
    again = client.get(reverse("users:two_factor_recovery_codes"))
    assert again["Location"] == reverse("users:security")
    assert client.get(reverse("users:two_factor_recovery_codes_download")).status_code == 302

    event = AuditEvent.objects.get(action="two_factor_enable")
    assert event.actor == user
    assert event.changes == {"two_factor_enabled": {"before": False, "after": True}}
    assert [message.to for message in mailbox] == [["agent@exemple.fr"]]
    assert "double authentification est activée" in mailbox[0].subject


# Login with a second factor


def test_login_asks_for_a_code_after_the_password(client, user):
    device, _codes = enrolled(user)

    response = log_in(client, "agent@exemple.fr")

    assert response["Location"] == reverse("users:two_factor_verify")
    assert not is_logged_in(client)
    page = client.get(reverse("users:two_factor_verify"))
    assert "Recevoir un code par courriel" in page.text
    # Not logged in yet: the portal's pages still ask for the login.
    assert client.get(reverse("users:account"))["Location"].startswith(reverse("users:login"))

    response = give_code(client, code_for(device))

    assert response["Location"] == reverse("home")
    assert is_logged_in(client)
    assert is_verified(client)
    assert client.get(reverse("users:account")).status_code == 200


def test_login_with_a_wrong_code_says_so_and_does_not_log_in(client, user):
    enrolled(user)
    log_in(client, "agent@exemple.fr")

    response = give_code(client, "123456")

    assert response.status_code == 200
    assert WRONG_CODE in response.text
    assert not is_logged_in(client)


def test_login_goes_on_to_the_page_asked_for(client, user):
    device, _codes = enrolled(user)
    client.post(
        reverse("users:login"),
        {"username": "agent@exemple.fr", "password": PASSWORD, "next": reverse("users:account")},
    )

    response = give_code(client, code_for(device))

    assert response["Location"] == reverse("users:account")


def test_the_code_page_without_a_password_step_sends_back_to_login(client, user):
    enrolled(user)

    response = give_code(client, "123456")

    assert response["Location"] == reverse("users:login")
    assert not is_logged_in(client)


def test_login_with_a_recovery_code_works_once(client, user):
    _device, codes = enrolled(user)
    log_in(client, "agent@exemple.fr")

    response = give_code(client, f"{codes[0][:4]} {codes[0][4:].upper()}")

    assert response["Location"] == reverse("home")
    assert is_verified(client)
    assert StaticToken.objects.filter(device__user=user).count() == 9
    assert AuditEvent.objects.filter(action="two_factor_recovery_code_used", actor=user).count() == 1

    client.post(reverse("users:logout"))
    log_in(client, "agent@exemple.fr")
    again = give_code(client, codes[0])
    assert WRONG_CODE in again.text
    assert not is_logged_in(client)


def _emailed_code(message):
    return re.search(r"\b(\d{6})\b", message.body).group(1)


def test_login_with_an_email_code_works_once(client, user, mailbox):
    enrolled(user)
    log_in(client, "agent@exemple.fr")

    response = client.post(reverse("users:two_factor_email_code"))

    assert response["Location"] == reverse("users:two_factor_verify")
    assert mailbox[-1].to == ["agent@exemple.fr"]
    assert "10 minutes" in mailbox[-1].body
    code = _emailed_code(mailbox[-1])
    assert give_code(client, code)["Location"] == reverse("home")
    assert is_verified(client)

    client.post(reverse("users:logout"))
    log_in(client, "agent@exemple.fr")
    assert WRONG_CODE in give_code(client, code).text


def test_email_code_expires_after_ten_minutes(client, user, mailbox):
    enrolled(user)
    log_in(client, "agent@exemple.fr")
    client.post(reverse("users:two_factor_email_code"))
    code = _emailed_code(mailbox[-1])

    later = timezone.now() + timedelta(minutes=10, seconds=1)
    with mock.patch("django.utils.timezone.now", return_value=later):
        response = give_code(client, code)

    assert WRONG_CODE in response.text
    assert not is_logged_in(client)


def test_email_code_is_not_sent_twice_within_a_minute(client, user, mailbox):
    enrolled(user)
    log_in(client, "agent@exemple.fr")
    client.post(reverse("users:two_factor_email_code"))

    response = client.post(reverse("users:two_factor_email_code"), follow=True)

    assert len(mailbox) == 1
    assert "attendez une minute" in response.text


def test_five_wrong_codes_lock_the_account(client, user):
    device, _codes = enrolled(user)
    log_in(client, "agent@exemple.fr")
    for _ in range(4):
        assert WRONG_CODE in give_code(client, "000000").text

    fifth = give_code(client, "000000")

    assert fifth.status_code == 429
    assert LOCKOUT_MESSAGE in fifth.text
    # Locked: not even the right password and the right code let the user in.
    assert log_in(client, "agent@exemple.fr").status_code == 429
    assert not is_logged_in(client)
    give_code(client, code_for(device))
    assert not is_logged_in(client)


def test_wrong_codes_add_up_with_wrong_passwords(client, user):
    enrolled(user)
    for _ in range(3):
        log_in(client, "agent@exemple.fr", "Mauvais-Secret-2026")
    log_in(client, "agent@exemple.fr")
    give_code(client, "000000")

    response = give_code(client, "000000")

    assert response.status_code == 429


def test_a_session_with_a_password_only_is_sent_to_the_code_page(client, user):
    device, _codes = enrolled(user)
    # Logged in before the authenticator was added (another browser, or the admin).
    client.force_login(user)

    response = client.get(reverse("users:account"))

    assert response["Location"].startswith(reverse("users:two_factor_verify"))
    assert client.get(reverse("support:docs")).status_code == 200
    verify_url = reverse("users:two_factor_verify") + "?next=" + reverse("users:account")
    assert WRONG_CODE in client.post(verify_url, {"code": "000000"}).text

    response = client.post(verify_url, {"code": code_for(device)})

    assert response["Location"] == reverse("users:account")
    assert client.get(reverse("users:account")).status_code == 200


def test_the_admin_login_goes_through_the_portal_login(client):
    response = client.get(reverse("admin:login") + "?next=/admin/chorus/")

    assert response.status_code == 302
    assert response["Location"] == reverse("users:login") + "?next=%2Fadmin%2Fchorus%2F"
    assert client.post(reverse("admin:login"), {"username": "x", "password": "y"}).status_code == 302


def test_an_operator_with_two_factor_reaches_the_admin_only_after_the_code(client, db):
    operator = UserFactory(email="operateur@exemple.fr", is_staff=True, is_superuser=True)
    device, _codes = enrolled(operator)
    client.force_login(operator)
    assert client.get(reverse("admin:index"))["Location"].startswith(reverse("users:two_factor_verify"))

    give_code(client, code_for(device))

    assert client.get(reverse("admin:index")).status_code == 200


# Requirement by the structure or by the operators


def _post_login_page(client):
    return client.get(reverse("home"))


def test_structure_requirement_sends_its_users_to_enrolment(client, structure, consultation_user):
    structure.two_factor_required = True
    structure.save(update_fields=["two_factor_required"])

    log_in(client, "consultation@exemple.fr")
    response = _post_login_page(client)

    assert is_logged_in(client)
    assert response["Location"].startswith(reverse("users:two_factor_enrol"))
    assert client.get(reverse("users:account"))["Location"].startswith(reverse("users:two_factor_enrol"))
    page = client.get(reverse("users:two_factor_enrol"))
    assert "obligatoire pour votre compte" in page.text
    # Leaving and the help pages stay open.
    assert client.get(reverse("support:docs")).status_code == 200
    client.post(reverse("users:logout"))
    assert not is_logged_in(client)


def test_structure_requirement_is_lifted_by_enrolment(client, structure, consultation_user):
    structure.two_factor_required = True
    structure.save(update_fields=["two_factor_required"])
    log_in(client, "consultation@exemple.fr")
    client.get(reverse("users:two_factor_enrol"))
    device = TOTPDevice.objects.get(user=consultation_user)

    client.post(reverse("users:two_factor_enrol"), {"code": code_for(device)})

    assert client.get(reverse("users:account")).status_code == 200


def test_users_of_other_structures_are_not_required(client, structure, other_structure_user):
    structure.two_factor_required = True
    structure.save(update_fields=["two_factor_required"])

    log_in(client, "autre@exemple.fr")

    assert client.get(reverse("users:account")).status_code == 200


def test_operators_policy_sends_everyone_to_enrolment(client, user):
    SecurityPolicy(two_factor_required=True).save()

    log_in(client, "agent@exemple.fr")

    assert _post_login_page(client)["Location"].startswith(reverse("users:two_factor_enrol"))


def test_operators_policy_is_one_row_and_changes_are_audited(admin_client):
    url = reverse("admin:chorus_securitypolicy_add")

    response = admin_client.post(url, {"two_factor_required": "on"})

    assert response.status_code == 302
    assert SecurityPolicy.load().two_factor_required
    assert SecurityPolicy.objects.count() == 1
    event = AuditEvent.objects.get(action="security_policy_update")
    assert event.changes == {"two_factor_required": {"before": False, "after": True}}
    assert admin_client.get(url).status_code == 403


def test_only_the_principal_manager_sees_the_structure_switch(client, structure, principal_manager, delegate):
    url = reverse("structures:update", args=[structure.pk])
    client.force_login(principal_manager)
    assert 'name="two_factor_required"' in client.get(url).text

    client.force_login(delegate)
    assert 'name="two_factor_required"' not in client.get(url).text


def _update_data(**overrides):
    data = {"email": "contact@structure.fr", "phone": "01 23 45 67 89", "court_fee_provider_category": ""}
    data.update(overrides)
    return data


def test_principal_manager_requires_two_factor_for_the_structure(client, structure, principal_manager):
    client.force_login(principal_manager)

    response = client.post(
        reverse("structures:update", args=[structure.pk]), _update_data(two_factor_required="on")
    )

    assert response.status_code == 302
    structure.refresh_from_db()
    assert structure.two_factor_required
    event = AuditEvent.objects.get(action="structure_update")
    assert event.actor == principal_manager
    assert event.changes["two_factor_required"] == {"before": False, "after": True}


def test_delegate_cannot_require_two_factor_for_the_structure(client, structure, delegate):
    client.force_login(delegate)

    client.post(reverse("structures:update", args=[structure.pk]), _update_data(two_factor_required="on"))

    structure.refresh_from_db()
    assert not structure.two_factor_required


# Recovery codes and disabling


def _verified_login(client, user, device):
    log_in(client, user.email)
    give_code(client, code_for(device))
    assert is_verified(client)


def test_regenerated_recovery_codes_replace_the_old_ones(client, user, mailbox):
    device, old_codes = enrolled(user)
    _verified_login(client, user, device)

    response = client.post(
        reverse("users:two_factor_recovery_codes_regenerate"),
        {"password": PASSWORD, "code": code_for(device, 1)},
    )

    assert response["Location"] == reverse("users:two_factor_recovery_codes")
    new_codes = set(StaticToken.objects.filter(device__user=user).values_list("token", flat=True))
    assert len(new_codes) == 10
    assert not new_codes & set(old_codes)
    assert AuditEvent.objects.filter(action="two_factor_recovery_codes_regenerate", actor=user).exists()
    assert "codes de secours" in mailbox[-1].subject

    client.post(reverse("users:logout"))
    log_in(client, user.email)
    assert WRONG_CODE in give_code(client, old_codes[1]).text


def test_disable_asks_for_the_password_and_a_code(client, user, mailbox):
    device, _codes = enrolled(user)
    _verified_login(client, user, device)
    url = reverse("users:two_factor_disable")

    wrong = client.post(url, {"password": "Mauvais-Secret-2026", "code": code_for(device, 1)})
    assert "Mot de passe incorrect." in wrong.text
    wrong = client.post(url, {"password": PASSWORD, "code": "000000"})
    assert "Code incorrect." in wrong.text
    user.refresh_from_db()
    assert user.two_factor_enabled

    response = client.post(url, {"password": PASSWORD, "code": code_for(device, 1)})

    assert response["Location"] == reverse("users:security")
    user.refresh_from_db()
    assert not user.two_factor_enabled
    assert not TOTPDevice.objects.filter(user=user).exists()
    assert not StaticToken.objects.filter(device__user=user).exists()
    assert AuditEvent.objects.get(action="two_factor_disable").actor == user
    assert "désactivée" in mailbox[-1].subject
    # The password alone opens the portal again.
    client.post(reverse("users:logout"))
    log_in(client, user.email)
    assert client.get(reverse("users:account")).status_code == 200


def test_disable_is_refused_while_the_structure_requires_it(client, structure, consultation_user):
    device, _codes = enrolled(consultation_user)
    structure.two_factor_required = True
    structure.save(update_fields=["two_factor_required"])
    _verified_login(client, consultation_user, device)
    url = reverse("users:two_factor_disable")

    assert "obligatoire pour votre compte" in client.get(url).text
    response = client.post(url, {"password": PASSWORD, "code": code_for(device, 1)})

    assert response.status_code == 403
    consultation_user.refresh_from_db()
    assert consultation_user.two_factor_enabled
    assert not AuditEvent.objects.filter(action="two_factor_disable").exists()


def test_disable_is_refused_while_the_operators_require_it(client, user):
    device, _codes = enrolled(user)
    SecurityPolicy(two_factor_required=True).save()
    _verified_login(client, user, device)

    with pytest.raises(two_factor.TwoFactorError):
        two_factor.two_factor_disable(user=user)
    response = client.post(
        reverse("users:two_factor_disable"), {"password": PASSWORD, "code": code_for(device, 1)}
    )

    assert response.status_code == 403
    user.refresh_from_db()
    assert user.two_factor_enabled


@pytest.mark.parametrize(
    "name", ["security", "two_factor_enrol", "two_factor_recovery_codes", "two_factor_disable"]
)
def test_security_pages_require_login(client, name):
    response = client.get(reverse(f"users:{name}"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("users:login"))


def test_operator_resets_the_two_factor_of_a_user_who_lost_everything(admin_client, user, mailbox):
    enrolled(user)

    response = admin_client.post(
        reverse("admin:users_user_changelist"),
        {"action": "reset_two_factor", "_selected_action": [user.pk]},
    )

    assert response.status_code == 302
    user.refresh_from_db()
    assert not user.two_factor_enabled
    assert not TOTPDevice.objects.filter(user=user).exists()
    assert not StaticToken.objects.filter(device__user=user).exists()
    event = AuditEvent.objects.get(action="two_factor_reset")
    assert event.actor.email != user.email
    assert mailbox[-1].to == [user.notification_email]


def test_deleting_the_authenticator_elsewhere_turns_two_factor_off(user):
    device, _codes = enrolled(user)

    device.delete()

    user.refresh_from_db()
    assert not user.two_factor_enabled
