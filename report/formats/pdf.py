"""PDF reports: the text layer, page by page, through pypdf.

A PDF without a text layer (a scan) cannot be checked and says so instead of giving an empty report. The
work is bounded: at most MAX_PAGES pages and about MAX_SECONDS of extraction; anything pypdf raises on a
damaged or hostile file becomes `UnreadableFile` with the reason.
"""

from __future__ import annotations

import io
import logging
import time
from dataclasses import dataclass, field

from pypdf import PasswordType, PdfReader
from pypdf.errors import DependencyError

from report.document import Document, TextLine, UnreadableFile

MAX_PAGES = 500
MAX_SECONDS = 60.0

# pypdf logs every oddity of a damaged file as a warning; what matters reaches `problems` instead.
logging.getLogger("pypdf").setLevel(logging.CRITICAL + 1)


@dataclass
class _Pages:
    """What reading the pages found."""

    lines: list[TextLine] = field(default_factory=list)
    blank: list[int] = field(default_factory=list)  # 1-based numbers of pages without text
    failed: list[int] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def _page_list(numbers: list[int]) -> str:
    shown = "、".join(map(str, numbers[:20]))
    return shown + (f" 等 {len(numbers)} 页" if len(numbers) > 20 else " 页")


def _unlock(reader: PdfReader) -> None:
    """Open an encrypted PDF with the empty password, as viewers do for files that only restrict copying."""
    try:
        unlocked = reader.decrypt("") != PasswordType.NOT_DECRYPTED
    except DependencyError as error:
        raise UnreadableFile("PDF 使用 AES 加密，当前环境缺少解密所需的 cryptography 库，无法读取") from error
    if not unlocked:
        raise UnreadableFile("PDF 文件受密码保护，无法读取")


def _open(data: bytes) -> tuple[PdfReader, int]:
    """The reader, unlocked, and its page count."""
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            _unlock(reader)
        return reader, len(reader.pages)
    except UnreadableFile:
        raise
    except Exception as error:  # pypdf raises many kinds on a damaged file; all mean the same here
        raise UnreadableFile(f"PDF 文件已损坏或格式不正确，无法读取（{type(error).__name__}: {error}）") from error


def _page_text(reader: PdfReader, index: int) -> str | None:
    """The page's text layer, or None when pypdf cannot extract it."""
    try:
        return reader.pages[index].extract_text()
    except Exception:  # one damaged page must not cost the others
        return None


def _read_pages(reader: PdfReader, count: int) -> _Pages:
    pages = _Pages()
    started = time.monotonic()
    for index in range(min(count, MAX_PAGES)):
        if time.monotonic() - started > MAX_SECONDS:
            pages.problems.append(f"PDF 文本提取用时过长，只读取了前 {index} 页（共 {count} 页）")
            break
        text = _page_text(reader, index)
        if text is None:
            pages.failed.append(index + 1)
            continue
        lines = [TextLine(line) for line in text.splitlines() if line.strip()]
        if not lines:
            pages.blank.append(index + 1)
        pages.lines.extend(lines)
    if count > MAX_PAGES:
        pages.problems.append(f"PDF 共 {count} 页，只读取了前 {MAX_PAGES} 页")
    return pages


def read(data: bytes) -> Document:
    if not data.strip():
        raise UnreadableFile("文件为空，没有可读取的内容")
    reader, count = _open(data)
    if count == 0:
        raise UnreadableFile("PDF 文件没有任何页面")
    pages = _read_pages(reader, count)
    if not pages.lines:
        if pages.failed and not pages.blank:
            raise UnreadableFile("PDF 文件已损坏，所有页面都无法提取文字")
        raise UnreadableFile("PDF 没有文本层（可能是扫描件），需要先做 OCR 才能检查")
    problems = pages.problems
    if pages.blank:
        problems.append(f"PDF 第 {_page_list(pages.blank)}没有文本层（可能是扫描页），这些页的内容未检查")
    if pages.failed:
        problems.append(f"PDF 第 {_page_list(pages.failed)}已损坏，无法提取文字")
    return Document([*pages.lines], problems)
