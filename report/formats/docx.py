"""docx reports: the main document part read straight from the zip, never trusting its sizes or its XML.

Before anything is decompressed the member's declared size and compression ratio are checked (zip bombs),
and it is then read in a bounded way. The XML goes through lxml (libxml2, ~5× faster than the standard
library's tree builder) with entities left unresolved, no network, libxml2's default limits on depth (256) and
text size kept (no huge_tree), and any document type declaration refused, so entity tricks (billion laughs,
external entities) never reach the reader; comments and processing instructions are dropped. The body is walked in order: each paragraph gives
one line per line break, each table the grid a reader sees (gridSpan spreads a cell to the right, vMerge
down; covered slots are None; a row shorter than the grid is padded with ""). A table holding other tables
is page layout: its cells are read as running text, the tables inside it as tables. Content controls
(w:sdt) and custom XML wrappers are looked through; deleted revisions are left out.

The walk leaves the per-element work to libxml2 (a Python step per element cost ~10 ms a report): wrappers
are stripped in one call, rows, cells and text pieces are found by lxml's filtered iteration, and tag facts
(local name, hidden or not) are looked up in per-tag caches.
"""

from __future__ import annotations

import io
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field

from lxml import etree
from lxml.etree import _Element as Element

from report.document import Block, Document, Grid, TextLine, UnreadableFile
from report.formats.html import collapse

MAX_PART_BYTES = 32 * 1024 * 1024  # uncompressed size of one XML part (a 100-page report's is a few MB)
MAX_RATIO = 200  # uncompressed : compressed, beyond which a large part is taken for a zip bomb
RATIO_CHECKED_FROM = 10 * 1024 * 1024  # small parts may compress as well as they like
MAX_GRID_COLUMNS = 1000
MAX_GRID_CELLS = 500_000  # over the whole document, so that a hostile file cannot exhaust memory
_TOO_LARGE = "docx 中的表格过大，超出部分已忽略"

_OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ENCRYPTED_PACKAGE = "EncryptedPackage".encode("utf-16-le")
_WORD_NAMESPACES = (
    "http://schemas.openxmlformats.org/wordprocessingml/2006/main",
    "http://purl.oclc.org/ooxml/wordprocessingml/main",  # Strict Open XML
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
_VISIBLE, _SKIPPED, _LEAF = 0, 1, 2  # how a paragraph's text reading treats an element and what it holds
_CACHED_TAGS = 10_000  # a file may use any number of distinct tags; the caches below forget them past this


def _local(tag: object) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


class _Kinds(dict[object, int]):
    """Element tag → _VISIBLE, _SKIPPED (hidden: not read into) or _LEAF (a text piece: not read into), by
    its local name; computed once per distinct tag, so that a lookup is one dictionary access."""

    def __missing__(self, tag: object) -> int:
        if len(self) > _CACHED_TAGS:
            self.clear()
        name = _local(tag)
        if name in _HIDDEN or name.endswith("Pr"):
            kind = _SKIPPED
        elif name in _TEXT_PIECES and name != "p":
            kind = _LEAF
        else:
            kind = _VISIBLE
        self[tag] = kind
        return kind


_KINDS = _Kinds()


class _Locals(dict[object, str]):
    """Element tag → its local name."""

    def __missing__(self, tag: object) -> str:
        if len(self) > _CACHED_TAGS:
            self.clear()
        name = self[tag] = _local(tag)
        return name


_LOCALS = _Locals()


class _Pieces(dict[object, "str | None"]):
    """Element tag → its text piece (see _TEXT_PIECES), by its local name."""

    def __missing__(self, tag: object) -> str | None:
        if len(self) > _CACHED_TAGS:
            self.clear()
        piece = _TEXT_PIECES.get(_local(tag), "")
        self[tag] = piece
        return piece


_PIECES = _Pieces()


_VALUE_NAMES = tuple(f"{{{namespace}}}val" for namespace in _WORD_NAMESPACES)


def _value(element: Element) -> str | None:
    """The element's w:val."""
    for name in _VALUE_NAMES:
        value = element.get(name)
        if value is not None:
            return value
    return None


def _paragraph_text(paragraph: Element) -> str:
    """A paragraph's text in document order: tabs as "\\t", breaks (and paragraphs of a text box) as "\\n".
    A piece counts when nothing between it and the paragraph hides it (properties, deleted text) or is itself
    a piece (a `t` holds no other pieces)."""
    pieces: list[str] = []
    for element in paragraph.iter(*_TEXT_TAGS):
        parent = element.getparent()
        while parent is not paragraph and parent is not None and not _KINDS[parent.tag]:
            parent = parent.getparent()
        if parent is not paragraph:
            continue  # the paragraph itself (no parent in it), or a hidden piece
        piece = _PIECES[element.tag]
        pieces.append("\n" if piece is None else piece or element.text or "")
    return "".join(pieces)


def _cells(table: Element) -> Iterator[Element]:
    for row in table.iterchildren("{*}tr"):
        yield from row.iterchildren("{*}tc")


def _holds_tables(table: Element) -> bool:
    return any(next(cell.iterchildren("{*}tbl"), None) is not None for cell in _cells(table))


def _cell_text(cell: Element) -> str:
    """A cell's paragraphs and lines joined as a reader reads them."""
    return collapse("\n".join(map(_paragraph_text, cell.iterchildren("{*}p")))).replace("\t", " ")


def _properties(element: Element, holder: str, names: tuple[str, ...]) -> dict[str, Element]:
    """The first of each of `names` inside the element's properties `holder` (w:tcPr, w:trPr …), by local name."""
    found: dict[str, Element] = {}
    for properties in element.iterchildren(holder):
        for item in properties.iterchildren(*names):
            found.setdefault(_LOCALS[item.tag], item)
    return found


def _int_value(element: Element | None, default: int, cap: int) -> int:
    value = _value(element) if element is not None else None
    try:
        return min(max(int(value or default), 0), cap)
    except ValueError:
        return default


def _continues(properties: dict[str, Element], name: str) -> bool:
    """Whether a cell's vMerge/hMerge continues the merge ("continue", also a bare w:vMerge), not restarts it."""
    merge = properties.get(name)
    return merge is not None and (_value(merge) or "continue") == "continue"


_CELL_PROPERTIES = ("{*}gridSpan", "{*}vMerge", "{*}hMerge")


def _row_slots(row: Element, above: tuple[str | None, ...] | None) -> list[str | None]:
    """One table row as grid slots; `above` is the row before it, for vertical merges."""
    before = _properties(row, "{*}trPr", ("{*}gridBefore",)).get("gridBefore")
    slots: list[str | None] = [""] * _int_value(before, 0, MAX_GRID_COLUMNS)
    for cell in row.iterchildren("{*}tc"):
        properties = _properties(cell, "{*}tcPr", _CELL_PROPERTIES)
        span = max(_int_value(properties.get("gridSpan"), 1, MAX_GRID_COLUMNS), 1) if properties else 1
        column = len(slots)
        if column + span > MAX_GRID_COLUMNS:
            break
        if properties and (
            (_continues(properties, "vMerge") and above is not None and column < len(above))
            or (_continues(properties, "hMerge") and slots)
        ):
            slots.extend([None] * span)
        else:
            slots.append(_cell_text(cell))
            if span > 1:
                slots.extend([None] * (span - 1))
    return slots


@dataclass
class _Reading:
    problems: list[str] = field(default_factory=list)
    cells_left: int = MAX_GRID_CELLS

    def problem(self, message: str) -> None:
        if message not in self.problems:
            self.problems.append(message)


def _grid(table: Element, reading: _Reading) -> Grid | None:
    rows: list[tuple[str | None, ...]] = []
    for row in table.iterchildren("{*}tr"):
        slots = tuple(_row_slots(row, rows[-1] if rows else None))
        if len(slots) > reading.cells_left:
            reading.problem(_TOO_LARGE)
            break
        reading.cells_left -= len(slots)
        rows.append(slots)
    width = max((len(row) for row in rows), default=0)
    if not width:
        return None
    return Grid(tuple(row + ("",) * (width - len(row)) for row in rows))


def _blocks(container: Element, reading: _Reading) -> Iterator[Block]:
    for child in container.iterchildren(*_BLOCK_TAGS):
        name = _local(child.tag)
        if name == "p":
            for line in _paragraph_text(child).split("\n"):
                if line.strip():
                    yield TextLine(line)
        elif name == "tbl" and _holds_tables(child):
            for cell in _cells(child):
                yield from _blocks(cell, reading)
        elif name == "tbl":
            grid = _grid(child, reading)
            if grid is not None:
                yield grid
        else:
            reading.problem("docx 中嵌入了外部文档片段（altChunk），其内容未读取")


def _member(archive: zipfile.ZipFile, name: str) -> bytes | None:
    """A member's bytes, after checking its sizes; None when there is no such member."""
    try:
        info = archive.getinfo(name)
    except KeyError:
        return None
    if info.flag_bits & 0x1:
        raise UnreadableFile("docx 文件已加密（受密码保护），无法读取")
    if info.file_size > MAX_PART_BYTES:
        raise UnreadableFile(
            f"docx 中的 {name} 解压后有 {info.file_size} 字节，超过上限 {MAX_PART_BYTES} 字节，已拒绝解析"
        )
    ratio = info.file_size / max(info.compress_size, 1)
    if info.file_size > RATIO_CHECKED_FROM and ratio > MAX_RATIO:
        raise UnreadableFile(f"docx 文件疑似压缩炸弹（{name} 压缩比 {ratio:.0f}:1），已拒绝解析")
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
    if relationships is None:
        return _DEFAULT_MAIN_PART
    for relationship in _xml(relationships, "_rels/.rels"):
        if (relationship.get("Type") or "").endswith(_OFFICE_DOCUMENT) and relationship.get("Target"):
            return (relationship.get("Target") or "").lstrip("/")
    return _DEFAULT_MAIN_PART


def _body(archive: zipfile.ZipFile) -> Element:
    name = _main_part(archive)
    data = _member(archive, name)
    if data is None:
        raise UnreadableFile(f"zip 包中没有 Word 正文（{name}），这不是 docx 文件")
    root = _xml(data, name)
    body = next(root.iterchildren("{*}body"), None)
    if body is None:
        raise UnreadableFile(f"docx 文件的 {name} 中没有正文（w:body），无法读取")
    etree.strip_tags(body, *_WRAPPERS)
    return body


def _not_a_zip(data: bytes) -> UnreadableFile:
    if data.startswith(_OLE_SIGNATURE):
        if _ENCRYPTED_PACKAGE in data:
            return UnreadableFile("docx 文件已加密（受密码保护），无法读取")
        return UnreadableFile("这是旧版 Word .doc 文件（或其他 OLE 复合文档），不是 docx，请另存为 docx 后再检查")
    return UnreadableFile("文件不是有效的 docx（不是 zip 压缩包），可能已损坏或扩展名有误")


def _has_text(block: Block) -> bool:
    if isinstance(block, TextLine):
        return True  # only lines with text are made
    return any(cell and cell.strip() for row in block.rows for cell in row)


def _damaged(error: BaseException) -> UnreadableFile:
    return UnreadableFile(f"docx 文件已损坏，解压失败（{type(error).__name__}: {error}）")


def read(data: bytes) -> Document:
    if not data.strip():
        raise UnreadableFile("文件为空，没有可读取的内容")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as error:
        raise _not_a_zip(data) from error
    except _DAMAGED_ZIP as error:
        raise _damaged(error) from error
    reading = _Reading()
    with archive:
        try:
            blocks = list(_blocks(_body(archive), reading))
        except RecursionError as error:
            raise UnreadableFile("docx 文件的表格或内容控件嵌套过深，已拒绝解析") from error
        except _DAMAGED_ZIP as error:
            raise _damaged(error) from error
    if not any(_has_text(block) for block in blocks):
        raise UnreadableFile("docx 文件中没有文字（可能只有图片，如扫描件），无法检查")
    return Document(blocks, reading.problems)
