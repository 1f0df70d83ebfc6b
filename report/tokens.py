"""Turn a `Document` into one stream of tokens, whatever layout flattened its tables.

A table row looks different in every layout (space-separated, one cell per line, tab-separated with
merged-cell shifts, Markdown pipes, an HTML/Word grid), but read as a stream it is always the same:
some text (the row label, perhaps wrapped over lines), then a run of values. The parser works on that.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import Enum

from report.document import Document, Grid, TextLine


class Kind(Enum):
    TEXT = "text"
    NUMBER = "number"
    BLANK = "blank"  # a cell that exists and holds nothing
    PLACEHOLDER = "placeholder"  # text standing where a number is due: 无, /, ——, 五 …
    HEADING = "heading"  # a section heading (一、总体情况 …); ends every run


@dataclass(frozen=True)
class Token:
    kind: Kind
    text: str  # normalized text (NFKC, spaces collapsed)
    block: int  # index of the block it came from
    number: Decimal | None = None
    section: str | None = None  # for HEADING tokens

    @property
    def is_value(self) -> bool:
        return self.kind in (Kind.NUMBER, Kind.BLANK, Kind.PLACEHOLDER)


_SPACES = re.compile(r"\s+")
_NUMBER = re.compile(r"^[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?$")
# A cell that stands for "no number" in real reports: 无, /, —, ——, -, 五 (a numeral typed as text), ×.
_PLACEHOLDER = re.compile(r"^(?:[无/／\\—–－\-_×xX*]{1,3}|[〇零一二三四五六七八九十百千万两]{1,4})$")
_MARKDOWN_RULE = re.compile(r"^\s*\|?(?:\s*:?-{3,}:?\s*\|?)+\s*$")
_TAB_RULE = re.compile(r"^(?:-{3,}\t?)+$")


def normalize(text: str) -> str:
    """NFKC (full-width digits and punctuation to ASCII, NBSP and U+3000 to spaces), spaces collapsed."""
    return _SPACES.sub(" ", unicodedata.normalize("NFKC", text)).strip()


def compact(text: str) -> str:
    """The normalized text without any whitespace: what label matching compares."""
    return _SPACES.sub("", unicodedata.normalize("NFKC", text))


def parse_number(text: str) -> Decimal | None:
    candidate = text.replace(" ", "")
    if not _NUMBER.match(candidate):
        return None
    try:
        return Decimal(candidate.replace(",", ""))
    except InvalidOperation:
        return None


def _cell_tokens(raw: str, block: int) -> list[Token]:
    """Tokens of one cell: whitespace only is a blank; trailing space-separated numbers are split off a label."""
    text = normalize(raw)
    if not text:
        return [Token(Kind.BLANK, "", block)]
    whole = parse_number(text)
    if whole is not None and " " not in text:
        return [Token(Kind.NUMBER, text, block, whole)]
    if _PLACEHOLDER.match(text):
        return [Token(Kind.PLACEHOLDER, text, block)]
    parts = text.split(" ")
    values: list[Token] = []
    while parts:  # space-separated rows: the values trail the label (placeholders like "-" included)
        number = parse_number(parts[-1])
        if number is not None:
            values.insert(0, Token(Kind.NUMBER, parts.pop(), block, number))
        elif len(parts) > 1 and _PLACEHOLDER.match(parts[-1]):
            values.insert(0, Token(Kind.PLACEHOLDER, parts.pop(), block))
        else:
            break
    if not parts:
        return values
    return [Token(Kind.TEXT, " ".join(parts), block), *values]


def _line_cells(text: str) -> list[str]:
    """Cells of a text line: Markdown pipes or tabs; truly empty cells at its start are layout, not data."""
    if "\t" not in text and not text.strip():
        return []  # an empty line separates rows; a tab-led whitespace cell (\t\xa0) is a blank cell
    stripped = text.strip(" ")
    if stripped.startswith("|") and stripped.rstrip().endswith("|") and stripped.count("|") >= 2:
        cells = stripped.strip().strip("|").split("|")
    else:
        cells = text.split("\t")
    if all(cell == "" for cell in cells):
        return []
    while cells[0] == "":
        cells.pop(0)  # merged-cell shift; trailing empties stay blanks, `tables.fit` trims any surplus
    return cells


def tokenize(document: Document, headings: dict[int, str]) -> list[Token]:
    """The token stream of a document; `headings` maps block index -> section numeral for heading lines."""
    tokens: list[Token] = []
    blank_cell_line = False  # the last non-empty line was a tab-led blank cell ("\t\xa0")
    for index, block in enumerate(document.blocks):
        if index in headings:
            text = normalize(block.text) if isinstance(block, TextLine) else ""
            tokens.append(Token(Kind.HEADING, text, index, section=headings[index]))
            blank_cell_line = False
        elif isinstance(block, TextLine):
            if _MARKDOWN_RULE.match(block.text) or _TAB_RULE.match(block.text.strip()):
                continue
            line_tokens = [token for cell in _line_cells(block.text) for token in _cell_tokens(cell, index)]
            if not line_tokens:
                continue
            if blank_cell_line and "\t" not in block.text and len(line_tokens) == 1 and line_tokens[0].is_value:
                # Where every cell starts with a tab, a line without one continues the cell before it:
                # a value wrapped below its blank-looking cell.
                tokens[-1] = line_tokens[0]
                blank_cell_line = False
                continue
            blank_cell_line = block.text.startswith("\t") and [token.kind for token in line_tokens] == [Kind.BLANK]
            tokens.extend(line_tokens)
        elif isinstance(block, Grid):
            blank_cell_line = False
            for row in block.rows:
                for cell in row:
                    if cell is not None:
                        tokens.extend(_cell_tokens(cell, index))
    return tokens
