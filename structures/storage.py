"""Where uploaded files are stored: the default storage (MEDIA_ROOT, never served by a
URL of its own), under a random name. The name a user gave is kept in the database
only, so that it is never part of a path and two files never collide."""

import logging
import uuid

from django.http import FileResponse, Http404

from structures.validators import file_extension

logger = logging.getLogger(__name__)


def random_name(folder: str, extension: str) -> str:
    return f"{folder}/{uuid.uuid4().hex}.{extension}"


def bank_proof_path(instance, filename):
    # The validator accepts nothing but a PDF as a proof.
    return random_name("bank-proofs", "pdf")


def attachment_path(instance, filename):
    return random_name("attachments", file_extension(filename) or "bin")


def download_response(field_file, *, filename, content_type):
    """A stored file sent as a download under the name the user gave it, never shown
    inline: the browser must not interpret it (nosniff, sandboxed, not cached)."""
    try:
        handle = field_file.open("rb")
    except FileNotFoundError:
        logger.error("Stored file missing: %s", field_file.name)
        raise Http404 from None
    response = FileResponse(handle, as_attachment=True, filename=filename, content_type=content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response
