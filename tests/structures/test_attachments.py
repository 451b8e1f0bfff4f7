"""Pièces jointes: upload (one or several files, all or nothing, content checked),
list, download and deletion, with the permission matrix of every view; and the upload
validator itself."""

import zipfile
from io import BytesIO

import pytest
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import Workbook
from pypdf import PdfWriter

from chorus.models import AuditEvent
from core import uploads
from core.uploads import clean_file_name, validate_upload
from structures.models import Attachment, Structure
from tests import factories
from tests.security import fuzz_uploads as hostile

CREATE_URL = "/organisation/structure/pieces-jointes/nouvelle/"
LIST_URL = "/organisation/structure/pieces-jointes/"
NOTICE = "Les pièces jointes sont visibles par tous les utilisateurs de la structure."
INACTIVE = "Cette structure n’est pas active"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 64


def _login(client, user):
    client.force_login(user)
    return client


def _messages(response):
    return [str(message) for message in response.context["messages"]]


def _pdf_bytes():
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    buffer = BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def _pdf(name="document.pdf"):
    return SimpleUploadedFile(name, _pdf_bytes(), content_type="application/pdf")


def _xlsx(name="tableau.xlsx"):
    workbook = Workbook()
    workbook.active["A1"] = "Kilomètres"
    buffer = BytesIO()
    workbook.save(buffer)
    return SimpleUploadedFile(name, buffer.getvalue())


def _zip(entries, name):
    buffer = BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for entry, content in entries:
            compression = zipfile.ZIP_STORED if entry == "mimetype" else zipfile.ZIP_DEFLATED
            archive.writestr(entry, content, compress_type=compression)
    return SimpleUploadedFile(name, buffer.getvalue())


def _odt(name="lettre.odt"):
    return _zip(
        [("mimetype", "application/vnd.oasis.opendocument.text"), ("content.xml", "<office:document/>")], name
    )


def _docx(name="courrier.docx"):
    return _zip(
        [
            ("[Content_Types].xml", "<Types/>"),
            ("_rels/.rels", "<Relationships/>"),
            ("word/document.xml", "<w/>"),
        ],
        name,
    )


def _errors(response):
    return response.context["form"].errors


@pytest.fixture
def attachment(structure, principal_manager):
    return factories.AttachmentFactory(
        structure=structure, original_name="carte grise.pdf", uploaded_by=principal_manager
    )


def _url(name, attachment):
    return reverse(f"structures:{name}", args=[attachment.pk])


def test_urls_are_french_and_named():
    assert reverse("structures:attachment_create") == CREATE_URL
    assert reverse("structures:attachment_list") == LIST_URL
    assert reverse("structures:attachment_download", args=[3]) == f"{LIST_URL}3/telecharger/"
    assert reverse("structures:attachment_delete", args=[3]) == f"{LIST_URL}3/supprimer/"


# Créer une pièce jointe


def test_principal_manager_uploads_an_attachment(client, structure, principal_manager):
    _login(client, principal_manager)
    response = client.post(CREATE_URL, {"structure": structure.pk, "files": _pdf("carte grise.pdf")})

    assert response.status_code == 302
    assert response.url == f"{LIST_URL}?structure={structure.pk}"
    attachment = Attachment.objects.get()
    assert attachment.structure == structure
    assert attachment.original_name == "carte grise.pdf"
    assert attachment.content_type == "application/pdf"
    assert attachment.size == len(_pdf_bytes())
    assert attachment.uploaded_by == principal_manager
    assert attachment.file.name.startswith("attachments/")
    assert attachment.file.name.endswith(".pdf")
    assert "carte" not in attachment.file.name
    assert default_storage.exists(attachment.file.name)
    event = AuditEvent.objects.get(action="attachment_create")
    assert event.actor == principal_manager
    assert event.structure == structure
    assert event.changes["name"] == "carte grise.pdf"
    follow = client.get(response.url)
    assert "La pièce jointe « carte grise.pdf » a été déposée." in _messages(follow)


def test_delegate_uploads_several_files_of_every_accepted_kind(client, structure, delegate):
    files = [
        _pdf("a.pdf"),
        SimpleUploadedFile("photo.png", PNG),
        SimpleUploadedFile("scan.JPEG", b"\xff\xd8\xff\xe0" + b"\x00" * 64),
        SimpleUploadedFile("notes.txt", "Kilométrage : 1 200 km\n".encode()),
        SimpleUploadedFile("ancien.txt", "Dépôt".encode("cp1252")),
        _xlsx(),
        _odt(),
        _docx(),
    ]
    _login(client, delegate)
    response = client.post(CREATE_URL, {"structure": structure.pk, "files": files})

    assert response.status_code == 302
    kinds = dict(Attachment.objects.values_list("original_name", "content_type"))
    assert kinds == {
        "a.pdf": "application/pdf",
        "photo.png": "image/png",
        "scan.JPEG": "image/jpeg",
        "notes.txt": "text/plain",
        "ancien.txt": "text/plain",
        "tableau.xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "lettre.odt": "application/vnd.oasis.opendocument.text",
        "courrier.docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    }
    assert AuditEvent.objects.filter(action="attachment_create").count() == 8
    assert "Les pièces jointes" in _messages(client.get(response.url))[0]


def test_one_invalid_file_among_several_saves_none_and_names_it(client, structure, principal_manager):
    _login(client, principal_manager)
    files = [_pdf("bon.pdf"), SimpleUploadedFile("faux.pdf", PNG), SimpleUploadedFile("notes.txt", b"ok")]
    response = client.post(CREATE_URL, {"structure": structure.pk, "files": files})

    assert response.status_code == 200
    assert _errors(response)["files"] == ["« faux.pdf » : Le fichier n’est pas un PDF valide."]
    assert "« faux.pdf » : Le fichier n’est pas un PDF valide." in response.content.decode()
    assert not Attachment.objects.exists()
    assert not AuditEvent.objects.filter(action="attachment_create").exists()


def test_file_over_10_mb_is_refused(client, structure, principal_manager):
    _login(client, principal_manager)
    big = SimpleUploadedFile("gros.txt", b"a" * (12 * 1024 * 1024))
    response = client.post(CREATE_URL, {"structure": structure.pk, "files": big})

    assert _errors(response)["files"] == ["« gros.txt » : Le fichier dépasse 10 Mo."]
    assert not Attachment.objects.exists()


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("photo.pdf", PNG, "Le fichier n’est pas un PDF valide."),
        ("photo.jpg", PNG, "Le contenu du fichier ne correspond pas à son extension (.jpg)."),
        ("texte.txt", _pdf_bytes(), "Le contenu du fichier ne correspond pas à son extension (.txt)."),
        (
            "binaire.txt",
            b"\x00\x01\x02 texte",
            "Le fichier n’est pas un texte lisible (UTF-8 ou Windows-1252).",
        ),
        (
            "archive.docx",
            b"PK\x03\x04" + b"\x00" * 40,
            "Le contenu du fichier ne correspond pas à son extension (.docx).",
        ),
        ("page.html", b"<script>alert(1)</script>", "Ce type de fichier n’est pas accepté."),
        ("programme.exe", b"MZ\x90\x00", "Ce type de fichier n’est pas accepté."),
        ("sans-extension", b"bonjour", "Ce type de fichier n’est pas accepté."),
        ("vide.txt", b"", "Le fichier est vide."),
    ],
)
def test_file_whose_content_does_not_match_is_refused(
    client, structure, principal_manager, name, content, message
):
    _login(client, principal_manager)
    response = client.post(
        CREATE_URL, {"structure": structure.pk, "files": SimpleUploadedFile(name, content)}
    )

    assert response.status_code == 200
    [error] = _errors(response)["files"]
    assert error.startswith(f"« {name} » : {message}")
    assert not Attachment.objects.exists()


def test_refused_extension_lists_the_accepted_formats(client, structure, principal_manager):
    _login(client, principal_manager)
    response = client.post(
        CREATE_URL, {"structure": structure.pk, "files": SimpleUploadedFile("a.svg", b"<svg/>")}
    )

    assert _errors(response)["files"] == [
        "« a.svg » : Ce type de fichier n’est pas accepté. "
        "Formats acceptés : PDF, PNG, JPG, JPEG, ODT, ODS, DOCX, XLSX, TXT."
    ]


def test_long_names_are_cut_to_50_characters_keeping_the_extension(client, structure, principal_manager):
    _login(client, principal_manager)
    name = "certificat d'immatriculation du véhicule de service " * 3 + ".pdf"
    client.post(CREATE_URL, {"structure": structure.pk, "files": _pdf(name)})

    original_name = Attachment.objects.get().original_name
    assert len(original_name) == 50
    assert original_name.startswith("certificat d'immatriculation")
    assert original_name.endswith(".pdf")


def test_no_file_is_refused(client, structure, principal_manager):
    _login(client, principal_manager)
    response = client.post(CREATE_URL, {"structure": structure.pk})

    assert _errors(response)["files"] == ["Choisissez au moins un fichier."]
    assert not Attachment.objects.exists()


def test_another_structures_id_posted_is_an_invalid_choice(client, structure, principal_manager):
    other = factories.StructureFactory(company_name="Autre structure")
    _login(client, principal_manager)
    response = client.post(CREATE_URL, {"structure": other.pk, "files": _pdf()})

    assert _errors(response)["structure"] == [
        "Sélectionnez un choix valide. Ce choix ne fait pas partie de ceux disponibles."
    ]
    assert not Attachment.objects.exists()


def test_attachment_for_an_inactive_structure_is_refused(client, structure, principal_manager):
    Structure.objects.filter(pk=structure.pk).update(status=Structure.Status.INACTIVE)
    _login(client, principal_manager)
    response = client.post(CREATE_URL, {"structure": structure.pk, "files": _pdf()})

    [error] = _errors(response)["structure"]
    assert error.startswith(INACTIVE)
    assert "Activez-la d’abord (Gérer une structure › Activer une structure)." in error
    assert not Attachment.objects.exists()


def test_create_form_says_every_user_of_the_structure_sees_attachments(client, structure, principal_manager):
    _login(client, principal_manager)
    response = client.get(CREATE_URL)

    content = response.content.decode()
    assert NOTICE in content
    assert 'type="file"' in content and "multiple" in content
    assert 'enctype="multipart/form-data"' in content
    assert "data-warn-unsaved" in content and "Soumettre" in content
    assert response.context["form"]["structure"].value() == structure.pk


def test_create_link_preselects_the_structure(client, structure, principal_manager):
    second = factories.StructureFactory(company_name="Seconde")
    factories.attach(principal_manager, second)
    _login(client, principal_manager)
    response = client.get(CREATE_URL, {"structure": second.pk})

    assert response.context["form"]["structure"].value() == second.pk


# Permission matrix of every view


def test_anonymous_visitor_is_sent_to_login(client, attachment):
    for url in [
        CREATE_URL,
        LIST_URL,
        _url("attachment_download", attachment),
        _url("attachment_delete", attachment),
    ]:
        response = client.get(url)
        assert response.status_code == 302
        assert response.url.startswith("/compte/connexion/")
    client.post(_url("attachment_delete", attachment), {"answer": "oui"})
    assert Attachment.objects.filter(pk=attachment.pk).exists()


def test_consultation_user_lists_and_downloads_but_cannot_upload_nor_delete(
    client, structure, consultation_user, attachment
):
    _login(client, consultation_user)
    assert client.get(CREATE_URL).status_code == 403
    assert client.post(CREATE_URL, {"structure": structure.pk, "files": _pdf()}).status_code == 403
    listing = client.get(LIST_URL)
    assert listing.status_code == 200
    assert _url("attachment_delete", attachment) not in listing.content.decode()
    assert client.get(_url("attachment_download", attachment)).status_code == 200
    assert client.get(_url("attachment_delete", attachment)).status_code == 403
    assert client.post(_url("attachment_delete", attachment), {"answer": "oui"}).status_code == 403
    assert Attachment.objects.count() == 1


@pytest.mark.parametrize("persona", ["principal_manager", "delegate"])
def test_managers_open_every_view(client, request, attachment, persona):
    _login(client, request.getfixturevalue(persona))
    assert client.get(CREATE_URL).status_code == 200
    listing = client.get(LIST_URL)
    assert listing.status_code == 200
    assert _url("attachment_delete", attachment) in listing.content.decode()
    assert client.get(_url("attachment_download", attachment)).status_code == 200
    assert client.get(_url("attachment_delete", attachment)).status_code == 200


def test_other_structure_user_gets_404(client, structure, other_structure_user, attachment):
    _login(client, other_structure_user)
    assert client.get(_url("attachment_download", attachment)).status_code == 404
    assert client.get(_url("attachment_delete", attachment)).status_code == 404
    assert client.post(_url("attachment_delete", attachment), {"answer": "oui"}).status_code == 404
    assert client.get(LIST_URL, {"structure": structure.pk}).status_code == 404
    assert Attachment.objects.filter(pk=attachment.pk).exists()


# List and download


def test_list_shows_name_type_size_uploader_and_date(client, structure, consultation_user, principal_manager):
    factories.AttachmentFactory(
        structure=structure, original_name="carte grise.pdf", uploaded_by=principal_manager
    )
    factories.AttachmentFactory(
        structure=structure, original_name="tableau.xlsx", size=1536, content_type="x"
    )
    factories.AttachmentFactory(structure=structure, original_name="scan.png", size=int(2.5 * 1024 * 1024))
    factories.AttachmentFactory(original_name="ailleurs.pdf")
    _login(client, consultation_user)
    response = client.get(LIST_URL, {"structure": structure.pk})

    content = response.content.decode()
    assert len(response.context["page_obj"]) == 3
    assert "carte grise.pdf" in content and "ailleurs.pdf" not in content
    assert "1,5 Ko" in content
    assert "2,5 Mo" in content
    assert "XLSX" in content and "PNG" in content
    assert principal_manager.get_full_name() in content
    assert NOTICE in content


def _list_queries(client, structure):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(LIST_URL, {"structure": structure.pk})
    assert response.status_code == 200
    return len(queries)


def test_list_query_count_does_not_grow_with_rows(
    client, structure, principal_manager, django_assert_max_num_queries
):
    factories.AttachmentFactory(structure=structure, uploaded_by=principal_manager)
    _login(client, principal_manager)
    with django_assert_max_num_queries(12):
        one = _list_queries(client, structure)
    uploaders = factories.UserFactory.create_batch(5)
    for index in range(99):
        factories.AttachmentFactory(structure=structure, uploaded_by=uploaders[index % 5])
    with django_assert_max_num_queries(12):
        hundred = _list_queries(client, structure)
    assert one == hundred


def test_download_is_an_attachment_with_the_original_name(client, consultation_user, attachment):
    _login(client, consultation_user)
    response = client.get(_url("attachment_download", attachment))

    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["Content-Disposition"] == 'attachment; filename="carte grise.pdf"'
    assert response["Content-Type"] == "application/pdf"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content).startswith(b"%PDF")


def test_download_of_a_text_file_is_not_shown_inline(client, structure, principal_manager):
    _login(client, principal_manager)
    client.post(
        CREATE_URL, {"structure": structure.pk, "files": SimpleUploadedFile("a.txt", b"<b>hello</b>")}
    )
    attachment = Attachment.objects.get()
    response = client.get(_url("attachment_download", attachment))

    assert response["Content-Disposition"].startswith("attachment;")
    assert response["Content-Type"] == "text/plain"
    assert "sandbox" in response["Content-Security-Policy"]


# Delete


def test_principal_manager_deletes_an_attachment_after_confirming(
    client, principal_manager, attachment, django_capture_on_commit_callbacks
):
    stored = attachment.file.name
    _login(client, principal_manager)
    page = client.get(_url("attachment_delete", attachment))
    assert "Voulez-vous supprimer la pièce jointe « carte grise.pdf » ?" in page.content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(_url("attachment_delete", attachment), {"answer": "oui"})

    assert response.status_code == 302
    assert response.url == f"{LIST_URL}?structure={attachment.structure_id}"
    assert not Attachment.objects.exists()
    assert not default_storage.exists(stored)
    event = AuditEvent.objects.get(action="attachment_delete")
    assert event.actor == principal_manager
    assert event.structure == attachment.structure
    assert event.changes["name"] == "carte grise.pdf"
    assert "La pièce jointe « carte grise.pdf » a été supprimée." in _messages(client.get(response.url))


def test_answering_no_keeps_the_attachment(client, principal_manager, attachment):
    _login(client, principal_manager)
    response = client.post(_url("attachment_delete", attachment), {"answer": "non"})

    assert response.status_code == 302
    assert Attachment.objects.filter(pk=attachment.pk).exists()
    assert default_storage.exists(attachment.file.name)
    assert not AuditEvent.objects.filter(action="attachment_delete").exists()


def test_stored_file_shared_by_another_attachment_is_kept(
    client, principal_manager, attachment, django_capture_on_commit_callbacks
):
    twin = Attachment.objects.create(
        structure=factories.StructureFactory(),
        file=attachment.file.name,
        original_name=attachment.original_name,
        content_type=attachment.content_type,
        size=attachment.size,
    )
    _login(client, principal_manager)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(_url("attachment_delete", attachment), {"answer": "oui"})

    assert default_storage.exists(twin.file.name)


def test_attachment_of_an_inactive_structure_cannot_be_deleted(
    client, structure, principal_manager, attachment
):
    Structure.objects.filter(pk=structure.pk).update(status=Structure.Status.INACTIVE)
    _login(client, principal_manager)
    response = client.post(_url("attachment_delete", attachment), {"answer": "oui"})

    assert response.status_code == 200
    assert INACTIVE in response.content.decode()
    assert Attachment.objects.filter(pk=attachment.pk).exists()
    # Its history stays readable.
    assert client.get(_url("attachment_download", attachment)).status_code == 200


# The validator


def _validate(name, content, **kwargs):
    return validate_upload(SimpleUploadedFile(name, content), **kwargs)


def test_validator_reports_what_it_found_and_rewinds_the_file():
    uploaded = SimpleUploadedFile("Carte Grise.PDF", _pdf_bytes())
    checked = validate_upload(uploaded)

    assert (checked.name, checked.extension, checked.content_type) == (
        "Carte Grise.PDF",
        "pdf",
        "application/pdf",
    )
    assert uploaded.tell() == 0


def test_validator_accepts_exactly_10_mb():
    checked = _validate("limite.txt", b"a" * (10 * 1024 * 1024))
    assert checked.size == 10 * 1024 * 1024


def test_validator_refuses_an_encrypted_pdf():
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    writer.encrypt(user_password="secret", owner_password="secret", algorithm="RC4-128")
    buffer = BytesIO()
    writer.write(buffer)
    with pytest.raises(ValidationError) as error:
        _validate("protégé.pdf", buffer.getvalue())
    assert error.value.messages == [
        "Le PDF est protégé par un mot de passe : déposez une version non protégée."
    ]


def test_validator_limited_to_pdf_refuses_other_formats():
    with pytest.raises(ValidationError) as error:
        _validate("photo.png", PNG, extensions=("pdf",))
    assert error.value.messages == ["Le fichier doit être un PDF (extension .pdf)."]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("rapport.pdf", "rapport.pdf"),
        ("C:\\Users\\marie\\rapport.pdf", "rapport.pdf"),
        ("../../etc/passwd.txt", "passwd.txt"),
        ("a\x00b\nc.pdf", "abc.pdf"),
        ("   ", "fichier"),
        ("x" * 60 + ".xlsx", "x" * 45 + ".xlsx"),
        ("y" * 60, "y" * 50),
    ],
)
def test_file_names_are_cleaned_and_kept_at_most_50_characters(name, expected):
    assert clean_file_name(name) == expected


# Back-office


@pytest.fixture
def operator_client(client, db):
    client.force_login(
        factories.UserFactory(email="exploitation@exemple.fr", is_staff=True, is_superuser=True)
    )
    return client


def test_operator_reads_and_deletes_an_attachment_in_the_admin_with_an_audit(
    operator_client, attachment, django_capture_on_commit_callbacks
):
    assert operator_client.get(reverse("admin:structures_attachment_changelist")).status_code == 200
    assert (
        operator_client.get(reverse("admin:structures_attachment_change", args=[attachment.pk])).status_code
        == 200
    )
    assert operator_client.get(reverse("admin:structures_attachment_add")).status_code == 403
    with django_capture_on_commit_callbacks(execute=True):
        response = operator_client.post(
            reverse("admin:structures_attachment_delete", args=[attachment.pk]), {"post": "yes"}
        )

    assert response.status_code == 302
    assert not Attachment.objects.exists()
    assert not default_storage.exists(attachment.file.name)
    assert AuditEvent.objects.filter(action="attachment_delete", object_repr="carte grise.pdf").exists()


# Office files: inflated for real, counted, never trusted on what their headers claim.


def _office_parts(*parts):
    return [("[Content_Types].xml", "<Types/>"), ("word/document.xml", "<w/>"), *parts]


def test_office_file_with_one_part_inflating_past_the_limit_is_refused(monkeypatch):
    monkeypatch.setattr(uploads, "MAX_UNZIPPED_SIZE", 64 * 1024)
    bomb = hostile.zip_with_lying_sizes(
        _office_parts(), inflated_member="word/media/image1.bmp", inflated_size=64 * 1024 + 1
    )
    with pytest.raises(ValidationError) as error:
        _validate("courrier.docx", bomb)
    assert error.value.messages == ["Le fichier dépasse 100 Mo une fois décompressé : il est refusé."]


def test_office_file_whose_parts_together_inflate_past_the_limit_is_refused(monkeypatch):
    monkeypatch.setattr(uploads, "MAX_UNZIPPED_SIZE", 64 * 1024)
    # Each part is under the limit, and each declares its true size.
    parts = [(f"word/media/image{n}.bmp", b"\0" * 20 * 1024) for n in range(4)]
    with pytest.raises(ValidationError) as error:
        _validate("courrier.docx", _zip(_office_parts(*parts), "courrier.docx").read())
    assert error.value.code == "too_large_unzipped"


def test_office_file_at_the_limit_is_accepted(monkeypatch):
    monkeypatch.setattr(uploads, "MAX_UNZIPPED_SIZE", 64 * 1024)
    parts = _office_parts()
    filler = 64 * 1024 - sum(len(content) for _name, content in parts)
    archive = _zip([*parts, ("word/media/image1.bmp", b"\0" * filler)], "courrier.docx").read()
    assert _validate("courrier.docx", archive).extension == "docx"


def test_office_file_claiming_more_than_it_holds_is_refused():
    parts = _office_parts()
    archive = bytearray(_zip(parts, "courrier.docx").read())
    # The central directory's uncompressed size of the last part, doubled.
    central = archive.rfind(b"PK\x01\x02")
    size = int.from_bytes(archive[central + 24 : central + 28], "little")
    archive[central + 24 : central + 28] = (size * 2).to_bytes(4, "little")
    with pytest.raises(ValidationError) as error:
        _validate("courrier.docx", bytes(archive))
    assert error.value.code == "hostile"


def test_office_file_with_as_many_parts_as_allowed_is_accepted_one_more_is_refused():
    extra = uploads.MAX_ZIP_MEMBERS - len(hostile.DOCX_PARTS)
    assert _validate("rapport.docx", hostile.docx_with_many_members(extra)).extension == "docx"
    with pytest.raises(ValidationError) as error:
        _validate("rapport.docx", hostile.docx_with_many_members(extra + 1))
    assert error.value.messages == ["Le fichier contient trop d’éléments (plus de 1000) : il est refusé."]


def test_real_office_files_are_accepted():
    workbook = Workbook()
    for n in range(5):
        sheet = workbook.create_sheet(f"Feuille {n}")
        for row in range(1, 2001):
            sheet.append([row, f"Kilomètres parcourus {row}", row * 0.42])
    buffer = BytesIO()
    workbook.save(buffer)
    assert _validate("frais.xlsx", buffer.getvalue()).extension == "xlsx"
    assert _validate("lettre.odt", _odt().read()).extension == "odt"
    assert _validate("courrier.docx", _docx().read()).extension == "docx"
