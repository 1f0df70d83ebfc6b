"""The table on screen as a file to download: CSV (UTF-8 with byte-order mark, which Excel and WPS read as
UTF-8) or an xlsx workbook."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from fastapi import Response
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
MAX_WIDTH = 60


@dataclass(frozen=True)
class Sheet:
    name: str  # the sheet's and the file's name
    columns: Sequence[str]
    rows: Iterable[Sequence[Any]]


def _csv(sheet: Sheet) -> bytes:
    stream = io.StringIO()
    writer = csv.writer(stream)
    writer.writerow(sheet.columns)
    writer.writerows(sheet.rows)
    return stream.getvalue().encode("utf-8-sig")


def _xlsx(sheet: Sheet) -> bytes:
    rows = [list(row) for row in sheet.rows]
    workbook = Workbook(write_only=True)
    worksheet = workbook.create_sheet(sheet.name[:31])  # Excel's limit on a sheet name
    for index, title in enumerate(sheet.columns):
        longest = max([len(str(title)), *(len(str(row[index] or "")) for row in rows[:500])])
        worksheet.column_dimensions[get_column_letter(index + 1)].width = min(MAX_WIDTH, 2 * longest + 2)
    worksheet.freeze_panes = "A2"
    header = []
    for title in sheet.columns:
        cell = WriteOnlyCell(worksheet, value=title)
        cell.font = Font(bold=True)
        header.append(cell)
    worksheet.append(header)
    for row in rows:
        worksheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def download(sheet: Sheet, output_format: str) -> Response:
    """The sheet as a CSV or xlsx attachment named after it."""
    content = _csv(sheet) if output_format == "csv" else _xlsx(sheet)
    filename = f"{sheet.name}.{output_format}"
    disposition = f"attachment; filename=\"nianbao.{output_format}\"; filename*=UTF-8''{quote(filename)}"
    return Response(content, media_type=FORMATS[output_format], headers={"Content-Disposition": disposition})
