"""HTML reports (web pages saved from a government portal): running text as lines, each `<table>` as a grid.

libxml2 (through lxml, ~10x faster than the standard library's `html.parser` tokenizer) builds the element
tree; nothing is ever fetched, no DTD is read and no entity is expanded beyond the HTML5 named and numeric
character references; the page is cut at MAX_PAGE_CHARS and nesting stops at libxml2's limit, each saying
so in `problems`. The tree is then walked in document order as the start and end tags it stands for
(`_Reader`); a table of the usual shape (rows and cells, no table inside) is read straight from the tree
(`_regular_rows`), which gives the same grid with a tenth of the Python steps. Text is
gathered the way a browser shows it: whitespace collapsed, a line break between block elements, script,
style and head content skipped. A table becomes the grid a reader sees, merged cells spread over the
rows and columns they cover (`None` in each covered slot); a row shorter than the table is padded with ""
(the reader sees empty space there). A table holding other tables is page layout (portals wrap whole
articles in one): its cells are read as running text, the tables inside it as tables.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import chain, compress, count, groupby, islice, repeat
from operator import itemgetter
from typing import cast

from lxml import etree
from lxml.etree import _Element as Element

from report.document import MAX_TEXT_CHARS, Block, Document, Grid, TextLine, UnreadableFile, bounded
from report.formats import text

MAX_ROWSPAN = 1000
MAX_COLSPAN = 200
MAX_TABLE_WIDTH = 1000
MAX_NESTING = 100
MAX_GRID_CELLS = 500_000  # over the whole document, so that a hostile page cannot exhaust memory
# Markup read, at most: libxml2 holds the whole tree (~20-40 bytes a character of markup); portal pages are
# 0.1-1 MB, and the text the parser reads is cut at MAX_TEXT_CHARS anyway.
MAX_PAGE_CHARS = 8_000_000
_DATA_URI = re.compile(r"data:[^\"'\s<>()]{256,}")
_RESOURCE_LIMIT = etree.ErrorTypes.ERR_RESOURCE_LIMIT

_TOO_LARGE = "网页中的表格过大，超出部分已忽略"

_PRESCAN_BYTES = 8192
_DECLARED_CHARSET = re.compile(
    rb"<meta[^>]*?charset\s*=\s*[\"']?\s*([A-Za-z0-9_.:\-]+)|<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9_.:\-]+)",
    re.IGNORECASE,
)
# A declared charset is used only when it is a multi-byte East Asian one and the page is not valid UTF-8:
# many pages labelled GB2312 are really UTF-8, and a Latin-1 label on a Chinese page is always wrong.
# GB2312 and GBK labels are read as GB18030, their superset.
_GB_LABELS = frozenset({"gb2312", "gbk", "x-gbk", "cp936", "csgb2312", "gb_2312-80", "gb18030"})
_TRUSTED_CODECS = frozenset({"gb18030", "big5", "big5hkscs", "cp950", "shift_jis", "euc_jp", "euc_kr"})
_BOMS = (codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
_NUL_SCAN_BYTES = 8192  # `text.decode` refuses a file with a NUL byte in its first 8 KiB

# Elements whose content is not shown. The head is read through: what libxml2 leaves in it is either skipped
# here, holds no text (meta, link, base), or is body content it failed to move out (a stray `<td>`).
_SKIPPED = frozenset({"script", "style", "title", "template", "noscript"})
_BLOCKS = frozenset(
    {
        "address", "article", "aside", "blockquote", "body", "center", "dd", "details", "dialog", "dir", "div",
        "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6",
        "header", "hgroup", "hr", "html", "legend", "li", "listing", "main", "menu", "nav", "ol", "p", "pre",
        "section", "summary", "tr", "ul", "xmp", "caption", "br", "option",
    }
)  # fmt: skip
_BREAKS_IN_TABLE = _BLOCKS - {"tr"}
_CELLS = frozenset({"td", "th"})
_SECTIONS = frozenset({"thead", "tbody", "tfoot"})
_STRUCTURE = frozenset({"table", "tr", "td", "th", "thead", "tbody", "tfoot"})
_HTML_SPACES = " \t\n\r\f"
_WHITESPACE = re.compile(r"[ \t\n\r\f]+")
_NON_NEGATIVE = re.compile(r"[ \t\n\r\f]*\+?(\d+)")
_MARKUP_OPEN = re.compile(r"<[A-Za-z/!?]")


def _wide(char: str) -> bool:
    return unicodedata.east_asian_width(char) in ("W", "F")


def _has_whitespace(text: str) -> bool:
    """Whether the text holds any of HTML's whitespace characters: five scans at memchr's speed, ~30 times
    faster than a regular expression's search through a text without any."""
    return " " in text or "\n" in text or "\t" in text or "\r" in text or "\f" in text


def collapse(raw: str) -> str:
    """Whitespace as a reader sees it: each run becomes one space, except a line break between two CJK
    characters, which disappears (a wrapped Chinese line is one line); ends trimmed. NBSP is not touched."""
    trimmed = raw.strip(_HTML_SPACES)
    if not _has_whitespace(trimmed):  # no run inside (a table cell's usual text)
        return trimmed
    if "\n" not in trimmed and "\r" not in trimmed:  # every run is one space (without a callback)
        return _WHITESPACE.sub(" ", trimmed)

    def gap(match: re.Match[str]) -> str:
        start, end = match.span()
        if start == 0 or end == len(raw):
            return ""
        if ("\n" in match.group() or "\r" in match.group()) and _wide(raw[start - 1]) and _wide(raw[end]):
            return ""
        return " "

    return _WHITESPACE.sub(gap, raw)


def join_wrapped(pieces: Iterable[str]) -> str:
    """Pieces of one cell (its paragraphs, lines, inner cells) as one string, joined as `collapse` joins lines."""
    return collapse("\n".join(pieces))


def _declared_codec(data: bytes) -> str | None:
    """The codec named by the page's `<meta charset>`, `http-equiv` content type or XML declaration."""
    match = _DECLARED_CHARSET.search(data[:_PRESCAN_BYTES])
    if match is None:
        return None
    label = (match.group(1) or match.group(2)).decode("ascii").lower()
    if label in _GB_LABELS:
        return "gb18030"
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def _decode_as(data: bytes, encoding: str) -> str | None:
    """The page decoded strictly, tolerating only a character cut off at the very end; None if it does not fit."""
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        return decoder.decode(data, final=False)
    except UnicodeDecodeError:
        return None


def decode_page(data: bytes) -> tuple[str, list[str]]:
    """The page's text: BOM, strict UTF-8, then a trusted declared charset, then the plain-text detection."""
    encoding = _declared_codec(data)
    if encoding not in _TRUSTED_CODECS or data.startswith(_BOMS) or _decode_as(data, "utf-8") is not None:
        return text.decode(data)
    page = _decode_as(data, encoding)
    if page is not None:
        return page, []
    page, problems = text.decode(data)
    return page, [f"网页声明的编码为 {encoding}，但内容不符合该编码，已自动检测编码", *problems]


def _page_and_source(data: bytes) -> tuple[str, list[str], bytes | None]:
    """`decode_page`'s page and problems, and the page's UTF-8 bytes when the file is them, valid to the last
    byte, after at most one UTF-8 BOM (`decode_page` reads such a file so: as "utf-8-sig" after a BOM, and
    without one as UTF-8 unless a NUL stands where `text.decode` refuses one). A page that would start with a
    BOM character is left out: libxml2 may skip a BOM in the bytes."""
    if data.startswith(codecs.BOM_UTF8):
        body = data[len(codecs.BOM_UTF8) :]
    elif not data.startswith(_BOMS) and b"\x00" not in data[:_NUL_SCAN_BYTES]:
        body = data
    else:
        return *decode_page(data), None
    if not body.startswith(codecs.BOM_UTF8):
        try:
            return body.decode("utf-8"), [], body
        except UnicodeDecodeError:
            pass
    return *decode_page(data), None


def _span(value: str | None, cap: int) -> int:
    """A rowspan/colspan value by the HTML rules for non-negative integers ("3px" is 3); 0 is kept (rowspan 0
    runs to the end of the row group), garbage is 1, and the result is capped."""
    match = _NON_NEGATIVE.match(value or "")
    if match is None:
        return 1
    digits = match.group(1).lstrip("0") or "0"
    return cap if len(digits) > len(str(cap)) else min(int(digits), cap)


# Span values as pages write them ("2", "13"), read without `_span`'s regular expression; an absent one is 1.
_ROWSPANS: dict[str | None, int] = {None: 1} | {str(n): n for n in range(MAX_ROWSPAN + 1)}
_COLSPANS: dict[str | None, int] = {None: 1} | {str(n): max(n, 1) for n in range(MAX_COLSPAN + 1)}


def _rowspan(value: str | None) -> int:
    """A cell's rowspan attribute (None when absent) as `_span` reads it."""
    span = _ROWSPANS.get(value)
    return _span(value, MAX_ROWSPAN) if span is None else span


def _colspan(value: str | None) -> int:
    """A cell's colspan attribute (None when absent) as `_span` reads it, at least 1."""
    span = _COLSPANS.get(value)
    return max(_span(value, MAX_COLSPAN), 1) if span is None else span


@dataclass
class _Line:
    """Text gathered for one line: pieces marked `kept` (preformatted text, tabs) stay as they are, the rest
    is collapsed as a browser collapses whitespace."""

    pieces: list[tuple[str, bool]] = field(default_factory=list)

    def add(self, data: str, *, kept: bool = False) -> None:
        self.pieces.append((data, kept))

    def has_text(self) -> bool:
        return any(piece.strip() for piece, _ in self.pieces)

    def take(self) -> str:
        runs = [("".join(piece for piece, _ in run), kept) for kept, run in groupby(self.pieces, itemgetter(1))]
        self.pieces.clear()
        return "".join(piece if kept else collapse(piece) for piece, kept in runs)


@dataclass
class _Cell:
    """A table cell: pieces of text separated by block boundaries, and the blocks of tables nested in it."""

    rowspan: int
    colspan: int
    content: list[str | Block] = field(default_factory=list)  # finished text pieces and nested blocks
    fragments: list[str] = field(default_factory=list)  # the text piece being gathered

    def add_text(self, data: str) -> None:
        self.fragments.append(data)

    def end_piece(self) -> None:
        if self.fragments:
            self.content.append("".join(self.fragments))
            self.fragments.clear()

    def add_blocks(self, blocks: list[Block]) -> None:
        self.end_piece()
        self.content.extend(blocks)

    def text(self) -> str:
        self.end_piece()
        return join_wrapped(piece for piece in self.content if isinstance(piece, str))

    def blocks(self) -> Iterator[Block]:
        """The cell read as running text: one line per piece, nested tables in place."""
        self.end_piece()
        for piece in self.content:
            if not isinstance(piece, str):
                yield piece
            elif (line := collapse(piece)).strip():
                yield TextLine(line)


@dataclass
class _Row:
    group: int  # thead/tbody/tfoot it belongs to: a rowspan never reaches past its group
    cells: list[_Cell] = field(default_factory=list)


@dataclass
class _Table:
    """An open table: its rows so far, and what stands outside any cell (caption, stray text), shown above it."""

    rows: list[_Row] = field(default_factory=list)
    row: _Row | None = None
    cell: _Cell | None = None
    group: int = 0
    loose: _Line = field(default_factory=_Line)
    loose_blocks: list[Block] = field(default_factory=list)
    holds_tables: bool = False

    def start_row(self) -> None:
        self.row = _Row(self.group)
        self.rows.append(self.row)
        self.cell = None

    def end_row(self) -> None:
        self.row = None
        self.cell = None

    def start_cell(self, rowspan_value: str | None, colspan_value: str | None) -> None:
        if self.row is None:
            self.start_row()
        assert self.row is not None
        self.cell = _Cell(_rowspan(rowspan_value), _colspan(colspan_value))
        self.row.cells.append(self.cell)

    def end_cell(self) -> None:
        self.cell = None

    def new_group(self) -> None:
        self.end_row()
        self.group += 1

    def add_text(self, data: str) -> None:
        if self.cell is not None:
            self.cell.add_text(data)
        else:
            self.loose.add(data)

    def soft_break(self) -> None:
        """A block boundary: a new piece of the cell's text, or a new loose line."""
        if self.cell is not None:
            self.cell.end_piece()
        else:
            self.end_loose_line()

    def end_loose_line(self) -> None:
        line = self.loose.take()
        if line.strip():
            self.loose_blocks.append(TextLine(line))

    def add_blocks(self, blocks: list[Block]) -> None:
        """What a table nested in this one gave."""
        self.holds_tables = True
        if self.cell is not None:
            self.cell.add_blocks(blocks)
        else:
            self.end_loose_line()
            self.loose_blocks.extend(blocks)


# A table row for layout: its row group (thead/tbody/tfoot: a rowspan never reaches past it), its cells' texts,
# and its merged cells as (place in the row, rowspan, colspan) in order (every other cell spans one row and one
# column).
_RowCells = tuple[int, list[str], list[tuple[int, int, int]]]
_NONE_COVERED: frozenset[int] = frozenset()


def _row_cells(group: int, texts: list[str], rowspans: list[int], colspans: list[int]) -> _RowCells:
    """A row for `layout` from its cells' texts and spans."""
    merged = [
        (place, rowspan, colspan)
        for place, (rowspan, colspan) in enumerate(zip(rowspans, colspans, strict=True))
        if rowspan != 1 or colspan != 1
    ]
    return group, texts, merged


def layout(rows: list[_RowCells], cells_left: int) -> tuple[tuple[tuple[str | None, ...], ...], bool]:
    """The grid a reader sees, at most `cells_left` slots of it, and whether it had to be cut: cells past the
    width cap are dropped, and so are the rows from the first one met after more than `cells_left` slots were
    placed (its cells and those merged cells cover, in rows below too).

    One pass: each row's slots are built left to right, a cell's text then None in each column its colspan
    covers, skipping the columns a rowspan from above covers (None too). A row without cells of its own and
    not reached by any rowspan (`<tr></tr>`) shows nothing and is left out."""
    placed: list[Sequence[str | None]] = []  # the rows shown
    covered_below: dict[int, set[int]] = {}  # row index → the columns rowspans from above cover in it
    width = 0
    slot_count = 0  # slots placed so far, those rowspans cover in rows below included
    cut = False
    for index, (_, texts, merged) in enumerate(rows):
        if slot_count > cells_left:
            cut = True
            break
        covered = covered_below.pop(index, _NONE_COVERED) if covered_below else _NONE_COVERED
        slots: list[str | None]
        if not merged and len(covered) + len(texts) <= MAX_TABLE_WIDTH and (not covered or max(covered) < len(covered)):
            # The plainest row: its cells side by side, after the first columns rowspans from above cover.
            if covered:
                slots = [None] * len(covered)
                slots += texts
                placed.append(slots)
            elif texts:
                placed.append(texts)
            slot_count += len(texts)
            width = max(width, len(covered) + len(texts))
            continue
        if not covered or max(covered) < len(covered):
            # The usual row: as the plainest, each merged cell followed by the columns it covers.
            slots = [None] * len(covered)
            start = 0
            reaching: list[tuple[int, int, int]] = []  # (rowspan, column, colspan) of cells reaching down
            for place, rowspan, colspan in merged:
                slots += texts[start : place + 1]
                if rowspan != 1:
                    reaching.append((rowspan, len(slots) - 1, colspan))
                slots += [None] * (colspan - 1)
                start = place + 1
            slots += texts[start:]
            if len(slots) <= MAX_TABLE_WIDTH:  # else the cap cuts it, as the general case below does
                for rowspan, column, colspan in reaching:
                    slot_count += _cover_below(rows, covered_below, index, rowspan, column, colspan)
                slot_count += len(slots) - len(covered)
                width = max(width, len(slots))
                if texts or covered:
                    placed.append(slots)
                continue
        rowspans, colspans = [1] * len(texts), [1] * len(texts)
        for place, rowspan, colspan in merged:
            rowspans[place], colspans[place] = rowspan, colspan
        slots = []
        column = 0
        for rowspan, colspan, cell_text in zip(rowspans, colspans, texts, strict=True):
            while column in covered:
                column += 1
            if column + colspan > MAX_TABLE_WIDTH:
                cut = True
                break
            if column > len(slots):
                slots += [None] * (column - len(slots))
            slots.append(cell_text)
            if colspan > 1:
                slots += [None] * (colspan - 1)
            if rowspan != 1:
                slot_count += _cover_below(rows, covered_below, index, rowspan, column, colspan)
            column += colspan
        width = max(width, len(slots))
        if covered:
            slot_count += len(slots) - sum(1 for column in covered if column < len(slots))
            for column in sorted(covered):
                if column >= len(slots):
                    slots += [""] * (column - len(slots))
                    slots.append(None)
        else:
            slot_count += len(slots)
        if texts or covered:
            placed.append(slots)
    if cells_left >= width * len(placed):  # every row fits
        return tuple([tuple(row) if len(row) == width else (*row, *("",) * (width - len(row))) for row in placed]), cut
    grid: list[tuple[str | None, ...]] = []
    for row in placed:
        if cells_left < width:
            return tuple(grid), True
        cells_left -= width
        grid.append((*row, *("",) * (width - len(row))))
    return tuple(grid), cut


def _cover_below(
    rows: list[_RowCells], covered_below: dict[int, set[int]], index: int, rowspan: int, column: int, colspan: int
) -> int:
    """Marks the columns a cell of row `index` covers in the rows below it (rowspan 0 reaches the end of its
    row group, none reaches past it); how many slots that adds."""
    group = rows[index][0]
    columns = range(column, column + colspan)
    added = 0
    for below in range(index + 1, len(rows) if rowspan == 0 else min(index + rowspan, len(rows))):
        if rows[below][0] != group:
            break
        row_below = covered_below.get(below)
        if row_below is None:
            covered_below[below] = set(columns)
            added += colspan
        else:
            known = len(row_below)
            row_below.update(columns)
            added += len(row_below) - known
    return added


def _blank(text: str | None) -> bool:
    return text is None or not text.strip(" \t\n\r\f")


def _cell_text(cell: Element) -> str | None:
    """The text of a cell of a regular table (see _regular_rows): block boundaries inside it break its text as
    a reader's line breaks; None when rows, cells or tables stand inside it, or it nests deeper than this
    reading goes (the general walk reads those)."""
    if not len(cell):
        return collapse(cell.text or "")
    pieces = [cell.text or ""]
    try:
        if not _flow(cell, pieces):
            return None
    except RecursionError:
        return None
    return collapse("".join(pieces))


def _flow(element: Element, pieces: list[str]) -> bool:
    """The text inside the element's children, in order, with "\\n" at each block boundary; False (and
    pieces left half-done) when a row, cell, row group or table stands among them."""
    for child in element:
        tag = child.tag
        if tag in _STRUCTURE:
            return False
        if tag not in _SKIPPED and isinstance(tag, str):
            block = tag in _BREAKS_IN_TABLE
            if block:
                pieces.append("\n")
            if child.text:
                pieces.append(child.text)
            if len(child) and not _flow(child, pieces):
                return False
            if block:
                pieces.append("\n")
        if child.tail:
            pieces.append(child.tail)
    return True


def _regular_row(row: Element, group: int) -> _RowCells | None:
    if not _blank(row.text):
        return None
    rowspans: list[int] = []
    colspans: list[int] = []
    texts: list[str] = []
    for cell in row:
        if cell.tag not in _CELLS or not _blank(cell.tail):
            return None
        text = _cell_text(cell)
        if text is None:
            return None
        rowspans.append(_rowspan(cell.get(b"rowspan")))
        colspans.append(_colspan(cell.get(b"colspan")))
        texts.append(text)
    return _row_cells(group, texts, rowspans, colspans)


def _regular_rows(table: Element) -> list[_RowCells] | None:
    """The rows of a table laid out the usual way (row groups, rows and cells with nothing but whitespace
    between them, no table inside), read straight from the tree; None for any other table, which the general
    walk reads. Both give the same grid."""
    if not _blank(table.text) or next(table.iterdescendants("table"), None) is not None:
        return None
    rows: list[_RowCells] = []
    group = 0
    for child in table:
        if not _blank(child.tail):
            return None
        if child.tag == "tr":
            cells = _regular_row(child, group)
            if cells is None:
                return None
            rows.append(cells)
        elif child.tag in _SECTIONS and _blank(child.text):
            group += 1
            for row in child:
                cells = _regular_row(row, group) if row.tag == "tr" and _blank(row.tail) else None
                if cells is None:
                    return None
                rows.append(cells)
            group += 1
        else:
            return None
    return rows


def _without_unterminated_markup(page: str) -> str:
    """The page without markup left open at its very end: browsers drop such a tag, libxml2 would keep some
    of it ("</") as text."""
    match = _MARKUP_OPEN.search(page, page.rfind(">") + 1)
    return page if match is None else page[: match.start()]


def _tree(page: str, source: bytes | None = None) -> tuple[Element | None, list[str]]:
    """The page's element tree as libxml2 builds it, and what the limits cut off. Comments and processing
    instructions are dropped, nothing is fetched, no DTD is read (HTML's own character references are the only
    ones expanded). libxml2 stops at its nesting limit (2048 levels with huge_tree; its 10 MB text-node limit
    is replaced by MAX_PAGE_CHARS on the whole page): what came before is read and the problem says so.

    `source`, the page's own UTF-8 bytes when the caller has them, is what libxml2 reads then: the same
    characters without converting lxml's UTF-16 copy of a Chinese page (~8 % of the parse)."""
    problems: list[str] = []
    if len(page) > MAX_PAGE_CHARS:
        page = _DATA_URI.sub("data:,", page)  # images inlined as data: URIs are not text, and can be megabytes
        source = None
    if len(page) > MAX_PAGE_CHARS:
        page = _without_unterminated_markup(page[:MAX_PAGE_CHARS])
        problems.append(f"网页源码超过 {MAX_PAGE_CHARS} 字，只解析了前 {MAX_PAGE_CHARS} 字，其后内容未解析")
    if page.startswith("<?xml"):
        # lxml refuses a string that starts with an XML declaration naming an encoding (XHTML pages often do). To
        # HTML it is a processing instruction ending at the first ">", which the parser drops anyway.
        page, source = page[page.find(">") + 1 :] if ">" in page else "", None
    from_source = source is not None
    parser = etree.HTMLParser(
        remove_comments=True, remove_pis=True, no_network=True, huge_tree=True, default_doctype=False,
        collect_ids=False, encoding="utf-8" if from_source else None,
    )  # fmt: skip
    root = etree.fromstring(source if from_source else page, parser)
    for error in parser.error_log:
        if error.type == _RESOURCE_LIMIT:
            problems.append(
                f"网页第 {error.line} 行起标签嵌套过深，超出解析上限，其后内容未读取（{error.message.strip()}）"
            )
            break
    return root, problems


class _Reader:
    """Walks the tree as a browser shows it: running text as lines, each `<table>` as a grid."""

    def __init__(self) -> None:
        self.blocks: list[Block] = []
        self.problems: list[str] = []
        self._line = _Line()
        self._pre = 0
        self._tables: list[_Table] = []  # open tables, outermost first; an inner one ends up in its outer cell
        self._too_deep = 0  # tables opened past MAX_NESTING, ignored
        self._cells_left = MAX_GRID_CELLS

    def read(self, root: Element) -> None:
        walk = etree.iterwalk(root, events=("start", "end"))
        whole: Element | None = None  # the element just read whole (or skipped): its end event is its tail only
        for event, element in walk:
            tag = element.tag
            if event == "start":
                if tag in _SKIPPED or not isinstance(tag, str) or (tag == "table" and self._regular_table(element)):
                    walk.skip_subtree()
                    whole = element
                    continue
                self._start(tag, element)
                if element.text:
                    self._data(element.text)
            else:
                if element is whole:
                    whole = None
                else:
                    self._end(tag, element)
                if element.tail:
                    self._data(element.tail)
        self._too_deep = 0
        while self._tables:
            self._end_table()
        self._end_line()

    def _start(self, tag: str, element: Element) -> None:
        if tag == "table":
            self._start_table()
        elif self._tables:
            self._table_tag(self._tables[-1], tag, element, start=True)
        elif tag in _CELLS:
            self._cell_outside_table()
        elif tag in _BLOCKS:
            self._end_line()
            if tag == "pre":
                self._pre += 1

    def _end(self, tag: str, element: Element) -> None:
        if tag == "table":
            self._end_table()
        elif self._tables:
            self._table_tag(self._tables[-1], tag, element, start=False)
        elif tag in _BLOCKS:
            self._end_line()
            if tag == "pre":
                self._pre -= 1

    def _data(self, data: str) -> None:
        if self._tables:
            self._tables[-1].add_text(data)
        elif self._pre:
            self._add_preformatted(data)
        else:
            self._line.add(data)

    def _end_line(self) -> None:
        line = self._line.take()
        if line.strip():
            self.blocks.append(TextLine(line))

    def _add_preformatted(self, data: str) -> None:
        first, *rest = data.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        self._line.add(first, kept=True)
        for piece in rest:
            self._end_line()
            self._line.add(piece, kept=True)

    def _cell_outside_table(self) -> None:
        """A stray `<td>` (rows cut out of their table): the cells of one row become tab-separated text."""
        if self._line.has_text():
            self._line.add("\t", kept=True)

    def _start_table(self) -> None:
        if not self._tables:
            self._end_line()
        if len(self._tables) < MAX_NESTING:
            self._tables.append(_Table())
        else:
            self._too_deep += 1

    def _end_table(self) -> None:
        if self._too_deep:
            self._too_deep -= 1
            return
        if not self._tables:
            return
        self._deliver(self._table_blocks(self._tables.pop()))

    def _table_blocks(self, table: _Table) -> list[Block]:
        """A table's blocks: its loose text, then its grid, or, for a table holding tables (page layout, not
        data), its cells as running text with the inner tables in place."""
        table.end_loose_line()
        if table.holds_tables:
            return [
                *table.loose_blocks,
                *(block for row in table.rows for cell in row.cells for block in cell.blocks()),
            ]
        rows = [
            _row_cells(
                row.group,
                [cell.text() for cell in row.cells],
                [cell.rowspan for cell in row.cells],
                [cell.colspan for cell in row.cells],
            )
            for row in table.rows
        ]
        return self._grid_blocks(rows, table.loose_blocks)

    def _grid_blocks(self, rows: list[_RowCells], loose_blocks: list[Block]) -> list[Block]:
        grid, cut = layout(rows, self._cells_left)
        self._cells_left -= sum(map(len, grid))
        if cut and _TOO_LARGE not in self.problems:
            self.problems.append(_TOO_LARGE)
        return [*loose_blocks, Grid(grid)] if grid else loose_blocks

    def _regular_table(self, element: Element) -> bool:
        """Whether the table was read whole, straight from the tree (see _regular_rows)."""
        if len(self._tables) >= MAX_NESTING:
            return False
        rows = _regular_rows(element)
        if rows is None:
            return False
        if not self._tables:
            self._end_line()
        self._deliver(self._grid_blocks(rows, []))
        return True

    def _deliver(self, blocks: list[Block]) -> None:
        """A finished table's blocks, to the table around it or to the page."""
        if self._tables:
            self._tables[-1].add_blocks(blocks)
        else:
            self.blocks.extend(blocks)

    @staticmethod
    def _table_tag(table: _Table, tag: str, element: Element, *, start: bool) -> None:
        """An element's start or end inside the innermost open table: rows and cells build its grid, blocks
        break its text."""
        if tag in _BREAKS_IN_TABLE:
            table.soft_break()
        elif tag == "tr":
            if start:
                table.start_row()
            else:
                table.end_row()
        elif tag in _CELLS:
            if start:
                table.start_cell(element.get(b"rowspan"), element.get(b"colspan"))
            else:
                table.end_cell()
        elif tag in _SECTIONS:
            table.new_group()


# Markers libxslt writes between the pieces of a flattened page (`_flatten`): Unicode noncharacters, which no
# page holds (one that holds one, or a character reference that may stand for one, is walked instead).
_BREAK, _TABLE_START, _TABLE_END, _GROUP, _ROW, _CELL, _IRREGULAR, _BETWEEN = (chr(0xFDD0 + n) for n in range(8))
_MARKERS = "".join(chr(0xFDD0 + n) for n in range(8))
_SPACES_AND_ROW_MARKERS = _HTML_SPACES + _ROW + _GROUP
_LINE_BREAK_BETWEEN = f"{_BETWEEN}\n{_BETWEEN}"
_MARKER_REFERENCE = re.compile(r"&#(?:[xX]0*[fF][dD][dD]|0*649[7-9])")  # &#xFDD0; … &#64976; … and neighbours


_AMPERSANDS_TRIED = 64  # past these, one regular expression search looks at the rest of the page


def _may_hold_markers(page: str) -> bool:
    """Whether the page's text might hold a marker: the page holds one (in its text or its markup), or a
    character reference that could stand for one. Cheaper than looking at the text libxml2 gives (~20 µs
    against ~90 µs for a portal page), and never misses one. Single characters first: `in` and `find` find
    one with memchr, while a two-character needle or the regular expression's search takes ~10 times longer
    (a portal page holds a few `&` in 100k characters; each is tried where it stands)."""
    if any(marker in page for marker in _MARKERS):
        return True
    if "#" not in page:
        return False
    start = page.find("&")
    for _ in range(_AMPERSANDS_TRIED):
        if start == -1:
            return False
        if _MARKER_REFERENCE.match(page, start) is not None:
            return True
        start = page.find("&", start + 1)
    return start != -1 and _MARKER_REFERENCE.search(page, start) is not None


def _flattening() -> etree.XSLT:
    """The page as one string, written by libxslt in a single pass over the tree: running text with _BREAK at
    each block boundary (where `_Reader` ends a line); each table between _TABLE_START and _TABLE_END, _GROUP
    before and after each row group (thead/tbody/tfoot), _ROW before each row and _CELL before each cell's
    text, which has "\\n" at the block boundaries inside it (as `_flow`); text between a table's rows and
    cells between two _BETWEEN (`_flatten` makes sure it is blank: an XPath test here would cost ~3,000
    instructions a text). Whatever only the walk reads the way a browser shows it — a `<pre>`, a cell outside any table, a
    table that is not regular (see `_regular_rows`) — writes _IRREGULAR. Span attributes are not written:
    testing a cell for them costs libxslt more than reading them through lxml, and the string would then
    need parsing too.

    Inside a table one mode ("t") matches the rows and cells by their parents (`tbody/tr`, `tr/td`), cheaper
    than a mode for each level: libxslt tries a mode's `*` and `text()` templates on every node of every mode."""
    skipped = "|".join(sorted(_SKIPPED))
    blocks = "|".join(sorted(_BLOCKS - {"pre"}))  # a `tr` outside any table is a block like any other
    breaks = "|".join(sorted(_BREAKS_IN_TABLE))
    structure = "|".join(sorted(_STRUCTURE))
    stylesheet = f"""<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">
<xsl:output method="text" encoding="UTF-8"/>
<xsl:template match="{skipped}"/>
<xsl:template match="{blocks}">{_BREAK}<xsl:apply-templates/>{_BREAK}</xsl:template>
<xsl:template match="pre|td|th">{_IRREGULAR}</xsl:template>
<xsl:template match="table">{_TABLE_START}<xsl:apply-templates mode="t"/>{_TABLE_END}</xsl:template>
<xsl:template match="*" mode="t">{_IRREGULAR}</xsl:template>
<xsl:template match="text()" mode="t">{_BETWEEN}<xsl:copy/>{_BETWEEN}</xsl:template>
<xsl:template match="table/thead|table/tbody|table/tfoot" mode="t">{_GROUP}<xsl:apply-templates
 mode="t"/>{_GROUP}</xsl:template>
<xsl:template match="table/tr|thead/tr|tbody/tr|tfoot/tr" mode="t">{_ROW}<xsl:apply-templates mode="t"/></xsl:template>
<xsl:template match="tr/td|tr/th" mode="t">{_CELL}<xsl:apply-templates mode="cell"/></xsl:template>
<xsl:template match="{skipped}" mode="cell"><xsl:if test=".//table">{_IRREGULAR}</xsl:if></xsl:template>
<xsl:template match="{structure}" mode="cell">{_IRREGULAR}</xsl:template>
<xsl:template match="{breaks}" mode="cell" xml:space="preserve">&#10;<xsl:apply-templates
 mode="cell"/>&#10;</xsl:template>
</xsl:stylesheet>"""
    return etree.XSLT(etree.XML(stylesheet), access_control=etree.XSLTAccessControl.DENY_ALL)


_FLATTEN = _flattening()


@dataclass
class _Flat:
    """A page flattened by libxslt, and its merged cells as (place among the page's cells in document order,
    rowspan, colspan), in order; every other cell spans one row and one column."""

    text: str
    merged: list[tuple[int, int, int]]


def _flatten(root: Element) -> _Flat | None:
    """The page flattened by libxslt (see `_flattening`), or None when the walk must read it. The caller
    makes sure no text of the page holds a marker (`_may_hold_markers`)."""
    try:
        text = str(_FLATTEN(root))
    except etree.XSLTApplyError:  # nesting past libxslt's template depth: the walk reads it
        return None
    if _IRREGULAR in text:
        return None
    between = text.find(_BETWEEN)
    if between != -1 and text.startswith(_LINE_BREAK_BETWEEN, between):
        # Where the first text between rows is a lone line break (tidy markup), the others mostly are too: those
        # are dropped at once. A page that indents its rows (a saved portal page) skips a search that would not pay.
        text = text.replace(_LINE_BREAK_BETWEEN, "")
    if _BETWEEN in text:
        # Text between rows and cells must be blank (XML cannot hold a form feed: text with one is not).
        pieces = text.split(_BETWEEN)
        if "".join(pieces[1::2]).strip(" \t\n\r"):
            return None
        text = "".join(pieces[::2])
    cell_count, merged = _merged_cells(root)
    # Every cell of the page is a flattened one, in the same order, unless some stand where no text is shown
    # (in a `noscript` …); the walk reads those pages.
    return _Flat(text, merged) if cell_count == text.count(_CELL) else None


def _merged_cells(root: Element, *, styled: bool | None = None) -> tuple[int, list[tuple[int, int, int]]]:
    """How many cells the page has, and its merged cells (place among them, rowspan, colspan) in order. Where
    cells are `styled` (portal pages give each a style or width; by default: when the first cell has an
    attribute but a span), two lookups by bytes key a cell cost less than the list of its attributes; where
    they are not, that list, usually empty, costs half as much (libxml2 keeps no duplicate attribute): the lists
    are taken in one `map`, and the cells with attributes read by `map`s over them alone (loops in C)."""
    cells = root.iter("td", "th")
    first = next(cells, None)
    if first is None:
        return 0, []
    if styled is None:
        styled = any(name != "rowspan" and name != "colspan" for name in first.keys())
    if styled:
        merged: list[tuple[int, int, int]] = []
        place = 0
        for place, cell in enumerate(chain((first,), cells)):
            rowspan, colspan = cell.get(b"rowspan"), cell.get(b"colspan")
            if rowspan is not None or colspan is not None:
                spans = _rowspan(rowspan), _colspan(colspan)
                if spans != (1, 1):
                    merged.append((place, *spans))
        return place + 1, merged
    attribute_lists = list(map(Element.items, chain((first,), cells)))
    places = list(compress(count(), attribute_lists))
    attributes = list(map(dict, map(attribute_lists.__getitem__, places)))
    return len(attribute_lists), _merged_at(
        places,
        list(map(dict.get, attributes, repeat("rowspan"))),
        list(map(dict.get, attributes, repeat("colspan"))),
    )


def _merged_at(
    places: list[int], rowspan_values: list[str | None], colspan_values: list[str | None]
) -> list[tuple[int, int, int]]:
    """The merged cells among cells at `places` with these span attributes (None where absent), in order."""
    rowspans = list(map(_ROWSPANS.get, rowspan_values))
    if None in rowspans:  # a value pages seldom write: `_span` reads it
        rowspans = list(map(_rowspan, rowspan_values))
    colspans = list(map(_COLSPANS.get, colspan_values))
    if None in colspans:
        colspans = list(map(_colspan, colspan_values))
    spans = zip(places, cast(list[int], rowspans), cast(list[int], colspans), strict=True)
    return [(place, rowspan, colspan) for place, rowspan, colspan in spans if rowspan != 1 or colspan != 1]


def cell_texts(rows: str, row_mark: str, cell_mark: str) -> list[list[str]]:
    """The cells of flattened rows (`row_mark` … `cell_mark` text `cell_mark` text …), each text collapsed
    (`collapse`): its ends trimmed, then, in the rare cell with whitespace left inside, that collapsed."""
    if not _has_whitespace(rows):
        return [row.split(cell_mark)[1:] for row in rows.split(row_mark)[1:]]
    cells = [[cell.strip(_HTML_SPACES) for cell in row.split(cell_mark)[1:]] for row in rows.split(row_mark)[1:]]
    if not _has_whitespace("".join(chain.from_iterable(cells))):
        return cells
    # Only the rows with whitespace left inside a cell, and in them only those cells, are collapsed.
    return [
        [text if not _has_whitespace(text) else collapse(text) for text in texts]
        if _has_whitespace("".join(texts))
        else texts
        for texts in cells
    ]


def _flat_rows(segments: list[list[list[str]]], merged: list[tuple[int, int, int]]) -> list[_RowCells]:
    """A flattened table's rows, as `_regular_rows` reads them, from its row groups' rows of cell texts
    (`segments`: the table split at each _GROUP marker, a group's number its place) and its merged cells
    `merged` (place in the table, rowspan, colspan) in order."""
    rows: list[_RowCells] = []
    start = 0  # the place of the row's first cell in the table
    next_merged = 0
    for group, segment in enumerate(segments):
        for texts in segment:
            end = start + len(texts)
            row_merged = []
            while next_merged < len(merged) and merged[next_merged][0] < end:
                place, rowspan, colspan = merged[next_merged]
                row_merged.append((place - start, rowspan, colspan))
                next_merged += 1
            rows.append((group, texts, row_merged))
            start = end
    return rows


@dataclass(frozen=True)
class _TablePlan:
    """The grid of a table with merged cells, as `layout` lays it out uncut, by where each slot comes from:
    each of `rows` takes the table's cell texts followed by None and "" and gives a row's slots, padded to the
    grid's width (one getter a row: no tuple of the whole grid to slice); `cells` is the grid's size (what it
    takes of MAX_GRID_CELLS)."""

    cells: int
    rows: tuple[Callable[[list[str | None]], tuple[str | None, ...]], ...]

    def grid(self, values: list[str | None]) -> tuple[tuple[str | None, ...], ...]:
        return tuple([row(values) for row in self.rows])


_TableShape = tuple[tuple[tuple[int, ...], ...], tuple[tuple[int, int, int], ...]]


def _table_plan(shape: _TableShape) -> _TablePlan | None:
    """The plan of a table of this shape (its row groups' rows' cell counts, and its merged cells), or None
    when `layout` cuts it even with the whole of MAX_GRID_CELLS left or its grid has more than _PLANNED_SLOTS
    slots (the plan holds a source a slot)."""
    counts, merged = shape
    first = 0
    segments: list[list[list[int]]] = []  # each cell as its index among the table's cells
    for rows in counts:
        segments.append([list(range(first, first := first + cells)) for cells in rows])
    # `layout` places the texts without reading them: each cell's index stands in for its text.
    grid, cut = layout(_flat_rows(cast(list[list[list[str]]], segments), list(merged)), MAX_GRID_CELLS)
    if cut or not grid or len(grid) * len(grid[0]) > _PLANNED_SLOTS:
        return None
    blank = {None: first, "": first + 1}  # where None and "" stand after the cells' texts
    sources = [[slot if isinstance(slot, int) else blank[slot] for slot in row] for row in grid]
    return _TablePlan(len(grid) * len(grid[0]), tuple(map(_slots_getter, sources)))


def _slots_getter(sources: list[int]) -> Callable[[list[str | None]], tuple[str | None, ...]]:
    """What gives the values at `sources`, as a tuple (`itemgetter` of one index gives the value alone)."""
    if len(sources) > 1:
        return itemgetter(*sources)
    source = sources[0]
    return lambda values: (values[source],)


def _planned(shape: _TableShape) -> _TablePlan | None:
    """The plan of tables of this shape, made at the first call for it. At most _MOST_PLANS shapes are
    remembered, each plan of at most _PLANNED_SLOTS slots, so that what stays in memory is bounded."""
    try:
        return _TABLE_PLANS[shape]  # one lookup: hashing and comparing a shape costs ~200 steps a row
    except KeyError:
        pass
    if len(_TABLE_PLANS) >= _MOST_PLANS:
        _TABLE_PLANS.clear()
    plan = _TABLE_PLANS[shape] = _table_plan(shape)
    return plan


def _met_before(table: _TableSighting) -> bool:
    """Whether a table like this was met before (among the last _MOST_PLANS kinds met), noting it met."""
    if table in _TABLES_MET:
        return True
    if len(_TABLES_MET) >= _MOST_PLANS:
        _TABLES_MET.clear()
    _TABLES_MET.add(table)
    return False


_MOST_PLANS = 256
_PLANNED_SLOTS = 4096
# Shape → its plan (None: `_table_plan` has none for it).
_TABLE_PLANS: dict[_TableShape, _TablePlan | None] = {}
# A table as told from others cheaply: its cell count, how many of them are merged, its first and last merged
# cells. Tables alike (most of them of one shape) are met again: a plan is made for a shape from then on.
_TableSighting = tuple[int, int, tuple[int, int, int], tuple[int, int, int]]
_TABLES_MET: set[_TableSighting] = set()


def _merged_grid(
    table: str, merged: list[tuple[int, int, int]], cell_count: int, cells_left: int
) -> tuple[tuple[tuple[str | None, ...], ...], bool]:
    """`layout` of a flattened table of `cell_count` cells with merged cells `merged` (place in the table,
    rowspan, colspan), by its shape's plan where the grid fits in `cells_left` (`layout` lays out such a grid the
    same whatever is left). Making a plan costs more than laying out one table, and its shape is worth working
    out only when a table like it was met before: the first (a real page's own table) is read row by row and
    laid out directly, and so is a table too large to plan.

    Nothing but markers stands outside the cells (`_flatten`), so the cells' texts are the table's pieces
    between _CELL markers once the row and group markers are gone, each collapsed as `cell_texts` does."""
    if cell_count > _PLANNED_SLOTS or not _met_before((cell_count, len(merged), merged[0], merged[-1])):
        return layout(_flat_rows([cell_texts(rows, _ROW, _CELL) for rows in table.split(_GROUP)], merged), cells_left)
    counts: tuple[tuple[int, ...], ...]
    if table.count(_GROUP) == 2 and table.startswith(_GROUP) and table.endswith(_GROUP):
        # One row group around the rows (a `tbody`, as most pages write): its rows' counts without the segments.
        counts = ((), tuple(map(str.count, table.split(_ROW)[1:], repeat(_CELL))), ())
    else:
        counts = tuple([tuple(map(str.count, rows.split(_ROW)[1:], repeat(_CELL))) for rows in table.split(_GROUP)])
    if not _has_whitespace(table):
        texts = table.replace(_ROW, "").replace(_GROUP, "").split(_CELL)[1:]
    else:  # a cell's text is followed by the row and group markers before the next cell: stripped with its ends
        texts = list(map(str.strip, table.split(_CELL)[1:], repeat(_SPACES_AND_ROW_MARKERS)))
        if _has_whitespace("".join(texts)):
            texts = [collapse(text) if _has_whitespace(text) else text for text in texts]
    plan = _planned((counts, tuple(merged)))
    if plan is not None and plan.cells <= cells_left:
        return plan.grid([*texts, None, ""]), False
    cells = iter(texts)
    segments = [[list(islice(cells, count)) for count in rows] for rows in counts]
    return layout(_flat_rows(segments, merged), cells_left)


def _plain_layout(rows: list[list[str]], cells_left: int) -> tuple[tuple[tuple[str | None, ...], ...], bool]:
    """`layout` of a table without rowspans and colspans: each row's cells, cut at the width cap, rows without
    cells left out, short rows padded with ""; cut as `layout` cuts."""
    placed: list[list[str]] = []
    width = 0
    slot_count = 0
    cut = False
    for texts in rows:
        if slot_count > cells_left:
            cut = True
            break
        if len(texts) > MAX_TABLE_WIDTH:
            texts = texts[:MAX_TABLE_WIDTH]
            cut = True
        slot_count += len(texts)
        width = max(width, len(texts))
        if texts:
            placed.append(texts)
    grid: list[tuple[str | None, ...]] = []
    for texts in placed:
        if cells_left < width:
            return tuple(grid), True
        cells_left -= width
        grid.append(tuple(texts) if len(texts) == width else (*texts, *("",) * (width - len(texts))))
    return tuple(grid), cut


def _flat_lines(text: str, lines: list[str]) -> None:
    """Running text of a flattened page: a line between each two block boundaries (those not blank), collapsed
    as `collapse` does: trimmed all in one `map`, then, in the rare line with a run of whitespace left inside
    that is not one space (`collapse` keeps a single space as it is), that collapsed (`collapse` of a trimmed
    text is that of the text). The lines are looked at joined: no line ends in whitespace, so a run in the
    joined text is one line's."""
    trimmed = list(map(str.strip, filter(str.strip, text.split(_BREAK)), repeat(_HTML_SPACES)))
    joined = "".join(trimmed)
    if "  " in joined or "\n" in joined or "\t" in joined or "\r" in joined or "\f" in joined:
        trimmed = [collapse(line) if _has_whitespace(line) else line for line in trimmed]
    lines += trimmed


def _flat_document(flat: _Flat) -> Document:
    """The document of a flattened page: the lines and grids `_Reader.read` gives, made straight from the
    string. Every character of a line or cell is one of the flattened text's, so the text is at most as long."""
    lines: list[str] = []
    grids: dict[int, Grid] = {}
    problems: list[str] = []
    cells_left = MAX_GRID_CELLS
    first, *tables = flat.text.split(_TABLE_START)
    _flat_lines(first, lines)
    first_cell = 0
    next_merged = 0
    for piece in tables:
        table, after = piece.split(_TABLE_END, 1)
        end = first_cell + table.count(_CELL)
        stop = bisect_left(flat.merged, (end,), next_merged)  # the first merged cell past the table
        if stop > next_merged:
            merged = [
                (place - first_cell, rowspan, colspan) for place, rowspan, colspan in flat.merged[next_merged:stop]
            ]
            grid, cut = _merged_grid(table, merged, end - first_cell, cells_left)
        else:  # no merged cell: each row is its cells
            grid, cut = _plain_layout(_plain_rows(table), cells_left)
        first_cell, next_merged = end, stop
        if grid:
            cells_left -= len(grid) * len(grid[0])
            grids[len(lines)] = Grid(grid)
            lines.append("")
        if cut and _TOO_LARGE not in problems:
            problems.append(_TOO_LARGE)
        _flat_lines(after, lines)
    return Document(lines=lines, grids=grids, problems=problems)


def _plain_rows(table: str) -> list[list[str]]:
    """A flattened table's rows of cell texts (row groups matter only to rowspans)."""
    if _GROUP in table:
        table = table.replace(_GROUP, "")
    return cell_texts(table, _ROW, _CELL)


def read(data: bytes) -> Document:
    """The page's lines and grids, at most MAX_TEXT_CHARS characters of text (`bounded`)."""
    if not data or data.isspace():  # as `not data.strip()`, without copying the page
        raise UnreadableFile("文件为空，没有可读取的内容")
    page, problems, source = _page_and_source(data)
    whole = _without_unterminated_markup(page)
    root, cut = _tree(whole, source if whole is page else None)
    flat = None if root is None or _may_hold_markers(page) else _flatten(root)
    if flat is not None:
        document = _flat_document(flat)
    else:
        reader = _Reader()
        if root is not None:
            reader.read(root)
        document = Document(reader.blocks, reader.problems)
    if not document.lines:
        if cut:
            raise UnreadableFile("；".join(cut))
        raise UnreadableFile("网页中没有可读的正文文字（可能是空白页，或正文由脚本动态加载）")
    document.problems[:0] = problems + cut
    return document if flat is not None and len(flat.text) <= MAX_TEXT_CHARS else bounded(document)
