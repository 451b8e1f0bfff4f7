import re
from datetime import datetime, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from chorus.models import AuditEvent
from tests.factories import PASSWORD, UserFactory
from users import tokens
from users import urls as users_urls

User = get_user_model()

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Nouveau-Secret-2026"
LOCKOUT_MESSAGE = (
    "Votre compte est verrouillé pendant une heure après 5 tentatives de connexion infructueuses."
)


def link_in(message):
    return re.search(r"https?://\S+", message.body).group(0)


def path_of(url):
    return re.sub(r"^https?://[^/]+", "", url)


def sign_up(client, email="nouvelle@exemple.fr", password1=PASSWORD, password2=None, **names):
    data = {"first_name": "Claire", "last_name": "Dupont", **names}
    data.update(email=email, password1=password1, password2=password2 or password1)
    return client.post(
        reverse("users:signup"), {key: value for key, value in data.items() if value is not None}
    )


def log_in(client, email, password=PASSWORD, **extra):
    return client.post(reverse("users:login"), {"username": email, "password": password}, **extra)


def is_logged_in(client):
    return "_auth_user_id" in client.session


# Sign-up and activation


def test_signup_creates_inactive_user_and_activation_link_activates_it(
    client, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = sign_up(client, email="Nouvelle@Exemple.fr")

    assert response.status_code == 302
    assert response.url == reverse("users:signup_done")
    user = User.objects.get()
    assert user.email == "nouvelle@exemple.fr"
    assert not user.is_active
    assert user.activated_at is None
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["nouvelle@exemple.fr"]
    assert "60 minutes" in mailoutbox[0].body

    done = client.get(response.url)
    assert "Vérifiez votre messagerie" in done.text
    assert "nouvelle@exemple.fr" in done.text
    assert "60 minutes" in done.text

    activation = client.get(path_of(link_in(mailoutbox[0])), follow=True)
    assert activation.redirect_chain[-1][0] == reverse("users:login")
    assert "Votre compte est activé" in activation.text
    user.refresh_from_db()
    assert user.is_active
    assert user.activated_at is not None

    response = log_in(client, "nouvelle@exemple.fr", follow=True)
    assert is_logged_in(client)
    assert "Bonjour" in response.text
    assert AuditEvent.objects.filter(action="user_activate", object_id=str(user.pk)).exists()


@pytest.mark.parametrize("email", ["deja@exemple.fr", "DEJA@Exemple.FR"])
def test_signup_with_an_existing_email_in_any_case_creates_nothing_and_tells_its_owner(
    client, mailoutbox, django_capture_on_commit_callbacks, email
):
    UserFactory(email="deja@exemple.fr")

    with django_capture_on_commit_callbacks(execute=True):
        response = sign_up(client, email=email)

    # The answer of a new sign-up: the form does not tell who has an account.
    assert response.status_code == 302
    assert response.url == reverse("users:signup_done")
    assert User.objects.count() == 1
    assert [message.to for message in mailoutbox] == [["deja@exemple.fr"]]
    assert "Quelqu’un a essayé de créer un compte" in mailoutbox[0].body


def test_signup_keeps_the_first_and_last_name(client):
    response = sign_up(client, first_name="  Élise ", last_name="Martin-Durand")

    assert response.status_code == 302
    user = User.objects.get()
    assert (user.first_name, user.last_name) == ("Élise", "Martin-Durand")
    assert user.get_full_name() == "Élise Martin-Durand"


@pytest.mark.parametrize(
    ("names", "errors"),
    [
        ({"first_name": None}, {"first_name": ["Saisissez votre prénom."]}),
        ({"last_name": "   "}, {"last_name": ["Saisissez votre nom."]}),
        (
            {"first_name": "", "last_name": ""},
            {"first_name": ["Saisissez votre prénom."], "last_name": ["Saisissez votre nom."]},
        ),
    ],
)
def test_signup_without_a_name_creates_nothing_and_says_which(
    client, mailoutbox, django_capture_on_commit_callbacks, names, errors
):
    with django_capture_on_commit_callbacks(execute=True):
        response = sign_up(client, **names)

    assert response.status_code == 200
    form_errors = response.context["form"].errors
    for field, messages in errors.items():
        assert form_errors[field] == messages
        for message in messages:
            assert message in response.text
    assert not User.objects.exists()
    assert mailoutbox == []


def test_signup_page_shows_the_password_rules_before_anything_is_typed(client):
    response = client.get(reverse("users:signup"))

    assert response.status_code == 200
    page = response.text
    for rule in [
        "Votre mot de passe doit contenir au minimum 12 caractères.",
        "Votre mot de passe ne peut pas être entièrement numérique.",
        "Votre mot de passe ne peut pas être un mot de passe couramment utilisé.",
        "Votre mot de passe ne peut pas trop ressembler à vos autres informations personnelles.",
    ]:
        assert rule in page
    # Announced with the field, for those who do not see the page.
    assert 'id="id_password1_helptext"' in page
    assert re.search(
        r'<input type="password" name="password1"[^>]*aria-describedby="id_password1_helptext"', page
    )
    assert 'name="first_name"' in page and 'autocomplete="given-name"' in page
    assert 'name="last_name"' in page and 'autocomplete="family-name"' in page


def test_signup_refused_for_weak_password(client, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = sign_up(client, password1="motdepasse")

    assert response.status_code == 200
    assert "Ce mot de passe est trop court" in response.text
    assert not User.objects.exists()
    assert mailoutbox == []


def test_signup_refused_for_mismatched_passwords(client, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = sign_up(client, password1=PASSWORD, password2=PASSWORD + "x")

    assert response.status_code == 200
    assert "Les deux mots de passe ne correspondent pas." in response.text
    assert not User.objects.exists()
    assert mailoutbox == []


def test_expired_activation_link_shows_expired_page_and_offers_new_link(
    client, mailoutbox, django_capture_on_commit_callbacks, monkeypatch
):
    with django_capture_on_commit_callbacks(execute=True):
        sign_up(client)
    later = datetime.now() + timedelta(minutes=61)
    monkeypatch.setattr(tokens.activation_token, "_now", lambda: later)

    response = client.get(path_of(link_in(mailoutbox[0])))

    assert "Lien d’activation expiré" in response.text
    assert "nouvelle@exemple.fr" in response.text  # the form to get a new link, filled in
    assert not User.objects.get().is_active

    monkeypatch.undo()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("users:activation_resend"), {"email": "nouvelle@exemple.fr"}, follow=True
        )
    assert "Vérifiez votre messagerie" in response.text
    assert len(mailoutbox) == 2
    client.get(path_of(link_in(mailoutbox[1])))
    assert User.objects.get().is_active


def test_activation_link_still_valid_just_before_60_minutes(
    client, mailoutbox, django_capture_on_commit_callbacks, monkeypatch
):
    with django_capture_on_commit_callbacks(execute=True):
        sign_up(client)
    later = datetime.now() + timedelta(minutes=59)
    monkeypatch.setattr(tokens.activation_token, "_now", lambda: later)

    client.get(path_of(link_in(mailoutbox[0])))

    assert User.objects.get().is_active


def test_reused_activation_link_is_invalid(client, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        sign_up(client)
    link = path_of(link_in(mailoutbox[0]))
    client.get(link)
    activated_at = User.objects.get().activated_at

    response = client.get(link)

    assert "Ce lien d’activation est invalide ou a déjà été utilisé." in response.text
    assert User.objects.get().activated_at == activated_at


def test_tampered_activation_link_is_invalid(client, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        sign_up(client)
    link = path_of(link_in(mailoutbox[0]))

    response = client.get(link[:-3] + "000/")

    assert "Ce lien d’activation est invalide ou a déjà été utilisé." in response.text
    assert not User.objects.get().is_active


def test_activation_resend_answers_the_same_for_unknown_address(
    client, mailoutbox, django_capture_on_commit_callbacks
):
    UserFactory(email="actif@exemple.fr")

    for email in ("inconnu@exemple.fr", "actif@exemple.fr"):
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(reverse("users:activation_resend"), {"email": email})
        assert response.url == reverse("users:activation_resend_done")
    assert mailoutbox == []


# Login, lockout, logout


def test_login_page_links_to_signup_and_password_reset(client):
    response = client.get(reverse("users:login"))

    assert "Adresse électronique" in response.text
    assert reverse("users:signup") in response.text
    assert reverse("users:password_reset") in response.text


def test_login_with_wrong_password_refused(client):
    UserFactory(email="agent@exemple.fr")

    response = log_in(client, "agent@exemple.fr", "Mauvais-Secret-2026")

    assert response.status_code == 200
    assert "Adresse électronique ou mot de passe incorrect." in response.text
    assert not is_logged_in(client)


def test_login_is_case_insensitive(client):
    UserFactory(email="agent@exemple.fr")

    log_in(client, "Agent@Exemple.FR")

    assert is_logged_in(client)


def test_login_of_unactivated_account_says_so(client):
    UserFactory(email="attente@exemple.fr", is_active=False)

    response = log_in(client, "attente@exemple.fr")

    assert "Votre compte n’est pas encore activé." in response.text
    assert reverse("users:activation_resend") in response.text
    assert not is_logged_in(client)


def test_login_of_unactivated_account_with_wrong_password_says_incorrect(client):
    UserFactory(email="attente@exemple.fr", is_active=False)

    response = log_in(client, "attente@exemple.fr", "Mauvais-Secret-2026")

    assert "Adresse électronique ou mot de passe incorrect." in response.text
    assert "pas encore activé" not in response.text


def test_five_failed_logins_lock_the_account_even_with_the_right_password(client):
    UserFactory(email="agent@exemple.fr")
    for _ in range(4):
        log_in(client, "agent@exemple.fr", "Mauvais-Secret-2026")

    fifth = log_in(client, "AGENT@exemple.fr", "Mauvais-Secret-2026")
    assert fifth.status_code == 429
    assert LOCKOUT_MESSAGE in fifth.text

    response = log_in(client, "agent@exemple.fr")

    assert response.status_code == 429
    assert LOCKOUT_MESSAGE in response.text
    assert not is_logged_in(client)


def test_logout_redirects_home_with_message(client):
    client.force_login(UserFactory())

    response = client.post(reverse("users:logout"), follow=True)

    assert response.redirect_chain[-1][0] == reverse("home")
    assert "Vous êtes déconnecté." in response.text
    assert not is_logged_in(client)


def test_logout_refuses_get(client):
    client.force_login(UserFactory())

    response = client.get(reverse("users:logout"))

    assert response.status_code == 405
    assert is_logged_in(client)


# Password reset and change


def test_password_reset_sets_new_password_and_clears_lockout(
    client, mailoutbox, django_capture_on_commit_callbacks
):
    user = UserFactory(email="agent@exemple.fr")
    for _ in range(5):
        log_in(client, "agent@exemple.fr", "Mauvais-Secret-2026")
    assert LOCKOUT_MESSAGE in log_in(client, "agent@exemple.fr").text

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("users:password_reset"), {"email": "Agent@exemple.fr"}, follow=True)
    assert "Vérifiez votre messagerie" in response.text
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["agent@exemple.fr"]
    form_page = client.get(path_of(link_in(mailoutbox[0])), follow=True)
    assert "Nouveau mot de passe" in form_page.text
    response = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == reverse("users:password_reset_complete")

    response = log_in(client, "agent@exemple.fr", NEW_PASSWORD)

    assert response.status_code == 302
    assert is_logged_in(client)
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)


def test_password_reset_for_unknown_address_sends_nothing(
    client, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("users:password_reset"), {"email": "inconnu@exemple.fr"})

    assert response.url == reverse("users:password_reset_done")
    assert mailoutbox == []


def test_password_change_by_logged_in_user(client):
    user = UserFactory()
    client.force_login(user)

    response = client.post(
        reverse("users:password_change"),
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    assert response.url == reverse("users:password_change_done")
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert is_logged_in(client)


# Mon compte


def test_account_update_persists(client):
    user = UserFactory(email="agent@exemple.fr")
    client.force_login(user)

    response = client.post(
        reverse("users:account"),
        {
            "first_name": "Camille",
            "last_name": "Martin",
            "phone": "01.23.45.67.89",
            "contact_email": "contact@exemple.fr",
            # A new contact address takes the password.
            "password": PASSWORD,
        },
        follow=True,
    )

    assert "Vos informations ont été enregistrées." in response.text
    user.refresh_from_db()
    assert (user.first_name, user.last_name, user.phone, user.contact_email) == (
        "Camille",
        "Martin",
        "01 23 45 67 89",
        "contact@exemple.fr",
    )
    assert user.email == "agent@exemple.fr"
    event = AuditEvent.objects.get(action="user_update")
    assert event.changes["phone"] == {"before": "", "after": "01 23 45 67 89"}


def test_account_accepts_international_french_phone(client):
    user = UserFactory()
    client.force_login(user)

    client.post(
        reverse("users:account"),
        {"first_name": "A", "last_name": "B", "phone": "+33 6 12 34 56 78"},
    )

    user.refresh_from_db()
    assert user.phone == "+33 6 12 34 56 78"


@pytest.mark.parametrize("phone", ["12345", "06 12 34 56 7", "+44 20 7946 0958", "0012345678"])
def test_account_bad_phone_refused_and_nothing_changed(client, phone):
    user = UserFactory(first_name="Camille", phone="")
    client.force_login(user)

    response = client.post(
        reverse("users:account"), {"first_name": "Dominique", "last_name": "", "phone": phone}
    )

    assert response.status_code == 200
    assert "Saisissez un numéro de téléphone français" in response.text
    user.refresh_from_db()
    assert (user.first_name, user.phone) == ("Camille", "")


def test_account_shows_login_email_read_only(client):
    user = UserFactory(email="agent@exemple.fr")
    client.force_login(user)

    response = client.get(reverse("users:account"))

    assert "agent@exemple.fr" in response.text
    assert 'name="email"' not in response.text
    assert "Soumettre" in response.text
    assert reverse("users:password_change") in response.text


def test_account_requires_login(client):
    response = client.get(reverse("users:account"))

    assert response.status_code == 302
    assert response.url.startswith(reverse("users:login"))


@pytest.mark.parametrize(
    "name",
    [
        "signup",
        "login",
        "password_reset",
        "activation_resend",
        "signup_done",
        "activation_resend_done",
        "password_reset_done",
        "password_reset_complete",
    ],
)
def test_anonymous_pages_open(client, name):
    assert client.get(reverse(f"users:{name}")).status_code == 200


@pytest.mark.parametrize("name", ["account", "password_change", "password_change_done"])
def test_account_pages_open_when_logged_in(client, name):
    client.force_login(UserFactory())

    assert client.get(reverse(f"users:{name}")).status_code == 200


def test_login_returns_to_the_page_asked_for(client):
    UserFactory(email="agent@exemple.fr")
    login_page = client.get(reverse("users:account"), follow=True)
    assert 'name="next" value="/compte/mon-compte/"' in login_page.text

    response = client.post(
        reverse("users:login"),
        {"username": "agent@exemple.fr", "password": PASSWORD, "next": "/compte/mon-compte/"},
    )

    assert response.url == reverse("users:account")


def test_signup_page_sends_logged_in_user_home(client):
    client.force_login(UserFactory())

    assert client.get(reverse("users:signup")).url == reverse("home")


def test_password_reset_link_with_bad_token_is_refused(client):
    user = UserFactory()
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    response = client.get(reverse("users:password_reset_confirm", args=[uid, "abc-123"]))

    assert "Ce lien de réinitialisation est invalide" in response.text


def test_every_account_view_declares_its_access_rule():
    for pattern in users_urls.account_urlpatterns:
        assert getattr(pattern.callback, "access_rule", None) in ("public", "authenticated"), pattern.name


def test_signup_form_is_prefilled_from_an_invitation_link(client):
    response = client.get(reverse("users:signup"), {"email": "invitee@exemple.fr"})

    assert 'value="invitee@exemple.fr"' in response.text
