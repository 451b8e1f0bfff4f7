"""The user menu's pages: Mes rattachements, Changer mon adresse de connexion,
Désactiver mon compte, and the emailed links behind them."""

import html
import re
import time

import pytest
from django.contrib.auth import get_user_model
from django.core import signing
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from chorus.models import AuditEvent
from structures.models import Structure
from tests import factories
from tests.factories import PASSWORD
from users.models import Membership

User = get_user_model()

pytestmark = pytest.mark.django_db

MENU_PAGES = ["users:my_memberships", "users:change_email", "users:deactivate"]


def text(response):
    return html.unescape(response.content.decode())


def link_in(message):
    return re.sub(r"^https?://[^/]+", "", re.search(r"https?://\S+", message.body).group(0))


def is_logged_in(client):
    return "_auth_user_id" in client.session


class _Later:
    """django.core.signing's clock, moved forward."""

    def __init__(self, seconds):
        self.seconds = seconds

    def time(self):
        return time.time() + self.seconds


@pytest.fixture
def member(db):
    user = factories.UserFactory(email="marie@exemple.fr", first_name="Marie", activated_at=timezone.now())
    return user


# Permission matrix


@pytest.mark.parametrize("name", MENU_PAGES)
def test_anonymous_is_sent_to_login(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert response.url.startswith(reverse("users:login"))


@pytest.mark.parametrize("name", MENU_PAGES)
@pytest.mark.parametrize(
    "persona", ["principal_manager", "consultation_user", "other_structure_user", "member"]
)
def test_every_logged_in_user_opens_their_menu_pages(client, request, name, persona):
    client.force_login(request.getfixturevalue(persona))
    assert client.get(reverse(name)).status_code == 200


def test_the_user_menu_lists_the_pages(client, member):
    client.force_login(member)
    response = client.get(reverse("users:account"))
    for name in MENU_PAGES:
        assert reverse(name) in text(response)


# Mes rattachements


def test_my_memberships_show_each_status_and_only_mine(client, structure, principal_manager):
    user = factories.UserFactory()
    service = factories.ServiceFactory(structure=structure, code="TEXTILE", name="Service textile")
    statuses = Membership.Status
    factories.MembershipFactory(user=user, structure=structure, status=statuses.VALIDEE)
    factories.MembershipFactory(
        user=user, structure=structure, service=service, status=statuses.EN_COURS_DE_VALIDATION
    )
    refused = factories.StructureFactory(company_name="Structure refusée")
    factories.MembershipFactory(
        user=user, structure=refused, status=statuses.REFUSEE, ended_at=timezone.now()
    )
    ended = factories.StructureFactory(company_name="Structure quittée")
    factories.MembershipFactory(
        user=user, structure=ended, status=statuses.DESACTIVEE, ended_at=timezone.now()
    )
    factories.MembershipFactory(structure=factories.StructureFactory(company_name="Pas la mienne"))
    client.force_login(user)

    response = text(client.get(reverse("users:my_memberships")))

    for label in ["Validé", "En cours de validation", "Refusé", "Désactivé"]:
        assert f">{label}</p>" in response
    assert "TEXTILE — Service textile" in response
    assert "Structure refusée" in response and "Structure quittée" in response
    assert "Pas la mienne" not in response
    assert "4 rattachements" in response


def test_my_memberships_query_count_does_not_grow(client, member):
    factories.MembershipFactory(user=member)
    client.force_login(member)
    url = reverse("users:my_memberships")
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for _index in range(30):
        structure = factories.StructureFactory()
        factories.MembershipFactory(
            user=member, structure=structure, service=factories.ServiceFactory(structure=structure)
        )
    with CaptureQueriesContext(connection) as many:
        client.get(url)
    assert len(many) == len(few)


# Changer mon adresse de connexion


def change_email(client, email, password=PASSWORD):
    return client.post(reverse("users:change_email"), {"email": email, "password": password})


def test_change_email_is_confirmed_by_the_link_sent_to_the_new_address(
    client, member, mailoutbox, django_capture_on_commit_callbacks
):
    client.force_login(member)
    with django_capture_on_commit_callbacks(execute=True):
        response = change_email(client, "Marie.Nouvelle@Exemple.fr")

    assert response.status_code == 302
    member.refresh_from_db()
    assert member.email == "marie@exemple.fr"  # not before the link is followed
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["marie.nouvelle@exemple.fr"]
    assert "60 minutes" in mailoutbox[0].body
    assert AuditEvent.objects.filter(action="user_email_change_request", object_id=str(member.pk)).exists()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.get(link_in(mailoutbox[0]), follow=True)

    assert "Votre adresse de connexion est maintenant marie.nouvelle@exemple.fr." in text(response)
    member.refresh_from_db()
    assert member.email == "marie.nouvelle@exemple.fr"
    event = AuditEvent.objects.get(action="user_email_change")
    assert event.changes == {"email": {"before": "marie@exemple.fr", "after": "marie.nouvelle@exemple.fr"}}
    assert "marie@exemple.fr" in mailoutbox[1].to  # the old address is told

    client.logout()
    client.post(reverse("users:login"), {"username": "marie.nouvelle@exemple.fr", "password": PASSWORD})
    assert is_logged_in(client)


def test_change_email_link_works_once(client, member, mailoutbox, django_capture_on_commit_callbacks):
    client.force_login(member)
    with django_capture_on_commit_callbacks(execute=True):
        change_email(client, "nouvelle@exemple.fr")
    link = link_in(mailoutbox[0])
    client.get(link)

    response = client.get(link)

    assert response.status_code == 404
    assert "invalide ou a déjà été utilisé" in text(response)
    assert AuditEvent.objects.filter(action="user_email_change").count() == 1


def test_change_email_link_followed_while_logged_out_leads_to_login(
    client, member, mailoutbox, django_capture_on_commit_callbacks
):
    client.force_login(member)
    with django_capture_on_commit_callbacks(execute=True):
        change_email(client, "nouvelle@exemple.fr")
    client.logout()

    response = client.get(link_in(mailoutbox[0]), follow=True)

    assert response.redirect_chain[-1][0] == reverse("users:login")
    assert "connectez-vous avec elle" in text(response)
    member.refresh_from_db()
    assert member.email == "nouvelle@exemple.fr"


def test_expired_change_email_link_changes_nothing(
    client, member, mailoutbox, django_capture_on_commit_callbacks, monkeypatch
):
    client.force_login(member)
    with django_capture_on_commit_callbacks(execute=True):
        change_email(client, "nouvelle@exemple.fr")
    monkeypatch.setattr(signing, "time", _Later(61 * 60))

    response = client.get(link_in(mailoutbox[0]))

    assert "Lien de confirmation expiré" in text(response)
    member.refresh_from_db()
    assert member.email == "marie@exemple.fr"


def test_tampered_change_email_link_is_invalid(
    client, member, mailoutbox, django_capture_on_commit_callbacks
):
    client.force_login(member)
    with django_capture_on_commit_callbacks(execute=True):
        change_email(client, "nouvelle@exemple.fr")
    link = link_in(mailoutbox[0])

    response = client.get(link[:-4] + "AAA/")

    assert response.status_code == 404
    member.refresh_from_db()
    assert member.email == "marie@exemple.fr"


@pytest.mark.parametrize("taken", ["deja@exemple.fr", "DEJA@exemple.fr"])
def test_change_email_to_an_address_already_used_is_refused(client, member, mailoutbox, taken):
    factories.UserFactory(email="deja@exemple.fr")
    client.force_login(member)

    response = change_email(client, taken)

    assert response.status_code == 200
    assert "Cette adresse électronique est déjà utilisée par un compte du portail." in text(response)
    assert mailoutbox == []
    assert not AuditEvent.objects.filter(action="user_email_change_request").exists()


def test_change_email_refused_with_a_wrong_password(client, member, mailoutbox):
    client.force_login(member)
    response = change_email(client, "nouvelle@exemple.fr", password="pas-le-bon")
    assert "Mot de passe incorrect." in text(response)
    assert mailoutbox == []


@pytest.mark.parametrize(
    ("email", "message"),
    [
        ("pas-une-adresse", "Saisissez une adresse de courriel valide."),
        ("Marie@Exemple.fr", "C’est déjà votre adresse de connexion."),
    ],
)
def test_change_email_refuses_a_malformed_or_the_same_address(client, member, mailoutbox, email, message):
    client.force_login(member)
    assert message in text(change_email(client, email))
    assert mailoutbox == []
    assert not AuditEvent.objects.exists()


def test_address_taken_before_the_link_is_followed_changes_nothing(
    client, member, mailoutbox, django_capture_on_commit_callbacks
):
    client.force_login(member)
    with django_capture_on_commit_callbacks(execute=True):
        change_email(client, "nouvelle@exemple.fr")
    factories.UserFactory(email="nouvelle@exemple.fr")

    response = client.get(link_in(mailoutbox[0]))

    assert "maintenant utilisée par un autre compte" in text(response)
    member.refresh_from_db()
    assert member.email == "marie@exemple.fr"


# Désactiver mon compte, réactiver


def deactivate(client, password=PASSWORD, **extra):
    return client.post(reverse("users:deactivate"), {"password": password}, **extra)


def test_deactivation_logs_out_and_emails_a_reactivation_link(
    client, member, mailoutbox, django_capture_on_commit_callbacks
):
    client.force_login(member)
    with django_capture_on_commit_callbacks(execute=True):
        response = deactivate(client, follow=True)

    assert "Votre compte est désactivé" in text(response)
    assert not is_logged_in(client)
    member.refresh_from_db()
    assert not member.is_active
    assert AuditEvent.objects.filter(action="user_deactivate", object_id=str(member.pk)).exists()
    assert mailoutbox[0].to == ["marie@exemple.fr"]
    assert "7 jours" in mailoutbox[0].body

    client.post(reverse("users:login"), {"username": "marie@exemple.fr", "password": PASSWORD})
    assert not is_logged_in(client)

    response = client.get(link_in(mailoutbox[0]), follow=True)

    assert response.redirect_chain[-1][0] == reverse("users:login")
    assert "Votre compte est réactivé. Vous pouvez vous connecter." in text(response)
    member.refresh_from_db()
    assert member.is_active
    assert AuditEvent.objects.filter(action="user_reactivate").exists()
    client.post(reverse("users:login"), {"username": "marie@exemple.fr", "password": PASSWORD})
    assert is_logged_in(client)


def test_deactivation_refused_with_a_wrong_password(client, member, mailoutbox):
    client.force_login(member)
    response = deactivate(client, password="pas-le-bon")
    assert "Mot de passe incorrect." in text(response)
    member.refresh_from_db()
    assert member.is_active
    assert is_logged_in(client)
    assert mailoutbox == []


def test_principal_manager_with_other_users_must_transfer_first(
    client, structure, principal_manager, delegate
):
    client.force_login(principal_manager)

    page = text(client.get(reverse("users:deactivate")))
    response = deactivate(client)

    assert "Transférez d’abord votre rôle de gestionnaire principal" in page
    assert reverse("structures:transfer") in page
    assert structure.identifier in page
    assert response.status_code == 200
    assert "Votre compte n’a pas été désactivé" in text(response)
    principal_manager.refresh_from_db()
    assert principal_manager.is_active
    assert is_logged_in(client)


def test_principal_manager_alone_or_of_an_inactive_structure_may_deactivate(
    client, structure, principal_manager
):
    lonely = factories.StructureFactory(with_principal_manager=principal_manager)
    inactive = factories.StructureFactory(
        with_principal_manager=principal_manager, status=Structure.Status.INACTIVE
    )
    factories.attach(factories.UserFactory(), inactive)
    client.force_login(principal_manager)

    deactivate(client)

    principal_manager.refresh_from_db()
    assert not principal_manager.is_active
    assert lonely.principal_manager == principal_manager


def test_reactivation_link_works_once(client, member, mailoutbox, django_capture_on_commit_callbacks):
    client.force_login(member)
    with django_capture_on_commit_callbacks(execute=True):
        deactivate(client)
    link = link_in(mailoutbox[0])
    client.get(link)
    # Deactivated again, by an operator.
    User.objects.filter(pk=member.pk).update(is_active=False)

    response = client.get(link)

    assert response.status_code == 404
    assert "invalide ou a déjà été utilisé" in text(response)
    member.refresh_from_db()
    assert not member.is_active


def test_expired_reactivation_link_offers_a_new_one(
    client, member, mailoutbox, django_capture_on_commit_callbacks, monkeypatch
):
    client.force_login(member)
    with django_capture_on_commit_callbacks(execute=True):
        deactivate(client)
    link = link_in(mailoutbox[0])
    monkeypatch.setattr(signing, "time", _Later(7 * 24 * 3600 + 60))

    response = client.get(link)

    assert "Lien de réactivation expiré" in text(response)
    member.refresh_from_db()
    assert not member.is_active
    with django_capture_on_commit_callbacks(execute=True):
        client.post(link)
    monkeypatch.undo()
    assert len(mailoutbox) == 2
    client.get(link_in(mailoutbox[1]))
    member.refresh_from_db()
    assert member.is_active


def test_reactivation_link_does_not_activate_an_account_never_activated(client, db):
    from users.services.me import REACTIVATE_SALT
    from users.tokens import make_token

    user = factories.UserFactory(is_active=False, activated_at=None)
    event = AuditEvent.objects.create(
        action="user_deactivate", object_type="users.User", object_id=str(user.pk)
    )
    response = client.get(reverse("users:reactivate", args=[make_token(user, REACTIVATE_SALT, d=event.pk)]))
    assert response.status_code == 404
    user.refresh_from_db()
    assert not user.is_active
