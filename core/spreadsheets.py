"""Exports of a list as it is shown: CSV for French spreadsheet software, and XLSX."""

import csv
import io

from django.http import HttpResponse
from django.utils import timezone

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _filename(stem, extension):
    return f"{stem}-{timezone.localdate():%Y%m%d}.{extension}"


def _neutralised(value) -> str:
    # A cell starting with one of these is run as a formula by spreadsheet software
    # (CSV injection): a leading apostrophe keeps it text.
    value = "" if value is None else str(value)
    return f"'{value}" if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def csv_response(*, stem: str, header: list[str], rows) -> HttpResponse:
    """UTF-8 with a byte order mark and ";" separators: what French Excel opens as is.
    Each row is a mapping whose values follow the header's order."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{_filename(stem, "csv")}"'
    response.write("\ufeff")
    writer = csv.writer(response, delimiter=";")
    writer.writerow(header)
    for row in rows:
        writer.writerow([_neutralised(value) for value in row.values()])
    return response


def xlsx_response(*, stem: str, title: str, header: list[str], rows, widths=()) -> HttpResponse:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = title
    sheet.append(header)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append(list(row.values()))
        for cell in sheet[sheet.max_row]:
            # openpyxl reads a string starting with "=" as a formula: keep it text.
            if isinstance(cell.value, str) and cell.value.startswith("="):
                cell.data_type = "s"
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[sheet.cell(row=1, column=index).column_letter].width = width
    buffer = io.BytesIO()
    workbook.save(buffer)
    response = HttpResponse(buffer.getvalue(), content_type=XLSX_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{_filename(stem, "xlsx")}"'
    return response
