"""Read the three statistical tables out of a token stream.

Rows are found by their labels, in order, and each takes the run of values that follows its label. A run
wider than the row (merged-cell shifts leave empty cells at its ends) is trimmed of blanks at the ends; a
run that still does not fit is not guessed at: the row stays null and `problems` says what was there.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property, lru_cache, partial
from itertools import combinations, compress, groupby, product, repeat
from math import prod
from operator import is_, itemgetter
from typing import Any, Literal, NamedTuple, overload

from report.document import Document
from report.labels import ACTIVE_LABELS, REQUEST_CORES, REQUEST_EXACT, strip_numbering
from report.model import (
    ACTIVE_DOCUMENT_FIELDS,
    APPEAL_BLOCKS,
    APPEAL_FIELDS,
    APPLICANT_COLUMNS,
    OUTCOME_KEYS,
    REQUEST_KEYS,
    REQUEST_ROWS,
    ActiveTable,
    AppealsTable,
    Cell,
    empty_requests,
)
from report.normalized import REMEMBERED_LENGTH, REMEMBERED_LINES, Memo, compact
from report.tokens import (
    BLANK,
    BREAK,
    HEADING_KIND,
    NUMBER,
    PLACEHOLDER,
    TEXT,
    VALUE_KINDS,
    Kind,
    Stream,
    Token,
    collapsed_lines,
)

# The fixed widths of the format's rows.
REQUEST_WIDTH = len(APPLICANT_COLUMNS)  # 6 applicant columns and 总计
APPEAL_BLOCK_WIDTH = len(APPEAL_FIELDS)  # 维持, 纠正, 其他, 尚未审结, 总计
APPEAL_WIDTH = len(APPEAL_BLOCKS) * APPEAL_BLOCK_WIDTH  # 15
DOCUMENT_WIDTH = len(ACTIVE_DOCUMENT_FIELDS)  # 本年制发, 本年废止, 现行有效
# How many ways of cutting a damaged row are tried before it is given up as unreadable.
SEARCH_LIMIT = 50_000
# A lone CJK numeral among values: a merged label printed one character per line (三 of 三、本年度办理结果).
_VERTICAL_LABEL = frozenset("一二三四五六七八九十")

Check = Callable[[Sequence[int]], bool]
MAX_CELL = 2**63 - 1  # the largest count a cell may hold: a database's BIGINT
_CELL_DIGITS = len(str(MAX_CELL))  # digits of the largest cell


class Segment(NamedTuple):
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
    # The document the tables are read from: whether a crawler collapsed its repeated lines is worked out only
    # when a damaged row asks (most reports have none).
    document: Document | None = None

    @cached_property
    def collapsed(self) -> bool:
        """The document's repeated lines were collapsed (see `tokens.collapsed_lines`)."""
        return self.document is not None and collapsed_lines(self.document)


def segments(tokens: Sequence[Token]) -> list[Segment]:
    """The tokens as segments: a run of text tokens (a label) and the run of values after it. A BREAK ends a
    segment; a HEADING token ends nothing (a table is read within its section). Runs of one kind are taken
    whole (`groupby` walks the tokens in C): a row's values are one run."""
    result: list[Segment] = []
    labels: list[Token] = []
    values: list[Token] = []
    for kind, run in groupby(tokens, _KIND_OF):
        if kind in VALUE_KINDS:  # the commonest run first
            values += run
        elif kind is TEXT:
            if values:
                result.append(_new_segment((labels, values)))
                labels, values = [], []
            labels += run
        elif kind is BREAK:
            if labels or values:
                result.append(_new_segment((labels, values)))
            labels, values = [], []
    if labels or values:
        result.append(_new_segment((labels, values)))
    return result


# A segment made by `tuple.__new__` directly, without the named tuple's `__new__` (a Python function), as tokens are.
_new_segment: Callable[[tuple[list[Token], list[Token]]], Segment] = partial(tuple.__new__, Segment)


def fit(values: list[Token], width: int) -> list[Token] | None:
    """The run trimmed to `width`: surplus blanks go from the end first, then from the start."""
    if len(values) == width:
        return values  # the commonest run: nothing to trim (callers only read a run)
    run = list(values)
    while len(run) > width and run[-1].kind is BLANK:
        run.pop()
    while len(run) > width and run[0].kind is BLANK:
        run.pop(0)
    if len(run) > width:
        # A merged label printed one character per line leaves its numeral among the values (… 0 0 三).
        while len(run) > width and run[-1].kind is PLACEHOLDER and run[-1].text in _VERTICAL_LABEL:
            run.pop()
        while len(run) > width and run[0].kind is PLACEHOLDER and run[0].text in _VERTICAL_LABEL:
            run.pop(0)
    return run if len(run) == width else None


def row_total_holds(cells: Sequence[int]) -> bool:
    """Table 三: the six applicant columns add up to 总计."""
    return sum(cells[:-1]) == cells[-1]


def appeal_totals_hold(cells: Sequence[int]) -> bool:
    """Table 四: in each block 维持 + 纠正 + 其他 + 尚未审结 = 总计 (checked on the complete blocks)."""
    for start in range(0, len(cells) - APPEAL_BLOCK_WIDTH + 1, APPEAL_BLOCK_WIDTH):
        block = cells[start : start + APPEAL_BLOCK_WIDTH]
        if sum(block[:-1]) != block[-1]:
            return False
    return True


def last_appeal_block_holds(cells: Sequence[int]) -> bool:
    """`appeal_totals_hold` of a prefix whose shorter prefixes held already: only a block just completed is
    checked (the cheap test `_cuts` prunes table 四's prefixes with)."""
    if len(cells) % APPEAL_BLOCK_WIDTH:
        return True
    return sum(cells[-APPEAL_BLOCK_WIDTH:-1]) == cells[-1]


def _cuts(digits: str, width: int, fixed: set[int], check: Check, partial: Check | None) -> list[tuple[int, ...]]:
    """Every way of cutting `digits` into `width` numbers without leading zeros, cutting at every position in
    `fixed` (the boundaries between tokens), for which `check` holds; `partial` prunes prefixes (it is asked of
    every prefix as it grows, so it need only test what the last cell adds)."""
    budget = [SEARCH_LIMIT]
    boundaries = sorted(fixed | {len(digits)})
    # For every position: the next boundary after it, and how many boundaries lie after it (tokens still to
    # cut: each needs a cell).
    following = [next(b for b in boundaries if b > position) for position in range(len(digits))]
    pendings = [sum(1 for b in boundaries if b > position) for position in range(len(digits))]
    # A cell ending after `reach + cells before it` leaves fewer digits than cells still to fill: no reading lies
    # beyond it, so it is not tried when the walk provably stays within the budget (`partial` is pure: asking
    # it less changes nothing). Otherwise every prefix is walked, as the budget counts them.
    reach = len(digits) - width + 1 if _walk_bound(digits, following) <= SEARCH_LIMIT else len(digits)
    found: list[tuple[int, ...]] = []

    def walk(position: int, cells: list[int]) -> None:
        budget[0] -= 1
        if budget[0] < 0:
            raise _TooMany
        if position == len(digits):
            if len(cells) == width and check(cells):
                found.append(tuple(cells))
            return
        if len(cells) + pendings[position] > width:
            return
        limit = min(following[position], position + _CELL_DIGITS, reach + len(cells))
        for end in range(position + 1, limit + 1):
            if digits[position] == "0" and end > position + 1:
                break
            cells.append(int(digits[position:end]))
            if partial is None or partial(cells):
                walk(end, cells)
            cells.pop()

    walk(0, [])
    return found


def _walk_bound(digits: str, following: list[int]) -> int:
    """At least as many prefixes as `_cuts` walks, width and checks aside (they only cut the walk shorter): the
    ways of cutting each prefix of `digits` into cells (`following`: the boundary each cell stops at)."""
    if 2 ** len(digits) <= SEARCH_LIMIT:
        return 2 ** len(digits)  # p digits can be cut in 2**(p-1) ways at most, and the empty prefix in one
    ways = [1] + [0] * len(digits)  # ways[p]: the ways of cutting the first p digits
    for position in range(len(digits)):
        last = position + 1 if digits[position] == "0" else min(following[position], position + _CELL_DIGITS)
        for end in range(position + 1, last + 1):
            ways[end] += ways[position]
    return sum(ways)


class _TooMany(Exception):
    """More ways to read a damaged row than are worth trying: it is unreadable."""


def _joins(texts: list[str], width: int, check: Check) -> list[tuple[int, ...]]:
    """Ways of joining neighbouring tokens (a number split over lines, 1 / 62) into `width` numbers, in the
    order of the cut positions. Each join of tokens a..b is read once; a join with a leading zero ends every
    way that would use it."""
    count = len(texts)
    pieces: dict[tuple[int, int], int | None] = {}  # (first, end) token -> their digits joined, None: leading 0
    for first in range(count):
        joined = ""
        for end in range(first + 1, count + 1):
            joined += texts[end - 1]
            pieces[first, end] = None if len(joined) > 1 and joined[0] == "0" else int(joined)
    found: list[tuple[int, ...]] = []
    cells: list[int] = []

    def walk(first: int, cuts: int) -> None:
        if cuts == 0:
            last = pieces[first, count]
            if last is not None and check(reading := (*cells, last)):
                found.append(reading)
            return
        for end in range(first + 1, count - cuts + 1):
            piece = pieces[first, end]
            if piece is not None:
                cells.append(piece)
                walk(end, cuts - 1)
                cells.pop()

    walk(0, width - 1)
    return found


def _expansions(numbers: list[int], width: int, check: Check) -> list[tuple[int, ...]]:
    """Ways of undoing a crawler's collapse of repeated lines: each value stood for one or more equal cells."""
    found: list[tuple[int, ...]] = []
    for kept in combinations(range(1, width), len(numbers) - 1):
        edges = [0, *kept, width]
        cells = tuple(number for number, a, b in zip(numbers, edges, edges[1:], strict=False) for _ in range(b - a))
        if check(cells):
            found.append(cells)
    return found


def readings(
    values: Sequence[Token], width: int, check: Check | None, *, collapsed: bool = False, partial: Check | None = None
) -> list[tuple[int, ...]] | None:
    """The ways a damaged run of whole numbers can be read as `width` cells consistent with `check`, or None
    when the run is not of that kind (text in it, decimals) or has too many readings to try.

    Fewer numbers than cells: each number stood for several (a crawler that collapsed repeated lines) or
    holds several cells' digits fused together; more numbers than cells (and a relation to test): numbers
    split over lines are joined. A row with one reading is read; with several it is not guessed.

    Remembered: a re-parse meets the same runs, whose search costs up to thousands of steps (each call gets a
    list of its own)."""
    run = tuple(values)  # tokens hash and compare in C (their kinds are str enums)
    key = (run, width, check, collapsed, partial)
    try:
        remembered = _READINGS[key]
    except KeyError:
        pass
    else:
        return None if remembered is None else list(remembered)
    if not values or any(token.kind is not NUMBER or not token.text.isdigit() for token in values):
        found = None
    else:
        found = _search_readings([token.text for token in values], width, check, collapsed, partial)
    if len(run) <= 2 * width and (found is None or len(found) <= _REMEMBERED_EACH):
        if len(_READINGS) >= _REMEMBERED_RUNS:
            _READINGS.clear()
        _READINGS[key] = None if found is None else tuple(found)
    return found


# `readings` met before, by the run's tokens and what they were read for. At most `_REMEMBERED_RUNS` runs of at
# most twice their width (longer ones are no reading), with at most `_REMEMBERED_EACH` readings each: more are
# worked out again (a bound on the memory the memo holds; no real report seen has more than ten).
_READINGS: dict[
    tuple[tuple[Token, ...], int, Check | None, bool, Check | None], tuple[tuple[int, ...], ...] | None
] = {}
_REMEMBERED_RUNS = 1024
_REMEMBERED_EACH = 100


def _search_readings(
    texts: list[str], width: int, check: Check | None, collapsed: bool, partial: Check | None
) -> list[tuple[int, ...]] | None:
    """`readings` of a run of whole numbers (`texts`: digits only), worked out."""
    if sum(map(len, texts)) > width * _CELL_DIGITS:
        return None  # more digits than the cells can hold
    accept = check or (lambda cells: True)
    if len(texts) > width:
        if check is None or len(texts) > 2 * width:
            return None
        return _joins(texts, width, accept)
    if collapsed:
        return _expansions([int(text) for text in texts], width, accept)
    fixed: set[int] = set()
    position = 0
    for text in texts[:-1]:
        position += len(text)
        fixed.add(position)
    try:
        return _cuts("".join(texts), width, fixed, accept, partial)
    except _TooMany:
        return None


def _digits_cell(number: int) -> Token:
    """A recovered cell's token: its number an int when a cell can hold it, as the tokenizer's short numbers are
    (`cell_value` takes an int as it is, and a row of ints is read at once), else a Decimal `cell_value` refuses."""
    return Token(NUMBER, str(number), number if number <= MAX_CELL else Decimal(number))


def _describe(values: Sequence[Token]) -> str:
    return " ".join(token.text or "(空)" for token in values)


@overload
def cell_value(
    token: Token, path: str, reading: TableReading, where: str, *, decimal: Literal[False] = False
) -> Cell: ...
@overload
def cell_value(token: Token, path: str, reading: TableReading, where: str, *, decimal: bool) -> Cell | float: ...
def cell_value(token: Token, path: str, reading: TableReading, where: str, *, decimal: bool = False) -> Cell | float:
    """A cell's value: numbers as int (or float for 万元); text where a number is due is null and recorded."""
    number: int | Decimal | None = token.number
    if type(number) is int and token.kind is NUMBER:  # the common case: a whole number of at most 18 digits
        return float(number) if decimal else number
    if token.kind is BLANK:
        reading.blanks.append(path)
        return None
    if token.kind is PLACEHOLDER or number is None:
        reading.invalid[path] = token.text
        reading.problems.append(f"{where}：单元格填的是“{token.text}”，不是数字，按空值处理")
        return None
    if (
        number > MAX_CELL or number < -MAX_CELL
    ):  # beyond a database integer (and Python's 4,300-digit int-from-text limit)
        shown = token.text if len(token.text) <= 24 else f"{token.text[:12]}…（共 {len(token.text)} 位）"
        reading.invalid[path] = shown
        reading.problems.append(f"{where}：数值“{shown}”超出可以存储的范围，按空值处理")
        return None
    if decimal:
        return float(number)
    if isinstance(number, Decimal) and number != number.to_integral_value():
        reading.invalid[path] = token.text
        reading.problems.append(f"{where}：件数应为整数，实际为 {token.text}，按空值处理")
        return None
    return int(number)


def _request_match(segment: Segment) -> str | None:
    """The row key whose label ends this segment's text (the last label wins: headers come before)."""
    labels = tuple(map(_TEXT_OF, segment.labels))
    try:
        return _REQUEST_KEY_OF[labels]  # the same labels come in report after report
    except KeyError:
        pass
    key = _request_key(labels)
    if sum(map(len, labels)) <= REMEMBERED_LENGTH:
        if len(_REQUEST_KEY_OF) >= REMEMBERED_LINES:
            _REQUEST_KEY_OF.clear()
        _REQUEST_KEY_OF[labels] = key
    return key


# The row key of label texts met before (a plain dict: looked up for every segment, it costs less than a cache).
_REQUEST_KEY_OF: dict[tuple[str, ...], str | None] = {}


def _request_key(labels: tuple[str, ...]) -> str | None:
    """`_request_match` on the labels' texts."""
    text = "".join(map(compact, labels))
    best: tuple[int, str] | None = None
    for key, cores in REQUEST_CORES.items():
        for core in cores:
            position = text.rfind(core)
            if position >= 0 and (best is None or position + len(core) > best[0]):
                best = (position + len(core), key)
    offset = 0
    for label in labels:
        piece = compact(label)
        offset += len(piece)
        bare = strip_numbering(piece)
        for key, words in REQUEST_EXACT.items():
            if bare in words and (best is None or offset >= best[0]):
                best = (offset, key)
    return best[1] if best else None


def _read_damaged(
    values: Sequence[Token], width: int, check: Check | None, reading: TableReading, where: str, **options: Check | None
) -> tuple[list[tuple[int, ...]], str]:
    """Readings of a run that does not fit its row, and the Chinese reason when there is not exactly one."""
    found = readings(values, width, check, collapsed=reading.collapsed, **options)
    if found is None:
        return [], f"应有 {width} 列数值，找到 {len(values)} 个（{_describe(values)}），无法确定各列，按空值处理"
    if not found:
        return [], f"数值（{_describe(values)}）无论怎样拆分或合并都不符合表内的合计关系，无法确定各列，按空值处理"
    if len(found) > 1:
        return (
            found,
            f"数值（{_describe(values)}）有 {len(found)} 种拆分方式都符合表内的合计关系，无法确定各列，按空值处理",
        )
    return found, ""


def _recovered_note(where: str, values: Sequence[Token], cells: Sequence[int], reading: TableReading) -> None:
    how = "重复行被合并" if reading.collapsed else "数字粘连或被拆到多行"
    shown = " ".join(map(str, cells))
    reading.problems.append(f"{where}：原文数值为“{_describe(values)}”（{how}），按表内合计关系唯一还原为 {shown}")


# Table 三's relations between rows, column by column: (rows added, rows added) that must be equal.
REQUEST_RELATIONS: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = (
    (("new", "carried_in"), ("total", "carried_out")),
    (("total",), OUTCOME_KEYS),
)


def _relation_holds(rows: Mapping[str, Sequence[Cell]], left: Sequence[str], right: Sequence[str]) -> bool:
    """Whether sum(left rows) == sum(right rows) in every column; a blank cell holds nothing up."""
    for cells in zip(*(rows[key] for key in (*left, *right)), strict=True):  # a column's cells at a time
        if None in cells or sum(cells[: len(left)]) != sum(cells[len(left) :]):  # type: ignore[arg-type]
            return False
    return True


def _settle_requests(
    rows: dict[str, list[Cell]], open_rows: dict[str, list[tuple[int, ...]]], recovered: set[str], reading: TableReading
) -> None:
    """Rows with several readings are settled by the columns' relations (balance, total row) where every other
    row of a relation is known; a recovered row that breaks a relation whose rows are all known is dropped."""

    def known(key: str) -> bool:
        return None not in rows[key]  # cells are ints or None

    def fix(key: str, cells: tuple[int, ...]) -> None:
        rows[key] = list(cells)
        recovered.add(key)
        del open_rows[key]
        reading.problems.append(f"三/{REQUEST_ROWS[key]}：按本行与各列的合计关系唯一还原为 {' '.join(map(str, cells))}")

    changed = True
    while changed and open_rows:
        changed = False
        for left, right in REQUEST_RELATIONS:
            keys = (*left, *right)
            pending = [key for key in keys if key in open_rows]
            if not pending or not all(known(key) for key in keys if key not in pending):
                continue
            if prod(len(open_rows[key]) for key in pending) > SEARCH_LIMIT:
                continue
            fitting = [
                choice
                for choice in product(*(open_rows[key] for key in pending))
                if _relation_holds({**rows, **{k: list(c) for k, c in zip(pending, choice, strict=True)}}, left, right)
            ]
            if not fitting:
                for key in pending:
                    del open_rows[key]
                    reading.problems.append(f"三/{REQUEST_ROWS[key]}：任何读法都不符合各列的合计关系，按空值处理")
                changed = True
                continue
            for position, key in enumerate(pending):
                kept = list(dict.fromkeys(choice[position] for choice in fitting))
                if len(kept) == 1:
                    fix(key, kept[0])
                    changed = True
                elif len(kept) < len(open_rows[key]):
                    open_rows[key] = kept
                    changed = True
    for key in open_rows:
        reading.problems.append(
            f"三/{REQUEST_ROWS[key]}：有 {len(open_rows[key])} 种读法都符合表内的合计关系，无法唯一确定各列，按空值处理"
        )
    for left, right in REQUEST_RELATIONS:
        keys = (*left, *right)
        if recovered & set(keys) and all(known(key) for key in keys):
            if not _relation_holds(rows, left, right):  # type: ignore[arg-type]
                for key in recovered & set(keys):
                    rows[key] = [None] * REQUEST_WIDTH
                    reading.problems.append(f"三/{REQUEST_ROWS[key]}：还原的数值与表内各列的合计关系不符，按空值处理")


def _place_unlabelled(matched: list[tuple[Segment, str | None]], found: set[str]) -> list[tuple[Segment, str | None]]:
    """A row whose label the text layer garbled (2.其他法律行政止公开) takes the one row missing between its
    neighbours, when exactly one is missing there."""
    placed = list(matched)
    for position, (segment, key) in enumerate(matched):
        if key is not None or not segment.labels or not segment.values:
            continue
        before = next((k for _, k in reversed(placed[:position]) if k is not None), None)
        after = next((k for _, k in matched[position + 1 :] if k is not None), None)
        if before is None or after is None:
            continue
        between = REQUEST_KEYS[REQUEST_KEYS.index(before) + 1 : REQUEST_KEYS.index(after)]
        if len(between) == 1 and between[0] not in found:
            placed[position] = (segment, between[0])
            found.add(between[0])
    return placed


def _lines_of_values(stream: Stream) -> list[tuple[list[Token], str]] | None:
    """Table 三's rows as whole lines, in order: each line's values fitted to the row width, with the label
    text the line itself carries ('' when its label was printed elsewhere). None unless there is exactly one
    such line per row (a lone number on a line of its own, such as a page number, aside)."""
    # Each row's line holds `REQUEST_WIDTH` values at least (`fit` only trims a run): with fewer values than that
    # for every row, or fewer lines holding that many, no line need be gathered (both told in C; the lines of the
    # tokens are only worked out for the first test passed).
    holds_value = list(map(VALUE_KINDS.__contains__, map(_KIND_OF, stream.tokens)))
    if sum(holds_value) < len(REQUEST_KEYS) * REQUEST_WIDTH:
        return None
    blocks = stream.blocks
    values_per_line = Counter(compress(blocks, holds_value))
    if sum(map(REQUEST_WIDTH.__le__, values_per_line.values())) < len(REQUEST_KEYS):
        return None
    lines: dict[int, tuple[list[Token], list[Token]]] = {}
    for token, block in zip(stream.tokens, blocks, strict=True):
        if token.kind in (HEADING_KIND, BREAK):
            continue
        texts, values = lines.setdefault(block, ([], []))
        (values if token.kind in VALUE_KINDS else texts).append(token)
    rows: list[tuple[list[Token], str]] = []
    for texts, values in lines.values():
        if all(token.kind is BLANK for token in values):
            continue  # no values, or the empty cells of a header row
        run = fit(values, REQUEST_WIDTH)
        if run is None:
            if len(values) == 1 and not texts:
                continue
            return None
        rows.append((run, "".join(compact(token.text) for token in texts)))
    return rows if len(rows) == len(REQUEST_KEYS) else None


def _requests_in_row_order(stream: Stream) -> dict[str, list[Token]] | None:
    """Table 三 read by row order, for a converter that printed row labels away from their values (a
    PDF-to-Markdown shred): used only when there is one line of values per row, every line that still
    carries its label sits at that row's place (a third of the rows at least), and the table's relations
    (balance, total row) hold on the result."""
    lines = _lines_of_values(stream)
    if lines is None:
        return None
    anchors = 0
    numbers: dict[str, list[int | Decimal | None]] = {}
    for (run, label), key in zip(lines, REQUEST_KEYS, strict=True):
        row = numbers[key] = list(map(_NUMBER_OF, run))
        # Ints only (the commonest row) are numbers a cell holds: only a number token's number is an int, and only
        # when a cell can hold it (as `cell_value` takes it). The tests are for other rows.
        if not _whole_numbers(row):
            if any(token.kind is PLACEHOLDER or (token.kind is NUMBER and token.number is None) for token in run):
                return None
            # A number no cell can hold is no reading to test the relations on (a Decimal of a million digits
            # cannot even be added up).
            if any(token.number is not None and not -MAX_CELL <= token.number <= MAX_CELL for token in run):
                return None
        if label:
            placed = _request_match(Segment([Token(TEXT, label)], run))
            if placed is not None and placed != key:
                return None
            anchors += placed == key
    if anchors * 3 < len(REQUEST_KEYS):
        return None
    for left, right in REQUEST_RELATIONS:
        # A column's cells of the relation's rows at a time (every row is `REQUEST_WIDTH` cells).
        for cells in zip(*(numbers[key] for key in (*left, *right)), strict=True):
            if None in cells:
                continue
            if sum(cells[: len(left)]) != sum(cells[len(left) :]):  # type: ignore[arg-type]  # no None, as tested
                return None
    return {key: run for (run, _), key in zip(lines, REQUEST_KEYS, strict=True)}


_NUMBER_OF = itemgetter(Token._fields.index("number"))
_KIND_OF = itemgetter(Token._fields.index("kind"))
_TEXT_OF = itemgetter(Token._fields.index("text"))


def _whole_numbers(numbers: Sequence[int | Decimal | None]) -> bool:
    """Whether there are numbers and all are ints (none a Decimal, none None): then, and only then, their sum
    is an int (a Decimal makes it one, None cannot be added), worked out in C."""
    try:
        return bool(numbers) and type(sum(numbers)) is int  # type: ignore[arg-type]  # None raises, as meant
    except (TypeError, ArithmeticError):  # None among them; a Decimal beyond the context's exponents
        return False


# Table 三's cell paths and the places a reviewer reads, row by row: built once, not for every cell read.
_REQUEST_PATHS = {key: tuple(f"requests.{key}[{column}]" for column in range(REQUEST_WIDTH)) for key in REQUEST_KEYS}
_REQUEST_PLACES = {
    key: tuple(f"三/{REQUEST_ROWS[key]}/{column}" for column in APPLICANT_COLUMNS) for key in REQUEST_KEYS
}


def read_requests(stream: Stream, reading: TableReading) -> dict[str, list[Cell]] | None:
    """Table 三, or None when none of its rows is there. Rows are found by their labels; when that leaves
    rows unread and the values stand one line per row in order, they are read by row order."""
    problems, blanks, invalid = len(reading.problems), len(reading.blanks), dict(reading.invalid)
    rows = _read_requests_by_label(stream.tokens, reading)
    if rows is None or len(reading.problems) == problems:
        return rows
    in_order = _requests_in_row_order(stream)
    if in_order is None:
        return rows
    del reading.problems[problems:]
    del reading.blanks[blanks:]
    reading.invalid = invalid
    reading.problems.append(
        "三：行标签与数值分开排列（如 PDF 转换所致），按行序读取，与留在行内的标签及表内合计关系一致"
    )
    return {key: _request_cells(key, run, reading) for key, run in in_order.items()}


def _request_cells(key: str, run: Sequence[Token], reading: TableReading) -> list[Cell]:
    """A table 三 row's cells from its run of `REQUEST_WIDTH` values."""
    numbers = list(map(_NUMBER_OF, run))
    if _whole_numbers(numbers):  # whole numbers only: nothing to record
        return numbers  # type: ignore[return-value]  # ints, as just checked
    return [
        cell_value(token, path, reading, place)
        for token, path, place in zip(run, _REQUEST_PATHS[key], _REQUEST_PLACES[key], strict=True)
    ]


class _RequestPlan(NamedTuple):
    """Table 三's reading as far as it rests on the tokens' kinds and label texts, before any value is read:
    the markers and the problems of repeated rows met on the way, each found row with where its values stand
    (a slice, or the positions when a heading token stands among them), and the problem naming the rows not
    found."""

    markers: tuple[str, ...]
    repeated: tuple[str, ...]
    rows: tuple[tuple[str, slice | tuple[int, ...]], ...] | None  # None: no row of table 三 is there
    missing: str | None
    # When every row's values are `REQUEST_WIDTH` tokens in a row, surplus blanks at their ends aside (`_fitted`:
    # the commonest tables): the numbers of all of them at once (picked out of the tokens' numbers), and where
    # each row's start among them.
    cells: Callable[[Sequence[Token]], tuple[Token, ...]] | None = None
    starts: tuple[tuple[str, int], ...] = ()
    # When, besides, the rows are every row of table 三 in the format's order: each row's place among the cells.
    in_order: tuple[slice, ...] | None = None


def _segment_positions(kinds: Sequence[Kind]) -> list[tuple[list[int], list[int]]]:
    """`segments` of tokens of these kinds, as the positions of each segment's label and value tokens."""
    result: list[tuple[list[int], list[int]]] = []
    labels: list[int] = []
    values: list[int] = []
    position = 0
    for kind, run in groupby(kinds):
        end = position + sum(1 for _ in run)
        if kind in VALUE_KINDS:
            values += range(position, end)
        elif kind is TEXT:
            if values:
                result.append((labels, values))
                labels, values = [], []
            labels += range(position, end)
        elif kind is BREAK:
            if labels or values:
                result.append((labels, values))
            labels, values = [], []
        position = end
    if labels or values:
        result.append((labels, values))
    return result


def _picks(positions: list[int]) -> slice | tuple[int, ...]:
    """Where tokens at `positions` stand: a slice when they are consecutive (or none)."""
    if not positions or positions[-1] - positions[0] == len(positions) - 1:
        return slice(positions[0], positions[-1] + 1) if positions else slice(0, 0)
    return tuple(positions)


def _fitted(at: slice | tuple[int, ...], kinds: Sequence[Kind]) -> slice | None:
    """Where `fit` finds a row's `REQUEST_WIDTH` values among its values at `at`, when their kinds alone tell (the
    run is that wide once the surplus blanks at its ends are dropped, as tab-separated rows' shifts leave them);
    None when they do not."""
    if type(at) is not slice:
        return None
    start, stop = at.start, at.stop
    while stop - start > REQUEST_WIDTH and kinds[stop - 1] is BLANK:
        stop -= 1
    while stop - start > REQUEST_WIDTH and kinds[start] is BLANK:
        start += 1
    return slice(start, stop) if stop - start == REQUEST_WIDTH else None


def _plan_requests(tokens: Sequence[Token], kinds: Sequence[Kind]) -> _RequestPlan:
    """Table 三's rows found by their labels: each segment whose label names a row, in order (a repeated row
    and a header cell followed by the empty cells of a merged header row left out), then the unlabelled
    rows placed between their neighbours."""
    markers: list[str] = []
    repeated: list[str] = []
    found: set[str] = set()
    matched: list[tuple[Segment, str | None]] = []
    picks: list[slice | tuple[int, ...]] = []
    for label_positions, value_positions in _segment_positions(kinds):
        segment = Segment([tokens[i] for i in label_positions], [tokens[i] for i in value_positions])
        key = _request_match(segment)
        if key is None:
            if segment.values and segment.labels and "其他处理" in segment.label_text:
                markers.append("（六）其他处理没有细分项（2019 年试行模板）")
        elif (
            segment.values
            and all(token.kind is BLANK for token in segment.values)
            and not fit(segment.values, REQUEST_WIDTH)
        ):
            continue  # a header cell (总计, 其他) followed by the empty cells of a merged header row
        elif key in found:
            repeated.append(f"三/{REQUEST_ROWS[key]}：该行出现了不止一次，只采用第一次的数值")
            continue
        else:
            found.add(key)
        matched.append((segment, key))
        picks.append(_picks(value_positions))
    if not found:
        return _RequestPlan(tuple(markers), tuple(repeated), None, None)
    placed = _place_unlabelled(matched, found) if len(found) < len(REQUEST_KEYS) else matched
    rows = tuple((key, at) for (_, key), at in zip(placed, picks, strict=True) if key is not None)
    missing = [REQUEST_ROWS[key] for key in REQUEST_KEYS if key not in found]
    plan = _RequestPlan(
        tuple(markers), tuple(repeated), rows, f"三：没有找到这些行：{'、'.join(missing)}" if missing else None
    )
    fitted = [(key, _fitted(at, kinds)) for key, at in rows]
    if all(at is not None for _, at in fitted):
        positions = [position for _, at in fitted for position in range(at.start, at.stop)]  # type: ignore[union-attr]
        starts = tuple((key, index * REQUEST_WIDTH) for index, (key, _) in enumerate(rows))
        in_order = (
            tuple(slice(start, start + REQUEST_WIDTH) for _, start in starts)
            if tuple(key for key, _ in starts) == REQUEST_KEYS
            else None
        )
        plan = plan._replace(cells=itemgetter(*positions), starts=starts, in_order=in_order)
    return plan


# Table 三's plans by the kinds of its tokens and the compact texts of its labels (the same labels come spaced
# differently: a plan keyed by their tokens would be made again and again): the same table comes in report
# after report with other values. Only tables of at most `_PLANNED_TOKENS` tokens are remembered, and at most
# `_REMEMBERED_PLANS` of them (a bound on the memory the plans can hold).
_REQUEST_PLANS: dict[tuple[tuple[Kind, ...], tuple[str, ...]], _RequestPlan] = {}
_PLANNED_TOKENS = 1000
_REMEMBERED_PLANS = 512
_COMPACT_LABELS: Memo[str, str] = Memo()  # a label's compact text (a plain dict lookup where `compact` is a call)


def _request_plan(tokens: Sequence[Token], kinds: tuple[Kind, ...]) -> _RequestPlan:
    labels = compress(map(_TEXT_OF, tokens), map(is_, kinds, repeat(TEXT)))
    key = (kinds, tuple(_COMPACT_LABELS.answers(labels, compact)))
    plan = _REQUEST_PLANS.get(key)
    if plan is None:
        plan = _plan_requests(tokens, kinds)
        if len(tokens) <= _PLANNED_TOKENS:
            if len(_REQUEST_PLANS) >= _REMEMBERED_PLANS:
                _REQUEST_PLANS.clear()
            _REQUEST_PLANS[key] = plan
    return plan


def _read_requests_by_label(tokens: list[Token], reading: TableReading) -> dict[str, list[Cell]] | None:
    kinds = tuple(map(_KIND_OF, tokens))
    plan = _request_plan(tokens, kinds)
    reading.markers += plan.markers
    reading.problems += plan.repeated
    if plan.rows is None:
        return None
    if plan.cells is not None:
        cells: list[Any] = list(map(_NUMBER_OF, plan.cells(tokens)))
        if _whole_numbers(cells):  # nothing to record, no row to mend
            if plan.in_order is not None:  # every row, in order: the model's rows made in C
                return dict(zip(REQUEST_KEYS, map(cells.__getitem__, plan.in_order), strict=True))
            rows = empty_requests()
            for key, start in plan.starts:
                rows[key] = cells[start : start + REQUEST_WIDTH]
            if plan.missing:
                reading.problems.append(plan.missing)
            return rows
    rows = empty_requests()
    open_rows: dict[str, list[tuple[int, ...]]] = {}
    recovered: set[str] = set()
    for key, picks in plan.rows:
        values = tokens[picks] if type(picks) is slice else [tokens[i] for i in picks]
        if not values:
            reading.problems.append(f"三/{REQUEST_ROWS[key]}：找到了行标签，但后面没有数值")
            continue
        # The commonest run fits as it is.
        run = values if len(values) == REQUEST_WIDTH else fit(values, REQUEST_WIDTH)
        if run is None:
            where = f"三/{REQUEST_ROWS[key]}"
            candidates, reason = _read_damaged(values, REQUEST_WIDTH, row_total_holds, reading, where)
            if len(candidates) == 1:
                rows[key] = list(candidates[0])
                recovered.add(key)
                _recovered_note(where, values, candidates[0], reading)
            elif candidates and len(candidates) <= SEARCH_LIMIT // 100:
                open_rows[key] = candidates
            else:
                reading.problems.append(f"{where}：{reason}")
            continue
        rows[key] = _request_cells(key, run, reading)
    if open_rows or recovered:
        _settle_requests(rows, open_rows, recovered, reading)
    if plan.missing:
        reading.problems.append(plan.missing)
    return rows


@lru_cache(maxsize=REMEMBERED_LINES)
def _active_label(text: str) -> str | None:
    """The longest table 二 label a label token ends with: fused text puts the block's header words before it.
    Remembered: the same labels come in report after report."""
    text = compact(text)
    return max((name for name in ACTIVE_LABELS if text.endswith(name)), key=len, default=None)


def read_active(tokens: Sequence[Token], reading: TableReading) -> ActiveTable | None:
    """Table 二, or None when none of its rows is there."""
    # Row -> its value (a document row's counts as a dict); the model is made once, at the end, in one validation
    # with its document counts: setting a pydantic model's attributes costs more, and so does each model made alone.
    rows: dict[str, Any] = {}
    for segment in segments(tokens):
        if not segment.labels:
            continue
        label = _active_label(segment.labels[-1].text)
        row = ACTIVE_LABELS.get(label) if label else None
        if label is None or row is None or row in rows:
            continue
        if row in ("regulations", "normative_documents"):
            where = f"二/{label}"
            run = fit(segment.values, DOCUMENT_WIDTH)
            if run is None:
                candidates, reason = _read_damaged(segment.values, DOCUMENT_WIDTH, None, reading, where)
                if len(candidates) != 1:
                    reading.problems.append(f"{where}：{reason}")
                    rows[row] = {}
                    continue
                _recovered_note(where, segment.values, candidates[0], reading)
                run = [_digits_cell(number) for number in candidates[0]]
            numbers = list(map(_NUMBER_OF, run))
            if _whole_numbers(numbers):  # whole numbers only: nothing to record
                rows[row] = dict(zip(ACTIVE_DOCUMENT_FIELDS, numbers, strict=True))
                continue
            rows[row] = {
                field_name: cell_value(token, f"active.{row}.{field_name}", reading, f"{where}/{label_name}")
                for (field_name, label_name), token in zip(ACTIVE_DOCUMENT_FIELDS.items(), run, strict=True)
            }
            continue
        run = fit(segment.values, 1)
        if run is not None and run[0].kind is NUMBER and type(run[0].number) is int:
            # `cell_value`'s commonest case, without building the cell's path and place first
            rows[row] = float(run[0].number) if row == "fees" else run[0].number
            continue
        where = f"二/{label}"
        if run is None:
            rows[row] = None  # found, and read as nothing
            reading.problems.append(
                f"{where}：应有 1 个数值，找到 {len(segment.values)} 个（{_describe(segment.values)}）"
            )
            continue
        rows[row] = cell_value(run[0], f"active.{row}", reading, where, decimal=row == "fees")
    return ActiveTable.model_validate(rows) if rows else None


# Table 四's cells in reading order: (block, field, contract path, the place a reviewer reads).
_APPEAL_CELLS = tuple(
    (block, field_name, f"appeals.{block}.{field_name}", f"四/{block_label}/{field_label}")
    for block, block_label in APPEAL_BLOCKS.items()
    for field_name, field_label in APPEAL_FIELDS.items()
)


def read_appeals(tokens: Sequence[Token], reading: TableReading) -> AppealsTable | None:
    """Table 四: its fifteen numbers, in the order 复议 ×5, 直接起诉 ×5, 复议后起诉 ×5.

    A table that is there but cannot be read reliably is all null, with a problem saying so: it is not
    missing, and no sum is checked over cells that are not sure."""
    values = list(compress(tokens, map(VALUE_KINDS.__contains__, map(_KIND_OF, tokens))))
    if not values:
        return None
    run = fit(values, APPEAL_WIDTH)
    if run is None:
        candidates, reason = _read_damaged(
            values, APPEAL_WIDTH, appeal_totals_hold, reading, "四", partial=last_appeal_block_holds
        )
        if len(candidates) != 1:
            reading.problems.append(f"表四无法可靠读取：{reason}")
            return AppealsTable()
        _recovered_note("四", values, candidates[0], reading)
        run = [_digits_cell(number) for number in candidates[0]]
    numbers = list(map(_NUMBER_OF, run))
    if _whole_numbers(numbers):  # whole numbers only: nothing to record
        # Its blocks as dicts, validated with it at once (each block made alone costs more).
        return AppealsTable.model_validate(
            {
                block: dict(zip(APPEAL_FIELDS, numbers[start : start + APPEAL_BLOCK_WIDTH], strict=True))
                for block, start in zip(APPEAL_BLOCKS, range(0, APPEAL_WIDTH, APPEAL_BLOCK_WIDTH), strict=True)
            }
        )
    cells: dict[str, dict[str, Cell]] = {block: {} for block in APPEAL_BLOCKS}
    for token, (block, field_name, path, where) in zip(run, _APPEAL_CELLS, strict=True):
        cells[block][field_name] = cell_value(token, path, reading, where)
    return AppealsTable.model_validate(cells)
