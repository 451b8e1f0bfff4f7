"""Claims on usurped structures, operators' side: the admin shows both parties and the
proof, the decision (accept: the claimant becomes principal manager, the former one stays
attached; reject) is audited, emailed to both parties, and taken once."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from chorus import access, audit
from chorus.codes import ApplicationCode
from chorus.models import AuditEvent
from structures.models import StructureClaim
from structures.services import claims
from tests import factories
from users.models import Membership

LIST = reverse("admin:structures_structureclaim_changelist")


@pytest.fixture
def squatter(db):
    return factories.UserFactory(email="usurpateur@exemple.fr", first_name="Marc", last_name="Faux")


@pytest.fixture
def squatted(squatter):
    structure = factories.StructureFactory(company_name="Menuiserie Leroy")
    factories.attach(squatter, structure)
    structure.refresh_from_db()
    return structure


@pytest.fixture
def claimant(db):
    return factories.UserFactory(email="gerante@exemple.fr", first_name="Lucie", last_name="Leroy")


@pytest.fixture
def claim(squatted, claimant):
    return claims.structure_claim_file(
        claimant=claimant,
        structure=squatted,
        explanation="Je suis la gérante ; M. Faux n’a jamais travaillé chez nous.",
        proof=SimpleUploadedFile("kbis.pdf", factories.pdf_bytes(), content_type="application/pdf"),
        proof_name="kbis.pdf",
    )


@pytest.fixture
def operator(db):
    return factories.UserFactory(email="operateur@exemple.fr", is_staff=True, is_superuser=True)


def _decide(client, claim, decision, comment=""):
    url = reverse("admin:structures_structureclaim_decide", args=[claim.pk])
    return client.post(url, {"decision": decision, "comment": comment}, follow=True)


def test_operators_see_both_parties_the_explanation_and_the_proof(client, claim, operator):
    client.force_login(operator)
    listing = client.get(LIST).content.decode()
    assert "Lucie Leroy &lt;gerante@exemple.fr&gt;" in listing
    assert "Marc Faux &lt;usurpateur@exemple.fr&gt;" in listing
    assert "Menuiserie Leroy" in listing
    page = client.get(reverse("admin:structures_structureclaim_change", args=[claim.pk])).content.decode()
    assert "gerante@exemple.fr" in page and "usurpateur@exemple.fr" in page
    assert "M. Faux n’a jamais travaillé chez nous." in page
    assert "Enregistrer la décision" in page
    proof_url = reverse("admin:structures_structureclaim_proof", args=[claim.pk])
    assert proof_url in page
    download = client.get(proof_url)
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith("attachment")
    assert download["X-Content-Type-Options"] == "nosniff"
    assert b"".join(download.streaming_content).startswith(b"%PDF")


def test_support_agents_without_the_permission_cannot_read_or_decide(client, claim):
    agent = factories.UserFactory(email="agent@exemple.fr", is_staff=True)
    client.force_login(agent)
    assert client.get(reverse("admin:structures_structureclaim_proof", args=[claim.pk])).status_code == 403
    assert _decide(client, claim, "accepter").status_code == 403
    claim.refresh_from_db()
    assert claim.status == StructureClaim.Status.EN_ATTENTE


def test_accepting_makes_the_claimant_principal_manager_and_keeps_the_former_attached(
    client, claim, operator, squatted, squatter, claimant, mailoutbox, django_capture_on_commit_callbacks
):
    client.force_login(operator)
    before = AuditEvent.objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        response = _decide(client, claim, "accepter", comment="Kbis vérifié.")
    assert "le demandeur est gestionnaire principal" in response.content.decode()
    squatted.refresh_from_db()
    assert squatted.principal_manager == claimant
    assert Membership.objects.get(user=claimant, structure=squatted, service=None).status == "VALIDEE"
    assert Membership.objects.get(user=squatter, structure=squatted, service=None).status == "VALIDEE"
    # The former principal manager no longer administers the structure.
    assert squatted.pk not in access.structure_ids_for(squatter, ApplicationCode.ORGANISATION, 2)
    assert squatted.pk in access.structure_ids_for(claimant, ApplicationCode.ORGANISATION, 2)
    claim.refresh_from_db()
    assert claim.status == "ACCEPTEE"
    assert (claim.decided_by, claim.manager_at_decision) == (operator, squatter)
    [event] = AuditEvent.objects.order_by("pk")[before:]
    assert event.action == "structure_claim_accept"
    assert event.structure_id == squatted.pk
    assert event.changes["principal_manager"] == {"before": squatter.email, "after": claimant.email}
    by_recipient = {message.to[0]: message for message in mailoutbox}
    assert set(by_recipient) == {"gerante@exemple.fr", "usurpateur@exemple.fr"}
    assert "acceptée" in by_recipient["gerante@exemple.fr"].subject
    assert "Kbis vérifié." in by_recipient["gerante@exemple.fr"].body
    assert "Vous n’êtes plus gestionnaire principal" in by_recipient["usurpateur@exemple.fr"].subject
    # The claimant's explanation stays with the operators.
    assert "jamais travaillé" not in by_recipient["usurpateur@exemple.fr"].body


def test_rejecting_changes_nothing_but_the_claim_and_tells_both_parties(
    client, claim, operator, squatted, squatter, claimant, mailoutbox, django_capture_on_commit_callbacks
):
    client.force_login(operator)
    before = AuditEvent.objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        response = _decide(client, claim, "rejeter", comment="Justificatif illisible.")
    assert "Revendication rejetée" in response.content.decode()
    squatted.refresh_from_db()
    assert squatted.principal_manager == squatter
    assert not Membership.objects.filter(user=claimant).exists()
    claim.refresh_from_db()
    assert claim.status == "REJETEE"
    [event] = AuditEvent.objects.order_by("pk")[before:]
    assert event.action == "structure_claim_reject"
    by_recipient = {message.to[0]: message for message in mailoutbox}
    assert set(by_recipient) == {"gerante@exemple.fr", "usurpateur@exemple.fr"}
    assert "rejetée" in by_recipient["gerante@exemple.fr"].subject
    assert "Justificatif illisible." in by_recipient["gerante@exemple.fr"].body
    assert "gerante@exemple.fr" not in by_recipient["usurpateur@exemple.fr"].body


def test_a_claim_is_decided_once(client, claim, operator, squatted, claimant, mailoutbox):
    client.force_login(operator)
    _decide(client, claim, "rejeter")
    before = AuditEvent.objects.count()
    response = _decide(client, claim, "accepter")
    assert (
        "Cette revendication a déjà été traitée (rejetée) : rien n’a été modifié."
        in response.content.decode()
    )
    squatted.refresh_from_db()
    assert squatted.principal_manager != claimant
    assert AuditEvent.objects.count() == before
    with pytest.raises(claims.ClaimAlreadyDecided):
        claims.structure_claim_decide(claim_id=claim.pk, operator=operator, accept=True)


def test_a_decision_needs_a_choice(client, claim, operator):
    client.force_login(operator)
    response = _decide(client, claim, "")
    assert "Choisissez d’accepter ou de rejeter la revendication." in response.content.decode()
    claim.refresh_from_db()
    assert claim.status == "EN_ATTENTE"


def test_the_database_holds_one_pending_claim_per_claimant_and_dated_decisions(claim, operator):
    with pytest.raises(IntegrityError), transaction.atomic():
        StructureClaim.objects.create(
            structure=claim.structure, claimant=claim.claimant, explanation="Encore"
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        StructureClaim.objects.filter(pk=claim.pk).update(status="ACCEPTEE")
    StructureClaim.objects.filter(pk=claim.pk).update(
        status="REJETEE", decided_at=timezone.now(), decided_by=operator
    )
    # Once decided, the claimant may file a new one.
    StructureClaim.objects.create(
        structure=claim.structure, claimant=claim.claimant, explanation="Nouveaux éléments"
    )


def test_the_claim_page_in_the_admin_cannot_edit_add_or_delete(client, claim, operator):
    client.force_login(operator)
    change_url = reverse("admin:structures_structureclaim_change", args=[claim.pk])
    client.post(change_url, {"status": "ACCEPTEE", "explanation": "modifié"})
    claim.refresh_from_db()
    assert (claim.status, claim.explanation.startswith("Je suis")) == ("EN_ATTENTE", True)
    assert client.get(reverse("admin:structures_structureclaim_add")).status_code == 403
    assert client.get(reverse("admin:structures_structureclaim_delete", args=[claim.pk])).status_code == 403


@pytest.mark.django_db(transaction=True)
def test_ten_operators_deciding_one_claim_at_once_apply_one_decision(catalogue):
    if connection.vendor != "postgresql":
        pytest.skip(
            "Needs the PostgreSQL server (DATABASE_URL=postgres://…): SQLite serialises every writer."
        )
    from tests.security.test_concurrency import race

    squatter = factories.UserFactory(email="usurpateur@exemple.fr")
    structure = factories.StructureFactory(with_principal_manager=squatter)
    claimant = factories.UserFactory(email="gerante@exemple.fr")
    filed = claims.structure_claim_file(
        claimant=claimant, structure=structure, explanation="Je suis la gérante."
    )
    operators = [factories.UserFactory(is_staff=True, is_superuser=True) for _index in range(10)]

    def decide(operator, accept):
        def attempt():
            try:
                claims.structure_claim_decide(claim_id=filed.pk, operator=operator, accept=accept)
            except claims.ClaimAlreadyDecided:
                return "refused"
            return "applied"

        return attempt

    results = race([decide(operator, index % 2 == 0) for index, operator in enumerate(operators)])
    assert sorted(results) == ["applied"] + ["refused"] * 9
    filed.refresh_from_db()
    structure.refresh_from_db()
    expected_manager = claimant if filed.status == "ACCEPTEE" else squatter
    assert structure.principal_manager == expected_manager
    assert (
        AuditEvent.objects.filter(action__startswith="structure_claim_", object_id=str(filed.pk)).count() == 2
    )
    assert Membership.objects.filter(user=claimant, structure=structure).count() == (
        1 if filed.status == "ACCEPTEE" else 0
    )
    assert audit.verify().intact
