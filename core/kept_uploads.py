"""Files kept when a form is shown again after an error.

A browser forgets every chosen file when the page comes back with an error: a file
the validator accepted is kept instead, in the default storage under kept-uploads/
(random name), and the form carries a signed token that names it. The token is bound
to the user and to the form it was sent with (`purpose`) and expires after
KEEP_SECONDS; the session holds what was kept, so a token copied to another user or
another session is refused. A kept file goes through the validator again when it is
used, then is deleted; the files nobody came back for are deleted by
`purge_expired` (hourly task)."""

import secrets
import time
from dataclasses import dataclass
from datetime import timedelta

from django.core import signing
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import TemporaryUploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.uploads import ATTACHMENT_EXTENSIONS, CONTENT_TYPES, validate_upload

FOLDER = "kept-uploads"
KEEP_SECONDS = 2 * 60 * 60
SESSION_KEY = "kept_uploads"
SALT = "structures.kept-uploads"
COPIES_KEY = "kept-upload-copies"
# Files one session may keep at once: beyond, the oldest go (a form takes at most ten).
MAX_KEPT = 30

LOST_MESSAGE = _(
    "Le fichier conservé « %(name)s » n’est plus disponible (délai dépassé ou session changée) : "
    "choisissez-le de nouveau."
)
FORGOTTEN_MESSAGE = _(
    "Un fichier conservé n’est plus disponible (délai dépassé ou session changée) : choisissez-le de nouveau."
)


@dataclass(frozen=True)
class KeptFile:
    """A kept file as the page shows it: its name, size and the token to send back."""

    token: str
    key: str
    name: str
    size: int


class KeptUploads:
    """The files one user keeps for one form, in their session."""

    def __init__(self, request, purpose: str):
        self.request = request
        self.purpose = purpose
        self.user_id = request.user.pk

    # The session's register: key → {"path", "name", "size", "purpose", "user", "at"}.

    def _register(self) -> dict:
        return dict(self.request.session.get(SESSION_KEY) or {})

    def _save_register(self, register):
        self.request.session[SESSION_KEY] = register

    def keep(self, uploaded, checked) -> KeptFile:
        """Store an accepted upload (`checked`: what validate_upload found) and return
        what the form shows of it."""
        register = self._register()
        now = time.time()
        expired = [key for key, entry in register.items() if now - entry.get("at", 0) > KEEP_SECONDS]
        oldest = sorted(register, key=lambda key: register[key].get("at", 0))
        for key in dict.fromkeys(expired + oldest[: max(0, len(register) - MAX_KEPT + 1)]):
            self._delete_now(register.pop(key))
        key = secrets.token_hex(16)
        uploaded.seek(0)
        path = default_storage.save(f"{FOLDER}/{key}.{checked.extension}", uploaded)
        uploaded.seek(0)
        register[key] = {
            "path": path,
            "name": checked.name,
            "size": checked.size,
            "purpose": self.purpose,
            "user": self.user_id,
            "at": now,
        }
        self._save_register(register)
        return self._kept(key, register[key])

    def _kept(self, key, entry) -> KeptFile:
        token = signing.dumps({"k": key, "u": self.user_id, "p": self.purpose}, salt=SALT)
        return KeptFile(token=token, key=key, name=entry["name"], size=entry["size"])

    def entry(self, token):
        """(key, register entry) of a token of this user, session and form; None for
        anything else (forged, expired, another user's or session's)."""
        if not isinstance(token, str) or not token:
            return None
        try:
            value = signing.loads(token, salt=SALT, max_age=KEEP_SECONDS)
        except signing.BadSignature:
            return None
        if not isinstance(value, dict) or value.get("u") != self.user_id or value.get("p") != self.purpose:
            return None
        entry = self._register().get(value.get("k"))
        if not isinstance(entry, dict) or entry.get("user") != self.user_id:
            return None
        if entry.get("purpose") != self.purpose:
            return None
        return value["k"], entry

    def resolve(self, tokens, *, extensions=ATTACHMENT_EXTENSIONS):
        """The kept files the tokens name, read again through the validator.

        Returns ([(file, CheckedFile, KeptFile)], [ValidationError]): `file` is a local
        copy, ready to be saved like an upload."""
        found, errors = [], []
        for token in dict.fromkeys(tokens):
            named = self.entry(token)
            if named is None:
                errors.append(ValidationError(FORGOTTEN_MESSAGE, code="kept_lost"))
                continue
            key, entry = named
            try:
                copy = _local_copy(entry)
                # Closed (and its temporary file deleted) with the request's uploads.
                self.request.FILES.appendlist(COPIES_KEY, copy)
            except FileNotFoundError:
                errors.append(ValidationError(LOST_MESSAGE, code="kept_lost", params={"name": entry["name"]}))
                continue
            try:
                checked = validate_upload(copy, extensions=extensions)
            except ValidationError as error:
                errors.extend(
                    ValidationError(
                        _("« %(name)s » : %(message)s"),
                        code=error.code,
                        params={"name": entry["name"], "message": message},
                    )
                    for message in error.messages
                )
                continue
            found.append((copy, checked, self._kept(key, entry)))
        return found, errors

    def discard(self, kept_files):
        """Forget files once used: their stored copies go when the transaction commits."""
        register = self._register()
        entries = [register.pop(kept.key) for kept in kept_files if kept.key in register]
        if not entries:
            return
        self._save_register(register)

        def delete():
            for entry in entries:
                self._delete_now(entry)

        transaction.on_commit(delete)

    @staticmethod
    def _delete_now(entry):
        path = entry.get("path") if isinstance(entry, dict) else None
        if path and path.startswith(f"{FOLDER}/"):
            default_storage.delete(path)


def kept_uploads_for(user_or_request, purpose):
    """A KeptUploads for a request with a session, else None (a form built from a user
    alone keeps nothing)."""
    if getattr(user_or_request, "session", None) is None or not hasattr(user_or_request, "user"):
        return None
    return KeptUploads(user_or_request, purpose)


def _local_copy(entry):
    """The kept file copied to a local temporary file, whatever the storage (S3 too):
    the validator seeks and reads it like an upload."""
    extension = entry["path"].rpartition(".")[2]
    copy = TemporaryUploadedFile(entry["name"], CONTENT_TYPES.get(extension, ""), 0, None)
    with default_storage.open(entry["path"], "rb") as stored:
        for chunk in stored.chunks():
            copy.write(chunk)
    copy.size = copy.tell()
    copy.seek(0)
    return copy


def purge_expired(now=None) -> int:
    """Delete the kept files older than KEEP_SECONDS; returns how many went."""
    limit = (now or timezone.now()) - timedelta(seconds=KEEP_SECONDS)
    try:
        _folders, names = default_storage.listdir(FOLDER)
    except FileNotFoundError:
        return 0
    deleted = 0
    for name in names:
        path = f"{FOLDER}/{name}"
        try:
            if default_storage.get_modified_time(path) < limit:
                default_storage.delete(path)
                deleted += 1
        except FileNotFoundError:
            continue
    return deleted
