"""Watch a folder tree and hand over each file once it has stopped changing.

Two modes:

- `native` — the operating system's change notification (inotify, FSEvents, ReadDirectoryChangesW) through
  watchdog's `Observer`. Immediate and cheap; use it for local disks and for folders the watcher's own machine
  writes to.
- `polling` — watchdog's polling observer (on `lstat`), which compares snapshots of the tree every `poll_interval` seconds.
  Use it for network shares (SMB/CIFS, NFS): the kernel of the machine that mounted the share hears nothing of
  files that other machines write there, so native events never come. Also for FUSE and Docker bind mounts
  from another OS.

In both modes a file is handed to `submit(path)` only after its size and modification time stayed the same
for `stable_seconds` (a copy over the network takes seconds, and a half-copied file must not be parsed).
Created, modified, closed-after-write, moved-in and renamed-to files count; temp and lock files (`~$*`,
`*.part`, `*.tmp`, hidden files and folders, …) never do. On start the whole tree is walked and every file is
handed over (the receiver decides by content hash what it has seen before), so files dropped while the watcher
was down are not missed; `rescan_interval` repeats that walk for files whose size or time changed unseen.

The watched root is checked every `health_interval` seconds: when it vanishes, becomes unreadable or stops being
a mount point (a dropped share), the observer is stopped; when it is back, a new observer starts and the tree
is walked again.
"""

from __future__ import annotations

import fnmatch
import logging
import os
import stat
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from watchdog.events import (
    DirCreatedEvent,
    DirMovedEvent,
    FileClosedEvent,
    FileCreatedEvent,
    FileDeletedEvent,
    FileModifiedEvent,
    FileMovedEvent,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver
from watchdog.observers.polling import PollingObserverVFS

from report.extract import path_text

log = logging.getLogger(__name__)

Mode = Literal["native", "polling"]
Signature = tuple[int, int]  # (size, modification time in ns)
DEFAULT_IGNORE: tuple[str, ...] = ("~$*", "*.part", "*.tmp", ".*")
EVENTS: list[type[FileSystemEvent]] = [
    FileCreatedEvent,
    FileModifiedEvent,
    FileClosedEvent,
    FileMovedEvent,
    FileDeletedEvent,
    DirCreatedEvent,
    DirMovedEvent,
]
# After `submit` raised (file unreadable, storage or broker unreachable), the file is offered again this much
# later, doubling up to MAX_RETRY_DELAY.
RETRY_DELAY = 30.0
MAX_RETRY_DELAY = 3600.0


@dataclass
class _Pending:
    signature: Signature | None
    since: float  # monotonic time of the last change seen
    failures: int = 0  # times `submit` raised for this file in a row
    checked: float = 0.0  # monotonic time of the last look at its signature


class _Handler(FileSystemEventHandler):
    def __init__(self, watcher: Watcher) -> None:
        self.watcher = watcher

    def on_any_event(self, event: FileSystemEvent) -> None:
        path = os.fsdecode(event.dest_path if isinstance(event, FileMovedEvent | DirMovedEvent) else event.src_path)
        if isinstance(event, FileDeletedEvent):
            self.watcher.forget(Path(path))
        elif isinstance(event, DirCreatedEvent | DirMovedEvent):
            self.watcher.walk(Path(path))  # a folder moved in brings files that got no event of their own
        else:
            self.watcher.touch(Path(path))


class Watcher:
    """Watches `root` and calls `submit(path)` for each file that has stopped changing (see the module doc).

    `submit` runs on the watcher's own thread; when it raises, the file is offered again later (`retry_delay`,
    doubling up to an hour)."""

    def __init__(
        self,
        root: Path,
        submit: Callable[[Path], object],
        *,
        mode: Mode = "native",
        stable_seconds: float = 2.0,
        poll_interval: float = 5.0,
        ignore: Sequence[str] = DEFAULT_IGNORE,
        rescan_interval: float = 0.0,
        health_interval: float = 5.0,
        retry_delay: float = RETRY_DELAY,
        exclude: Sequence[Path] = (),
    ) -> None:
        self.root = Path(root).absolute()
        self.submit = submit
        self.mode: Mode = mode
        self.stable_seconds = stable_seconds
        self.poll_interval = poll_interval
        self.ignore = tuple(pattern.lower() for pattern in ignore)
        # Folders inside the tree that are never taken: nianbao's own data folder (its database, its broker).
        self.exclude = tuple(Path(folder).absolute() for folder in exclude)
        self.rescan_interval = rescan_interval
        self.health_interval = health_interval
        self.retry_delay = retry_delay
        self.tick = max(0.05, min(0.5, stable_seconds / 4))
        self.recheck = stable_seconds / 2  # a file is handed over between 1 and 1.5 stability waits after its change
        self.restarts = 0  # observers started after the first (the share dropped and came back)
        self._pending: dict[Path, _Pending] = {}
        self._known: dict[Path, Signature] = {}  # signature of each file when it was last handed over
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._observer: BaseObserver | None = None
        self._thread: threading.Thread | None = None
        self._was_mount = os.path.ismount(self.root)

    # -- lifecycle ------------------------------------------------------------------------------------------

    def start(self) -> None:
        """Start watching; the tree is walked first, so what is already there is handed over too."""
        self._stop.clear()
        if self.available():
            self._start_observer()
            self.walk(self.root)
        else:
            log.warning("watched folder %s is not reachable; waiting for it", self.root)
        self._thread = threading.Thread(target=self._run, name="nianbao-watcher", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        self._stop_observer()

    def __enter__(self) -> Watcher:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    @property
    def watching(self) -> bool:
        """Whether an observer and its emitter are running (False while the watched folder is away, and after an
        emitter stopped itself because the folder was deleted under it)."""
        observer = self._observer
        return (
            observer is not None
            and observer.is_alive()
            and bool(observer.emitters)
            and all(emitter.is_alive() for emitter in observer.emitters)
        )

    def pending(self) -> int:
        """Files seen that are still waiting to stop changing."""
        with self._lock:
            return len(self._pending)

    # -- what counts ----------------------------------------------------------------------------------------

    def ignored(self, path: Path) -> bool:
        """Whether a path is a temp, lock or hidden file, lies in a hidden folder (below the root), or lies in an
        excluded folder."""
        if any(path.is_relative_to(folder) for folder in self.exclude):
            return True
        try:
            parts = path.relative_to(self.root).parts
        except ValueError:
            parts = (path.name,)
        return any(fnmatch.fnmatchcase(part.lower(), pattern) for part in parts for pattern in self.ignore)

    def available(self) -> bool:
        """Whether the watched folder can be listed (and is still a mount point if it was one)."""
        if self._was_mount and not os.path.ismount(self.root):
            return False
        try:
            with os.scandir(self.root) as entries:
                next(entries, None)
        except OSError:
            return False
        return True

    # -- events ---------------------------------------------------------------------------------------------

    def touch(self, path: Path) -> None:
        """The file changed (or appeared): wait until it stops changing."""
        if self.ignored(path):
            return
        with self._lock:
            self._pending[path] = _Pending(None, time.monotonic())

    def forget(self, path: Path) -> None:
        with self._lock:
            self._pending.pop(path, None)
            self._known.pop(path, None)

    def walk(self, folder: Path) -> int:
        """Take every file under `folder` whose size or time differs from when it was last handed over."""
        if folder != self.root and folder.is_symlink():  # an entry of its own: the intake refuses one leading out
            self.touch(folder)
            return 1
        count = 0
        for directory, folders, files in os.walk(folder):
            base = Path(directory)
            folders[:] = [name for name in folders if not self.ignored(base / name)]
            # os.walk does not enter a linked folder; it is handed over like a file, for the intake to judge
            for name in [*files, *(name for name in folders if (base / name).is_symlink())]:
                path = base / name
                if self.ignored(path):
                    continue
                signature = _signature(path)
                with self._lock:
                    if signature is None or (self._known.get(path) == signature and path not in self._pending):
                        continue
                    self._pending.setdefault(path, _Pending(None, time.monotonic()))
                count += 1
        return count

    # -- the watcher's thread -------------------------------------------------------------------------------

    def _run(self) -> None:
        last_health = last_scan = time.monotonic()
        while not self._stop.wait(self.tick):
            now = time.monotonic()
            if now - last_health >= self.health_interval:
                last_health = now
                self._check_health()
            if self.rescan_interval and now - last_scan >= self.rescan_interval and self.watching:
                last_scan = now
                self.walk(self.root)
            for path, state in self._settled(now):
                self._hand_over(path, state)

    def _settled(self, now: float) -> list[tuple[Path, _Pending]]:
        """Files whose signature has not changed for `stable_seconds`, removed from the pending set."""
        with self._lock:
            candidates = list(self._pending.items())
        ready: list[tuple[Path, _Pending]] = []
        for path, state in candidates:
            if now < state.since or (state.signature is not None and now - state.checked < self.recheck):
                continue  # waiting to be offered again, or looked at a moment ago (10,000 files are pending)
            state.checked = now
            signature = _signature(path)
            with self._lock:
                if self._pending.get(path) is not state:
                    continue  # touched again meanwhile
                if signature is None:
                    if not path.exists():
                        del self._pending[path]  # gone (deleted, or renamed: the rename has its own event)
                    continue
                if signature != state.signature:
                    state.signature, state.since = signature, max(now, state.since)
                    continue
                if now - state.since < self.stable_seconds:
                    continue
                del self._pending[path]
                if self._known.get(path) == signature:
                    continue  # nothing changed since it was handed over (an event without a write)
            ready.append((path, state))
        return ready

    def _hand_over(self, path: Path, state: _Pending) -> None:
        assert state.signature is not None
        try:
            self.submit(path)
        except Exception as error:
            delay = min(self.retry_delay * 2**state.failures, MAX_RETRY_DELAY)
            shown = path_text(path)  # a name that is not UTF-8 logged escaped, whatever the log's encoding
            log.warning("could not take %s (%s: %s); trying again in %.0f s", shown, type(error).__name__, error, delay)
            with self._lock:
                self._pending.setdefault(path, _Pending(state.signature, time.monotonic() + delay, state.failures + 1))
            return
        with self._lock:
            self._known[path] = state.signature

    def _check_health(self) -> None:
        available = self.available()
        if not available and self._observer is not None:
            log.warning("watched folder %s dropped away; waiting for it to come back", self.root)
            self._stop_observer()
        elif available and not self.watching:
            if self._observer is not None:
                log.warning("the observer of %s stopped; starting a new one", self.root)
                self._stop_observer()
            else:
                log.warning("watched folder %s is back; walking it again", self.root)
            self.restarts += 1
            self._start_observer()
            self.walk(self.root)

    def _start_observer(self) -> None:
        # Polling compares lstat snapshots: a linked folder is one entry, never walked into (it may lead out).
        observer: BaseObserver = (
            PollingObserverVFS(os.lstat, os.scandir, polling_interval=self.poll_interval)
            if self.mode == "polling"
            else Observer()
        )
        observer.schedule(_Handler(self), str(self.root), recursive=True, event_filter=EVENTS)
        observer.start()
        self._observer = observer

    def _stop_observer(self) -> None:
        observer, self._observer = self._observer, None
        if observer is not None:
            observer.stop()
            if observer.is_alive():
                observer.join(timeout=10)


def _signature(path: Path) -> Signature | None:
    """(size, mtime) of a file; None for a folder or a path that is gone. A symbolic link (to a file or a folder,
    or dangling), a pipe or a device has one too, of its own: it is handed over like a file, and the intake
    records why it cannot be read."""
    try:
        status = path.lstat()
    except OSError:
        return None
    return None if stat.S_ISDIR(status.st_mode) else (status.st_size, status.st_mtime_ns)
