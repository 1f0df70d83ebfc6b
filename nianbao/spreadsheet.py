"""An xlsx workbook of one sheet: bold frozen header, columns wide enough to read (the CLI's export and the web's)."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import IO, Any

MAX_WIDTH = 60  # characters: a longer text is cut off at the column edge on screen, not in the file
SAMPLED_ROWS = 500  # rows looked at to size the columns when no widths are given


def write_xlsx(
    target: Path | IO[bytes],
    name: str,
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    widths: Sequence[float] | None = None,
) -> None:
    """Write the rows under a header, streaming (openpyxl's write-only mode): any number of rows."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    rows = iter(rows)
    if widths is None:  # as wide as the longest of the first rows (a Chinese character is two columns wide)
        sample = list(itertools.islice(rows, SAMPLED_ROWS))
        rows = itertools.chain(sample, rows)
        widths = [
            min(MAX_WIDTH, 2 * max([len(str(title)), *(len(str(row[index] or "")) for row in sample)]) + 2)
            for index, title in enumerate(columns)
        ]
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(name[:31])  # Excel's limit on a sheet name
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    header = []
    for title in columns:
        cell = WriteOnlyCell(sheet, value=title)
        cell.font = Font(bold=True)
        header.append(cell)
    sheet.append(header)
    for row in rows:
        sheet.append(list(row))
    workbook.save(target)
