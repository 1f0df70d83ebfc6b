"""Parse a report file, in any layout, into the typed `Report` model."""

from __future__ import annotations

import re
from functools import lru_cache
from itertools import compress, pairwise
from operator import itemgetter
from pathlib import Path
from typing import Any, NamedTuple

from report.document import Document, Grid
from report.extract import DEFAULT_MAX_BYTES, extract, path_text
from report.labels import (
    BARE_NUMERAL,
    EMBEDDED_HEADING,
    HEADING,
    OUTDATED_ACTIVE_LABEL,
    OUTDATED_ACTIVE_MARKER,
    OUTDATED_TEMPLATE_MARKERS,
    PAGE_FOOTER,
    SECTION_KEYS,
    SECTION_PHRASE_WORDS,
    SECTION_WORD,
    heading_sections,
    strip_numbering,
)
from report.metadata import (
    PAGE_NUMBER_FIRST,
    choose_published,
    is_page_number,
    level_from_prose,
    periods_of,
    read_normalized_metadata,
)
from report.model import SECTION_NUMERALS, Evidence, Report, Source, Tables
from report.normalized import REMEMBERED_LENGTH, REMEMBERED_LINES, LineMemo, compact, normalize, normalize_new
from report.tables import TableReading, read_active, read_appeals, read_requests
from report.tokens import TEXT, GridRow, Stream, Token, grid_rows, row_lines, texts_of, tokenize

NOT_A_REPORT = "文件中没有年度报告的任何部分或统计表，不是政府信息公开工作年度报告"

NOTHING_READ = "文件中没有读到任何文字"


def parse_file(
    path: Path | str, *, max_bytes: int = DEFAULT_MAX_BYTES, root: Path | None = None, data: bytes | None = None
) -> Report:
    """Read and parse one file (with `root`: only a file inside that folder, links followed; `data`: its bytes,
    read already by the caller). Never raises for a bad file: what went wrong is in `problems`, and a file that
    gave no text at all (unreadable, broken, empty, outside `root`) is `evidence.rejected` with the reading
    problem as reason."""
    path = Path(path)
    fmt, sha256, document = extract(path, max_bytes, root, data)
    source = Source(path=path_text(path), sha256=sha256, format=fmt)
    try:
        report = parse_document(document, source)
    except Exception as error:  # a parser defect must cost one report its tables, never the caller its run
        reason = f"解析出错：{type(error).__name__}: {error}"
        return Report(source=source, problems=[*document.problems, reason], evidence=Evidence(rejected=reason))
    if not document.lines:
        # The reading problem, not the parts the empty document lacks, is why this is no report.
        report.evidence.rejected = "；".join(document.problems) or NOTHING_READ
        report.problems = [problem for problem in report.problems if problem != NOT_A_REPORT] or [NOTHING_READ]
    return report


# What every heading starts with; lines without it are not searched for headings inside them.
_NUMBERED = re.compile(r"[一二三四五六]\s*[、.．]")
# What a heading or a bare numeral line holds somewhere: a line without it is left as it is.
_MAY_HOLD_HEADING = re.compile(r"[一二三四五六1-6]\s*[、.．]")
# A heading phrase followed by one of these, or preceded by a list's separator or lead-in, is a list in prose
# (本报告包括一、总体情况，二、…等六个部分), not a heading.
_LIST_AFTER = ("，", "、", "；", ",", ";", "等", "和", "及", "以及")
_LIST_BEFORE = ("，", "、", "；", ",", ";", "包括", "分为", "涵盖", "和", "及")
# A word each heading phrase holds whatever its variant (a substring search for each costs less than one search of
# a pattern of them all, which is tried at every character that may start one).
_PHRASE_WORDS = tuple(SECTION_PHRASE_WORDS.values())
# Text after a heading phrase on its line longer than this is the section's body fused onto the heading.
_HEADING_TAIL = 24


def _heading_cuts(text: str) -> list[int]:
    """Where a line must be cut so that each heading inside it (fused text) stands on a line of its own."""
    cuts: list[int] = []
    for match in EMBEDDED_HEADING.finditer(text):
        after = text[match.end() :].lstrip()
        before = text[: match.start()].rstrip()
        if after.startswith(_LIST_AFTER) or before.endswith(_LIST_BEFORE):
            continue
        if text[: match.start()].strip():
            cuts.append(match.start())
        if len(after) > _HEADING_TAIL or after[:1].isdigit() or any(mark in after for mark in "。，"):
            cuts.append(match.end())
    return cuts


def _fused_pieces(text: str, start: int = 0) -> tuple[str, ...] | None:
    """The pieces a line holding headings fused into it is cut into, each heading on a line of its own;
    None when the line stays whole. `start`: where `_MAY_HOLD_HEADING` first matches, when known (no
    numeral stands before it)."""
    if not any(map(text.__contains__, _PHRASE_WORDS)):
        return None  # each heading phrase holds its word
    cuts = _heading_cuts(text) if _NUMBERED.search(text, start) else []
    if not cuts:
        return None
    edges = [0, *sorted(set(cuts)), len(text)]
    return tuple(text[a:b] for a, b in pairwise(edges) if text[a:b].strip())


_remembered_pieces = lru_cache(maxsize=REMEMBERED_LINES)(_fused_pieces)


def _bare_numeral_heading(line: str, following: str) -> bool:
    """`六、` on a line of its own with the heading's words on the next line."""
    if not BARE_NUMERAL.match(line):
        return False
    head = compact(following)[:24]
    return any(key in head for keys in SECTION_KEYS.values() for key in keys)


class _LineFacts(NamedTuple):
    """What the parser asks of a text line, worked out once per distinct line: lines repeat across rows
    and reports. `_line_facts` gives these fields as a plain tuple (`_Facts`): a named tuple costs about
    a thousand instructions more to make, and each new line of a report makes one."""

    text: str  # the line normalized
    # HEADING matches it, it holds a section's words (`SECTION_WORD`) and no table cells: a heading candidate
    heading_like: bool
    section: str | None  # a candidate's section by its numeral and words (`heading_section`)
    renumbered: tuple[str, str] | None  # a candidate's section by its words alone (`renumbered_section`)
    content: bool  # neither empty nor a page number: a line the metadata is read from
    bare: bool  # a section numeral on a line of its own, its words on a line to come (not a table row)
    pieces: tuple[str, ...] | None  # the pieces a line with headings fused into it is cut into (not a table row)
    changes: bool  # unfusing changes it: it is `bare` or has `pieces`
    page_number: bool  # neither empty nor `content`
    notable: bool  # `heading_like` or `changes`: most lines are neither


_Facts = tuple[Any, ...]  # a `_LineFacts`' fields, in its order


# What a heading's numeral is (`HEADING`), what stands before it on a normalized line, and what follows it
# (after a space at most: a normalized line holds no whitespace but single spaces).
_HEADING_NUMERALS = frozenset("一二三四五六七八九123456789")
_HEADING_LEAD = "#* "
_HEADING_SEPARATORS = frozenset("、.,:：")


def _line_facts(raw: str) -> _Facts:
    text = normalize(raw)
    if not text:
        # Whitespace only: no heading, no separator `_MAY_HOLD_HEADING` needs (NFKC keeps each of them).
        return (text, False, None, None, False, False, None, False, False, False)
    # `is_page_number`'s first test, without its call: most lines start otherwise.
    first = text[0]
    page_number = (first in PAGE_NUMBER_FIRST or first.isdigit()) and is_page_number(text)
    content = not page_number
    tabbed = "\t" in raw and "\t" in raw.strip()  # a table row: never cut, never a heading
    # A heading starts with its numeral and its separator, which is all `HEADING` needs to be tried.
    lead = text.lstrip(_HEADING_LEAD) if text[0] in _HEADING_LEAD else text
    heading = None
    if not tabbed and lead[:1] in _HEADING_NUMERALS:
        separator = lead[1:2]
        if separator == " ":
            separator = lead[2:3]
        if separator in _HEADING_SEPARATORS:
            if len(lead) > len("一、 ") and SECTION_WORD.search(text) is None:
                # Most numbered lines (prose, table rows): no section's words, so no heading's title and no
                # heading phrase's word in the raw line either (NFKC keeps a run of CJK ideographs as it is);
                # and too long for a bare numeral.
                return (text, False, None, None, content, False, None, False, page_number, False)
            heading = HEADING.match(text)
    if heading is not None:
        # Never `bare`: a bare numeral leaves no title for `HEADING`. Never tabbed either.
        pieces = _fused_pieces(raw)
        section, renumbered = heading_sections(heading)
        changes = pieces is not None
        return (text, True, section, renumbered, content, False, pieces, changes, page_number, True)
    # `_MAY_HOLD_HEADING` needs one of its separators after the numeral.
    may_hold = _MAY_HOLD_HEADING.search(raw) if "、" in raw or "." in raw or "．" in raw else None
    if may_hold is None:  # plain
        return (text, False, None, None, content, False, None, False, page_number, False)
    # A bare numeral is normalized to its numeral and separator (a space between them at most) after the lead.
    bare = not tabbed and len(lead) <= 3 and bool(BARE_NUMERAL.match(raw))
    pieces = None if tabbed or bare else _fused_pieces(raw, may_hold.start())
    changes = bare or pieces is not None
    return (text, False, None, None, content, bare, pieces, changes, page_number, changes)


_FACTS: LineMemo[_Facts] = LineMemo()


def _facts_of(line: str) -> _Facts:
    return _FACTS.get(line) or _FACTS.keep(line, _line_facts(line))


# Fields of the line facts, read with maps (which loop in C; a tuple's item is read faster than a named field).
_TEXT = itemgetter(_LineFacts._fields.index("text"))
_CONTENT = itemgetter(_LineFacts._fields.index("content"))
_HEADING_LIKE = itemgetter(_LineFacts._fields.index("heading_like"))
_CHANGES = itemgetter(_LineFacts._fields.index("changes"))
_PAGE_NUMBER = itemgetter(_LineFacts._fields.index("page_number"))
_NOTABLE = itemgetter(_LineFacts._fields.index("notable"))
_SECTION = itemgetter(_LineFacts._fields.index("section"))
_RENUMBERED = itemgetter(_LineFacts._fields.index("renumbered"))
_BARE = itemgetter(_LineFacts._fields.index("bare"))


class _Unfused(NamedTuple):
    document: Document  # headings fused into lines cut out, headings split after their numeral joined
    facts: list[_Facts]  # each line's facts (a grid's place has those of an empty line)
    candidates: list[int]  # the lines that are `heading_like`
    has_grids: bool  # a block is a grid (most documents are text lines only)
    page_numbers: bool  # a line is a page number (most documents have none)


def _sorted_out(document: Document, facts: list[_Facts], notable: list[int] | None = None) -> _Unfused:
    """The document with its lines' facts (picked out in C, the heading candidates among the `notable` lines:
    one test of a fact costs less than a line looked at in Python)."""
    if notable is None:
        notable = list(compress(range(len(facts)), map(_NOTABLE, facts)))
    notable_facts = list(map(facts.__getitem__, notable))
    return _Unfused(
        document,
        facts,
        list(compress(notable, map(_HEADING_LIKE, notable_facts))),
        bool(document.grids),
        any(map(_PAGE_NUMBER, facts)),
    )


def _unfuse(document: Document) -> _Unfused:
    """The document with headings fused into lines cut out onto lines of their own, and headings split
    after their numeral joined again (table cells, tab-separated lines, are left alone); and each of its
    lines' facts.

    Most lines stay as they are: they are copied in slices, and only the lines that change (and the grids,
    whose places move when lines are cut or joined before them) are looked at one by one."""
    lines, grids = document.lines, document.grids
    facts = _FACTS.answers(lines, _line_facts, normalize_new)
    notable = list(compress(range(len(facts)), map(_NOTABLE, facts)))
    changing = list(compress(notable, map(_CHANGES, map(facts.__getitem__, notable))))
    if grids and changing:
        changing = sorted({*changing, *grids})
    if not changing:
        return _sorted_out(document, facts, notable)

    kept_lines: list[str] = []
    kept_facts: list[_Facts] = []
    kept_grids: dict[int, Grid] = {}

    def keep(line: str) -> None:
        kept_lines.append(line)
        kept_facts.append(_facts_of(line))

    def keep_pieces(text: str) -> None:
        pieces = _remembered_pieces(text) if len(text) <= REMEMBERED_LENGTH else _fused_pieces(text)
        for piece in (text,) if pieces is None else pieces:
            keep(piece)

    def numeral_and_words(index: int) -> int:
        """Keep the bare numeral at `index`, joined to its words when they follow; where to go on from."""
        numeral = lines[index]
        for following in range(index + 1, len(lines)):
            text = lines[following]
            if following in grids or "\t" in text.strip():
                break
            if not text.strip():
                continue  # an empty line between the numeral and its words is left out
            if PAGE_FOOTER.match(normalize(text)):
                keep(text)  # a page break between the numeral and its words
                continue
            if _bare_numeral_heading(numeral, text):
                keep_pieces(numeral.strip() + text.strip())
                return following + 1
            break
        else:
            following = len(lines)
        keep(numeral)
        return following

    done = 0  # the lines before this one are kept already
    for index in changing:
        if index < done:
            continue  # taken by a numeral as its words, or a page break before them
        kept_lines += lines[done:index]
        kept_facts += facts[done:index]
        grid = grids.get(index)
        if grid is not None:
            kept_grids[len(kept_lines)] = grid
            keep("")
            done = index + 1
        elif _BARE(facts[index]):
            done = numeral_and_words(index)
        else:
            keep_pieces(lines[index])
            done = index + 1
    kept_lines += lines[done:]
    kept_facts += facts[done:]
    unfused = Document(problems=document.problems, lines=kept_lines, grids=kept_grids)
    return _sorted_out(unfused, kept_facts)


def _find_headings(unfused: _Unfused) -> tuple[dict[int, str], dict[str, str]]:
    """Block index -> section numeral, for the first heading of each section; and the numeral each section's
    heading actually bears where that differs (a renumbered report).

    A heading counts by its numeral and words together first; a section still missing is then looked for by
    its distinctive words under any numeral, so a part whose words are there is never reported missing."""
    headings: dict[int, str] = {}
    facts, candidates = unfused.facts, unfused.candidates
    for index in candidates:
        numeral = _SECTION(facts[index])
        if numeral and numeral not in headings.values():
            headings[index] = numeral
    written: dict[str, str] = {}
    if len(headings) == len(SECTION_KEYS):
        return headings, written
    for index in candidates:
        if index in headings:
            continue
        found = _RENUMBERED(facts[index])
        if found and found[0] not in headings.values():
            headings[index] = found[0]
            written[found[0]] = found[1]
    return dict(sorted(headings.items())), written


def _regions(stream: Stream) -> dict[str, tuple[int, int]]:
    """Section numeral -> (first, end) token positions of the section body."""
    regions: dict[str, tuple[int, int]] = {}
    if not stream.headings:
        return regions
    ends = [*stream.headings[1:], len(stream.tokens)]
    for start, end in zip(stream.headings, ends, strict=True):
        numeral = stream.tokens[start].section
        if numeral:
            regions[numeral] = (start + 1, end)
    return regions


def _first_label(tokens: list[Token], start: int, words: tuple[str, ...]) -> int | None:
    for position in range(start, len(tokens)):
        if tokens[position].kind is TEXT and any(word in compact(tokens[position].text) for word in words):
            return position
    return None


def _table_spans(tokens: list[Token], regions: dict[str, tuple[int, int]]) -> dict[str, tuple[int, int]]:
    """Where to look for tables 二, 三, 四: their sections, or — when a heading is missing — between
    the labels that open the neighbouring tables."""
    end = len(tokens)
    requests_start = regions["三"][0] if "三" in regions else _first_label(tokens, 0, ("本年新收", "勾稽关系"))
    appeals_start = regions["四"][0] if "四" in regions else _first_label(tokens, requests_start or 0, ("行政复议",))
    active_start = regions["二"][0] if "二" in regions else _first_label(tokens, 0, ("第二十条",))
    after_appeals = min(
        (regions[n][0] - 1 for n in ("五", "六") if n in regions and regions[n][0] > (appeals_start or 0)), default=end
    )

    def span(numeral: str, start: int | None, fallback_end: int) -> tuple[int, int]:
        if numeral in regions:
            return regions[numeral]
        return (start, fallback_end) if start is not None else (0, 0)

    return {
        "二": span("二", active_start, requests_start or appeals_start or end),
        "三": span("三", requests_start, appeals_start or end),
        "四": span("四", appeals_start, after_appeals),
    }


def _section_text(headings: dict[int, str], lines: list[str]) -> dict[str, str]:
    """Each section's text lines (tables as grids left out), normalized. Text before 一 is under ''.
    `lines` are the blocks' normalized lines (a grid's place holds "", which is left out like an empty line)."""
    starts = sorted(headings)
    ends = [*starts, len(lines)]
    texts = {"": "\n".join(filter(None, lines[: ends[0]]))}
    for start, end in zip(starts, ends[1:], strict=True):
        texts[headings[start]] = "\n".join(filter(None, lines[start + 1 : end]))
    return texts


def parse_document(document: Document, source: Source, *, folder_region: str | None = None) -> Report:
    """The report model of an extracted document."""
    unfused = _unfuse(document)
    document, facts = unfused.document, unfused.facts
    problems = list(document.problems)
    # Every text line normalized once (a grid's place holds ""): headings, tokens, metadata and the
    # whole-text views all read these.
    texts = list(map(_TEXT, facts))
    headings, written_numerals = _find_headings(unfused)
    # Each grid's rows worked out once: the tokens and the lines read them.
    rows = {place: grid_rows(grid) for place, grid in document.grids.items()}
    stream = tokenize(document, headings, texts, rows)
    tokens = stream.tokens
    spans = _table_spans(tokens, _regions(stream))

    reading = TableReading(document=document)
    active = read_active(tokens[slice(*spans["二"])], reading)
    requests = read_requests(stream.part(*spans["三"]), reading)
    tables = Tables(active=active, appeals=read_appeals(tokens[slice(*spans["四"])], reading))
    # Table 三 is set after validation: its rows are new lists of ints and None already, which validation would
    # only copy cell by cell (~60 k instructions a report; tests/test_parse_model.py holds it to validation's).
    tables.requests = requests
    problems.extend(reading.problems)

    lines = texts  # every line in document order, table rows as tab-joined cells, normalized
    # The whole text normalized is its normalized lines joined by a space (NFKC never reaches across a
    # line end), and without whitespace it is their spaces dropped.
    if unfused.has_grids:
        lines, content = _with_grid_rows(rows, texts, facts)
        filled = list(filter(None, lines))
    else:
        filled = list(filter(None, lines))
        # The lines the metadata is read from: those neither empty nor a page number.
        content = list(compress(texts, map(_CONTENT, facts))) if unfused.page_numbers else filled
    all_text = " ".join(filled)
    compact_text = all_text.replace(" ", "")
    metadata = read_normalized_metadata(lines, content, all_text)
    problems.extend(metadata.problems)
    organization = metadata.organization
    if organization.level == "unknown" and organization.name is None:
        organization.level = level_from_prose(compact_text)
    periods, spans_written = periods_of(all_text)
    year = metadata.title_year
    if year is None and periods:
        year = periods[-1]
    # the period the report covers: the statistics period where stated (a title may misstate its year)
    published, placeholder = choose_published(metadata.dates, periods[-1] if periods else year)
    problems.extend([placeholder] if placeholder else [])

    sections = [headings[index] for index in sorted(headings) if headings[index] in SECTION_NUMERALS]
    rejected = None
    markers = [marker for marker in OUTDATED_TEMPLATE_MARKERS if marker in compact_text] + reading.markers
    if any(map(_outdated_active_label, texts_of(tokens[slice(*spans["二"])]))):
        markers.append(OUTDATED_ACTIVE_MARKER)
    if document.lines and not _has_text(document):
        problems.append("文件中没有可读的文字")
    elif document.lines and tables.requests is None and tables.active is None and tables.appeals is None:
        if sections:
            problems.append("没有找到任何统计表（二、三、四），这可能不是政府信息公开工作年度报告")
        else:
            rejected = NOT_A_REPORT
            problems.append(NOT_A_REPORT)

    return Report(
        source=source,
        organization=organization,
        year=year,
        published=published,
        sections=sections,
        tables=tables,
        problems=problems,
        evidence=Evidence(
            title=metadata.title,
            title_year=metadata.title_year,
            period_years=periods,
            period_spans=spans_written,
            misnumbered_sections=written_numerals if len(sections) == len(SECTION_NUMERALS) else {},
            section_text=_section_text(headings, texts),
            invalid_cells=reading.invalid,
            blank_cells=reading.blanks,
            template_markers=markers,
            folder_region=folder_region,
            rejected=rejected,
        ),
    )


def _with_grid_rows(
    rows_of: dict[int, list[GridRow]], texts: list[str], facts: list[_Facts]
) -> tuple[list[str], list[str]]:
    """The normalized lines with each grid's rows in its place as tab-joined cells; and those of them neither
    empty nor a page number."""
    lines: list[str] = []
    content: list[str] = []
    done = 0
    for index in sorted(rows_of):
        lines += texts[done:index]
        content += compress(texts[done:index], map(_CONTENT, facts[done:index]))
        rows = row_lines(rows_of[index])
        lines += rows
        content += compress(rows, map(_FIRST, _ROW_CONTENT.answers(rows, _row_content)))
        done = index + 1
    lines += texts[done:]
    content += compress(texts[done:], map(_CONTENT, facts[done:]))
    return lines, content


# Whether a grid row's line is content (neither empty nor a page number), by the line: as a 1-tuple, since a
# memo's answers are never falsy.
_ROW_CONTENT: LineMemo[tuple[bool]] = LineMemo()
_FIRST = itemgetter(0)


def _row_content(row: str) -> tuple[bool]:
    return (bool(row) and not is_page_number(row),)


@lru_cache(maxsize=REMEMBERED_LINES)
def _outdated_active_label(text: str) -> bool:
    """Whether a label is the 2019 template's 规范性文件, numbering aside (stripped only from the labels
    that end with it)."""
    label = compact(text)
    return label.endswith(OUTDATED_ACTIVE_LABEL) and strip_numbering(label) == OUTDATED_ACTIVE_LABEL


def _has_text(document: Document) -> bool:
    return any(map(str.strip, document.lines)) or any(
        cell and cell.strip() for grid in document.grids.values() for row in grid.rows for cell in row
    )
