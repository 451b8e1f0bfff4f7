"""Hostile files for the upload tests, and a multipart body built by hand: the test
client cleans file names and content types itself, an attacker does not."""

import functools
import struct
import zipfile
import zlib
from io import BytesIO

from pypdf import PdfWriter
from pypdf.actions import JavaScript

from tests import factories

BOUNDARY = "----portail-hostile-boundary"


def multipart(fields: dict, files: list[tuple[str, str, bytes, str]]) -> bytes:
    """A multipart/form-data body: `fields` (a list value repeats the key) then each
    file as (field name, file name, content, declared content type), all sent as is."""
    parts = []
    for name, value in fields.items():
        for item in value if isinstance(value, list) else [value]:
            parts.append(
                f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{item}\r\n'.encode()
            )
    for field, filename, content, content_type in files:
        head = (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{field}"; filename="{filename}"\r\n'
            f"Content-Type: {content_type}\r\n\r\n"
        )
        parts.append(head.encode("utf-8", "surrogateescape") + content + b"\r\n")
    return b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()


CONTENT_TYPE = f"multipart/form-data; boundary={BOUNDARY}"


def pdf() -> bytes:
    return factories.pdf_bytes()


def pdf_with_javascript() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    writer.add_open_action(JavaScript("app.alert('pdf');"))
    buffer = BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def pdf_with_embedded_file() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    writer.add_attachment("payload.exe", b"MZ\x90\x00" * 10)
    buffer = BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def zip_bytes(entries) -> bytes:
    buffer = BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in entries:
            archive.writestr(name, content)
    return buffer.getvalue()


DOCX_PARTS = [
    ("[Content_Types].xml", b"<Types/>"),
    ("_rels/.rels", b"<Relationships/>"),
    ("word/document.xml", b"<w:document/>"),
]


def zip_with_lying_sizes(entries, *, inflated_member, inflated_size, declared_size=1024) -> bytes:
    """An Office-like archive holding `entries` and `inflated_member`, `inflated_size`
    zero bytes written compressed, whose local and central headers then claim
    `declared_size` bytes (with the CRC of that many zeros): an archive reader that
    trusts the headers sees a small, consistent member."""
    buffer = BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in entries:
            archive.writestr(name, content)
        chunk = b"\0" * (1024 * 1024)
        with archive.open(inflated_member, "w") as member:
            for start in range(0, inflated_size, len(chunk)):
                member.write(chunk[: inflated_size - start])
    data = bytearray(buffer.getvalue())
    target = inflated_member.encode()
    crc = zlib.crc32(b"\0" * declared_size)
    # Local header: CRC at 14, uncompressed size at 22, name length at 26, name at 30.
    # Central header: CRC at 16, uncompressed size at 24, name length at 28, name at 46.
    for signature, crc_at, size_at, name_length_at, name_at in (
        (b"PK\x03\x04", 14, 22, 26, 30),
        (b"PK\x01\x02", 16, 24, 28, 46),
    ):
        offset = data.find(signature)
        while offset >= 0:
            (name_length,) = struct.unpack_from("<H", data, offset + name_length_at)
            if bytes(data[offset + name_at : offset + name_at + name_length]) == target:
                struct.pack_into("<I", data, offset + crc_at, crc)
                struct.pack_into("<I", data, offset + size_at, declared_size)
            offset = data.find(signature, offset + 4)
    return bytes(data)


@functools.cache
def docx_bomb() -> bytes:
    """A DOCX whose headers declare a 1 KB image that inflates to 200 MB."""
    return zip_with_lying_sizes(
        DOCX_PARTS, inflated_member="word/media/image1.bmp", inflated_size=200 * 1024 * 1024
    )


@functools.cache
def docx_with_lying_sizes() -> bytes:
    """A DOCX whose headers declare a 1 KB part that holds 64 KB: small, but the archive
    is not what it claims to be."""
    return zip_with_lying_sizes(DOCX_PARTS, inflated_member="word/styles.xml", inflated_size=64 * 1024)


def docx_with_many_members(count) -> bytes:
    return zip_bytes([*DOCX_PARTS, *((f"word/media/image{n}.png", b"") for n in range(count))])


PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 64 + b"IEND\xaeB`\x82"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 64 + b"\xff\xd9"
GIF = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00"
SCRIPT = b"<script>fetch('/compte/').then(r=>r.text()).then(alert)</script>"
HTML = b"<!DOCTYPE html><html><body>" + SCRIPT + b"</body></html>"
SVG = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)">' + SCRIPT + b"</svg>"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 64 + b"PE\x00\x00"

INVALID_PDF = "n’est pas un PDF valide"
HOSTILE = "contenu actif ou un autre fichier caché"
MISMATCH = "ne correspond pas à son extension"
NOT_ACCEPTED = "n’est pas accepté"
PDF_ONLY = "doit être un PDF"
INFLATES = "dépasse 100 Mo une fois décompressé"
TOO_MANY_PARTS = "trop d’éléments"
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def hostile_files():
    """(id, file name, content, declared type, what the form must say — for an upload
    that takes every format, then for one that takes PDF only)."""
    return [
        ("pdf-html-polyglot", "facture.pdf", pdf() + HTML, "application/pdf", HOSTILE, HOSTILE),
        (
            "pdf-zip-polyglot",
            "facture.pdf",
            pdf() + zip_bytes([("a.html", HTML)]),
            "application/pdf",
            HOSTILE,
            HOSTILE,
        ),
        ("pdf-javascript", "facture.pdf", pdf_with_javascript(), "application/pdf", HOSTILE, HOSTILE),
        ("pdf-embedded-file", "facture.pdf", pdf_with_embedded_file(), "application/pdf", HOSTILE, HOSTILE),
        ("jpeg-script-tail", "photo.jpg", JPEG + SCRIPT, "image/jpeg", HOSTILE, PDF_ONLY),
        ("png-html-tail", "scan.png", PNG + HTML, "image/png", HOSTILE, PDF_ONLY),
        (
            "png-zip-polyglot",
            "scan.png",
            PNG + zip_bytes([("x.js", b"alert(1)")]),
            "image/png",
            HOSTILE,
            PDF_ONLY,
        ),
        ("gif-script-as-png", "image.png", GIF + SCRIPT, "image/png", MISMATCH, PDF_ONLY),
        ("gif", "image.gif", GIF, "image/gif", NOT_ACCEPTED, PDF_ONLY),
        ("exe-as-pdf", "facture.pdf", EXE, "application/pdf", INVALID_PDF, INVALID_PDF),
        ("exe", "setup.exe", EXE, "application/octet-stream", NOT_ACCEPTED, PDF_ONLY),
        ("html-as-pdf", "facture.pdf", HTML, "application/pdf", INVALID_PDF, INVALID_PDF),
        ("html-as-txt", "notes.txt", HTML, "text/plain", HOSTILE, PDF_ONLY),
        ("html-as-png-wrong-mime", "scan.png", HTML, "image/png", MISMATCH, PDF_ONLY),
        ("html", "page.html", HTML, "text/html", NOT_ACCEPTED, PDF_ONLY),
        ("svg-script", "logo.svg", SVG, "image/svg+xml", NOT_ACCEPTED, PDF_ONLY),
        ("svg-as-txt", "logo.txt", SVG, "text/plain", HOSTILE, PDF_ONLY),
        ("svg-as-png", "logo.png", SVG, "image/png", MISMATCH, PDF_ONLY),
        (
            "zip-as-docx",
            "courrier.docx",
            zip_bytes([("evil.html", HTML)]),
            "application/zip",
            MISMATCH,
            PDF_ONLY,
        ),
        (
            "docx-with-macros",
            "courrier.docx",
            zip_bytes([("word/document.xml", "<w/>"), ("word/vbaProject.bin", b"\xd0\xcf\x11\xe0")]),
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "macros",
            PDF_ONLY,
        ),
        ("docx-inflating-past-the-limit", "courrier.docx", docx_bomb(), DOCX_TYPE, INFLATES, PDF_ONLY),
        ("docx-with-lying-sizes", "courrier.docx", docx_with_lying_sizes(), DOCX_TYPE, HOSTILE, PDF_ONLY),
        (
            "docx-with-too-many-parts",
            "courrier.docx",
            docx_with_many_members(2000),
            DOCX_TYPE,
            TOO_MANY_PARTS,
            PDF_ONLY,
        ),
        ("zero-byte", "vide.pdf", b"", "application/pdf", "Le fichier est vide", "est vide"),
        ("homoglyph-extension", "facture.\u0440df", pdf(), "application/pdf", NOT_ACCEPTED, PDF_ONLY),
        ("rtl-override-exe", "facture\u202efdp.exe", EXE, "application/pdf", NOT_ACCEPTED, PDF_ONLY),
        (
            "fullwidth-extension",
            "facture.\uff50\uff44\uff46",
            pdf(),
            "application/pdf",
            NOT_ACCEPTED,
            PDF_ONLY,
        ),
        ("trailing-dot", "facture.pdf.", pdf(), "application/pdf", NOT_ACCEPTED, PDF_ONLY),
    ]


# Names that are cleaned, not refused: the file is stored under a random name whatever
# it was called, and the name kept for display loses what could mislead or traverse.
HOSTILE_NAMES = [
    ("../../etc/passwd.pdf", "passwd.pdf"),
    ("/etc/shadow.pdf", "shadow.pdf"),
    ("..\\..\\windows\\win.ini.pdf", "win.ini.pdf"),
    ("C:\\Users\\public\\facture.pdf", "facture.pdf"),
    ("fact\x00ure.pdf", "facture.pdf"),
    ("fact\x1b[31mure.pdf", "fact[31mure.pdf"),
    ("relev\u00e9\u202egnp.pdf", "relevégnp.pdf"),
    ("\u200bfacture\u200d.pdf", "facture.pdf"),
    ("\U0001f4c4 facture \U0001f600.pdf", "\U0001f4c4 facture \U0001f600.pdf"),
    ("\u0444\u0430\u043a\u0442\u0443\u0440\u0430.pdf", "\u0444\u0430\u043a\u0442\u0443\u0440\u0430.pdf"),
    ("a" * 300 + ".pdf", "a" * 46 + ".pdf"),
    # Django's parser cuts at the last slash, ours removes nothing else.
    ("<script>alert(1)</script>.pdf", "script>.pdf"),
    ("<img src=x onerror=alert(1)>.pdf", "<img src=x onerror=alert(1)>.pdf"),
]


def pdf_with_page_content(content: bytes) -> bytes:
    """A PDF whose page content stream holds these bytes, uncompressed."""
    from pypdf.generic import NameObject, StreamObject

    writer = PdfWriter()
    page = writer.add_blank_page(width=200, height=200)
    stream = StreamObject()
    stream.set_data(content)
    page[NameObject("/Contents")] = writer._add_object(stream)
    buffer = BytesIO()
    writer.write(buffer)
    return buffer.getvalue()
