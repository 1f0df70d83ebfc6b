"""Read a report file of any supported format into a `Document`, within bounded time and memory."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from report.document import Document, UnreadableFile
from report.formats import docx, html, pdf, text

FORMATS = ("txt", "md", "html", "docx", "pdf")
_BY_SUFFIX = {
    ".txt": "txt",
    ".text": "txt",
    ".md": "md",
    ".markdown": "md",
    ".htm": "html",
    ".html": "html",
    ".xhtml": "html",
    ".docx": "docx",
    ".pdf": "pdf",
}
_READERS: dict[str, Callable[[bytes], Document]] = {
    "txt": text.read,
    "md": text.read,
    "html": html.read,
    "docx": docx.read,
    "pdf": pdf.read,
}
DEFAULT_MAX_BYTES = 50 * 1024 * 1024


def sniff_format(path: Path, head: bytes) -> str:
    """The format by suffix, else by the first bytes (a report saved without its extension)."""
    by_suffix = _BY_SUFFIX.get(path.suffix.lower())
    if by_suffix:
        return by_suffix
    if head.startswith(b"%PDF"):
        return "pdf"
    if head.startswith(b"PK\x03\x04"):
        return "docx"
    if b"<html" in head[:1024].lower() or b"<table" in head[:4096].lower():
        return "html"
    return "txt"


def _open(path: Path) -> BinaryIO:
    """The file opened for reading, or UnreadableFile saying in Chinese why it cannot be."""
    if path.is_symlink() and not path.exists():
        raise UnreadableFile("文件是一个失效的符号链接，指向的文件不存在")
    if not path.exists():
        raise UnreadableFile("文件不存在")
    if path.is_dir():
        raise UnreadableFile("这是一个目录，不是报告文件")
    if not path.is_file():
        raise UnreadableFile("这不是普通文件（设备、管道或套接字），不予读取")
    try:
        return open(path, "rb")
    except PermissionError as error:
        raise UnreadableFile(f"没有读取权限：{error.strerror}") from error
    except OSError as error:
        raise UnreadableFile(f"读取文件失败：{error.strerror or error}") from error


def read_bytes(path: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> tuple[bytes, bool]:
    """The file's bytes, at most `max_bytes` of them; the flag says whether it was cut."""
    with _open(path) as handle:
        try:
            # read(n) allocates n bytes up front: ask for no more than the file holds (plus one to see growth)
            data = handle.read(min(max_bytes, os.fstat(handle.fileno()).st_size) + 1)
        except OSError as error:
            raise UnreadableFile(f"读取文件失败：{error.strerror or error}") from error
    return data[:max_bytes], len(data) > max_bytes


def file_sha256(path: Path) -> str:
    """Hash of the whole file, streamed; UnreadableFile says why it cannot be read."""
    digest = hashlib.sha256()
    with _open(path) as handle:
        try:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
        except OSError as error:
            raise UnreadableFile(f"读取文件失败：{error.strerror or error}") from error
    return digest.hexdigest()


def sha256_of(path: Path) -> str:
    """Hash of the whole file, streamed; empty string when the file cannot be read."""
    try:
        return file_sha256(path)
    except UnreadableFile:
        return ""


def extract(path: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> tuple[str, str, Document]:
    """(format, sha256, document) of a file. Never raises: an unreadable file gives an empty document
    whose `problems` say why."""
    path = Path(path)
    try:
        data, truncated = read_bytes(path, max_bytes)
    except UnreadableFile as error:
        return sniff_format(path, b""), sha256_of(path) if path.is_file() else "", Document([], [str(error)])
    fmt = sniff_format(path, data[:4096])
    sha = hashlib.sha256(data).hexdigest() if not truncated else sha256_of(path)
    if truncated and fmt in ("docx", "pdf"):
        size = os.path.getsize(path)
        return (
            fmt,
            sha,
            Document([], [f"文件过大（{size} 字节，上限 {max_bytes} 字节），{fmt} 文件无法只读取一部分，未解析"]),
        )
    try:
        document = _READERS[fmt](data)
    except UnreadableFile as error:
        document = Document([], [str(error)])
    except Exception as error:  # a hostile file must never kill the caller; say what happened instead
        document = Document([], [f"{fmt} 文件解析失败：{type(error).__name__}: {error}"])
    if truncated:
        document.problems.insert(0, f"文件过大，只读取了前 {max_bytes} 字节，其后内容未解析")
    return fmt, sha, document
