"""Rattacher un utilisateur (one structure, several at once, invitations) and Détacher
un utilisateur."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from chorus.models import AuditEvent, Habilitation, Level
from structures.models import Structure
from tests import factories
from users import selectors
from users.models import Invitation, Membership, User
from users.services import invitations, members

pytestmark = pytest.mark.django_db

ATTACH = "users:attach"
ATTACH_MANY = "users:attach_many"
DETACH = "users:detach"
GP_REFUSAL = "Le gestionnaire principal ne peut pas être détaché : transférez d’abord son rôle."


def log_in(client, user):
    client.force_login(user)
    return client


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


def detach(client, structure, user, comment="Départ de l'entreprise", level="structure", services_=()):
    return client.post(
        reverse(DETACH),
        {
            "structure": structure.pk,
            "user": user.pk,
            "level": level,
            "services": [service.pk for service in services_],
            "comment": comment,
        },
    )


def snapshot():
    """Everything an attach or detach may change."""
    return (
        set(
            Membership.objects.values_list("pk", "user_id", "structure_id", "service_id", "status", "comment")
        ),
        set(Habilitation.objects.values_list("pk", "user_id", "structure_id", "service_id", "profile_id")),
        Invitation.objects.count(),
        set(Structure.objects.values_list("pk", "principal_manager_id")),
    )


def link_in(message):
    return re.search(r"https?://\S+", message.body).group(0)


def path_of(url):
    return re.sub(r"^https?://[^/]+", "", url)


# Permission matrix


@pytest.mark.parametrize("name", [ATTACH, ATTACH_MANY, DETACH])
def test_anonymous_visitor_is_sent_to_login(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert response.url.startswith(reverse("users:login"))


@pytest.mark.parametrize("name", [ATTACH, ATTACH_MANY, DETACH])
def test_consultation_user_cannot_attach_or_detach(client, consultation_user, name):
    assert log_in(client, consultation_user).get(reverse(name)).status_code == 403


@pytest.mark.parametrize("name", [ATTACH, ATTACH_MANY, DETACH])
def test_simple_user_without_organisation_profile_cannot_attach_or_detach(
    client, structure, principal_manager, name
):
    user = factories.UserFactory()
    factories.attach(user, structure)
    factories.grant(user, structure, "FACTURE_EMISE", Level.MODIFICATION)
    assert log_in(client, user).get(reverse(name)).status_code == 403


@pytest.mark.parametrize("persona", ["principal_manager", "delegate"])
@pytest.mark.parametrize("name", [ATTACH, ATTACH_MANY, DETACH])
def test_managers_open_attach_and_detach_pages(client, request, structure, persona, name):
    user = request.getfixturevalue(persona)
    response = log_in(client, user).get(reverse(name))
    assert response.status_code == 200
    assert structure.identifier in response.text


def test_manager_of_another_structure_does_not_see_nor_act_on_ours(
    client, structure, principal_manager, other_structure_user
):
    # other_structure_user is the principal manager of their own structure only.
    log_in(client, other_structure_user)
    page = client.get(reverse(ATTACH))
    assert page.status_code == 200
    assert structure.identifier not in page.text
    before = snapshot()

    response = attach(client, structure, "intrus@exemple.fr")
    assert response.status_code == 200
    assert "Choisissez une structure parmi les vôtres." in response.text
    response = detach(client, structure, principal_manager)
    assert "Choisissez une structure parmi les vôtres." in response.text
    assert snapshot() == before


def test_forged_structure_in_the_first_step_shows_no_form(client, principal_manager, other_structure_user):
    other = other_structure_user.memberships.get().structure
    response = log_in(client, principal_manager).get(reverse(DETACH), {"structure": other.pk})
    assert response.status_code == 200
    assert other_structure_user.email not in response.text
    assert 'name="comment"' not in response.text


# Rattacher un utilisateur


def accept_invitations(user):
    """The invited user accepts what they were sent: only then are they attached."""
    for invitation in selectors.invitations_pending_for(user=user):
        invitations.invitation_accept(invitation_id=invitation.pk, user=user)


def test_principal_manager_attaches_known_user_to_the_structure(client, structure, principal_manager):
    user = factories.UserFactory(email="camille@exemple.fr")
    log_in(client, principal_manager)

    response = attach(client, structure, "Camille@Exemple.fr")

    assert response.status_code == 302
    assert response.url == f"{reverse(ATTACH)}?structure={structure.pk}"
    page = client.get(response.url)
    assert (
        f"Une invitation a été envoyée à camille@exemple.fr pour la structure « {structure.display_name} »."
        in page.text
    )
    assert not Membership.objects.filter(user=user).exists(), "nothing before the user accepts"
    sent = AuditEvent.objects.get(action="invitation_send")
    assert (sent.actor, sent.structure) == (principal_manager, structure)

    accept_invitations(user)

    membership = Membership.objects.get(user=user)
    assert (membership.structure, membership.service, membership.status) == (structure, None, "VALIDEE")
    event = AuditEvent.objects.get(action="invitation_accept")
    assert (event.actor, event.structure) == (user, structure)


def test_delegate_attaches_known_user_to_chosen_services(client, structure, delegate):
    textile, compta = (
        factories.ServiceFactory(structure=structure),
        factories.ServiceFactory(structure=structure),
    )
    factories.ServiceFactory(structure=structure)
    user = factories.UserFactory()
    log_in(client, delegate)

    response = attach(client, structure, user.email, level="service", services_=[textile, compta])

    assert response.status_code == 302
    accept_invitations(user)
    assert set(Membership.objects.filter(user=user).values_list("service_id", flat=True)) == {
        textile.pk,
        compta.pk,
    }
    assert not Membership.objects.filter(user=user, service__isnull=True).exists()


def test_attach_page_lists_only_the_active_services_of_the_chosen_structure(
    client, structure, principal_manager
):
    active = factories.ServiceFactory(structure=structure, name="Service textile")
    factories.ServiceFactory(structure=structure, name="Service fermé", is_active=False)
    factories.ServiceFactory(name="Service ailleurs")
    response = log_in(client, principal_manager).get(reverse(ATTACH), {"structure": structure.pk})
    assert list(response.context["form"].fields["services"].queryset) == [active]
    assert "Service textile" in response.text
    assert "Service fermé" not in response.text
    assert "Service ailleurs" not in response.text


def test_attach_page_never_lists_users(client, structure, principal_manager, other_structure_user):
    response = log_in(client, principal_manager).get(reverse(ATTACH), {"structure": structure.pk})
    assert other_structure_user.email not in response.text
    assert principal_manager.email not in response.text.split("<main", 1)[1]


@pytest.mark.parametrize("email", ["jean.exemple.fr", "jean@", "jean@exemple", ""])
def test_attach_refuses_malformed_email(client, structure, principal_manager, email):
    before = snapshot()
    response = attach(log_in(client, principal_manager), structure, email)
    assert response.status_code == 200
    if email:
        assert "Saisissez une adresse de courriel valide." in response.text
    else:
        assert "Ce champ est obligatoire." in response.text
    assert snapshot() == before


def test_attach_refuses_a_user_already_attached_to_the_structure(client, structure, principal_manager):
    user = factories.UserFactory()
    factories.attach(user, structure)
    before = snapshot()
    response = attach(log_in(client, principal_manager), structure, user.email)
    assert response.status_code == 200
    assert "L’utilisateur est déjà rattaché à cette structure." in response.text
    assert snapshot() == before


def test_attach_refuses_a_user_already_attached_to_one_of_the_services(client, structure, principal_manager):
    textile, compta = (
        factories.ServiceFactory(structure=structure),
        factories.ServiceFactory(structure=structure),
    )
    user = factories.UserFactory()
    factories.attach(user, structure, service=textile)
    before = snapshot()
    response = attach(
        log_in(client, principal_manager), structure, user.email, level="service", services_=[compta, textile]
    )
    assert f"L’utilisateur est déjà rattaché au service « {textile.name} »." in response.text
    assert snapshot() == before, "all or nothing: compta is not attached either"


def test_attach_refuses_a_service_of_another_structure(
    client, structure, principal_manager, other_structure_user
):
    other_service = factories.ServiceFactory(structure=other_structure_user.memberships.get().structure)
    user = factories.UserFactory()
    before = snapshot()
    response = attach(log_in(client, principal_manager), structure, user.email, "service", [other_service])
    assert response.status_code == 200
    assert "Le service choisi n’appartient pas à la structure" in response.text
    assert snapshot() == before


def test_attach_refuses_an_inactive_service(client, structure, principal_manager):
    closed = factories.ServiceFactory(structure=structure, is_active=False)
    before = snapshot()
    response = attach(log_in(client, principal_manager), structure, "x@exemple.fr", "service", [closed])
    assert (
        "Le service choisi n’appartient pas à la structure ou n’est pas proposé." in response.text
    )
    assert snapshot() == before


def test_service_level_needs_a_service(client, structure, principal_manager):
    factories.ServiceFactory(structure=structure)
    before = snapshot()
    response = attach(log_in(client, principal_manager), structure, "x@exemple.fr", level="service")
    assert "Choisissez au moins un service." in response.text
    assert snapshot() == before


def test_attach_refused_on_a_deactivated_structure(client, structure, principal_manager):
    Structure.objects.filter(pk=structure.pk).update(status=Structure.Status.INACTIVE)
    before = snapshot()
    response = attach(log_in(client, principal_manager), structure, factories.UserFactory().email)
    assert "est désactivée : réactivez-la d’abord (Gérer une structure › Activer une structure)." in (
        response.text
    )
    assert snapshot() == before


def test_structure_level_ignores_ticked_services(client, structure, principal_manager):
    service = factories.ServiceFactory(structure=structure)
    user = factories.UserFactory()
    attach(log_in(client, principal_manager), structure, user.email, level="structure", services_=[service])
    accept_invitations(user)
    assert list(Membership.objects.filter(user=user).values_list("service_id", flat=True)) == [None]


# Invitations


def test_unknown_email_receives_an_invitation(
    client, structure, principal_manager, mailoutbox, django_capture_on_commit_callbacks
):
    service = factories.ServiceFactory(structure=structure, name="Service textile")
    log_in(client, principal_manager)
    with django_capture_on_commit_callbacks(execute=True):
        response = attach(client, structure, "Nouveau@Exemple.fr", level="service", services_=[service])

    assert response.status_code == 302
    invitation = Invitation.objects.get()
    assert invitation.email == "nouveau@exemple.fr"
    assert (invitation.structure, invitation.invited_by, invitation.accepted_at) == (
        structure,
        principal_manager,
        None,
    )
    assert list(invitation.services.all()) == [service]
    assert not User.objects.filter(email="nouveau@exemple.fr").exists()
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["nouveau@exemple.fr"]
    assert "/compte/inscription/?email=nouveau%40exemple.fr" in mailoutbox[0].body
    assert "Service textile" in mailoutbox[0].body
    assert "7 jours" in mailoutbox[0].body
    assert AuditEvent.objects.filter(action="invitation_send", structure=structure).exists()
    page = client.get(response.url)
    assert (
        "Une invitation a été envoyée à nouveau@exemple.fr pour les services « Service textile » "
        f"de la structure « {structure.display_name} »." in page.text
    )


def test_invitation_then_signup_then_activation_attaches_the_new_account(
    client, structure, principal_manager, mailoutbox, django_capture_on_commit_callbacks
):
    service = factories.ServiceFactory(structure=structure)
    log_in(client, principal_manager)
    with django_capture_on_commit_callbacks(execute=True):
        attach(client, structure, "nouveau@exemple.fr", level="service", services_=[service])
    client.logout()

    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("users:signup"),
            {
                "first_name": "Nadia",
                "last_name": "Nouveau",
                "email": "nouveau@exemple.fr",
                "password1": factories.PASSWORD,
                "password2": factories.PASSWORD,
            },
        )
    user = User.objects.get(email="nouveau@exemple.fr")
    assert not Membership.objects.filter(user=user).exists(), "nothing before the address is proven"

    activation = mailoutbox[-1]
    assert activation.to == ["nouveau@exemple.fr"]
    client.get(path_of(link_in(activation)))

    membership = Membership.objects.get(user=user)
    assert (membership.structure, membership.service, membership.status) == (structure, service, "VALIDEE")
    invitation = Invitation.objects.get()
    assert invitation.accepted_at is not None
    structure.refresh_from_db()
    assert structure.principal_manager == principal_manager
    assert AuditEvent.objects.filter(action="invitation_accept", object_id=str(invitation.pk)).exists()


def test_first_invited_user_of_a_structure_without_principal_manager_takes_the_role(db):
    structure = factories.StructureFactory()
    Invitation.objects.create(email="premier@exemple.fr", structure=structure)
    user = factories.UserFactory(email="premier@exemple.fr")

    invitations.invitations_accept(user=user)

    structure.refresh_from_db()
    assert structure.principal_manager == user
    assert Membership.objects.get(user=user).service is None


def test_expired_or_accepted_invitations_attach_nothing(db):
    structure = factories.StructureFactory(with_principal_manager=True)
    Invitation.objects.create(
        email="tard@exemple.fr", structure=structure, created_at=timezone.now() - timedelta(days=7, minutes=1)
    )
    Invitation.objects.create(email="tard@exemple.fr", structure=structure, accepted_at=timezone.now())
    user = factories.UserFactory(email="tard@exemple.fr")

    assert invitations.invitations_accept(user=user) == []
    assert not Membership.objects.filter(user=user).exists()


def test_invitation_skips_an_attachment_the_user_already_has(db):
    structure = factories.StructureFactory(with_principal_manager=True)
    user = factories.UserFactory(email="deja@exemple.fr")
    factories.attach(user, structure)
    Invitation.objects.create(email="DEJA@exemple.fr", structure=structure)

    assert invitations.invitations_accept(user=user) == []
    assert Membership.objects.filter(user=user).count() == 1
    assert Invitation.objects.get().accepted_at is not None


# Rattacher à plusieurs structures


@pytest.fixture
def second_structure(principal_manager):
    other = factories.StructureFactory(company_name="Deuxième structure")
    factories.attach(principal_manager, other)
    return other


def test_principal_manager_attaches_one_user_to_several_structures(
    client, structure, second_structure, principal_manager
):
    user = factories.UserFactory()
    response = log_in(client, principal_manager).post(
        reverse(ATTACH_MANY), {"email": user.email, "structures": [structure.pk, second_structure.pk]}
    )
    assert response.status_code == 302
    assert "Une invitation a été envoyée à" in client.get(response.url).text
    accept_invitations(user)
    assert set(
        Membership.objects.filter(user=user, service__isnull=True).values_list("structure_id", flat=True)
    ) == {
        structure.pk,
        second_structure.pk,
    }


def test_attach_to_several_structures_is_all_or_nothing(
    client, structure, second_structure, principal_manager
):
    user = factories.UserFactory()
    factories.attach(user, second_structure)
    before = snapshot()
    response = log_in(client, principal_manager).post(
        reverse(ATTACH_MANY), {"email": user.email, "structures": [structure.pk, second_structure.pk]}
    )
    assert response.status_code == 200
    assert "Deuxième structure : L’utilisateur est déjà rattaché à cette structure." in response.text
    assert snapshot() == before


def test_attach_to_several_structures_refuses_a_structure_not_mine(
    client, structure, principal_manager, other_structure_user
):
    other = other_structure_user.memberships.get().structure
    before = snapshot()
    response = log_in(client, principal_manager).post(
        reverse(ATTACH_MANY), {"email": "x@exemple.fr", "structures": [structure.pk, other.pk]}
    )
    assert "La structure choisie ne fait pas partie de vos structures." in response.text
    assert snapshot() == before


def test_attach_to_several_structures_refuses_malformed_email(client, structure, principal_manager):
    before = snapshot()
    response = log_in(client, principal_manager).post(
        reverse(ATTACH_MANY), {"email": "pas-une-adresse", "structures": [structure.pk]}
    )
    assert "Saisissez une adresse de courriel valide." in response.text
    assert snapshot() == before


def test_attach_to_several_structures_invites_unknown_email_once(
    client, structure, second_structure, principal_manager, mailoutbox, django_capture_on_commit_callbacks
):
    log_in(client, principal_manager)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse(ATTACH_MANY),
            {"email": "inconnu@exemple.fr", "structures": [structure.pk, second_structure.pk]},
        )
    assert set(Invitation.objects.values_list("structure_id", flat=True)) == {
        structure.pk,
        second_structure.pk,
    }
    assert len(mailoutbox) == 1
    assert "Deuxième structure" in mailoutbox[0].body


# Détacher un utilisateur


@pytest.fixture
def member(structure, principal_manager):
    """A user attached to the structure and to two of its services, with profiles."""
    user = factories.UserFactory(email="membre@exemple.fr", first_name="Marie", last_name="Martin")
    textile = factories.ServiceFactory(structure=structure, code="TEXTILE", name="Service textile")
    compta = factories.ServiceFactory(structure=structure, code="COMPTA", name="Service comptable")
    factories.attach(user, structure)
    factories.attach(user, structure, service=textile)
    factories.attach(user, structure, service=compta)
    factories.grant(user, structure, "FACTURE_EMISE", Level.MODIFICATION)
    factories.grant(user, structure, "FACTURE_RECUE", Level.CONSULTATION, service=textile)
    factories.grant(user, structure, "FACTURE_RECUE", Level.CONSULTATION, service=compta)
    user.textile, user.compta = textile, compta
    return user


def test_detach_page_lists_only_the_chosen_structures_users(
    client, structure, principal_manager, member, other_structure_user
):
    response = log_in(client, principal_manager).get(reverse(DETACH), {"structure": structure.pk})
    choices = list(response.context["form"].fields["user"].queryset)
    assert set(choices) == {principal_manager, member}
    assert other_structure_user.email not in response.text


def test_detach_page_does_not_list_users_already_detached(client, structure, principal_manager, member):
    members.members_detach(actor=principal_manager, user=member, structure=structure, comment="Parti")
    response = log_in(client, principal_manager).get(reverse(DETACH), {"structure": structure.pk})
    assert list(response.context["form"].fields["user"].queryset) == [principal_manager]


def test_principal_manager_detaches_a_user_from_the_structure(
    client, structure, principal_manager, member, mailoutbox, django_capture_on_commit_callbacks
):
    log_in(client, principal_manager)
    with django_capture_on_commit_callbacks(execute=True):
        response = detach(client, structure, member, comment="Départ de l'entreprise")

    assert response.status_code == 302
    memberships = Membership.objects.filter(user=member)
    assert memberships.count() == 3, "kept as history"
    for membership in memberships:
        assert membership.status == Membership.Status.DESACTIVEE
        assert membership.ended_at is not None
        assert membership.comment == "Départ de l'entreprise"
    assert not Habilitation.objects.filter(user=member, structure=structure).exists()
    # One record for the detach, telling the attachments ended and the profiles removed.
    event = AuditEvent.objects.get(action="membership_detach", structure=structure)
    assert len(event.changes["services_ended"]) == 2
    assert len(event.changes["habilitations_removed"]) == 3
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == [member.email]
    assert "Départ de l'entreprise" in mailoutbox[0].body
    assert structure.display_name in mailoutbox[0].subject
    assert "Marie Martin est détaché de la structure" in client.get(response.url).text


def test_detached_user_loses_access_to_the_structure(client, structure, principal_manager, delegate):
    members.members_detach(
        actor=principal_manager, user=delegate, structure=structure, comment="Fin de mission"
    )
    assert log_in(client, delegate).get(reverse(DETACH)).status_code == 403


def test_delegate_detaches_a_user_from_one_service_only(client, structure, delegate, member):
    response = detach(
        log_in(client, delegate), structure, member, level="service", services_=[member.textile]
    )

    assert response.status_code == 302
    live = Membership.objects.filter(user=member, status=Membership.Status.VALIDEE)
    assert set(live.values_list("service_id", flat=True)) == {None, member.compta.pk}
    ended = Membership.objects.get(user=member, service=member.textile)
    assert (ended.status, ended.comment) == (Membership.Status.DESACTIVEE, "Départ de l'entreprise")
    held = set(Habilitation.objects.filter(user=member).values_list("service_id", flat=True))
    assert held == {None, member.compta.pk}, "only the habilitations of the service left go"
    assert "est détaché des services « Service textile »" in client.get(response.url).text


def test_user_attached_through_services_only_leaves_the_whole_structure(client, structure, principal_manager):
    service = factories.ServiceFactory(structure=structure)
    user = factories.UserFactory()
    factories.attach(user, structure, service=service)
    factories.grant(user, structure, "FACTURE_EMISE", Level.CONSULTATION, service=service)
    factories.grant(user, structure, "FACTURE_RECUE", Level.CONSULTATION)

    response = detach(log_in(client, principal_manager), structure, user)

    assert response.status_code == 302
    assert not Membership.objects.filter(user=user, status__in=Membership.LIVE_STATUSES).exists()
    assert not Habilitation.objects.filter(user=user).exists()


@pytest.mark.parametrize("comment", ["", "   "])
def test_detach_without_comment_is_refused(client, structure, principal_manager, member, comment):
    before = snapshot()
    response = detach(log_in(client, principal_manager), structure, member, comment=comment)
    assert response.status_code == 200
    assert "Le commentaire est obligatoire." in response.text
    assert snapshot() == before


def test_principal_manager_cannot_be_detached(client, structure, principal_manager, delegate):
    before = snapshot()
    response = detach(log_in(client, delegate), structure, principal_manager)
    assert response.status_code == 200
    assert GP_REFUSAL in response.text
    assert "Transférer le gestionnaire principal" in response.text
    assert snapshot() == before


def test_principal_manager_cannot_be_detached_from_a_service_either(structure, principal_manager):
    service = factories.ServiceFactory(structure=structure)
    membership = factories.attach(principal_manager, structure, service=service)
    with pytest.raises(members.PrincipalManagerError):
        members.membership_detach(membership=membership, actor=principal_manager, comment="Essai")
    membership.refresh_from_db()
    assert membership.status == Membership.Status.VALIDEE


def test_detach_refuses_a_user_of_another_structure(
    client, structure, principal_manager, other_structure_user
):
    before = snapshot()
    response = detach(log_in(client, principal_manager), structure, other_structure_user)
    assert "L’utilisateur choisi n’est pas rattaché à cette structure." in response.text
    assert snapshot() == before


def test_detach_refuses_a_service_the_user_is_not_attached_to(client, structure, principal_manager, member):
    lone = factories.UserFactory()
    factories.attach(lone, structure, service=member.compta)
    before = snapshot()
    response = detach(
        log_in(client, principal_manager), structure, lone, level="service", services_=[member.textile]
    )
    assert "L’utilisateur n’est pas rattaché au service « Service textile »." in response.text
    assert snapshot() == before


def test_detach_refuses_a_service_of_another_structure(client, structure, principal_manager, member):
    elsewhere = factories.ServiceFactory()
    factories.attach(member, elsewhere.structure, service=elsewhere)
    before = snapshot()
    response = detach(
        log_in(client, principal_manager), structure, member, level="service", services_=[elsewhere]
    )
    assert "Le service choisi n’appartient pas à la structure" in response.text
    assert snapshot() == before


def test_membership_detach_refuses_an_ended_membership(structure, principal_manager, member):
    membership = Membership.objects.get(user=member, service__isnull=True)
    members.membership_detach(membership=membership, actor=principal_manager, comment="Une fois")
    with pytest.raises(members.MembershipError, match="déjà terminé"):
        members.membership_detach(membership=membership, actor=principal_manager, comment="Deux fois")
    assert Membership.objects.get(pk=membership.pk).comment == "Une fois"


def test_user_page_offers_to_detach_with_the_user_chosen(client, structure, principal_manager, member):
    log_in(client, principal_manager)
    detail = client.get(reverse("users:member_detail", args=[member.pk]))
    url = f"{reverse(DETACH)}?structure={structure.pk}&amp;user={member.pk}"
    assert url in detail.text
    form = client.get(reverse(DETACH), {"structure": structure.pk, "user": member.pk}).context["form"]
    assert form.initial["user"] == member.pk


@pytest.mark.django_db(transaction=True)
def test_two_managers_inviting_the_same_user_at_once_send_one_invitation(catalogue):
    import threading

    from django.db import connection, connections

    if connection.vendor != "postgresql":
        pytest.skip("Needs the PostgreSQL server (DATABASE_URL=postgres://…): SQLite serialises writers.")
    structure = factories.StructureFactory(with_principal_manager=True)
    structure.refresh_from_db()
    delegate = factories.UserFactory()
    factories.attach(delegate, structure)
    user = factories.UserFactory(email="invite@exemple.fr")
    barrier = threading.Barrier(2)
    outcomes = []

    def invite_user(actor):
        try:
            barrier.wait(timeout=10)
            invitations.invitation_send(
                actor=actor, email=user.email, structures=[structure], signup_url="", answer_url=""
            )
            outcomes.append("invited")
        except members.MembershipError as error:
            outcomes.append(error.message)
        except Exception as error:  # reported below, a thread cannot fail the test itself
            outcomes.append(repr(error))
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=invite_user, args=(actor,))
        for actor in (structure.principal_manager, delegate)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes) == [
        f"Une invitation envoyée à invite@exemple.fr pour « {structure.display_name} » "
        "attend déjà sa réponse.",
        "invited",
    ]
    assert Invitation.objects.filter(user=user).count() == 1


@pytest.mark.django_db(transaction=True)
def test_accepting_the_same_invitation_twice_at_once_attaches_once(catalogue):
    import threading

    from django.db import connection, connections

    if connection.vendor != "postgresql":
        pytest.skip("Needs the PostgreSQL server (DATABASE_URL=postgres://…): SQLite serialises writers.")
    structure = factories.StructureFactory(with_principal_manager=True)
    structure.refresh_from_db()
    user = factories.UserFactory()
    invitation = Invitation.objects.create(
        email=user.email, user=user, structure=structure, invited_by=structure.principal_manager
    )
    barrier = threading.Barrier(2)
    outcomes = []

    def accept():
        try:
            barrier.wait(timeout=10)
            invitations.invitation_accept(invitation_id=invitation.pk, user=user)
            outcomes.append("accepted")
        except members.MembershipError as error:
            outcomes.append(error.message)
        except Exception as error:  # reported below, a thread cannot fail the test itself
            outcomes.append(repr(error))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=accept) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes) == ["Vous avez déjà répondu à cette invitation.", "accepted"]
    assert Membership.objects.filter(user=user).count() == 1
    assert AuditEvent.objects.filter(action="invitation_accept").count() == 1
