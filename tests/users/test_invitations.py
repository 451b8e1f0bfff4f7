"""Attaching an existing account is an invitation its owner accepts or declines: until
then they are no member (no data shown, no two-factor requirement, no principal manager
role). Members leave a structure from Mes rattachements. The attach form answers alike
for known and unknown emails, is rate limited, and its email carries no free text."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from chorus.models import AuditEvent, Level
from structures.models import Structure
from tests import factories
from users.models import Invitation, Membership
from users.services import two_factor

pytestmark = pytest.mark.django_db

ATTACH = "users:attach"
ATTACH_MANY = "users:attach_many"
ANSWER = "users:invitation_answer"
LEAVE = "users:membership_leave"
MINE = "users:my_memberships"


@pytest.fixture
def victim(db):
    return factories.UserFactory(
        email="victime@exemple.fr",
        first_name="Véra",
        last_name="Victime",
        phone="06 11 22 33 44",
        contact_email="vera.perso@exemple.fr",
    )


def attach(client, structure, email, level="structure", services_=()):
    return client.post(
        reverse(ATTACH),
        {
            "structure": structure.pk,
            "email": email,
            "level": level,
            "services": [service.pk for service in services_],
        },
    )


def invite(client, manager, structure, email, capture, **kwargs):
    """The manager attaches the email; returns the confirmation messages shown."""
    client.force_login(manager)
    with capture(execute=True):
        response = attach(client, structure, email, **kwargs)
    assert response.status_code == 302, response.context["form"].errors if response.context else response
    return success_message(client, response)


def answer(client, user, invitation, decision, capture):
    client.force_login(user)
    with capture(execute=True):
        return client.post(reverse(ANSWER), {"invitation": invitation.pk, "decision": decision})


def success_message(client, response):
    page = client.get(response.url)
    return [str(message) for message in page.context["messages"]]


# The attack: attaching a known email


def test_attaching_a_known_email_makes_no_member_until_they_accept(
    client, structure, principal_manager, victim, mailoutbox, django_capture_on_commit_callbacks
):
    invite(client, principal_manager, structure, victim.email, django_capture_on_commit_callbacks)

    assert not Membership.objects.filter(user=victim).exists()
    invitation = Invitation.objects.get()
    assert (invitation.user, invitation.structure, invitation.accepted_at) == (victim, structure, None)
    # The owner is told, at the address they chose for notifications.
    assert [message.to for message in mailoutbox] == [["vera.perso@exemple.fr"]]


def test_an_invited_users_data_is_not_shown_to_the_inviter_before_they_accept(
    client, structure, principal_manager, victim, django_capture_on_commit_callbacks
):
    invite(client, principal_manager, structure, victim.email, django_capture_on_commit_callbacks)

    listing = client.get(reverse("users:member_list"))
    export = client.get(reverse("users:member_export"), {"format": "csv"})
    detail = client.get(reverse("users:member_detail", args=[victim.pk]))
    exported = b"".join(export.streaming_content).decode() if export.streaming else export.content.decode()
    for text in (listing.text, exported):
        assert "victime@exemple.fr" not in text
        assert "06 11 22 33 44" not in text
        assert "vera.perso@exemple.fr" not in text
    assert detail.status_code == 404


def test_a_structure_requiring_two_factor_does_not_bind_an_invited_user(
    client, structure, principal_manager, victim, django_capture_on_commit_callbacks
):
    invite(client, principal_manager, structure, victim.email, django_capture_on_commit_callbacks)
    # Switched on once the invitation is sent, as the attacker would.
    Structure.objects.filter(pk=structure.pk).update(two_factor_required=True)

    assert two_factor.requirement_reasons(victim) == []
    client.force_login(victim)
    assert client.get(reverse("home")).status_code == 200  # not sent to enrolment


def test_an_invited_user_cannot_be_made_principal_manager(
    client, structure, principal_manager, victim, django_capture_on_commit_callbacks
):
    invite(client, principal_manager, structure, victim.email, django_capture_on_commit_callbacks)

    response = client.post(
        reverse("structures:transfer"), {"type": "unitaire", f"structure_{structure.pk}": victim.pk}
    )

    assert response.status_code == 200
    structure.refresh_from_db()
    assert structure.principal_manager == principal_manager
    assert victim.email not in response.text


def test_attaching_to_several_structures_invites_a_known_user_too(
    client, structure, principal_manager, victim, mailoutbox, django_capture_on_commit_callbacks
):
    second = factories.StructureFactory(company_name="Deuxième structure")
    factories.attach(principal_manager, second)
    client.force_login(principal_manager)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse(ATTACH_MANY), {"email": victim.email, "structures": [structure.pk, second.pk]}
        )

    assert response.status_code == 302
    assert not Membership.objects.filter(user=victim).exists()
    assert set(Invitation.objects.filter(user=victim).values_list("structure_id", flat=True)) == {
        structure.pk,
        second.pk,
    }
    assert len(mailoutbox) == 1


# Accepting, declining


def test_the_invited_user_sees_the_invitation_on_the_home_page(
    client, structure, principal_manager, victim, django_capture_on_commit_callbacks
):
    invite(client, principal_manager, structure, victim.email, django_capture_on_commit_callbacks)
    client.force_login(victim)

    home = client.get(reverse("home"))

    assert structure.display_name in home.text
    assert "Accepter" in home.text and "Refuser" in home.text
    assert principal_manager.email in home.text


def test_accepting_attaches_as_the_inviter_chose_and_tells_them(
    client, structure, principal_manager, victim, mailoutbox, django_capture_on_commit_callbacks
):
    textile = factories.ServiceFactory(structure=structure, name="Service textile")
    invite(
        client,
        principal_manager,
        structure,
        victim.email,
        django_capture_on_commit_callbacks,
        level="service",
        services_=[textile],
    )
    invitation = Invitation.objects.get()
    mailoutbox.clear()

    response = answer(client, victim, invitation, "accepter", django_capture_on_commit_callbacks)

    assert response.status_code == 302
    membership = Membership.objects.get(user=victim)
    assert (membership.structure, membership.service, membership.status) == (structure, textile, "VALIDEE")
    invitation.refresh_from_db()
    assert invitation.accepted_at is not None
    event = AuditEvent.objects.get(action="invitation_accept")
    assert (event.actor, event.structure) == (victim, structure)
    assert [message.to for message in mailoutbox] == [[principal_manager.email]]
    assert "victime@exemple.fr" in mailoutbox[0].body
    assert any("Vous êtes maintenant rattaché" in text for text in success_message(client, response))
    # Now a member: listed for the manager.
    client.force_login(principal_manager)
    assert "victime@exemple.fr" in client.get(reverse("users:member_list")).text


def test_declining_attaches_nothing_and_tells_the_inviter(
    client, structure, principal_manager, victim, mailoutbox, django_capture_on_commit_callbacks
):
    invite(client, principal_manager, structure, victim.email, django_capture_on_commit_callbacks)
    invitation = Invitation.objects.get()
    mailoutbox.clear()

    response = answer(client, victim, invitation, "refuser", django_capture_on_commit_callbacks)

    assert response.status_code == 302
    assert not Membership.objects.filter(user=victim).exists()
    invitation.refresh_from_db()
    assert (invitation.accepted_at, invitation.declined_at is not None) == (None, True)
    assert AuditEvent.objects.filter(action="invitation_decline", actor=victim).count() == 1
    assert [message.to for message in mailoutbox] == [[principal_manager.email]]
    assert "refusé" in mailoutbox[0].body
    # Declined: no longer offered, and cannot be accepted afterwards.
    assert "Accepter" not in client.get(reverse("home")).text
    answer(client, victim, invitation, "accepter", django_capture_on_commit_callbacks)
    assert not Membership.objects.filter(user=victim).exists()


def test_an_expired_invitation_cannot_be_accepted(client, structure, principal_manager, victim):
    invitation = Invitation.objects.create(
        email=victim.email,
        user=victim,
        structure=structure,
        invited_by=principal_manager,
        created_at=timezone.now() - Invitation.VALIDITY - timedelta(minutes=1),
    )
    client.force_login(victim)

    response = client.post(reverse(ANSWER), {"invitation": invitation.pk, "decision": "accepter"})

    assert not Membership.objects.filter(user=victim).exists()
    assert not AuditEvent.objects.filter(action="invitation_accept").exists()
    assert response.status_code == 302
    assert "Accepter" not in client.get(reverse("home")).text


def test_nobody_answers_someone_elses_invitation(client, structure, principal_manager, victim):
    invitation = Invitation.objects.create(
        email=victim.email, user=victim, structure=structure, invited_by=principal_manager
    )
    intruder = factories.UserFactory()
    client.force_login(intruder)

    client.post(reverse(ANSWER), {"invitation": invitation.pk, "decision": "accepter"})

    assert not Membership.objects.filter(structure=structure).exclude(user=principal_manager).exists()
    invitation.refresh_from_db()
    assert invitation.accepted_at is None


def test_accepting_an_invitation_to_a_structure_without_manager_takes_the_role(client, victim):
    waiting = factories.StructureFactory()
    invitation = Invitation.objects.create(email=victim.email, user=victim, structure=waiting)
    client.force_login(victim)

    client.post(reverse(ANSWER), {"invitation": invitation.pk, "decision": "accepter"})

    waiting.refresh_from_db()
    assert (waiting.principal_manager, waiting.status) == (victim, Structure.Status.ACTIVE)


def test_account_activation_does_not_accept_an_invitation_made_to_the_existing_account(victim, structure):
    from users.services import invitations

    Invitation.objects.create(email=victim.email, user=victim, structure=structure)

    assert invitations.invitations_accept(user=victim) == []
    assert not Membership.objects.filter(user=victim).exists()


# Leaving a structure


@pytest.fixture
def member(structure, principal_manager):
    user = factories.UserFactory(email="membre@exemple.fr")
    factories.attach(user, structure)
    factories.grant(user, structure, "FACTURE_EMISE", Level.MODIFICATION)
    return user


def test_a_member_leaves_a_structure_from_my_memberships(
    client, structure, principal_manager, delegate, member, mailoutbox, django_capture_on_commit_callbacks
):
    membership = Membership.objects.get(user=member)
    client.force_login(member)
    page = client.get(reverse(MINE))
    assert f"{reverse(LEAVE)}?membership={membership.pk}" in page.text.replace("&amp;", "&")
    confirm = client.get(reverse(LEAVE), {"membership": membership.pk})
    assert confirm.status_code == 200
    assert structure.display_name in confirm.text

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse(LEAVE), {"membership": membership.pk})

    assert response.status_code == 302
    membership.refresh_from_db()
    assert membership.status == Membership.Status.DESACTIVEE
    assert not member.habilitations.exists()
    # A second click finds it ended, and says so.
    again = client.post(reverse(LEAVE), {"membership": membership.pk}, follow=True)
    assert "Ce rattachement n’existe pas ou a déjà pris fin." in again.text
    assert AuditEvent.objects.filter(action="membership_leave", actor=member).count() == 1
    assert sorted(address for message in mailoutbox for address in message.to) == [
        delegate.email,
        principal_manager.email,
    ]
    assert "membre@exemple.fr" in mailoutbox[0].body


def test_the_principal_manager_is_sent_to_the_transfer_page_instead_of_leaving(
    client, structure, principal_manager
):
    membership = Membership.objects.get(user=principal_manager)
    client.force_login(principal_manager)
    page = client.get(reverse(MINE))
    assert f"{reverse(LEAVE)}?membership={membership.pk}" not in page.text.replace("&amp;", "&")
    assert reverse("structures:transfer") in page.text

    response = client.post(reverse(LEAVE), {"membership": membership.pk})

    assert response.status_code == 302
    assert response.url == reverse("structures:transfer")
    membership.refresh_from_db()
    assert membership.status == Membership.Status.VALIDEE


def test_nobody_ends_someone_elses_membership(client, structure, principal_manager, member):
    membership = Membership.objects.get(user=member)
    client.force_login(factories.UserFactory())

    assert client.get(reverse(LEAVE), {"membership": membership.pk}).status_code == 404
    assert client.post(reverse(LEAVE), {"membership": membership.pk}).status_code == 404

    membership.refresh_from_db()
    assert membership.status == Membership.Status.VALIDEE


def test_my_memberships_lists_pending_invitations(client, structure, principal_manager, victim):
    Invitation.objects.create(
        email=victim.email, user=victim, structure=structure, invited_by=principal_manager
    )
    client.force_login(victim)
    page = client.get(reverse(MINE))
    assert structure.display_name in page.text
    assert "Accepter" in page.text


# What the attach form tells, and how often


def _normalised(messages, email):
    return [message.replace(email, "<email>") for message in messages]


def test_the_attach_form_answers_alike_for_known_and_unknown_emails(
    client, structure, principal_manager, victim, mailoutbox, django_capture_on_commit_callbacks
):
    known = invite(client, principal_manager, structure, victim.email, django_capture_on_commit_callbacks)
    unknown = invite(
        client, principal_manager, structure, "personne@exemple.fr", django_capture_on_commit_callbacks
    )

    known_messages = _normalised(known, victim.email)
    unknown_messages = _normalised(unknown, "personne@exemple.fr")
    assert known_messages == unknown_messages
    assert known_messages[0].startswith("Une invitation a été envoyée à <email>")
    assert len(mailoutbox) == 2


def test_invitations_to_one_address_are_limited_per_day(
    client, principal_manager, mailoutbox, django_capture_on_commit_callbacks
):
    structures = [factories.StructureFactory() for _ in range(6)]
    for each in structures:
        factories.attach(principal_manager, each)
    client.force_login(principal_manager)
    with django_capture_on_commit_callbacks(execute=True):
        responses = [attach(client, each, "cible@exemple.fr") for each in structures]

    assert [response.status_code for response in responses] == [302] * 5 + [200]
    assert "Trop d’invitations ont été envoyées à cette adresse" in responses[-1].text
    assert Invitation.objects.count() == 5
    assert len(mailoutbox) == 5


def test_invitations_by_one_manager_are_limited_per_hour(
    client, structure, principal_manager, mailoutbox, django_capture_on_commit_callbacks
):
    client.force_login(principal_manager)
    with django_capture_on_commit_callbacks(execute=True):
        responses = [attach(client, structure, f"personne{index}@exemple.fr") for index in range(31)]

    assert [response.status_code for response in responses] == [302] * 30 + [200]
    assert "Vous avez envoyé trop d’invitations" in responses[-1].text
    assert Invitation.objects.count() == 30
    assert len(mailoutbox) == 30


URL = re.compile(r"https?://|www\.|evil", re.IGNORECASE)


@pytest.mark.parametrize("known", [True, False])
def test_the_inviters_name_is_never_in_the_invitation_email(
    client, structure, principal_manager, victim, mailoutbox, django_capture_on_commit_callbacks, known
):
    principal_manager.first_name = "Visitez http://evil.example"
    principal_manager.last_name = "www.evil.example"
    principal_manager.save()
    email = victim.email if known else "nouveau@exemple.fr"

    invite(client, principal_manager, structure, email, django_capture_on_commit_callbacks)

    message = mailoutbox[0]
    bodies = [message.body, *(content for content, _type in getattr(message, "alternatives", []))]
    for text in [message.subject, *bodies]:
        assert "Visitez" not in text
        assert "evil" not in text
    assert structure.display_name in message.body
    assert principal_manager.email in message.body


# Homoglyph and quoted logins


HOSTILE_EMAILS = [
    "victime@ex\u0430mple.fr",  # Cyrillic "а" among Latin letters
    "victime@\u0435xample.fr",  # Cyrillic "е"
    '"a@b"@exemple.fr',  # quoted local part
    "vict\u0131me@exemple.fr",  # dotless ı, which case-insensitive matching takes for "I"
]


@pytest.mark.parametrize("email", HOSTILE_EMAILS)
def test_signup_refuses_homoglyph_and_quoted_addresses(client, email):
    response = client.post(
        reverse("users:signup"),
        {
            "first_name": "Claire",
            "last_name": "Dupont",
            "email": email,
            "password1": factories.PASSWORD,
            "password2": factories.PASSWORD,
        },
    )
    assert response.status_code == 200
    assert response.context["form"].errors["email"]
    assert not response.context["form"].is_valid()
    from users.models import User

    assert not User.objects.filter(email__iexact=email).exists()
    assert User.objects.count() == 0


@pytest.mark.parametrize("email", HOSTILE_EMAILS)
def test_attach_refuses_homoglyph_and_quoted_addresses(client, structure, principal_manager, email):
    client.force_login(principal_manager)
    response = attach(client, structure, email)
    assert response.status_code == 200
    errors = " ".join(response.context["form"].errors["email"])
    assert "alphabets" in errors or "guillemets" in errors or "lettres" in errors
    assert not Invitation.objects.exists()


@pytest.mark.parametrize("email", HOSTILE_EMAILS)
def test_change_of_login_email_refuses_homoglyph_and_quoted_addresses(
    client, principal_manager, mailoutbox, email
):
    client.force_login(principal_manager)
    response = client.post(reverse("users:change_email"), {"email": email, "password": factories.PASSWORD})
    assert response.status_code == 200
    assert response.context["form"].errors["email"]
    principal_manager.refresh_from_db()
    assert principal_manager.email == "gp@exemple.fr"
    assert mailoutbox == []


def test_a_plain_international_domain_is_still_accepted(client, structure, principal_manager):
    client.force_login(principal_manager)
    response = attach(client, structure, "contact@\u0434\u043e\u043c\u0435\u043d.\u0440\u0444")
    assert response.status_code == 302
    assert Invitation.objects.count() == 1
