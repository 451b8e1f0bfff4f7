"""Tickets émis as rows: one function builds what the page shows and what the CSV and
XLSX exports contain, so that both always say the same thing."""

from dataclasses import dataclass

from django.http import HttpResponse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from core import spreadsheets


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
        category=ticket.category.label if ticket.category else "",
        subcategory=ticket.subcategory.label if ticket.subcategory else "",
        title=ticket.title,
        structure=f"{structure.identifier} — {structure.display_name}" if structure else "",
        requester=(str(requester) if requester else ticket.contact_email),
        recipient=ticket.queue.recipient_label if ticket.queue else "",
        last_activity=_datetime(ticket.last_activity_at),
    )


def csv_response(rows) -> HttpResponse:
    return spreadsheets.csv_response(stem="tickets", header=columns(), rows=rows)


def xlsx_response(rows) -> HttpResponse:
    return spreadsheets.xlsx_response(
        stem="tickets",
        title=_("Tickets"),
        header=columns(),
        rows=rows,
        widths=(18, 18, 24, 28, 36, 40, 40, 28, 24, 18),
    )


FORMATS = {"csv": csv_response, "xlsx": xlsx_response}
