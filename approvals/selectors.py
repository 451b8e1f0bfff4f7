"""Reads of approval requests that carry a rule."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext

from approvals.models import NUMBER_PREFIX, ApprovalRequest
from chorus.codes import ApplicationCode
from chorus.models import Habilitation, Level
from structures.models import Structure
from users.models import Membership
from users.services import habilitations

# Shown in full on "Historique de mes demandes"; elsewhere the most recent ones.
PENDING_SHOWN = 20


@dataclass
class PendingRequest:
    """One pending request of the requester, as their pages show it."""

    pk: int
    kind: str
    created_at: datetime
    structure_identifier: str
    structure_name: str
    service: str = ""
    services: list[str] = field(default_factory=list)
    to_add: list[str] = field(default_factory=list)
    to_remove: list[str] = field(default_factory=list)

    @property
    def number(self):
        return f"{NUMBER_PREFIX}{self.pk:06d}"

    @property
    def kind_label(self):
        return ApprovalRequest.Kind(self.kind).label

    @property
    def status_label(self):
        return ApprovalRequest.Status.EN_ATTENTE.label


def _profile_label(name, level):
    return f"{gettext(name)} – {Level(level).label}"


def pending_requests_of(*, user, structure=None, limit=PENDING_SHOWN) -> tuple[list[PendingRequest], bool]:
    """The user's own requests still waiting for a decision (optionally those about one
    structure), newest first, with what each asks: at most `limit`, and whether there
    are more.

    One query whatever their number: the services and profiles asked for come through
    outer joins (a request asks for a few of them), folded back here into one row per
    request."""
    pending = ApprovalRequest.objects.filter(requester=user, status=ApprovalRequest.Status.EN_ATTENTE)
    if structure is not None:
        pending = pending.filter(structure=structure)
    # One more than shown, to know whether there are more; a subquery, not a second query.
    newest = pending.order_by("-created_at", "-pk").values("pk")[: limit + 1]
    rows = (
        ApprovalRequest.objects.filter(pk__in=newest)
        .order_by("-created_at", "-pk")
        .values_list(
            "pk",
            "kind",
            "created_at",
            "structure__identifier",
            "structure__company_name",
            "structure__first_name",
            "structure__last_name",
            "service__code",
            "service__name",
            "services__code",
            "services__name",
            "profiles_to_add__application__name",
            "profiles_to_add__level",
            "profiles_to_remove__application__name",
            "profiles_to_remove__level",
        )
    )
    by_pk: dict[int, PendingRequest] = {}
    for (
        pk,
        kind,
        created_at,
        identifier,
        company_name,
        first_name,
        last_name,
        service_code,
        service_name,
        services_code,
        services_name,
        add_name,
        add_level,
        remove_name,
        remove_level,
    ) in rows:
        request = by_pk.get(pk)
        if request is None:
            request = by_pk[pk] = PendingRequest(
                pk=pk,
                kind=kind,
                created_at=created_at,
                structure_identifier=identifier,
                structure_name=company_name or f"{first_name} {last_name}".strip(),
                service=f"{service_code} — {service_name}" if service_code else "",
            )
        _add_once(request.services, f"{services_code} — {services_name}" if services_code else None)
        _add_once(request.to_add, _profile_label(add_name, add_level) if add_name else None)
        _add_once(request.to_remove, _profile_label(remove_name, remove_level) if remove_name else None)
    requests = list(by_pk.values())
    for request in requests:
        request.services.sort()
        request.to_add.sort()
        request.to_remove.sort()
    return requests[:limit], len(requests) > limit


def _add_once(values, value):
    # The joins repeat a request's services and profiles: each is listed once.
    if value is not None and value not in values:
        values.append(value)


# Who decides


def administered_structure_ids(*, access) -> set:
    """The structures whose requests this user decides: where the loaded access context
    holds Organisation – modification (the rule of chorus.access.structure_ids_for)."""
    if not access.is_authenticated:
        return set()
    return {
        structure_id
        for structure_id in access.attached_structure_ids()
        if access.level_on(ApplicationCode.ORGANISATION, structure_id) >= Level.MODIFICATION
    }


def requests_to_decide(*, access):
    """Pending requests of the structures the user administers (not their own)."""
    ids = administered_structure_ids(access=access)
    pending = ApprovalRequest.objects.filter(status=ApprovalRequest.Status.EN_ATTENTE, structure_id__in=ids)
    return pending.exclude(requester=access.user)


def decidable(*, access):
    """Every request, decided or not, of the structures the user administers: what an
    approver may open. Anything else is a 404."""
    ids = administered_structure_ids(access=access)
    return ApprovalRequest.objects.filter(structure_id__in=ids).exclude(requester=access.user)


def pending_count_for(*, access) -> int:
    """The number shown next to *Approbations* in the header: one COUNT query on top of
    the access context (none when the user administers nothing)."""
    if not administered_structure_ids(access=access):
        return 0
    # Once per access context, that is once per request: the inbox's paginator reuses
    # the header's count.
    if not hasattr(access, "pending_approvals_count"):
        access.pending_approvals_count = requests_to_decide(access=access).count()
    return access.pending_approvals_count


def approver_ids_by_structure(structure_ids) -> dict[int, set[int]]:
    """{structure id: ids of its active approvers}, in two queries: principal managers,
    then the holders of Organisation – modification on the whole structure who are still
    attached to it (a habilitation counts only while its holder is attached)."""
    result = defaultdict(set)
    for structure_id, manager_id in Structure.objects.filter(
        pk__in=structure_ids, principal_manager__is_active=True
    ).values_list("pk", "principal_manager_id"):
        result[structure_id].add(manager_id)
    attached = Membership.objects.filter(
        user=OuterRef("user"),
        structure=OuterRef("structure"),
        service__isnull=True,
        status=Membership.Status.VALIDEE,
    )
    delegates = Habilitation.objects.filter(
        structure_id__in=structure_ids,
        service__isnull=True,
        profile__application__code=ApplicationCode.ORGANISATION,
        profile__level=Level.MODIFICATION,
        user__is_active=True,
    ).filter(Exists(attached))
    for structure_id, user_id in delegates.values_list("structure_id", "user_id"):
        result[structure_id].add(user_id)
    return result


def approvers_of(structure):
    """The approvers of one structure, by name."""
    ids = approver_ids_by_structure([structure.pk]).get(structure.pk, set())
    return get_user_model().objects.filter(pk__in=ids).order_by("last_name", "first_name", "email")


def default_attachment_profiles(*, approval, may_grant: bool) -> list:
    """What approving an attachment request without opening it grants (several requests
    decided at once): consultation of every application offered to its structure, the
    default of the request's own page; nothing when the approver may not grant profiles
    there (`may_grant`, the policy's answer), or for another kind of request."""
    if approval.kind != ApprovalRequest.Kind.RATTACHEMENT or not may_grant:
        return []
    return habilitations.default_profiles(approval.structure)
