"""Gérer les habilitations des utilisateurs, Gérer mes habilitations, Copier les habilitations,
and the service that applies staged changes (users.services.habilitations.habilitations_apply)."""

import html
import re
import threading

import pytest
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from chorus.models import AuditEvent, Habilitation, Level, Profile
from structures.models import Structure
from tests import factories
from users.forms import habilitations as habilitation_forms
from users.services import habilitations
from users.services.habilitations import HabilitationError, habilitations_apply

pytestmark = pytest.mark.django_db

ALREADY_HELD = "L’utilisateur possède déjà le profil sélectionné"
GP_LINE = "Organisation – modification (gestionnaire principal)"


def profile(code, level=Level.CONSULTATION):
    return Profile.objects.select_related("application").get(application__code=code, level=level)


def held(user, structure, service=None):
    """{(application code, level)} held by the user on exactly this scope."""
    rows = Habilitation.objects.filter(user=user, structure=structure, service=service)
    return set(rows.values_list("profile__application__code", "profile__level"))


def text(response):
    return html.unescape(response.content.decode())


def staged_token(response):
    return html.unescape(re.search(r'name="staged" value="([^"]*)"', response.content.decode()).group(1))


def user_url(structure, user, service=None):
    """The one page, opened on this user's profiles."""
    service_pk = service.pk if service else ""
    return f"{reverse('users:habilitations')}?structure={structure.pk}&service={service_pk}&user={user.pk}"


def old_user_url(structure, user, service=None):
    if service is None:
        return reverse("users:habilitations_user", args=[structure.pk, user.pk])
    return reverse("users:habilitations_service_user", args=[structure.pk, service.pk, user.pk])


def step(client, url, token="", **data):
    """One step of the page (a button pressed): returns the response and the new token."""
    response = client.post(url, {"staged": token, **data})
    assert response.status_code == 200, response.status_code
    return response, staged_token(response)


def pick(code, level):
    return {"profil-application": str(profile(code, level).application_id), "profil-level": str(int(level))}


@pytest.fixture
def simple_user(structure, principal_manager):
    user = factories.UserFactory(email="simple@exemple.fr", first_name="Sam", last_name="Simple")
    factories.attach(user, structure)
    factories.grant(user, structure, "FACTURE_EMISE", Level.CONSULTATION)
    factories.grant(user, structure, "ENGAGEMENT", Level.CONSULTATION)
    return user


# Permission matrix


@pytest.mark.parametrize("name", ["users:habilitations", "users:habilitations_copy"])
def test_anonymous_is_sent_to_login(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert response.url.startswith(reverse("users:login"))


def test_anonymous_is_sent_to_login_from_a_user_page(client, structure, simple_user):
    for url in (user_url(structure, simple_user), old_user_url(structure, simple_user)):
        response = client.get(url)
        assert response.status_code == 302
        assert response.url.startswith(reverse("users:login"))


@pytest.mark.parametrize("name", ["users:habilitations", "users:habilitations_copy"])
@pytest.mark.parametrize("persona", ["consultation_user", "simple_user", "staff_user"])
def test_users_without_organisation_modification_are_refused(client, request, name, persona):
    client.force_login(request.getfixturevalue(persona))
    assert client.get(reverse(name)).status_code == 403


def test_consultation_user_cannot_open_a_user_page(client, structure, consultation_user, simple_user):
    client.force_login(consultation_user)
    url = user_url(structure, simple_user)
    assert client.get(url).status_code == 403
    assert client.post(url, {"staged": "", "action": "remove:1"}).status_code == 403


@pytest.mark.parametrize("persona", ["principal_manager", "delegate"])
@pytest.mark.parametrize("name", ["users:habilitations", "users:habilitations_copy"])
def test_administrators_open_the_pages(client, request, persona, name):
    client.force_login(request.getfixturevalue(persona))
    assert client.get(reverse(name)).status_code == 200


@pytest.mark.parametrize("persona", ["principal_manager", "delegate"])
def test_administrators_open_a_user_page(client, request, structure, simple_user, persona):
    client.force_login(request.getfixturevalue(persona))
    response = client.get(user_url(structure, simple_user))
    assert response.status_code == 200
    assert "Facture émise – consultation" in text(response)
    assert "Engagement – consultation" in text(response)


def test_another_structures_user_in_the_query_is_refused_and_not_shown(
    client, structure, principal_manager, other_structure_user
):
    client.force_login(principal_manager)
    other = other_structure_user.memberships.get().structure
    factories.grant(other_structure_user, other, "FACTURE_EMISE", Level.CONSULTATION)
    for url in (user_url(structure, other_structure_user), user_url(other, other_structure_user)):
        response = client.get(url)
        assert response.status_code == 200
        assert "Sélectionnez un choix valide" in text(response)
        assert other_structure_user.email not in text(response)
        assert "Facture émise – consultation" not in text(response)
        # Soumettre posted to that address changes nothing.
        before = AuditEvent.objects.count()
        response = client.post(url, {"staged": "", "action": "remove:1"})
        assert response.status_code == 200
        assert "Sélectionnez un choix valide" in text(response)
        assert AuditEvent.objects.count() == before
    assert held(other_structure_user, other) == {("FACTURE_EMISE", Level.CONSULTATION)}


def test_another_structures_user_at_the_former_address_is_not_found(
    client, structure, principal_manager, other_structure_user
):
    client.force_login(principal_manager)
    assert client.get(old_user_url(structure, other_structure_user)).status_code == 404
    other = other_structure_user.memberships.get().structure
    assert client.get(old_user_url(other, other_structure_user)).status_code == 404


def test_the_former_address_of_a_user_page_leads_to_the_one_page(client, structure, principal_manager):
    service = factories.ServiceFactory(structure=structure)
    user = factories.UserFactory()
    factories.attach(user, structure, service=service)
    client.force_login(principal_manager)
    response = client.get(old_user_url(structure, user, service))
    assert response.status_code == 302
    assert response.url == user_url(structure, user, service)
    assert client.get(old_user_url(structure, user)).status_code == 404


def test_a_service_of_another_structure_in_the_query_is_refused(
    client, structure, principal_manager, simple_user
):
    client.force_login(principal_manager)
    foreign_service = factories.ServiceFactory()
    response = client.get(user_url(structure, simple_user, foreign_service))
    assert "Sélectionnez un choix valide" in text(response)
    assert 'name="staged"' not in text(response)
    assert client.get(old_user_url(structure, simple_user, foreign_service)).status_code == 404


def test_user_choice_lists_only_the_structures_users(
    client, structure, principal_manager, simple_user, other_structure_user
):
    client.force_login(principal_manager)
    response = client.get(reverse("users:habilitations"), {"structure": structure.pk})
    assert simple_user.email in text(response)
    assert other_structure_user.email not in text(response)


def test_another_structures_user_posted_in_the_choice_is_an_invalid_choice(
    client, structure, principal_manager, other_structure_user
):
    client.force_login(principal_manager)
    response = client.get(
        reverse("users:habilitations"),
        {"structure": structure.pk, "service": "", "user": other_structure_user.pk, "valider": "1"},
    )
    assert response.status_code == 200
    assert "Sélectionnez un choix valide" in text(response)


def test_another_structure_posted_in_the_choice_is_an_invalid_choice(
    client, principal_manager, other_structure_user
):
    client.force_login(principal_manager)
    other = other_structure_user.memberships.get().structure
    response = client.get(
        reverse("users:habilitations"),
        {"structure": other.pk, "service": "", "user": other_structure_user.pk, "valider": "1"},
    )
    assert response.status_code == 200
    assert "Sélectionnez un choix valide" in text(response)
    assert other_structure_user.email not in text(response)


def test_choosing_the_user_shows_their_profiles_on_the_same_page(
    client, structure, principal_manager, simple_user
):
    client.force_login(principal_manager)
    response = client.get(
        reverse("users:habilitations"), {"structure": structure.pk, "service": "", "user": simple_user.pk}
    )
    assert response.status_code == 200
    page = text(response)
    assert "Profils de Sam Simple" in page
    assert "Facture émise – consultation" in page
    # The choice stays shown at the top, to choose another user at once.
    assert re.search(rf'<option value="{simple_user.pk}" selected>', page)


def test_choosing_another_structure_forgets_the_user_of_the_previous_one(
    client, structure, principal_manager, simple_user
):
    other = factories.StructureFactory()
    factories.attach(principal_manager, other)
    client.force_login(principal_manager)
    response = client.get(
        reverse("users:habilitations"),
        {"structure": other.pk, "service": "", "user": simple_user.pk, "choisir": "structure"},
    )
    page = text(response)
    assert "Sélectionnez un choix valide" not in page
    assert 'name="staged"' not in page
    assert simple_user.email not in page


def test_the_breadcrumb_names_the_page_once(client, structure, principal_manager, simple_user):
    client.force_login(principal_manager)
    for url in (reverse("users:habilitations"), user_url(structure, simple_user)):
        page = text(client.get(url))
        breadcrumb = re.search(r'<nav[^>]*class="fr-breadcrumb".*?</nav>', page, re.S).group(0)
        assert breadcrumb.count("Gérer les habilitations des utilisateurs") == 1
        assert "Organisation" in breadcrumb


def test_my_habilitations_breadcrumb_names_the_page_once(client, structure, principal_manager):
    client.force_login(principal_manager)
    page = text(client.get(my_url(structure)))
    breadcrumb = re.search(r'<nav[^>]*class="fr-breadcrumb".*?</nav>', page, re.S).group(0)
    assert breadcrumb.count("Gérer mes habilitations") == 1


def test_a_service_level_user_must_be_managed_on_one_of_their_services(client, structure, principal_manager):
    service = factories.ServiceFactory(structure=structure)
    user = factories.UserFactory()
    factories.attach(user, structure, service=service)
    client.force_login(principal_manager)
    response = client.get(user_url(structure, user))
    assert "choisissez l’un de ces services" in text(response)
    assert 'name="staged"' not in text(response)
    response = client.get(user_url(structure, user, service))
    assert 'name="staged"' in text(response)


# Staged changes, applied on Soumettre


def test_principal_manager_adds_replaces_and_removes_then_submits(
    client, structure, principal_manager, simple_user
):
    client.force_login(principal_manager)
    url = user_url(structure, simple_user)

    response, token = step(client, url, action="add")
    assert "Ajouter un profil" in text(response)
    assert simple_user.email in text(response)
    _response, token = step(
        client, url, token, action="stage", picker="add", **pick("FACTURE_RECUE", Level.MODIFICATION)
    )
    fe = profile("FACTURE_EMISE").pk
    response, token = step(client, url, token, action=f"replace:{fe}")
    assert "Remplacer le profil « Facture émise – consultation »" in text(response)
    _response, token = step(
        client,
        url,
        token,
        action="stage",
        picker=f"replace:{fe}",
        **pick("FACTURE_EMISE", Level.MODIFICATION),
    )
    response, token = step(client, url, token, action=f"remove:{profile('ENGAGEMENT').pk}")
    # The replacement counts as one removal and one addition.
    assert "4 modifications en attente" in text(response)
    # Staged only: nothing is stored yet.
    assert held(simple_user, structure) == {
        ("FACTURE_EMISE", Level.CONSULTATION),
        ("ENGAGEMENT", Level.CONSULTATION),
    }

    response = client.post(url, {"staged": token}, follow=True)

    assert "Les habilitations de Sam Simple ont été mises à jour." in text(response)
    assert held(simple_user, structure) == {
        ("FACTURE_RECUE", Level.MODIFICATION),
        ("FACTURE_EMISE", Level.MODIFICATION),
    }
    event = AuditEvent.objects.get(action="habilitations_change")
    assert event.actor == principal_manager
    assert event.structure == structure
    assert event.changes["removed"] == ["Engagement – consultation", "Facture émise – consultation"]
    assert sorted(event.changes["added"]) == ["Facture reçue – modification", "Facture émise – modification"]


def test_leaving_without_submitting_changes_nothing(client, structure, principal_manager, simple_user):
    client.force_login(principal_manager)
    url = user_url(structure, simple_user)
    before = held(simple_user, structure)
    _response, token = step(client, url, action=f"remove:{profile('FACTURE_EMISE').pk}")
    _response, token = step(
        client, url, token, action="stage", picker="add", **pick("ENGAGEMENT", Level.MODIFICATION)
    )

    # The user goes elsewhere: the next visit starts again from what is stored.
    response = client.get(url)

    assert held(simple_user, structure) == before
    assert "À retirer" not in text(response)
    assert not AuditEvent.objects.filter(action="habilitations_change").exists()


def test_adding_a_profile_already_held_is_refused(client, structure, principal_manager, simple_user):
    client.force_login(principal_manager)
    url = user_url(structure, simple_user)
    _response, token = step(client, url, action="add")

    response, token = step(
        client, url, token, action="stage", picker="add", **pick("FACTURE_EMISE", Level.CONSULTATION)
    )

    assert ALREADY_HELD in text(response)
    response = client.post(url, {"staged": token})
    assert "Aucune modification à soumettre" in text(response)
    assert held(simple_user, structure) == {
        ("FACTURE_EMISE", Level.CONSULTATION),
        ("ENGAGEMENT", Level.CONSULTATION),
    }


def test_adding_a_profile_staged_already_is_refused(client, structure, principal_manager, simple_user):
    client.force_login(principal_manager)
    url = user_url(structure, simple_user)
    _response, token = step(
        client, url, action="stage", picker="add", **pick("FACTURE_RECUE", Level.CONSULTATION)
    )

    response, _token = step(
        client, url, token, action="stage", picker="add", **pick("FACTURE_RECUE", Level.CONSULTATION)
    )

    assert ALREADY_HELD in text(response)


def test_soumettre_with_an_open_picker_adds_the_chosen_profile(
    client, structure, principal_manager, simple_user
):
    client.force_login(principal_manager)
    url = user_url(structure, simple_user)
    _response, token = step(client, url, action="add")

    response = client.post(
        url, {"staged": token, "picker": "add", **pick("FACTURE_RECUE", Level.CONSULTATION)}
    )

    assert response.status_code == 302
    assert ("FACTURE_RECUE", Level.CONSULTATION) in held(simple_user, structure)


def test_an_incomplete_profile_choice_shows_an_error(client, structure, principal_manager, simple_user):
    client.force_login(principal_manager)
    url = user_url(structure, simple_user)
    data = {"profil-application": str(profile("FACTURE_RECUE").application_id)}

    response, _token = step(client, url, action="stage", picker="add", **data)

    assert "Ce champ est obligatoire" in text(response)
    assert held(simple_user, structure) == {
        ("FACTURE_EMISE", Level.CONSULTATION),
        ("ENGAGEMENT", Level.CONSULTATION),
    }


def test_only_profiles_of_applications_with_their_own_profile_are_offered(
    client, structure, principal_manager, simple_user
):
    client.force_login(principal_manager)
    response, _token = step(client, user_url(structure, simple_user), action="add")
    options = re.findall(r"<option value=\"\d+\"[^>]*>([^<]+)</option>", text(response))
    assert "Organisation" in options and "Facture émise" in options
    assert "Gérer une structure" not in options
    assert "Gérer mes habilitations" not in options


def test_a_staged_removal_can_be_undone(client, structure, principal_manager, simple_user):
    client.force_login(principal_manager)
    url = user_url(structure, simple_user)
    fe = profile("FACTURE_EMISE").pk
    _response, token = step(client, url, action=f"remove:{fe}")
    response, token = step(client, url, token, action=f"restore:{fe}")
    assert "modification en attente" not in text(response)
    response = client.post(url, {"staged": token})
    assert "Aucune modification à soumettre" in text(response)


def test_principal_managers_organisation_modification_is_shown_without_the_cross(
    client, structure, principal_manager
):
    client.force_login(principal_manager)
    pm = profile("ORGANISATION", Level.MODIFICATION).pk
    url = user_url(structure, principal_manager)
    response = client.get(url)
    assert GP_LINE in text(response)
    assert f'value="remove:{pm}"' not in text(response)
    assert f'value="replace:{pm}"' not in text(response)

    # Posted by hand, the cross does nothing.
    response, token = step(client, url, action=f"remove:{pm}")
    assert "À retirer" not in text(response)
    client.post(url, {"staged": token})
    structure.refresh_from_db()
    assert structure.principal_manager == principal_manager
    assert not AuditEvent.objects.filter(action="habilitations_change").exists()


def test_submitting_is_all_or_nothing_when_the_second_change_fails(
    client, structure, principal_manager, simple_user, monkeypatch
):
    client.force_login(principal_manager)
    url = user_url(structure, simple_user)
    _response, token = step(client, url, action=f"remove:{profile('FACTURE_EMISE').pk}")
    _response, token = step(
        client, url, token, action="stage", picker="add", **pick("FACTURE_RECUE", Level.CONSULTATION)
    )
    _response, token = step(
        client, url, token, action="stage", picker="add", **pick("ENGAGEMENT", Level.MODIFICATION)
    )
    fail_on_second_save(monkeypatch)

    with pytest.raises(RuntimeError):
        client.post(url, {"staged": token})

    assert held(simple_user, structure) == {
        ("FACTURE_EMISE", Level.CONSULTATION),
        ("ENGAGEMENT", Level.CONSULTATION),
    }
    assert not AuditEvent.objects.filter(action="habilitations_change").exists()


def fail_on_second_save(monkeypatch):
    saves = []
    original_save = Habilitation.save

    def failing_save(self, *args, **kwargs):
        saves.append(self.profile_id)
        if len(saves) == 2:
            raise RuntimeError("disk full")
        return original_save(self, *args, **kwargs)

    monkeypatch.setattr(Habilitation, "save", failing_save)
    return saves


def test_a_change_made_meanwhile_by_someone_else_is_not_applied_twice(
    client, structure, principal_manager, simple_user
):
    client.force_login(principal_manager)
    url = user_url(structure, simple_user)
    _response, token = step(client, url, action=f"remove:{profile('ENGAGEMENT').pk}")
    _response, token = step(
        client, url, token, action="stage", picker="add", **pick("FACTURE_RECUE", Level.CONSULTATION)
    )
    _response, token = step(
        client, url, token, action="stage", picker="add", **pick("FACTURE_EMISE", Level.MODIFICATION)
    )
    factories.grant(simple_user, structure, "FACTURE_EMISE", Level.MODIFICATION)

    response = client.post(url, {"staged": token})

    # The page reloads what is stored: the addition made meanwhile is not made again.
    assert response.status_code == 302
    assert held(simple_user, structure) == {
        ("FACTURE_EMISE", Level.CONSULTATION),
        ("FACTURE_EMISE", Level.MODIFICATION),
        ("FACTURE_RECUE", Level.CONSULTATION),
    }


def test_a_forged_staged_token_is_refused(client, structure, principal_manager, simple_user):
    client.force_login(principal_manager)
    url = user_url(structure, simple_user)
    response = client.post(url, {"staged": "eyJ0IjpbMV19:forged:signature"})
    assert response.status_code == 400
    assert held(simple_user, structure) == {
        ("FACTURE_EMISE", Level.CONSULTATION),
        ("ENGAGEMENT", Level.CONSULTATION),
    }


def test_a_token_staged_for_another_user_is_refused(
    client, structure, principal_manager, delegate, simple_user
):
    client.force_login(principal_manager)
    _response, token = step(
        client,
        user_url(structure, delegate),
        action="stage",
        picker="add",
        **pick("ENGAGEMENT", Level.MODIFICATION),
    )

    response = client.post(user_url(structure, simple_user), {"staged": token})

    assert response.status_code == 400
    assert held(simple_user, structure) == {
        ("FACTURE_EMISE", Level.CONSULTATION),
        ("ENGAGEMENT", Level.CONSULTATION),
    }


def test_an_expired_staged_token_starts_again(client, structure, principal_manager, simple_user, monkeypatch):
    client.force_login(principal_manager)
    url = user_url(structure, simple_user)
    _response, token = step(client, url, action=f"remove:{profile('ENGAGEMENT').pk}")
    monkeypatch.setattr(habilitation_forms, "TOKEN_MAX_AGE", -1)

    response = client.post(url, {"staged": token})

    assert "ouverte depuis trop longtemps" in text(response)
    assert held(simple_user, structure) == {
        ("FACTURE_EMISE", Level.CONSULTATION),
        ("ENGAGEMENT", Level.CONSULTATION),
    }


def test_habilitations_on_a_service(client, structure, principal_manager):
    service = factories.ServiceFactory(structure=structure)
    user = factories.UserFactory()
    factories.attach(user, structure, service=service)
    client.force_login(principal_manager)
    url = user_url(structure, user, service)

    _response, token = step(
        client, url, action="stage", picker="add", **pick("FACTURE_EMISE", Level.MODIFICATION)
    )
    client.post(url, {"staged": token})

    assert held(user, structure, service) == {("FACTURE_EMISE", Level.MODIFICATION)}
    assert held(user, structure) == set()


def test_inactive_structure_refuses_changes_with_a_french_message(
    client, structure, principal_manager, simple_user
):
    client.force_login(principal_manager)
    url = user_url(structure, simple_user)
    _response, token = step(client, url, action=f"remove:{profile('ENGAGEMENT').pk}")
    Structure.objects.filter(pk=structure.pk).update(status=Structure.Status.INACTIVE)

    response = client.post(url, {"staged": token})

    assert "La structure est désactivée : réactivez-la d’abord" in text(response)
    assert ("ENGAGEMENT", Level.CONSULTATION) in held(simple_user, structure)


def test_user_page_query_count_does_not_grow_with_profiles_users_or_services(
    client, structure, principal_manager, simple_user, django_assert_num_queries
):
    client.force_login(principal_manager)
    url = user_url(structure, simple_user)
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for code in ["FACTURE_RECUE", "FACTURE_EMISE", "MEMOIRE_FRAIS_JUSTICE", "REMBOURSEMENT_TAXES"]:
        factories.grant(simple_user, structure, code, Level.MODIFICATION)
    # The one page lists the structure's users and services at the top.
    for _index in range(15):
        colleague = factories.UserFactory()
        factories.attach(colleague, structure)
        factories.grant(colleague, structure, "FACTURE_EMISE", Level.CONSULTATION)
        factories.ServiceFactory(structure=structure)
    with django_assert_num_queries(len(few.captured_queries)):
        response = client.get(url)
    assert text(response).count("<option") >= 30


# The service


def test_apply_is_all_or_nothing_when_the_second_change_fails(
    structure, principal_manager, simple_user, monkeypatch
):
    saves = fail_on_second_save(monkeypatch)
    with pytest.raises(RuntimeError):
        habilitations_apply(
            actor=principal_manager,
            user=simple_user,
            structure=structure,
            add=[profile("FACTURE_RECUE"), profile("ENGAGEMENT", Level.MODIFICATION)],
            remove=[profile("FACTURE_EMISE")],
        )

    assert len(saves) == 2
    assert held(simple_user, structure) == {
        ("FACTURE_EMISE", Level.CONSULTATION),
        ("ENGAGEMENT", Level.CONSULTATION),
    }
    assert not AuditEvent.objects.filter(action="habilitations_change").exists()


def test_apply_refuses_removing_the_principal_managers_organisation_modification(
    structure, principal_manager
):
    with pytest.raises(HabilitationError) as error:
        habilitations_apply(
            actor=principal_manager,
            user=principal_manager,
            structure=structure,
            remove=[profile("ORGANISATION", Level.MODIFICATION)],
        )
    assert "transférez d’abord le rôle de gestionnaire principal" in error.value.message


def test_apply_refuses_adding_a_profile_already_held(structure, principal_manager, simple_user):
    with pytest.raises(HabilitationError) as error:
        habilitations_apply(
            actor=principal_manager,
            user=simple_user,
            structure=structure,
            add=[profile("FACTURE_RECUE"), profile("FACTURE_EMISE")],
        )
    assert error.value.message == ALREADY_HELD
    assert ("FACTURE_RECUE", Level.CONSULTATION) not in held(simple_user, structure)


def test_apply_refuses_giving_the_principal_manager_what_they_hold_implicitly(structure, principal_manager):
    with pytest.raises(HabilitationError, match="possède déjà"):
        habilitations_apply(
            actor=principal_manager,
            user=principal_manager,
            structure=structure,
            add=[profile("ORGANISATION", Level.MODIFICATION)],
        )


def test_apply_refuses_a_user_not_attached(structure, principal_manager, other_structure_user):
    with pytest.raises(HabilitationError, match="n’est pas rattaché"):
        habilitations_apply(
            actor=principal_manager,
            user=other_structure_user,
            structure=structure,
            add=[profile("FACTURE_EMISE")],
        )
    assert not Habilitation.objects.filter(user=other_structure_user).exists()


def test_apply_refuses_removing_a_profile_not_held(structure, principal_manager, simple_user):
    with pytest.raises(HabilitationError, match="ne possède pas"):
        habilitations_apply(
            actor=principal_manager, user=simple_user, structure=structure, remove=[profile("FACTURE_RECUE")]
        )


def test_apply_refuses_a_profile_of_a_governed_application(structure, principal_manager, simple_user):
    governed = Profile.objects.create(
        application=factories.application("GERER_STRUCTURE"), level=Level.MODIFICATION
    )
    with pytest.raises(HabilitationError, match="ne peut pas être attribué"):
        habilitations_apply(actor=principal_manager, user=simple_user, structure=structure, add=[governed])


def test_apply_refuses_a_service_of_another_structure(structure, principal_manager, simple_user):
    with pytest.raises(HabilitationError, match="n’appartient pas"):
        habilitations_apply(
            actor=principal_manager,
            user=simple_user,
            structure=structure,
            service=factories.ServiceFactory(),
            add=[profile("FACTURE_RECUE")],
        )


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_grants_of_the_same_profile_make_one(catalogue):
    if connection.vendor != "postgresql":
        pytest.skip("Needs the PostgreSQL server (DATABASE_URL=postgres://…): SQLite serialises writers.")
    structure = factories.StructureFactory(with_principal_manager=True)
    user = factories.UserFactory()
    factories.attach(user, structure)
    wanted = profile("FACTURE_EMISE", Level.MODIFICATION)
    barrier = threading.Barrier(2)
    outcomes = []

    def grant():
        try:
            barrier.wait(timeout=10)
            habilitations_apply(
                actor=structure.principal_manager, user=user, structure=structure, add=[wanted]
            )
            outcomes.append("granted")
        except HabilitationError as error:
            outcomes.append(error.message)
        except Exception as exc:  # reported below, a thread cannot fail the test itself
            outcomes.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=grant) for _index in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes, key=str) == sorted(["granted", ALREADY_HELD], key=str)
    assert Habilitation.objects.filter(user=user, profile=wanted).count() == 1


def test_grantable_profiles_are_those_of_applications_with_their_own_profile(db):
    codes = {p.application.code for p in habilitations.grantable_profiles()}
    assert "ORGANISATION" in codes and "FACTURE_EMISE" in codes
    assert "GERER_STRUCTURE" not in codes


# Copier les habilitations


def copy_choice(structure, source, target):
    return {"structure": structure.pk, "source": source.pk, "target": target.pk}


def test_copy_previews_then_adds_the_profiles_not_held(client, structure, principal_manager, simple_user):
    target = factories.UserFactory(email="cible@exemple.fr")
    factories.attach(target, structure)
    factories.grant(target, structure, "FACTURE_EMISE", Level.CONSULTATION)
    client.force_login(principal_manager)

    preview = client.get(
        reverse("users:habilitations_copy"), {**copy_choice(structure, simple_user, target), "valider": "1"}
    )

    assert "1 profil sera ajouté" in text(preview)
    assert "Déjà possédé : ignoré" in text(preview)
    assert held(target, structure) == {("FACTURE_EMISE", Level.CONSULTATION)}

    response = client.post(
        reverse("users:habilitations_copy"), copy_choice(structure, simple_user, target), follow=True
    )

    assert "1 profil(s) copié(s)" in text(response)
    assert held(target, structure) == {
        ("FACTURE_EMISE", Level.CONSULTATION),
        ("ENGAGEMENT", Level.CONSULTATION),
    }
    assert AuditEvent.objects.filter(action="habilitations_change", object_id=str(target.pk)).count() == 1


def test_copy_does_not_copy_the_principal_manager_role(client, structure, principal_manager, simple_user):
    client.force_login(principal_manager)
    preview = client.get(
        reverse("users:habilitations_copy"),
        {**copy_choice(structure, principal_manager, simple_user), "valider": "1"},
    )
    assert "ne se copient pas" in text(preview)
    response = client.post(
        reverse("users:habilitations_copy"), copy_choice(structure, principal_manager, simple_user)
    )
    assert "Aucun profil à copier" in text(response)
    assert ("ORGANISATION", Level.MODIFICATION) not in held(simple_user, structure)


def test_copy_to_the_same_user_is_refused(client, structure, principal_manager, simple_user):
    client.force_login(principal_manager)
    response = client.post(
        reverse("users:habilitations_copy"), copy_choice(structure, simple_user, simple_user)
    )
    assert "Choisissez deux utilisateurs différents." in text(response)
    assert AuditEvent.objects.filter(action="habilitations_change").count() == 0


def test_copy_to_another_structures_user_is_an_invalid_choice(
    client, structure, principal_manager, simple_user, other_structure_user
):
    client.force_login(principal_manager)
    response = client.post(
        reverse("users:habilitations_copy"), copy_choice(structure, simple_user, other_structure_user)
    )
    assert "Sélectionnez un choix valide" in text(response)
    assert not Habilitation.objects.filter(user=other_structure_user).exists()


def test_copy_on_another_structure_is_an_invalid_choice(client, principal_manager, other_structure_user):
    other = other_structure_user.memberships.get().structure
    source = factories.UserFactory()
    factories.attach(source, other)
    factories.grant(source, other, "FACTURE_EMISE")
    client.force_login(principal_manager)
    response = client.post(
        reverse("users:habilitations_copy"), copy_choice(other, source, other_structure_user)
    )
    assert "Sélectionnez un choix valide" in text(response)
    assert not Habilitation.objects.filter(user=other_structure_user).exists()


def test_copy_preview_query_count_does_not_grow_with_profiles(
    client, structure, principal_manager, simple_user, django_assert_num_queries
):
    target = factories.UserFactory()
    factories.attach(target, structure)
    client.force_login(principal_manager)
    params = {**copy_choice(structure, simple_user, target), "valider": "1"}
    url = reverse("users:habilitations_copy")
    client.get(url, params)
    with CaptureQueriesContext(connection) as few:
        client.get(url, params)
    for _index in range(3):
        service = factories.ServiceFactory(structure=structure)
        factories.grant(simple_user, structure, "FACTURE_RECUE", Level.MODIFICATION, service=service)
        factories.grant(simple_user, structure, "MEMOIRE_FRAIS_JUSTICE", Level.MODIFICATION, service=service)
    with django_assert_num_queries(len(few.captured_queries)):
        client.get(url, params)


# Gérer mes habilitations


def my_url(structure, service=None):
    """The one page, opened on my profiles on this scope."""
    service_id = service.pk if service else ""
    return f"{reverse('users:my_habilitations')}?structure={structure.pk}&service={service_id}"


def former_my_url(structure, service=None):
    if service is None:
        return reverse("users:my_habilitations_structure", args=[structure.pk])
    return reverse("users:my_habilitations_service", args=[structure.pk, service.pk])


def test_anonymous_is_sent_to_login_from_my_habilitations(client, structure):
    for url in [reverse("users:my_habilitations"), my_url(structure)]:
        response = client.get(url)
        assert response.status_code == 302
        assert response.url.startswith(reverse("users:login"))


@pytest.mark.parametrize("persona", ["principal_manager", "delegate", "consultation_user", "simple_user"])
def test_every_attached_user_opens_my_habilitations(client, request, structure, persona):
    client.force_login(request.getfixturevalue(persona))
    assert client.get(reverse("users:my_habilitations")).status_code == 200
    assert client.get(my_url(structure)).status_code == 200


def test_another_structure_in_my_habilitations_is_refused_and_nothing_of_it_shown(
    client, structure, simple_user, other_structure_user
):
    client.force_login(other_structure_user)
    assert client.get(former_my_url(structure)).status_code == 404
    for query in ({"structure": structure.pk, "service": "", "valider": "1"}, {"structure": structure.pk}):
        response = client.get(reverse("users:my_habilitations"), query)
        assert "Sélectionnez un choix valide" in text(response)
        assert response.context["page"] is None
        assert structure.display_name not in text(response)
    from approvals.models import ApprovalRequest
    staged = habilitation_forms.Staging(
        [structure.pk, None, other_structure_user.pk], add=[profile("FACTURE_RECUE").pk]
    )
    token = staged.dumps()
    response = client.post(my_url(structure), {"staged": token, "comment": ""})
    assert response.status_code == 200
    assert not ApprovalRequest.objects.exists()
    assert not Habilitation.objects.filter(user=other_structure_user, structure=structure).exists()


def test_choosing_the_structure_shows_my_profiles_on_the_same_page(client, structure, simple_user):
    second = factories.StructureFactory(company_name="Deuxième structure", with_principal_manager=True)
    factories.attach(simple_user, second)
    client.force_login(simple_user)
    url = reverse("users:my_habilitations")
    # Two structures: none chosen, the overview of all my profiles.
    response = client.get(url)
    assert response.context["page"] is None
    assert "Mes profils sur mes structures" in text(response)
    # Choosing one (its button, or the script pressing it) shows my profiles on it below.
    response = client.get(url, {"structure": structure.pk, "choisir": "structure", "service": "x"})
    assert response.context["page"].structure == structure
    assert response.context["page"].service is None
    page = text(response)
    assert "Facture émise – consultation" in page
    assert 'id="demandes-en-attente"' in page
    # Soumettre posts to the same address, with the same choice.
    assert f'action="{url}?structure={structure.pk}&amp;choisir=structure&amp;service=x"' in (
        response.content.decode()
    )


def test_with_one_structure_my_profiles_on_it_are_shown_at_once(client, structure, simple_user):
    client.force_login(simple_user)
    response = client.get(reverse("users:my_habilitations"))
    assert response.context["page"].structure == structure
    assert "Facture émise – consultation" in text(response)


@pytest.mark.parametrize("with_service", [False, True])
def test_the_former_addresses_of_my_profiles_lead_to_the_one_page(client, structure, with_service):
    service = factories.ServiceFactory(structure=structure) if with_service else None
    user = factories.UserFactory()
    factories.attach(user, structure, service=service)
    client.force_login(user)
    response = client.get(former_my_url(structure, service))
    assert response.status_code == 302
    assert response.url == my_url(structure, service)
    assert client.get(response.url).context["page"].service == service


def test_my_habilitations_lists_my_profiles(client, structure, principal_manager, simple_user):
    client.force_login(principal_manager)
    assert GP_LINE in text(client.get(reverse("users:my_habilitations")))
    client.force_login(simple_user)
    response = client.get(reverse("users:my_habilitations"))
    assert "Facture émise – consultation" in text(response)
    assert GP_LINE not in text(response)


def test_my_habilitations_overview_query_count_does_not_grow(
    client, structure, simple_user, django_assert_num_queries
):
    second = factories.StructureFactory(with_principal_manager=True)
    factories.attach(simple_user, second)
    client.force_login(simple_user)
    url = reverse("users:my_habilitations")
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for _index in range(4):
        other = factories.StructureFactory(with_principal_manager=True)
        factories.attach(simple_user, other)
        factories.grant(simple_user, other, "FACTURE_EMISE", Level.MODIFICATION)
        factories.grant(simple_user, other, "ORGANISATION", Level.CONSULTATION)
    with django_assert_num_queries(len(few.captured_queries)):
        client.get(url)


@pytest.mark.parametrize("persona", ["principal_manager", "delegate"])
def test_an_administrator_applies_changes_to_their_own_profiles_at_once(client, request, structure, persona):
    user = request.getfixturevalue(persona)
    client.force_login(user)
    url = my_url(structure)
    response, token = step(
        client, url, action="stage", picker="add", **pick("FACTURE_RECUE", Level.MODIFICATION)
    )
    assert 'name="comment"' not in response.content.decode()

    response = client.post(url, {"staged": token}, follow=True)

    assert "Vos habilitations ont été mises à jour." in text(response)
    assert ("FACTURE_RECUE", Level.MODIFICATION) in held(user, structure)


def test_the_principal_manager_cannot_remove_their_own_organisation_modification(
    client, structure, principal_manager
):
    client.force_login(principal_manager)
    pm = profile("ORGANISATION", Level.MODIFICATION)
    # Even when a row exists besides the implicit profile (a former delegate become GP).
    Habilitation.objects.create(user=principal_manager, structure=structure, profile=pm)
    url = my_url(structure)
    response = client.get(url)
    assert text(response).count(GP_LINE) == 1
    assert f'value="remove:{pm.pk}"' not in text(response)
    with pytest.raises(HabilitationError):
        habilitations_apply(actor=principal_manager, user=principal_manager, structure=structure, remove=[pm])
    assert Habilitation.objects.filter(user=principal_manager, profile=pm).exists()


def test_a_simple_users_changes_become_one_pending_request(client, structure, principal_manager, simple_user):
    from approvals.models import ApprovalRequest

    client.force_login(simple_user)
    url = my_url(structure)
    response, token = step(
        client, url, action="stage", picker="add", **pick("FACTURE_RECUE", Level.MODIFICATION)
    )
    assert "Commentaire pour les gestionnaires" in text(response)
    _response, token = step(client, url, token, action=f"remove:{profile('ENGAGEMENT').pk}")

    response = client.post(url, {"staged": token, "comment": "Pour la clôture"}, follow=True)

    assert "Votre demande a été transmise aux gestionnaires de la structure" in text(response)
    approval = ApprovalRequest.objects.get()
    # Back on the page: the request is listed among those waiting for a decision.
    pending = text(response).split('id="demandes-en-attente"', 1)[1]
    assert approval.number in pending
    assert "Ajouter : Facture reçue – modification" in pending
    assert "Retirer : Engagement – consultation" in pending
    assert "En attente" in pending
    assert approval.requester == simple_user
    assert approval.status == ApprovalRequest.Status.EN_ATTENTE
    assert approval.comment == "Pour la clôture"
    assert list(approval.profiles_to_add.all()) == [profile("FACTURE_RECUE", Level.MODIFICATION)]
    assert list(approval.profiles_to_remove.all()) == [profile("ENGAGEMENT")]
    # Nothing applied before a manager approves.
    assert held(simple_user, structure) == {
        ("FACTURE_EMISE", Level.CONSULTATION),
        ("ENGAGEMENT", Level.CONSULTATION),
    }


def test_my_habilitations_lists_my_pending_requests_of_every_kind(client, structure, principal_manager):
    from approvals import services as approval_services
    from approvals.models import ApprovalRequest

    user = factories.UserFactory()
    factories.attach(user, structure)
    other = factories.StructureFactory(company_name="Autre structure", with_principal_manager=True)
    service = factories.ServiceFactory(structure=other, code="COMPTA", name="Comptabilité")
    attachment = approval_services.request_attachment(requester=user, structure=other, services=[service])
    profiles = approval_services.request_profiles(
        requester=user, structure=structure, add=[profile("FACTURE_RECUE", Level.MODIFICATION)]
    )
    decided = approval_services.request_profiles(
        requester=user, structure=structure, add=[profile("ENGAGEMENT")]
    )
    ApprovalRequest.objects.filter(pk=decided.pk).update(
        status=ApprovalRequest.Status.APPROUVEE, decided_by=principal_manager, decided_at=decided.created_at
    )
    client.force_login(user)

    page = text(client.get(reverse("users:my_habilitations")))

    pending = page.split('id="demandes-en-attente"', 1)[1]
    assert "2 demandes en attente de décision" in pending
    assert attachment.number in pending and profiles.number in pending
    assert decided.number not in pending
    assert "Rattachement" in pending and "Services : COMPTA — Comptabilité" in pending
    assert "Gérer les habilitations" in pending and "Ajouter : Facture reçue – modification" in pending
    assert f"{other.identifier}" in pending
    # Newest first.
    assert pending.index(profiles.number) < pending.index(attachment.number)


def test_my_structure_page_lists_only_my_pending_requests_on_it(
    client, structure, principal_manager, simple_user
):
    from approvals import services as approval_services

    mine = approval_services.request_profiles(
        requester=simple_user, structure=structure, add=[profile("FACTURE_RECUE")]
    )
    colleague = factories.UserFactory()
    factories.attach(colleague, structure)
    theirs = approval_services.request_profiles(
        requester=colleague, structure=structure, add=[profile("FACTURE_RECUE")]
    )
    client.force_login(simple_user)
    pending = text(client.get(my_url(structure))).split('id="demandes-en-attente"', 1)[1]
    assert mine.number in pending
    assert theirs.number not in pending


def test_administrators_page_about_another_user_has_no_pending_list(
    client, structure, principal_manager, simple_user
):
    client.force_login(principal_manager)
    assert 'id="demandes-en-attente"' not in text(client.get(user_url(structure, simple_user)))


def test_my_habilitations_without_pending_request_says_so(client, structure, simple_user):
    client.force_login(simple_user)
    page = text(client.get(reverse("users:my_habilitations")))
    assert "Aucune demande en attente de décision." in page


def test_a_user_attached_to_nothing_sees_their_pending_attachment_on_my_habilitations(
    client, structure, principal_manager
):
    from tests.approvals.helpers import pending_attachment

    approval = pending_attachment(structure)
    client.force_login(approval.requester)
    page = text(client.get(reverse("users:my_habilitations")))
    assert "Vous n’êtes rattaché à aucune structure" in page
    assert approval.number in page.split('id="demandes-en-attente"', 1)[1]


def test_a_duplicate_request_shows_the_refusal_on_the_form(client, structure, principal_manager, simple_user):
    from approvals.models import ApprovalRequest

    client.force_login(simple_user)
    url = my_url(structure)
    _response, token = step(
        client, url, action="stage", picker="add", **pick("FACTURE_RECUE", Level.MODIFICATION)
    )
    client.post(url, {"staged": token, "comment": ""})

    response = client.post(url, {"staged": token, "comment": ""})

    assert response.status_code == 200
    assert "déjà en attente" in text(response)
    assert ApprovalRequest.objects.count() == 1


def test_a_user_without_structure_is_told_to_ask_for_an_attachment(client, db):
    client.force_login(factories.UserFactory())
    response = client.get(reverse("users:my_habilitations"))
    assert "Vous n’êtes rattaché à aucune structure" in text(response)


def test_a_service_level_user_chooses_one_of_their_services(client, structure, principal_manager):
    service = factories.ServiceFactory(structure=structure)
    other_service = factories.ServiceFactory(structure=structure)
    user = factories.UserFactory()
    factories.attach(user, structure, service=service)
    client.force_login(user)
    url = reverse("users:my_habilitations")

    # The structure alone: the service is the next choice, without an error yet.
    response = client.get(url)
    assert response.context["page"] is None
    assert "choisissez l’un de ces services" not in text(response)
    assert 'autofocus' in str(response.context["form"]["service"])
    response = client.get(url, {"structure": structure.pk, "service": "", "valider": "1"})
    assert "choisissez l’un de ces services" in text(response)
    response = client.get(url, {"structure": structure.pk, "service": other_service.pk, "valider": "1"})
    assert "Sélectionnez un choix valide" in text(response)
    assert response.context["page"] is None
    assert client.get(former_my_url(structure, other_service)).status_code == 404
    response = client.get(url, {"structure": structure.pk, "service": service.pk, "valider": "1"})
    assert response.context["page"].service == service
