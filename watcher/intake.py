"""The watcher's `submit`: hash a settled file, record it in the ledger, enqueue it if its content is new there.

The ledger, not the queue, is the source of truth: an entry is marked `queued` before its message is
published, so a message that never arrives leaves an entry that reconciliation finds. Content already seen at
that path (a re-saved unchanged file, a file found again by the start-up walk) enqueues nothing.

The share is untrusted. Paths are recorded absolute and resolved, as text (`path_text`: a name that is not
UTF-8 keeps its bytes as `\\xNN`). An entry that leads out of the watched folder once its links are followed
(a link to /etc/passwd, a folder linking to /etc, moved in or made in place) is recorded `failed` and never read.
A file that cannot be read (no permission, locked, a dangling link, a pipe) is recorded in the ledger as
`failed` with the reason, so `nianbao files --state failed` shows it; the watcher offers it again later, and
once it can be read its content gets an entry of its own.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path

from report.document import UnreadableFile
from report.extract import OUTSIDE_ROOT, file_sha256, outside, path_text, resolved
from storage import Store

log = logging.getLogger(__name__)

Enqueue = Callable[[str, str, str | None], None]  # (path as text, sha256, watched root)


class Intake:
    def __init__(self, store: Store, root: Path, enqueue: Enqueue) -> None:
        self.store = store
        self.root = os.path.realpath(root)
        self.enqueue = enqueue

    def __call__(self, path: Path) -> bool:
        """Whether the file was enqueued. Raises OSError when it cannot be read (the watcher tries again later)."""
        path = resolved(path)
        key = path_text(path)
        if not path.exists() and not path.is_symlink():
            return False  # gone again before it could be read
        if outside(path, self.root):  # not offered again: the link is refused until it changes
            log.warning("%s leads out of the watched folder; not read", key)
            self.store.ledger_mark(key, unreadable_key(path), "failed", error=OUTSIDE_ROOT)
            return False
        if path.is_dir():
            return False  # a link to a folder of the share: its files are taken where they are
        try:
            sha256 = file_sha256(path, Path(self.root))
        except UnreadableFile as error:
            self.store.ledger_mark(key, unreadable_key(path), "failed", error=f"无法读取：{error}")
            raise OSError(f"cannot read {key}: {error}") from error
        try:
            size: int | None = path.stat().st_size
        except OSError:
            size = None  # removed right after it was read: the worker will say so
        entry = self.store.ledger_seen(key, sha256, size)
        if entry.state != "new":
            return False
        self.store.ledger_mark(key, sha256, "queued")
        self.enqueue(key, sha256, self.root)
        return True


def unreadable_key(path: Path) -> str:
    """The ledger key of a file whose content cannot be hashed: its size and time, so one unreadable state is
    one entry however often the watcher offers it again."""
    try:
        status = path.lstat()
    except OSError:
        return "unreadable"
    return f"unreadable:{status.st_size}:{status.st_mtime_ns}"
