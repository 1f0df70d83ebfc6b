"""A report's statistics tables as the format (国办公开办函〔2021〕30号) lays them out: table 二, 三 and 四 with
their header rows, each value cell named by its contract path (`requests.total[6]`) so that the page can mark
the cells a finding names, or a cell that changed since another year."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from nianbao.display import SEVERITY_RANK
from report.model import (
    ACTIVE_DECISION_ROWS,
    ACTIVE_DOCUMENT_FIELDS,
    ACTIVE_DOCUMENT_ROWS,
    APPEAL_BLOCKS,
    APPEAL_FIELDS,
    APPLICANT_COLUMNS,
    OUTCOME_KEYS,
    REQUEST_KEYS,
    REQUEST_ROWS,
    Report,
)


@dataclass(frozen=True)
class Cell:
    text: str
    path: str | None = None  # a value cell's contract path
    colspan: int = 1
    rowspan: int = 1
    header: bool = False
    invalid: bool = False  # the report has text where a number was due


@dataclass(frozen=True)
class Table:
    numeral: str
    title: str
    rows: list[list[Cell]] = field(default_factory=list)  # empty: the parser found no such table


@dataclass
class Mark:
    """What the page shows on one value cell: the most severe finding that names it ('dismissed' when all are),
    and all their messages."""

    severity: str
    messages: list[str] = field(default_factory=list)
    finding_ids: list[int] = field(default_factory=list)

    def add(self, severity: str, message: str, finding_id: int) -> None:
        if SEVERITY_RANK.get(severity, 0) > SEVERITY_RANK.get(self.severity, 0):
            self.severity = severity
        self.messages.append(message)
        self.finding_ids.append(finding_id)


def marks(findings: Iterable[tuple[Sequence[str], str, str, int]]) -> dict[str, Mark]:
    """Each cell path that a finding names, with the findings that name it: (cells, severity or 'dismissed',
    message, stored id) each."""
    marked: dict[str, Mark] = {}
    for cells, severity, message, finding_id in findings:
        for path in cells:
            marked.setdefault(path, Mark(severity)).add(severity, message, finding_id)
    return marked


def _show(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


ValueCell = Callable[..., Cell]  # (path, colspan=1) -> the value cell


def report_tables(report: Report) -> list[Table]:
    values = report.cell_values()
    invalid = report.evidence.invalid_cells

    def value(path: str, colspan: int = 1) -> Cell:
        raw = invalid.get(path)
        if values.get(path) is None and raw is not None:
            return Cell(raw, path, colspan, invalid=True)
        return Cell(_show(values.get(path)), path, colspan)

    return [
        _active_table(report, value),
        _requests_table(report, value),
        _appeals_table(report, value),
    ]


def _head(text: str, colspan: int = 1, rowspan: int = 1) -> Cell:
    return Cell(text, colspan=colspan, rowspan=rowspan, header=True)


def _active_table(report: Report, value: ValueCell) -> Table:
    table = Table("二", "主动公开政府信息情况")
    if report.tables.active is None:
        return table
    rows = table.rows
    rows.append([_head("第二十条第（一）项", 4)])
    rows.append([_head("信息内容"), *(_head(label) for label in ACTIVE_DOCUMENT_FIELDS.values())])
    for row, label in ACTIVE_DOCUMENT_ROWS.items():
        rows.append([_head(label), *(value(f"active.{row}.{name}") for name in ACTIVE_DOCUMENT_FIELDS)])
    for clause, keys in (("（五）", ("licensing",)), ("（六）", ("penalty", "coercion"))):
        rows.append([_head(f"第二十条第{clause}项", 4)])
        rows.append([_head("信息内容"), _head("本年处理决定数量", 3)])
        rows += [[_head(ACTIVE_DECISION_ROWS[key]), value(f"active.{key}", 3)] for key in keys]
    rows.append([_head("第二十条第（八）项", 4)])
    rows.append([_head("信息内容"), _head("本年收费金额（单位：万元）", 3)])
    rows.append([_head("行政事业性收费"), value("active.fees", 3)])
    return table


def _requests_table(report: Report, value: ValueCell) -> Table:
    table = Table("三", "收到和处理政府信息公开申请情况")
    if report.tables.requests is None:
        return table
    rows = table.rows
    rows.append(
        [_head("（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）", 1, 3), _head("申请人情况", 7)]
    )
    rows.append([_head(APPLICANT_COLUMNS[0], 1, 2), _head("法人或其他组织", 5), _head(APPLICANT_COLUMNS[6], 1, 2)])
    rows.append([_head(label) for label in APPLICANT_COLUMNS[1:6]])
    for key in REQUEST_KEYS:
        if key == OUTCOME_KEYS[0]:
            rows.append([_head("三、本年度办理结果", 8)])
        rows.append([_head(REQUEST_ROWS[key]), *(value(f"requests.{key}[{column}]") for column in range(7))])
    return table


def _appeals_table(report: Report, value: ValueCell) -> Table:
    table = Table("四", "政府信息公开行政复议、行政诉讼情况")
    if report.tables.appeals is None:
        return table
    fields = list(APPEAL_FIELDS.values())
    review, *litigation = APPEAL_BLOCKS
    table.rows.append([_head("行政复议", 5), _head("行政诉讼", 10)])
    table.rows.append([*(_head(label, 1, 2) for label in fields), _head("未经复议直接起诉", 5), _head("复议后起诉", 5)])
    table.rows.append([_head(label) for label in fields * 2])
    table.rows.append([value(f"appeals.{block}.{name}") for block in (review, *litigation) for name in APPEAL_FIELDS])
    return table
