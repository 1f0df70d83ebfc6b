"""The exports' writers and the findings sheet's columns and rows, the CLI's and the web's: an xlsx workbook of one sheet (bold frozen header, columns wide
enough to read) and CSV.

Exported text comes from the share (titles, names, folder names) and must never run in the reader's spreadsheet
program (OWASP's CSV injection): in xlsx every string is written as a string, never as a formula; in CSV a cell
starting with = + - @ tab or carriage return gets a leading apostrophe, which the programs show as text.
"""

from __future__ import annotations

import csv
import itertools
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import IO, Any, Protocol

from nianbao.display import NO_ORGANIZATION, SEVERITY_NAMES, local_time, shown_value
from storage.status import STATUSES

MAX_WIDTH = 60  # characters: a longer text is cut off at the column edge on screen, not in the file
SAMPLED_ROWS = 500  # rows looked at to size the columns when no widths are given
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# The findings sheet, the same from `nianbao export` and from the web's download.
FINDING_COLUMNS = (
    "地区", "机关", "年度", "规则", "严重程度", "问题描述", "位置", "应为", "实为", "状态",
    "首次发现", "最近发现", "整改时间", "文件",
)  # fmt: skip
FINDING_WIDTHS = (12, 24, 6, 32, 8, 80, 30, 16, 16, 8, 17, 17, 17, 40)


class ExportedFinding(Protocol):
    """What a findings row is made of: the store's `FindingRow` and the pages' `Item` both have it."""

    @property
    def region(self) -> str | None: ...
    @property
    def organization(self) -> str | None: ...
    @property
    def year(self) -> int | None: ...
    @property
    def rule(self) -> str: ...
    @property
    def severity(self) -> str: ...
    @property
    def message(self) -> str: ...
    @property
    def location(self) -> str: ...
    @property
    def expected(self) -> Any: ...
    @property
    def actual(self) -> Any: ...
    @property
    def status(self) -> str: ...
    @property
    def first_seen(self) -> datetime: ...
    @property
    def last_seen(self) -> datetime: ...
    @property
    def resolved_at(self) -> datetime | None: ...
    @property
    def source_path(self) -> str: ...


def finding_rows(findings: Iterable[ExportedFinding]) -> Iterator[list[Any]]:
    """One row per finding, in FINDING_COLUMNS order."""
    for finding in findings:
        yield [
            finding.region or "",
            finding.organization or NO_ORGANIZATION,
            finding.year,
            finding.rule,
            SEVERITY_NAMES.get(finding.severity, finding.severity),
            finding.message,
            finding.location,
            shown_value(finding.expected),
            shown_value(finding.actual),
            STATUSES[finding.status],
            local_time(finding.first_seen),
            local_time(finding.last_seen),
            local_time(finding.resolved_at),
            finding.source_path,
        ]


def inert(value: Any) -> Any:
    """A CSV cell no spreadsheet program evaluates: text that could start a formula gets a leading apostrophe."""
    return "'" + value if isinstance(value, str) and value.startswith(FORMULA_STARTS) else value


def write_csv(stream: IO[str], columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Write the rows under a header, every cell inert."""
    writer = csv.writer(stream)
    writer.writerow([inert(title) for title in columns])
    writer.writerows([inert(value) for value in row] for row in rows)


def write_xlsx(
    target: Path | IO[bytes],
    name: str,
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    widths: Sequence[float] | None = None,
) -> None:
    """Write the rows under a header, streaming (openpyxl's write-only mode): any number of rows."""
    from openpyxl import Workbook
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
        cell = _text_cell(sheet, title)
        cell.font = Font(bold=True)
        header.append(cell)
    sheet.append(header)
    for row in rows:
        sheet.append([_text_cell(sheet, value) if isinstance(value, str) else value for value in row])
    workbook.save(target)


def _text_cell(sheet: Any, value: str) -> Any:
    """A string cell, also when the text starts with "=" (openpyxl would write that as a formula)."""
    from openpyxl.cell import WriteOnlyCell

    cell = WriteOnlyCell(sheet, value=value)
    cell.data_type = "s"
    return cell
