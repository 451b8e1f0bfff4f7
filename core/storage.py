"""Where uploaded files are stored: the default storage (MEDIA_ROOT, or a private S3
bucket when S3_BUCKET is set; never served by a URL of its own), under a random name.
The name a user gave is kept in the database only, so that it is never part of a path
and two files never collide. A stored file reaches a user only through a view that
checked their access, as a download (`download_response`)."""

import logging
import uuid

from django.http import FileResponse, Http404

logger = logging.getLogger(__name__)


def random_name(folder: str, extension: str) -> str:
    return f"{folder}/{uuid.uuid4().hex}.{extension}"


# Large enough to keep the number of reads (and S3 round trips) low, small enough that
# a download never holds more than this in memory.
DOWNLOAD_CHUNK_SIZE = 64 * 1024


def _open_stream(field_file):
    """The stored file as a readable stream, and its size when known.

    django-storages' S3File reads by first copying the whole object into a temporary
    buffer (in memory by default): for S3, the object's body is read from the
    response as it arrives instead."""
    stored = field_file.storage.open(field_file.name, "rb")
    s3_object = getattr(stored, "obj", None)
    if s3_object is None:
        return stored, None
    stored.close()
    from botocore.exceptions import ClientError

    try:
        answer = s3_object.get()
    except ClientError as error:
        # Deleted between the existence check above and now.
        if error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 404:
            raise FileNotFoundError(field_file.name) from error
        raise
    return answer["Body"], answer.get("ContentLength")


def download_response(field_file, *, filename, content_type):
    """A stored file sent as a download under the name the user gave it, never shown
    inline: the browser must not interpret it (nosniff, sandboxed, not cached). The file
    is streamed in chunks, whatever the storage."""
    try:
        stream, size = _open_stream(field_file)
    except FileNotFoundError:
        logger.error("Stored file missing: %s", field_file.name)
        raise Http404 from None
    response = FileResponse(stream, as_attachment=True, filename=filename, content_type=content_type)
    response.block_size = DOWNLOAD_CHUNK_SIZE
    if size is not None:
        response["Content-Length"] = size
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response
