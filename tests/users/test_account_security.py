"""What a stolen session, a stranger or a script can do with the account pages: confirm
with the password what would outlive the session, be told at the login address, lose
the other sessions, be rate-limited, learn nothing about who has an account, and never
lock the owner out for an hour."""

import html
import re
from types import SimpleNamespace

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from chorus.models import AuditEvent
from tests.factories import PASSWORD, UserFactory
from users.services import two_factor

User = get_user_model()

pytestmark = pytest.mark.django_db

WRONG = "Mauvais-Secret-2026"
NEW_PASSWORD = "Nouveau-Secret-2026"
LOCKED = "Compte verrouillé"
TOO_MANY = "Trop de demandes"


def text(response):
    return html.unescape(response.content.decode())


def link_in(message):
    return re.sub(r"^https?://[^/]+", "", re.search(r"https?://\S+", message.body).group(0))


def is_logged_in(client):
    return "_auth_user_id" in client.session


def log_in(client, email, password=PASSWORD):
    return client.post(reverse("users:login"), {"username": email, "password": password})


def code_for(device, steps_ahead=0):
    from django_otp.oath import TOTP

    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = totp.time + steps_ahead * device.step
    return f"{totp.token():06d}"


def enrolled(user):
    device = TOTPDevice.objects.create(user=user, name="default", confirmed=True)
    codes = two_factor._new_recovery_codes(user)
    user.two_factor_enabled = True
    user.save(update_fields=["two_factor_enabled"])
    return device, codes


def verified_login(client, user, device):
    log_in(client, user.email)
    client.post(reverse("users:two_factor_verify"), {"code": code_for(device)})
    assert "otp_device_id" in client.session


@pytest.fixture
def mailbox(mailoutbox, monkeypatch):
    """Emails leave when the transaction commits; each test here runs inside one, so
    they are sent at once."""
    now = SimpleNamespace(on_commit=lambda func, **kwargs: func())
    monkeypatch.setattr("core.mail.transaction", now)
    monkeypatch.setattr("users.tasks.transaction", now)
    return mailoutbox


@pytest.fixture
def user(db):
    return UserFactory(email="marie@exemple.fr", contact_email="marie.contact@exemple.fr")


def recipients(mailbox):
    return [sorted(message.to) for message in mailbox]


BOTH = ["marie.contact@exemple.fr", "marie@exemple.fr"]


# A stolen session must not become a lasting second factor


def test_regenerating_recovery_codes_asks_for_the_password_and_a_current_code(client, user, mailbox):
    device, old_codes = enrolled(user)
    verified_login(client, user, device)
    url = reverse("users:two_factor_recovery_codes_regenerate")

    assert client.post(url).status_code == 200
    wrong = client.post(url, {"password": WRONG, "code": code_for(device, 1)})
    assert "Mot de passe incorrect." in text(wrong)
    wrong = client.post(url, {"password": PASSWORD, "code": "000000"})
    assert "Code incorrect." in text(wrong)
    assert set(StaticToken.objects.filter(device__user=user).values_list("token", flat=True)) == set(
        old_codes
    )
    assert not AuditEvent.objects.filter(action="two_factor_recovery_codes_regenerate").exists()

    response = client.post(url, {"password": PASSWORD, "code": code_for(device, 1)})

    assert response["Location"] == reverse("users:two_factor_recovery_codes")
    new_codes = set(StaticToken.objects.filter(device__user=user).values_list("token", flat=True))
    assert len(new_codes) == 10 and not new_codes & set(old_codes)


def test_changing_the_contact_email_asks_for_the_password(client, user, mailbox):
    client.force_login(user)
    url = reverse("users:account")
    data = {"first_name": "Marie", "last_name": "Curie", "phone": "", "contact_email": "pirate@exemple.com"}

    missing = client.post(url, data)
    wrong = client.post(url, {**data, "password": WRONG})

    assert "Saisissez votre mot de passe actuel pour changer l’adresse de contact." in text(missing)
    assert "Mot de passe incorrect." in text(wrong)
    user.refresh_from_db()
    assert user.contact_email == "marie.contact@exemple.fr"
    assert mailbox == []

    response = client.post(url, {**data, "password": PASSWORD})

    assert response.status_code == 302
    user.refresh_from_db()
    assert user.contact_email == "pirate@exemple.com"
    # The login address and the address replaced are both told (and the new one).
    assert recipients(mailbox) == [["marie.contact@exemple.fr", "marie@exemple.fr", "pirate@exemple.com"]]


def test_other_account_fields_change_without_the_password(client, user, mailbox):
    client.force_login(user)
    data = {"first_name": "Marie", "last_name": "Curie", "phone": "", "contact_email": user.contact_email}

    response = client.post(reverse("users:account"), data)

    assert response.status_code == 302
    user.refresh_from_db()
    assert user.last_name == "Curie"
    assert mailbox == []


def test_two_factor_notifications_go_to_the_login_address_too(client, user, mailbox):
    device, _codes = enrolled(user)
    verified_login(client, user, device)

    client.post(
        reverse("users:two_factor_recovery_codes_regenerate"),
        {"password": PASSWORD, "code": code_for(device, 1)},
    )
    client.post(reverse("users:two_factor_disable"), {"password": PASSWORD, "code": code_for(device, 2)})

    assert "codes de secours" in mailbox[0].subject
    assert "désactivée" in mailbox[1].subject
    assert recipients(mailbox) == [BOTH, BOTH]


def test_enabling_two_factor_is_told_to_both_addresses_once_each(client, mailbox):
    # The contact address is the login address in another case: one message, one copy.
    same = UserFactory(email="jean@exemple.fr", contact_email="Jean@Exemple.fr")
    client.force_login(same)
    device = two_factor.pending_device(same)

    client.post(reverse("users:two_factor_enrol"), {"code": code_for(device)})

    assert [message.to for message in mailbox] == [["jean@exemple.fr"]]


def test_password_change_is_told_to_both_addresses(client, user, mailbox):
    client.force_login(user)

    client.post(
        reverse("users:password_change"),
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    assert recipients(mailbox) == [BOTH]
    assert "mot de passe" in mailbox[0].subject.lower()


def test_password_reset_is_told_to_both_addresses(client, user, mailbox):
    client.post(reverse("users:password_reset"), {"email": user.email})
    form_page = client.get(link_in(mailbox[0]), follow=True)
    mailbox.clear()

    client.post(
        form_page.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )

    assert recipients(mailbox) == [BOTH]


def test_login_email_change_is_told_to_the_old_login_and_the_contact_address(client, user, mailbox):
    client.force_login(user)
    client.post(reverse("users:change_email"), {"email": "marie.nouvelle@exemple.fr", "password": PASSWORD})

    client.get(link_in(mailbox[0]))

    assert recipients(mailbox)[1] == sorted([*BOTH, "marie.nouvelle@exemple.fr"])
    assert "marie.nouvelle@exemple.fr" in mailbox[1].body


def test_deactivation_is_told_to_both_addresses(client, user, mailbox):
    client.force_login(user)

    client.post(reverse("users:deactivate"), {"password": PASSWORD})

    assert recipients(mailbox) == [BOTH]


def _wrong_password_posts():
    """(url name, data with a wrong password, setup) of every page that asks for the
    password inside a session."""
    return {
        "change_email": ("users:change_email", {"email": "ailleurs@exemple.fr", "password": WRONG}),
        "deactivate": ("users:deactivate", {"password": WRONG}),
        "password_change": (
            "users:password_change",
            {"old_password": WRONG, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
        ),
        "contact_email": (
            "users:account",
            {
                "first_name": "",
                "last_name": "",
                "phone": "",
                "contact_email": "x@exemple.com",
                "password": WRONG,
            },
        ),
        "regenerate": ("users:two_factor_recovery_codes_regenerate", {"password": WRONG, "code": "123456"}),
        "disable": ("users:two_factor_disable", {"password": WRONG, "code": "123456"}),
    }


@pytest.mark.parametrize("page", sorted(_wrong_password_posts()))
def test_wrong_passwords_typed_in_a_session_lock_the_account(client, user, page):
    name, data = _wrong_password_posts()[page]
    if page in ("regenerate", "disable"):
        device, _codes = enrolled(user)
        verified_login(client, user, device)
    else:
        client.force_login(user)

    for _attempt in range(4):
        response = client.post(reverse(name), data)
        assert response.status_code == 200, response.status_code
        assert is_logged_in(client)

    fifth = client.post(reverse(name), data)

    assert fifth.status_code == 429
    assert LOCKED in text(fifth)
    assert not is_logged_in(client)
    # Locked like a login lockout: the right password no longer opens the account.
    assert log_in(Client(), user.email).status_code == 429


def test_wrong_passwords_in_a_session_add_up_with_failed_logins(client, user):
    client.force_login(user)  # the stolen session, opened before the failures
    for _attempt in range(4):
        log_in(Client(), user.email, WRONG)

    response = client.post(reverse("users:deactivate"), {"password": WRONG})

    assert response.status_code == 429
    assert not is_logged_in(client)
    user.refresh_from_db()
    assert user.is_active


def test_a_session_of_a_locked_account_cannot_confirm_with_the_right_password(client, user):
    client.force_login(user)
    for _attempt in range(5):
        log_in(Client(), user.email, WRONG)

    response = client.post(reverse("users:deactivate"), {"password": PASSWORD})

    assert response.status_code == 429
    user.refresh_from_db()
    assert user.is_active


# The other sessions end


def test_login_email_change_ends_the_other_sessions_but_not_this_one(user, mailbox):
    here, elsewhere = Client(), Client()
    here.force_login(user)
    elsewhere.force_login(user)
    here.post(reverse("users:change_email"), {"email": "marie.nouvelle@exemple.fr", "password": PASSWORD})
    assert elsewhere.get(reverse("users:account")).status_code == 200

    here.get(link_in(mailbox[0]))

    assert here.get(reverse("users:account")).status_code == 200
    assert elsewhere.get(reverse("users:account")).status_code == 302
    assert not is_logged_in(elsewhere)


def test_password_change_ends_the_other_sessions_but_not_this_one(user, mailbox):
    here, elsewhere = Client(), Client()
    here.force_login(user)
    elsewhere.force_login(user)

    here.post(
        reverse("users:password_change"),
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    assert here.get(reverse("users:account")).status_code == 200
    assert elsewhere.get(reverse("users:account")).status_code == 302


# Rate limits on the emails of the account pages


def test_password_reset_is_limited_per_address(client, user, mailbox):
    for _attempt in range(3):
        assert client.post(reverse("users:password_reset"), {"email": user.email}).status_code == 302
    sent = len(mailbox)

    response = Client().post(
        reverse("users:password_reset"), {"email": user.email}, REMOTE_ADDR="198.51.100.7"
    )

    assert response.status_code == 200
    assert TOO_MANY in text(response)
    assert len(mailbox) == sent == 3


def test_password_reset_is_limited_per_client(client, mailbox):
    for number in range(20):
        client.post(reverse("users:password_reset"), {"email": f"personne{number}@exemple.fr"})
    UserFactory(email="cible@exemple.fr")

    response = client.post(reverse("users:password_reset"), {"email": "cible@exemple.fr"})

    assert TOO_MANY in text(response)
    assert mailbox == []


def test_activation_resend_is_limited_per_address_and_per_client(client, mailbox):
    UserFactory(email="attente@exemple.fr", is_active=False, activated_at=None)
    for _attempt in range(3):
        client.post(reverse("users:activation_resend"), {"email": "attente@exemple.fr"})
    assert len(mailbox) == 3

    response = Client().post(reverse("users:activation_resend"), {"email": "attente@exemple.fr"})

    assert TOO_MANY in text(response)
    assert len(mailbox) == 3
    for number in range(17):
        client.post(reverse("users:activation_resend"), {"email": f"personne{number}@exemple.fr"})
    assert TOO_MANY in text(client.post(reverse("users:activation_resend"), {"email": "autre@exemple.fr"}))


def test_login_email_change_is_limited_per_user_and_per_new_address(client, user, mailbox):
    client.force_login(user)
    for number in range(5):
        client.post(
            reverse("users:change_email"), {"email": f"nouvelle{number}@exemple.fr", "password": PASSWORD}
        )
    assert len(mailbox) == 5

    response = client.post(
        reverse("users:change_email"), {"email": "encore@exemple.fr", "password": PASSWORD}
    )

    assert TOO_MANY in text(response)
    assert len(mailbox) == 5
    # Several accounts sending links to one address: that address is protected too.
    for number in range(3):
        other = Client()
        other.force_login(UserFactory(email=f"autre{number}@exemple.fr"))
        other.post(reverse("users:change_email"), {"email": "victime@exemple.fr", "password": PASSWORD})
    last = Client()
    last.force_login(UserFactory(email="dernier@exemple.fr"))
    response = last.post(reverse("users:change_email"), {"email": "victime@exemple.fr", "password": PASSWORD})
    assert TOO_MANY in text(response)
    assert [message.to for message in mailbox].count(["victime@exemple.fr"]) == 3


# Enumeration


def _signup(client, email):
    return client.post(
        reverse("users:signup"),
        {
            "first_name": "Claire",
            "last_name": "Dupont",
            "email": email,
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
        follow=True,
    )


def page_of(response, email):
    """The page as a reader sees it: the address typed, the per-request nonce and
    CSRF token, and generated ids set apart."""
    page = text(response).replace(email, "ADDRESS")
    page = re.sub(r'(nonce|value)="[A-Za-z0-9+/=_-]{20,}"', "", page)
    return re.sub(r"-[a-z]{16}\b", "-ID", page)


def test_signup_answers_the_same_whether_or_not_the_address_has_an_account(mailbox):
    UserFactory(email="deja@exemple.fr")

    new = _signup(Client(), "nouvelle@exemple.fr")
    taken = _signup(Client(), "Deja@Exemple.fr")

    assert taken.redirect_chain == [(reverse("users:signup_done"), 302)]
    assert page_of(taken, "deja@exemple.fr") == page_of(new, "nouvelle@exemple.fr")
    assert User.objects.filter(email="deja@exemple.fr").count() == 1
    # The owner of the address is told, and told how to get in.
    notice = mailbox[-1]
    assert notice.to == ["deja@exemple.fr"]
    assert "créer un compte" in notice.body
    assert reverse("users:password_reset") in notice.body


def test_signup_with_a_taken_address_and_a_bad_password_shows_only_the_password_error(client, mailbox):
    UserFactory(email="deja@exemple.fr")

    response = client.post(
        reverse("users:signup"),
        {
            "first_name": "Claire",
            "last_name": "Dupont",
            "email": "deja@exemple.fr",
            "password1": PASSWORD,
            "password2": "autre",
        },
    )

    assert "Les deux mots de passe ne correspondent pas." in text(response)
    assert "existe déjà" not in text(response)
    assert mailbox == []


def test_password_reset_does_the_same_work_for_a_known_and_an_unknown_address(user, mailbox, monkeypatch):
    jobs = []
    monkeypatch.setattr("users.tasks.password_reset_send.apply_async", lambda **kwargs: jobs.append(kwargs))

    def request(email):
        with CaptureQueriesContext(connection) as queries:
            response = Client().post(reverse("users:password_reset"), {"email": email})
        assert len(jobs) == 1
        jobs.clear()
        assert response["Location"] == reverse("users:password_reset_done")
        return len(queries)

    # Both take one slot of the same job, with the same query count: the account is
    # looked up by the job, not by the request.
    assert request(user.email) == request("inconnu@exemple.fr")
    assert mailbox == []


def test_the_password_reset_job_sends_only_to_a_known_address(user, mailbox):
    Client().post(reverse("users:password_reset"), {"email": "inconnu@exemple.fr"})
    assert mailbox == []

    Client().post(reverse("users:password_reset"), {"email": "Marie@Exemple.fr"})

    assert [message.to for message in mailbox] == [["marie@exemple.fr"]]
    assert "/mot-de-passe-oublie/" in link_in(mailbox[0])


# A stranger's failures do not lock the owner out for an hour


def lock(email):
    for _attempt in range(5):
        log_in(Client(), email, WRONG)


def test_the_lockout_page_offers_an_unlock_link(client, user):
    lock(user.email)

    response = log_in(client, user.email)

    assert response.status_code == 429
    assert "Recevoir un lien de déblocage" in text(response)
    assert reverse("users:unlock_request") in text(response)


def test_the_unlock_link_lets_the_owner_log_in(client, user, mailbox):
    lock(user.email)

    response = client.post(reverse("users:unlock_request"), {"email": "MARIE@exemple.fr"}, follow=True)

    assert "un lien de déblocage" in text(response)
    assert [message.to for message in mailbox] == [["marie@exemple.fr"]]  # the login address only
    response = client.get(link_in(mailbox[0]), follow=True)
    assert response.redirect_chain[-1][0] == reverse("users:login")
    assert "Votre compte est débloqué" in text(response)
    assert AuditEvent.objects.filter(action="user_unlock", object_id=str(user.pk)).count() == 1

    assert log_in(client, user.email).status_code == 302
    assert is_logged_in(client)


def test_the_unlock_link_works_once(client, user, mailbox):
    lock(user.email)
    client.post(reverse("users:unlock_request"), {"email": user.email})
    link = link_in(mailbox[0])
    client.get(link)
    lock(user.email)

    again = client.get(link)

    assert again.status_code == 404
    assert log_in(Client(), user.email).status_code == 429


def test_a_tampered_unlock_link_is_refused(client, user, mailbox):
    lock(user.email)
    client.post(reverse("users:unlock_request"), {"email": user.email})

    response = client.get(link_in(mailbox[0])[:-3] + "abc/")

    assert response.status_code == 404
    assert log_in(client, user.email).status_code == 429


def test_the_attackers_failures_keep_locking_but_not_the_owner_who_followed_the_link(client, user, mailbox):
    lock(user.email)
    client.post(reverse("users:unlock_request"), {"email": user.email})
    client.get(link_in(mailbox[0]))

    lock(user.email)  # the stranger goes on

    assert log_in(Client(), user.email).status_code == 429
    assert log_in(client, user.email).status_code == 302
    assert is_logged_in(client)


def test_an_unlock_request_answers_the_same_for_an_unknown_address(client, mailbox):
    known = UserFactory(email="connu@exemple.fr")
    lock(known.email)

    unknown = client.post(reverse("users:unlock_request"), {"email": "inconnu@exemple.fr"})
    sent = client.post(reverse("users:unlock_request"), {"email": "connu@exemple.fr"})

    assert unknown.status_code == sent.status_code == 302
    assert unknown["Location"] == sent["Location"]
    assert [message.to for message in mailbox] == [["connu@exemple.fr"]]


def test_unlock_requests_are_limited_per_address(client, user, mailbox):
    lock(user.email)
    for _attempt in range(3):
        Client().post(reverse("users:unlock_request"), {"email": user.email})

    response = client.post(reverse("users:unlock_request"), {"email": user.email})

    assert TOO_MANY in text(response)
    assert len(mailbox) == 3


def test_a_two_factor_user_unlocks_with_password_and_a_current_code(client, user):
    device, _codes = enrolled(user)
    lock(user.email)
    url = reverse("users:unlock_with_code")

    refused = [
        client.post(url, {"email": user.email, "password": WRONG, "code": code_for(device)}),
        client.post(url, {"email": user.email, "password": PASSWORD, "code": "000000"}),
    ]
    # Whichever is wrong, the same answer: a locked account does not test passwords.
    assert all("Mot de passe ou code incorrect." in text(response) for response in refused)
    assert not is_logged_in(client)

    response = client.post(url, {"email": user.email, "password": PASSWORD, "code": code_for(device)})

    assert response.status_code == 302
    assert is_logged_in(client) and "otp_device_id" in client.session
    assert log_in(Client(), user.email).status_code == 302  # unlocked for everyone


def test_the_password_alone_does_not_unlock_an_account_without_two_factor(client, user):
    lock(user.email)

    response = client.post(
        reverse("users:unlock_with_code"), {"email": user.email, "password": PASSWORD, "code": "123456"}
    )

    assert "Mot de passe ou code incorrect." in text(response)
    assert not is_logged_in(client)
    assert log_in(Client(), user.email).status_code == 429


# With REDIS_URL, lockouts live in the cache and sessions in cached_db: the same works.


@pytest.fixture
def redis_mode(settings):
    settings.AXES_HANDLER = "axes.handlers.cache.AxesCacheHandler"
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"


def test_unlock_link_with_the_cache_lockout_handler(redis_mode, client, user, mailbox):
    lock(user.email)
    assert log_in(Client(), user.email).status_code == 429
    client.post(reverse("users:unlock_request"), {"email": user.email})

    client.get(link_in(mailbox[0]))

    assert log_in(Client(), user.email).status_code == 302


def test_wrong_passwords_in_a_session_lock_with_the_cache_handler(redis_mode, client, user):
    client.force_login(user)
    for _attempt in range(5):
        response = client.post(reverse("users:deactivate"), {"password": WRONG})

    assert response.status_code == 429
    assert not is_logged_in(client)
    assert log_in(Client(), user.email).status_code == 429


def test_login_email_change_ends_the_other_cached_sessions(redis_mode, user, mailbox):
    here, elsewhere = Client(), Client()
    here.force_login(user)
    elsewhere.force_login(user)
    here.post(reverse("users:change_email"), {"email": "marie.nouvelle@exemple.fr", "password": PASSWORD})

    here.get(link_in(mailbox[0]))

    assert here.get(reverse("users:account")).status_code == 200
    assert elsewhere.get(reverse("users:account")).status_code == 302


def test_a_locked_account_still_saves_details_that_need_no_password(client, user):
    client.force_login(user)
    lock(user.email)
    data = {"first_name": "Marie", "last_name": "Curie", "phone": "", "contact_email": user.contact_email}

    response = client.post(reverse("users:account"), data)

    assert response.status_code == 302
    assert is_logged_in(client)
