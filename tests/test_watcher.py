"""The folder watcher: stability wait, ignored names, start-up walk, renames and moves, a dropped share, and the
ledger-backed intake that decides by content hash what is new."""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from storage import Store
from tests.services import wait_for
from watcher.intake import Intake
from watcher.watch import Watcher

STABLE = 0.5
MODES = ("native", "polling")


class Submitted:
    """A `submit` callback that records each path with its size and the time it was handed over, and the size
    of each batch."""

    def __init__(self) -> None:
        self.calls: list[tuple[Path, int, float]] = []
        self.batches: list[int] = []
        self.lock = threading.Lock()

    def __call__(self, paths: list[Path]) -> None:
        with self.lock:
            self.batches.append(len(paths))
            self.calls += [(path, path.stat().st_size, time.monotonic()) for path in paths]

    def paths(self) -> list[Path]:
        with self.lock:
            return [path for path, _, _ in self.calls]

    def names(self) -> set[str]:
        return {path.name for path in self.paths()}


@pytest.fixture
def share(tmp_path: Path) -> Path:
    folder = tmp_path / "share"
    folder.mkdir()
    return folder


@pytest.fixture(params=MODES)
def watched(request: pytest.FixtureRequest, share: Path) -> Iterator[tuple[Watcher, Submitted]]:
    submitted = Submitted()
    watcher = Watcher(share, submitted, mode=request.param, stable_seconds=STABLE, poll_interval=0.2)
    with watcher:
        yield watcher, submitted


def test_a_file_written_in_chunks_is_handed_over_once_complete(watched: tuple[Watcher, Submitted], share: Path) -> None:
    watcher, submitted = watched
    target = share / "2023年度报告.txt"
    chunks = [f"第{n}段内容\n".encode() * 200 for n in range(6)]
    with open(target, "wb") as handle:
        for number, chunk in enumerate(chunks):
            if number:
                time.sleep(STABLE * 0.4)  # pauses shorter than the stability wait: still "being copied"
            handle.write(chunk)
            handle.flush()
            finished = time.monotonic()
    wait_for(submitted.paths, 10, "the file to be handed over")
    time.sleep(STABLE * 2)  # room for a wrong second hand-over to show up
    assert len(submitted.calls) == 1
    path, size, at = submitted.calls[0]
    assert path == target and size == sum(map(len, chunks))
    assert at - finished >= STABLE * 0.9
    assert watcher.pending() == 0


def test_temp_lock_and_hidden_files_are_ignored(watched: tuple[Watcher, Submitted], share: Path) -> None:
    watcher, submitted = watched
    (share / ".git").mkdir()
    for name in ("~$2023年报.docx", "下载中.pdf.part", "a.tmp", "B.TMP", ".hidden.txt", ".git/config.txt"):
        (share / name).write_text("x")
    (share / "real.txt").write_text("report")
    wait_for(lambda: "real.txt" in submitted.names(), 10, "real.txt")
    assert submitted.names() == {"real.txt"}
    assert watcher.ignored(share / "x" / "~$a.docx") and watcher.ignored(share / ".sync" / "a.txt")
    assert not watcher.ignored(share / "房县" / "白鹤镇" / "2023.pdf")


def test_nianbaos_own_data_folder_inside_the_share_is_never_taken(share: Path) -> None:
    data = share / "nianbao-data"
    data.mkdir()
    (data / "nianbao.db").write_bytes(b"SQLite format 3\x00")
    submitted = Submitted()
    with Watcher(share, submitted, stable_seconds=0.2, exclude=[data]):
        (data / "nianbao.db-wal").write_bytes(b"changes")
        (share / "a.txt").write_text("a")
        wait_for(lambda: "a.txt" in submitted.names(), 10, "a.txt")
    assert submitted.names() == {"a.txt"}


def test_files_present_at_start_are_handed_over(share: Path) -> None:
    (share / "房县").mkdir()
    (share / "房县" / "a.txt").write_text("a")
    (share / "b.txt").write_text("b")
    submitted = Submitted()
    with Watcher(share, submitted, stable_seconds=STABLE):
        wait_for(lambda: len(submitted.calls) == 2, 10, "both files")
    assert submitted.names() == {"a.txt", "b.txt"}


def test_rename_into_place_and_moves_into_the_tree(
    watched: tuple[Watcher, Submitted], share: Path, tmp_path: Path
) -> None:
    _, submitted = watched
    temporary = share / "报告.docx.tmp"
    temporary.write_text("saved by an editor under a temporary name")
    temporary.rename(share / "报告.docx")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "moved.txt").write_text("moved in")
    os.rename(outside / "moved.txt", share / "moved.txt")
    folder = tmp_path / "白鹤镇"
    folder.mkdir()
    (folder / "2022.txt").write_text("2022")
    (folder / "2023.txt").write_text("2023")
    os.rename(folder, share / "白鹤镇")
    wanted = {"报告.docx", "moved.txt", "2022.txt", "2023.txt"}
    wait_for(lambda: submitted.names() >= wanted, 10, "renamed and moved files")
    assert submitted.names() == wanted
    assert len(submitted.calls) == 4


def test_a_failing_submit_is_retried(share: Path) -> None:
    attempts: list[Path] = []

    def flaky(paths: list[Path]) -> None:
        attempts.extend(paths)
        if len(attempts) == 1:
            raise ConnectionError("database unreachable")

    with Watcher(share, flaky, stable_seconds=0.2, retry_delay=0.3):
        (share / "a.txt").write_text("a")
        wait_for(lambda: len(attempts) == 2, 10, "the second attempt")
    assert attempts == [share / "a.txt", share / "a.txt"]


def test_files_not_taken_are_offered_again_alone(share: Path) -> None:
    offered: list[list[str]] = []

    def refuses_b_once(paths: list[Path]) -> dict[Path, str]:
        offered.append(sorted(path.name for path in paths))
        return {path: "locked by another program" for path in paths if path.name == "b.txt" and len(offered) == 1}

    for name in ("a.txt", "b.txt", "c.txt"):
        (share / name).write_text(name)
    with Watcher(share, refuses_b_once, stable_seconds=0.2, retry_delay=0.3):
        wait_for(lambda: len(offered) == 2, 10, "b.txt offered again")
        time.sleep(0.5)  # room for a wrong third offer
    assert offered == [["a.txt", "b.txt", "c.txt"], ["b.txt"]]


def test_a_burst_is_handed_over_in_batches_and_a_lone_file_at_once(share: Path, tmp_path: Path) -> None:
    submitted = Submitted()
    staging = tmp_path / "staging"
    staging.mkdir()
    with Watcher(share, submitted, stable_seconds=0.2, batch_size=10, batch_wait=3.0):
        for index in range(45):
            (staging / f"{index:02d}.txt").write_text(str(index))
            os.rename(staging / f"{index:02d}.txt", share / f"{index:02d}.txt")
        wait_for(lambda: len(submitted.calls) == 45, 20, "45 files")
        assert max(submitted.batches) == 10 and len(submitted.batches) <= 9  # 45 files in batches of at most 10
        (share / "alone.txt").write_text("alone")
        written = time.monotonic()
        wait_for(lambda: "alone.txt" in submitted.names(), 10, "the lone file")
    # Nothing else was settling: its batch closed at once, without the 3 s batch wait.
    assert submitted.calls[-1][2] - written < 2.0
    assert len(submitted.calls) == len(set(submitted.paths())) == 46


@pytest.mark.parametrize("mode", MODES)
def test_a_dropped_share_is_noticed_and_watched_again(mode: str, share: Path, tmp_path: Path) -> None:
    submitted = Submitted()
    watcher = Watcher(share, submitted, mode=mode, stable_seconds=0.2, poll_interval=0.2, health_interval=0.2)  # type: ignore[arg-type]
    with watcher:
        (share / "before.txt").write_text("before")
        wait_for(lambda: "before.txt" in submitted.names(), 10, "before.txt")
        away = tmp_path / "away"
        share.rename(away)  # the share drops away
        wait_for(lambda: not watcher.watching, 10, "the watcher to notice the share is gone")
        (away / "while-away.txt").write_text("written on the server while this machine lost the share")
        away.rename(share)  # and comes back
        wait_for(lambda: watcher.watching, 10, "the watcher to watch again")
        (share / "after.txt").write_text("after")
        wait_for(lambda: {"while-away.txt", "after.txt"} <= submitted.names(), 10, "files after the return")
    assert watcher.restarts == 1
    assert sorted(submitted.names()) == ["after.txt", "before.txt", "while-away.txt"]


# -- the intake: hash, ledger, enqueue --------------------------------------------------------------------------


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[Store]:
    opened = Store.open(f"sqlite:///{tmp_path / 'nianbao.db'}")
    yield opened
    opened.dispose()


class Enqueued:
    def __init__(self) -> None:
        self.items: list[tuple[str, str, str | None]] = []
        self.batches = 0

    def __call__(self, items: list[tuple[str, str]], root: str | None) -> None:
        self.batches += 1
        self.items += [(path, sha256, root) for path, sha256 in items]

    def names(self) -> list[str]:
        return sorted(Path(path).name for path, _, _ in self.items)


def test_intake_enqueues_new_content_once(sqlite_store: Store, share: Path) -> None:
    enqueued = Enqueued()
    intake = Intake(sqlite_store, share, enqueued)
    report, other = share / "a.txt", share / "b.txt"
    report.write_text("2023 年度报告")
    other.write_text("2022 年度报告")
    assert intake([report, other]) == {}
    assert enqueued.batches == 1 and enqueued.names() == ["a.txt", "b.txt"]  # one batch, one task
    path, sha256, root = enqueued.items[0]
    assert (path, root) == (str(report), str(share))
    assert sqlite_store.ledger_entry(path).state == "queued"  # type: ignore[union-attr]
    report.write_text("2023 年度报告")  # saved again, same bytes
    intake([report])
    assert enqueued.batches == 1  # nothing new: no task
    report.write_text("2023 年度报告（修订）")
    intake([report, other])
    assert enqueued.batches == 2 and len(enqueued.items) == 3 and enqueued.items[2][1] != sha256
    report.unlink()
    intake([report])  # gone before it was read
    assert enqueued.batches == 2


def test_start_up_walk_enqueues_only_what_is_new_or_changed(sqlite_store: Store, share: Path) -> None:
    for name in ("a.txt", "b.txt", "c.txt"):
        (share / name).write_text(name)
    enqueued = Enqueued()
    with Watcher(share, Intake(sqlite_store, share, enqueued), stable_seconds=0.2):
        wait_for(lambda: len(enqueued.items) == 3, 10, "three files")
    for path, sha256, _ in enqueued.items:
        sqlite_store.ledger_mark(path, sha256, "stored")  # what the worker does
    # While the watcher is down: one file changes, one is added, one is copied in with known content.
    (share / "b.txt").write_text("b, revised")
    (share / "d.txt").write_text("d")
    shutil.copy(share / "c.txt", share / "c-copy.txt")
    (share / "a.txt").touch()  # re-saved unchanged
    later = Enqueued()
    with Watcher(share, Intake(sqlite_store, share, later), stable_seconds=0.2) as watcher:
        wait_for(lambda: len(later.items) >= 3 and watcher.pending() == 0, 10, "the start-up walk")
    assert later.names() == ["b.txt", "c-copy.txt", "d.txt"]


def test_unreadable_files_are_recorded_as_failed_with_their_reason(sqlite_store: Store, share: Path) -> None:
    """A dangling link and a named pipe cannot be read: each gets a failed ledger entry saying why (the pipe is
    never opened, which would block), the readable file beside them is enqueued, and a link whose target
    appears later is taken then."""
    (share / "good.txt").write_text("2023 年度报告")
    (share / "dangling.txt").symlink_to(share / "missing.txt")
    os.mkfifo(share / "pipe.txt")
    enqueued = Enqueued()
    with Watcher(share, Intake(sqlite_store, share, enqueued), stable_seconds=0.2, retry_delay=0.5):
        # The ledger records the failures and the queued file together, and the batch is enqueued after that
        # commit: wait for both.
        wait_for(
            lambda: len(sqlite_store.ledger_files("failed")) == 2 and enqueued.names() != [],
            10,
            "two failed entries and the readable file enqueued",
        )
        assert enqueued.names() == ["good.txt"]
        reasons = {Path(entry.path).name: entry.error for entry in sqlite_store.ledger_files("failed")}
        assert "失效的符号链接" in reasons["dangling.txt"]  # type: ignore[operator]
        assert "不是普通文件" in reasons["pipe.txt"]  # type: ignore[operator]
        (share / "missing.txt").write_text("2023 年度报告（补）")  # the link now resolves
        wait_for(lambda: "dangling.txt" in enqueued.names(), 10, "the link taken once readable")
    assert sqlite_store.ledger_entry(str(share / "dangling.txt")).state == "queued"  # type: ignore[union-attr]
    assert sorted(Path(entry.path).name for entry in sqlite_store.ledger_files("failed")) == ["pipe.txt"]


@pytest.mark.parametrize("mode", MODES)
def test_links_out_of_the_share_are_failed_never_read(
    mode: str, sqlite_store: Store, share: Path, tmp_path: Path
) -> None:
    """Links to a file or a folder outside the share — there at the start, made in place, or inside a folder
    moved in — each get one failed entry and are never read; the files of a linked folder are never walked."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "passwd").write_text("root:x:0:0")
    (share / "early.txt").symlink_to(outside / "passwd")
    (share / "etc").symlink_to(outside)
    enqueued = Enqueued()
    intake = Intake(sqlite_store, share, enqueued)
    with Watcher(share, intake, mode=mode, stable_seconds=0.2, poll_interval=0.2, retry_delay=0.5):
        (share / "good.txt").write_text("2023 年度报告")
        (share / "late.txt").symlink_to(outside / "passwd")
        moved = tmp_path / "batch"
        moved.mkdir()
        (moved / "etc").symlink_to(outside)
        (moved / "inner.txt").symlink_to(outside / "passwd")
        os.rename(moved, share / "batch2")
        wait_for(lambda: len(sqlite_store.ledger_files("failed")) == 5 and enqueued.items, 20, "five links refused")
        time.sleep(1)  # what a polling pass into the linked folders would have brought
    refused = {entry.path: entry.error for entry in sqlite_store.ledger_files()}
    expected = {str(share / name) for name in ("early.txt", "etc", "late.txt", "batch2/etc", "batch2/inner.txt")}
    assert {path for path, error in refused.items() if error} == expected
    assert set(refused.values()) == {"符号链接指向共享目录之外，出于安全不予读取", None}
    assert enqueued.names() == ["good.txt"] and len(refused) == 6


def test_intake_records_resolved_paths_and_names_of_any_bytes(sqlite_store: Store, share: Path) -> None:
    enqueued = Enqueued()
    odd = Path(os.fsdecode(bytes(share) + b"/bad\xff\xfename.txt"))
    odd.write_text("2023 年度报告")
    (share / "sub").mkdir()
    assert Intake(sqlite_store, share / "sub" / "..", enqueued)([share / "sub" / ".." / odd.name]) == {}
    ((path, _, root),) = enqueued.items
    assert path == f"{share}/bad\\xff\\xfename.txt" and root == str(share)
    assert sqlite_store.ledger_entry(path).state == "queued"  # type: ignore[union-attr]
