"""Read the three statistical tables out of a token stream.

Rows are found by their labels, in order, and each takes the run of values that follows its label. A run
wider than the row (merged-cell shifts leave empty cells at its ends) is trimmed of blanks at the ends; a
run that still does not fit is not guessed at: the row stays null and `problems` says what was there.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from report.labels import ACTIVE_LABELS, REQUEST_CORES, REQUEST_EXACT, strip_numbering
from report.model import (
    ACTIVE_DOCUMENT_FIELDS,
    APPEAL_BLOCKS,
    APPEAL_FIELDS,
    APPLICANT_COLUMNS,
    REQUEST_KEYS,
    REQUEST_ROWS,
    ActiveTable,
    AppealsTable,
    Cell,
    DocumentCounts,
    empty_requests,
)
from report.tokens import Kind, Token, compact

MAX_CELL = 2**63 - 1  # the largest count a cell may hold: a database's BIGINT


@dataclass
class Segment:
    """Consecutive text tokens (a label, perhaps wrapped) and the values right after them."""

    labels: list[Token]
    values: list[Token]

    @property
    def label_text(self) -> str:
        return "".join(compact(token.text) for token in self.labels)


@dataclass
class TableReading:
    """What reading one table found: cell values by path, raw invalid cells, problems."""

    invalid: dict[str, str] = field(default_factory=dict)
    blanks: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    markers: list[str] = field(default_factory=list)


def segments(tokens: Sequence[Token]) -> list[Segment]:
    result: list[Segment] = []
    labels: list[Token] = []
    values: list[Token] = []
    for token in tokens:
        if token.kind is Kind.HEADING:
            continue
        if token.is_value:
            values.append(token)
            continue
        if values:
            result.append(Segment(labels, values))
            labels, values = [], []
        labels.append(token)
    if labels or values:
        result.append(Segment(labels, values))
    return result


def fit(values: list[Token], width: int) -> list[Token] | None:
    """The run trimmed to `width`: surplus blanks go from the end first, then from the start."""
    run = list(values)
    while len(run) > width and run[-1].kind is Kind.BLANK:
        run.pop()
    while len(run) > width and run[0].kind is Kind.BLANK:
        run.pop(0)
    return run if len(run) == width else None


def _describe(values: Sequence[Token]) -> str:
    return " ".join(token.text or "(空)" for token in values)


def cell_value(token: Token, path: str, reading: TableReading, where: str, *, decimal: bool = False) -> Cell | float:
    """A cell's value: numbers as int (or float for 万元); text where a number is due is null and recorded."""
    if token.kind is Kind.BLANK:
        reading.blanks.append(path)
        return None
    if token.kind is Kind.PLACEHOLDER or token.number is None:
        reading.invalid[path] = token.text
        reading.problems.append(f"{where}：单元格填的是“{token.text}”，不是数字，按空值处理")
        return None
    number: Decimal = token.number
    if abs(number) > MAX_CELL:  # beyond a database integer (and Python's 4,300-digit int-from-text limit)
        shown = token.text if len(token.text) <= 24 else f"{token.text[:12]}…（共 {len(token.text)} 位）"
        reading.invalid[path] = shown
        reading.problems.append(f"{where}：数值“{shown}”超出可以存储的范围，按空值处理")
        return None
    if decimal:
        return float(number)
    if number != number.to_integral_value():
        reading.invalid[path] = token.text
        reading.problems.append(f"{where}：件数应为整数，实际为 {token.text}，按空值处理")
        return None
    return int(number)


def _request_match(segment: Segment) -> str | None:
    """The row key whose label ends this segment's text (the last label wins: headers come before)."""
    text = segment.label_text
    best: tuple[int, str] | None = None
    for key, cores in REQUEST_CORES.items():
        for core in cores:
            position = text.rfind(core)
            if position >= 0 and (best is None or position + len(core) > best[0]):
                best = (position + len(core), key)
    offset = 0
    for token in segment.labels:
        piece = compact(token.text)
        offset += len(piece)
        bare = strip_numbering(piece)
        for key, words in REQUEST_EXACT.items():
            if bare in words and (best is None or offset >= best[0]):
                best = (offset, key)
    return best[1] if best else None


def read_requests(tokens: Sequence[Token], reading: TableReading) -> dict[str, list[Cell]] | None:
    """Table 三, or None when none of its rows is there."""
    rows = empty_requests()
    found: set[str] = set()
    for segment in segments(tokens):
        key = _request_match(segment)
        if key is None:
            if segment.values and segment.labels and "其他处理" in segment.label_text:
                reading.markers.append("（六）其他处理没有细分项（2019 年试行模板）")
            continue
        where = f"三/{REQUEST_ROWS[key]}"
        if segment.values and all(token.kind is Kind.BLANK for token in segment.values) and not fit(segment.values, 7):
            continue  # a header cell (总计, 其他) followed by the empty cells of a merged header row
        if key in found:
            reading.problems.append(f"{where}：该行出现了不止一次，只采用第一次的数值")
            continue
        found.add(key)
        if not segment.values:
            reading.problems.append(f"{where}：找到了行标签，但后面没有数值")
            continue
        run = fit(segment.values, 7)
        if run is None:
            reading.problems.append(
                f"{where}：应有 7 列数值，找到 {len(segment.values)} 个（{_describe(segment.values)}），无法确定各列，按空值处理"
            )
            continue
        rows[key] = [
            cell_value(token, f"requests.{key}[{column}]", reading, f"{where}/{APPLICANT_COLUMNS[column]}")
            for column, token in enumerate(run)
        ]
    if not found:
        return None
    missing = [REQUEST_ROWS[key] for key in REQUEST_KEYS if key not in found]
    if missing:
        reading.problems.append(f"三：没有找到这些行：{'、'.join(missing)}")
    return rows


def read_active(tokens: Sequence[Token], reading: TableReading) -> ActiveTable | None:
    """Table 二, or None when none of its rows is there."""
    table = ActiveTable()
    found: set[str] = set()
    for segment in segments(tokens):
        if not segment.labels:
            continue
        label = compact(segment.labels[-1].text)
        row = ACTIVE_LABELS.get(label)
        if row is None or row in found:
            continue
        found.add(row)
        where = f"二/{label}"
        if row in ("regulations", "normative_documents"):
            run = fit(segment.values, 3)
            if run is None:
                reading.problems.append(
                    f"{where}：应有 3 个数值，找到 {len(segment.values)} 个（{_describe(segment.values)}）"
                )
                continue
            counts = DocumentCounts()
            for field_name, token in zip(ACTIVE_DOCUMENT_FIELDS, run, strict=True):
                label_name = ACTIVE_DOCUMENT_FIELDS[field_name]
                value = cell_value(token, f"active.{row}.{field_name}", reading, f"{where}/{label_name}")
                setattr(counts, field_name, value)
            setattr(table, row, counts)
            continue
        run = fit(segment.values, 1)
        if run is None:
            reading.problems.append(
                f"{where}：应有 1 个数值，找到 {len(segment.values)} 个（{_describe(segment.values)}）"
            )
            continue
        setattr(table, row, cell_value(run[0], f"active.{row}", reading, where, decimal=row == "fees"))
    return table if found else None


def read_appeals(tokens: Sequence[Token], reading: TableReading) -> AppealsTable | None:
    """Table 四: its fifteen numbers, in the order 复议 ×5, 直接起诉 ×5, 复议后起诉 ×5."""
    values = [token for token in tokens if token.is_value]
    if not values:
        return None
    run = fit(values, 15)
    if run is None:
        reading.problems.append(f"四：应有 15 个数值，找到 {len(values)} 个（{_describe(values[:30])}），无法确定各列")
        return None
    table = AppealsTable()
    position = 0
    for block, block_label in APPEAL_BLOCKS.items():
        appeal = getattr(table, block)
        for field_name, field_label in APPEAL_FIELDS.items():
            where = f"四/{block_label}/{field_label}"
            setattr(appeal, field_name, cell_value(run[position], f"appeals.{block}.{field_name}", reading, where))
            position += 1
    return table
