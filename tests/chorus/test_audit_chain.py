"""The audit trail is a hash chain: `audit_verify` proves it intact, and names the first
broken record when one was edited, deleted, inserted or moved; concurrent writers on
PostgreSQL never chain to the same predecessor."""

import threading
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, connections
from django.urls import reverse

from chorus import audit
from chorus.models import AuditEvent
from tests import factories


def verify_output():
    out = StringIO()
    call_command("audit_verify", stdout=out)
    return out.getvalue()


def broken_message():
    with pytest.raises(CommandError) as error:
        call_command("audit_verify", stdout=StringIO())
    return str(error.value)


@pytest.fixture
def trail(db):
    """Five records written the way services write them."""
    actor = factories.UserFactory(email="auteur@exemple.fr")
    structure = factories.StructureFactory(principal_manager=actor)
    return [
        audit.record(
            actor=actor,
            obj=structure,
            action=f"action_{index}",
            changes={"label": {"before": f"avant {index}", "after": f"après {index} — é"}},
        )
        for index in range(5)
    ]


def test_each_record_carries_the_hash_of_the_previous_one(trail):
    assert trail[0].prev_hash == ""
    for previous, event in zip(trail, trail[1:], strict=False):
        assert event.prev_hash == previous.hash
    assert len({event.hash for event in trail}) == len(trail)


def test_intact_chain_is_reported_with_its_record_count(trail):
    output = verify_output()
    assert "intact" in output
    assert f"{AuditEvent.objects.count()} enregistrement" in output


def test_empty_trail_is_intact(db):
    assert "intact : 0 enregistrement" in verify_output()


def test_hash_survives_the_database_round_trip_of_awkward_changes(db):
    structure = factories.StructureFactory()
    audit.record(
        actor=None,
        obj=structure,
        action="detail",
        changes={"tuple": (1, 2), 3: "clé entière", "float": 0.1 + 0.2, "nul": None, "texte": "«\u00a0»"},
    )
    assert audit.verify().intact


def test_edited_record_is_named(trail):
    edited = trail[2]
    AuditEvent.objects.filter(pk=edited.pk).update(changes={"label": {"before": "x", "after": "y"}})
    message = broken_message()
    assert f"enregistrement {edited.pk} du" in message
    assert "modifié" in message


@pytest.mark.parametrize("field, value", [("action", "autre"), ("object_id", "0"), ("object_repr", "autre")])
def test_any_edited_field_is_detected(trail, field, value):
    AuditEvent.objects.filter(pk=trail[1].pk).update(**{field: value})
    check = audit.verify()
    assert check.broken.pk == trail[1].pk
    assert check.count == 1


def test_edited_date_is_detected(trail):
    AuditEvent.objects.filter(pk=trail[3].pk).update(created_at=trail[3].created_at - timedelta(days=1))
    assert audit.verify().broken.pk == trail[3].pk


def test_edit_with_recomputed_hash_breaks_the_next_link(trail):
    """Whoever rewrites a record and its hash must rewrite every later one."""
    forged = AuditEvent.objects.get(pk=trail[1].pk)
    forged.action = "falsifiée"
    forged.hash = audit.chain_hash(forged, forged.prev_hash)
    forged.save()
    assert f"enregistrement {trail[2].pk} du" in broken_message()


def test_deleted_record_is_named_by_its_successor(trail):
    AuditEvent.objects.filter(pk=trail[2].pk).delete()
    message = broken_message()
    assert f"enregistrement {trail[3].pk} du" in message
    assert "supprimé, inséré ou déplacé" in message


def test_reordered_records_are_detected(trail):
    # Swap the contents of two records, hashes included: each is intact on its own.
    first, second = AuditEvent.objects.get(pk=trail[1].pk), AuditEvent.objects.get(pk=trail[3].pk)
    fields = ["action", "object_repr", "changes", "created_at", "prev_hash", "hash"]
    first_values = {name: getattr(first, name) for name in fields}
    AuditEvent.objects.filter(pk=first.pk).update(**{name: getattr(second, name) for name in fields})
    AuditEvent.objects.filter(pk=second.pk).update(**first_values)
    assert audit.verify().broken.pk == trail[1].pk


def test_inserted_record_is_detected(trail):
    # A record forged after the fact, sealed as if it followed the second one.
    forged = AuditEvent(
        action="forgé",
        object_type="structures.Structure",
        object_id="1",
        object_repr="forgé",
        prev_hash=trail[1].hash,
    )
    forged.hash = audit.chain_hash(forged, forged.prev_hash)
    forged.save()
    AuditEvent.objects.filter(pk=trail[4].pk).delete()
    # Moved into the place of the last one: its predecessor is not the one it claims.
    AuditEvent.objects.filter(pk=forged.pk).update(id=trail[4].pk)
    check = audit.verify()
    assert check.broken.pk == trail[4].pk
    assert check.reason == "link"


def test_admin_shows_the_chain_read_only(trail, client):
    operator = factories.UserFactory(email="exploitation@exemple.fr", is_staff=True, is_superuser=True)
    client.force_login(operator)
    url = reverse("admin:chorus_auditevent_change", args=[trail[1].pk])
    response = client.get(url)
    assert response.status_code == 200
    content = response.content.decode()
    assert trail[1].hash in content and trail[1].prev_hash in content
    assert 'name="hash"' not in content
    response = client.post(url, {"action": "falsifiée"})
    assert response.status_code == 403
    assert audit.verify().intact


def test_a_rolled_back_record_leaves_the_chain_intact(trail):
    from django.db import transaction

    with pytest.raises(RuntimeError), transaction.atomic():
        audit.record(actor=None, obj=trail[0], action="annulée")
        raise RuntimeError
    audit.record(actor=None, obj=trail[0], action="suivante")
    assert audit.verify().intact


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_writers_keep_the_chain_intact(catalogue):
    if connection.vendor != "postgresql":
        pytest.skip(
            "Needs the PostgreSQL server (DATABASE_URL=postgres://…, as .ci/run sets): "
            "SQLite serialises every writer, so there is no race to test."
        )
    structure = factories.StructureFactory()
    audit.record(actor=None, obj=structure, action="avant")
    writers = 20
    barrier = threading.Barrier(writers)
    errors = []

    def write(index):
        try:
            barrier.wait(timeout=10)
            from django.db import transaction

            # Two records per transaction: the lock is held to the commit.
            with transaction.atomic():
                audit.record(actor=None, obj=structure, action=f"écrivain_{index}_a")
                audit.record(actor=None, obj=structure, action=f"écrivain_{index}_b")
        except Exception as exc:  # reported below, a thread cannot fail the test itself
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=write, args=(index,)) for index in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    check = audit.verify()
    assert check.intact, f"broken at {check.broken.pk} ({check.reason})"
    assert check.count == 1 + 2 * writers
    prev_hashes = list(AuditEvent.objects.values_list("prev_hash", flat=True))
    assert len(set(prev_hashes)) == len(prev_hashes), "two records chained to the same predecessor"
    # Each writer's two records are consecutive: nobody slipped in between.
    actions = list(AuditEvent.objects.order_by("id").values_list("action", flat=True))[1:]
    for first, second in zip(actions[::2], actions[1::2], strict=True):
        assert first.endswith("_a") and second == first[:-1] + "b"


def test_migration_seals_the_records_written_before_the_chain(trail):
    from importlib import import_module

    from django.apps import apps

    # Records of that time had no actor email.
    AuditEvent.objects.update(prev_hash="", hash="", actor_email="")
    assert not audit.verify().intact
    import_module("chorus.migrations.0008_audit_chain").chain_existing_records(apps, None)
    assert audit.verify().intact


# Deleting what a record points to -------------------------------------------------


def anchor_output(*args):
    out = StringIO()
    call_command("audit_verify", *args, stdout=out)
    return out.getvalue()


def test_deleting_a_user_keeps_the_chain_intact_and_the_record_names_them(db):
    structure = factories.StructureFactory()
    leaving = factories.UserFactory(email="partant@exemple.fr")
    first = audit.record(actor=leaving, obj=structure, action="avant")
    audit.record(actor=None, obj=structure, action="après")
    leaving_id = leaving.pk
    leaving.delete()

    assert "intact : 2 enregistrement" in verify_output()
    event = AuditEvent.objects.get(pk=first.pk)
    assert event.actor is None
    assert event.actor_id_value == leaving_id
    assert event.actor_email == "partant@exemple.fr"
    assert "partant@exemple.fr" in str(event)


def test_deleting_a_structure_keeps_the_chain_intact(db):
    actor = factories.UserFactory()
    doomed, other = factories.StructureFactory(), factories.StructureFactory()
    audit.record(actor=actor, obj=doomed, action="sur_la_structure")
    audit.record(actor=actor, obj=other, action="ailleurs")
    doomed_id = doomed.pk
    doomed.delete()

    assert "intact : 2 enregistrement" in verify_output()
    event = AuditEvent.objects.get(action="sur_la_structure")
    assert event.structure is None and event.structure_id_value == doomed_id


def test_deleting_a_ticket_keeps_the_chain_intact(db):
    from tests.support.test_tickets import make_ticket

    requester = factories.UserFactory()
    ticket = make_ticket(requester)
    audit.record(actor=requester, obj=ticket, action="sur_le_ticket")
    ticket.delete()
    assert audit.verify().intact


def test_repointing_a_record_to_another_user_is_detected(trail):
    """The foreign key may be emptied by a deletion, never moved to someone else: the
    history pages read it."""
    someone_else = factories.UserFactory()
    AuditEvent.objects.filter(pk=trail[2].pk).update(actor=someone_else)
    check = audit.verify()
    assert check.broken.pk == trail[2].pk
    assert "référence" in broken_message()


@pytest.mark.parametrize(
    "field, value",
    [("actor_id_value", 999_999), ("actor_email", "autre@exemple.fr"), ("structure_id_value", None)],
)
def test_edited_plain_reference_is_detected(trail, field, value):
    AuditEvent.objects.filter(pk=trail[1].pk).update(**{field: value})
    assert audit.verify().broken.pk == trail[1].pk


# Records written before the plain references -------------------------------------


def _sealed_the_old_way(event, prev_hash):
    """The hash as the code computed it before the plain columns, from the foreign keys."""
    import hashlib
    import json
    from datetime import UTC

    values = {
        name: getattr(event, name)
        for name in (
            "actor_id",
            "action",
            "object_type",
            "object_id",
            "object_repr",
            "structure_id",
            "changes",
            "created_at",
        )
    }
    values["created_at"] = values["created_at"].astimezone(UTC).isoformat()
    values["prev_hash"] = prev_hash
    canonical = json.dumps(values, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def test_migration_keeps_the_hashes_written_before_it_valid(db):
    from importlib import import_module

    from django.apps import apps

    actor = factories.UserFactory(email="ancien@exemple.fr")
    structure = factories.StructureFactory()
    for index in range(3):
        audit.record(actor=actor, obj=structure, action=f"ancien_{index}", changes={"n": index})
    audit.record(actor=None, obj=structure, action="sans_auteur")
    # The trail as the old code left it: no plain column, hashes over the foreign keys.
    AuditEvent.objects.update(actor_id_value=None, actor_email="", structure_id_value=None)
    prev_hash = ""
    for event in AuditEvent.objects.order_by("id"):
        event.prev_hash, event.hash = prev_hash, _sealed_the_old_way(event, prev_hash)
        AuditEvent.objects.filter(pk=event.pk).update(prev_hash=event.prev_hash, hash=event.hash)
        prev_hash = event.hash
    old_hashes = list(AuditEvent.objects.order_by("id").values_list("hash", flat=True))

    import_module("chorus.migrations.0011_audit_plain_references").fill_plain_references(apps, None)

    assert list(AuditEvent.objects.order_by("id").values_list("hash", flat=True)) == old_hashes
    assert audit.verify().intact
    actor.delete()
    structure.delete()
    assert "intact : 4 enregistrement" in verify_output()
    # A record written after the migration chains on to the old ones.
    audit.record(actor=None, obj=factories.StructureFactory(), action="nouveau")
    assert audit.verify().intact


# Anchoring the last record outside the database -----------------------------------


def test_anchor_prints_the_last_record_and_its_hash(trail):
    line = anchor_output("--anchor").strip()
    assert line.startswith(f"{trail[-1].pk}:{trail[-1].hash}")
    assert "5 enregistrement" in line


def test_anchor_refused_on_a_broken_chain(trail):
    AuditEvent.objects.filter(pk=trail[2].pk).update(action="falsifiée")
    with pytest.raises(CommandError, match="rompu"):
        anchor_output("--anchor")


def test_anchor_refused_on_an_empty_trail(db):
    with pytest.raises(CommandError, match="vide"):
        anchor_output("--anchor")


def test_chain_grown_since_the_anchor_is_intact(trail):
    anchor = anchor_output("--anchor").split()[0]
    audit.record(actor=None, obj=trail[0], action="après_l_ancre")
    output = anchor_output("--against", anchor)
    assert "intact" in output
    assert f"ancre {trail[-1].pk}" in output
    assert "1 enregistrement(s) écrit(s) depuis" in output


def test_cut_tail_is_detected_by_the_anchor(trail):
    anchor = anchor_output("--anchor").split()[0]
    # Someone removes the latest records: what remains is a perfectly valid chain.
    AuditEvent.objects.filter(pk__in=[trail[3].pk, trail[4].pk]).delete()
    assert audit.verify().intact
    with pytest.raises(CommandError) as error:
        anchor_output("--against", anchor)
    assert f"{trail[4].pk}" in str(error.value)
    assert "supprimé" in str(error.value)


def test_anchor_given_by_its_hash_alone_or_as_the_whole_line(trail):
    line = anchor_output("--anchor").strip()
    assert "intact" in anchor_output("--against", trail[-1].hash)
    assert "intact" in anchor_output("--against", line)
    AuditEvent.objects.filter(pk=trail[4].pk).delete()
    with pytest.raises(CommandError):
        anchor_output("--against", trail[-1].hash)


def test_anchored_record_rewritten_is_detected(trail):
    anchor = anchor_output("--anchor").split()[0]
    # The last record rewritten and resealed: the chain alone cannot tell.
    forged = AuditEvent.objects.get(pk=trail[4].pk)
    forged.action = "falsifiée"
    forged.hash = audit.chain_hash(forged, forged.prev_hash)
    forged.save()
    assert audit.verify().intact
    with pytest.raises(CommandError, match="empreinte"):
        anchor_output("--against", anchor)


@pytest.mark.parametrize("value", ["n'importe quoi", "12:", "abc:" + "0" * 64, "0" * 10])
def test_malformed_anchor_is_refused_with_a_message(trail, value):
    with pytest.raises(CommandError, match="Ancre illisible"):
        anchor_output("--against", value)


def test_admin_names_the_author_of_a_record_once_their_account_is_deleted(client, db):
    structure = factories.StructureFactory()
    leaving = factories.UserFactory(email="parti@exemple.fr")
    event = audit.record(actor=leaving, obj=structure, action="avant_depart")
    leaving.delete()
    operator = factories.UserFactory(email="exploitation@exemple.fr", is_staff=True, is_superuser=True)
    client.force_login(operator)
    listing = client.get(reverse("admin:chorus_auditevent_changelist"), {"q": "parti@exemple.fr"})
    assert listing.status_code == 200
    assert "parti@exemple.fr" in listing.content.decode()
    assert listing.context["cl"].result_count == 1
    page = client.get(reverse("admin:chorus_auditevent_change", args=[event.pk]))
    assert "parti@exemple.fr" in page.content.decode()
