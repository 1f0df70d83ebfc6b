"""PDF reports: the text layer, page by page, through pypdfium2 (PDFium, the engine of Chrome's viewer).

PDFium reads the text layer in C, ~10× faster than pypdf's pure-Python content-stream parser on the real
reports (bench/parse_bench.py). Fonts a file does not embed (reportlab's STSong-Light, common in generated
reports) need no font program for text: PDFium maps the glyphs through the font's ToUnicode map or its
predefined CMap (Adobe-GB1 for STSong-Light), as pypdf did, and gives the same lines.

A PDF without a text layer (a scan) cannot be checked and says so instead of giving an empty report. The
work is bounded: at most MAX_PAGES pages and about MAX_SECONDS of extraction; anything PDFium reports on a
damaged or hostile file becomes `UnreadableFile` with the reason. PDFium is not thread-safe, so one lock
serialises its use within a process (the web app parses uploads in worker threads).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import pypdfium2
import pypdfium2.raw as pdfium_c

from report.document import MAX_TEXT_CHARS, Document, UnreadableFile, bounded

MAX_PAGES = 500
MAX_SECONDS = 60.0

_PDFIUM = threading.Lock()


@dataclass
class _Pages:
    """What reading the pages found."""

    lines: list[str] = field(default_factory=list)
    blank: list[int] = field(default_factory=list)  # 1-based numbers of pages without text
    failed: list[int] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def _page_list(numbers: list[int]) -> str:
    shown = "、".join(map(str, numbers[:20]))
    return shown + (f" 等 {len(numbers)} 页" if len(numbers) > 20 else " 页")


def _open(data: bytes) -> pypdfium2.PdfDocument:
    """The document, opened as viewers open it: an encrypted file with the empty user password (copy
    protection only) is read, one that needs a password is not."""
    try:
        return pypdfium2.PdfDocument(data)
    except pypdfium2.PdfiumError as error:
        if getattr(error, "err_code", None) == pdfium_c.FPDF_ERR_PASSWORD:
            raise UnreadableFile("PDF 文件受密码保护，无法读取") from error
        raise UnreadableFile(f"PDF 文件已损坏或格式不正确，无法读取（{error}）") from error


def _page_text(document: pypdfium2.PdfDocument, index: int) -> str | None:
    """The page's text layer, or None when PDFium cannot extract it."""
    try:
        page = document[index]
        try:
            textpage = page.get_textpage()
            try:
                return textpage.get_text_range()
            finally:
                textpage.close()
        finally:
            page.close()
    except Exception:  # one damaged page must not cost the others
        return None


def _read_pages(document: pypdfium2.PdfDocument, count: int) -> _Pages:
    pages = _Pages()
    started = time.monotonic()
    for index in range(min(count, MAX_PAGES)):
        if time.monotonic() - started > MAX_SECONDS:
            pages.problems.append(f"PDF 文本提取用时过长，只读取了前 {index} 页（共 {count} 页）")
            break
        text = _page_text(document, index)
        if text is None:
            pages.failed.append(index + 1)
            continue
        lines = list(filter(str.strip, text.splitlines()))
        if not lines:
            pages.blank.append(index + 1)
        pages.lines += lines
    if count > MAX_PAGES:
        pages.problems.append(f"PDF 共 {count} 页，只读取了前 {MAX_PAGES} 页")
    return pages


def read(data: bytes) -> Document:
    if not data.strip():
        raise UnreadableFile("文件为空，没有可读取的内容")
    with _PDFIUM:
        document = _open(data)
        try:
            count = len(document)
            if count == 0:
                raise UnreadableFile("PDF 文件没有任何页面")
            pages = _read_pages(document, count)
        finally:
            document.close()
    if not pages.lines:
        if pages.failed and not pages.blank:
            raise UnreadableFile("PDF 文件已损坏，所有页面都无法提取文字")
        raise UnreadableFile("PDF 没有文本层（可能是扫描件），需要先做 OCR 才能检查")
    problems = pages.problems
    if pages.blank:
        problems.append(f"PDF 第 {_page_list(pages.blank)}没有文本层（可能是扫描页），这些页的内容未检查")
    if pages.failed:
        problems.append(f"PDF 第 {_page_list(pages.failed)}已损坏，无法提取文字")
    document = Document(problems=problems, lines=pages.lines)
    # Bounded here, where the lines' lengths are summed in C, rather than by `extract` walking every line.
    return bounded(document) if sum(map(len, pages.lines)) > MAX_TEXT_CHARS else document
