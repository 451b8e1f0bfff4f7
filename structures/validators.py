"""The one upload validator, for bank-detail proofs and attachments.

A file is accepted when it is at most 10 MB, its extension is in the whitelist below
and its real content is of that type (read with `filetype`; a PDF must also start
with %PDF and parse with pypdf): a renamed file is refused, whatever the browser
claims. Accepted formats: PDF, PNG, JPG / JPEG, ODT, ODS, DOCX, XLSX and plain text
(TXT, UTF-8 or Windows-1252) — documents and scans people actually send, and nothing
that runs (no HTML, SVG, macros-enabled Office files or archives).

Names are kept at most 50 characters (the Chorus Pro limit), extension preserved.
"""

import re
import unicodedata
import warnings
import zipfile
from dataclasses import dataclass

import filetype
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# Settings-free on purpose: the limit is part of the product (Chorus Pro error 20003).
MAX_UPLOAD_SIZE = 10 * 1024 * 1024
MAX_NAME_LENGTH = 50

# Extension -> the content type stored and sent back on download.
CONTENT_TYPES = {
    "pdf": "application/pdf",
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "odt": "application/vnd.oasis.opendocument.text",
    "ods": "application/vnd.oasis.opendocument.spreadsheet",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "txt": "text/plain",
}
ATTACHMENT_EXTENSIONS = tuple(CONTENT_TYPES)
PDF_ONLY = ("pdf",)

# What `filetype` must recognise for each extension (None: no binary signature).
_DETECTED = {"jpeg": "jpg", "txt": None}
# Office files are zip archives: `filetype` reads only their first entries, so the
# archive itself confirms what it holds.
_ZIP_MARKERS = {
    "docx": ("word/document.xml", None),
    "xlsx": ("xl/workbook.xml", None),
    "odt": ("mimetype", CONTENT_TYPES["odt"]),
    "ods": ("mimetype", CONTENT_TYPES["ods"]),
}
_HEAD_SIZE = 8192
# Control characters a text file does not hold (tab, newlines and form feed are fine).
_TEXT_CONTROLS = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")


@dataclass(frozen=True)
class CheckedFile:
    """What the validator learnt about an accepted file."""

    name: str  # the user's name, cleaned and at most 50 characters
    extension: str
    content_type: str
    size: int


def file_extension(name: str) -> str:
    """The extension of a file name, lower case, without the dot ("" when none)."""
    _stem, dot, extension = (name or "").rpartition(".")
    return extension.lower() if dot else ""


def clean_file_name(name: str) -> str:
    """The name to keep and show: no folder, no control character, at most 50
    characters with the extension kept ("un nom très long….pdf")."""
    name = unicodedata.normalize("NFC", name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(char for char in name if unicodedata.category(char)[0] != "C").strip()
    if not name:
        name = "fichier"
    if len(name) <= MAX_NAME_LENGTH:
        return name
    stem, dot, extension = name.rpartition(".")
    if not dot or not stem or len(extension) >= MAX_NAME_LENGTH - 1:
        return name[:MAX_NAME_LENGTH]
    return f"{stem[: MAX_NAME_LENGTH - len(extension) - 1].rstrip()}.{extension}"


def formats_label(extensions) -> str:
    return ", ".join(extension.upper() for extension in extensions)


def validate_upload(uploaded, *, extensions=ATTACHMENT_EXTENSIONS) -> CheckedFile:
    """Check one uploaded file; raise ValidationError with a French message, or
    return what was found. The file is left at its start."""
    name = clean_file_name(uploaded.name)
    extension = file_extension(name)
    if uploaded.size > MAX_UPLOAD_SIZE:
        raise ValidationError(_("Le fichier dépasse 10 Mo."), code="too_large")
    if extension not in extensions:
        if tuple(extensions) == PDF_ONLY:
            raise ValidationError(_("Le fichier doit être un PDF (extension .pdf)."), code="extension")
        raise ValidationError(
            _("Ce type de fichier n’est pas accepté. Formats acceptés : %(formats)s."),
            code="extension",
            params={"formats": formats_label(extensions)},
        )
    if uploaded.size == 0:
        raise ValidationError(_("Le fichier est vide."), code="empty")
    try:
        _check_content(uploaded, extension)
    finally:
        uploaded.seek(0)
    return CheckedFile(
        name=name, extension=extension, content_type=CONTENT_TYPES[extension], size=uploaded.size
    )


def _mismatch(extension):
    if extension == "pdf":
        return ValidationError(_("Le fichier n’est pas un PDF valide."), code="invalid_pdf")
    return ValidationError(
        _("Le contenu du fichier ne correspond pas à son extension (.%(extension)s)."),
        code="content_mismatch",
        params={"extension": extension},
    )


def _check_content(uploaded, extension):
    uploaded.seek(0)
    head = uploaded.read(_HEAD_SIZE)
    detected = filetype.guess_extension(head)
    expected = _DETECTED.get(extension, extension)
    if extension in _ZIP_MARKERS:
        if detected not in (expected, "zip") or not _zip_holds(uploaded, *_ZIP_MARKERS[extension]):
            raise _mismatch(extension)
    elif detected != expected:
        raise _mismatch(extension)
    if extension == "pdf":
        _check_pdf(uploaded, head)
    elif extension == "txt":
        _check_text(uploaded)


def _zip_holds(uploaded, member, content):
    uploaded.seek(0)
    try:
        with zipfile.ZipFile(uploaded) as archive:
            if content is None:
                return member in archive.namelist()
            with archive.open(member) as entry:
                return entry.read(len(content) + 1).decode("ascii", "replace").strip() == content
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, EOFError):
        return False


def _check_pdf(uploaded, head):
    if not head.startswith(b"%PDF"):
        raise _mismatch("pdf")
    from pypdf import PdfReader

    uploaded.seek(0)
    try:
        # Untrusted input: any failure of the parser means "not a valid PDF", and
        # its warnings about a damaged file are not ours to raise.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            reader = PdfReader(uploaded, strict=False)
            if reader.is_encrypted and not reader.decrypt(""):
                raise ValidationError(
                    _("Le PDF est protégé par un mot de passe : déposez une version non protégée."),
                    code="encrypted_pdf",
                )
            if len(reader.pages) == 0:
                raise _mismatch("pdf")
    except ValidationError:
        raise
    except Exception as error:
        raise _mismatch("pdf") from error


def _check_text(uploaded):
    uploaded.seek(0)
    data = uploaded.read()
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if not _TEXT_CONTROLS.search(text):
            return
        break
    raise ValidationError(
        _("Le fichier n’est pas un texte lisible (UTF-8 ou Windows-1252)."), code="invalid_text"
    )
