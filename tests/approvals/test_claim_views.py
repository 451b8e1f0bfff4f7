"""Signaler une structure usurpée / revendiquer cette structure, from Demander un
rattachement: who may file a claim, what the form refuses, and what nobody else learns."""

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from chorus.models import AuditEvent
from structures.models import StructureClaim
from tests import factories
from tests.approvals.helpers import newcomer
from tests.security import fuzz_uploads as hostile

REQUEST = reverse("approvals:request_attachment")
CLAIM = reverse("approvals:claim_structure")
MINE = reverse("approvals:my_requests")
LINK = "Signaler une structure usurpée / revendiquer cette structure"


@pytest.fixture
def squatted(db):
    """A structure created from its SIRET by someone who does not belong to it."""
    structure = factories.StructureFactory(company_name="Menuiserie Leroy")
    factories.attach(factories.UserFactory(email="usurpateur@exemple.fr"), structure)
    structure.refresh_from_db()
    return structure


def _pdf(name="kbis.pdf"):
    return SimpleUploadedFile(name, factories.pdf_bytes(), content_type="application/pdf")


def _claim_data(target, **changes):
    data = {
        "identifiant": target.identifier,
        "structure": target.pk,
        "explanation": "Je suis la gérante de la menuiserie ; cette personne n’y a jamais travaillé.",
    }
    data.update(changes)
    return data


def test_the_attachment_request_page_offers_to_claim_the_structure_found(client, squatted):
    client.force_login(newcomer())
    page = client.get(REQUEST, {"identifiant": squatted.identifier}).content.decode()
    assert LINK in page
    assert f'href="{CLAIM}?identifiant={squatted.identifier}"' in page


def test_the_principal_manager_is_not_offered_to_claim_their_own_structure(client, squatted):
    client.force_login(squatted.principal_manager)
    page = client.get(REQUEST, {"identifiant": squatted.identifier}).content.decode()
    assert LINK not in page
    response = client.get(CLAIM, {"identifiant": squatted.identifier})
    assert response.status_code == 302
    assert not StructureClaim.objects.exists()


def test_a_user_claims_a_squatted_structure_with_a_pdf_proof(client, squatted, mailoutbox):
    claimant = newcomer()
    client.force_login(claimant)
    page = client.get(CLAIM, {"identifiant": squatted.identifier}).content.decode()
    assert "Menuiserie Leroy" in page
    # The person the claim is about is not named to the claimant.
    assert "usurpateur@exemple.fr" not in page
    before = AuditEvent.objects.count()
    response = client.post(CLAIM, _claim_data(squatted, proof=_pdf()), follow=True)
    assert response.redirect_chain[-1][0] == MINE
    assert "est transmise aux opérateurs du portail" in response.content.decode()
    claim = StructureClaim.objects.get()
    assert (claim.structure, claim.claimant, claim.status) == (squatted, claimant, "EN_ATTENTE")
    assert claim.proof_name == "kbis.pdf"
    assert claim.proof.name.startswith("claim-proofs/") and "kbis" not in claim.proof.name
    [event] = AuditEvent.objects.order_by("pk")[before:]
    assert event.action == "structure_claim_file"
    # Not in the structure's history, which the person it is about reads.
    assert event.structure_id is None
    assert mailoutbox == []
    squatted.refresh_from_db()
    assert squatted.principal_manager.email == "usurpateur@exemple.fr"


def test_a_claim_without_proof_is_accepted(client, squatted):
    client.force_login(newcomer())
    response = client.post(CLAIM, _claim_data(squatted))
    assert response.status_code == 302
    assert StructureClaim.objects.get().proof_name == ""


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"explanation": "   "}, "Expliquez pourquoi vous revendiquez cette structure."),
        (
            {"proof": SimpleUploadedFile("kbis.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)},
            "Le fichier doit être un PDF (extension .pdf).",
        ),
        (
            {"proof": SimpleUploadedFile("kbis.pdf", b"<html><script>alert(1)</script></html>")},
            "Le fichier n’est pas un PDF valide.",
        ),
        ({"structure": "999999"}, "Cette structure est introuvable : recommencez la recherche."),
    ],
)
def test_bad_claims_are_refused_with_a_french_message_and_store_nothing(client, squatted, changes, message):
    client.force_login(newcomer())
    before = AuditEvent.objects.count()
    response = client.post(CLAIM, _claim_data(squatted, **changes))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not StructureClaim.objects.exists()
    assert AuditEvent.objects.count() == before


def test_another_structure_cannot_be_claimed_through_a_found_one(client, squatted):
    other = factories.StructureFactory(company_name="Autre structure")
    factories.attach(factories.UserFactory(), other)
    client.force_login(newcomer())
    response = client.post(CLAIM, _claim_data(squatted, structure=other.pk))
    assert response.status_code == 200
    assert not StructureClaim.objects.exists()


def test_a_partial_identifier_opens_no_claim(client, squatted):
    client.force_login(newcomer())
    response = client.get(CLAIM, {"identifiant": squatted.identifier[:9]})
    assert response.status_code == 302
    response = client.post(CLAIM, _claim_data(squatted, identifiant=squatted.identifier[:-1]))
    assert response.status_code == 302
    assert not StructureClaim.objects.exists()


def test_a_second_claim_while_the_first_waits_is_refused(client, squatted):
    client.force_login(newcomer())
    client.post(CLAIM, _claim_data(squatted))
    response = client.post(CLAIM, _claim_data(squatted))
    assert response.status_code == 200
    assert "Vous avez déjà revendiqué la structure Menuiserie Leroy" in response.content.decode()
    assert StructureClaim.objects.count() == 1


def test_a_structure_nobody_administers_is_joined_not_claimed(client, db):
    empty = factories.StructureFactory()
    client.force_login(newcomer())
    assert LINK not in client.get(REQUEST, {"identifiant": empty.identifier}).content.decode()
    assert client.get(CLAIM, {"identifiant": empty.identifier}).status_code == 302


def test_anonymous_is_sent_to_login(client, squatted):
    response = client.get(CLAIM, {"identifiant": squatted.identifier})
    assert response.status_code == 302
    assert reverse("users:login") in response.url


@pytest.mark.parametrize(
    "changes",
    [
        {"identifiant": "x" * 100_000},
        {"identifiant": "\x00"},
        {"structure": "99999999999999999999"},
        {"structure": ["1", "2"]},
        {"explanation": "é" * 5001},
        {"explanation": "\x00"},
        {"proof": SimpleUploadedFile("vide.pdf", b"")},
    ],
)
def test_hostile_claim_input_is_refused_without_a_500_or_a_write(client, squatted, changes):
    client.force_login(newcomer())
    before = AuditEvent.objects.count()
    response = client.post(CLAIM, _claim_data(squatted, **changes))
    assert response.status_code in (200, 302)
    assert not StructureClaim.objects.exists()
    assert AuditEvent.objects.count() == before


def _stored_proofs():
    return (
        set(default_storage.listdir("claim-proofs")[1]) if default_storage.exists("claim-proofs") else set()
    )


@pytest.mark.parametrize("case", hostile.hostile_files(), ids=[case[0] for case in hostile.hostile_files()])
def test_hostile_proof_is_refused_with_a_french_message_and_nothing_stored(client, squatted, case):
    _id, name, content, content_type, _message_all, message_pdf = case
    client.force_login(newcomer())
    before = AuditEvent.objects.count()
    files_before = _stored_proofs()
    body = hostile.multipart(
        {key: str(value) for key, value in _claim_data(squatted).items()},
        [("proof", name, content, content_type)],
    )
    response = client.generic("POST", CLAIM, body, content_type=hostile.CONTENT_TYPE)
    assert response.status_code == 200
    assert message_pdf in " ".join(response.context["form"].errors.get("proof", []))
    assert not StructureClaim.objects.exists()
    assert AuditEvent.objects.count() == before
    assert _stored_proofs() == files_before
