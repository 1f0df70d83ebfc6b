"""Table-driven unit tests of the parser's layers: line -> tokens (report/tokens.py), heading and label
recognition (report/labels.py), tokens -> cells (report/tables.py)."""

from __future__ import annotations

import random
from decimal import Decimal
from typing import Any

import pytest

from report import normalized, tables, tokens
from report.document import Document, Grid, TextLine, lines_document
from report.labels import PAGE_FOOTER, heading_section, renumbered_section
from report.model import REQUEST_KEYS, REQUEST_ROWS, Source
from report.normalized import normalize
from report.parse import _find_headings, _regions, _table_spans, _unfuse, parse_document
from report.tables import (
    APPEAL_BLOCK_WIDTH,
    APPEAL_WIDTH,
    DOCUMENT_WIDTH,
    REQUEST_WIDTH,
    TableReading,
    appeal_totals_hold,
    last_appeal_block_holds,
    read_appeals,
    read_requests,
    readings,
    row_total_holds,
)
from report.tokens import Kind, Stream, Token, collapsed_lines, grid_rows, row_lines, tokenize
from tests import generator


def kinds_and_texts(*lines: str) -> list[tuple[str, str]]:
    return [(token.kind.value, token.text) for token in tokenize(lines_document("\n".join(lines)), {}).tokens]


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        (["规章 0 0 0"], [("text", "规章"), ("number", "0"), ("number", "0"), ("number", "0")]),
        (["规章 000"], [("text", "规章"), ("number", "000")]),  # fused digits stay one token
        (
            ["行政许可2293行政强制42"],
            [("text", "行政许可"), ("number", "2293"), ("text", "行政强制"), ("number", "42")],
        ),
        (["（三）不予公开1.属于国家秘密0000000"], [("text", "(三)不予公开1.属于国家秘密"), ("number", "0000000")]),
        (["00000002.其他法律"], [("text", "00000002.其他法律")]),  # at line start: a label's numbering
        (["秘密00000002.其他法律"], [("text", "秘密"), ("number", "0000000"), ("text", "2.其他法律")]),
        (["共收到70件申请，2021年办结"], [("text", "共收到70件申请,2021年办结")]),  # prose keeps its numbers
        (["| 类别 | 数据1 | 总计 |"], [("text", "类别"), ("text", "数据1"), ("text", "总计")]),  # cells are whole
        (["- 4 -", "— 6 —", "第 3 页 共 9 页", "3/9", "5"], [("number", "5")]),  # page footers are not values
        (["收费", "851", ".", "776247"], [("text", "收费"), ("number", "851.776247")]),
        (["|---|---|", "| - | - |", "1"], [("number", "1")]),  # a placeholder header row is not data
        (["标签", "| 1 | 0 |"], [("text", "标签"), ("break", ""), ("number", "1"), ("number", "0")]),
        (["\t行政许可", "\t\xa0", "5"], [("text", "行政许可"), ("number", "5")]),  # a value wrapped below its cell
        (["\t行政许可", "\t\xa0", "\t5"], [("text", "行政许可"), ("blank", ""), ("number", "5")]),  # a blank cell
        (
            ["无 5 -"],
            [("text", "无"), ("number", "5"), ("placeholder", "-")],
        ),  # a first word is a value only as a number
        (["1.5 无 2"], [("number", "1.5"), ("placeholder", "无"), ("number", "2")]),
        (["1.属于国家秘密 3 0"], [("text", "1.属于国家秘密"), ("number", "3"), ("number", "0")]),  # a numbered label
        (["1,234 行政 许可 9"], [("text", "1,234 行政 许可"), ("number", "9")]),  # a value before a word is label
    ],
)
def test_line_to_tokens(lines: list[str], expected: list[tuple[str, str]]) -> None:
    assert kinds_and_texts(*lines) == expected


def test_grid_cells_to_tokens() -> None:
    """A grid's cells are read row by row, covered cells left out, and a decimal split over its cells joined."""
    document = Document([TextLine("收费"), Grid((("行政事业性收费", None, "851"), (".", "776247", "")))])
    tokens = [(token.kind.value, token.text) for token in tokenize(document, {}).tokens]
    assert tokens == [("text", "收费"), ("text", "行政事业性收费"), ("number", "851.776247"), ("blank", "")]


@pytest.mark.parametrize(
    "row",
    [
        ("规章", None, "０", "\u3000１２\xa0", ""),
        ("e", "\u0301x", None, "\u1100", "\u1161"),  # a combining accent, Hangul jamo: nothing composes across cells
        ("A\u030a", "\ufb01", "㍿", " \t ", "(一)予以公开"),
        (None, None),
        ("", "\t"),
        ("规章 0 -", "合计\u30001,234 无", "- 5", "5 . 6", "第1项 ２ 三"),  # values spaced off their labels
        ("规章" * 120, "０", None),  # longer than a remembered row
    ],
)
def test_grid_row_line(row: tuple[str | None, ...]) -> None:
    """A grid row's line is its cells tab-joined and normalized, however it is worked out."""
    assert row_lines(grid_rows(Grid((row, row)))) == [normalize("\t".join(cell or "" for cell in row))] * 2


@pytest.mark.parametrize(
    ("line", "section"),
    [
        ("六、其他需要报告的事项", "六"),
        ("六、其他应说明事项", "六"),
        ("五、存在的不足及改进措施", "五"),
        ("5、政务公开工作存在的主要问题及改进情况", "五"),
        ("四、结转下年度继续办理", None),
        ("三、主动公开政府信息情况", None),  # numeral and words disagree: not a heading by its numeral
    ],
)
def test_heading_section(line: str, section: str | None) -> None:
    assert heading_section(line) == section


@pytest.mark.parametrize(
    ("line", "found"),
    [
        ("一、主动公开政府信息情况", ("二", "一")),
        ("三、政府信息公开行政复议、行政诉讼情况", ("四", "三")),
        ("5、因政府信息公开申请提起行政复议、行政诉讼的情况", ("四", "五")),
        ("五、其他需要说明的事项", ("六", "五")),
        ("三、主动公开工作情况", None),  # a narrative sub-head, not the part's words
    ],
)
def test_renumbered_section(line: str, found: tuple[str, str] | None) -> None:
    assert renumbered_section(line) == found


@pytest.mark.parametrize("line", ["- 4 -", "— 6 —", "第 3 页 共 9 页", "第3页", "3/9", "共9页 第3页"])
def test_page_footers(line: str) -> None:
    assert PAGE_FOOTER.match(line)


@pytest.mark.parametrize(
    ("text", "numerals"),
    [
        ("前言。一、总体情况2021年，我区……。二、主动公开政府信息情况 第二十条", ["一", "二"]),
        ("本报告包括一、总体情况，二、主动公开政府信息情况等六个部分。", []),  # a list in prose
        ("行政事业性收费无三、收到和处理政府信息公开申请情况（本列数据…）申请人情况", ["三"]),
        ("结转下年度继续办理 0000000 四、政府信息公开行政法复议、行政诉讼情况行政复议 行政诉讼 结果维持", ["四"]),
    ],
)
def test_headings_inside_a_line(text: str, numerals: list[str]) -> None:
    headings, _ = _find_headings(_unfuse(Document([TextLine(text)])))
    assert list(headings.values()) == numerals


def test_heading_split_after_its_numeral() -> None:
    headings, _ = _find_headings(_unfuse(lines_document("六、\n- 9 -\n其他需要报告的事项\n无。")))
    assert list(headings.values()) == ["六"]


def numbers(*texts: str) -> list[Token]:
    return [Token(Kind.NUMBER, text) for text in texts]


@pytest.mark.parametrize(
    ("values", "collapsed", "expected"),
    [
        (["640020470"], False, [(64, 0, 0, 2, 0, 4, 70)]),  # fused: the one split whose columns add up
        (["801000081"], False, [(80, 1, 0, 0, 0, 0, 81)]),
        (["8", "0", "8"], True, [(8, 0, 0, 0, 0, 0, 8)]),  # collapsed repeats
        (["0"], True, [(0,) * 7]),
        (["160", "0", "0", "2", "0", "0", "1", "62"], False, [(160, 0, 0, 2, 0, 0, 162)]),  # split over lines
        (["5", "3", "0", "1", "0", "9"], True, [(5, 3, 0, 0, 1, 0, 9), (5, 3, 0, 1, 0, 0, 9)]),  # ambiguous
        (["99"], False, []),  # too few digits for seven cells
    ],
)
def test_readings_of_damaged_rows(values: list[str], collapsed: bool, expected: list[tuple[int, ...]]) -> None:
    found = readings(numbers(*values), REQUEST_WIDTH, row_total_holds, collapsed=collapsed)
    assert sorted(found or []) == sorted(expected)


def test_fused_table_four_has_one_split() -> None:
    found = readings(numbers("10203120001200000"), APPEAL_WIDTH, appeal_totals_hold, partial=appeal_totals_hold)
    assert found == [(1, 0, 2, 0, 3, 12, 0, 0, 0, 12, 0, 0, 0, 0, 0)]


def test_row_with_a_vertical_label_character() -> None:
    tokens = tokenize(
        lines_document("二、上年结转政府信息公开申请数量 0 0 0 0 0 0 0\n三\n、\n本\n（一）予以公开 1 0 0 0 0 0 1"), {}
    )
    reading = TableReading()
    rows = read_requests(tokens, reading)
    assert rows is not None
    assert rows["carried_in"] == [0] * 7 and rows["granted"] == [1, 0, 0, 0, 0, 0, 1]


def test_unreadable_table_four_is_present_but_null() -> None:
    reading = TableReading()
    table = read_appeals(numbers("1", "2", "3"), reading)
    assert table is not None and table.review.total is None
    assert any(problem.startswith("表四无法可靠读取") for problem in reading.problems)


def test_collapsed_lines_detection() -> None:
    values = "\n".join(["标签", *(str(n % 2) for n in range(30))])
    assert collapsed_lines(lines_document(values))
    assert not collapsed_lines(lines_document(values + "\n1\n1"))


def test_tokens_do_not_depend_on_what_the_line_memos_hold(monkeypatch: pytest.MonkeyPatch) -> None:
    """The memos of analysed and simple lines forget everything when (nearly) full, together; a document
    tokenized while they fill up and forget, again and again, gives what it gives with them roomy."""
    rng = random.Random(20)
    layouts = ("spaces", "cell_lines_tabs", "cell_lines_blank", "tsv_shifted", "markdown")
    documents = [
        lines_document("\n".join(generator.rendered_lines(layout, generator.make_truth(rng), rng)))
        for layout in layouts
        for _ in range(3)
    ]
    expected = [(stream.tokens, stream.blocks) for stream in (tokenize(document, {}) for document in documents)]
    monkeypatch.setattr(normalized, "REMEMBERED_LINES", 64)
    monkeypatch.setattr(tokens, "REMEMBERED_LINES", 64)
    for _ in range(3):
        got = [(stream.tokens, stream.blocks) for stream in (tokenize(document, {}) for document in documents)]
        assert got == expected
    assert all(len(memo) <= 64 for memo in (*tokens._LINES.values(), *tokens._SIMPLE_TOKENS.values()))


def test_a_remembered_table_plan_reads_each_reports_own_values(monkeypatch: pytest.MonkeyPatch) -> None:
    """Table 三's plan is remembered by its tokens' kinds and label texts: tables of the same template with
    other values (another whole number, a placeholder, a decimal, a blank) read as they read with nothing
    remembered."""
    rng = random.Random(24)
    streams = []
    for layout in generator.TEXT_LAYOUTS:
        lines = generator.rendered_lines(layout, generator.make_truth(rng), rng)
        document = tokenize(lines_document("\n".join(lines)), {})
        stream = document.part(*_table_spans(document.tokens, _regions(document))["三"])
        numbered = [index for index, token in enumerate(stream.tokens) if token.kind is Kind.NUMBER]
        for change in (
            Token(Kind.NUMBER, "7", 7),
            Token(Kind.PLACEHOLDER, "无"),
            Token(Kind.NUMBER, "2.5", Decimal("2.5")),
            Token(Kind.BLANK, ""),
        ):
            changed = list(stream.tokens)
            changed[numbered[len(numbered) // 2]] = change
            streams += [stream, Stream(changed, stream.runs, first=stream.first)]

    def read_all() -> list[tuple[object, ...]]:
        results = []
        for stream in streams:
            reading = TableReading()
            rows = read_requests(stream, reading)
            results.append((rows, reading.problems, reading.markers, reading.blanks, reading.invalid))
        return results

    monkeypatch.setattr(tables, "_REQUEST_PLANS", {})
    remembered = read_all()
    assert 0 < len(tables._REQUEST_PLANS) < len(streams)
    assert all(remembered[index] != remembered[index + 1] for index in range(0, len(streams), 2))
    # Each change but the whole number is recorded: a problem (placeholder, decimal) or a blank cell.
    recorded = [bool(problems or blanks) for _, problems, _, blanks, _ in remembered[1::2]]
    assert recorded == [False, True, True, True] * len(generator.TEXT_LAYOUTS)
    monkeypatch.setattr(tables, "_REQUEST_PLANS", _Forgetful())
    assert read_all() == remembered


class _Forgetful(dict[object, object]):
    """A memo that never finds what it was given."""

    def get(self, key: object, default: object = None) -> object:
        return default


def test_new_lines_among_remembered_ones_tokenize_as_with_nothing_remembered(monkeypatch: pytest.MonkeyPatch) -> None:
    """A report met the first time after others of its layout: its new rows (new values, a new number, a
    row of a blank cell and its wrapped value) stand among lines remembered as simple; its tokens are those
    of the same document tokenized with every memo empty."""
    rng = random.Random(31)
    for layout in generator.TEXT_LAYOUTS:
        earlier = lines_document("\n".join(generator.rendered_lines(layout, generator.make_truth(rng), rng)))
        lines = generator.rendered_lines(layout, generator.make_truth(rng), rng)
        middle = len(lines) // 2
        lines[middle:middle] = ["\t行政强制", "\t\xa0", "987654", "规章 123457 无 -", "1.属于国家秘密 3 0 0"]
        document = lines_document("\n".join(lines))
        tokenize(earlier, {})
        warm = tokenize(document, {})
        for name in ("_LINES", "_SIMPLE_TOKENS", "_LABELS"):
            monkeypatch.setattr(tokens, name, {False: normalized.LineMemo(), True: normalized.LineMemo()})
        monkeypatch.setattr(tokens, "_VALUES", normalized.LineMemo())
        cold = tokenize(document, {})
        assert (warm.tokens, warm.blocks) == (cold.tokens, cold.blocks)
        assert [token.text for token in cold.tokens if token.text in ("987654", "123457")] == ["987654", "123457"]


def test_a_number_too_long_for_any_context_is_a_problem_not_an_error() -> None:
    """A table 三 cell of a million digits (untrusted input) cannot be added up as a Decimal: it is read as
    out of range, like any number beyond a database integer."""
    rng = random.Random(7)
    lines = generator.rendered_lines("spaces", generator.make_truth(rng), rng)
    document = tokenize(lines_document("\n".join(lines)), {})
    stream = document.part(*_table_spans(document.tokens, _regions(document))["三"])
    changed = list(stream.tokens)
    position = next(index for index, token in enumerate(changed) if token.kind is Kind.NUMBER)
    digits = "9" * 1_000_001
    changed[position] = Token(Kind.NUMBER, digits, Decimal(digits))
    reading = TableReading()
    rows = read_requests(Stream(changed, stream.runs, first=stream.first), reading)
    assert rows is not None
    assert [cell for row in rows.values() for cell in row].count(None) == 1
    assert any("超出可以存储的范围" in problem for problem in reading.problems)


@pytest.mark.parametrize(
    ("values", "width", "check", "options"),
    [
        (["640020470"], REQUEST_WIDTH, row_total_holds, {}),
        (["5", "3", "0", "1", "0", "9"], REQUEST_WIDTH, row_total_holds, {"collapsed": True}),
        (["693665"], DOCUMENT_WIDTH, None, {}),
        (["10203120001200000"], APPEAL_WIDTH, appeal_totals_hold, {"partial": last_appeal_block_holds}),
        (["1" * 60], APPEAL_WIDTH, appeal_totals_hold, {"partial": last_appeal_block_holds}),  # too many to try
        (["99"], REQUEST_WIDTH, row_total_holds, {}),
        (["1", "1.5"], REQUEST_WIDTH, row_total_holds, {}),  # not whole numbers: no reading
    ],
)
def test_remembered_readings_are_the_searched_ones_in_a_list_of_their_own(
    monkeypatch: pytest.MonkeyPatch, values: list[str], width: int, check: Any, options: dict[str, Any]
) -> None:
    monkeypatch.setattr(tables, "_READINGS", {})
    searched = readings(numbers(*values), width, check, **options)
    assert tables._READINGS  # the answer was kept
    remembered = readings(numbers(*values), width, check, **options)
    assert remembered == searched
    if searched is not None:
        assert remembered is not searched
        remembered.clear()  # a caller changing its list changes no later answer
        assert readings(numbers(*values), width, check, **options) == searched


def test_table_three_read_by_row_order_with_just_a_line_of_values_per_row() -> None:
    # Every other row's label printed away from its values: the rows are read by their order, from exactly
    # `REQUEST_WIDTH` values a row (the fewest that can be such a table).
    zeros = " ".join(["0"] * REQUEST_WIDTH)
    lines = [f"{REQUEST_ROWS[key]} {zeros}" if index % 2 == 0 else zeros for index, key in enumerate(REQUEST_KEYS)]
    in_order = tables._requests_in_row_order(tokenize(lines_document("\n".join(lines)), {}))
    assert in_order is not None
    assert list(in_order) == list(REQUEST_KEYS)
    assert all([token.number for token in run] == [0] * REQUEST_WIDTH for run in in_order.values())
    for line, broken in ((-1, zeros[:-2]), (0, "1" + zeros[1:]), (1, "无" + zeros[1:])):
        # a value short; a new request the balance (new + carried in = total + carried out) does not hold; text
        kept, lines[line] = lines[line], broken
        assert tables._requests_in_row_order(tokenize(lines_document("\n".join(lines)), {})) is None, broken
        lines[line] = kept


def _cuts_as_defined(
    digits: str, width: int, fixed: set[int], check: Any, partial: Any, limit: int
) -> list[tuple[int, ...]] | None:
    """`tables._cuts` as first written (every prefix walked, `limit` walks at most): what the search must find,
    None where it ran out."""
    budget = [limit]
    boundaries = sorted(fixed | {len(digits)})
    following = [next(b for b in boundaries if b > position) for position in range(len(digits))]
    pendings = [sum(1 for b in boundaries if b > position) for position in range(len(digits))]
    found: list[tuple[int, ...]] = []

    def walk(position: int, cells: list[int]) -> None:
        budget[0] -= 1
        if budget[0] < 0:
            raise tables._TooMany
        if position == len(digits):
            if len(cells) == width and check(cells):
                found.append(tuple(cells))
            return
        if len(cells) + pendings[position] > width:
            return
        limit = min(following[position], position + tables._CELL_DIGITS)
        for end in range(position + 1, limit + 1):
            if digits[position] == "0" and end > position + 1:
                break
            cells.append(int(digits[position:end]))
            if partial is None or partial(cells):
                walk(end, cells)
            cells.pop()

    try:
        walk(0, [])
    except tables._TooMany:
        return None
    return found


def _damaged_digits(width: int, rng: random.Random) -> tuple[str, set[int]]:
    """A row's digits as a crawler fuses them (often a true row's, with its relations; else any digits, zeros
    common), and the token boundaries among them."""
    if rng.random() < 0.6:
        cells = [rng.choice((0, 0, 0, rng.randrange(1, 10), rng.randrange(10, 400))) for _ in range(width)]
        for start in range(0, width - width % APPEAL_BLOCK_WIDTH if width > REQUEST_WIDTH else 0, APPEAL_BLOCK_WIDTH):
            cells[start + APPEAL_BLOCK_WIDTH - 1] = sum(cells[start : start + APPEAL_BLOCK_WIDTH - 1])
        if width == REQUEST_WIDTH:
            cells[-1] = sum(cells[:-1])
        digits = "".join(map(str, cells))
    else:
        digits = "".join(rng.choice("0001123456789") for _ in range(rng.randrange(1, 2 * width + 3)))
    fixed = {position for position in range(1, len(digits)) if rng.random() < 0.1}
    return digits, fixed


def test_damaged_row_search_finds_what_the_walk_of_every_prefix_finds(monkeypatch: pytest.MonkeyPatch) -> None:
    # Widths 3 (no relation), 7 (table 三) and 15 (table 四, with and without its prefix check); budgets that run
    # out, and ones the search provably stays within (then it skips prefixes that can lead to no reading).
    rng = random.Random(15)
    searches: list[tuple[int, Any, Any]] = [
        (DOCUMENT_WIDTH, lambda cells: True, None),
        (REQUEST_WIDTH, row_total_holds, None),
        (APPEAL_WIDTH, appeal_totals_hold, last_appeal_block_holds),
        (APPEAL_WIDTH, appeal_totals_hold, None),
    ]
    outcomes = {"ran out": 0, "none": 0, "one": 0, "several": 0, "within the budget": 0}
    for _ in range(1000):
        width, check, partial = rng.choice(searches)
        digits, fixed = _damaged_digits(width, rng)
        limit = rng.choice((60, 300, 2000, 10_000))
        monkeypatch.setattr(tables, "SEARCH_LIMIT", limit)
        expected = _cuts_as_defined(digits, width, fixed, check, partial, limit)
        try:
            found: list[tuple[int, ...]] | None = tables._cuts(digits, width, fixed, check, partial)
        except tables._TooMany:
            found = None
        assert found == expected, (digits, width, sorted(fixed), partial, limit)
        outcomes["ran out" if found is None else ("none", "one", "several")[min(len(found), 2)]] += 1
        following = [min(b for b in (*fixed, len(digits)) if b > position) for position in range(len(digits))]
        outcomes["within the budget"] += tables._walk_bound(digits, following) <= limit
    assert min(outcomes.values()) >= 20, outcomes


def _collapsed_as_defined(document: Document) -> bool:
    """`tokens.collapsed_lines` as first written, a line at a time."""
    if document.grids:
        return False
    previous = None
    single_values = 0
    for line in document.lines:
        text = line.strip()
        if not text:
            continue
        if text == previous:
            return False
        previous = text
        single_values += bool(tokens._NUMBER.match(text))
    return single_values >= tokens._COLLAPSED_MIN_VALUES


def test_collapsed_lines_are_told_as_a_line_at_a_time() -> None:
    # Generated text reports as they are, collapsed like `uniq` (blank lines dropped), and with blank lines and
    # trailing spaces put back at random.
    rng = random.Random(30)
    answers = []
    for _ in range(40):
        layout = rng.choice(generator.TEXT_LAYOUTS)
        rendered = generator.LAYOUTS[layout](generator.make_truth(rng), rng)
        assert isinstance(rendered, str)
        lines = rendered.splitlines()
        nonblank = [line.strip() for line in lines if line.strip()]
        collapsed = [line for index, line in enumerate(nonblank) if index == 0 or line != nonblank[index - 1]]
        spaced = [line + rng.choice(("", " ", "\n", "\n \n")) for line in collapsed]
        for variant in (lines, collapsed, "\n".join(spaced).splitlines(), collapsed[:25]):
            document = lines_document("\n".join(variant))
            answers.append(_collapsed_as_defined(document))
            assert collapsed_lines(document) == answers[-1], (layout, variant[:40])
    assert 20 <= answers.count(True) <= len(answers) - 20
    for values in (tokens._COLLAPSED_MIN_VALUES - 1, tokens._COLLAPSED_MIN_VALUES):  # the fewest one-number lines
        document = lines_document("\n".join(["标签", *(str(number % 2) for number in range(values))]))
        assert collapsed_lines(document) == _collapsed_as_defined(document) == (values >= tokens._COLLAPSED_MIN_VALUES)


def test_relations_hold_as_a_column_at_a_time() -> None:
    # `_relation_holds` against its definition: every column adds up, and a blank cell holds nothing up.
    rng = random.Random(3)
    answers = []
    for _ in range(400):
        rows: dict[str, list[int | None]] = {key: [0] * REQUEST_WIDTH for key in REQUEST_KEYS}
        for _ in range(rng.randrange(3)):  # a cell or two changed: a count, or a blank
            rows[rng.choice(REQUEST_KEYS)][rng.randrange(REQUEST_WIDTH)] = rng.choice((1, 2, None))
        for left, right in tables.REQUEST_RELATIONS:
            columns = [[rows[key][column] for key in (*left, *right)] for column in range(REQUEST_WIDTH)]
            holds = all(
                None not in cells and sum(cells[: len(left)]) == sum(cells[len(left) :])  # type: ignore[arg-type]
                for cells in columns
            )
            answers.append(holds)
            assert tables._relation_holds(rows, left, right) == holds
    assert 50 <= answers.count(True) <= len(answers) - 50


@pytest.mark.parametrize("number", [0, 7, 10**18, tables.MAX_CELL, tables.MAX_CELL + 1, 10**19 - 1])
def test_a_recovered_cell_is_read_as_a_cell_of_its_digits(number: int) -> None:
    # An int where a cell holds it (a row of ints is read at once), else a Decimal `cell_value` refuses: what
    # `cell_value` makes of it is what it makes of the same digits written in a cell.
    token = tables._digits_cell(number)
    assert (type(token.number) is int) == (number <= tables.MAX_CELL)
    written = tokenize(lines_document(f"x {number}"), {}).tokens[-1]
    recovered_reading, written_reading = TableReading(), TableReading()
    value = tables.cell_value(token, "appeals.review.total", recovered_reading, "四")
    assert value == tables.cell_value(written, "appeals.review.total", written_reading, "四")
    assert value == (number if number <= tables.MAX_CELL else None)
    assert (recovered_reading.invalid, recovered_reading.problems) == (
        written_reading.invalid,
        written_reading.problems,
    )


def test_damaged_reports_read_again_read_as_first(monkeypatch: pytest.MonkeyPatch) -> None:
    # Remembered readings change nothing: a damaged rendering parsed with none of its runs remembered, then again
    # (its runs' readings remembered), reads the same.
    source = Source(path="x.txt", sha256="0" * 64, format="txt")
    rng = random.Random(44)
    remembered = 0
    for _ in range(40):
        layout = rng.choice(generator.TEXT_LAYOUTS)
        lines, _ = generator.damage(generator.rendered_lines(layout, generator.make_truth(rng), rng), rng)
        monkeypatch.setattr(tables, "_READINGS", {})
        first = parse_document(lines_document("\n".join(lines)), source).model_dump()
        remembered += bool(tables._READINGS)
        assert parse_document(lines_document("\n".join(lines)), source).model_dump() == first, layout
    assert remembered >= 10
