"""Read a report file of any supported format into a `Document`, within bounded time and memory.

Files of a watched share are untrusted: given the share's `root`, a file is read only when it lies inside it
once every symbolic link is followed (a link to /etc/passwd, or a folder linking to /etc, is refused), and it is
opened without following a link at the last step and checked again after opening, so a link swapped in between
the check and the open is refused too.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from report.document import Document, UnreadableFile, bounded
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
REPORT_SUFFIXES = frozenset(_BY_SUFFIX)  # what `nianbao ingest DIR` takes from a folder (the watcher takes any file)
_READERS: dict[str, Callable[[bytes], Document]] = {
    "txt": text.read,
    "md": text.read,
    "html": html.read,
    "docx": docx.read,
    "pdf": pdf.read,
}
# Readers whose documents are bounded already: plain text is cut to MAX_TEXT_CHARS before it is split into lines
# (`lines_document`), and an HTML page or a docx body walks its lines and cells only when its text may be longer
# (html.read, docx.read), a PDF's lines only when their lengths' sum is (pdf.read), so `bounded` would walk every
# line to find nothing to cut.
_BOUNDED_READERS = frozenset(("txt", "md", "html", "docx", "pdf"))
DEFAULT_MAX_BYTES = 50 * 1024 * 1024
OUTSIDE_ROOT = "符号链接指向共享目录之外，出于安全不予读取"
# A byte of a file name that is not UTF-8, as `path_text` writes it (only bytes >= 0x80 can be invalid UTF-8).
_ESCAPED_BYTE = re.compile(rb"\\x([89a-f][0-9a-f])")


def path_text(path: str | os.PathLike[str]) -> str:
    """A path as text any database, log, page or JSON can hold: the bytes of a name that is not valid UTF-8
    (Python keeps them as lone surrogates) written as `\\xNN`. The identity for every UTF-8 name."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def text_path(text: str) -> Path:
    """The path `path_text` was made from (the one ambiguity: a UTF-8 name holding a literal `\\x80`…`\\xff`)."""
    if "\\x" not in text:
        return Path(text)
    return Path(os.fsdecode(_ESCAPED_BYTE.sub(lambda match: bytes([int(match[1], 16)]), text.encode("utf-8"))))


def resolved(path: str | os.PathLike[str]) -> Path:
    """The path made absolute with its folders resolved (no `..`, no linked folder); the last part is kept as it
    is, so that a link stays visible as one."""
    absolute = Path(os.path.abspath(path))
    return Path(os.path.realpath(absolute.parent)) / absolute.name


def outside(path: str | os.PathLike[str], root: str | os.PathLike[str]) -> bool:
    """Whether `path`, every symbolic link followed, lies outside the folder `root`."""
    return not Path(os.path.realpath(path)).is_relative_to(os.path.realpath(root))


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


def open_file(path: Path, root: Path | None = None, *, real_root: str | None = None) -> BinaryIO:
    """The file opened for reading, or UnreadableFile saying in Chinese why it cannot be; with `root`, only a
    file inside that folder (`real_root`: the folder already resolved, `os.path.realpath`, by a caller that reads
    many files of it)."""
    if real_root is None and root is not None:
        real_root = os.path.realpath(root)
    # Resolved once, and only to check it lies inside the folder (each resolution costs a system call per folder
    # on the way): `os.stat` follows links as the resolution does.
    real = os.fspath(path) if real_root is None else os.path.realpath(path)
    if real_root is not None and not _within(real, real_root):
        raise UnreadableFile(OUTSIDE_ROOT)
    try:
        regular = stat.S_ISREG(os.stat(real).st_mode)
    except OSError:
        regular = False
    if not regular:
        raise UnreadableFile(_not_a_file(path))
    try:
        if real_root is None:
            return open(path, "rb")
        # The resolved path, opened without following a link: a link swapped in since the check above fails.
        handle = os.fdopen(os.open(real, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC), "rb")
    except PermissionError as error:
        raise UnreadableFile(f"没有读取权限：{error.strerror}") from error
    except OSError as error:
        raise UnreadableFile(f"读取文件失败：{error.strerror or error}") from error
    opened = _opened_path(handle.fileno())
    if opened is not None and not _within(opened, real_root):  # a folder on the way swapped for a link
        handle.close()
        raise UnreadableFile(OUTSIDE_ROOT)
    return handle


def _within(real: str, real_root: str) -> bool:
    """Whether a resolved path lies in (or is) a resolved folder (as `Path.is_relative_to`, on the strings)."""
    return real == real_root or real.startswith(real_root if real_root.endswith(os.sep) else real_root + os.sep)


def _not_a_file(path: Path) -> str:
    """Why a path that is not a regular file cannot be read."""
    if path.is_symlink() and not path.exists():
        return "文件是一个失效的符号链接，指向的文件不存在"
    if not path.exists():
        return "文件不存在"
    if path.is_dir():
        return "这是一个目录，不是报告文件"
    return "这不是普通文件（设备、管道或套接字），不予读取"


def _opened_path(descriptor: int) -> str | None:
    """Where an open file really is (Linux's /proc); None where the system does not say."""
    try:
        return os.readlink(f"/proc/self/fd/{descriptor}")
    except OSError:
        return None


def read_bytes(
    path: Path, max_bytes: int = DEFAULT_MAX_BYTES, root: Path | None = None, *, real_root: str | None = None
) -> tuple[bytes, bool]:
    """The file's bytes, at most `max_bytes` of them; the flag says whether it was cut (`root`, `real_root`: as
    for `open_file`)."""
    with open_file(path, root, real_root=real_root) as handle:
        try:
            # read(n) allocates n bytes up front: ask for no more than the file holds (plus one to see growth)
            data = handle.read(min(max_bytes, os.fstat(handle.fileno()).st_size) + 1)
        except OSError as error:
            raise UnreadableFile(f"读取文件失败：{error.strerror or error}") from error
    return data[:max_bytes], len(data) > max_bytes


def file_sha256(path: Path, root: Path | None = None) -> str:
    """Hash of the whole file, streamed; UnreadableFile says why it cannot be read."""
    digest = hashlib.sha256()
    with open_file(path, root) as handle:
        try:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
        except OSError as error:
            raise UnreadableFile(f"读取文件失败：{error.strerror or error}") from error
    return digest.hexdigest()


def sha256_of(path: Path, root: Path | None = None) -> str:
    """Hash of the whole file, streamed; empty string when the file cannot be read."""
    try:
        return file_sha256(path, root)
    except UnreadableFile:
        return ""


def extract(
    path: Path, max_bytes: int = DEFAULT_MAX_BYTES, root: Path | None = None, data: bytes | None = None
) -> tuple[str, str, Document]:
    """(format, sha256, document) of a file (with `root`: only inside that folder); `data`: the whole file, read
    already by the caller (`read_bytes`), not read again. Never raises: an unreadable file gives an empty
    document whose `problems` say why."""
    path = Path(path)
    if data is not None:
        truncated = len(data) > max_bytes
        data = data[:max_bytes]
    else:
        try:
            data, truncated = read_bytes(path, max_bytes, root)
        except UnreadableFile as error:
            return sniff_format(path, b""), sha256_of(path, root) if path.is_file() else "", Document([], [str(error)])
    fmt = sniff_format(path, data[:4096])
    sha = hashlib.sha256(data).hexdigest() if not truncated else sha256_of(path, root)
    if truncated and fmt in ("docx", "pdf"):
        size = os.path.getsize(path)
        return (
            fmt,
            sha,
            Document([], [f"文件过大（{size} 字节，上限 {max_bytes} 字节），{fmt} 文件无法只读取一部分，未解析"]),
        )
    try:
        document = _READERS[fmt](data)
        if fmt not in _BOUNDED_READERS:
            document = bounded(document)
    except UnreadableFile as error:
        document = Document([], [str(error)])
    except Exception as error:  # a hostile file must never kill the caller; say what happened instead
        document = Document([], [f"{fmt} 文件解析失败：{type(error).__name__}: {error}"])
    if truncated:
        document.problems.insert(0, f"文件过大，只读取了前 {max_bytes} 字节，其后内容未解析")
    return fmt, sha, document
