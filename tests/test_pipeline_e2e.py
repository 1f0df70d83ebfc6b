"""End to end: real processes (`nianbao watch`, `celery -A worker worker`, `nianbao run`), a real Redis, a real
SQLite database and a local HTTP receiver of the Apprise `json://` alerts. Every wait polls with a timeout."""

from __future__ import annotations

import json
import math
import os
import random
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import Session, select

from report.extract import path_text, sha256_of
from storage import LedgerEntry, Store
from storage.tables import FindingRecord, LedgerRecord, OutboxRecord, VersionRecord
from tests import generator
from tests.seed_samples import content, seed_paths
from tests.services import Receiver, RedisServer, wait_for

ROOT = Path(__file__).resolve().parents[1]
SEEDS = seed_paths()
BIN = Path(sys.executable).parent
STARTUP = 60  # seconds a fresh worker may take to import everything and take its first task on a busy machine
WORKER_STOP = 30  # seconds a process may take to stop when terminated at the end of a test


class Pipeline:
    """The processes of one pipeline over a watched folder and a SQLite database in a temporary folder."""

    def __init__(self, tmp: Path, receiver: Receiver, broker_url: str | None) -> None:
        self.share = tmp / "share"
        self.share.mkdir()
        self.logs = tmp / "logs"
        self.logs.mkdir()
        self.env = {
            **os.environ,
            "NIANBAO_CONFIG": str(tmp / "none.toml"),
            "NIANBAO_DATA_DIR": str(tmp / "data"),
            "NIANBAO_NOTIFY_URLS": json.dumps([receiver.url]),
            "NIANBAO_WATCH_STABLE_SECONDS": "0.5",
            "NIANBAO_RECONCILE_INTERVAL": "1",
            "NIANBAO_RECONCILE_AFTER": "4",
            "NIANBAO_NOTIFY_GROUP_INTERVAL": "1",
            "NIANBAO_OUTBOX_FIRST_BACKOFF": "1",  # a refused alert is due again after a second, not 30
        }
        self.env.pop("NIANBAO_BROKER_URL", None)
        if broker_url:
            self.env["NIANBAO_BROKER_URL"] = broker_url
        self.receiver = receiver
        self.store = Store.open(f"sqlite:///{tmp / 'data' / 'nianbao.db'}")
        self.processes: list[subprocess.Popen[bytes]] = []

    def start(self, *argv: str, name: str) -> subprocess.Popen[bytes]:
        with open(self.logs / f"{name}.log", "ab") as log:
            process = subprocess.Popen(list(argv), env=self.env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        self.processes.append(process)
        return process

    def watcher(self) -> subprocess.Popen[bytes]:
        return self.start(str(BIN / "nianbao"), "watch", str(self.share), name="watch")

    def worker(self, pool: str = "prefork", concurrency: int = 2) -> subprocess.Popen[bytes]:
        argv = [str(BIN / "celery"), "-A", "worker", "worker", "--pool", pool, "-c", str(concurrency)]
        return self.start(*argv, "--loglevel", "INFO", name="worker")

    @staticmethod
    def stop(process: subprocess.Popen[bytes], signum: int = signal.SIGTERM, timeout: float = 60) -> int:
        if process.poll() is None:
            process.send_signal(signum)
        return process.wait(timeout)

    def close(self) -> None:
        """Stop what still runs: terminated first, so `nianbao run` stops its worker (killed, it would leave the
        worker running on its own), killed when it does not stop."""
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(WORKER_STOP)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.store.dispose()

    # -- dropping files -------------------------------------------------------------------------------------

    def drop(self, data: bytes | Path, name: str) -> str:
        """Copy a file into the watched folder the way a network copy does: written beside it, renamed in."""
        content = data.read_bytes() if isinstance(data, Path) else data
        staging = self.share.parent / "staging"
        staging.mkdir(exist_ok=True)
        (staging / name).write_bytes(content)
        os.rename(staging / name, self.share / name)
        return str(self.share / name)

    # -- what storage says ----------------------------------------------------------------------------------

    def entry(self, path: str) -> LedgerEntry | None:
        return self.store.ledger_entry(path)

    def stored(self, paths: list[str], timeout: float = STARTUP) -> list[LedgerEntry]:
        def done() -> list[LedgerEntry] | None:
            entries = [self.entry(path) for path in paths]
            return entries if all(e is not None and e.state == "stored" for e in entries) else None  # type: ignore[return-value]

        return wait_for(done, timeout, f"{len(paths)} file(s) stored", interval=0.2)

    def rows(self, record: type) -> list:
        with Session(self.store.engine) as session:
            return list(session.exec(select(record).order_by(record.id)))  # type: ignore[attr-defined]

    def quiet(self, timeout: float = 30) -> list[dict]:
        """Wait until every outbox item was delivered and the receiver got each exactly once (a message alone or
        in a digest, named by the message's `items`); the messages."""

        def delivered() -> list[dict] | None:
            items = self.rows(OutboxRecord)
            messages = self.receiver.messages()
            carried = sorted(item_id for message in messages for item_id in message["items"])
            if all(item.state == "sent" for item in items) and carried == sorted(item.id for item in items):
                return messages
            return None

        return wait_for(delivered, timeout, "every alert delivered", interval=0.2)

    def versions_with_new_findings(self) -> set[int]:
        return {row.first_version_id for row in self.rows(FindingRecord)}


@pytest.fixture
def redis_pipeline(tmp_path: Path, redis_url: str, receiver: Receiver) -> Iterator[Pipeline]:
    pipeline = Pipeline(tmp_path, receiver, redis_url)
    yield pipeline
    pipeline.close()


def test_seeds_are_stored_and_each_new_finding_alerted_once(redis_pipeline: Pipeline) -> None:
    pipeline = redis_pipeline
    pipeline.worker()
    pipeline.watcher()
    paths = [pipeline.drop(seed, seed.name) for seed in SEEDS]
    entries = pipeline.stored(paths)
    messages = pipeline.quiet()
    versions = {row.id: row for row in pipeline.rows(VersionRecord)}
    assert len(versions) == 5 and {entry.version_id for entry in entries} == set(versions)
    alerted = pipeline.versions_with_new_findings()
    items = pipeline.rows(OutboxRecord)
    assert len(alerted) == 4 and sorted(item.version_id for item in items) == sorted(alerted)  # 2024 孟津区: none
    assert len(messages) <= 4  # alone, or grouped into digests
    carrying = {item_id: message for message in messages for item_id in message["items"]}
    findings = pipeline.rows(FindingRecord)
    for item in items:
        version = versions[item.version_id]
        assert f"文件：{version.source_path}\n" in item.body
        own = [row for row in findings if row.first_version_id == version.id]
        assert f"新发现 {len(own)} 项问题" in item.title
        for row in own:
            assert f"{row.location}：{row.message}" in item.body
        message = carrying[item.id]  # the item's own alert, or a digest line naming it
        assert (
            message["message"] == item.body
            if len(message["items"]) == 1
            else item.title.removeprefix("【年报合规】") in message["message"]
        )
    assert "机关：白鹤镇人民政府（房县）" in "".join(item.body for item in items)

    # The same bytes again, under a new name and re-saved in place: stored as the same versions, no alert.
    again = pipeline.drop(SEEDS[2], "again.txt")
    Path(paths[3]).write_bytes(SEEDS[3].read_bytes())
    # A new version of the 2024 report with a planted error: one alert, for that finding only.
    original = SEEDS[4].read_bytes()
    planted = content("004", lambda truth: truth.active["regulations"].update(issued=2, in_force=2))
    revised = pipeline.drop(planted, "004-修订.txt")
    again_entry, _ = pipeline.stored([again, revised])
    assert again_entry.version_id == entries[2].version_id
    before = len(messages)
    messages = pipeline.quiet()
    assert len(messages) == before + 1 and "新发现" in messages[-1]["title"] and "规章" in messages[-1]["message"]
    # The error fixed in a third version: a short 已更正 note, nothing else.
    pipeline.stored([pipeline.drop(original + b"\n", "004-再修订.txt")])
    messages = pipeline.quiet()
    assert len(messages) == before + 2 and messages[-1]["title"].startswith("【已更正】")
    assert len(pipeline.rows(VersionRecord)) == 7


def test_a_file_written_slowly_in_chunks_is_processed_once_and_complete(redis_pipeline: Pipeline) -> None:
    pipeline = redis_pipeline
    # Not about reconciliation: a worker slow to start on a loaded machine must not get the file enqueued twice.
    pipeline.env["NIANBAO_RECONCILE_AFTER"] = "600"
    pipeline.worker()
    pipeline.watcher()
    data = SEEDS[2].read_bytes()
    target = pipeline.share / "slow.txt"
    with open(target, "wb") as handle:
        for start in range(0, len(data), len(data) // 8 + 1):
            handle.write(data[start : start + len(data) // 8 + 1])
            handle.flush()
            time.sleep(0.25)  # a slow network copy: shorter pauses than the 0.5 s stability wait
    (entry,) = pipeline.stored([str(target)])
    assert entry.sha256 == sha256_of(SEEDS[2]) and entry.attempts == 1
    assert [row.sha256 for row in pipeline.rows(LedgerRecord)] == [entry.sha256]  # no partial content was seen
    (version,) = pipeline.rows(VersionRecord)
    assert version.sha256 == entry.sha256 and version.contract["year"] == 2023


def test_files_dropped_while_the_watcher_was_stopped_are_processed_when_it_starts(redis_pipeline: Pipeline) -> None:
    pipeline = redis_pipeline
    pipeline.worker()
    watcher = pipeline.watcher()
    first = pipeline.drop(SEEDS[0], "a.txt")
    pipeline.stored([first])
    assert pipeline.stop(watcher) == 0
    later = [pipeline.drop(SEEDS[3], "b.txt"), pipeline.drop(SEEDS[4], "c.txt")]
    Path(first).write_bytes(SEEDS[0].read_bytes() + "\n（更正版）\n".encode())  # changed while nobody watched
    pipeline.watcher()
    pipeline.stored([*later, first])
    assert len(pipeline.rows(VersionRecord)) == 4
    assert sorted(Path(row.path).name for row in pipeline.rows(LedgerRecord)) == ["a.txt", "a.txt", "b.txt", "c.txt"]


def test_kill_9_of_a_worker_mid_task_leaves_every_report_stored_exactly_once(redis_pipeline: Pipeline) -> None:
    pipeline = redis_pipeline
    # The killed worker's claim is taken for lost once it is older than the task time limit (a task still running
    # is never enqueued again): 30 s here, not 10 minutes. The solo pool enforces no limit; only reconciliation reads it.
    pipeline.env["NIANBAO_TASK_TIME_LIMIT"] = "30"
    worker = pipeline.worker(pool="solo")
    # Until the kill nothing is enqueued twice, however long the big file waits behind the others on a loaded
    # machine: a second message reaching the restarted worker within 30 s of the killed claim would be taken for a
    # duplicate delivery (processed, no attempt spent), and what this test counts would depend on timing.
    pipeline.env["NIANBAO_RECONCILE_AFTER"] = "600"
    watcher = pipeline.watcher()
    pipeline.env["NIANBAO_RECONCILE_AFTER"] = "4"
    rng = random.Random(5)
    paths: list[str] = []
    reports = set()  # 30 reports of different bodies or years: none is another's revision
    while len(paths) < 30:
        truth, _ = generator.plant(generator.make_truth(rng), "fees.statement_missing", rng)
        if (truth.name, truth.region, truth.year) in reports:
            continue
        reports.add((truth.name, truth.region, truth.year))
        paths.append(pipeline.drop(generator.render("spaces", truth, rng), f"generated-{len(paths):02d}.txt"))
    # One big file keeps the worker busy for a second or two: the kill lands in the middle of its task.
    padding = "本机关在政府信息公开工作中还存在一些问题，将在下一年度加以改进。\n" * 30000
    heavy = pipeline.drop(SEEDS[2].read_bytes() + padding.encode(), "heavy.txt")
    paths.append(heavy)
    wait_for(lambda: (e := pipeline.entry(heavy)) is not None and e.state == "processing", STARTUP, "the big file")
    worker.send_signal(signal.SIGKILL)
    worker.wait(10)
    entry = pipeline.entry(heavy)
    assert entry is not None and (entry.state, entry.attempts) == ("processing", 1)  # killed mid-task
    assert Pipeline.stop(watcher) == 0
    pipeline.watcher()  # reconciles every second: the killed claim is enqueued again once it is 30 s old
    pipeline.worker(pool="solo")
    entries = pipeline.stored(paths, timeout=STARTUP * 2)
    assert pipeline.entry(heavy).attempts == 2  # type: ignore[union-attr]  # processed again: one more attempt
    versions = pipeline.rows(VersionRecord)
    assert len(versions) == len(paths) == len({v.sha256 for v in versions})
    assert {entry.version_id for entry in entries} == {v.id for v in versions}
    items = pipeline.rows(OutboxRecord)
    assert sorted(item.version_id for item in items) == sorted(pipeline.versions_with_new_findings())
    pipeline.quiet()  # each item delivered exactly once
    # 31 alerts to one target, grouped: messages at least the group interval (1 s here) apart, each listing its
    # reports (0.9 s: the receiver's clock sees each request's own network delay).
    times = [delivery.at for delivery in pipeline.receiver.accepted]
    assert len(times) <= math.ceil((times[-1] - times[0]) / 0.9) + 1


def test_messages_lost_by_a_restarted_redis_are_enqueued_again_and_stored_once(
    tmp_path: Path, redis_server: RedisServer, receiver: Receiver
) -> None:
    """Redis killed with the messages still queued and started again empty: the ledger still says `queued`, so
    reconciliation (after 4 s here) enqueues them again on the new server; each report is stored once."""
    pipeline = Pipeline(tmp_path, receiver, redis_server.url)
    try:
        pipeline.watcher()  # no worker yet: the messages wait in Redis
        paths = [pipeline.drop(seed, seed.name) for seed in SEEDS[2:]]

        def queued() -> bool:
            return all((e := pipeline.entry(path)) is not None and e.state == "queued" for path in paths)

        wait_for(queued, STARTUP, "three files queued")
        redis_server.kill()  # no persistence: the queued messages are gone
        redis_server.start()
        pipeline.worker()
        entries = pipeline.stored(paths, timeout=STARTUP * 2)
        assert [entry.attempts for entry in entries] == [1, 1, 1]  # processed once each, after the restart
        versions = pipeline.rows(VersionRecord)
        assert sorted(v.id for v in versions) == sorted(entry.version_id for entry in entries)  # type: ignore[type-var]
        assert len(pipeline.rows(LedgerRecord)) == 3
        items = pipeline.rows(OutboxRecord)
        assert sorted(item.version_id for item in items) == sorted(pipeline.versions_with_new_findings())
        pipeline.quiet()  # each item delivered exactly once
    finally:
        pipeline.close()
    assert "enqueued again" in (pipeline.logs / "watch.log").read_text(encoding="utf-8", errors="replace")


def test_alerts_wait_in_the_outbox_while_the_notifier_is_down(redis_pipeline: Pipeline) -> None:
    pipeline = redis_pipeline
    pipeline.receiver.status = 500  # the chat server is down
    pipeline.worker()
    pipeline.watcher()
    pipeline.stored([pipeline.drop(SEEDS[2], "a.txt"), pipeline.drop(SEEDS[3], "b.txt")])

    def failed() -> bool:
        items = pipeline.rows(OutboxRecord)
        return len(items) == 2 and any(item.state == "failed" and item.attempts >= 1 for item in items)

    wait_for(failed, 30, "a delivery to fail")  # the items that came meanwhile wait behind the refused message
    assert pipeline.receiver.refused >= 1 and pipeline.receiver.messages() == []
    pipeline.receiver.status = 200  # back up: delivered at the next attempt (first backoff 1 s here)
    messages = pipeline.quiet(timeout=60)
    assert 1 <= len(messages) <= 2
    for item in pipeline.rows(OutboxRecord):
        attempts = pipeline.store.notifications(item.id)
        assert [sent for _, sent, _ in attempts] == [False] * (len(attempts) - 1) + [True]


def test_the_embedded_default_runs_without_redis(tmp_path: Path, receiver: Receiver) -> None:
    pipeline = Pipeline(tmp_path, receiver, broker_url=None)
    try:
        run = pipeline.start(str(BIN / "nianbao"), "run", "--watch", str(pipeline.share), "-c", "1", name="run")
        paths = [pipeline.drop(seed, seed.name) for seed in SEEDS]
        pipeline.stored(paths)
        pipeline.quiet()
        assert len(pipeline.rows(OutboxRecord)) == 4
        assert (tmp_path / "data" / "broker.db").exists()
        assert pipeline.stop(run, signal.SIGINT) == 0  # Ctrl-C stops watcher and worker
    finally:
        pipeline.close()
    log = (pipeline.logs / "run.log").read_text(encoding="utf-8", errors="replace")
    assert "nianbao+sqlite" in log and "Warm shutdown" in log


def test_a_killed_run_leaves_no_worker_behind(tmp_path: Path, receiver: Receiver) -> None:
    """`nianbao run` killed with -9 cannot stop its worker warmly: the worker learns of it from the kernel."""
    pipeline = Pipeline(tmp_path, receiver, broker_url=None)
    try:
        run = pipeline.start(str(BIN / "nianbao"), "run", "--watch", str(pipeline.share), "-c", "1", name="run")
        log = pipeline.logs / "run.log"
        started = wait_for(
            lambda: re.search(r"worker started \(pid (\d+)\)", log.read_text(encoding="utf-8", errors="replace")),
            STARTUP,
            "the worker started",
        )
        worker = int(started.group(1))
        pipeline.stored([pipeline.drop(_report(1), "a.txt")])  # the worker is up and working
        pipeline.stop(run, signal.SIGKILL)
        wait_for(lambda: not _running(worker), WORKER_STOP, "the orphaned worker to stop")
    finally:
        pipeline.close()


def _running(pid: int) -> bool:
    """Whether the process runs: not gone, nor a zombie waiting for its new parent to reap it."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


def _report(seed: int) -> bytes:
    """A small generated report (a few kilobytes)."""
    truth = generator.make_truth(random.Random(seed))
    return generator.render_spaces(truth, random.Random(seed)).encode("utf-8")


def test_links_out_of_the_share_are_refused_and_names_of_any_bytes_stored(tmp_path: Path, receiver: Receiver) -> None:
    pipeline = Pipeline(tmp_path, receiver, broker_url=None)
    share = pipeline.share
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_bytes(_report(11))  # a readable report: only the refusal keeps it out
    secret = sha256_of(outside / "secret.txt")
    (share / "a.txt").symlink_to(outside / "secret.txt")  # there before the start-up walk: a file and a folder
    (share / "etc").symlink_to(outside)
    try:
        pipeline.start(str(BIN / "nianbao"), "run", "--watch", str(share), "-c", "1", name="run")
        good = pipeline.drop(_report(12), "good.txt")
        odd = pipeline.drop(_report(13), os.fsdecode(b"bad\xff\xfename.txt"))  # not UTF-8
        (share / "b.txt").symlink_to(outside / "secret.txt")  # made in place
        moved = tmp_path / "batch"  # a folder holding links, moved in
        moved.mkdir()
        (moved / "etc").symlink_to(outside)
        (moved / "c.txt").symlink_to(outside / "secret.txt")
        os.rename(moved, share / "batch2")
        shown = str(share / "bad\\xff\\xfename.txt")
        assert path_text(odd) == shown
        good_entry, odd_entry = pipeline.stored([good, shown])
        links = [str(share / name) for name in ("a.txt", "etc", "b.txt", "batch2/etc", "batch2/c.txt")]

        def refused() -> list[LedgerEntry] | None:
            entries = [pipeline.entry(path) for path in links]
            return entries if all(e is not None and e.state == "failed" for e in entries) else None  # type: ignore[return-value]

        for entry in wait_for(refused, STARTUP, "every link out of the share failed", interval=0.2):
            assert entry.error == "符号链接指向共享目录之外，出于安全不予读取"
        versions = pipeline.rows(VersionRecord)
        assert sorted(row.source_path for row in versions) == sorted([good, shown])
        assert secret not in {row.sha256 for row in versions} | {row.sha256 for row in pipeline.rows(LedgerRecord)}
        for row in versions:  # the evidence: each version's bytes, kept by their hash
            kept = tmp_path / "data" / "evidence" / row.sha256[:2] / row.sha256
            assert sha256_of(kept) == row.sha256

        # A stored file replaced by a link out of the share: refused too; the kept evidence is untouched.
        os.unlink(good)
        os.symlink(outside / "secret.txt", good)
        wait_for(lambda: (e := pipeline.entry(good)) and e.state == "failed" and e, STARTUP, "the new link refused")
        assert len(pipeline.rows(VersionRecord)) == 2 and good_entry.version_id and odd_entry.version_id
    finally:
        pipeline.close()
