"""The users list as rows: one function builds what the page shows and what the CSV and
XLSX exports contain, so that both always say the same thing."""

from dataclasses import dataclass

from django.http import HttpResponse
from django.utils.translation import gettext as _

from chorus.access import PRINCIPAL_MANAGER_PROFILE
from chorus.models import Level
from core import spreadsheets
from users.services.habilitations import profile_label


def columns() -> list[str]:
    return [
        _("Nom"),
        _("Prénom"),
        _("Adresse électronique"),
        _("Structure"),
        _("Maille / services"),
        _("Statut"),
        _("Profils"),
    ]


@dataclass(frozen=True)
class Row:
    user_id: int
    last_name: str
    first_name: str
    email: str
    structure: str
    level: str
    status: str
    profiles: str

    def values(self) -> list[str]:
        return [
            self.last_name,
            self.first_name,
            self.email,
            self.structure,
            self.level,
            self.status,
            self.profiles,
        ]


def held_profiles(membership) -> list[str]:
    """The profiles the user holds at this attachment's level (the structure, or this
    service), from the habilitations prefetched as `user.visible_habilitations`. The
    principal manager always holds Organisation – modification on their structure."""
    profiles = {
        habilitation.profile_id: habilitation.profile
        for habilitation in membership.user.visible_habilitations
        if habilitation.structure_id == membership.structure_id
        and habilitation.service_id == membership.service_id
    }
    labels = {profile_label(profile) for profile in profiles.values()}
    is_principal_manager = membership.structure.principal_manager_id == membership.user_id
    if is_principal_manager and membership.service_id is None:
        code, level = PRINCIPAL_MANAGER_PROFILE
        held = any(p.application.code == code and p.level == level for p in profiles.values())
        if not held:
            labels.add(f"{_('Organisation')} – {Level(level).label}")
    return sorted(labels)


def row_for(membership) -> Row:
    user, structure, service = membership.user, membership.structure, membership.service
    if service is None:
        level = _("Structure")
    else:
        level = _("Service : %(service)s") % {"service": f"{service.code} — {service.name}"}
    return Row(
        user_id=user.pk,
        last_name=user.last_name,
        first_name=user.first_name,
        email=user.email,
        structure=f"{structure.identifier} — {structure.display_name}",
        level=level,
        status=membership.get_status_display(),
        profiles=", ".join(held_profiles(membership)),
    )


def csv_response(rows) -> HttpResponse:
    return spreadsheets.csv_response(stem="utilisateurs", header=columns(), rows=rows)


def xlsx_response(rows) -> HttpResponse:
    return spreadsheets.xlsx_response(
        stem="utilisateurs",
        title=_("Utilisateurs"),
        header=columns(),
        rows=rows,
        widths=(20, 20, 32, 40, 30, 22, 60),
    )
