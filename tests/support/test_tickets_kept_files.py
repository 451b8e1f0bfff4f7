"""Créer un ticket with several files, one refused: the accepted ones are kept and
listed ("Fichiers conservés"), each can be unticked, the refused one is named as the
only one to choose again; the next submission attaches the kept files. A kept file
serves nobody but the user and session that sent it."""

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, TestCase
from django.urls import reverse

from chorus.models import AuditEvent
from core import kept_uploads
from support.models import Ticket, TicketAttachment
from tests import factories
from tests.support.test_tickets import CREATE_URL, make_ticket, pdf, submit_data

S = Ticket.Status


@pytest.fixture
def requester(structure, principal_manager):
    user = factories.UserFactory(email="demandeur@exemple.fr")
    factories.attach(user, structure)
    return user


def _bad():
    return SimpleUploadedFile("faux.pdf", b"<html>pas un pdf</html>", content_type="application/pdf")


def _kept(response):
    return response.context["form"].kept_files


def _kept_paths():
    try:
        return default_storage.listdir(kept_uploads.FOLDER)[1]
    except FileNotFoundError:
        return []


@pytest.fixture(autouse=True)
def _no_kept_files_left():
    # Other tests' forms shown again keep files too: each test starts and ends with none.
    for name in _kept_paths():
        default_storage.delete(f"{kept_uploads.FOLDER}/{name}")
    yield
    for name in _kept_paths():
        default_storage.delete(f"{kept_uploads.FOLDER}/{name}")


def _first_try(client, structure, **changes):
    data = {**submit_data(structure=structure.pk, **changes), "files": [pdf("facture.pdf"), _bad()]}
    response = client.post(CREATE_URL, data)
    assert response.status_code == 200
    return response


def test_the_valid_file_is_kept_when_another_is_refused_and_attached_on_the_next_submission(
    client, requester, structure
):
    client.force_login(requester)
    response = _first_try(client, structure)

    assert response.context["form"].errors["files"] == ["« faux.pdf » : Le fichier n’est pas un PDF valide."]
    assert [kept.name for kept in _kept(response)] == ["facture.pdf"]
    page = response.content.decode()
    assert "Fichiers conservés :" in page
    assert f'name="files_kept" value="{_kept(response)[0].token}" checked' in page
    assert (
        "Le fichier « faux.pdf » a été refusé et n’a pas été conservé : c’est le seul à choisir de nouveau"
    ) in page
    assert not Ticket.objects.exists()

    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post(
            CREATE_URL, {**submit_data(structure=structure.pk), "files_kept": [_kept(response)[0].token]}
        )

    assert response.status_code == 302
    ticket = Ticket.objects.get()
    assert ticket.status == S.SOUMIS
    assert [a.original_name for a in ticket.attachments.all()] == ["facture.pdf"]
    assert ticket.attachments.get().file.read().startswith(b"%PDF")
    assert AuditEvent.objects.filter(action="ticket_submit").count() == 1
    assert _kept_paths() == []


def test_files_are_kept_after_another_error_and_joined_by_new_ones(client, requester, structure):
    client.force_login(requester)
    response = client.post(
        CREATE_URL, {**submit_data(structure=structure.pk, title=""), "files": [pdf("a.pdf"), pdf("b.pdf")]}
    )
    assert response.context["form"].errors["title"]
    tokens = [kept.token for kept in _kept(response)]
    assert [kept.name for kept in _kept(response)] == ["a.pdf", "b.pdf"]

    # b.pdf unticked (not sent back), c.pdf chosen now.
    response = client.post(
        CREATE_URL, {**submit_data(structure=structure.pk), "files_kept": tokens[:1], "files": [pdf("c.pdf")]}
    )
    assert response.status_code == 302
    names = sorted(Ticket.objects.get().attachments.values_list("original_name", flat=True))
    assert names == ["a.pdf", "c.pdf"]


def test_kept_files_go_to_a_draft_too(client, requester, structure):
    client.force_login(requester)
    token = _kept(_first_try(client, structure))[0].token
    response = client.post(
        CREATE_URL, {**submit_data(structure=structure.pk, action="draft"), "files_kept": [token]}
    )
    assert response.status_code == 302
    ticket = Ticket.objects.get()
    assert ticket.status == S.BROUILLON
    assert list(ticket.attachments.values_list("original_name", flat=True)) == ["facture.pdf"]


def test_a_kept_file_of_another_user_is_refused(client, requester, structure, principal_manager):
    client.force_login(requester)
    token = _kept(_first_try(client, structure))[0].token

    other = Client()
    other.force_login(principal_manager)
    response = other.post(CREATE_URL, {**submit_data(structure=structure.pk), "files_kept": [token]})

    assert response.status_code == 200
    assert response.context["form"].errors["files"] == [
        "Un fichier conservé n’est plus disponible (délai dépassé ou session changée) : "
        "choisissez-le de nouveau."
    ]
    assert not Ticket.objects.exists()
    assert not TicketAttachment.objects.exists()


def test_a_kept_file_of_another_session_of_the_same_user_is_refused(client, requester, structure):
    client.force_login(requester)
    token = _kept(_first_try(client, structure))[0].token

    elsewhere = Client()
    elsewhere.force_login(requester)
    response = elsewhere.post(CREATE_URL, {**submit_data(structure=structure.pk), "files_kept": [token]})
    assert response.context["form"].errors["files"]
    assert not Ticket.objects.exists()


def test_kept_and_new_files_together_respect_the_limit(client, requester, structure):
    client.force_login(requester)
    token = _kept(_first_try(client, structure))[0].token
    files = [pdf(f"f{n}.pdf") for n in range(10)]
    response = client.post(
        CREATE_URL, {**submit_data(structure=structure.pk), "files_kept": [token], "files": files}
    )
    assert response.context["form"].errors["files"] == ["Joignez 10 fichiers au plus."]
    assert not Ticket.objects.exists()


def test_a_complement_keeps_its_valid_file_when_another_is_refused(client, requester):
    ticket = make_ticket(requester, S.EN_ATTENTE_INFORMATION)
    client.force_login(requester)
    url = reverse("support:ticket_answer", args=[ticket.pk])
    response = client.post(url, {"message": "Voici", "files": [pdf("preuve.pdf"), _bad()]})
    assert [kept.name for kept in _kept(response)] == ["preuve.pdf"]

    response = client.post(url, {"message": "Voici", "files_kept": [_kept(response)[0].token]})
    assert response.status_code == 302
    assert list(ticket.attachments.values_list("original_name", flat=True)) == ["preuve.pdf"]
