"""docx reports: the main document part read straight from the zip, never trusting its sizes or its XML.

Before anything is decompressed the member's declared size and compression ratio are checked (zip bombs),
and it is then read in a bounded way. A plain package (its central directory at the end, no comment, Zip64
or extra fields, members stored or deflated whole with their CRC-32 right) is read without zipfile
(`_plain_part`: zipfile's Python costs ~0.4 M instructions a report); any other is read by zipfile, as are its
refusals. The XML goes through lxml (libxml2, ~5× faster than the standard library's tree builder) with
entities left unresolved, no network, libxml2's default limits on depth (256) and text size kept (no
huge_tree), and any document type declaration refused, so entity tricks (billion laughs,
external entities) never reach the reader; comments and processing instructions are dropped. The body is walked in order: each paragraph gives
one line per line break, each table the grid a reader sees (gridSpan spreads a cell to the right, vMerge
down; covered slots are None; a row shorter than the grid is padded with ""). A table holding other tables
is page layout: its cells are read as running text, the tables inside it as tables. Content controls
(w:sdt) and custom XML wrappers are looked through; deleted revisions are left out.

The walk leaves the per-element work to libxml2 (a Python step per element cost ~8 ms a report): wrappers
are stripped in one call; one pass over the text pieces only (`_scan`, lxml's filtered iteration) gives
every paragraph's and cell's text and one over the merge properties gives the spans, so that rows and cells
are then a few dictionary lookups each; tag facts (local name, hidden or not) come from per-tag caches.
Usually libxslt flattens the body into one string instead (`_flattening`), read with a few calls a table
(a regular expression costs microseconds a call): its merge properties go in one, whether any cell needs
whitespace collapsed is told by one, and its layout is planned once per skeleton (its rows' cells and merge
properties, `_TablePlan`) and read with one itemgetter.
Most parts (python-docx's, and Word's own markup with its revision and paragraph ids, bookmarks, proofing marks
and row properties) skip both libxml2's tree and libxslt: `_plain_reading` writes the same string, bare (as it
is read: `_bare`), straight from the part's bytes when it can vouch that libxml2 would read the part and libxslt
flatten it so; anything else is parsed as above.
"""

from __future__ import annotations

import codecs
import io
import re
import struct
import zipfile
import zlib
from collections.abc import Callable, Iterator, Sequence, Sized
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import repeat
from operator import itemgetter
from typing import TypeVar

from lxml import etree
from lxml.etree import _Element as Element

from report.document import MAX_TEXT_CHARS, Block, Document, Grid, TextLine, UnreadableFile, bounded
from report.formats.html import cell_texts, collapse

MAX_PART_BYTES = 32 * 1024 * 1024  # uncompressed size of one XML part (a 100-page report's is a few MB)
MAX_RATIO = 200  # uncompressed : compressed, beyond which a large part is taken for a zip bomb
RATIO_CHECKED_FROM = 10 * 1024 * 1024  # small parts may compress as well as they like
MAX_GRID_COLUMNS = 1000
MAX_GRID_CELLS = 500_000  # over the whole document, so that a hostile file cannot exhaust memory
_TOO_LARGE = "docx 中的表格过大，超出部分已忽略"
_ALT_CHUNK_PROBLEM = "docx 中嵌入了外部文档片段（altChunk），其内容未读取"

_OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ENCRYPTED_PACKAGE = "EncryptedPackage".encode("utf-16-le")
_WORD_NAMESPACES = (
    "http://schemas.openxmlformats.org/wordprocessingml/2006/main",
    "http://purl.oclc.org/ooxml/wordprocessingml/main",  # Strict Open XML
)
# What Word's namespace is read under when the main part declares it the usual way (`_shortened`): libxslt
# compares the namespace of every element it matches with the stylesheet's byte by byte, ~60 bytes for Word's
# own. An absolute URI with a byte (~) Word's parts hardly ever hold, so that one memchr tells it is not taken.
_SHORT_NAMESPACE = "a:~"
_SHORT_NAMESPACE_MARK = b"~"
_ROOT_DECLARATION = re.compile(
    rb"(?:\xef\xbb\xbf)?(?:<\?xml[^>]*>)?\s*<w:document(?:\s+[^\s=>/]+\s*=\s*(?:\"[^\"]*\"|'[^']*'))*?\s+xmlns:w\s*=\s*\"("
    + re.escape(_WORD_NAMESPACES[0].encode())
    + rb')"'
)
_OFFICE_DOCUMENT = "/officeDocument"
# What zipfile raises on a damaged member (bad CRC or header, broken deflate stream, unknown compression …).
_DAMAGED_ZIP = (zipfile.BadZipFile, zlib.error, EOFError, ValueError, OSError, NotImplementedError, RuntimeError)
_DEFAULT_MAIN_PART = "word/document.xml"
# Wrappers around paragraphs, tables, rows or cells: content controls and custom XML. They are stripped from
# the tree (their content stays in place) before it is read, by libxml2 in one pass.
_WRAPPERS = ("{*}sdt", "{*}sdtContent", "{*}customXml")
# Subtrees holding no visible text besides properties (…Pr): deleted revisions, and the duplicate
# fallback of an alternate content block (its Choice is read).
_HIDDEN = frozenset({"del", "moveFrom", "Fallback"})
# What a paragraph's text is made of, by local name (in any namespace, as Word's own and DrawingML's `t`);
# None for a nested paragraph (a text box's), which starts a new line and is read through.
_TEXT_PIECES: dict[str, str | None] = {
    "t": "", "tab": "\t", "ptab": "\t", "br": "\n", "cr": "\n", "noBreakHyphen": "-", "p": None,
}  # fmt: skip
_TEXT_TAGS = tuple(f"{{*}}{name}" for name in _TEXT_PIECES)
_BLOCK_TAGS = ("{*}p", "{*}tbl", "{*}altChunk")
_VISIBLE, _SKIPPED, _LEAF, _PARAGRAPH = 0, 1, 2, 3  # what an element is to the paragraph text around it
_CACHED_KEYS = 10_000  # a file may use any number of distinct tags (…); the caches below forget them past this


def _local(tag: object) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


_Key = TypeVar("_Key")
_Fact = TypeVar("_Fact")


class _Memo(dict[_Key, _Fact]):
    """Key → a fact computed from it once per distinct key, so that a lookup is one dictionary access; forgets
    everything past _CACHED_KEYS keys."""

    def __init__(self, fact: Callable[[_Key], _Fact]) -> None:
        super().__init__()
        self._fact = fact

    def __missing__(self, key: _Key) -> _Fact:
        if len(self) > _CACHED_KEYS:
            self.clear()
        value = self[key] = self._fact(key)
        return value


_Markup = TypeVar("_Markup", bound=Sized)  # bytes or str


class _MarkupMemo(_Memo[_Markup, _Fact]):
    """A `_Memo` of markup (pieces of a part's bytes, tables' skeletons) that remembers only keys of at most
    `longest` bytes or characters, and at most `most` of them: what it holds stays in memory from file to file,
    and a hostile part may be megabytes of one piece."""

    def __init__(self, fact: Callable[[_Markup], _Fact], longest: int, most: int = _CACHED_KEYS) -> None:
        super().__init__(fact)
        self._longest, self._most = longest, most

    def __missing__(self, key: _Markup) -> _Fact:
        if len(key) > self._longest:
            return self._fact(key)
        if len(self) >= self._most:
            self.clear()
        value = self[key] = self._fact(key)
        return value


def _kind(name: str) -> int:
    """_SKIPPED: hidden, not read into; _LEAF: a text piece, not read into; _PARAGRAPH; else _VISIBLE."""
    if name in _HIDDEN or name.endswith("Pr"):
        return _SKIPPED
    if name == "p":
        return _PARAGRAPH
    return _LEAF if name in _TEXT_PIECES else _VISIBLE


# Element tag → a fact of its local name.
_KINDS: _Memo[object, int] = _Memo(lambda tag: _kind(_local(tag)))
_LOCALS: _Memo[object, str] = _Memo(_local)
_PIECES: _Memo[object, str | None] = _Memo(lambda tag: _TEXT_PIECES.get(_local(tag), ""))

_VALUE_NAMES = tuple(f"{{{namespace}}}val" for namespace in _WORD_NAMESPACES)
_SHORT_VALUE_NAMES = (f"{{{_SHORT_NAMESPACE}}}val", *_VALUE_NAMES)  # in a part read under the short name


def _value(element: Element, names: tuple[str, ...]) -> str | None:
    """The element's w:val (`names`: _VALUE_NAMES, or _SHORT_VALUE_NAMES in a part `_shortened`)."""
    for name in names:
        value = element.get(name)
        if value is not None:
            return value
    return None


_MERGE_PROPERTIES = ("{*}gridSpan", "{*}vMerge", "{*}hMerge", "{*}gridBefore")
_CELL_MERGES = frozenset({"gridSpan", "vMerge", "hMerge"})
_PROPERTY_PLACES = frozenset({("tcPr", "tc"), ("trPr", "tr")})


@dataclass
class _Reading:
    """What one pass over the body's text pieces and table properties found, and the reading's state."""

    texts: dict[Element, str] = field(default_factory=dict)  # paragraph (not inside another one) → its text
    cell_lines: dict[Element, list[str]] = field(default_factory=dict)  # cell → its paragraphs' texts
    properties: dict[Element, dict[str, Element]] = field(default_factory=dict)  # cell/row → gridSpan …
    problems: list[str] = field(default_factory=list)
    cells_left: int = MAX_GRID_CELLS
    value_names: tuple[str, ...] = _VALUE_NAMES  # see `_value`

    def problem(self, message: str) -> None:
        if message not in self.problems:
            self.problems.append(message)


def _scan(body: Element, *, shortened: bool = False) -> _Reading:
    """The text of every paragraph that is not inside another one, from one pass over the body's text
    pieces: tabs as "\\t", breaks (and paragraphs of a text box) as "\\n", in document order. A piece
    counts when nothing between it and its paragraph hides it (properties, deleted text) or is itself a
    piece (a `t` holds no other pieces). Then each cell's and row's merge and span properties: the first
    of each name in its w:tcPr / w:trPr."""
    reading = _Reading(value_names=_SHORT_VALUE_NAMES if shortened else _VALUE_NAMES)
    pieces: dict[Element, list[str]] = {}
    cell_paragraphs: dict[Element, list[Element]] = {}
    nested: set[Element] = set()  # paragraphs of text boxes: their text is their outer paragraph's
    for element in body.iter(*_TEXT_TAGS):  # document order: a paragraph comes before what is inside it
        is_paragraph = _KINDS[element.tag] == _PARAGRAPH
        owner = element.getparent()
        hidden = False
        while owner is not None and owner is not body:
            kind = _KINDS[owner.tag]
            if kind == _PARAGRAPH:
                if is_paragraph:  # inside another paragraph: a piece ("\\n") of the outermost one
                    nested.add(element)
                    is_paragraph = False
                if owner not in nested:
                    break
            elif kind:
                hidden = True
            owner = owner.getparent()
        if owner is None or owner is body or hidden:
            continue  # a paragraph not inside another one (not a piece), or a hidden piece
        piece = _PIECES[element.tag]
        text = "\n" if piece is None else piece or element.text or ""
        if owner in pieces:
            pieces[owner].append(text)
        else:
            pieces[owner] = [text]
            owner_parent = owner.getparent()
            if owner_parent is not None and _LOCALS[owner_parent.tag] == "tc":
                cell_paragraphs.setdefault(owner_parent, []).append(owner)
    reading.texts = {paragraph: "".join(texts) for paragraph, texts in pieces.items()}
    # A paragraph without pieces adds nothing to its cell's text: blank lines are one run of whitespace.
    reading.cell_lines = {
        cell: [reading.texts[paragraph] for paragraph in paragraphs] for cell, paragraphs in cell_paragraphs.items()
    }
    for item in body.iter(*_MERGE_PROPERTIES):
        holder = item.getparent()
        owner = holder.getparent() if holder is not None else None
        if owner is not None and (_LOCALS[holder.tag], _LOCALS[owner.tag]) in _PROPERTY_PLACES:
            reading.properties.setdefault(owner, {}).setdefault(_LOCALS[item.tag], item)
    return reading


def _cells(table: Element) -> Iterator[Element]:
    for row in table.iterchildren("{*}tr"):
        yield from row.iterchildren("{*}tc")


def _holds_tables(table: Element) -> bool:
    return any(next(cell.iterchildren("{*}tbl"), None) is not None for cell in _cells(table))


_NONE: dict[str, Element] = {}


def _int_value(value: str | None, default: int, cap: int) -> int:
    try:
        return min(max(int(value or default), 0), cap)
    except ValueError:
        return default


# The w:val of a vMerge/hMerge that continues the merge ("continue", also none), not restarts it.
_CONTINUES = frozenset({"", "continue"})
# What a cell's merge properties mean: its span (gridSpan), whether its vMerge and its hMerge continue a merge.
_Merge = tuple[int, bool, bool]


def _merge(properties: dict[str, str]) -> _Merge | None:
    """What the w:val of a cell's first gridSpan, vMerge and hMerge by name mean; None for a cell without any."""
    if not properties:
        return None
    span_value = properties.get("gridSpan")
    span = 1 if span_value is None else max(_int_value(span_value, 1, MAX_GRID_COLUMNS), 1)
    return span, properties.get("vMerge") in _CONTINUES, properties.get("hMerge") in _CONTINUES


# Where a row's slot takes None (covered by a merge) and "" (blank), from the row's texts followed by None and "".
_COVERED, _BLANK = -2, -1


def _slot_sources(before: int, merges: list[_Merge | None], above_width: int | None) -> list[int]:
    """Where a row's slots come from (a cell's index, _COVERED or _BLANK), by the number of blank slots its
    gridBefore asks for, its cells' merges and the width of the row above it (None for none). Each cell takes one
    slot, or its span of them, covered when its vMerge continues a merge below a slot of the row above or its
    hMerge continues one after a slot of its own row; a row is cut where the next cell would pass
    MAX_GRID_COLUMNS."""
    sources = [_BLANK] * before
    for index, merge in enumerate(merges):
        if merge is None:  # the usual cell: one slot
            if len(sources) >= MAX_GRID_COLUMNS:
                break
            sources.append(index)
            continue
        span, down, across = merge
        column = len(sources)
        if column + span > MAX_GRID_COLUMNS:
            break
        if (down and above_width is not None and column < above_width) or (across and sources):
            sources.extend([_COVERED] * span)
        else:
            sources.append(index)
            sources.extend([_COVERED] * (span - 1))
    return sources


def _row_slots(
    grid_before: str | None, texts: list[str], merges: list[_Merge | None], above: tuple[str | None, ...] | None
) -> tuple[str | None, ...]:
    """One table row as grid slots (`_slot_sources`), from the w:val of its gridBefore ("" for one without a
    value, None for none) and its cells' texts (collapsed) and merges, one of each a cell; `above` is the row
    before it, for vertical merges."""
    before = _int_value(grid_before, 0, MAX_GRID_COLUMNS) if grid_before is not None else 0
    values = [*texts, None, ""]
    return tuple([values[source] for source in _slot_sources(before, merges, None if above is None else len(above))])


def _laid_out(
    grid: list[tuple[str | None, ...]], rows: Iterator[tuple[str | None, ...]], reading: _Reading
) -> Grid | None:
    """The grid of a table's rows of slots, each row made once the row before it is in `grid` (a vertical merge
    looks at it); rows past MAX_GRID_CELLS are cut, short rows padded with ""."""
    for slots in rows:
        if len(slots) > reading.cells_left:
            reading.problem(_TOO_LARGE)
            break
        reading.cells_left -= len(slots)
        grid.append(slots)
    width = max((len(row) for row in grid), default=0)
    if not width:
        return None
    return Grid(tuple(row + ("",) * (width - len(row)) for row in grid))


def _value_of(element: Element | None, names: tuple[str, ...]) -> str | None:
    return None if element is None else _value(element, names) or ""


def _tree_slots(
    table: Element, reading: _Reading, grid: list[tuple[str | None, ...]]
) -> Iterator[tuple[str | None, ...]]:
    """A table's rows of slots as the tree and the scan give them, each made once the row before it is in `grid`."""
    for row in table.iterchildren("{*}tr"):
        cells = list(row.iterchildren("{*}tc"))
        texts = [collapse("\n".join(reading.cell_lines.get(cell, ()))) for cell in cells]  # as a reader reads them
        merges = [
            _merge(
                {
                    name: _value(element, reading.value_names) or ""
                    for name, element in reading.properties.get(cell, _NONE).items()
                    if name in _CELL_MERGES
                }
            )
            for cell in cells
        ]
        grid_before = _value_of(reading.properties.get(row, _NONE).get("gridBefore"), reading.value_names)
        yield _row_slots(grid_before, texts, merges, grid[-1] if grid else None)


def _blocks(container: Element, reading: _Reading) -> Iterator[Block]:
    for child in container.iterchildren(*_BLOCK_TAGS):
        name = _LOCALS[child.tag]
        if name == "p":
            for line in reading.texts.get(child, "").split("\n"):
                if line.strip():
                    yield TextLine(line)
        elif name == "tbl" and _holds_tables(child):
            for cell in _cells(child):
                yield from _blocks(cell, reading)
        elif name == "tbl":
            rows: list[tuple[str | None, ...]] = []
            grid = _laid_out(rows, _tree_slots(child, reading, rows), reading)
            if grid is not None:
                yield grid
        else:
            reading.problem(_ALT_CHUNK_PROBLEM)


# Markers libxslt writes between the pieces of a flattened body (`_flatten`): Unicode noncharacters, which no
# document holds (one that holds one, or a character reference that may stand for one, is read from the tree).
_PARAGRAPH_START, _TABLE_START, _TABLE_END, _ROW, _CELL, _ALT_CHUNK, _PROPERTY, _PROPERTY_END, _IRREGULAR = (
    chr(0xFDD0 + n) for n in range(9)
)
_MARKER = re.compile("[\ufdd0-\ufdd8]")
# A merge property of a cell or of a row, by name, and its w:val.
_PROPERTY_RUN = re.compile(f"{_PROPERTY}[^{_PROPERTY_END}]*{_PROPERTY_END}")
_MERGE_MARKS = tuple((kind, f"{_PROPERTY}{kind}") for kind in ("gridSpan", "vMerge", "hMerge"))
_ROW_MARKS = (("gridBefore", f"{_PROPERTY}gridBefore"),)
_GRID_BEFORE = _ROW_MARKS[0][1]
# What a flattened table's layout rests on (`_TablePlan`): its rows' and cells' marks and merge properties.
_SKELETON = re.compile(f"[{_ROW}{_CELL}]|{_PROPERTY}[^{_PROPERTY_END}]*{_PROPERTY_END}")


def _flattening(word_namespace: str) -> etree.XSLT:
    """The body as one string, written by libxslt in a single pass over the tree, in the order `_blocks` reads
    it: each paragraph after _PARAGRAPH_START (its text as `_scan` gathers it); each table of rows and cells
    between _TABLE_START and _TABLE_END, a row after _ROW, a cell after _CELL with "\\n" before each of its
    paragraphs, merge properties as _PROPERTY kind value _PROPERTY_END; the cells of a table holding tables
    as blocks; _ALT_CHUNK for an altChunk. Word's own namespace is matched by name; an element of any other
    namespace whose local name matters here (a DrawingML `t` or `p` is read as Word's) is read the same way,
    except where it would stand for a table part, a block or a property: the body is then read from the tree
    (_IRREGULAR). `word_namespace`: the URI Word's namespace is read under (`_shortened`). The caller makes
    sure no text or attribute of the body holds a marker (`_holds_markers`)."""
    local = "local-name()"
    ends_with_pr = f"substring({local}, string-length({local}) - 1) = 'Pr'"
    # w:val in Word's namespace, else in Strict's (as `_value`)
    value = "concat(@w:val, substring(@s:val, 1 div not(@w:val)))"
    stylesheet = f"""<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
 xmlns:w="{word_namespace}" xmlns:s="{_WORD_NAMESPACES[1]}">
<xsl:output method="text" encoding="UTF-8"/>
<xsl:template match="/"><xsl:apply-templates mode="root"/></xsl:template>
<xsl:template match="*" mode="root"><xsl:apply-templates mode="body"/></xsl:template>

<xsl:template match="text()" mode="body"/>
<xsl:template match="w:p" mode="body">{_PARAGRAPH_START}<xsl:apply-templates mode="p"/></xsl:template>
<xsl:template match="w:altChunk" mode="body">{_ALT_CHUNK}</xsl:template>
<xsl:template match="w:tbl" mode="body"><xsl:choose>
 <xsl:when test="w:tr/w:tc/w:tbl"><xsl:apply-templates mode="layout-table"/></xsl:when>
 <xsl:otherwise>{_TABLE_START}<xsl:apply-templates mode="table"/>{_TABLE_END}</xsl:otherwise>
</xsl:choose></xsl:template>
<xsl:template match="text()" mode="layout-table"/>
<xsl:template match="w:tr" mode="layout-table"><xsl:apply-templates mode="layout-row"/></xsl:template>
<xsl:template match="w:*" mode="layout-table"/>
<xsl:template match="*" mode="layout-table"><xsl:if test="{local}='tr'">{_IRREGULAR}</xsl:if></xsl:template>
<xsl:template match="text()" mode="layout-row"/>
<xsl:template match="w:tc" mode="layout-row"><xsl:apply-templates mode="body"/></xsl:template>
<xsl:template match="w:*" mode="layout-row"/>
<xsl:template match="*" mode="layout-row"><xsl:if test="{local}='tc'">{_IRREGULAR}</xsl:if></xsl:template>
<xsl:template match="w:*" mode="body"/>
<xsl:template match="*" mode="body"><xsl:if test="{local}='p' or {local}='tbl' or {local}='altChunk'">{_IRREGULAR}</xsl:if></xsl:template>

<xsl:template match="text()" mode="table"/>
<xsl:template match="w:tr" mode="table">{_ROW}<xsl:apply-templates mode="row"/></xsl:template>
<xsl:template match="w:*" mode="table"/>
<xsl:template match="*" mode="table"><xsl:if test="{local}='tr'">{_IRREGULAR}</xsl:if></xsl:template>

<xsl:template match="text()" mode="row"/>
<xsl:template match="w:tc" mode="row">{_CELL}<xsl:apply-templates mode="cell"/></xsl:template>
<xsl:template match="w:trPr" mode="row"><xsl:apply-templates mode="row-properties"/></xsl:template>
<xsl:template match="w:*" mode="row"/>
<xsl:template match="*" mode="row"><xsl:if test="{local}='tc' or {local}='trPr'">{_IRREGULAR}</xsl:if></xsl:template>
<xsl:template match="text()" mode="row-properties"/>
<xsl:template match="w:gridBefore" mode="row-properties">{_PROPERTY}gridBefore<xsl:value-of select="{value}"/>{_PROPERTY_END}</xsl:template>
<xsl:template match="w:*" mode="row-properties"/>
<xsl:template match="*" mode="row-properties"><xsl:if test="{local}='gridBefore'">{_IRREGULAR}</xsl:if></xsl:template>

<xsl:template match="text()" mode="cell"/>
<xsl:template match="w:p" mode="cell"><xsl:text>&#10;</xsl:text><xsl:apply-templates mode="p"/></xsl:template>
<xsl:template match="w:tcPr" mode="cell"><xsl:apply-templates mode="cell-properties"/></xsl:template>
<xsl:template match="w:*" mode="cell"/>
<xsl:template match="*" mode="cell"><xsl:if
 test="{local}='p' or {local}='tcPr' or {local}='tbl'">{_IRREGULAR}</xsl:if></xsl:template>
<xsl:template match="text()" mode="cell-properties"/>
<xsl:template match="w:gridSpan" mode="cell-properties">{_PROPERTY}gridSpan<xsl:value-of select="{value}"/>{_PROPERTY_END}</xsl:template>
<xsl:template match="w:vMerge" mode="cell-properties">{_PROPERTY}vMerge<xsl:value-of select="{value}"/>{_PROPERTY_END}</xsl:template>
<xsl:template match="w:hMerge" mode="cell-properties">{_PROPERTY}hMerge<xsl:value-of select="{value}"/>{_PROPERTY_END}</xsl:template>
<xsl:template match="w:*" mode="cell-properties"/>
<xsl:template match="*" mode="cell-properties"><xsl:if
 test="{local}='gridSpan' or {local}='vMerge' or {local}='hMerge'">{_IRREGULAR}</xsl:if></xsl:template>

<xsl:template match="text()" mode="p"/>
<xsl:template match="w:r|w:hyperlink|w:ins|w:smartTag|w:fldSimple|w:moveTo|w:bookmarkStart|w:bookmarkEnd|w:proofErr"
 mode="p"><xsl:apply-templates mode="p"/></xsl:template>
<xsl:template match="w:t" mode="p"><xsl:apply-templates mode="t"/></xsl:template>
<xsl:template match="w:tab|w:ptab" mode="p"><xsl:text>&#9;</xsl:text></xsl:template>
<xsl:template match="w:br|w:cr" mode="p"><xsl:text>&#10;</xsl:text></xsl:template>
<xsl:template match="w:noBreakHyphen" mode="p">-</xsl:template>
<xsl:template match="w:p" mode="p"><xsl:text>&#10;</xsl:text><xsl:apply-templates mode="p"/></xsl:template>
<xsl:template match="w:rPr|w:pPr|w:del|w:moveFrom|w:Fallback" mode="p"/>
<xsl:template match="w:*" mode="p"><xsl:if test="not({ends_with_pr})"><xsl:apply-templates mode="p"/></xsl:if></xsl:template>
<xsl:template match="*" mode="p"><xsl:choose>
 <xsl:when test="{local}='t'"><xsl:apply-templates mode="t"/></xsl:when>
 <xsl:when test="{local}='tab' or {local}='ptab'"><xsl:text>&#9;</xsl:text></xsl:when>
 <xsl:when test="{local}='br' or {local}='cr'"><xsl:text>&#10;</xsl:text></xsl:when>
 <xsl:when test="{local}='noBreakHyphen'">-</xsl:when>
 <xsl:when test="{local}='p'"><xsl:text>&#10;</xsl:text><xsl:apply-templates mode="p"/></xsl:when>
 <xsl:when test="{local}='del' or {local}='moveFrom' or {local}='Fallback' or {ends_with_pr}"/>
 <xsl:otherwise><xsl:apply-templates mode="p"/></xsl:otherwise>
</xsl:choose></xsl:template>
<xsl:template match="*" mode="t">{_IRREGULAR}</xsl:template>
</xsl:stylesheet>"""
    return etree.XSLT(etree.XML(stylesheet), access_control=etree.XSLTAccessControl.DENY_ALL)


_MARKERS = "".join(chr(0xFDD0 + n) for n in range(9))
_FLATTEN = _flattening(_WORD_NAMESPACES[0])
_FLATTEN_SHORT = _flattening(_SHORT_NAMESPACE)


_MARKER_REFERENCE = re.compile(r"&#(?:[xX]0*[fF][dD][dD]|0*649[7-9])")  # &#xFDD0; … &#64976; … and neighbours
_DECLARED_ENCODING = re.compile(rb"<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9._-]+)")


def _utf8(data: bytes) -> bool:
    """Whether libxml2 reads the part as UTF-8: it declares UTF-8 or no encoding and starts "<" (after a UTF-8
    byte order mark) without a zero byte next ("<" then a zero byte is UTF-16LE or UCS-4 to libxml2)."""
    head = data[3:] if data.startswith(codecs.BOM_UTF8) else data
    if not head.startswith(b"<") or head[1:2] == b"\0":
        return False
    declared = _DECLARED_ENCODING.match(head)
    return declared is None or declared.group(1).lower() in (b"utf-8", b"utf8")


def _holds_markers(body: Element, data: bytes) -> bool:
    """Whether the body's text or attributes may hold a marker. In a UTF-8 part (the usual one) it is looked for
    in the part's characters, markup and character references included (~40 µs, single characters first as in
    html._may_hold_markers: searching the bytes for a marker's costs twice as much); in a part of another
    encoding, in the body as libxml2 serialises it (~0.2 ms)."""
    if _utf8(data):
        try:
            part = data.decode("utf-8")
        except UnicodeDecodeError:
            part = None
        if part is not None:
            return any(marker in part for marker in _MARKERS) or (
                "&" in part and "#" in part and _MARKER_REFERENCE.search(part) is not None
            )
    return _MARKER.search(etree.tostring(body, encoding=str)) is not None


def _flatten(body: Element, *, shortened: bool = False) -> str | None:
    """The body flattened by libxslt (see `_flattening`; `shortened`: of a part `_shortened`), or None when it
    must be read from the tree. The caller makes sure no text of the body holds a marker (`_holds_markers`)."""
    try:
        text = str((_FLATTEN_SHORT if shortened else _FLATTEN)(body))
    except etree.XSLTApplyError:
        return None
    return None if _IRREGULAR in text else text


def _merges(piece: str, marks: tuple[tuple[str, str], ...]) -> dict[str, str]:
    """The value of the first merge property of each kind (by its mark, as `_MERGE_MARKS`) in a flattened cell
    or row; a value holds no marker, so it ends at the first _PROPERTY_END after its mark."""
    found = {}
    for kind, mark in marks:
        start = piece.find(mark)
        if start >= 0:
            start += len(mark)
            found[kind] = piece[start : piece.index(_PROPERTY_END, start)]
    return found


def _bare(text: str) -> str:
    """A flattened body as `_bare_document` reads it: without merge properties (in one regular expression
    call), paragraph starts as line breaks (a paragraph starts a line, in a cell as in the body), and a cell's
    text without the line break its first paragraph starts it with."""
    if _PROPERTY in text:
        text = _PROPERTY_RUN.sub("", text)
    return text.replace(_PARAGRAPH_START, "\n").replace(_CELL + "\n", _CELL)


def _cell_texts(table: str) -> list[str]:
    """The collapsed texts of a bare table's cells, in order, at most MAX_GRID_COLUMNS a row (each cell takes a
    slot at least). Nothing stands between a row's mark and its first cell's, nor before the first row's (the
    flattening writes nothing else there, and `_bare` takes out what it writes), so a table whose rows cannot be
    cut is read as one row."""
    if table.count(_CELL) <= MAX_GRID_COLUMNS:
        return cell_texts(_ROW + table.replace(_ROW, ""), _ROW, _CELL)[0]
    return [text for texts in cell_texts(table, _ROW, _CELL) for text in texts[:MAX_GRID_COLUMNS]]


@dataclass(frozen=True)
class _TablePlan:
    """A flattened table's layout: where each row's slots come from (`_slot_sources`, a cell's index counted
    over the whole table), the slots of all rows (`cells`, as MAX_GRID_CELLS counts them), the grid's width, and
    a getter of every row's slots padded to the width, all in one tuple."""

    rows: tuple[tuple[int, ...], ...]
    cells: int
    width: int
    slots: Callable[[list[str | None]], tuple[str | None, ...]]


def _table_plan(skeleton: str) -> _TablePlan:
    """The layout of a flattened table, from its skeleton (`_SKELETON`'s matches, in order; other characters
    between them, as in `_plain_reading`'s, change nothing): which cells each row has (at most MAX_GRID_COLUMNS,
    as `_cell_texts` keeps their texts), their merges, the row's gridBefore."""
    rows: list[tuple[int, ...]] = []
    first = 0  # the index of the row's first cell in the table
    for row in skeleton.split(_ROW)[1:]:
        cells = row.split(_CELL)[1 : MAX_GRID_COLUMNS + 1]
        grid_before = _merges(row, _ROW_MARKS).get("gridBefore") if _GRID_BEFORE in row else None
        before = _int_value(grid_before, 0, MAX_GRID_COLUMNS) if grid_before is not None else 0
        merges = [None if _PROPERTY not in cell else _merge(_merges(cell, _MERGE_MARKS)) for cell in cells]
        sources = _slot_sources(before, merges, len(rows[-1]) if rows else None)
        rows.append(tuple([first + source if source >= 0 else source for source in sources]))
        first += len(cells)
    width = max(map(len, rows), default=0)
    padded = [source for sources in rows for source in (*sources, *[_BLANK] * (width - len(sources)))]
    slots = itemgetter(*padded) if len(padded) > 1 else lambda values: tuple([values[source] for source in padded])
    return _TablePlan(tuple(rows), sum(map(len, rows)), width, slots)


# Flattened tables' layouts by their skeletons: reports repeat a few tables. Only skeletons of at most 4,096
# characters are kept, and at most 256 of them (a plan holds a source a slot).
_TABLE_PLANS: _MarkupMemo[str, _TablePlan] = _MarkupMemo(_table_plan, longest=4096, most=256)


def _flat_grid(table: str, reading: _Reading, skeleton: str) -> Grid | None:
    """A bare table's grid (`_bare`), as `_laid_out` lays out its rows (`_row_slots`); `skeleton`: the table's
    skeleton (`_SKELETON`'s matches in the flattened table, or `_plain_reading`'s)."""
    plan = _TABLE_PLANS[skeleton]
    values: list[str | None] = [*_cell_texts(table), None, ""]
    if plan.cells > reading.cells_left:  # cut where MAX_GRID_CELLS is reached
        return _laid_out([], (tuple([values[source] for source in sources]) for sources in plan.rows), reading)
    reading.cells_left -= plan.cells
    if not plan.width:
        return None
    slots, width = plan.slots(values), plan.width
    return Grid(tuple([slots[start : start + width] for start in range(0, len(slots), width)]))


def _bare_paragraphs(text: str, lines: list[str], reading: _Reading) -> None:
    if _ALT_CHUNK in text:
        reading.problem(_ALT_CHUNK_PROBLEM)
        text = text.replace(_ALT_CHUNK, "")
    lines.extend(filter(str.strip, text.split("\n")))  # each paragraph's lines, those with text


def _flat_document(text: str, reading: _Reading) -> Document:
    """The document of a flattened body: the lines and grids `_blocks` gives (`_bare_document`)."""
    skeletons = ["".join(_SKELETON.findall(piece.split(_TABLE_END, 1)[0])) for piece in text.split(_TABLE_START)[1:]]
    return _bare_document(_bare(text), skeletons, reading)


def _bare_document(text: str, skeletons: list[str], reading: _Reading) -> Document:
    """The document of a bare flattened body (`_bare`) whose tables have these skeletons, made straight from the
    string. Every character of a line or cell is one of `text`'s, so the document's text is at most as long."""
    lines: list[str] = []
    grids: dict[int, Grid] = {}
    first, *tables = text.split(_TABLE_START)
    _bare_paragraphs(first, lines, reading)
    for piece, skeleton in zip(tables, skeletons, strict=True):
        table, after = piece.split(_TABLE_END, 1)
        grid = _flat_grid(table, reading, skeleton)
        if grid is not None:
            grids[len(lines)] = grid
            lines.append("")
        _bare_paragraphs(after, lines, reading)
    return Document(lines=lines, grids=grids, problems=reading.problems)


def _check_member(name: str, flag_bits: int, file_size: int, compress_size: int) -> None:
    """Refuses a member that is encrypted, or whose declared size or compression ratio is too large."""
    if flag_bits & 0x1:
        raise UnreadableFile("docx 文件已加密（受密码保护），无法读取")
    if file_size > MAX_PART_BYTES:
        raise UnreadableFile(f"docx 中的 {name} 解压后有 {file_size} 字节，超过上限 {MAX_PART_BYTES} 字节，已拒绝解析")
    ratio = file_size / max(compress_size, 1)
    if file_size > RATIO_CHECKED_FROM and ratio > MAX_RATIO:
        raise UnreadableFile(f"docx 文件疑似压缩炸弹（{name} 压缩比 {ratio:.0f}:1），已拒绝解析")


def _member(archive: zipfile.ZipFile, name: str) -> bytes | None:
    """A member's bytes, after checking its sizes; None when there is no such member."""
    try:
        info = archive.getinfo(name)
    except KeyError:
        return None
    _check_member(name, info.flag_bits, info.file_size, info.compress_size)
    with archive.open(info) as handle:
        data = handle.read(MAX_PART_BYTES + 1)
    if len(data) > MAX_PART_BYTES:
        raise UnreadableFile(f"docx 中的 {name} 解压后超过上限 {MAX_PART_BYTES} 字节，已拒绝解析")
    return data


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )


def _xml(data: bytes, name: str) -> Element:
    refused = f"docx 文件的 {name} 含有 XML 实体或文档类型声明，已拒绝解析"
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as error:
        if "entity" in str(error).lower():
            raise UnreadableFile(refused) from error
        raise UnreadableFile(f"docx 文件的 {name} 不是完好的 XML（{error}），可能已损坏") from error
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:
        raise UnreadableFile(refused)
    return root


def _main_part(archive: zipfile.ZipFile) -> str:
    """The main document part named by the package relationships (usually word/document.xml)."""
    relationships = _member(archive, "_rels/.rels")
    return _DEFAULT_MAIN_PART if relationships is None else _MAIN_PARTS[relationships]


def _named_main_part(relationships: bytes) -> str:
    """The main document part the package relationships name; refuses them as `_xml` does."""
    for relationship in _xml(relationships, "_rels/.rels"):
        if (relationship.get("Type") or "").endswith(_OFFICE_DOCUMENT) and relationship.get("Target"):
            return (relationship.get("Target") or "").lstrip("/")
    return _DEFAULT_MAIN_PART


# The package relationships of files written by one program are alike (~0.6 KB): what they name is remembered
# (a refusal is not, and is raised each time).
_MAIN_PARTS: _MarkupMemo[bytes, str] = _MarkupMemo(_named_main_part, longest=4096, most=256)


def _shortened(data: bytes) -> bytes | None:
    """The part with Word's namespace declared as _SHORT_NAMESPACE, when its root declares it the usual way
    (`<w:document … xmlns:w="…">` first thing after the XML declaration) and the part holds no
    _SHORT_NAMESPACE_MARK (so no namespace of its own is that one); else None."""
    if _SHORT_NAMESPACE_MARK in data:
        return None
    match = _ROOT_DECLARATION.match(data)
    if match is None:
        return None
    return data[: match.start(1)] + _SHORT_NAMESPACE.encode() + data[match.end(1) :]


# What `_trimmed` takes out of a part's bytes: a cell's width straight after the start of its properties (as
# Word and python-docx write it), then cell properties left empty straight inside the cell. libxml2 and libxslt
# spend ~6000 instructions on a cell width; a regular expression's scan ~25 a byte and ~2000 a match, where
# bytes.replace of each distinct width (a table's few) costs a few a byte.
_WIDTH_START = b"<w:tcPr><w:tcW "
_WIDTH = re.compile(
    re.escape(_WIDTH_START) + rb'(?:w:type="[a-z]{1,8}" w:w="[0-9]{1,9}"|w:w="[0-9]{1,9}" w:type="[a-z]{1,8}")/>'
)
_DISTINCT_WIDTHS = 8  # replaced one by one; a part with more has the rest taken out by _WIDTH
_CELL_PROPERTIES = b"<w:tcPr>"
_EMPTY_CELL_PROPERTIES = b"<w:tc><w:tcPr></w:tcPr>"
_CELL_START = b"<w:tc>"
_ROOT_START = re.compile(
    rb"(?:\xef\xbb\xbf)?(?:<\?xml[^>]*>)?\s*<w:document(?:\s+[^\s=>/]+\s*=\s*(?:\"[^\"]*\"|'[^']*'))*\s*>"
)
_ROOT_END = b"</w:document"
# Two elements around the root's content: what `_trimmed` takes out lies at most two levels below an element
# it keeps, so libxml2's depth limit refuses the trimmed part whenever it would refuse the part itself.
_DEPTH_PAD, _DEPTH_PAD_END = b"<w:pad><w:pad>", b"</w:pad></w:pad>"


def _trimmed(data: bytes) -> bytes | None:
    """The part (`_shortened`) without markup the reading does not see, so that libxml2 and libxslt have a
    quarter fewer elements to read: cell widths and cell properties left empty (above), in the root's content
    padded by _DEPTH_PAD. None for a part that is not UTF-8 or holds "<!" (a CDATA section, comment or document
    type declaration, whose "<" is no markup).

    Whenever libxml2 reads the trimmed part, it reads the part itself as the same tree but for what was taken
    out: every "<" is markup, so what is taken out is whole empty elements in element content (a width right
    after the start tag of cell properties or after another width taken out, cell properties right after a
    cell's start tag), with prefixes bound where the start tag before them binds its own, attributes that
    cannot be wrong, and nothing deeper than libxml2 reads the padded part. What is taken out gives no text
    and no merge in any mode of `_flattening` or in `_scan` (cell properties' widths and text are read by
    neither; a cell's properties only through their merges), so the reading is the same."""
    # memchr first ("!" is rare in a part); find, not `in`: `bytes in bytes` costs a caught TypeError first
    if (data.find(b"!") >= 0 and data.find(b"<!") >= 0) or not _utf8(data):
        return None
    root = _ROOT_START.match(data)
    end = data.rfind(_ROOT_END)
    if root is None or end < root.end():
        return None
    content = _without_widths(data[root.end() : end]).replace(_EMPTY_CELL_PROPERTIES, _CELL_START)
    return b"".join((data[: root.end()], _DEPTH_PAD, content, _DEPTH_PAD_END, data[end:]))


def _without_widths(content: bytes) -> bytes:
    """`content` with each _WIDTH that starts cell properties replaced by the start of cell properties."""
    start = 0
    for _ in range(_DISTINCT_WIDTHS):
        found = content.find(_WIDTH_START, start)
        if found < 0:
            return content
        width = _WIDTH.match(content, found)
        if width is None:
            start = found + 1
        else:
            content = content.replace(width.group(), _CELL_PROPERTIES)  # this width everywhere
            start = found
    return _WIDTH.sub(_CELL_PROPERTIES, content)


# The plain reading (`_plain_reading`): a part written the plain way (python-docx's and Word's usual markup: Word's
# prefix on every element, no comments, no entities but XML's five) is flattened straight from its characters,
# as `_flattening` flattens its tree, without libxml2's tree (~0.75 ms a report) or libxslt (~0.7 ms).
_PLAIN_PART_BYTES = 4 * 1024 * 1024  # so that no text node comes near libxml2's 10 MB limit
_BODY_START = b"<w:body>"
_BODY_END = b"</w:body>"
_DOCUMENT_END = b"</w:body></w:document>"
_SECTION, _SECTION_END = b"<w:sectPr", b"</w:sectPr>"
_XML_SPACES = b" \t\r\n"
_XML_VERSION = re.compile(rb"(?:\xef\xbb\xbf)?<\?xml\s+version\s*=\s*[\"']([^\"']*)[\"']")
_TEXT_END = b"</w:t>"
# Characters a text of the plain reading may not hold: what XML forbids, "\r" (libxml2 turns it into "\n"), the
# markers (`_holds_markers`). Nor "<" (`_plain_reading` counts them) or ">" (a text is cut at the last one). The
# controls are looked for in the texts' UTF-8 bytes (a byte below 0x20 is one there: memchr for each, ~8 times
# faster than a regular expression's scan), the others in their characters (a scan each).
_NOT_PLAIN_CONTROLS = bytes([*range(0x09), *range(0x0B, 0x20)])
_NOT_PLAIN_CHARACTERS = (*_MARKERS, "\ufffe", "\uffff")
_NOT_ENTITY = re.compile("&(?!(?:amp|lt|gt|quot|apos);)")
_ENTITIES = (("&lt;", "<"), ("&gt;", ">"), ("&quot;", '"'), ("&apos;", "'"), ("&amp;", "&"))  # "&amp;" last
# One tag of the plain reading, at a given place: Word's prefix, attributes in Word's namespace, in Word 2010's
# (w14, where the root binds it to _W14_NAMESPACE) or xml:space, with plain values (no reference, no marker,
# nothing XML forbids, no whitespace libxml2 would normalise).
_PLAIN_TAG = re.compile(
    "<(/?)w:([A-Za-z][A-Za-z0-9]{0,63})((?: (?:w|w14|xml):[A-Za-z][A-Za-z0-9]{0,63}="
    '"[^"<>&\x00-\x1f\ufdd0-\ufdd8\ufffe\uffff]{0,255}")*)(/?)>'
)
_PLAIN_ATTRIBUTE = re.compile(' ([a-z][a-z0-9]*:[A-Za-z0-9]+)="([^"]*)"')
_W14_NAMESPACE = "http://schemas.microsoft.com/office/word/2010/wordml"
_W14_PREFIX = b"w14:"
_PRESERVE = [("xml:space", "preserve")]  # the only attribute outside Word's namespace, and only on a text
# What each element of the plain reading may hold (besides its properties below): the body a paragraph or a
# table; a run text, tabs and breaks; … Nothing else is plain (no tables in cells).
_PLAIN_CHILDREN: dict[str, frozenset[str]] = {
    "": frozenset({"p", "tbl"}),
    "p": frozenset({"r"}),
    "r": frozenset({"t", "tab", "br"}),
    "tbl": frozenset({"tr"}),
    "tr": frozenset({"tc"}),
    "tc": frozenset({"p"}),
}
# Properties (their content is read by nothing but a cell's merges and a row's gridBefore) by the element holding
# them, and the merges the flattening writes: those straight inside a cell's or a row's properties.
_PLAIN_PROPERTIES = frozenset(
    {("p", "pPr"), ("r", "rPr"), ("tbl", "tblPr"), ("tbl", "tblGrid"), ("tr", "trPr"), ("tc", "tcPr")}
)
_PLAIN_MERGES = frozenset({*(("tcPr", name) for name in _CELL_MERGES), ("trPr", "gridBefore")})
# Empty elements the flattening writes nothing for where they stand (`_flattening`'s "w:*" templates: Word's
# bookmarks, proofing marks and the place a page broke when it was last laid out), with any plain attributes, by
# the element holding them.
_PLAIN_SILENT: dict[str, frozenset[str]] = {
    **dict.fromkeys(("", "p", "tbl", "tr", "tc"), frozenset({"bookmarkStart", "bookmarkEnd", "proofErr"})),
    "r": frozenset({"lastRenderedPageBreak"}),
}
_UNPLAIN = frozenset({"sdt", "sdtContent", "customXml"})  # stripped from the tree: never plain
_PLAIN_DEPTH = 40  # elements open in the body at most (libxml2 refuses past 256)
# What the flattening writes for an element where it opens (its end writes nothing, but a table's).
_PLAIN_OUTPUT = {"p": _PARAGRAPH_START, "tbl": _TABLE_START, "tr": _ROW, "tc": _CELL, "tab": "\t", "br": "\n"}
# Where a text stands: open elements around it but the `t` (the body's paragraph, or a table's cell's).
_IN_BODY, _IN_CELL = ("p", "r"), ("tbl", "tr", "tc", "p", "r")
# What a piece of markup between two texts (or before the first, or after the last) does, by the place the text
# before it stands in (the start for the first): one character each, read by _PLAIN_SEQUENCE.
#   body → body P, body → cell Q, start → end Z; from the body only: a (to the body), b (to a cell);
#   from a cell only: c (to the body), d (to a cell); e: body → body and cell → cell alike;
#   x body → end, y cell → end.
_PLAIN_MOVES = {
    (("start", "body"),): "P", (("start", "cell"),): "Q", (("start", "end"),): "Z",
    (("body", "body"),): "a", (("body", "cell"),): "b", (("cell", "body"),): "c", (("cell", "cell"),): "d",
    (("body", "body"), ("cell", "cell")): "e", (("body", "end"),): "x", (("cell", "end"),): "y",
}  # fmt: skip
# No possessive quantifiers: Python before 3.11.5 (Debian 12's 3.11.2 among them) mis-matches them (gh-100061,
# gh-106052). Every choice here is decided by the next character, so greedy ones match the same strings.
_PLAIN_SEQUENCE = re.compile(r"Z|P(?:[ae]|b[de]*c)*(?:x|b[de]*y)|Q[de]*(?:c(?:[ae]|b[de]*c)*(?:x|b[de]*y)|y)")
_PLAIN_STARTS = (("start", ()), ("body", _IN_BODY), ("cell", _IN_CELL))
_NOT_PLAIN = ("-", "", "")


def _plain_step(markup: str, open_elements: tuple[str, ...]) -> tuple[str, str] | None:
    """Where `markup` (whole tags) leads from the open elements given, and what the flattening writes for it:
    ("body" or "cell", output) when it ends opening a text in a run, ("end", output) when it closes all; None when
    it is not plain. Every paragraph writes _PARAGRAPH_START (as `_flattening` does in the body)."""
    stack = list(open_elements)
    output: list[str] = []
    properties = 0  # depth inside properties (their content writes nothing but a cell's merges)
    position, opens_text = 0, False
    while position < len(markup):
        tag = _PLAIN_TAG.match(markup, position)
        if tag is None or opens_text:  # a text opens only at the end of the markup
            return None
        position = tag.end()
        closing, name, attributes, empty = tag.group(1, 2, 3, 4)
        if closing:
            if attributes or empty or not stack or stack.pop() != name:
                return None
            if properties:
                properties -= 1
            elif name == "tbl":
                output.append(_TABLE_END)
            continue
        pairs = _PLAIN_ATTRIBUTE.findall(attributes)
        names = [attribute for attribute, _ in pairs]
        if len(set(names)) != len(names) or name in _UNPLAIN or len(stack) >= _PLAIN_DEPTH:
            return None
        if "xml:" in attributes and (name != "t" or properties or pairs != _PRESERVE):
            return None
        parent = stack[-1] if stack else ""
        if properties:
            if properties == 1 and (stack[-1], name) in _PLAIN_MERGES:
                output.append(f"{_PROPERTY}{name}{dict(pairs).get('w:val', '')}{_PROPERTY_END}")
            if not empty:
                stack.append(name)
                properties += 1
            continue
        if (parent, name) in _PLAIN_PROPERTIES:
            if pairs:
                return None
            if not empty:
                stack.append(name)
                properties = 1
            continue
        if name in _PLAIN_SILENT[parent]:
            if not empty:
                return None
            continue
        if name not in _PLAIN_CHILDREN[parent]:
            return None
        if name == "t":
            opens_text = not empty
            continue
        if name in ("tab", "br"):
            if not empty:
                return None
        elif not empty:
            stack.append(name)
        output.append(_PLAIN_OUTPUT.get(name, ""))
        if empty and name == "tbl":
            output.append(_TABLE_END)
    where = tuple(stack)
    if opens_text and where in (_IN_BODY, _IN_CELL):
        return ("body" if where == _IN_BODY else "cell"), "".join(output)
    return ("end", "".join(output)) if not stack and not opens_text else None


def _plain_move(markup: str) -> tuple[str, str, str]:
    """What a piece of markup does (a character of _PLAIN_MOVES), what the flattening writes for it, and that
    bare (`_bare`); "-" when it is not plain. Its output is the same from every place it may start from, and
    holds whole merge properties, and a cell's start with its first paragraph's (a text opens in a paragraph)."""
    moves, outputs = [], set()
    for place, open_elements in _PLAIN_STARTS:
        step = _plain_step(markup, open_elements)
        if step is not None:
            moves.append((place, step[0]))
            outputs.add(step[1])
    move = _PLAIN_MOVES.get(tuple(moves))
    if move is None or len(outputs) != 1:
        return _NOT_PLAIN
    output = outputs.pop()
    return move, output, _bare(output)


def _plain_head(head: bytes) -> tuple[str, str, str]:
    """`_plain_move` of a piece of markup up to a text's start but its last ">"."""
    try:
        return _plain_move(head.decode("utf-8") + ">")
    except UnicodeDecodeError:
        return _NOT_PLAIN


def _plain_end(markup: bytes) -> tuple[str, str, str]:
    """`_plain_move` of the markup after the last text (or of all the blocks when they hold no text)."""
    return _plain_head(markup[:-1]) if markup.endswith(b">") else _NOT_PLAIN


def _plain_rest(rest: bytes) -> bool | None:
    """Whether a part's prolog, root start tag and body start tag (`<w:body>` right after the root's) with its
    section's properties after them are plain: libxml2 reads them as a document, in UTF-8, Word's namespace
    declared on the root the usual way (`_ROOT_DECLARATION`), and no marker or reference to one in them. None
    when they are not; else whether the root binds w14 to _W14_NAMESPACE."""
    root, version = _ROOT_START.match(rest), _XML_VERSION.match(rest)
    if root is None or rest.find(_BODY_START) != root.end() or _ROOT_DECLARATION.match(rest) is None:
        return None
    if version is not None and version.group(1) != b"1.0":  # XML 1.1 ends lines at more characters
        return None
    try:
        text = rest.decode("utf-8")
        element = _xml(rest, "")
    except (UnicodeDecodeError, UnreadableFile):
        return None
    if not _utf8(rest) or _MARKER.search(text) is not None or _MARKER_REFERENCE.search(text) is not None:
        return None
    return element.nsmap.get("w14") == _W14_NAMESPACE


# A value of 8 hex digits but a w:val's (a merge's value is read): Word writes its revision ids (w:rsid…) and
# paragraph ids (w14:paraId, w14:textId) so, anew for every editing session or paragraph. `_plain_reading` looks
# pieces of markup up with these values left empty, so that Word's pieces, which differ there, are met again.
_IDS = re.compile(rb'="(?<!:val=")[0-9A-F]{8}"')
_NO_ID = b'=""'
_ID_MARKS = (b" w:rsid", b" w14:")  # looked for where the body starts: Word writes them on every paragraph
_ID_WINDOW = 2048


# A piece of markup (up to a text's start but its last ">", or the last piece whole) → `_plain_move`; the part
# around the blocks → `_plain_rest`. Parts written by one program hold few distinct pieces and one rest.
# Bounds: a piece between two texts is ~20–300 bytes in python-docx's and Word's markup (≤ 20 MB a memo); a rest
# (a Word root with its ~30 namespace declarations, and the section) ~3 KB, and one comes with every file.
_PLAIN_HEADS: _MarkupMemo[bytes, tuple[str, str, str]] = _MarkupMemo(_plain_head, longest=2048)
_PLAIN_ENDS: _MarkupMemo[bytes, tuple[str, str, str]] = _MarkupMemo(_plain_end, longest=2048)
_PLAIN_RESTS: _MarkupMemo[bytes, bool | None] = _MarkupMemo(_plain_rest, longest=8192, most=256)
_HEAD, _TEXT = itemgetter(0), itemgetter(2)  # of a piece's `rpartition` at its last ">"


def _plain_reading(data: bytes) -> tuple[str, list[str]] | None:
    """The body as `_flatten` writes it, bare (`_bare`), read straight from a plain part's bytes, and the
    skeletons of its tables, in order: what the markup alone writes in each table, which is its `_SKELETON`
    matches (no text holds a marker) with its paragraphs' starts, tabs and breaks between them (`_table_plan`
    reads past those). None when the part is not plain (it is then parsed).

    Plain: at most _PLAIN_PART_BYTES, no "<!" (no DTD, comment or CDATA), the rest plain (`_plain_rest`: the
    body the root's first child); in the body, paragraphs and tables (`_PLAIN_CHILDREN`) in Word's prefix, then
    at most one section's properties, then nothing but the ends.

    Whenever this gives a string, libxml2 reads the part, with no marker (`_holds_markers`), and libxslt
    flattens its body to the string this is the bare form of (each piece of markup's output made bare alone,
    `_plain_move`). libxml2 reads the part without the body's blocks (the rest: the part holds no DTD, so
    nothing there can refer to the blocks), and the blocks are well-formed content of the body: whole tags, each
    end matching its start (`_plain_step`), attributes unique with plain values, prefixes w (bound on the root,
    never rebound), w14 (only when the root binds it to _W14_NAMESPACE, never rebound) and xml, three namespaces
    apart (so unique names are unique in them), texts in UTF-8 of valid characters and XML's five entities only,
    at most _PLAIN_DEPTH levels, no text node near libxml2's limit. What the flattening writes for each element
    is `_PLAIN_OUTPUT` (nothing for `_PLAIN_SILENT`'s), merges, and texts decoded.

    Pieces of markup are read with their _IDS values left empty, to the same effect: inside a tag `_PLAIN_TAG`
    matches, a `="` before a hex digit opens a value (a closing `"` is followed by a space, "/" or ">"), so each
    match is one whole attribute's value, and with it emptied the tag still matches, and conversely (`=""` is a
    whole attribute there too); the tags, their names, attribute names and the values read (w:val, xml:space)
    stay as they were, the bytes taken out are ASCII, and pieces joined by a zero byte stay apart."""
    if len(data) > _PLAIN_PART_BYTES or (data.find(b"!") >= 0 and data.find(b"<!") >= 0):  # see `_trimmed`
        return None
    start, end = data.find(_BODY_START) + len(_BODY_START), data.rfind(_BODY_END)
    if start < len(_BODY_START) or end < start or data[end:].rstrip(_XML_SPACES) != _DOCUMENT_END:
        return None
    section = data.rfind(_SECTION, start, end)
    if section < 0:
        section = end
    elif (
        data[section + len(_SECTION)] not in b" >"
        or data.find(_SECTION_END[:-1], section) != end - len(_SECTION_END)
        or not data.startswith(_SECTION_END, end - len(_SECTION_END))
    ):
        return None  # properties of a section, and nothing after them
    binds_w14 = _PLAIN_RESTS[data[:start] + data[section:]]
    if binds_w14 is None or (not binds_w14 and data.find(_W14_PREFIX, start, section) >= 0):
        return None
    pieces = data[start:section].split(_TEXT_END)
    last = pieces.pop()
    split = [*map(bytes.rpartition, pieces, repeat(b">"))]
    heads: Sequence[bytes] = [*map(_HEAD, split)]
    texts = [*map(_TEXT, split)]
    if any(data.find(mark, start, min(start + _ID_WINDOW, section)) >= 0 for mark in _ID_MARKS):
        markup = _IDS.sub(_NO_ID, b"\0".join((*heads, last))).split(b"\0")
        if len(markup) != len(heads) + 1:  # a zero byte in the markup (not plain)
            return None
        heads, last = tuple(markup[:-1]), markup[-1]
    moves, outputs, bare_outputs = zip(*map(_PLAIN_HEADS.__getitem__, heads), _PLAIN_ENDS[last], strict=True)
    if _PLAIN_SEQUENCE.fullmatch("".join(moves)) is None:
        return None
    joined = b"<".join(texts)  # "<" (in no text) breaks an entity split between two
    if any(map(joined.__contains__, _NOT_PLAIN_CONTROLS)):  # `int in bytes`
        return None
    try:
        separated = joined.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if (
        (texts and separated.count("<") != len(texts) - 1)
        or any(map(separated.__contains__, _NOT_PLAIN_CHARACTERS))
        or ("&" in separated and _NOT_ENTITY.search(separated) is not None)
    ):
        return None
    flat: list[str] = [""] * (2 * len(moves) - 1)
    flat[0::2] = bare_outputs
    flat[1::2] = separated.split("<") if texts else ()
    text = "".join(flat)
    if "&" in separated:
        for entity, character in _ENTITIES:
            text = text.replace(entity, character)
    written = "".join(outputs)
    return text, [piece.partition(_TABLE_END)[0] for piece in written.split(_TABLE_START)[1:]]


# The plain package (`_plain_part`): zipfile's records, as zipfile reads them (its struct formats).
_END_RECORD = struct.Struct("<4s4H2LH")  # signature, disks, entries, directory size and offset, comment length
_CENTRAL_RECORD = struct.Struct("<4s4B4HL2L5H2L")
# What `_plain_entries` checks of every central record (the rest is unpacked for the members read): the signature,
# the version needed to extract, and the lengths of the name, extra field and comment.
_CENTRAL_CHECKED = struct.Struct("<4s2xB21x3H")
_LOCAL_RECORD = struct.Struct("<4s2B4HL2L2H")
_END_SIGNATURE, _CENTRAL_SIGNATURE, _LOCAL_SIGNATURE = b"PK\x05\x06", b"PK\x01\x02", b"PK\x03\x04"
_ZIP64_LOCATOR_SIGNATURE = b"PK\x06\x07"
_MAX_EXTRACT_VERSION = 63  # zipfile refuses later versions
_UNSUPPORTED_FLAGS = 0x1 | 0x20 | 0x40  # encrypted, patched, strongly encrypted: left to zipfile
_STORED, _DEFLATED = zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED
_NOT_PLAIN_MEMBER = b""  # a member `_plain_member` leaves to zipfile (a plain one is never empty: see there)


def _plain_entries(data: bytes) -> dict[bytes, int] | None:
    """Where the central record of each member of a plain package is, by name, as zipfile's central directory
    reading gives them; None when the package is not plain. Plain: the end record last (no comment), no Zip64
    locator before it, the central directory right before it (nothing prepended to the package) and exactly its
    size, each record with the central signature, a version zipfile reads, no extra field, and an ASCII name
    without a zero byte (the same in cp437 and UTF-8). zipfile then reads the same directory without an error,
    and its last record of a name is the one this keeps."""
    if len(data) < 64 or data[-2:] != b"\0\0" or data[-22:-18] != _END_SIGNATURE:
        return None
    if data[-42:-38] == _ZIP64_LOCATOR_SIGNATURE:
        return None
    size, offset = _END_RECORD.unpack_from(data, len(data) - 22)[5:7]
    if offset + size != len(data) - 22:
        return None
    entries: dict[bytes, int] = {}
    position, end = offset, offset + size
    while position < end:
        if position + 46 > end:
            return None
        signature, version, name_length, extra_length, comment_length = _CENTRAL_CHECKED.unpack_from(data, position)
        name = data[position + 46 : position + 46 + name_length]
        entries[name] = position
        position += 46 + name_length + extra_length + comment_length
        if (
            signature != _CENTRAL_SIGNATURE
            or version > _MAX_EXTRACT_VERSION
            or extra_length
            or position > end
            or not name.isascii()
            or 0 in name  # a zero byte (an int is looked for without the error a bytes needle costs)
        ):
            return None
    return entries


def _plain_member(data: bytes, entries: dict[bytes, int], name: str) -> bytes | None:
    """A member's bytes as `_member` reads them through zipfile (its sizes checked first, in the same way);
    None when there is no such member; _NOT_PLAIN_MEMBER when zipfile is left to read it: unless it is stored or
    deflated without the flags above, its local header is whole with the central record's name, its data is
    within the package, and that data is one whole deflate stream (or stored bytes) of exactly the declared
    size and CRC-32, in which case zipfile reads the same bytes without an error. A plain member is not empty:
    zipfile's reading of an empty one is left to it."""
    position = entries.get(name.encode("utf-8", "surrogatepass"))  # the names are ASCII
    if position is None:
        return None
    record = _CENTRAL_RECORD.unpack_from(data, position)
    flag_bits, compression, crc, compressed, size, header = itemgetter(5, 6, 9, 10, 11, 18)(record)
    _check_member(name, flag_bits, size, compressed)
    if flag_bits & _UNSUPPORTED_FLAGS or compression not in (_STORED, _DEFLATED) or not size:
        return _NOT_PLAIN_MEMBER
    if header + 30 > len(data):
        return _NOT_PLAIN_MEMBER
    local = _LOCAL_RECORD.unpack_from(data, header)
    start = header + 30 + local[10] + local[11]
    if local[0] != _LOCAL_SIGNATURE or data[header + 30 : header + 30 + local[10]] != name.encode("ascii"):
        return _NOT_PLAIN_MEMBER
    raw = data[start : start + compressed]
    if len(raw) != compressed:
        return _NOT_PLAIN_MEMBER
    if compression == _STORED:
        member = raw if compressed == size else _NOT_PLAIN_MEMBER
    else:
        inflater = zlib.decompressobj(-15)
        try:
            member = inflater.decompress(raw, size + 1)  # bounded as zipfile's reading is
        except zlib.error:
            return _NOT_PLAIN_MEMBER
        if not inflater.eof or len(member) != size:
            return _NOT_PLAIN_MEMBER
    return member if zlib.crc32(member) == crc else _NOT_PLAIN_MEMBER


def _plain_part(data: bytes) -> tuple[str, bytes] | None:
    """`_part` of a plain package (`_plain_entries`) read without zipfile, the same refusals raised in the same
    order; None when zipfile is left to read the package."""
    entries = _plain_entries(data)
    if entries is None:
        return None
    relationships = _plain_member(data, entries, "_rels/.rels")
    if relationships is _NOT_PLAIN_MEMBER:
        return None
    name = _DEFAULT_MAIN_PART if relationships is None else _MAIN_PARTS[relationships]
    part = _plain_member(data, entries, name)
    if part is _NOT_PLAIN_MEMBER:
        return None
    if part is None:
        raise UnreadableFile(f"zip 包中没有 Word 正文（{name}），这不是 docx 文件")
    return name, part


def _part(archive: zipfile.ZipFile) -> tuple[str, bytes]:
    """The main part's name and bytes."""
    name = _main_part(archive)
    data = _member(archive, name)
    if data is None:
        raise UnreadableFile(f"zip 包中没有 Word 正文（{name}），这不是 docx 文件")
    return name, data


def _body(name: str, data: bytes) -> tuple[Element, bool]:
    """The main part's body (wrappers stripped), and whether it was read with Word's namespace under its short
    name (`_shortened`)."""
    shortened = _shortened(data)
    trimmed = None if shortened is None else _trimmed(shortened)
    root: Element | None = None
    if trimmed is not None:
        try:
            root = _xml(trimmed, name)[0][0]  # the root's content, under _DEPTH_PAD
        except UnreadableFile:
            root = None  # read as it stands below, for the reason the part itself gives
    if root is None:
        try:
            root = _xml(data if shortened is None else shortened, name)
        except UnreadableFile:
            if shortened is None:
                raise
            root, shortened = _xml(data, name), None  # the reason as the part itself gives it
    body = next(root.iterchildren("{*}body"), None)
    if body is None:
        raise UnreadableFile(f"docx 文件的 {name} 中没有正文（w:body），无法读取")
    etree.strip_tags(body, *_WRAPPERS)
    return body, shortened is not None


def _not_a_zip(data: bytes) -> UnreadableFile:
    if data.startswith(_OLE_SIGNATURE):
        if _ENCRYPTED_PACKAGE in data:
            return UnreadableFile("docx 文件已加密（受密码保护），无法读取")
        return UnreadableFile("这是旧版 Word .doc 文件（或其他 OLE 复合文档），不是 docx，请另存为 docx 后再检查")
    return UnreadableFile("文件不是有效的 docx（不是 zip 压缩包），可能已损坏或扩展名有误")


def _has_text(document: Document) -> bool:
    """Whether a line or a grid cell holds text (only lines with text are made; a grid stands as "")."""
    return any(document.lines) or any(
        cell and cell.strip() for grid in document.grids.values() for row in grid.rows for cell in row
    )


def _damaged(error: BaseException) -> UnreadableFile:
    return UnreadableFile(f"docx 文件已损坏，解压失败（{type(error).__name__}: {error}）")


@contextmanager
def _refusals() -> Iterator[None]:
    """What goes wrong reading a package (nesting too deep, a damaged member) as the reason it is refused."""
    try:
        yield
    except RecursionError as error:
        raise UnreadableFile("docx 文件的表格或内容控件嵌套过深，已拒绝解析") from error
    except _DAMAGED_ZIP as error:
        raise _damaged(error) from error


def _zipped_part(data: bytes) -> tuple[str, bytes]:
    """`_part` of the package, read by zipfile."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as error:
        raise _not_a_zip(data) from error
    except _DAMAGED_ZIP as error:
        raise _damaged(error) from error
    with archive, _refusals():
        return _part(archive)


def read(data: bytes) -> Document:
    """The body's lines and grids, at most MAX_TEXT_CHARS characters of text (`bounded`)."""
    if not data.strip():
        raise UnreadableFile("文件为空，没有可读取的内容")
    with _refusals():
        package = _plain_part(data)
    name, part = _zipped_part(data) if package is None else package
    with _refusals():
        plain = _plain_reading(part)
        if plain is not None:
            flat: str | None = plain[0]
            document = _bare_document(*plain, _Reading())
        else:
            body, shortened = _body(name, part)
            flat = None if _holds_markers(body, part) else _flatten(body, shortened=shortened)
            if flat is None:
                reading = _scan(body, shortened=shortened)
                document = Document(list(_blocks(body, reading)), reading.problems)
            else:
                document = _flat_document(flat, _Reading())
    if not _has_text(document):
        raise UnreadableFile("docx 文件中没有文字（可能只有图片，如扫描件），无法检查")
    return document if flat is not None and len(flat) <= MAX_TEXT_CHARS else bounded(document)
