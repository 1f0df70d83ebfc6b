"""HTML reports (web pages saved from a government portal): running text as lines, each `<table>` as a grid.

Only the standard library's `html.parser` reads the markup; nothing is ever fetched and no entity is
expanded beyond the HTML5 named and numeric character references the parser itself converts. Text is
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
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from itertools import groupby
from operator import itemgetter

from report.document import Block, Document, Grid, TextLine, UnreadableFile
from report.formats import text

MAX_ROWSPAN = 1000
MAX_COLSPAN = 200
MAX_TABLE_WIDTH = 1000
MAX_NESTING = 100
MAX_GRID_CELLS = 500_000  # over the whole document, so that a hostile page cannot exhaust memory

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

_SKIPPED = frozenset({"script", "style", "head", "title", "template", "noscript"})
_HEAD_CONTENT = frozenset({"meta", "link", "base", "title", "style", "script", "noscript", "template"})
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
_WHITESPACE = re.compile(r"[ \t\n\r\f]+")
_NON_NEGATIVE = re.compile(r"[ \t\n\r\f]*\+?(\d+)")
_MARKUP_OPEN = re.compile(r"<[A-Za-z/!?]")


def _wide(char: str) -> bool:
    return unicodedata.east_asian_width(char) in ("W", "F")


def collapse(raw: str) -> str:
    """Whitespace as a reader sees it: each run becomes one space, except a line break between two CJK
    characters, which disappears (a wrapped Chinese line is one line); ends trimmed. NBSP is not touched."""

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


def _span(value: str | None, cap: int) -> int:
    """A rowspan/colspan value by the HTML rules for non-negative integers ("3px" is 3); 0 is kept (rowspan 0
    runs to the end of the row group), garbage is 1, and the result is capped."""
    match = _NON_NEGATIVE.match(value or "")
    if match is None:
        return 1
    digits = match.group(1).lstrip("0") or "0"
    return cap if len(digits) > len(str(cap)) else min(int(digits), cap)


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

    def start_cell(self, attrs: dict[str, str | None]) -> None:
        if self.row is None:
            self.start_row()
        assert self.row is not None
        rowspan = _span(attrs.get("rowspan"), MAX_ROWSPAN)
        colspan = max(_span(attrs.get("colspan"), MAX_COLSPAN), 1)
        self.cell = _Cell(rowspan, colspan)
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


def _group_ends(rows: list[_Row]) -> list[int]:
    """For each row, the index one past the last row of its row group."""
    ends = [len(rows)] * len(rows)
    for index in range(len(rows) - 2, -1, -1):
        ends[index] = ends[index + 1] if rows[index + 1].group == rows[index].group else index + 1
    return ends


def _place(rows: list[_Row], limit: int) -> tuple[dict[tuple[int, int], str | None], int, int, bool]:
    """Cell texts by (row, column), covered slots as None; the width; how many rows were placed before the
    slots passed `limit`; whether anything was cut (cells past the width cap, or rows past the limit)."""
    slots: dict[tuple[int, int], str | None] = {}
    width = 0
    cut = False
    ends = _group_ends(rows)
    for index, row in enumerate(rows):
        if len(slots) > limit:
            return slots, width, index, True
        column = 0
        for cell in row.cells:
            while (index, column) in slots:
                column += 1
            if column + cell.colspan > MAX_TABLE_WIDTH:
                cut = True
                break
            last_row = ends[index] if cell.rowspan == 0 else min(index + cell.rowspan, ends[index])
            for covered_row in range(index, last_row):
                for covered_column in range(column, column + cell.colspan):
                    slots.setdefault((covered_row, covered_column), None)
            slots[(index, column)] = cell.text()
            column += cell.colspan
            width = max(width, column)
    return slots, width, len(rows), cut


def layout(rows: list[_Row], cells_left: int) -> tuple[tuple[tuple[str | None, ...], ...], bool]:
    """The grid a reader sees, at most `cells_left` slots of it, and whether it had to be cut.

    A row without cells of its own and not reached by any rowspan (`<tr></tr>`) shows nothing and is left out."""
    slots, width, placed, cut = _place(rows, cells_left)
    grid: list[tuple[str | None, ...]] = []
    for index, row in enumerate(rows[:placed]):
        cells = tuple(slots.get((index, column), "") for column in range(width))
        if not row.cells and all(cell == "" for cell in cells):
            continue
        if cells_left < width:
            return tuple(grid), True
        cells_left -= width
        grid.append(cells)
    return tuple(grid), cut


def _without_unterminated_markup(page: str) -> str:
    """The page without markup left open at its very end. Browsers drop such a tag; html.parser would rescan
    the rest of the page for every `<` in it, which takes cubic time on a hostile page ("<a <a <a …")."""
    match = _MARKUP_OPEN.search(page, page.rfind(">") + 1)
    return page if match is None else page[: match.start()]


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[Block] = []
        self.problems: list[str] = []
        self._line = _Line()
        self._skipping: list[str] = []  # open elements whose content is not shown (script, style, head …)
        self._pre = 0
        self._tables: list[_Table] = []  # open tables, outermost first; an inner one ends up in its outer cell
        self._too_deep = 0  # tables opened past MAX_NESTING, ignored
        self._cells_left = MAX_GRID_CELLS

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._skipping == ["head"] and (tag == "body" or tag not in _HEAD_CONTENT):
            self._skipping.clear()  # the head ended without saying so
        if tag in _SKIPPED:
            self._skipping.append(tag)
        elif self._skipping:
            return
        elif tag == "table":
            self._start_table()
        elif self._tables:
            self._table_tag(tag, dict(attrs), start=True)
        elif tag in _CELLS:
            self._cell_outside_table()
        elif tag in _BLOCKS:
            self._end_line()
            if tag == "pre":
                self._pre += 1

    def handle_endtag(self, tag: str) -> None:
        if self._skipping:
            if tag in self._skipping:
                del self._skipping[self._skipping.index(tag) :]
        elif tag == "table":
            self._end_table()
        elif self._tables:
            self._table_tag(tag, {}, start=False)
        elif tag in _BLOCKS:
            self._end_line()
            if tag == "pre":
                self._pre = max(self._pre - 1, 0)

    def handle_data(self, data: str) -> None:
        if self._skipping:
            if self._skipping != ["head"] or not data.strip():
                return
            self._skipping.clear()  # text in the head: browsers start the body here
        if self._tables:
            self._tables[-1].add_text(data)
        elif self._pre:
            self._add_preformatted(data)
        else:
            self._line.add(data)

    def parse_html_declaration(self, i: int) -> int:
        try:
            return super().parse_html_declaration(i)
        except AssertionError:  # a malformed <!…> (html.parser asserts): browsers skip it as a bogus comment
            end = self.rawdata.find(">", i)
            return -1 if end < 0 else end + 1

    def close(self) -> None:
        super().close()
        self._too_deep = 0
        while self._tables:
            self._end_table()
        self._end_line()

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
        blocks = self._table_blocks(self._tables.pop())
        if self._tables:
            self._tables[-1].add_blocks(blocks)
        else:
            self.blocks.extend(blocks)

    def _table_blocks(self, table: _Table) -> list[Block]:
        """A table's blocks: its loose text, then its grid, or, for a table holding tables (page layout, not
        data), its cells as running text with the inner tables in place."""
        table.end_loose_line()
        if table.holds_tables:
            return [
                *table.loose_blocks,
                *(block for row in table.rows for cell in row.cells for block in cell.blocks()),
            ]
        rows, cut = layout(table.rows, self._cells_left)
        self._cells_left -= sum(map(len, rows))
        if cut and _TOO_LARGE not in self.problems:
            self.problems.append(_TOO_LARGE)
        return [*table.loose_blocks, Grid(rows)] if rows else table.loose_blocks

    def _table_tag(self, tag: str, attrs: dict[str, str | None], *, start: bool) -> None:
        """A tag inside the innermost open table: rows and cells build its grid, blocks break its text."""
        table = self._tables[-1]
        if tag in _BREAKS_IN_TABLE:
            table.soft_break()
        elif tag == "tr" and start:
            table.start_row()
        elif tag == "tr":
            table.end_row()
        elif tag in _CELLS:
            if start:
                table.start_cell(attrs)
            else:
                table.end_cell()
        elif tag in _SECTIONS:
            table.new_group()


def read(data: bytes) -> Document:
    if not data.strip():
        raise UnreadableFile("文件为空，没有可读取的内容")
    page, problems = decode_page(data)
    reader = _Reader()
    reader.feed(_without_unterminated_markup(page))
    reader.close()
    if not reader.blocks:
        raise UnreadableFile("网页中没有可读的正文文字（可能是空白页，或正文由脚本动态加载）")
    return Document(reader.blocks, problems + reader.problems)
