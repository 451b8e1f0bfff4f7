"""Transférer le gestionnaire principal: the three types de demande, who may transfer,
the former principal manager staying attached, the emails, and two simultaneous
transfers of one structure."""

import threading

import pytest
from django.db import connection, connections
from django.urls import reverse

from chorus import access
from chorus.models import AuditEvent, Habilitation, Level
from structures.models import Structure
from structures.services.transfer import (
    TransferRefused,
    structure_transfer_principal_manager,
    structures_transfer_principal_manager,
    structures_transfer_principal_manager_global,
)
from tests import factories
from users.models import Membership

TRANSFER_URL = "/organisation/structure/transfert-gestionnaire-principal/"
DONE_URL = "/organisation/structure/transfert-gestionnaire-principal/effectue/"


def _login(client, user):
    client.force_login(user)
    return client


def _messages(response):
    return [str(message) for message in response.context["messages"]]


def _gp(structure):
    return Structure.objects.get(pk=structure.pk).principal_manager


def _field(structure):
    return f"structure_{structure.pk}"


@pytest.fixture
def member(structure, principal_manager):
    """A simple user attached to the structure, without any profile."""
    user = factories.UserFactory(email="membre@exemple.fr", first_name="Léa", last_name="Martin")
    factories.attach(user, structure)
    return user


@pytest.fixture
def second_structure(principal_manager):
    """A second structure of the same principal manager."""
    return factories.StructureFactory(
        company_name="Seconde structure", with_principal_manager=principal_manager
    )


# URLs and permission matrix


def test_transfer_pages_are_at_french_paths():
    assert reverse("structures:transfer") == TRANSFER_URL
    assert reverse("structures:transfer_done") == DONE_URL


def test_anonymous_visitor_is_sent_to_login(client, db):
    for url in (TRANSFER_URL, DONE_URL):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("users:login"))


def test_consultation_user_cannot_transfer(client, structure, consultation_user, member):
    _login(client, consultation_user)
    assert client.get(TRANSFER_URL).status_code == 403
    response = client.post(TRANSFER_URL, {"type": "unitaire", _field(structure): member.pk})
    assert response.status_code == 403
    assert _gp(structure).email == "gp@exemple.fr"


def test_attached_user_without_profile_cannot_transfer(client, structure, member):
    _login(client, member)
    assert client.get(TRANSFER_URL).status_code == 403


def test_delegate_who_is_not_principal_manager_sees_why_and_no_form(client, structure, delegate, member):
    _login(client, delegate)
    response = client.get(TRANSFER_URL)
    assert response.status_code == 200
    assert response.context["form"] is None
    content = response.content.decode()
    assert "Seul le gestionnaire principal d’une structure peut transférer ce rôle" in content
    assert f'action="{TRANSFER_URL}" data-warn-unsaved' not in content


def test_transfer_by_a_non_principal_manager_delegate_is_refused(client, structure, delegate, member):
    _login(client, delegate)
    for data in (
        {"type": "unitaire", _field(structure): delegate.pk},
        {"type": "global", "new_manager": delegate.pk},
        {"type": "multiple", "structures": [structure.pk], "new_manager": member.pk},
    ):
        response = client.post(TRANSFER_URL, data)
        assert response.status_code == 200
        assert "Seul le gestionnaire principal" in response.content.decode()
    assert _gp(structure).email == "gp@exemple.fr"
    assert not AuditEvent.objects.filter(action="principal_manager_transfer").exists()


def test_principal_manager_sees_the_unitary_form(client, structure, principal_manager, delegate, member):
    _login(client, principal_manager)
    response = client.get(TRANSFER_URL)
    assert response.status_code == 200
    form = response.context["form"]
    assert response.context["kind"] == "unitaire"
    assert set(form.fields[_field(structure)].queryset) == {delegate, member}
    content = response.content.decode()
    assert "— ne pas transférer —" in content
    assert f'action="{TRANSFER_URL}" data-warn-unsaved' in content
    assert '<button class="fr-btn" type="submit">Soumettre</button>' in content


def test_user_of_another_structure_sees_only_their_own_structures(
    client, structure, principal_manager, other_structure_user
):
    _login(client, other_structure_user)
    response = client.get(TRANSFER_URL)
    assert response.status_code == 200
    assert structure not in response.context["structures"]
    assert _field(structure) not in response.context["form"].fields
    response = client.post(TRANSFER_URL, {"type": "unitaire", _field(structure): other_structure_user.pk})
    assert response.status_code == 200
    assert _gp(structure) == principal_manager


def test_candidates_are_validated_structure_level_members_only(client, structure, principal_manager, member):
    service = factories.ServiceFactory(structure=structure)
    service_member = factories.UserFactory()
    factories.attach(service_member, structure, service=service)
    pending = factories.UserFactory()
    Membership.objects.create(
        user=pending, structure=structure, status=Membership.Status.EN_COURS_DE_VALIDATION
    )
    ended = factories.UserFactory()
    Membership.objects.create(user=ended, structure=structure, status=Membership.Status.DESACTIVEE)
    inactive = factories.UserFactory(is_active=False)
    factories.attach(inactive, structure)
    stranger = factories.UserFactory()
    factories.attach(stranger, factories.StructureFactory())
    _login(client, principal_manager)
    form = client.get(TRANSFER_URL).context["form"]
    assert list(form.fields[_field(structure)].queryset) == [member]
    for refused in (service_member, pending, ended, inactive, stranger, principal_manager):
        response = client.post(TRANSFER_URL, {"type": "unitaire", _field(structure): refused.pk})
        assert response.status_code == 200
        assert "Sélectionnez un choix valide" in str(response.context["form"].errors[_field(structure)])
    assert _gp(structure) == principal_manager


# Transfert unitaire


def test_principal_manager_transfers_one_structure_to_a_member(
    client,
    structure,
    second_structure,
    principal_manager,
    delegate,
    mailoutbox,
    django_capture_on_commit_callbacks,
):
    factories.grant(principal_manager, structure, "FACTURE_EMISE", Level.MODIFICATION)
    factories.attach(delegate, second_structure)
    _login(client, principal_manager)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            TRANSFER_URL, {"type": "unitaire", _field(structure): delegate.pk, _field(second_structure): ""}
        )
    assert response.status_code == 302
    assert response["Location"] == DONE_URL
    assert _gp(structure) == delegate
    assert _gp(second_structure) == principal_manager  # "ne pas transférer"

    # The former principal manager stays attached, with their other profiles.
    assert Membership.objects.filter(
        user=principal_manager, structure=structure, service__isnull=True, status=Membership.Status.VALIDEE
    ).exists()
    assert Habilitation.objects.filter(
        user=principal_manager, structure=structure, profile__application__code="FACTURE_EMISE"
    ).exists()
    assert not access.can(principal_manager, "GERER_STRUCTURE", Level.MODIFICATION, structure=structure)
    assert access.can(principal_manager, "FACTURE_EMISE", Level.MODIFICATION, structure=structure)
    assert access.can(delegate, "GERER_STRUCTURE", Level.MODIFICATION, structure=structure)

    event = AuditEvent.objects.get(action="principal_manager_transfer")
    assert event.actor == principal_manager
    assert event.structure == structure
    assert event.changes["principal_manager"] == {"before": "gp@exemple.fr", "after": "delegue@exemple.fr"}

    assert len(mailoutbox) == 2
    done = client.get(DONE_URL)
    assert done.status_code == 200
    assert list(done.context["structures"]) == [structure]
    assert "delegue@exemple.fr" in done.content.decode()
    message = " ".join(_messages(done))
    assert "Le rôle de gestionnaire principal a été transféré" in message
    assert structure.display_name in message
    assert second_structure.display_name not in message


def test_unitary_transfer_without_any_choice_is_refused(client, structure, principal_manager, member):
    _login(client, principal_manager)
    response = client.post(TRANSFER_URL, {"type": "unitaire", _field(structure): ""})
    assert response.status_code == 200
    assert "Choisissez le nouveau gestionnaire principal d’au moins une structure." in str(
        response.context["form"].non_field_errors()
    )
    assert _gp(structure) == principal_manager


def test_former_principal_manager_without_other_structure_loses_the_transfer_page(
    client, structure, principal_manager, member
):
    _login(client, principal_manager)
    client.post(TRANSFER_URL, {"type": "unitaire", _field(structure): member.pk})
    assert client.get(TRANSFER_URL).status_code == 403
    done = client.get(DONE_URL)
    assert done.status_code == 200
    assert done.context["can_transfer_more"] is False


def test_former_principal_manager_with_a_delegated_profile_keeps_it(
    client, structure, principal_manager, member
):
    factories.grant(principal_manager, structure, "ORGANISATION", Level.MODIFICATION)
    _login(client, principal_manager)
    client.post(TRANSFER_URL, {"type": "unitaire", _field(structure): member.pk})
    assert _gp(structure) == member
    assert access.can(principal_manager, "GERER_STRUCTURE", Level.MODIFICATION, structure=structure)
    # Still an administrator, no longer the principal manager: no form, an explanation.
    assert client.get(TRANSFER_URL).context["form"] is None


def test_stale_form_posted_after_the_role_left_is_not_applied(client, structure, principal_manager, member):
    factories.grant(principal_manager, structure, "ORGANISATION", Level.MODIFICATION)
    other = factories.UserFactory()
    factories.attach(other, structure)
    _login(client, principal_manager)
    client.get(TRANSFER_URL)
    structure_transfer_principal_manager(structure=structure, new_manager=member, actor=principal_manager)
    response = client.post(TRANSFER_URL, {"type": "unitaire", _field(structure): other.pk})
    assert response.status_code == 200
    assert _gp(structure) == member


# Transfert global


def test_global_transfer_gives_all_my_structures_to_one_user(
    client,
    structure,
    second_structure,
    principal_manager,
    member,
    mailoutbox,
    django_capture_on_commit_callbacks,
):
    factories.attach(member, second_structure)
    only_first = factories.UserFactory()
    factories.attach(only_first, structure)
    _login(client, principal_manager)
    page = client.get(TRANSFER_URL, {"type": "global"})
    assert list(page.context["form"].fields["new_manager"].queryset) == [member]
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(TRANSFER_URL, {"type": "global", "new_manager": member.pk})
    assert response.status_code == 302
    assert _gp(structure) == member
    assert _gp(second_structure) == member
    assert AuditEvent.objects.filter(action="principal_manager_transfer").count() == 2
    assert len(mailoutbox) == 4


def test_global_transfer_to_a_user_not_attached_everywhere_is_an_invalid_choice(
    client, structure, second_structure, principal_manager, member
):
    _login(client, principal_manager)
    response = client.post(TRANSFER_URL, {"type": "global", "new_manager": member.pk})
    assert response.status_code == 200
    assert "Sélectionnez un choix valide" in str(response.context["form"].errors["new_manager"])
    assert _gp(structure) == principal_manager
    assert _gp(second_structure) == principal_manager


def test_global_transfer_without_candidate_explains_why(
    client, structure, second_structure, principal_manager, member
):
    _login(client, principal_manager)
    response = client.get(TRANSFER_URL, {"type": "global"})
    assert response.status_code == 200
    assert response.context["can_submit"] is False
    content = response.content.decode()
    assert "Aucun utilisateur n’est rattaché à chacune de vos structures" in content
    assert f'action="{TRANSFER_URL}" data-warn-unsaved' not in content


@pytest.fixture
def deactivated_structure(principal_manager):
    """A structure of the same principal manager, deactivated: nobody can be attached to
    it any more."""
    return factories.StructureFactory(
        company_name="Ancienne agence",
        with_principal_manager=principal_manager,
        status=Structure.Status.INACTIVE,
    )


def test_global_transfer_page_says_the_deactivated_structure_stays_mine(
    client, structure, second_structure, deactivated_structure, principal_manager, member
):
    factories.attach(member, second_structure)
    _login(client, principal_manager)
    response = client.get(TRANSFER_URL, {"type": "global"})
    assert response.status_code == 200
    form = response.context["form"]
    # Attached to every active structure, not to the deactivated one: still a candidate.
    assert list(form.fields["new_manager"].queryset) == [member]
    assert (
        form.fields["new_manager"].label == "Nouveau gestionnaire principal de toutes vos structures actives"
    )
    assert response.context["can_submit"] is True
    content = response.content.decode()
    assert "Une structure désactivée reste à votre nom" in content
    assert f"{deactivated_structure.identifier} — Ancienne agence" in content
    assert "Le transfert global ne concerne que vos structures actives" in content
    assert "réactivez-la (Gérer une structure › Activer une structure)" in content


def test_global_transfer_gives_the_active_structures_and_keeps_the_deactivated_one(
    client,
    structure,
    second_structure,
    deactivated_structure,
    principal_manager,
    member,
    mailoutbox,
    django_capture_on_commit_callbacks,
):
    factories.attach(member, second_structure)
    _login(client, principal_manager)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(TRANSFER_URL, {"type": "global", "new_manager": member.pk})
    assert response.status_code == 302
    assert _gp(structure) == member
    assert _gp(second_structure) == member
    assert _gp(deactivated_structure) == principal_manager
    assert Structure.objects.get(pk=deactivated_structure.pk).status == Structure.Status.INACTIVE
    events = AuditEvent.objects.filter(action="principal_manager_transfer")
    assert {event.structure_id for event in events} == {structure.pk, second_structure.pk}
    assert len(mailoutbox) == 4

    done = client.get(DONE_URL)
    message = " ".join(_messages(done))
    assert "Le rôle de gestionnaire principal a été transféré" in message
    assert (
        "La structure Ancienne agence est désactivée : elle n’a pas été transférée, "
        "vous en restez le gestionnaire principal." in message
    )
    assert set(done.context["structures"]) == {structure, second_structure}
    assert list(done.context["kept"]) == [deactivated_structure]
    assert "Structures désactivées restées à votre nom" in done.content.decode()


def test_global_transfer_with_only_deactivated_structures_is_not_offered(
    client, structure, principal_manager, member
):
    Structure.objects.filter(pk=structure.pk).update(status=Structure.Status.INACTIVE)
    _login(client, principal_manager)
    response = client.get(TRANSFER_URL, {"type": "global"})
    assert response.context["can_submit"] is False
    assert "Toutes vos structures sont désactivées" in response.content.decode()
    response = client.post(TRANSFER_URL, {"type": "global", "new_manager": member.pk})
    assert response.status_code == 200
    assert "Sélectionnez un choix valide" in str(response.context["form"].errors["new_manager"])
    assert _gp(structure) == principal_manager


def test_unitary_transfer_of_a_deactivated_structure_to_a_member_still_attached(
    client, structure, principal_manager, member
):
    Structure.objects.filter(pk=structure.pk).update(status=Structure.Status.INACTIVE)
    _login(client, principal_manager)
    response = client.post(TRANSFER_URL, {"type": "unitaire", _field(structure): member.pk})
    assert response.status_code == 302
    assert _gp(structure) == member


def test_transfer_page_explains_when_nobody_else_is_attached(client, structure, principal_manager):
    _login(client, principal_manager)
    response = client.get(TRANSFER_URL)
    assert response.context["can_submit"] is False
    assert "Aucun autre utilisateur n’est rattaché à vos structures" in response.content.decode()


def test_unknown_type_falls_back_to_unitary(client, structure, principal_manager, member):
    _login(client, principal_manager)
    response = client.get(TRANSFER_URL, {"type": "tout"})
    assert response.status_code == 200
    assert response.context["kind"] == "unitaire"


# Transfert à sélection multiple


def test_multiple_transfer_gives_the_chosen_structures_to_one_user(
    client, structure, second_structure, principal_manager, member
):
    third = factories.StructureFactory(company_name="Troisième", with_principal_manager=principal_manager)
    factories.attach(member, second_structure)
    _login(client, principal_manager)
    page = client.get(TRANSFER_URL, {"type": "multiple"})
    assert set(page.context["form"].fields["structures"].queryset) == {structure, second_structure, third}
    response = client.post(
        TRANSFER_URL,
        {"type": "multiple", "structures": [structure.pk, second_structure.pk], "new_manager": member.pk},
    )
    assert response.status_code == 302
    assert _gp(structure) == member
    assert _gp(second_structure) == member
    assert _gp(third) == principal_manager


def test_multiple_transfer_to_a_user_missing_from_one_structure_changes_nothing(
    client, structure, second_structure, principal_manager, member
):
    _login(client, principal_manager)
    response = client.post(
        TRANSFER_URL,
        {"type": "multiple", "structures": [structure.pk, second_structure.pk], "new_manager": member.pk},
    )
    assert response.status_code == 200
    errors = str(response.context["form"].errors["new_manager"])
    assert "n’est pas rattaché à toutes les structures choisies" in errors
    assert "Seconde structure" in errors
    assert _gp(structure) == principal_manager
    assert _gp(second_structure) == principal_manager
    assert not AuditEvent.objects.filter(action="principal_manager_transfer").exists()


def test_multiple_transfer_with_another_structure_posted_is_an_invalid_choice(
    client, structure, principal_manager, member
):
    foreign = factories.StructureFactory(with_principal_manager=True)
    factories.attach(member, foreign)
    _login(client, principal_manager)
    response = client.post(
        TRANSFER_URL, {"type": "multiple", "structures": [structure.pk, foreign.pk], "new_manager": member.pk}
    )
    assert response.status_code == 200
    assert "Sélectionnez un choix valide" in str(response.context["form"].errors["structures"])
    assert _gp(structure) == principal_manager
    assert _gp(foreign) != member


def test_multiple_transfer_requires_a_structure(client, structure, principal_manager, member):
    _login(client, principal_manager)
    response = client.post(TRANSFER_URL, {"type": "multiple", "new_manager": member.pk})
    assert response.status_code == 200
    assert response.context["form"].errors["structures"]
    assert _gp(structure) == principal_manager


# The service


def test_service_refuses_an_actor_who_is_no_longer_principal_manager(
    structure, principal_manager, member, delegate
):
    structure_transfer_principal_manager(structure=structure, new_manager=member, actor=principal_manager)
    with pytest.raises(TransferRefused, match="Vous n’êtes plus le gestionnaire principal"):
        structure_transfer_principal_manager(
            structure=structure, new_manager=delegate, actor=principal_manager
        )
    assert _gp(structure) == member
    assert AuditEvent.objects.filter(action="principal_manager_transfer").count() == 1


def test_service_refuses_a_new_manager_not_attached(structure, principal_manager):
    stranger = factories.UserFactory(email="inconnu@exemple.fr")
    with pytest.raises(TransferRefused, match="inconnu@exemple.fr n’est pas rattaché"):
        structure_transfer_principal_manager(
            structure=structure, new_manager=stranger, actor=principal_manager
        )
    assert _gp(structure) == principal_manager


def test_service_refuses_a_new_manager_attached_to_a_service_only(structure, principal_manager):
    service_member = factories.UserFactory()
    factories.attach(service_member, structure, service=factories.ServiceFactory(structure=structure))
    with pytest.raises(TransferRefused):
        structure_transfer_principal_manager(
            structure=structure, new_manager=service_member, actor=principal_manager
        )
    assert _gp(structure) == principal_manager


def test_service_refuses_a_transfer_to_oneself(structure, principal_manager):
    with pytest.raises(TransferRefused, match="Vous êtes déjà le gestionnaire principal"):
        structure_transfer_principal_manager(
            structure=structure, new_manager=principal_manager, actor=principal_manager
        )


def test_global_service_transfers_the_active_structures_and_keeps_the_deactivated_ones(
    structure, second_structure, deactivated_structure, principal_manager, member
):
    factories.attach(member, second_structure)
    pending = factories.StructureFactory(
        with_principal_manager=principal_manager, status=Structure.Status.EN_COURS_ACTIVATION
    )
    factories.attach(member, pending)
    transferred, kept = structures_transfer_principal_manager_global(
        structures=[deactivated_structure, second_structure, structure, pending],
        new_manager=member,
        actor=principal_manager,
    )
    assert {s.pk for s in transferred} == {structure.pk, second_structure.pk, pending.pk}
    assert kept == [deactivated_structure]
    assert _gp(deactivated_structure) == principal_manager
    assert _gp(pending) == member
    # Nothing changed on the kept structure: nothing is recorded for it.
    assert not AuditEvent.objects.filter(
        action="principal_manager_transfer", structure=deactivated_structure
    ).exists()


def test_global_service_reads_the_status_under_the_lock(
    structure, second_structure, principal_manager, member
):
    """The page listed both as active; one was deactivated before Soumettre: it stays."""
    factories.attach(member, second_structure)
    shown = [structure, second_structure]
    Structure.objects.filter(pk=second_structure.pk).update(status=Structure.Status.INACTIVE)
    transferred, kept = structures_transfer_principal_manager_global(
        structures=shown, new_manager=member, actor=principal_manager
    )
    assert [s.pk for s in transferred] == [structure.pk]
    assert [s.pk for s in kept] == [second_structure.pk]
    assert _gp(second_structure) == principal_manager


def test_global_service_refuses_when_every_structure_is_deactivated(structure, principal_manager, member):
    Structure.objects.filter(pk=structure.pk).update(status=Structure.Status.INACTIVE)
    with pytest.raises(TransferRefused, match="Toutes vos structures sont désactivées"):
        structures_transfer_principal_manager_global(
            structures=[structure], new_manager=member, actor=principal_manager
        )
    assert _gp(structure) == principal_manager


def test_global_service_is_all_or_nothing_on_the_active_structures(
    structure, second_structure, deactivated_structure, principal_manager, member
):
    # member is not attached to second_structure: nothing at all is transferred.
    with pytest.raises(TransferRefused):
        structures_transfer_principal_manager_global(
            structures=[structure, second_structure, deactivated_structure],
            new_manager=member,
            actor=principal_manager,
        )
    assert _gp(structure) == principal_manager
    assert not AuditEvent.objects.filter(action="principal_manager_transfer").exists()


def test_multi_structure_transfer_is_all_or_nothing(
    structure, second_structure, principal_manager, member, mailoutbox, django_capture_on_commit_callbacks
):
    # The member is attached to the first structure only: the second transfer fails,
    # and the first one, already applied in the same transaction, is rolled back.
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(TransferRefused):
        structures_transfer_principal_manager(
            transfers=[(structure, member), (second_structure, member)], actor=principal_manager
        )
    assert _gp(structure) == principal_manager
    assert _gp(second_structure) == principal_manager
    assert not AuditEvent.objects.filter(action="principal_manager_transfer").exists()
    assert mailoutbox == []


def test_former_principal_manager_appointed_without_attachment_stays_attached(structure, member):
    appointed = factories.UserFactory()  # appointed by an operator, from the admin
    Structure.objects.filter(pk=structure.pk).update(principal_manager=appointed)
    structure_transfer_principal_manager(structure=structure, new_manager=member, actor=appointed)
    assert Membership.objects.filter(
        user=appointed, structure=structure, service__isnull=True, status=Membership.Status.VALIDEE
    ).exists()
    event = AuditEvent.objects.get(action="principal_manager_transfer")
    assert event.changes["former_principal_manager_attached"] is True


# Emails


def test_both_principal_managers_are_emailed_on_commit(
    client, structure, principal_manager, member, mailoutbox, django_capture_on_commit_callbacks
):
    principal_manager.contact_email = "contact-gp@exemple.fr"
    principal_manager.save()
    _login(client, principal_manager)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(TRANSFER_URL, {"type": "unitaire", _field(structure): member.pk})
    by_recipient = {tuple(message.to): message for message in mailoutbox}
    assert set(by_recipient) == {("contact-gp@exemple.fr",), ("membre@exemple.fr",)}
    former = by_recipient[("contact-gp@exemple.fr",)]
    assert (
        former.subject == f"Vous n’êtes plus gestionnaire principal de la structure {structure.display_name}"
    )
    assert "membre@exemple.fr" in former.body
    assert "Vous restez rattaché à la structure comme utilisateur simple" in former.body
    new = by_recipient[("membre@exemple.fr",)]
    assert (
        new.subject == f"Vous êtes désormais gestionnaire principal de la structure {structure.display_name}"
    )
    assert "gp@exemple.fr" in new.body
    assert structure.identifier in new.body


def test_no_email_for_a_refused_transfer(
    client, structure, principal_manager, member, mailoutbox, django_capture_on_commit_callbacks
):
    _login(client, principal_manager)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(TRANSFER_URL, {"type": "unitaire", _field(structure): ""})
    assert mailoutbox == []


# Concurrency


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_transfers_of_one_structure_apply_once(catalogue):
    if connection.vendor != "postgresql":
        pytest.skip("Needs the PostgreSQL server (DATABASE_URL=postgres://…): SQLite serialises writers.")
    structure = factories.StructureFactory()
    manager = factories.UserFactory()
    factories.attach(manager, structure)
    candidates = [factories.UserFactory(), factories.UserFactory()]
    for candidate in candidates:
        factories.attach(candidate, structure)
    barrier = threading.Barrier(len(candidates))
    applied, refused, errors = [], [], []

    def transfer(candidate):
        try:
            barrier.wait(timeout=10)
            structure_transfer_principal_manager(structure=structure, new_manager=candidate, actor=manager)
            applied.append(candidate)
        except TransferRefused as exc:
            refused.append(exc)
        except Exception as exc:  # reported below, a thread cannot fail the test itself
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=transfer, args=(candidate,)) for candidate in candidates]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    assert len(applied) == 1
    assert len(refused) == 1
    assert "Vous n’êtes plus le gestionnaire principal" in str(refused[0])
    assert _gp(structure) == applied[0]
    events = AuditEvent.objects.filter(action="principal_manager_transfer")
    assert [event.changes["principal_manager"]["after"] for event in events] == [applied[0].email]


@pytest.mark.django_db(transaction=True)
def test_global_transfer_racing_a_unitary_transfer_applies_one_whole(catalogue):
    """A global transfer (with a deactivated structure kept) and a unitary transfer of
    one of its structures, at once: one wins whole, the other changes nothing."""
    if connection.vendor != "postgresql":
        pytest.skip("Needs the PostgreSQL server (DATABASE_URL=postgres://…): SQLite serialises writers.")
    manager = factories.UserFactory()
    first, second = factories.StructureFactory(), factories.StructureFactory()
    for structure in (first, second):
        factories.attach(manager, structure)
    kept = factories.StructureFactory(with_principal_manager=manager, status=Structure.Status.INACTIVE)
    heir, other = factories.UserFactory(), factories.UserFactory()
    for structure in (first, second):
        factories.attach(heir, structure)
    factories.attach(other, second)
    barrier = threading.Barrier(2)
    applied, refused, errors = [], [], []

    def run(name, action):
        try:
            barrier.wait(timeout=10)
            action()
            applied.append(name)
        except TransferRefused:
            refused.append(name)
        except Exception as exc:  # reported below, a thread cannot fail the test itself
            errors.append(exc)
        finally:
            connections.close_all()

    attempts = {
        "global": lambda: structures_transfer_principal_manager_global(
            structures=[first, second, kept], new_manager=heir, actor=manager
        ),
        "unitary": lambda: structure_transfer_principal_manager(
            structure=second, new_manager=other, actor=manager
        ),
    }
    threads = [threading.Thread(target=run, args=item) for item in attempts.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    assert len(applied) == 1 and len(refused) == 1
    if applied == ["global"]:
        assert (_gp(first), _gp(second)) == (heir, heir)
    else:
        assert (_gp(first), _gp(second)) == (manager, other)
    assert _gp(kept) == manager
