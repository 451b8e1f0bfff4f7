"""Structures and the INSEE Sirene register: create a structure from its SIRET, update
one from INSEE (the page and `sirene_refresh` share this code), duplicate a structure
onto a new SIRET.

The callers ask INSEE first (structures.sirene) and pass the Establishment in: no
request to INSEE is made while a transaction holds locks."""

import os
import uuid
from dataclasses import dataclass

from django.core.files.base import ContentFile
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from chorus import audit
from chorus.actions import AuditAction
from chorus.models import Habilitation
from core.errors import Refused
from structures.models import Service, Structure
from structures.services.manage import structure_deactivate
from structures.sirene import INSEE_FIELDS, Establishment
from users.models import Membership
from users.services.members import attach_unrecorded


class StructureExists(Exception):
    """A structure already holds this SIRET: the user may ask to be attached to it."""

    message = _(
        "Une structure existe déjà sur le portail pour ce SIRET : demandez à y être rattaché plutôt que de "
        "la créer à nouveau."
    )

    def __init__(self, siret):
        self.siret = siret
        super().__init__(f"a structure already exists for SIRET {siret}")


class DuplicationError(Refused):
    """A duplication refused as a whole: nothing was created."""


@dataclass(frozen=True)
class FieldChange:
    name: str
    before: object
    after: object

    @property
    def label(self):
        return Structure._meta.get_field(self.name).verbose_name


@dataclass(frozen=True)
class InseeUpdate:
    structure: Structure
    changes: list[FieldChange]
    closed: bool


def insee_values(establishment: Establishment) -> dict:
    """The Structure fields INSEE knows for this establishment, cut to the columns'
    lengths (the register has no such limits)."""
    values = {}
    for name, value in establishment.structure_fields().items():
        field = Structure._meta.get_field(name)
        if isinstance(value, str) and field.max_length:
            value = value[: field.max_length]
        values[name] = value
    return values


def insee_changes(structure: Structure, establishment: Establishment) -> list[FieldChange]:
    """What updating the structure from INSEE would change, field by field, in the
    order of INSEE_FIELDS, then whether it is public, which follows its legal category.
    A value INSEE hides is not a change."""
    values = insee_values(establishment)
    changes = [
        FieldChange(name, getattr(structure, name), values[name])
        for name in INSEE_FIELDS
        if name in values and getattr(structure, name) != values[name]
    ]
    if establishment.legal_category is not None and structure.kind != kind_for(establishment):
        changes.append(FieldChange("kind", structure.kind, kind_for(establishment)))
    return changes


def kind_for(establishment: Establishment) -> str:
    """Public for the legal categories of public-law bodies (4xxx, 7xxx), see
    structures.sirene.legal_categories."""
    return Structure.Kind.PUBLIQUE if establishment.is_public else Structure.Kind.PRIVEE


def _siret_taken(siret: str) -> bool:
    return Structure.objects.filter(identifier_type=Structure.IdentifierType.SIRET, identifier=siret).exists()


def _new_structure(establishment: Establishment, **values) -> Structure:
    """Insert a structure for the establishment's SIRET; a SIRET taken meanwhile (the
    unique constraint) is StructureExists."""
    try:
        # A savepoint: the caller's transaction stays usable to report the refusal.
        with transaction.atomic():
            return Structure.objects.create(
                identifier_type=Structure.IdentifierType.SIRET,
                identifier=establishment.siret,
                kind=kind_for(establishment),
                insee_updated_at=timezone.now(),
                **insee_values(establishment),
                **values,
            )
    except IntegrityError:
        if _siret_taken(establishment.siret):
            raise StructureExists(establishment.siret) from None
        raise


# Créer une structure


@transaction.atomic
def structure_create_from_insee(*, establishment: Establishment, user) -> Structure:
    """Create an active structure from an active, diffusible establishment; the user
    is attached and, being the first, becomes its principal manager."""
    establishment.check_usable()
    if _siret_taken(establishment.siret):
        raise StructureExists(establishment.siret)
    # Active only with its principal manager (a database check): the attachment below
    # makes the user principal manager and activates the structure, in this transaction.
    structure = _new_structure(establishment, status=Structure.Status.EN_COURS_ACTIVATION)
    _membership, attached = attach_unrecorded(user=user, structure=structure)
    changes = audit.diff({}, {"identifier": structure.identifier, **insee_values(establishment)})
    # One record: the creation tells who became its principal manager.
    changes["principal_manager"] = attached["principal_manager"]
    structure.refresh_from_db()
    audit.record(actor=user, obj=structure, action=AuditAction.STRUCTURE_CREATE, changes=changes)
    return structure


# Mettre à jour depuis la base INSEE (page and sirene_refresh)


@transaction.atomic
def structure_update_from_insee(
    *, structure_id: int, establishment: Establishment, actor=None
) -> InseeUpdate:
    """Apply what INSEE says to the structure's INSEE fields, record the before/after,
    and date the refresh. The establishment must be the structure's (or the one INSEE
    redirects its SIRET to)."""
    structure = Structure.objects.select_for_update().get(pk=structure_id)
    if structure.identifier not in (establishment.siret, establishment.requested_siret):
        raise ValueError(f"establishment {establishment.siret} is not the one of structure {structure.pk}")
    changes = insee_changes(structure, establishment)
    for change in changes:
        setattr(structure, change.name, change.after)
    structure.insee_updated_at = timezone.now()
    structure.save(update_fields=[*(change.name for change in changes), "insee_updated_at", "updated_at"])
    if changes:
        audit.record(
            actor=actor,
            obj=structure,
            action=AuditAction.STRUCTURE_INSEE_UPDATE,
            changes=audit.diff(
                {change.name: change.before for change in changes},
                {change.name: change.after for change in changes},
            ),
        )
    return InseeUpdate(structure=structure, changes=changes, closed=not establishment.is_active)


# Dupliquer une structure

# Not copied from the model to the duplicate: the new establishment's identity and what
# INSEE says about it, and the duplicate's own state and history. Every other field is
# copied (settings such as two_factor_required included), so that a field added later is
# carried over unless it is listed here on purpose.
NOT_COPIED_FIELDS = frozenset(
    {
        "id",
        "identifier_type",
        "identifier",
        "kind",
        "status",
        "origin",
        "principal_manager",  # set explicitly below
        "insee_updated_at",
        "created_at",
        "updated_at",
        *INSEE_FIELDS,
    }
)


def model_values(model: Structure) -> dict:
    """What a duplicate takes from its model."""
    return {
        field.attname: getattr(model, field.attname)
        for field in Structure._meta.concrete_fields
        if field.name not in NOT_COPIED_FIELDS
    }


# Related rows copied when the models exist (bank details and attachments belong to
# features that may not be installed yet).
COPIED_RELATIONS = ("bank_accounts", "attachments")


def structure_duplicate(*, model_id: int, establishment: Establishment, actor) -> Structure:
    """A new structure on the new SIRET with the model's data, services, bank
    details, attachments, memberships and habilitations, the same principal manager
    and `origin` = the model, which is deactivated. All or nothing: the files copied
    before a failure are deleted, since storage is not transactional."""
    copied_files = []
    try:
        with transaction.atomic():
            return _duplicate(
                model_id=model_id, establishment=establishment, actor=actor, copied_files=copied_files
            )
    except BaseException:
        for storage, name in copied_files:
            storage.delete(name)
        raise


def _duplicate(*, model_id, establishment, actor, copied_files) -> Structure:
    establishment.check_usable()
    model = Structure.objects.select_for_update().get(pk=model_id)
    if model.identifier_type == Structure.IdentifierType.SIRET and model.identifier == establishment.siret:
        raise DuplicationError(
            _("Le nouveau SIRET doit être différent de l’identifiant de la structure modèle.")
        )
    if _siret_taken(establishment.siret):
        raise StructureExists(establishment.siret)
    duplicate = _new_structure(
        establishment,
        # An active structure has a principal manager (a database check).
        status=(
            Structure.Status.ACTIVE if model.principal_manager_id else Structure.Status.EN_COURS_ACTIVATION
        ),
        origin=model,
        principal_manager=model.principal_manager,
        **model_values(model),
    )
    services = copy_services(model, duplicate)
    copied = {"services": len(services)}
    for relation in COPIED_RELATIONS:
        copied[relation] = copy_related(model, duplicate, relation, services, copied_files)
    copied["memberships"] = copy_memberships(model, duplicate, services)
    copied["habilitations"] = copy_habilitations(model, duplicate, services)
    audit.record(
        actor=actor,
        obj=duplicate,
        action=AuditAction.STRUCTURE_DUPLICATE,
        changes={"origin": {"before": None, "after": model.identifier}, "copied": copied},
    )
    if model.status != Structure.Status.INACTIVE:
        structure_deactivate(structure=model, actor=actor)
    return duplicate


def copy_services(model: Structure, duplicate: Structure) -> dict[int, Service]:
    """{model's service id: its copy}."""
    mapping = {}
    for service in model.services.order_by("pk"):
        old_id = service.pk
        service.pk = None
        service._state.adding = True
        service.structure = duplicate
        service.save()
        mapping[old_id] = service
    return mapping


def copy_related(model, duplicate, relation, services, copied_files) -> int:
    """Copy the rows of a reverse relation (bank_accounts, attachments), their stored
    files included, under new random names. 0 when the relation does not exist."""
    manager = getattr(model, relation, None)
    if manager is None:
        return 0
    count = 0
    for row in manager.order_by("pk"):
        values = {}
        for field in row._meta.concrete_fields:
            if field.primary_key:
                continue
            if field.is_relation and field.related_model is Structure:
                values[field.attname] = duplicate.pk
            elif field.is_relation and field.related_model is Service:
                old = getattr(row, field.attname)
                values[field.attname] = services[old].pk if old in services else None
            elif isinstance(field, models.FileField):
                values[field.attname] = _copy_file(getattr(row, field.name), field, copied_files)
            else:
                values[field.attname] = getattr(row, field.attname)
        row.__class__.objects.create(**values)
        count += 1
    return count


def _copy_file(field_file, field, copied_files) -> str:
    if not field_file:
        return ""
    storage = field.storage
    folder = os.path.dirname(field_file.name)
    _stem, extension = os.path.splitext(field_file.name)
    with storage.open(field_file.name, "rb") as source:
        content = source.read()
    name = storage.save(os.path.join(folder, f"{uuid.uuid4().hex}{extension}"), ContentFile(content))
    copied_files.append((storage, name))
    return name


def copy_memberships(model, duplicate, services) -> int:
    """The validated attachments, at the same level (structure or the copied service)."""
    memberships = [
        Membership(
            user_id=membership.user_id,
            structure=duplicate,
            service=services.get(membership.service_id) if membership.service_id else None,
            status=Membership.Status.VALIDEE,
            comment=membership.comment,
        )
        for membership in model.memberships.filter(status=Membership.Status.VALIDEE).order_by("pk")
        if membership.service_id is None or membership.service_id in services
    ]
    Membership.objects.bulk_create(memberships)
    return len(memberships)


def copy_habilitations(model, duplicate, services) -> int:
    habilitations = [
        Habilitation(
            user_id=habilitation.user_id,
            structure=duplicate,
            service=services.get(habilitation.service_id) if habilitation.service_id else None,
            profile_id=habilitation.profile_id,
            granted_by_id=habilitation.granted_by_id,
        )
        for habilitation in model.habilitations.order_by("pk")
        if habilitation.service_id is None or habilitation.service_id in services
    ]
    Habilitation.objects.bulk_create(habilitations)
    return len(habilitations)
