"""The evidence: each stored version's original bytes, kept under the data directory whatever happens to the share.

Files are named by their SHA-256 (`<folder>/ab/abcdef…`), written once (a second copy of the same content is the
same file) and atomically (copied to a temporary file in the same folder, synced, renamed into place), read-only.
A copy is made only when the bytes read hash to the version's SHA-256, and checked again when served, so a
finding is always shown on the exact file it was made on. The share is never served.

Evidence of versions that were superseded more than `evidence_retention_days` ago may be pruned
(`Evidence.prune`); the current version's is always kept.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import BinaryIO

from report.extract import open_file
from storage.errors import StoreError

log = logging.getLogger(__name__)

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
CHUNK = 1 << 20


class EvidenceChanged(Exception):
    """The file at the path no longer has the content that was parsed (rewritten meanwhile)."""


class EvidenceNotWritten(StoreError):
    """The evidence folder cannot be written (disk full, read-only, permissions): the system's problem, retried."""


class Evidence:
    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    def path(self, sha256: str) -> Path:
        if not _SHA256.match(sha256):
            raise ValueError(f"not a SHA-256: {sha256!r}")
        return self.folder / sha256[:2] / sha256

    def keep(self, source: Path, sha256: str, *, root: Path | None = None, max_bytes: int | None = None) -> bool:
        """Copy the bytes of `source` (inside `root` when given) in under `sha256`; whether they are kept (False:
        larger than `max_bytes`). EvidenceChanged when they do not hash to `sha256`; UnreadableFile when the file
        cannot be read; EvidenceNotWritten when the copy cannot be written."""
        target = self.path(sha256)
        if target.exists():
            return True
        with open_file(source, root) as original:

            def copy(output: BinaryIO) -> bool:
                digest = hashlib.sha256()
                size = 0
                for chunk in iter(lambda: original.read(CHUNK), b""):
                    size += len(chunk)
                    if max_bytes is not None and size > max_bytes:
                        return False
                    digest.update(chunk)
                    _write_chunk(output, chunk)
                if digest.hexdigest() != sha256:
                    raise EvidenceChanged(f"{source}: content changed since it was hashed")
                return True

            return self._write(target, copy)

    def keep_bytes(self, data: bytes, sha256: str) -> bool:
        """Keep `data`, which the caller read and hashed to `sha256` (the file is not read again); True, as
        `keep`. EvidenceNotWritten when the copy cannot be written."""
        target = self.path(sha256)
        if target.exists():
            return True

        def copy(output: BinaryIO) -> bool:
            _write_chunk(output, data)
            return True

        return self._write(target, copy)

    def _write(self, target: Path, fill: Callable[[BinaryIO], bool]) -> bool:
        """Write a temporary file beside `target` with `fill`, and when it says the copy is whole, sync it and
        rename it into place, read-only; what `fill` said."""
        try:
            if not target.parent.is_dir():  # one of 256 folders, there after the first files: no mkdir call
                target.parent.mkdir(parents=True, exist_ok=True)
            descriptor, temporary = tempfile.mkstemp(dir=target.parent, prefix=".part-")
        except OSError as error:
            raise EvidenceNotWritten(f"无法写入原始文件存档 {self.folder}：{error.strerror or error}") from error
        try:
            with os.fdopen(descriptor, "wb") as output:
                if not fill(output):
                    return False
                try:
                    output.flush()
                    os.fsync(output.fileno())
                except OSError as error:
                    raise EvidenceNotWritten(f"无法写入原始文件存档：{error.strerror or error}") from error
            os.chmod(temporary, 0o444)
            os.replace(temporary, target)  # atomic; a concurrent copy of the same content wrote the same bytes
        finally:
            if os.path.exists(temporary):
                os.unlink(temporary)
        return True

    def verified(self, sha256: str) -> Path | None:
        """The kept file of `sha256` when it is there and still hashes to it (None otherwise)."""
        try:
            path = self.path(sha256)
        except ValueError:
            return None
        digest = hashlib.sha256()
        try:
            with open(path, "rb") as handle:
                for chunk in iter(lambda: handle.read(CHUNK), b""):
                    digest.update(chunk)
        except OSError:
            return None
        if digest.hexdigest() != sha256:
            log.error("evidence %s does not hash to its name: not served", path)
            return None
        return path

    def prune(self, sha256s: Iterable[str]) -> int:
        """Delete the kept files of these contents; how many were there."""
        removed = 0
        for sha256 in sha256s:
            try:
                self.path(sha256).unlink()
                removed += 1
            except (FileNotFoundError, ValueError):
                continue
        return removed


def _write_chunk(output: BinaryIO, chunk: bytes) -> None:
    try:
        output.write(chunk)
    except OSError as error:
        raise EvidenceNotWritten(f"无法写入原始文件存档：{error.strerror or error}") from error
