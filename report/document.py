"""What extraction hands to the parser: the file's text as lines and tables, whatever the format."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class TextLine:
    """One line of text as the file gave it (tabs and odd spaces kept: the parser reads layout from them)."""

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
    """A document made of plain text lines (CRLF and lone CR count as line ends)."""
    return Document([TextLine(line) for line in text.splitlines()], list(problems or []))
