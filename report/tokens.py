"""Turn a `Document` into one stream of tokens, whatever layout flattened its tables.

A table row looks different in every layout (space-separated, one cell per line, tab-separated with
merged-cell shifts, Markdown pipes, an HTML/Word grid), but read as a stream it is always the same:
some text (the row label, perhaps wrapped over lines), then a run of values. The parser works on that.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from functools import lru_cache, partial, reduce
from itertools import chain, compress, count, islice, repeat
from operator import eq, iconcat, is_, itemgetter
from typing import Any, NamedTuple

from report.document import Document, Grid
from report.labels import NUMBER_UNITS, PAGE_FOOTER
from report.normalized import REMEMBERED_LENGTH, REMEMBERED_LINES, LineMemo, Memo, normalize
from report.normalized import compact as compact  # metadata.py imports it from here


class Kind(StrEnum):
    # A str enum: its members hash and compare in C (an Enum's __hash__ is Python code, and `kind in
    # VALUE_KINDS` runs for every token).
    TEXT = "text"
    NUMBER = "number"
    BLANK = "blank"  # a cell that exists and holds nothing
    PLACEHOLDER = "placeholder"  # text standing where a number is due: 无, /, ——, 五 …
    HEADING = "heading"  # a section heading (一、总体情况 …); ends every run
    BREAK = "break"  # values that cannot belong to the label before them (a Markdown row without its label)


# The kinds under module names, for the loops that compare a kind for every token: in Python 3.11 reading
# `Kind.TEXT` goes through the enum class's `__getattr__` hook, about four times the cost of a global.
TEXT, NUMBER, BLANK, PLACEHOLDER, HEADING_KIND, BREAK = Kind


class Token(NamedTuple):
    """One token; a named tuple because a report has hundreds. A token does not know its line: the same
    tokens (0, 无, every row label) recur on line after line and report after report, so each distinct
    line's tokens are made once and shared, and `Stream.blocks` says where each one stands."""

    kind: Kind
    text: str  # normalized text (NFKC, spaces collapsed)
    number: int | Decimal | None = None  # whole numbers as int, others as Decimal
    section: str | None = None  # for HEADING tokens


# A token made by `tuple.__new__` directly, without the named tuple's `__new__` (a Python function): half the
# cost, where tokens are made for every line met the first time.
_new_token: Callable[[tuple[Kind, str, int | Decimal | None, str | None]], Token] = partial(tuple.__new__, Token)


@dataclass(slots=True)
class Stream:
    """A document's tokens, with the line each one came from and where its headings stand."""

    tokens: list[Token] = field(default_factory=list)
    # The line each token came from, as runs of consecutive lines: (first line, how many tokens each line of
    # the run gave). `blocks` spells it out for the few readers that ask (a damaged table 三, a decimal
    # split over lines).
    runs: list[tuple[int, list[int]]] = field(default_factory=list)
    headings: list[int] = field(default_factory=list)  # positions of the HEADING tokens, in order
    first: int = 0  # where the first token stands among the tokens `runs` counts (a part of a stream)

    @property
    def blocks(self) -> list[int]:
        """blocks[i]: the line token i came from."""
        blocks = chain.from_iterable(
            chain.from_iterable(map(repeat, count(first), counts)) for first, counts in self.runs
        )
        return list(islice(blocks, self.first, self.first + len(self.tokens)))

    def part(self, start: int, end: int) -> Stream:
        """Tokens start..end (their headings left out: a part is read within one section)."""
        return Stream(self.tokens[start:end], self.runs, first=self.first + start)


# What a cell holding a value (or standing for one) is; hot loops test `token.kind in VALUE_KINDS` directly.
VALUE_KINDS = frozenset((NUMBER, BLANK, PLACEHOLDER))


_KIND_OF = itemgetter(Token._fields.index("kind"))
_TEXT_OF = itemgetter(Token._fields.index("text"))


def texts_of(tokens: list[Token]) -> Iterator[str]:
    """The texts of the TEXT tokens among `tokens`, picked out in C."""
    return compress(map(_TEXT_OF, tokens), map(TEXT.__eq__, map(_KIND_OF, tokens)))


_NUMBER = re.compile(r"^[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?$")
# A cell that stands for "no number" in real reports: 无, /, —, ——, -, 五 (a numeral typed as text), ×.
_PLACEHOLDER = re.compile(r"^(?:[无/／\\—–－\-_×xX*]{1,3}|[〇零一二三四五六七八九十百千万两]{1,4})$")
_LONGEST_PLACEHOLDER = 4  # what `_PLACEHOLDER` matches is never longer
# What a number (besides a digit) or a placeholder starts with.
_VALUE_FIRST = frozenset("+-无/／\\—–－_×xX*〇零一二三四五六七八九十百千万两")
_MARKDOWN_RULE = re.compile(r"^\s*\|?(?:\s*:?-{3,}:?\s*\|?)+\s*$")
_TAB_RULE = re.compile(r"^(?:-{3,}\t?)+$")
_DIGIT_RUN = re.compile(r"\d+(?:\.\d+)?")
_DIGIT = re.compile(r"\d")
_NOT_SPACE = re.compile(r"[^ ]")
_DASH_CELL = re.compile(r"^\s*[-—–－]{1,2}\s*$")
# What may stand right before a number fused to its label: a CJK character or a closing bracket/quote.
_LABEL_END = re.compile(r"[\u4e00-\u9fff）)”\"]")


# Digits up to which a whole number is read as an int: any cell a database holds, far below Python's limit on
# the digits of an int read from text.
_INT_DIGITS = 18


def parse_number(text: str) -> int | Decimal | None:
    """A number as written in a cell (1,234 / -5 / 12.50): int when whole and short, else Decimal."""
    candidate = text.replace(" ", "")
    if not _NUMBER.match(candidate):
        return None
    candidate = candidate.replace(",", "")
    if "." not in candidate and len(candidate) <= _INT_DIGITS:
        return int(candidate)
    try:
        return Decimal(candidate)
    except InvalidOperation:
        return None


def _fused_number_end(text: str, start: int, end: int) -> int | None:
    """Where the number of digits text[start:end] written against its label ends, or None when the digits
    belong to the prose (2021年, 第3页, 〔2021〕, 0591-…). A trailing digit followed by `.`/`、` and text is
    the next row's numbering (…0000000 then 2.其他法律…), not part of the number."""
    before = text[start - 1] if start else ""
    if not before or (
        not _LABEL_END.match(before)
        and not (before == " " and start > 1 and (_LABEL_END.match(text[start - 2]) or text[start - 2].isdigit()))
    ):
        return None
    after = text[end : end + 1]
    if after in (".", "、", "．") and not text[end + 1 : end + 2].isdigit():
        return end - 1 if end - start > 1 and "." not in text[start:end] else None
    beyond = _NOT_SPACE.search(text, end)  # the first character after the spaces (not a copy of the rest)
    following = beyond.group() if beyond else ""
    if not following or following in "（(" or following.isdigit():
        return end
    if following in NUMBER_UNITS or not _LABEL_END.match(following) or following in '）)”"':
        return None
    return end


def _split_fused(text: str) -> list[Token]:
    """Text with numbers written against their labels (fused crawler text) cut into text and number tokens."""
    if not _DIGIT.search(text):
        return [_new_token((TEXT, text, None, None))]
    tokens: list[Token] = []
    position = 0
    for match in _DIGIT_RUN.finditer(text):
        end = _fused_number_end(text, match.start(), match.end())
        if end is None or end <= match.start():
            continue
        label = text[position : match.start()].strip()
        if label:
            tokens.append(_new_token((TEXT, label, None, None)))
        digits = text[match.start() : end]
        tokens.append(_new_token((NUMBER, digits, parse_number(digits), None)))
        position = end
    rest = text[position:].strip()
    if rest:
        tokens.append(_new_token((TEXT, rest, None, None)))
    return tokens


def cell_tokens(raw: str, plain: bool = False) -> tuple[Token, ...]:
    """Tokens of one cell: whitespace only is a blank; trailing space-separated numbers are split off a label.

    Cells repeat across lines and reports (0, 1, 无, every row label): a short cell's tokens are made once."""
    if len(raw) > REMEMBERED_LENGTH:
        return _cell_tokens(raw, plain)
    return _remembered_cell(raw, plain)


def _cell_tokens(raw: str, plain: bool) -> tuple[Token, ...]:
    return _text_tokens(normalize(raw), plain)


_BLANK = (Token(BLANK, ""),)


def _text_tokens(text: str, plain: bool) -> tuple[Token, ...]:
    """`cell_tokens` of a cell already normalized."""
    if not text:
        return _BLANK
    if " " not in text:  # one word: a value, or a label
        value = _VALUES.get(text) or _value_token(text)
        if value is not None:
            return (value,)
        return _label_tokens(text, plain)
    parts = text.split(" ")
    count = len(parts)
    # Space-separated rows: the values trail the label (placeholders like "-" included). The words are looked
    # up among the values met before from the last one back, in one `map`, and each run of them found in C
    # (`index`, up to the sentinel past the first word); only a word not met before is looked at here (a value
    # met the first time, or the label's last word). The first word is a value only as a number.
    back: list[Any] = [*map(_VALUES.get, reversed(parts)), None]  # Any: no `cast` call in this hot path
    given = back.index(None)  # back[:given]: the values at the end, the last first
    while given < count:
        value = _value_token(parts[count - 1 - given])
        if value is None:
            break
        back[given] = value
        given = back.index(None, given + 1)
    if given == count and back[given - 1].kind is PLACEHOLDER:
        given -= 1
    values: tuple[Token, ...] = tuple(back[given - 1 :: -1]) if given else ()
    if given == count:
        return values
    label = " ".join(parts[: count - given])
    # The label's tokens looked up here, `_label_tokens` called only for a label met the first time.
    return (_LABELS[plain].get(label) or _label_tokens(label, plain)) + values


def _label_tokens(label: str, plain: bool) -> tuple[Token, ...]:
    """The tokens of a label (normalized, not a value): the same labels come in report after report."""
    labels = _LABELS[plain]
    found = labels.get(label)
    if found is None:
        # Only a plain line can hold numbers fused to their labels: a table cell (数据1, 第1项) is whole.
        found = labels.keep(label, tuple(_split_fused(label)) if plain else (_new_token((TEXT, label, None, None)),))
    return found


# A label's tokens by its text, per plainness (`_label_tokens`).
_LABELS: dict[bool, LineMemo[tuple[Token, ...]]] = {False: LineMemo(), True: LineMemo()}


# The token of a value written as a word of its own (a number or a placeholder) by its text: the same few
# values (0, 1, 无 …) fill every table.
_VALUES: LineMemo[Token] = LineMemo()


def _value_token(word: str) -> Token | None:
    """The token of a word without spaces when it is a number or a placeholder; None when it is neither."""
    first = word[0]
    if first.isdigit():  # isdigit holds for all `\d` matches
        if word.isascii() and word.isdigit() and len(word) <= _INT_DIGITS:  # `_NUMBER`'s plain `\d+`: an int
            return _VALUES.keep(word, _new_token((NUMBER, word, int(word), None)))
        # No placeholder starts with a digit: a digit-led word (a numbered label, 1.本机关…) is a number or nothing.
        number = parse_number(word)
        return None if number is None else _VALUES.keep(word, _new_token((NUMBER, word, number, None)))
    # A number starts with a sign or a digit, a placeholder with one of its characters, and is short.
    if first not in _VALUE_FIRST or (len(word) > _LONGEST_PLACEHOLDER and first not in "+-"):
        return None
    number = parse_number(word)
    if number is not None:
        return _VALUES.keep(word, _new_token((NUMBER, word, number, None)))
    if _PLACEHOLDER.match(word):
        return _VALUES.keep(word, _new_token((PLACEHOLDER, word, None, None)))
    return None


_remembered_cell = lru_cache(maxsize=REMEMBERED_LINES)(_cell_tokens)
# The tokens of the cells of tab-separated and Markdown rows (never plain) by the cell's text.
_CELLS: LineMemo[tuple[Token, ...]] = LineMemo()


def _whole_cell_tokens(cell: str) -> tuple[Token, ...]:
    return _cell_tokens(cell, False)


def _line_cells(text: str) -> list[str]:
    """Cells of a text line: Markdown pipes or tabs; truly empty cells at its start are layout, not data."""
    if "\t" not in text and not text.strip():
        return []  # an empty line separates rows; a tab-led whitespace cell (\t\xa0) is a blank cell
    if "|" not in text and "\t" not in text:
        return [text]  # most lines: one cell, and not an empty one
    stripped = text.strip(" ")
    if stripped.startswith("|") and stripped.rstrip().endswith("|") and stripped.count("|") >= 2:
        cells = stripped.strip().strip("|").split("|")
    else:
        cells = text.split("\t")
    if not any(cells):
        return []
    while cells[0] == "":
        cells.pop(0)  # merged-cell shift; trailing empties stay blanks, `tables.fit` trims any surplus
    return cells


def collapsed_lines(document: Document) -> bool:
    """Whether a crawler collapsed repeated lines (like `uniq`): the tables are one cell per line, yet no
    line repeats the one before it, not even the zeros of table 三."""
    if document.grids:
        return False
    texts = list(filter(None, map(str.strip, document.lines)))  # blank lines aside; each test below loops in C
    if any(map(eq, texts, islice(texts, 1, None))):
        return False
    return len(list(filter(_NUMBER.match, texts))) >= _COLLAPSED_MIN_VALUES


# Fewer one-number lines than this are not a table flattened one cell per line.
_COLLAPSED_MIN_VALUES = 20


_TABLE_SECTIONS = frozenset("二三四")
_DECIMAL_POINTS = (".", "．")
# No page footer is longer than this (第 12 页 共 30 页 with spaces around).
_FOOTER_LENGTH = 40


_FOOTER_HINT = re.compile(r"[页/\-—–－~]|[Pp]age")


# What a page footer starts with, normalized (no space first), besides a digit.
_FOOTER_FIRST = frozenset("-—–－~第共Pp")


def _looks_like_footer(raw: str, text: str) -> bool:
    """Whether a line (`text`: normalized) is a page footer: cheap tests of its length, its first character
    and a hint it holds before `PAGE_FOOTER` (`isdigit` holds for every digit `\\d` matches)."""
    if len(raw) > _FOOTER_LENGTH:
        return False
    first = text[:1]
    if first.isdigit():
        # Only `3/9` starts with a digit: of the hint's characters, only its `/` can stand in such a line.
        hinted = "/" in raw
    elif first in _FOOTER_FIRST:
        hinted = bool(_FOOTER_HINT.search(raw))
    else:
        return False
    return hinted and bool(PAGE_FOOTER.match(text))


def _is_pipe_row(text: str) -> bool:
    stripped = text.strip()
    return stripped.startswith("|") and stripped.endswith("|") and stripped.count("|") >= 2


def _join_split_decimals(stream: Stream) -> Stream:
    """`851` / `.` / `776247` on three lines is one number: 851.776247."""
    joined = Stream()
    tokens, runs = joined.tokens, joined.runs
    for token, block in zip(stream.tokens, stream.blocks, strict=True):
        if token.kind is HEADING_KIND:
            joined.headings.append(len(tokens))
        elif (
            token.kind is NUMBER
            and len(tokens) >= 2
            and tokens[-1].kind is TEXT
            and tokens[-1].text in _DECIMAL_POINTS
            and tokens[-2].kind is NUMBER
            and token.text.isdigit()
            and tokens[-2].text.isdigit()
        ):
            text = f"{tokens[-2].text}.{token.text}"
            tokens[-2:] = [Token(NUMBER, text, parse_number(text))]
            del runs[-1]
            continue
        tokens.append(token)
        runs.append((block, [1]))
    return joined


class _Line(NamedTuple):
    """What a text line is, worked out once per distinct line: lines repeat across rows and reports."""

    kind: int  # _EMPTY, _RULE, _FOOTER or _ROW
    markdown_rule: bool  # a Markdown table rule (|---|---|)
    pipe_row: bool  # a Markdown row (| a | b |)
    tabbed: bool  # holds a tab
    dash_filler: bool  # a Markdown row of dash cells only
    tokens: tuple[Token, ...]
    all_values: bool  # every token a value
    blank_cell: bool  # a tab-led line holding one blank cell ("\t\xa0")
    continues: bool  # one value on a line without a tab: a blank cell's value wrapped below it
    split_decimal: bool  # a text token that is a decimal point (851 / . / 776247)
    # What it gives depends on the lines around it: a Markdown row or rule, or a tab-led blank cell whose
    # value may be wrapped onto the next line.
    stateful: bool


_EMPTY, _RULE, _FOOTER, _ROW = range(4)


def _analyse(raw: str, fusable: bool) -> _Line:
    if "\t" not in raw:
        if not raw.strip():
            return _EMPTY_LINE
        if "|" not in raw and "---" not in raw:
            # One cell (no tab, no pipe), no rule: most lines, analysed here (a call less for each).
            text = normalize(raw)
            # `_looks_like_footer`'s first tests, without the call: most lines are longer or start otherwise.
            if (
                len(raw) <= _FOOTER_LENGTH
                and (text[:1] in _FOOTER_FIRST or text[:1].isdigit())
                and _looks_like_footer(raw, text)
            ):
                return _new_line((_FOOTER, False, False, False, False, (), False, False, False, False, False))
            tokens = _text_tokens(text, fusable)
            # Never empty; most often led by a label, which settles it without the `map`s.
            all_values = tokens[0].kind in VALUE_KINDS and all(map(VALUE_KINDS.__contains__, map(_KIND_OF, tokens)))
            # A decimal point's token is text of the normalized line, where NFKC leaves no `．`.
            split_decimal = "." in text and not _DECIMAL_POINT_TOKENS.isdisjoint(tokens)
            return _new_line(
                (
                    _ROW,
                    False,
                    False,
                    False,
                    False,
                    tokens,
                    all_values,
                    False,
                    len(tokens) == 1 and all_values,
                    split_decimal,
                    False,
                )
            )
    # Both rules hold a run of three dashes, a Markdown row a pipe: most lines have neither.
    ruled = "---" in raw
    markdown_rule = ruled and bool(_MARKDOWN_RULE.match(raw))
    pipe_row = "|" in raw and _is_pipe_row(raw)
    tabbed = "\t" in raw
    if markdown_rule or (ruled and _TAB_RULE.match(raw.strip())):
        return _Line(_RULE, markdown_rule, pipe_row, tabbed, False, (), False, False, False, False, pipe_row)
    if not tabbed and _looks_like_footer(raw, normalize(raw)):
        return _Line(_FOOTER, markdown_rule, pipe_row, tabbed, False, (), False, False, False, False, pipe_row)
    cells = _line_cells(raw)
    # Only a Markdown row is ever a header's dash filler.
    dash_filler = pipe_row and bool(cells) and all(_DASH_CELL.match(cell) for cell in cells)
    plain = fusable and not pipe_row and not tabbed
    if len(cells) == 1:
        tokens = cell_tokens(cells[0], plain)
    else:  # a tab-separated or Markdown row: never plain
        tokens = tuple(chain.from_iterable(_CELLS.answers(cells, _whole_cell_tokens)))
    blank_cell = raw.startswith("\t") and len(tokens) == 1 and tokens[0].kind is BLANK
    # Most rows lead with a label, which settles it without the `map`s (no cells: no tokens, all values).
    all_values = not tokens or (
        tokens[0].kind in VALUE_KINDS and all(map(VALUE_KINDS.__contains__, map(_KIND_OF, tokens)))
    )
    # Only a text token is ever a decimal point's text: the texts are tested, not the whole tokens hashed.
    split_decimal = not _DECIMAL_POINT_TEXTS.isdisjoint(map(_TEXT_OF, tokens))
    return _new_line(
        (
            _ROW,
            markdown_rule,
            pipe_row,
            tabbed,
            dash_filler,
            tokens,
            all_values,
            blank_cell,
            not tabbed and len(tokens) == 1 and all_values,
            split_decimal,
            pipe_row or blank_cell,
        )
    )


# The text tokens that are a decimal point split from its number (851 / . / 776247).
_DECIMAL_POINT_TOKENS = frozenset(Token(TEXT, point) for point in _DECIMAL_POINTS)
_DECIMAL_POINT_TEXTS = frozenset(_DECIMAL_POINTS)

_new_line: Callable[[tuple[object, ...]], _Line] = partial(tuple.__new__, _Line)  # as `_new_token`
_EMPTY_LINE = _Line(_EMPTY, False, False, False, False, (), False, False, False, False, False)


# What each line is, per fusability.
_LINES: dict[bool, LineMemo[_Line]] = {False: LineMemo(), True: LineMemo()}
# The tokens of the lines that give them whatever stands around them (neither stateful nor a split decimal
# point: most lines), per fusability: a section made of such lines only is tokenized with one look-up a line.
_SIMPLE_TOKENS: dict[bool, LineMemo[tuple[Token, ...]]] = {False: LineMemo(), True: LineMemo()}


def tokenize(
    document: Document,
    headings: dict[int, str],
    texts: list[str] | None = None,
    rows: dict[int, list[GridRow]] | None = None,
) -> Stream:
    """The token stream of a document; `headings` maps line index -> section numeral for heading lines,
    `texts` (when given) holds each line normalized, `rows` each grid's rows by its place (`grid_rows`).

    Page footers are dropped; a Markdown row of values whose label is not in it, right after free text,
    gets a BREAK before it (a PDF-to-Markdown converter printed its label elsewhere); a row of dash
    placeholders right under a Markdown rule is a header's filler, not data.

    When sections 二, 三 and 四 all have their heading, the tables are read from those sections only: the
    lines of the other sections (and before the first heading) give no tokens, only their headings do."""
    stream = Stream()
    lines = document.lines
    # Numbers fused to their labels are looked for where tables are: sections 二–四, or anywhere when the
    # document has no heading at all (prose elsewhere keeps its numbers).
    fusable = not headings
    tables_only = _TABLE_SECTIONS.issubset(headings.values())
    split_decimal = False
    start = 0
    if rows is None:
        rows = {place: grid_rows(grid) for place, grid in document.grids.items()}
    places = sorted(rows)
    for index in sorted(headings):
        if fusable or not tables_only:
            split_decimal |= _tokenize_section(stream, document, start, index, fusable, places, rows)
        stream.headings.append(len(stream.tokens))
        text = texts[index] if texts is not None else normalize(lines[index])
        stream.tokens.append(_new_token((HEADING_KIND, text, None, headings[index])))
        stream.runs.append((index, [1]))
        fusable = headings[index] in _TABLE_SECTIONS
        start = index + 1
    if fusable or not tables_only:
        split_decimal |= _tokenize_section(stream, document, start, len(lines), fusable, places, rows)
    # Set exactly when a decimal point's text token went into the stream (`_tokenize_section` says so).
    return _join_split_decimals(stream) if split_decimal else stream


# Fields of a line's analysis, read with maps (which loop in C; a tuple's item is read faster than a named field).
_TOKENS = itemgetter(_Line._fields.index("tokens"))
_SPLIT_DECIMAL = itemgetter(_Line._fields.index("split_decimal"))
_PIPE_ROW = itemgetter(_Line._fields.index("pipe_row"))
_BLANK_CELL = itemgetter(_Line._fields.index("blank_cell"))
_CONTINUES = itemgetter(_Line._fields.index("continues"))
_STATEFUL = itemgetter(_Line._fields.index("stateful"))


def _tokenize_section(
    stream: Stream,
    document: Document,
    start: int,
    end: int,
    fusable: bool,
    places: list[int],
    rows_of: dict[int, list[GridRow]],
) -> bool:
    """Add the tokens of lines start..end (between two headings) to the stream, the text lines between its
    grids (each grid ends what the lines before it give; `places`: where the document's grids stand, in
    order, `rows_of` their rows) by `_tokenize_lines`; whether a text token it added is a decimal point."""
    inside = places[bisect_left(places, start) : bisect_left(places, end)] if places else places
    if not inside:
        return _tokenize_lines(stream, document, start, end, fusable)
    split_decimal = False
    for place in inside:
        if start < place:
            split_decimal |= _tokenize_lines(stream, document, start, place, fusable)
        rows = rows_of[place]
        given = len(stream.tokens)
        reduce(iconcat, map(_ROW_TOKENS, rows), stream.tokens)  # as in `_tokenize_lines`
        stream.runs.append((place, [len(stream.tokens) - given]))
        split_decimal = split_decimal or any(map(_ROW_SPLIT_DECIMAL, rows))
        start = place + 1
    if start < end:
        split_decimal |= _tokenize_lines(stream, document, start, end, fusable)
    return split_decimal


def _tokenize_lines(stream: Stream, document: Document, start: int, end: int, fusable: bool) -> bool:
    """Add the tokens of text lines start..end (no grid among them) to the stream; whether a text token it
    added is a decimal point (a number split over lines: 851 / . / 776247)."""
    lines = document.lines[start:end]
    simple = _SIMPLE_TOKENS[fusable]
    found: list[Any] = []  # each line's tokens, None where not remembered as simple (Any: no `cast` calls)
    remaining = iter(lines)
    try:
        found += map(simple.__getitem__, remaining)  # a line not remembered as simple ends it
    except KeyError:
        pass
    else:
        # Every line gives its own tokens whatever stands around it (empty lines, rules and footers none),
        # and none is a decimal point: the tokens are joined in C.
        # `reduce` hands each line's tuple to the list's in-place concatenation, which copies it in C: half the
        # cost of `stream.tokens += chain.from_iterable(found)`, which makes an iterator for each line's tuple and
        # steps through it a token at a time.
        reduce(iconcat, found, stream.tokens)
        stream.runs.append((start, list(map(len, found))))
        return False
    remembered = _LINES[fusable]
    if len(remembered) > REMEMBERED_LINES - len(lines):
        # Nearly full: both memos forget everything at once (`keep` would forget only the one it fills), so
        # that a line remembered as analysed but not as simple is never simple, whatever was forgotten.
        remembered.clear()
        simple.clear()

    def analyse(raw: str) -> _Line:
        """A line met the first time, analysed and, when simple, remembered as such for the next time."""
        line = _analyse(raw, fusable)
        if not line.stateful and not line.split_decimal and len(raw) <= REMEMBERED_LENGTH:
            # `simple.keep`, without its calls.
            if len(simple) >= REMEMBERED_LINES:
                simple.clear()
            simple[raw] = line.tokens
        return line

    first = remembered.get(lines[len(found)])
    if first is None or not first.stateful:
        # Most lines simple, the others met the first time (a new report's rows): only the lines not remembered
        # as simple are analysed, and when none of them is stateful (neither a Markdown row nor a blank cell:
        # then no line is), each line gives its own tokens as they are.
        found.append(None)
        found += map(simple.get, remaining)
        missing = list(compress(count(), map(is_, found, repeat(None))))
        others = remembered.answers(list(map(lines.__getitem__, missing)), analyse)
        if not any(map(_STATEFUL, others)):
            for position, line in zip(missing, others, strict=True):
                found[position] = line.tokens
            reduce(iconcat, found, stream.tokens)
            stream.runs.append((start, list(map(len, found))))
            return any(map(_SPLIT_DECIMAL, others))
    analysed = remembered.answers(lines, analyse)
    # Without Markdown rows every line gives its own tokens as they are, but for a value wrapped below its
    # blank cell.
    if not any(map(_PIPE_ROW, analysed)):
        each = list(map(_TOKENS, analysed))
        if any(map(_BLANK_CELL, analysed)) and any(map(_CONTINUES, analysed)):
            _join_wrapped_values(analysed, each)
        reduce(iconcat, each, stream.tokens)
        stream.runs.append((start, list(map(len, each))))
        return any(map(_SPLIT_DECIMAL, analysed))
    tokens, runs = stream.tokens, stream.runs
    blank_cell_line = False  # the last non-empty line was a tab-led blank cell ("\t\xa0")
    after: _Line | None = None  # the last non-empty text line
    split_decimal = False
    for index, line in enumerate(analysed, start):
        kind = line.kind
        if kind == _ROW:
            before, after = after, line
        elif kind == _RULE:
            after = line
            continue
        else:
            continue
        if line.pipe_row and line.dash_filler and before is not None and before.markdown_rule:
            continue
        if not line.tokens:
            continue
        if blank_cell_line and line.continues:
            # Where every cell starts with a tab, a line without one continues the cell before it:
            # a value wrapped below its blank-looking cell.
            tokens[-1] = line.tokens[0]
            last, [given] = runs.pop()  # the general path's runs are one line each
            runs += [(last, [given - 1]), (index, [1])] if given > 1 else [(index, [1])]
            blank_cell_line = False
            continue
        blank_cell_line = line.blank_cell
        if line.pipe_row and before is not None and not before.pipe_row and line.all_values:
            if not before.markdown_rule:
                tokens.append(_BREAK)
                runs.append((index, [1]))
        tokens += line.tokens
        runs.append((index, [len(line.tokens)]))
        split_decimal = split_decimal or line.split_decimal
    return split_decimal


def _join_wrapped_values(analysed: list[_Line], given: list[tuple[Token, ...]]) -> None:
    """Where every cell starts with a tab, a line without one continues the cell before it: a value wrapped
    below its blank-looking cell takes the blank's place, so the blank cell's line gives no token (`given`,
    each line's tokens, changed in place). A blank cell's line never continues one itself, so each pair is
    two lines giving tokens one after the other."""
    giving = list(compress(range(len(given)), given))
    # Where among the lines giving tokens (but the last) the blank cells stand.
    for position in compress(range(len(giving) - 1), map(_BLANK_CELL, map(analysed.__getitem__, giving))):
        if analysed[giving[position + 1]].continues:
            given[giving[position]] = ()


_BREAK = Token(BREAK, "")


# The tokens of a grid's cells by the cell's text (never empty: an empty cell is a blank).
_GRID_CELLS: LineMemo[tuple[Token, ...]] = LineMemo()


def _grid_cell_tokens(cell: str) -> tuple[Token, ...]:
    return _cell_tokens(cell, False)


Row = tuple[str | None, ...]


class GridRow(NamedTuple):
    """What a grid row gives, worked out once per distinct row: rows (headers, labels, rows of zeros) repeat
    across tables and reports."""

    tokens: tuple[Token, ...]  # its cells' tokens in order (a cell a merged neighbour covers gives none)
    # The row as one line: its cells tab-joined and normalized. NFKC works on each side of a tab alone (a tab
    # neither composes nor reorders with what stands next to it) and whitespace collapses to single spaces,
    # so this is its non-empty cells normalized, joined by spaces; and a cell's tokens are its normalized
    # text's words (a label's words in one token, a blank's none), so it is their texts joined by spaces.
    text: str
    split_decimal: bool  # a text token that is a decimal point (851 / . / 776247)


_ROW_TOKENS = itemgetter(GridRow._fields.index("tokens"))
_ROW_TEXT = itemgetter(GridRow._fields.index("text"))
_ROW_SPLIT_DECIMAL = itemgetter(GridRow._fields.index("split_decimal"))


# As `_new_token`.
_new_grid_row: Callable[[tuple[tuple[Token, ...], str, bool]], GridRow] = partial(tuple.__new__, GridRow)


def _new_grid_rows(rows: list[Row]) -> tuple[list[GridRow], list[int]]:
    """`GridRow`s of rows not met before, and each row's size (its cells' characters): all their cells answered
    in one `_GRID_CELLS.answers` call, where a call for each row's few cells cost more than the row's own work."""
    cells = [[cell for cell in row if cell is not None] for row in rows]
    answers = iter(_GRID_CELLS.answers(list(chain.from_iterable(cells)), _grid_cell_tokens))
    worked: list[GridRow] = []
    for row_cells in cells:
        tokens = tuple(chain.from_iterable(islice(answers, len(row_cells))))
        text = " ".join(filter(None, map(_TEXT_OF, tokens)))
        # A token's text is part of the row's text: a row without a point holds no decimal point token. The text
        # is normalized, where NFKC leaves no `．`.
        pointed = "." in text
        worked.append(_new_grid_row((tokens, text, pointed and not _DECIMAL_POINT_TOKENS.isdisjoint(tokens))))
    return worked, list(map(sum, map(map, repeat(len), cells)))


# `GridRow`s of rows met before, like `LineMemo` for lines: a row is short when its cells' characters are.
_GRID_ROWS: Memo[Row, GridRow] = Memo()


def grid_rows(grid: Grid) -> list[GridRow]:
    """What each of a grid's rows gives: rows met before looked up, the others worked out together
    (`_new_grid_rows`). `answers` looks them all up first too: its first `map` is repeated here, which spares a
    re-parse's grids the call (~3 k instructions an HTML report)."""
    rows = grid.rows
    try:
        return list(map(_GRID_ROWS.__getitem__, rows))  # a row not met before stops it
    except KeyError:
        return _GRID_ROWS.answers(rows, together=_new_grid_rows)


def row_lines(rows: list[GridRow]) -> list[str]:
    """Grid rows as lines: each its cells tab-joined and normalized (`GridRow.text`)."""
    return list(map(_ROW_TEXT, rows))
