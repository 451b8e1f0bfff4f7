"""The one upload validator, for bank-detail proofs and attachments.

A file is accepted when it is at most 10 MB, its extension is in the whitelist below
and its real content is of that type (read with `filetype`; a PDF must also start
with %PDF and parse with pypdf): a renamed file is refused, whatever the browser
claims. Accepted formats: PDF, PNG, JPG / JPEG, ODT, ODS, DOCX, XLSX and plain text
(TXT, UTF-8 or Windows-1252) — documents and scans people actually send, and nothing
that runs (no HTML, SVG, macros-enabled Office files or archives).

Names are kept at most 50 characters (the Chorus Pro limit), extension preserved.

Hostile files are refused too: a polyglot (a PDF, image or text that is also a web page
or a zip archive); a PDF that runs JavaScript, launches a program, submits or imports
data, opens another document or carries a file, wherever it hides it (every object is
read with pypdf: object streams, escaped names, incremental updates, objects nothing
refers to); an Office file with macros, with too many parts, or that inflates past
100 MB (counted on the bytes really inflated, not on the sizes the archive declares).
`UploadLimitHandler` bounds what a request may send before any of this runs.
"""

import copy
import io
import re
import sys
import unicodedata
import warnings
import zipfile
import zlib
from dataclasses import dataclass

import filetype
from django.core.exceptions import RequestDataTooBig, ValidationError
from django.core.files.uploadedfile import InMemoryUploadedFile
from django.core.files.uploadhandler import FileUploadHandler
from django.utils.translation import gettext_lazy as _

# Settings-free on purpose: the limit is part of the product (Chorus Pro error 20003).
MAX_UPLOAD_SIZE = 10 * 1024 * 1024
MAX_NAME_LENGTH = 50
# Files one form takes at once, and so the largest request body an upload may be.
MAX_FILES = 10
MAX_REQUEST_SIZE = MAX_FILES * MAX_UPLOAD_SIZE + 1024 * 1024
# An Office file whose content inflates past this, in all or in one part, is refused (a
# "zip bomb"): counted on the bytes really inflated, never on the sizes the archive claims.
MAX_UNZIPPED_SIZE = 100 * 1024 * 1024
# Parts of one Office file: a long report with many images holds a few hundred.
MAX_ZIP_MEMBERS = 1000

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
# Markup a browser would run if it ever took the file for a web page.
_ACTIVE_MARKUP = re.compile(
    rb"<(?:script|html|svg|iframe|object|embed|body)(?![a-z])|<!doctype\s+html|javascript:",
    re.IGNORECASE,
)
# PDF names that run something (scripts, programs, XFA forms), send or fetch data
# elsewhere (forms submitted or imported, other documents opened), or carry a file
# within. Wherever one appears, as a key or a value, the PDF is refused: /AA and
# /OpenAction that only go to a page hold none of them.
_PDF_ACTIVE_NAMES = (
    "JavaScript",
    "JS",
    "Launch",
    "SubmitForm",
    "ImportData",
    "GoToR",
    "GoToE",
    "RichMedia",
    "EmbeddedFiles",
    "EmbeddedFile",
    "FileAttachment",
    "XFA",
)
_PDF_ACTIVE_NAME_OBJECTS = frozenset(f"/{name}" for name in _PDF_ACTIVE_NAMES)
_PDF_ACTIVE = re.compile(rb"/(?:%s)(?![A-Za-z0-9])" % "|".join(_PDF_ACTIVE_NAMES).encode())
# In a PDF name, #xx is the byte xx: /J#61vaScript is /JavaScript.
_PDF_NAME_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")
# Bounds of the walk through a PDF's objects: a scanned page holds a few, a long report
# some thousands; pypdf reads about a thousand a second, so past these the file is
# refused rather than checked for minutes.
MAX_PDF_OBJECTS = 20_000
_PDF_MAX_NODES = 2_000_000
_PDF_MAX_DEPTH = 64
_PDF_STREAM = re.compile(rb"stream\r?\n.*?endstream", re.DOTALL)
# What ends an image: anything after it is a tail some other program may read.
_IMAGE_END = {"png": b"IEND\xaeB`\x82", "jpg": b"\xff\xd9", "jpeg": b"\xff\xd9"}
# Office files with macros hold one of these.
_MACRO_MEMBERS = ("vbaproject.bin", "basic/", "scripts/")
_INFLATE_CHUNK = 1024 * 1024


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


def validate_uploads(files, *, too_many_message) -> list:
    """Check several files sent at once: at most MAX_FILES (else `too_many_message`,
    with %(max)d), each one by validate_upload, every message naming its file. Returns
    [(uploaded file, CheckedFile)]."""
    if len(files) > MAX_FILES:
        raise ValidationError(too_many_message, code="too_many", params={"max": MAX_FILES})
    checked, errors = check_uploads(files)
    if errors:
        raise ValidationError(errors)
    return checked


def check_uploads(files, *, extensions=ATTACHMENT_EXTENSIONS):
    """Each file by validate_upload: ([(uploaded file, CheckedFile)] of the accepted
    ones, [ValidationError] naming each refused one), so that a form may keep the
    accepted files when one is refused."""
    errors, checked = [], []
    for uploaded in files:
        try:
            checked.append((uploaded, validate_upload(uploaded, extensions=extensions)))
        except ValidationError as error:
            errors.extend(
                ValidationError(
                    _("« %(name)s » : %(message)s"),
                    code=error.code,
                    params={"name": clean_file_name(uploaded.name), "message": message},
                )
                for message in error.messages
            )
    return checked, errors


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
        _check_office(uploaded)
        return
    if detected != expected:
        raise _mismatch(extension)
    if extension == "txt":
        _check_text(uploaded)
        # A text that a browser would sniff as a web page (its first kilobyte) is a
        # disguised file; tags further down are just text.
        if _ACTIVE_MARKUP.search(head[:1024]):
            raise _hostile()
    else:
        _check_binary(uploaded, extension)
    if zipfile.is_zipfile(uploaded):
        raise _hostile()
    if extension == "pdf":
        _check_pdf(uploaded, head)


def _hostile():
    return ValidationError(
        _(
            "Le fichier contient du contenu actif ou un autre fichier caché (page web, script, "
            "archive) : il est refusé. Enregistrez-le à nouveau depuis son logiciel d’origine."
        ),
        code="hostile",
    )


def _check_binary(uploaded, extension):
    """A PDF or image that is also a web page or runs something: a polyglot. Only where
    markup means something is searched — a PDF outside its streams, an image in the
    bytes a browser sniffs and after its end — so that compressed data, which may hold
    any bytes by chance, never refuses a genuine scan."""
    uploaded.seek(0)
    data = uploaded.read()
    if extension == "pdf":
        outside = _PDF_STREAM.sub(b"stream endstream", data)
        hostile = _ACTIVE_MARKUP.search(outside) or _pdf_names_active(outside)
    else:
        marker = _IMAGE_END[extension]
        end = data.rfind(marker)
        tail = data[end + len(marker) :] if end >= 0 else data
        hostile = _ACTIVE_MARKUP.search(data[:1024]) or _ACTIVE_MARKUP.search(tail)
    if hostile:
        raise _hostile()


def _check_office(uploaded):
    uploaded.seek(0)
    try:
        with zipfile.ZipFile(uploaded) as archive:
            members = archive.infolist()
            if len(members) > MAX_ZIP_MEMBERS:
                raise ValidationError(
                    _("Le fichier contient trop d’éléments (plus de %(max)d) : il est refusé."),
                    code="too_many_members",
                    params={"max": MAX_ZIP_MEMBERS},
                )
            for member in members:
                name = member.filename.lower()
                if name.endswith(_MACRO_MEMBERS[0]) or name.startswith(_MACRO_MEMBERS[1:]):
                    raise ValidationError(
                        _("Les fichiers contenant des macros ne sont pas acceptés."), code="macros"
                    )
            inflated = 0
            for member in members:
                inflated += _inflated_size(archive, member, budget=MAX_UNZIPPED_SIZE - inflated)
    except ValidationError:
        raise
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, RuntimeError, NotImplementedError, zlib.error):
        # Damaged, encrypted or compressed in a way no office suite writes.
        raise _hostile() from None


def _inflated_size(archive, member, *, budget):
    """The bytes `member` really inflates to, read in chunks and counted, never more
    than `budget` + 1 of them. A part larger than the budget is refused, and so is one
    whose real size is not the size its headers claim."""
    # zipfile stops reading at the claimed size (and checks the CRC there): claim more
    # than could ever be read, and count what comes out.
    unbounded = copy.copy(member)
    unbounded.file_size = sys.maxsize
    size = 0
    with archive.open(unbounded) as stream:
        while chunk := stream.read(min(_INFLATE_CHUNK, budget + 1 - size)):
            size += len(chunk)
            if size > budget:
                raise ValidationError(
                    _("Le fichier dépasse 100 Mo une fois décompressé : il est refusé."),
                    code="too_large_unzipped",
                )
    if size != member.file_size:
        raise _hostile()
    return size


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
            # From memory (10 MB at most): pypdf reads byte by byte, too slowly through
            # the uploaded file's proxy.
            reader = PdfReader(io.BytesIO(uploaded.read()), strict=False)
            # Encrypted to restrict printing or copying only: it opens with no password.
            if reader.is_encrypted and not reader.decrypt(""):
                raise ValidationError(
                    _("Le PDF est protégé par un mot de passe : déposez une version non protégée."),
                    code="encrypted_pdf",
                )
            if len(reader.pages) == 0:
                raise _mismatch("pdf")
            if _pdf_objects_active(reader):
                raise _hostile()
    except ValidationError:
        raise
    except Exception as error:
        raise _mismatch("pdf") from error


def _pdf_too_complex():
    return ValidationError(
        _(
            "Le PDF contient trop d’objets pour être vérifié : il est refusé. Enregistrez-le à "
            "nouveau ou découpez-le en plusieurs fichiers."
        ),
        code="pdf_too_complex",
    )


def _pdf_names_active(data: bytes) -> bool:
    """Whether PDF syntax (outside streams, or an object stream decoded) names an active
    feature, #xx escapes decoded."""
    return bool(
        _PDF_ACTIVE.search(_PDF_NAME_ESCAPE.sub(lambda match: bytes.fromhex(match[1].decode()), data))
    )


def _pdf_objects_active(reader) -> bool:
    """Whether any object of the PDF holds an active feature: the trailer, every object
    reachable from it and every object the cross-reference sections list, reachable or
    not, in an object stream or not (a viewer repairing a file may find any of them).
    pypdf reads object streams and decodes #xx escapes in names; the walk is iterative
    and bounded in objects, nodes and nesting."""
    from pypdf.generic import IndirectObject

    pending = [reader.trailer]
    for generation, numbers in reader.xref.items():
        pending.extend(IndirectObject(number, generation, reader) for number in numbers)
    pending.extend(IndirectObject(number, 0, reader) for number in reader.xref_objStm)
    seen, objects, nodes = set(), 0, 0
    while pending:
        item = pending.pop()
        if isinstance(item, IndirectObject):
            if (item.idnum, item.generation) in seen:
                continue
            seen.add((item.idnum, item.generation))
            objects += 1
            if objects > MAX_PDF_OBJECTS:
                raise _pdf_too_complex()
            item = item.get_object()
        active, nodes = _pdf_tree_active(item, pending, nodes)
        if active:
            return True
    return False


def _pdf_tree_active(item, pending, nodes) -> tuple[bool, int]:
    """Walk the tree of one object: (whether a node of it is active, the nodes walked
    so far). The references met are added to `pending`, to be walked as objects."""
    from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, NameObject

    stack = [(item, 0)]
    while stack:
        node, depth = stack.pop()
        nodes += 1
        if nodes > _PDF_MAX_NODES or depth > _PDF_MAX_DEPTH:
            raise _pdf_too_complex()
        if isinstance(node, IndirectObject):
            pending.append(node)
        elif isinstance(node, NameObject):
            if node in _PDF_ACTIVE_NAME_OBJECTS:
                return True, nodes
        elif isinstance(node, DictionaryObject):
            if _pdf_dictionary_active(node):
                return True, nodes
            # Keys are names too; values are read as stored, references unresolved.
            stack.extend((key, depth + 1) for key in node)
            stack.extend((value, depth + 1) for value in dict.values(node))
        elif isinstance(node, ArrayObject):
            stack.extend((value, depth + 1) for value in list.__iter__(node))
    return False, nodes


def _pdf_dictionary_active(node) -> bool:
    from pypdf.generic import StreamObject

    # An object stream may hold objects no cross-reference lists.
    if isinstance(node, StreamObject) and node.get("/Type") == "/ObjStm":
        if _pdf_names_active(node.get_data()):
            return True
    uri = node.get("/URI")
    return isinstance(uri, str) and uri.strip().lower().startswith("javascript:")


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


class TooLargeUpload(InMemoryUploadedFile):
    """What is left of a file sent past MAX_UPLOAD_SIZE: its name and real size, no
    content, so that the form says "Le fichier dépasse 10 Mo." on the right file."""

    def __init__(self, *, field_name, name, content_type, size, charset):
        super().__init__(io.BytesIO(), field_name, name, content_type, size, charset)


class UploadLimitHandler(FileUploadHandler):
    """First upload handler: a body larger than MAX_REQUEST_SIZE is refused before it is
    read (400), and a file is no longer kept past MAX_UPLOAD_SIZE, so that a huge file is
    streamed through, never written whole to memory or disk."""

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        if content_length > MAX_REQUEST_SIZE:
            raise RequestDataTooBig("Upload body exceeds MAX_REQUEST_SIZE.")

    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        self.too_large = False

    def receive_data_chunk(self, raw_data, start):
        if start + len(raw_data) > MAX_UPLOAD_SIZE:
            self.too_large = True
            return None  # the next handlers no longer receive this file's bytes
        return raw_data

    def file_complete(self, file_size):
        if not self.too_large:
            return None
        # The next handlers hold the first 10 Mo (a temporary file past 2.5 Mo): drop it now.
        for handler in getattr(self.request, "upload_handlers", ()):
            if handler is not self and getattr(handler, "file", None) is not None:
                handler.file.close()
        return TooLargeUpload(
            field_name=self.field_name,
            name=self.file_name,
            content_type=self.content_type,
            size=file_size,
            charset=self.charset,
        )
