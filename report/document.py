"""What extraction hands to the parser: the file's text as lines and tables, whatever the format."""

from __future__ import annotations

from dataclasses import dataclass

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


class Document:
    """A file's text as blocks in reading order: text lines and grids.

    It is kept as the lines' strings (`lines`, "" where a grid stands) and the grids by their place (`grids`):
    the parser reads the strings directly, and a text file's hundreds of lines never become `TextLine`
    objects. `blocks` makes the blocks when a caller asks for them."""

    __slots__ = ("grids", "lines", "problems")

    def __init__(
        self,
        blocks: list[Block] | None = None,
        problems: list[str] | None = None,
        *,
        lines: list[str] | None = None,
        grids: dict[int, Grid] | None = None,
    ) -> None:
        self.lines: list[str] = [] if lines is None else lines
        self.grids: dict[int, Grid] = {} if grids is None else grids
        # Reading problems (truncated, odd encoding, …) in Chinese, for the report's `problems`.
        self.problems: list[str] = [] if problems is None else problems
        for block in blocks or ():
            if isinstance(block, Grid):
                self.grids[len(self.lines)] = block
                self.lines.append("")
            else:
                self.lines.append(block.text)

    @property
    def blocks(self) -> list[Block]:
        """The blocks in reading order (made anew on every call: changing the list changes no document)."""
        if not self.grids:
            return list(map(TextLine, self.lines))
        return [self.grids.get(index) or TextLine(line) for index, line in enumerate(self.lines)]

    def __repr__(self) -> str:
        return f"Document(blocks={self.blocks!r}, problems={self.problems!r})"


class UnreadableFile(Exception):
    """The file cannot be read at all; the message (in Chinese) says why and goes to `problems`."""


def lines_document(text: str, problems: list[str] | None = None) -> Document:
    """A document made of plain text lines (CRLF and lone CR count as line ends), at most MAX_TEXT_CHARS of them."""
    problems = list(problems or [])
    if len(text) > MAX_TEXT_CHARS:
        text = text[:MAX_TEXT_CHARS]
        problems.append(_cut_problem())
    return Document(problems=problems, lines=text.splitlines())


def bounded(document: Document) -> Document:
    """The document cut after MAX_TEXT_CHARS characters of text (lines and table cells)."""
    left = MAX_TEXT_CHARS
    for index, line in enumerate(document.lines):
        grid = document.grids.get(index)
        left -= len(line) if grid is None else sum(len(cell or "") for row in grid.rows for cell in row)
        if left < 0:
            if _cut_problem() not in document.problems:
                document.problems.append(_cut_problem())
            del document.lines[index:]
            for place in [place for place in document.grids if place >= index]:
                del document.grids[place]
            break
    return document


def _cut_problem() -> str:
    return f"文件的文字超过 {MAX_TEXT_CHARS} 字，只解析了前 {MAX_TEXT_CHARS} 字，其后内容未解析"
