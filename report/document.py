"""What extraction hands to the parser: the file's text as lines and tables, whatever the format."""

from __future__ import annotations

from dataclasses import dataclass, field

# The text a report is parsed from, at most: 20 times the longest report met (about 15,000 characters). Parsing
# costs a few microseconds and a few hundred bytes per character, so this bounds what any file costs the parser
# (bench/bound_bench.py measures it); the rest of a longer text is left out and `problems` says so.
MAX_TEXT_CHARS = 300_000


@dataclass(slots=True)
class TextLine:
    """One line of text as the file gave it (tabs and odd spaces kept: the parser reads layout from them).

    Not frozen: a report has hundreds of lines, and a frozen dataclass costs twice as much to build. Nothing
    changes a line once made."""

    text: str


@dataclass(frozen=True)
class Grid:
    """A table laid out as the reader sees it.

    Every row has the same number of columns. A cell covered by a merged neighbour (rowspan/colspan,
    Word's vMerge/gridSpan) is `None`; a cell that exists but holds nothing is "".
    """

    rows: tuple[tuple[str | None, ...], ...]


Block = TextLine | Grid


@dataclass
class Document:
    blocks: list[Block] = field(default_factory=list)
    # Reading problems (truncated, odd encoding, …) in Chinese, for the report's `problems`.
    problems: list[str] = field(default_factory=list)


class UnreadableFile(Exception):
    """The file cannot be read at all; the message (in Chinese) says why and goes to `problems`."""


def lines_document(text: str, problems: list[str] | None = None) -> Document:
    """A document made of plain text lines (CRLF and lone CR count as line ends), at most MAX_TEXT_CHARS of them."""
    problems = list(problems or [])
    if len(text) > MAX_TEXT_CHARS:
        text = text[:MAX_TEXT_CHARS]
        problems.append(_cut_problem())
    return Document([TextLine(line) for line in text.splitlines()], problems)


def bounded(document: Document) -> Document:
    """The document cut after MAX_TEXT_CHARS characters of text (lines and table cells)."""
    left = MAX_TEXT_CHARS
    for index, block in enumerate(document.blocks):
        size = (
            len(block.text)
            if isinstance(block, TextLine)
            else sum(len(cell or "") for row in block.rows for cell in row)
        )
        left -= size
        if left < 0:
            if _cut_problem() not in document.problems:
                document.problems.append(_cut_problem())
            del document.blocks[index:]
            break
    return document


def _cut_problem() -> str:
    return f"文件的文字超过 {MAX_TEXT_CHARS} 字，只解析了前 {MAX_TEXT_CHARS} 字，其后内容未解析"
