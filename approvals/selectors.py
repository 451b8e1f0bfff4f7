"""Reads of approval requests that carry a rule."""

from dataclasses import dataclass, field
from datetime import datetime

from django.utils.translation import gettext

from approvals.models import NUMBER_PREFIX, ApprovalRequest
from chorus.models import Level

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
