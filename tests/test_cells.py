"""Table cells by path, and the comparison with the year before, answer as the plain cell-by-cell ones do, for
tables of every shape: tables missing, table 三's rows missing, of other widths, or beside keys it does not know."""

from __future__ import annotations

import random
from typing import Any

from report.model import (
    ACTIVE_DECISION_ROWS,
    ACTIVE_DOCUMENT_FIELDS,
    ACTIVE_DOCUMENT_ROWS,
    APPEAL_BLOCKS,
    APPEAL_FIELDS,
    REQUEST_KEYS,
    ActiveTable,
    AppealBlock,
    AppealsTable,
    DocumentCounts,
    Report,
    Source,
    Tables,
    table_cells,
)
from rules import compare


def plain_table_cells(tables: Tables) -> dict[str, Any]:
    """Every cell by its path, one `getattr` at a time: the reference."""
    cells: dict[str, Any] = {}
    if tables.active is not None:
        for row in ACTIVE_DOCUMENT_ROWS:
            for field in ACTIVE_DOCUMENT_FIELDS:
                cells[f"active.{row}.{field}"] = getattr(getattr(tables.active, row), field)
        for row in (*ACTIVE_DECISION_ROWS, "fees"):
            cells[f"active.{row}"] = getattr(tables.active, row)
    if tables.requests is not None:
        for key in REQUEST_KEYS:
            for column, value in enumerate(tables.requests.get(key, [None] * 7)):
                cells[f"requests.{key}[{column}]"] = value
    if tables.appeals is not None:
        for block in APPEAL_BLOCKS:
            for field in APPEAL_FIELDS:
                cells[f"appeals.{block}.{field}"] = getattr(getattr(tables.appeals, block), field)
    return cells


def plain_changes(before: Tables, after: Tables) -> list[dict[str, Any]]:
    old, new = plain_table_cells(before), plain_table_cells(after)
    return [
        {"cell": cell, "before": old.get(cell), "after": new.get(cell)}
        for cell in dict.fromkeys([*old, *new])
        if old.get(cell) != new.get(cell)
    ]


def _value(rng: random.Random) -> Any:
    return rng.choice((None, 0, 1, 2, 3, 7))


def random_tables(rng: random.Random) -> Tables:
    active = appeals = requests = None
    if rng.random() < 0.8:
        active = ActiveTable(
            **{row: DocumentCounts(**{f: _value(rng) for f in ACTIVE_DOCUMENT_FIELDS}) for row in ACTIVE_DOCUMENT_ROWS},
            **{row: rng.choice((None, 0, 1, 4)) for row in ACTIVE_DECISION_ROWS},
            fees=rng.choice((None, 0.0, 1.5, 3)),
        )
    if rng.random() < 0.8:
        requests = {}
        for key in (*REQUEST_KEYS, "unknown_row"):
            if rng.random() < 0.9:
                width = 7 if rng.random() < 0.85 else rng.randint(0, 9)
                requests[key] = [rng.choice((None, 0, 1, 2)) for _ in range(width)]
    if rng.random() < 0.8:
        appeals = AppealsTable(
            **{block: AppealBlock(**{f: _value(rng) for f in APPEAL_FIELDS}) for block in APPEAL_BLOCKS}
        )
    return Tables(active=active, requests=requests, appeals=appeals)


def test_table_cells_are_the_plain_cells_in_their_order() -> None:
    rng = random.Random(24)
    for _ in range(1500):
        tables = random_tables(rng)
        assert list(table_cells(tables).items()) == list(plain_table_cells(tables).items())


def test_comparison_lists_the_plain_changes_in_their_order() -> None:
    rng = random.Random(25)
    for index in range(1500):
        before, after = random_tables(rng), random_tables(rng)
        if index % 3 == 0:  # the same shape, some cells changed: the common case
            after = before.model_copy(deep=True)
            if after.requests is not None:
                for row in after.requests.values():
                    for column in range(len(row)):
                        if rng.random() < 0.2:
                            row[column] = _value(rng)
        first = Report(source=Source(path="a.txt", sha256="a" * 64, format="txt"), year=2022, tables=before)
        second = Report(source=Source(path="b.txt", sha256="b" * 64, format="txt"), year=2023, tables=after)
        comparison = compare(second, [first])
        assert comparison is not None
        assert [change.model_dump() for change in comparison.changes] == plain_changes(before, after)
