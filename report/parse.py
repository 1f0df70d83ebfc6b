"""Parse a report file, in any layout, into the typed `Report` model."""

from __future__ import annotations

from pathlib import Path

from report.document import Document, Grid, TextLine
from report.extract import DEFAULT_MAX_BYTES, extract, path_text
from report.labels import OUTDATED_TEMPLATE_MARKERS, heading_section
from report.metadata import (
    find_published,
    find_title,
    level_from_prose,
    organization_from_title,
    period_years,
    title_year,
)
from report.model import SECTION_NUMERALS, Evidence, Organization, Report, Source, Tables
from report.tables import TableReading, read_active, read_appeals, read_requests
from report.tokens import Kind, Token, compact, normalize, tokenize

NOTHING_READ = "文件中没有读到任何文字"


def parse_file(path: Path | str, *, max_bytes: int = DEFAULT_MAX_BYTES, root: Path | None = None) -> Report:
    """Read and parse one file (with `root`: only a file inside that folder, links followed). Never raises for a
    bad file: what went wrong is in `problems`, and a file that gave no text at all (unreadable, broken, empty,
    outside `root`) is `evidence.rejected` with the reading problem as reason."""
    path = Path(path)
    fmt, sha256, document = extract(path, max_bytes, root)
    source = Source(path=path_text(path), sha256=sha256, format=fmt)
    try:
        report = parse_document(document, source)
    except Exception as error:  # a parser defect must cost one report its tables, never the caller its run
        reason = f"解析出错：{type(error).__name__}: {error}"
        return Report(source=source, problems=[*document.problems, reason], evidence=Evidence(rejected=reason))
    if not document.blocks:
        # The reading problem, not the parts the empty document lacks, is why this is no report.
        report.evidence.rejected = "；".join(document.problems) or NOTHING_READ
    return report


def _find_headings(document: Document) -> dict[int, str]:
    """Block index -> section numeral, for the first heading of each section."""
    headings: dict[int, str] = {}
    seen: set[str] = set()
    for index, block in enumerate(document.blocks):
        if isinstance(block, TextLine) and "\t" not in block.text.strip():
            numeral = heading_section(block.text)
            if numeral and numeral not in seen:
                seen.add(numeral)
                headings[index] = numeral
    return headings


def _regions(tokens: list[Token]) -> dict[str, tuple[int, int]]:
    """Section numeral -> (first, end) token positions of the section body."""
    starts = [(position, token.section) for position, token in enumerate(tokens) if token.kind is Kind.HEADING]
    regions: dict[str, tuple[int, int]] = {}
    ends = [position for position, _ in starts[1:]] + [len(tokens)] * bool(starts)
    for (start, numeral), end in zip(starts, ends, strict=True):
        if numeral:
            regions[numeral] = (start + 1, end)
    return regions


def _first_label(tokens: list[Token], start: int, words: tuple[str, ...]) -> int | None:
    for position in range(start, len(tokens)):
        if tokens[position].kind is Kind.TEXT and any(word in compact(tokens[position].text) for word in words):
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


def _section_text(document: Document, headings: dict[int, str]) -> dict[str, str]:
    """Each section's text lines (tables as grids left out), normalized. Text before 一 is under ''."""
    texts: dict[str, list[str]] = {"": []}
    current = ""
    for index, block in enumerate(document.blocks):
        if index in headings:
            current = headings[index]
            texts.setdefault(current, [])
            continue
        if isinstance(block, TextLine):
            line = normalize(block.text)
            if line:
                texts.setdefault(current, []).append(line)
    return {numeral: "\n".join(lines) for numeral, lines in texts.items()}


def parse_document(document: Document, source: Source, *, folder_region: str | None = None) -> Report:
    """The report model of an extracted document."""
    problems = list(document.problems)
    headings = _find_headings(document)
    tokens = tokenize(document, headings)
    regions = _regions(tokens)
    spans = _table_spans(tokens, regions)

    reading = TableReading()
    tables = Tables(
        active=read_active(tokens[slice(*spans["二"])], reading),
        requests=read_requests(tokens[slice(*spans["三"])], reading),
        appeals=read_appeals(tokens[slice(*spans["四"])], reading),
    )
    problems.extend(reading.problems)

    lines: list[str] = []  # every line in document order, table rows as tab-joined cells
    for block in document.blocks:
        if isinstance(block, TextLine):
            lines.append(block.text)
        else:
            lines.extend("\t".join(cell or "" for cell in row) for row in block.rows)
    all_text = "\n".join(lines)
    compact_text = compact(all_text)

    title = find_title(lines)
    organization = organization_from_title(title) if title else Organization()
    if organization.level == "unknown":
        organization.level = level_from_prose(compact_text)
    periods = period_years(all_text)
    year = title_year(title) if title else None
    if year is None and periods:
        year = periods[-1]

    markers = [marker for marker in OUTDATED_TEMPLATE_MARKERS if marker in compact_text] + reading.markers
    if document.blocks and not any(block for block in document.blocks if _has_text(block)):
        problems.append("文件中没有可读的文字")
    elif document.blocks and tables.requests is None and tables.active is None and tables.appeals is None:
        problems.append("没有找到任何统计表（二、三、四），这可能不是政府信息公开工作年度报告")

    return Report(
        source=source,
        organization=organization,
        year=year,
        published=find_published(lines),
        sections=[headings[index] for index in sorted(headings) if headings[index] in SECTION_NUMERALS],
        tables=tables,
        problems=problems,
        evidence=Evidence(
            title=title,
            title_year=title_year(title) if title else None,
            period_years=periods,
            section_text=_section_text(document, headings),
            invalid_cells=reading.invalid,
            blank_cells=reading.blanks,
            template_markers=markers,
            folder_region=folder_region,
        ),
    )


def _has_text(block: TextLine | Grid) -> bool:
    if isinstance(block, TextLine):
        return bool(block.text.strip())
    return any(cell and cell.strip() for row in block.rows for cell in row)
