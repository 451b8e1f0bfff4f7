"""Hostile uploads on every upload of the portal (structure attachments, bank-detail
proofs, ticket attachments when creating a ticket and when answering one): polyglot and
disguised files, markup, oversized, empty, hostile names, too many files. Each is
refused on the form with a French message, nothing stored (no row, no file) and never a
500; an accepted file is stored under a random name and downloaded as an attachment,
by authorized users only."""

import re
from urllib.parse import quote

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from core import kept_uploads, uploads
from structures.models import Attachment, BankAccount
from support.models import Ticket, TicketAttachment, TicketEvent
from tests import factories
from tests.security import fuzz_uploads as hostile
from tests.support.test_tickets import make_ticket, submit_data

IBAN_DATA = {
    "name": "IBAN test",
    "kind": "IBAN",
    "country": "FR",
    "iban": "FR76 3000 6000 0112 3456 7890 189",
    "bic": "BNPAFRPP",
}
ALL_FORMATS, PDF_ONLY = "all", "pdf"


class Target:
    """One upload form: where it posts, what else it needs, where its files go."""

    def __init__(self, name, *, url, fields, file_field, kind, folder, success_status=302):
        self.name, self.url, self.fields, self.file_field = name, url, fields, file_field
        self.kind, self.folder, self.success_status = kind, folder, success_status


def _targets(structure, user):
    ticket = make_ticket(user, Ticket.Status.EN_ATTENTE_INFORMATION, structure=structure)
    return {
        "attachment": Target(
            "attachment",
            url=reverse("structures:attachment_create"),
            fields={"structure": structure.pk},
            file_field="files",
            kind=ALL_FORMATS,
            folder="attachments",
        ),
        "bank_proof": Target(
            "bank_proof",
            url=reverse("structures:bank_create"),
            fields={**IBAN_DATA, "structure": structure.pk},
            file_field="proof",
            kind=PDF_ONLY,
            folder="bank-proofs",
        ),
        "ticket": Target(
            "ticket",
            url=reverse("support:ticket_create"),
            fields=submit_data(structure=structure.pk),
            file_field="files",
            kind=ALL_FORMATS,
            folder="tickets",
        ),
        "ticket_answer": Target(
            "ticket_answer",
            url=reverse("support:ticket_answer", args=[ticket.pk]),
            fields={"message": "Voici la pièce demandée."},
            file_field="files",
            kind=ALL_FORMATS,
            folder="tickets",
        ),
    }


TARGETS = ["attachment", "bank_proof", "ticket", "ticket_answer"]


def _stored_files(folder=""):
    directories, files = default_storage.listdir(folder)
    found = {f"{folder}/{name}".lstrip("/") for name in files}
    for directory in directories:
        found |= _stored_files(f"{folder}/{directory}".lstrip("/"))
    return found


def _state():
    return {
        "attachments": Attachment.objects.count(),
        "bank_accounts": BankAccount.objects.count(),
        "tickets": Ticket.objects.count(),
        "ticket_attachments": TicketAttachment.objects.count(),
        "ticket_events": TicketEvent.objects.count(),
        "files": _stored_files(),
    }


def _post(client, target, files, **extra_fields):
    body = hostile.multipart({**target.fields, **extra_fields}, files)
    return client.generic("POST", target.url, body, content_type=hostile.CONTENT_TYPE)


def _file_errors(response, target):
    assert response.status_code == 200, response.status_code
    form = response.context["form"]
    return " ".join(form.errors.get(target.file_field, []))


@pytest.fixture
def uploader(client, structure, principal_manager):
    client.force_login(principal_manager)
    return _targets(structure, principal_manager)


@pytest.mark.parametrize("target_name", TARGETS)
@pytest.mark.parametrize("case", hostile.hostile_files(), ids=[case[0] for case in hostile.hostile_files()])
def test_hostile_file_is_refused_with_a_french_message_and_nothing_stored(
    client, uploader, target_name, case
):
    _id, name, content, content_type, message_all, message_pdf = case
    target = uploader[target_name]
    before = _state()
    response = _post(client, target, [(target.file_field, name, content, content_type)])
    errors = _file_errors(response, target)
    assert (message_pdf if target.kind == PDF_ONLY else message_all) in errors
    assert _state() == before


@pytest.mark.parametrize("target_name", TARGETS)
def test_file_just_over_the_limit_is_refused_and_not_kept_whole(client, uploader, target_name):
    target = uploader[target_name]
    before = _state()
    content = hostile.pdf() + b"%" * (uploads.MAX_UPLOAD_SIZE + 1 - len(hostile.pdf()))
    response = _post(client, target, [(target.file_field, "gros.pdf", content, "application/pdf")])
    assert "Le fichier dépasse 10 Mo." in _file_errors(response, target)
    assert _state() == before


def test_upload_handler_keeps_nothing_past_the_limit():
    handler = uploads.UploadLimitHandler()
    handler.new_file("files", "gros.pdf", "application/pdf", None)
    chunk = b"x" * (1024 * 1024)
    passed = [handler.receive_data_chunk(chunk, start) for start in range(0, 12 * len(chunk), len(chunk))]
    assert passed[:10] == [chunk] * 10
    assert passed[10:] == [None, None]  # the next handlers never see more than 10 Mo
    too_large = handler.file_complete(12 * len(chunk))
    assert too_large.size == 12 * len(chunk) and too_large.read() == b""


def test_file_at_the_limit_is_kept_by_the_next_handlers():
    handler = uploads.UploadLimitHandler()
    handler.new_file("files", "juste.pdf", "application/pdf", None)
    assert handler.receive_data_chunk(b"x" * uploads.MAX_UPLOAD_SIZE, 0) is not None
    assert handler.file_complete(uploads.MAX_UPLOAD_SIZE) is None


@pytest.mark.parametrize("target_name", TARGETS)
def test_request_body_past_the_limit_is_a_french_400_page_before_it_is_read(client, uploader, target_name):
    target = uploader[target_name]
    before = _state()
    body = hostile.multipart(target.fields, [(target.file_field, "f.pdf", hostile.pdf(), "application/pdf")])
    response = client.generic(
        "POST",
        target.url,
        body,
        content_type=hostile.CONTENT_TYPE,
        CONTENT_LENGTH=str(uploads.MAX_REQUEST_SIZE + 1),
    )
    assert response.status_code == 400
    assert "Requête refusée" in response.content.decode()
    assert "10 Mo au plus" in response.content.decode()
    assert _state() == before


@pytest.mark.parametrize("target_name", ["attachment", "ticket", "ticket_answer"])
def test_more_files_than_allowed_are_refused_on_the_form(client, uploader, target_name):
    target = uploader[target_name]
    before = _state()
    files = [(target.file_field, f"f{n}.pdf", hostile.pdf(), "application/pdf") for n in range(11)]
    response = _post(client, target, files)
    assert "10 fichiers au plus" in _file_errors(response, target)
    assert _state() == before


@pytest.mark.parametrize("target_name", TARGETS)
def test_many_small_files_at_once_are_a_french_400_page(client, uploader, target_name):
    target = uploader[target_name]
    before = _state()
    files = [(target.file_field, f"f{n}.txt", b"x", "text/plain") for n in range(200)]
    response = _post(client, target, files)
    assert response.status_code == 400
    assert "trop de fichiers" in response.content.decode()
    assert _state() == before


@pytest.mark.parametrize("target_name", ["attachment", "ticket", "ticket_answer"])
def test_one_hostile_file_among_good_ones_stores_none_of_them(client, uploader, target_name):
    target = uploader[target_name]
    before = _state()
    files = [
        (target.file_field, "bon.pdf", hostile.pdf(), "application/pdf"),
        (target.file_field, "scan.png", hostile.PNG + hostile.HTML, "image/png"),
    ]
    response = _post(client, target, files)
    assert "« scan.png » :" in _file_errors(response, target)
    after = _state()
    # A ticket keeps the good file for the form shown again (core.kept_uploads),
    # outside any ticket; the hostile one is stored nowhere.
    kept = {name for name in after["files"] - before["files"] if name.startswith(f"{kept_uploads.FOLDER}/")}
    assert len(kept) == (0 if target_name == "attachment" else 1)
    assert {name.rsplit(".", 1)[-1] for name in kept} <= {"pdf"}
    assert {**after, "files": after["files"] - kept} == before


def _stored(target_name):
    if target_name == "bank_proof":
        account = BankAccount.objects.get()
        return account.proof.name, account.proof_name, "application/pdf"
    model = Attachment if target_name == "attachment" else TicketAttachment
    row = model.objects.get()
    return row.file.name, row.original_name, row.content_type


@pytest.mark.parametrize("target_name", TARGETS)
@pytest.mark.parametrize(("sent", "kept"), hostile.HOSTILE_NAMES, ids=range(len(hostile.HOSTILE_NAMES)))
def test_hostile_name_is_cleaned_and_never_used_for_storage(client, uploader, target_name, sent, kept):
    target = uploader[target_name]
    files_before = _stored_files()
    response = _post(client, target, [(target.file_field, sent, hostile.pdf(), "text/html")])
    assert response.status_code == target.success_status, response.context and response.context["form"].errors
    stored_as, original_name, content_type = _stored(target_name)
    assert re.fullmatch(rf"{target.folder}/[0-9a-f]{{32}}(\.pdf)?", stored_as)
    assert original_name == kept
    # The declared type is ignored: the stored one comes from the checked content.
    assert content_type == "application/pdf"
    assert _stored_files() - files_before == {stored_as}


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("../../etc/passwd.pdf", "passwd.pdf"),
        ("/etc/passwd.pdf", "passwd.pdf"),
        ("..\\..\\boot.ini.pdf", "boot.ini.pdf"),
        ("fact\x00ure.pdf", "facture.pdf"),
        ("facture\u202egnp.pdf", "facturegnp.pdf"),
        ("\u200e\u200f\u2066facture\u2069.pdf", "facture.pdf"),
        ("\ufefffacture.pdf", "facture.pdf"),
        ("", "fichier"),
        ("\x00\x01", "fichier"),
    ],
)
def test_clean_file_name_drops_paths_and_invisible_characters(sent, kept):
    # Django's parser already cleans names; this is the second line, for every other caller.
    assert uploads.clean_file_name(sent) == kept


def test_validator_refuses_a_polyglot_even_without_the_form():
    upload = SimpleUploadedFile("facture.pdf", hostile.pdf() + hostile.HTML)
    with pytest.raises(uploads.ValidationError) as error:
        uploads.validate_upload(upload)
    assert error.value.code == "hostile"


@pytest.mark.parametrize(
    "content",
    [
        hostile.pdf(),
        b"Kilom\xe8tres parcourus : 42\r\n",
        # Past the part a browser sniffs, markup in a text file is just text.
        ("Journal de l’erreur\n" + "." * 1100 + "<script> cité.").encode(),
    ],
)
def test_ordinary_files_are_still_accepted(content):
    name = "document.pdf" if content.startswith(b"%PDF") else "notes.txt"
    assert uploads.validate_upload(SimpleUploadedFile(name, content)).size == len(content)


def test_markup_bytes_inside_image_or_pdf_data_are_not_a_polyglot():
    # Compressed data may hold any bytes by chance: a genuine scan must not be refused.
    png = hostile.PNG[:-12] + b"\x00" * 2000 + b"<svg \x13<script>" + hostile.PNG[-12:]
    assert uploads.validate_upload(SimpleUploadedFile("scan.png", png)).extension == "png"
    pdf = hostile.pdf_with_page_content(b"% <html> <script> /JS\n")
    assert b"<html>" in pdf
    assert uploads.validate_upload(SimpleUploadedFile("scan.pdf", pdf)).extension == "pdf"


# PDFs: checked object by object, whatever the file's layout.

LEGITIMATE_PDFS = hostile.legitimate_pdfs()


@pytest.mark.parametrize("target_name", TARGETS)
@pytest.mark.parametrize(
    ("kind", "content"), LEGITIMATE_PDFS, ids=[kind for kind, _content in LEGITIMATE_PDFS]
)
def test_pdfs_people_really_send_are_accepted_and_stored(client, uploader, target_name, kind, content):
    target = uploader[target_name]
    response = _post(client, target, [(target.file_field, "releve.pdf", content, "application/pdf")])
    assert response.status_code == target.success_status, response.context and response.context["form"].errors
    stored_as, _name, content_type = _stored(target_name)
    assert content_type == "application/pdf"
    with default_storage.open(stored_as) as stored:
        assert stored.read() == content


# All but the object no cross-reference lists, which only a raw reading finds.
HOSTILE_PDFS = [
    case for case in hostile.hostile_pdfs() if case[0] != "pdf-javascript-unlisted-in-object-stream"
]


@pytest.mark.parametrize(("kind", "content"), HOSTILE_PDFS, ids=[kind for kind, _content in HOSTILE_PDFS])
def test_reading_the_pdf_object_by_object_alone_refuses_each_hostile_pdf(monkeypatch, kind, content):
    # The raw reading of names (outside streams, in object streams) is a second line:
    # without it, the parsed objects alone must be enough.
    monkeypatch.setattr(uploads, "_pdf_names_active", lambda data: False)
    with pytest.raises(uploads.ValidationError) as error:
        uploads.validate_upload(SimpleUploadedFile("facture.pdf", content))
    assert error.value.code == "hostile"


@pytest.mark.parametrize("algorithm", ["AES-256", "RC4-128"])
def test_pdf_that_needs_a_password_to_open_is_refused_with_a_french_message(algorithm):
    upload = SimpleUploadedFile("releve.pdf", hostile.encrypted_with_password(algorithm))
    with pytest.raises(uploads.ValidationError) as error:
        uploads.validate_upload(upload)
    assert error.value.messages == [
        "Le PDF est protégé par un mot de passe : déposez une version non protégée."
    ]


def _truncated_object_stream():
    pdf = hostile.pdf_with({4: hostile.link(b"<< /S /GoTo /D [3 0 R /Fit] >>")})
    start = pdf.index(b"stream\n") + len(b"stream\n")
    return pdf[:start] + b"\x00" * 40 + pdf[start + 40 :]


@pytest.mark.parametrize(
    "content",
    [
        _truncated_object_stream(),
        # Nested deeper than any parser follows.
        hostile.raw_pdf(
            {
                1: hostile.CATALOG[:-2] + b" /X " + b"[" * 5000 + b"]" * 5000 + b" >>",
                2: hostile.PAGES,
                3: hostile.page(),
            }
        ),
        hostile.pdf()[:-200],
        b"%PDF-1.7\n" + b"\xff" * 500,
    ],
    ids=["garbled-object-stream", "deep-nesting", "truncated", "header-only"],
)
def test_pdf_the_parser_cannot_read_is_refused_as_not_a_valid_pdf(content):
    with pytest.raises(uploads.ValidationError) as error:
        uploads.validate_upload(SimpleUploadedFile("facture.pdf", content))
    assert error.value.messages == ["Le fichier n’est pas un PDF valide."]


def test_pdf_with_more_objects_than_can_be_checked_is_refused(monkeypatch):
    monkeypatch.setattr(uploads, "MAX_PDF_OBJECTS", 10)
    objects = {4 + n: b"<< /Index %d >>" % n for n in range(10)}
    content = hostile.pdf_with(objects, page_extra=b"")
    with pytest.raises(uploads.ValidationError) as error:
        uploads.validate_upload(SimpleUploadedFile("facture.pdf", content))
    assert error.value.code == "pdf_too_complex"
    assert "Le PDF contient trop d’objets pour être vérifié" in error.value.messages[0]
    monkeypatch.setattr(uploads, "MAX_PDF_OBJECTS", 20)
    assert uploads.validate_upload(SimpleUploadedFile("facture.pdf", content)).extension == "pdf"


# Downloads: only to authorized users, as attachments, never sniffed.

UNICODE_NAME = "Relevé \U0001f4c4 été.pdf"


def _upload_and_url(client, uploader, target_name, staff=False):
    target = uploader[target_name]
    response = _post(client, target, [(target.file_field, UNICODE_NAME, hostile.pdf(), "application/pdf")])
    assert response.status_code == 302
    if target_name == "attachment":
        return reverse("structures:attachment_download", args=[Attachment.objects.get().pk])
    if target_name == "bank_proof":
        return reverse("structures:bank_proof", args=[BankAccount.objects.get().pk])
    attachment = TicketAttachment.objects.get()
    name = "support:agent_attachment" if staff else "support:ticket_attachment"
    return reverse(name, args=[attachment.ticket_id, attachment.pk])


def _assert_safe_download(response):
    assert response.status_code == 200
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert f"filename*=utf-8''{quote(UNICODE_NAME)}" in disposition
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content).startswith(b"%PDF")


@pytest.mark.parametrize("target_name", TARGETS)
def test_download_is_an_attachment_with_an_encoded_name_for_authorized_users_only(
    client, uploader, target_name, other_structure_user
):
    url = _upload_and_url(client, uploader, target_name)
    _assert_safe_download(client.get(url))
    client.force_login(other_structure_user)
    assert client.get(url).status_code == 404
    client.logout()
    response = client.get(url)
    assert response.status_code == 302 and "/compte/" in response["Location"]


@pytest.mark.parametrize("target_name", ["ticket", "ticket_answer"])
def test_agent_downloads_a_ticket_file_safely(client, uploader, target_name, staff_user):
    url = _upload_and_url(client, uploader, target_name, staff=True)
    client.force_login(staff_user)
    _assert_safe_download(client.get(url))
    client.force_login(factories.UserFactory())
    assert client.get(url).status_code in (403, 404)
