"""Créer une coordonnée bancaire: the PDF proof accepted on a submission that failed for
another reason (a wrong IBAN key) is kept, shown, and saved with the corrected form
without being chosen again; a refused one is said to be chosen again; a kept proof
serves nobody but the user and session that sent it."""

import re
from datetime import timedelta
from io import StringIO

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client, TestCase
from django.urls import reverse
from django.utils import timezone

from chorus.models import AuditEvent
from core import kept_uploads
from core.tasks import kept_uploads_purge
from structures.models import BankAccount
from tests.structures.test_bank import CREATE_URL, _errors, _iban_data, _pdf

WRONG_KEY_IBAN = "FR76 3000 6000 0112 3456 7890 188"


def _token(response):
    return response.context["form"].kept_proof.token


def _kept_paths():
    try:
        return default_storage.listdir(kept_uploads.FOLDER)[1]
    except FileNotFoundError:
        return []


def _first_try(client, structure):
    response = client.post(CREATE_URL, _iban_data(structure, iban=WRONG_KEY_IBAN, proof=_pdf("mon rib.pdf")))
    assert response.status_code == 200
    assert _errors(response, "iban")
    return response


def test_proof_is_kept_after_a_wrong_iban_key_and_saved_with_the_corrected_form(
    client, structure, principal_manager
):
    client.force_login(principal_manager)
    response = _first_try(client, structure)

    page = response.content.decode()
    assert "Fichier conservé : mon rib.pdf" in page
    assert f'name="proof_kept" value="{_token(response)}"' in page
    # The file input only replaces it: the browser does not demand a new file.
    assert not re.search(r'<input[^>]*name="proof"[^>]*required', page)
    assert "Remplacer le justificatif (facultatif)" in page
    assert len(_kept_paths()) == 1

    data = _iban_data(structure, proof=None, proof_kept=_token(response))
    with django_capture_on_commit():
        response = client.post(CREATE_URL, data)

    assert response.status_code == 302
    bank_account = BankAccount.objects.get()
    assert bank_account.proof_name == "mon rib.pdf"
    assert bank_account.proof.read().startswith(b"%PDF")
    assert AuditEvent.objects.filter(action="bank_account_create").count() == 1
    # The temporary copy is gone once the proof is saved.
    assert _kept_paths() == []


def django_capture_on_commit():
    # The temporary copy is deleted once the saving transaction commits.
    return TestCase.captureOnCommitCallbacks(execute=True)


def test_kept_proof_preview_is_served_to_its_user_only(client, structure, principal_manager, delegate):
    client.force_login(principal_manager)
    token = _token(_first_try(client, structure))
    url = reverse("structures:bank_kept_proof", args=[token])

    response = client.get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(b"%PDF")
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"

    other = Client()
    other.force_login(delegate)
    assert other.get(url).status_code == 404
    # The same user in another session (another browser) does not get it either.
    elsewhere = Client()
    elsewhere.force_login(principal_manager)
    assert elsewhere.get(url).status_code == 404


def test_a_token_of_another_user_is_refused(client, structure, principal_manager, delegate):
    client.force_login(principal_manager)
    token = _token(_first_try(client, structure))

    other = Client()
    other.force_login(delegate)
    response = other.post(CREATE_URL, _iban_data(structure, proof=None, proof_kept=token))

    assert response.status_code == 200
    assert _errors(response, "proof") == [
        "Un fichier conservé n’est plus disponible (délai dépassé ou session changée) : "
        "choisissez-le de nouveau."
    ]
    assert not BankAccount.objects.exists()


def test_a_forged_or_expired_token_is_refused(client, structure, principal_manager, monkeypatch):
    client.force_login(principal_manager)
    token = _token(_first_try(client, structure))

    response = client.post(CREATE_URL, _iban_data(structure, proof=None, proof_kept=token[:-2] + "xx"))
    assert _errors(response, "proof")
    monkeypatch.setattr(kept_uploads, "KEEP_SECONDS", -1)
    response = client.post(CREATE_URL, _iban_data(structure, proof=None, proof_kept=token))
    assert _errors(response, "proof")
    assert not BankAccount.objects.exists()


def test_a_refused_proof_is_not_kept_and_must_be_chosen_again(client, structure, principal_manager):
    client.force_login(principal_manager)
    not_a_pdf = SimpleUploadedFile("rib.pdf", b"Ceci n'est pas un PDF", content_type="application/pdf")
    response = client.post(CREATE_URL, _iban_data(structure, iban=WRONG_KEY_IBAN, proof=not_a_pdf))

    assert _errors(response, "proof") == ["Le fichier n’est pas un PDF valide."]
    page = response.content.decode()
    assert (
        "Le fichier choisi a été refusé et n’a pas été conservé : choisissez de nouveau un justificatif PDF."
    ) in page
    assert "Fichier conservé" not in page
    assert response.context["form"].kept_proof is None
    assert _kept_paths() == []


def test_a_new_file_replaces_the_kept_one(client, structure, principal_manager):
    client.force_login(principal_manager)
    token = _token(_first_try(client, structure))

    with django_capture_on_commit():
        response = client.post(CREATE_URL, _iban_data(structure, proof=_pdf("autre.pdf"), proof_kept=token))

    assert response.status_code == 302
    assert BankAccount.objects.get().proof_name == "autre.pdf"
    assert _kept_paths() == []


def test_kept_files_past_their_time_are_purged(client, structure, principal_manager):
    client.force_login(principal_manager)
    _first_try(client, structure)
    assert kept_uploads.purge_expired() == 0
    later = timezone.now() + timedelta(seconds=kept_uploads.KEEP_SECONDS + 60)
    assert kept_uploads.purge_expired(later) == 1
    assert _kept_paths() == []


@pytest.fixture(autouse=True)
def _no_kept_files_left():
    # Other tests' forms shown again keep files too: each test starts and ends with none.
    for name in _kept_paths():
        default_storage.delete(f"{kept_uploads.FOLDER}/{name}")
    yield
    for name in _kept_paths():
        default_storage.delete(f"{kept_uploads.FOLDER}/{name}")


def test_the_purge_command_and_task_delete_old_kept_files(client, structure, principal_manager, monkeypatch):
    client.force_login(principal_manager)
    _first_try(client, structure)
    out = StringIO()
    call_command("kept_uploads_purge", stdout=out)
    assert out.getvalue() == "0 fichier(s) conservé(s) supprimé(s).\n"
    monkeypatch.setattr(kept_uploads, "KEEP_SECONDS", -60)
    assert kept_uploads_purge() == "1 fichier(s) conservé(s) supprimé(s).\n"
    assert _kept_paths() == []
