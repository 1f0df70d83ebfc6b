"""The watcher's `submit`: hash a batch of settled files, record them in the ledger in one transaction, and
enqueue the batch's new content as one task.

The ledger, not the queue, is the source of truth: entries are marked `queued` before their message is
published, so a message that never arrives leaves entries that reconciliation finds. Content already seen at
that path (a re-saved unchanged file, a file found again by the start-up walk) enqueues nothing.

The share is untrusted. Paths are recorded absolute and resolved, as text (`path_text`: a name that is not
UTF-8 keeps its bytes as `\\xNN`). An entry that leads out of the watched folder once its links are followed
(a link to /etc/passwd, a folder linking to /etc, moved in or made in place) is recorded `failed` and never read.
A file that cannot be read (no permission, locked, a dangling link, a pipe) is recorded in the ledger as
`failed` with the reason, so `nianbao files --state failed` shows it; the watcher offers it again later, and
once it can be read its content gets an entry of its own.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path

from report.document import UnreadableFile
from report.extract import OUTSIDE_ROOT, file_sha256, open_file, outside, path_text
from storage import Store

log = logging.getLogger(__name__)

Enqueue = Callable[[list[tuple[str, str]], str | None], None]  # ([(path as text, sha256), …], watched root)


class Intake:
    def __init__(self, store: Store, root: Path, enqueue: Enqueue) -> None:
        self.store = store
        self.root = os.path.realpath(root)
        self.enqueue = enqueue

    def __call__(self, paths: Sequence[Path]) -> dict[Path, str]:
        """Take a batch; returns the files that could not be read, with why (the watcher offers them again
        later). Raises when the ledger or the broker cannot be reached (the watcher offers the batch again)."""
        files: list[tuple[str, str, int | None]] = []
        failed: list[tuple[str, str, str]] = []  # (path as text, ledger key, reason)
        unreadable: dict[Path, str] = {}
        folders: dict[str, str] = {}  # folder -> resolved: a batch's files mostly share a few
        root = Path(self.root)
        for offered in paths:
            absolute = os.path.abspath(offered)
            folder, name = os.path.split(absolute)
            if folder not in folders:
                folders[folder] = os.path.realpath(folder)
            path = Path(folders[folder], name)  # as `resolved`: the folders resolved, a link kept as one
            key = path_text(path)
            try:
                sha256, size = _content(path, self.root)  # a regular file inside the folder: one open, one read
            except UnreadableFile:
                # Why not, in the order that decides what happens to it (gone, outside, a folder, unreadable).
                if not path.exists() and not path.is_symlink():
                    continue  # gone again before it could be read
                if outside(path, self.root):  # not offered again: the link is refused until it changes
                    log.warning("%s leads out of the watched folder; not read", key)
                    failed.append((key, unreadable_key(path), OUTSIDE_ROOT))
                    continue
                if path.is_dir():
                    continue  # a link to a folder of the share: its files are taken where they are
                try:
                    sha256 = file_sha256(path, root)
                except UnreadableFile as error:
                    failed.append((key, unreadable_key(path), f"无法读取：{error}"))
                    unreadable[offered] = str(error)
                    continue
                size = None  # readable after all (it changed meanwhile): the worker will say what it holds
            files.append((key, sha256, size))
        queued = self.store.ledger_take(files, failed)
        if queued:
            self.enqueue(queued, self.root)
        return unreadable


def _content(path: Path, real_root: str) -> tuple[str, int]:
    """(SHA-256, size) of a regular file inside the folder `real_root` (resolved), read once; UnreadableFile
    otherwise."""
    digest = hashlib.sha256()
    with open_file(path, real_root=real_root) as handle:
        try:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
            size = os.fstat(handle.fileno()).st_size
        except OSError as error:
            raise UnreadableFile(f"读取文件失败：{error.strerror or error}") from error
    return digest.hexdigest(), size


def unreadable_key(path: Path) -> str:
    """The ledger key of a file whose content cannot be hashed: its size and time, so one unreadable state is
    one entry however often the watcher offers it again."""
    try:
        status = path.lstat()
    except OSError:
        return "unreadable"
    return f"unreadable:{status.st_size}:{status.st_mtime_ns}"
