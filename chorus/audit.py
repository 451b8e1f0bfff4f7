"""The one audit trail: every change worth knowing is recorded here, by services and
views, in the same transaction as the change. Nobody edits it.

The records form a hash chain in id order: each one stores the hash of the previous
record and a SHA-256 over its own fields and that previous hash. Editing, deleting,
inserting or reordering a record breaks the chain where it happened; `manage.py
audit_verify` recomputes it (see `verify`). The hash covers plain values only, never a
foreign key that deleting a user or a structure would empty. Removing the latest records
leaves a valid chain: an anchor (the last record's id and hash, kept outside the
database, see `check_anchor`) is what detects it.

On PostgreSQL the append takes a transaction-level advisory lock, held until the
caller's commit: audited transactions are serialised from their first record on. A
service therefore locks the rows it changes first and records last; one that locks a
row after recording could deadlock with a writer holding that row and waiting here."""

import hashlib
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC

from django.db import connection, transaction

from chorus.actions import AuditAction
from chorus.interfaces import structure_model
from chorus.models import AuditEvent

# Key of the PostgreSQL advisory lock that serialises the appends: two transactions
# never chain to the same predecessor. Any constant unique to this use will do.
CHAIN_LOCK_KEY = 0x415544495443  # "AUDITC"

# What the hash covers: name in the hashed content -> field of the record, then the
# previous hash. The actor and the structure are read from the plain columns under the
# names of the foreign keys they were read from before, so that the records sealed then
# keep their hash.
CHAINED_FIELDS = {
    "actor_id": "actor_id_value",
    "action": "action",
    "object_type": "object_type",
    "object_id": "object_id",
    "object_repr": "object_repr",
    "structure_id": "structure_id_value",
    "changes": "changes",
    "created_at": "created_at",
}
# Covered only when set: the records written before it have it empty.
CHAINED_WHEN_SET = {"actor_email": "actor_email"}

# The foreign keys that mirror a plain value: a deletion may empty them, nothing may
# point them elsewhere.
MIRRORED = {"actor_id": "actor_id_value", "structure_id": "structure_id_value"}


def record(*, actor, obj, action: AuditAction, changes: dict | None = None, structure=None) -> AuditEvent:
    """Record one change. `changes` is {"field": {"before": …, "after": …}} or any
    JSON-serialisable detail. The structure defaults to the object itself or its
    `structure`, so the change shows in that structure's history."""
    event = _event(actor=actor, obj=obj, action=action, changes=changes, structure=structure)
    # Its own transaction when called outside one, so that the lock covers the read of
    # the last record and the insert; inside a service, part of the service's (a failed
    # record fails the change it records).
    with transaction.atomic(savepoint=False):
        _append(event)
    return event


def record_deletion(
    *, actor, objects: Iterable, delete: Callable[[], object], action: AuditAction
) -> list[AuditEvent]:
    """Run `delete()` and record one event per object in `objects`, described as it was
    before: the rows are deleted (and locked) first and the records written last, as
    everywhere (see above). An actor or a structure gone with the deletion keeps its id
    and email in the plain columns."""
    with transaction.atomic():
        events = [_event(actor=actor, obj=obj, action=action) for obj in objects]
        delete()
        _forget_deleted_targets(events)
        for event in events:
            _append(event)
    return events


def _event(*, actor, obj, action, changes=None, structure=None) -> AuditEvent:
    if structure is None:
        # A model may opt out of its structure's history with `audit_structure = None`.
        default = getattr(obj, "structure", None)
        structure = obj if isinstance(obj, structure_model()) else getattr(obj, "audit_structure", default)
    actor = actor if getattr(actor, "is_authenticated", False) else None
    return AuditEvent(
        actor=actor,
        actor_id_value=actor.pk if actor else None,
        actor_email=actor.email if actor else "",
        action=action,
        object_type=obj._meta.label,
        object_id=str(obj.pk),
        object_repr=str(obj)[:255],
        structure=structure,
        structure_id_value=structure.pk if structure else None,
        # Hashed as the database will give it back (tuples become lists, keys strings).
        changes=json.loads(json.dumps(changes or {})),
    )


def _append(event: AuditEvent):
    _lock_chain()
    event.prev_hash = last_hash()
    event.hash = chain_hash(event, event.prev_hash)
    event.save(force_insert=True)


def _forget_deleted_targets(events: list[AuditEvent]):
    """Empty the foreign keys whose target the deletion removed (an operator deleting a
    structure, or their own account): they would point nowhere."""
    for key in MIRRORED:
        model = AuditEvent._meta.get_field(key.removesuffix("_id")).related_model
        ids = {getattr(event, key) for event in events} - {None}
        alive = set(model._base_manager.filter(pk__in=ids).values_list("pk", flat=True))
        for event in events:
            if getattr(event, key) not in alive:
                setattr(event, key, None)


def _lock_chain():
    # Held until the end of the caller's transaction: the next writer reads this
    # record as the last one only once it is committed (or gone, if rolled back).
    # SQLite needs nothing: it lets one writer at a time.
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CHAIN_LOCK_KEY])


def last_hash() -> str:
    return AuditEvent.objects.order_by("-id").values_list("hash", flat=True).first() or ""


def chain_hash(event, prev_hash: str) -> str:
    """SHA-256 (hex) of a canonical JSON of the event's plain fields and the previous hash."""
    values = {name: getattr(event, field) for name, field in CHAINED_FIELDS.items()}
    values |= {name: getattr(event, f) for name, f in CHAINED_WHEN_SET.items() if getattr(event, f)}
    values["created_at"] = values["created_at"].astimezone(UTC).isoformat()
    values["prev_hash"] = prev_hash
    canonical = json.dumps(values, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass
class ChainCheck:
    count: int
    broken: AuditEvent | None = None
    reason: str = ""
    # The last record found intact: what an anchor keeps.
    last_id: int | None = None
    last_hash: str = ""

    @property
    def intact(self) -> bool:
        return self.broken is None


def verify() -> ChainCheck:
    """Walk the trail in id order and recompute the chain; stop at the first record
    whose link to its predecessor, whose own hash or whose foreign keys do not match."""
    check = ChainCheck(0)
    for event in AuditEvent.objects.order_by("id").iterator(chunk_size=2000):
        if event.prev_hash != check.last_hash:
            return _broken(check, event, "link")
        if event.hash != chain_hash(event, event.prev_hash):
            return _broken(check, event, "content")
        if any(getattr(event, key) not in (None, getattr(event, plain)) for key, plain in MIRRORED.items()):
            return _broken(check, event, "reference")
        check.last_id, check.last_hash = event.pk, event.hash
        check.count += 1
    return check


def _broken(check, event, reason):
    check.broken, check.reason = event, reason
    return check


@dataclass(frozen=True)
class Anchor:
    """The last record's id and hash, written down outside the database: whoever removes
    the latest records cannot remove this copy."""

    record_id: int | None
    hash: str

    PATTERN = re.compile(r"^(?:(?P<id>[0-9]+):)?(?P<hash>[0-9a-f]{64})$")

    @classmethod
    def parse(cls, text: str) -> "Anchor | None":
        """`id:hash` or the hash alone; the first word of the line `--anchor` printed."""
        words = text.split()
        match = cls.PATTERN.match(words[0].lower()) if words else None
        if match is None:
            return None
        record_id = match["id"]
        return cls(int(record_id) if record_id else None, match["hash"])


@dataclass
class AnchorCheck:
    anchor: Anchor
    chain: ChainCheck
    found: AuditEvent | None  # the anchored record as it is now, None when gone
    since: int = 0  # records written after it

    @property
    def anchor_kept(self) -> bool:
        return self.found is not None and self.found.hash == self.anchor.hash


def check_anchor(anchor: Anchor) -> AnchorCheck:
    """The chain, and whether the anchored record is still there with the same hash."""
    chain = verify()
    records = AuditEvent.objects.order_by("id")
    if anchor.record_id is not None:
        found = records.filter(pk=anchor.record_id).first()
    else:
        found = records.filter(hash=anchor.hash).first()
    since = records.filter(pk__gt=found.pk).count() if found else 0
    return AnchorCheck(anchor=anchor, chain=chain, found=found, since=since)


def diff(before: dict, after: dict) -> dict:
    """{"field": {"before": old, "after": new}} for the fields whose value changed."""
    return {
        name: {"before": _plain(before.get(name)), "after": _plain(value)}
        for name, value in after.items()
        if before.get(name) != value
    }


def _plain(value):
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)
