"""Tickets émis as rows: one function builds what the page shows and what the CSV and
XLSX exports contain, so that both always say the same thing."""

import csv
import io
from dataclasses import dataclass

from django.http import HttpResponse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _


def columns() -> list[str]:
    return [
        _("Numéro"),
        _("Date d’ouverture"),
        _("Statut"),
        _("Catégorie"),
        _("Sous-catégorie"),
        _("Titre"),
        _("Structure"),
        _("Demandeur"),
        _("Destinataire"),
        _("Dernière activité"),
    ]


@dataclass(frozen=True)
class Row:
    ticket_id: int
    status_code: str
    number: str
    opened: str
    status: str
    category: str
    subcategory: str
    title: str
    structure: str
    requester: str
    recipient: str
    last_activity: str

    def values(self) -> list[str]:
        return [
            self.number,
            self.opened,
            self.status,
            self.category,
            self.subcategory,
            self.title,
            self.structure,
            self.requester,
            self.recipient,
            self.last_activity,
        ]


def _datetime(value) -> str:
    return date_format(timezone.localtime(value), "d/m/Y H:i") if value else ""


def row_for(ticket) -> Row:
    """One ticket of a Tickets émis list (category, sub-category, queue, structure and
    requester loaded with it)."""
    structure = ticket.structure
    requester = ticket.requester
    return Row(
        ticket_id=ticket.pk,
        status_code=ticket.status,
        number=ticket.number or _("Brouillon"),
        opened=_datetime(ticket.submitted_at or ticket.created_at),
        status=ticket.get_status_display(),
        category=ticket.category.name if ticket.category else "",
        subcategory=ticket.subcategory.name if ticket.subcategory else "",
        title=ticket.title,
        structure=f"{structure.identifier} — {structure.display_name}" if structure else "",
        requester=(str(requester) if requester else ticket.contact_email),
        recipient=ticket.queue.recipient if ticket.queue else "",
        last_activity=_datetime(ticket.last_activity_at),
    )


def _filename(extension):
    return f"tickets-{timezone.localdate():%Y%m%d}.{extension}"


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
    sheet.title = _("Tickets")
    sheet.append(columns())
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append(row.values())
        for cell in sheet[sheet.max_row]:
            # openpyxl reads a string starting with "=" as a formula: keep it text.
            if isinstance(cell.value, str) and cell.value.startswith("="):
                cell.data_type = "s"
    for index, width in enumerate((18, 18, 24, 28, 36, 40, 40, 28, 24, 18), start=1):
        sheet.column_dimensions[sheet.cell(row=1, column=index).column_letter].width = width
    buffer = io.BytesIO()
    workbook.save(buffer)
    response = HttpResponse(
        buffer.getvalue(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = f'attachment; filename="{_filename("xlsx")}"'
    return response


FORMATS = {"csv": csv_response, "xlsx": xlsx_response}
