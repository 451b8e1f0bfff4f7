"""The one audit trail: every change worth knowing is recorded here, by services and
views, in the same transaction as the change. Nobody edits it.

The records form a hash chain in id order: each one stores the hash of the previous
record and a SHA-256 over its own fields and that previous hash. Editing, deleting,
inserting or reordering a record breaks the chain where it happened; `manage.py
audit_verify` recomputes it (see `verify`).

On PostgreSQL the append takes a transaction-level advisory lock, held until the
caller's commit: audited transactions are serialised from their first record on. A
service therefore locks the rows it changes first and records last; one that locks a
row after recording could deadlock with a writer holding that row and waiting here."""

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC

from django.db import connection, transaction

from chorus.models import AuditEvent

# Key of the PostgreSQL advisory lock that serialises the appends: two transactions
# never chain to the same predecessor. Any constant unique to this use will do.
CHAIN_LOCK_KEY = 0x415544495443  # "AUDITC"

# The fields the hash covers, in this order, then the previous hash.
CHAINED_FIELDS = (
    "actor_id",
    "action",
    "object_type",
    "object_id",
    "object_repr",
    "structure_id",
    "changes",
    "created_at",
)


def record(*, actor, obj, action: str, changes: dict | None = None, structure=None) -> AuditEvent:
    """Record one change. `changes` is {"field": {"before": …, "after": …}} or any
    JSON-serialisable detail. The structure defaults to the object itself or its
    `structure`, so the change shows in that structure's history."""
    if structure is None:
        from structures.models import Structure

        # A model may opt out of its structure's history with `audit_structure = None`.
        default = getattr(obj, "structure", None)
        structure = obj if isinstance(obj, Structure) else getattr(obj, "audit_structure", default)
    event = AuditEvent(
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        action=action,
        object_type=obj._meta.label,
        object_id=str(obj.pk),
        object_repr=str(obj)[:255],
        structure=structure,
        # Hashed as the database will give it back (tuples become lists, keys strings).
        changes=json.loads(json.dumps(changes or {})),
    )
    # Its own transaction when called outside one, so that the lock covers the read of
    # the last record and the insert; inside a service, part of the service's (a failed
    # record fails the change it records).
    with transaction.atomic(savepoint=False):
        _lock_chain()
        event.prev_hash = last_hash()
        event.hash = chain_hash(event, event.prev_hash)
        event.save(force_insert=True)
    return event


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
    """SHA-256 (hex) of a canonical JSON of the event's fields and the previous hash.
    Works on any object with the fields (also the historical model of a migration)."""
    values = {name: getattr(event, name) for name in CHAINED_FIELDS}
    values["created_at"] = values["created_at"].astimezone(UTC).isoformat()
    values["prev_hash"] = prev_hash
    canonical = json.dumps(values, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass
class ChainCheck:
    count: int
    broken: AuditEvent | None = None
    reason: str = ""

    @property
    def intact(self) -> bool:
        return self.broken is None


def verify() -> ChainCheck:
    """Walk the trail in id order and recompute the chain; stop at the first record
    whose link to its predecessor or whose own hash does not match."""
    expected_prev, count = "", 0
    for event in AuditEvent.objects.order_by("id").iterator(chunk_size=2000):
        if event.prev_hash != expected_prev:
            return ChainCheck(count, event, "link")
        if event.hash != chain_hash(event, event.prev_hash):
            return ChainCheck(count, event, "content")
        expected_prev = event.hash
        count += 1
    return ChainCheck(count)


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
