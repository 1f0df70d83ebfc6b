"""The watcher's `submit`: hash a settled file, record it in the ledger, enqueue it if its content is new there.

The ledger, not the queue, is the source of truth: an entry is marked `queued` before its message is
published, so a message that never arrives leaves an entry that reconciliation finds. Content already seen at
that path (a re-saved unchanged file, a file found again by the start-up walk) enqueues nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from report.extract import sha256_of
from storage import Store

Enqueue = Callable[[str, str, str | None], None]  # (path, sha256, watched root)


class Intake:
    def __init__(self, store: Store, root: Path, enqueue: Enqueue) -> None:
        self.store = store
        self.root = str(Path(root).absolute())
        self.enqueue = enqueue

    def __call__(self, path: Path) -> bool:
        """Whether the file was enqueued. Raises OSError when it cannot be read (the watcher tries again later)."""
        try:
            size = path.stat().st_size
        except FileNotFoundError:
            return False  # gone again before it could be read
        sha256 = sha256_of(path)
        if not sha256:
            raise OSError(f"cannot read {path}")
        entry = self.store.ledger_seen(str(path), sha256, size)
        if entry.state != "new":
            return False
        self.store.ledger_mark(str(path), sha256, "queued")
        self.enqueue(str(path), sha256, self.root)
        return True
