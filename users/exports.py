"""The users list as rows: one function builds what the page shows and what the CSV and
XLSX exports contain, so that both always say the same thing."""

import csv
import io
from dataclasses import dataclass

from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from chorus.access import PRINCIPAL_MANAGER_PROFILE
from chorus.models import Level
from users.forms_members import profile_label


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


def _filename(extension):
    return f"utilisateurs-{timezone.localdate():%Y%m%d}.{extension}"


def _neutralised(value: str) -> str:
    # A cell starting with one of these is run as a formula by spreadsheet software
    # (CSV injection): a leading apostrophe keeps it text.
    return f"'{value}" if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def csv_response(rows) -> HttpResponse:
    """UTF-8 with a byte order mark and ";" separators: what French Excel opens as is."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{_filename("csv")}"'
    response.write("\ufeff")
    writer = csv.writer(response, delimiter=";")
    writer.writerow(columns())
    for row in rows:
        writer.writerow([_neutralised(value) for value in row.values()])
    return response


def xlsx_response(rows) -> HttpResponse:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = _("Utilisateurs")
    sheet.append(columns())
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append(row.values())
        for cell in sheet[sheet.max_row]:
            # openpyxl reads a string starting with "=" as a formula: keep it text.
            if isinstance(cell.value, str) and cell.value.startswith("="):
                cell.data_type = "s"
    for index, width in enumerate((20, 20, 32, 40, 30, 22, 60), start=1):
        sheet.column_dimensions[sheet.cell(row=1, column=index).column_letter].width = width
    buffer = io.BytesIO()
    workbook.save(buffer)
    response = HttpResponse(
        buffer.getvalue(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = f'attachment; filename="{_filename("xlsx")}"'
    return response
