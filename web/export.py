"""The table on screen as a file to download: CSV (UTF-8 with byte-order mark, which Excel and WPS read as
UTF-8) or an xlsx workbook."""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from fastapi import Response

from nianbao.spreadsheet import write_csv, write_xlsx

FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@dataclass(frozen=True)
class Sheet:
    name: str  # the sheet's and the file's name
    columns: Sequence[str]
    rows: Iterable[Sequence[Any]]


def _csv(sheet: Sheet) -> bytes:
    stream = io.StringIO()
    write_csv(stream, sheet.columns, sheet.rows)
    return stream.getvalue().encode("utf-8-sig")


def _xlsx(sheet: Sheet) -> bytes:
    buffer = io.BytesIO()
    write_xlsx(buffer, sheet.name, sheet.columns, sheet.rows)
    return buffer.getvalue()


def download(sheet: Sheet, output_format: str) -> Response:
    """The sheet as a CSV or xlsx attachment named after it."""
    content = _csv(sheet) if output_format == "csv" else _xlsx(sheet)
    filename = f"{sheet.name}.{output_format}"
    disposition = f"attachment; filename=\"nianbao.{output_format}\"; filename*=UTF-8''{quote(filename)}"
    return Response(content, media_type=FORMATS[output_format], headers={"Content-Disposition": disposition})
