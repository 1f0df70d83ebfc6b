"""The models `parse_document` builds are those pydantic validation makes of the same values, where the parser
sets a field without validating it: table 三's rows (`Tables.requests`), set after `Tables` is validated.

Validation of `dict[str, list[int | None]]` copies the dict and each row and checks each cell; the parser's own
rows make that a copy only when they are a dict of new lists (none shared with another row, another report or a
memo) holding ints and None alone, with no other int-like type (a bool, a float, a Decimal) that validation
would turn into an int or reject. Checked over clean and damaged renderings of every text layout and HTML."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from report.model import Report, Source, Tables
from report.parse import parse_file
from tests.generator import FILE_SUFFIX, LAYOUTS, TEXT_LAYOUTS, damage, make_truth, rendered_lines

_REPORTS = 24  # per layout, and as many damaged renderings of the text layouts


def _files(folder: Path, layout: str) -> list[Path]:
    rng = random.Random(f"model-{layout}")
    paths: list[Path] = []
    for index in range(_REPORTS):
        rendered = LAYOUTS[layout](make_truth(rng), rng)
        path = folder / f"{index}.{FILE_SUFFIX[layout]}"
        path.write_bytes(rendered.encode("utf-8") if isinstance(rendered, str) else rendered)
        paths.append(path)
        if layout in TEXT_LAYOUTS:
            lines, _ = damage(rendered_lines(layout, make_truth(rng), rng), rng)
            path = folder / f"{index}-damaged.txt"
            path.write_text("\n".join(lines), encoding="utf-8")
            paths.append(path)
    return paths


def _validated(tables: Tables) -> Tables:
    """What `parse_document` made of the same tables before: all three validated together."""
    return Tables(active=tables.active, requests=tables.requests, appeals=tables.appeals)


def assert_as_validated(report: Report, again: Report) -> None:
    """`report`'s tables are validation's (`again`: the same file parsed once more, from the parser's memos)."""
    tables = report.tables
    validated = _validated(tables)
    assert tables == validated
    assert tables.model_fields_set == validated.model_fields_set == {"active", "requests", "appeals"}
    assert list(vars(tables)) == list(vars(validated))
    assert report.to_contract() == report.model_copy(update={"tables": validated}).to_contract()
    requests = tables.requests
    if requests is None:
        return
    assert type(requests) is dict
    rows = list(requests.values())
    assert all(type(row) is list for row in rows)
    assert {type(cell) for row in rows for cell in row} <= {int, type(None)}
    assert len(set(map(id, rows))) == len(rows), "a row list shared by two rows"
    assert again.tables.requests == requests
    assert again.tables.requests is not requests
    assert not set(map(id, rows)) & set(map(id, again.tables.requests.values())), "a row list shared by two reports"


@pytest.mark.parametrize("layout", [*TEXT_LAYOUTS, "html"])
def test_tables_are_what_validation_makes(tmp_path: Path, layout: str) -> None:
    read = 0
    for path in _files(tmp_path, layout):
        report = parse_file(path)
        assert_as_validated(report, parse_file(path))
        read += report.tables.requests is not None
    assert read >= _REPORTS  # table 三 read in (nearly) every file: the checks above ran


@pytest.mark.filterwarnings("ignore:Pydantic serializer warnings")  # the float cell, serialized
def test_a_cell_validation_would_change_is_caught() -> None:
    """The checks fail on what validation would not copy as it is: a float cell, a row shared by two rows."""
    report = Report(source=Source(path="x", sha256="0", format="txt"), tables=Tables(requests=None))
    report.tables.active = report.tables.appeals = None
    row: list[int | None] = [1, 2, 3, 4, 5, 6, 21]
    for planted in ({"new": [1.0, *row[1:]]}, {"new": row, "total": row}, {"new": [True, *row[1:]]}):
        report.tables.requests = planted  # type: ignore[assignment]  # the planted defect
        again = report.model_copy(deep=True)
        with pytest.raises(AssertionError):
            assert_as_validated(report, again)
