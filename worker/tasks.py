"""The pipeline's tasks: process a batch of files, deliver due notifications, reconcile the ledger.

The worker orchestrates; it neither parses nor judges. `process_batch` walks the files of one batch (what the
watcher took at once, up to `watch_batch_size`) through the ledger together:

    new/queued --(process_files)--> processing --> stored (report saved, alerts queued in the outbox)
                                               \\-> failed (unreadable, changed before it was read, crashed
                                                            the worker `max_attempts` times, a defect)

Every step is idempotent, so a task that runs twice (redelivered after a worker died, enqueued again by
reconciliation) stores the report once and queues its alerts once. A file that cannot be read or is not an
annual report ends `failed` with its Chinese reason and is judged by no rule. Each file's end is one line of the
log (已入库 房县白鹤镇人民政府 2023 年度：7 项发现，新发现 2 / 未能处理 <path>：<reason>). Transient errors
(database locked or unreachable, the share gone) are retried with backoff, `task_max_retries` times; after that
the ledger entry waits for reconciliation.
"""

from __future__ import annotations

import gc
import logging
import os
import resource
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded
from celery.signals import worker_init, worker_process_init, worker_ready
from kombu.exceptions import OperationalError as BrokerError
from sqlalchemy.exc import DBAPIError, DisconnectionError

from nianbao.display import failed_line, stored_line
from nianbao.judge import judge_batch, read_report, rejection
from nianbao.settings import EMBEDDED_BROKER_SCHEME, Settings, get_settings
from report.document import UnreadableFile
from report.extract import read_bytes, text_path
from report.identity import identity
from report.model import Finding, Report
from rules.similarity import warm_up
from storage import BatchOutcome, BatchSave, LedgerEntry, OutboxDraft, SaveResult, SchemaNotCurrent, Store
from storage.evidence import Evidence, EvidenceChanged, EvidenceNotWritten
from storage.registry import open_notices
from worker.app import app
from worker.broker import purge_delivered
from worker.notify import Target, deliver_due, delivery_needed, load_targets, messages_about, outbox_drafts
from worker.overdue import alert_overdue, alert_received
from worker.startup import summary

log = logging.getLogger(__name__)

# Seconds one send_notifications task spends delivering before it hands the rest to a new task.
DELIVERY_BUDGET = 30.0
# Delivered messages of the embedded broker are deleted after this long.
BROKER_KEEP = timedelta(days=1)
# Threads of a worker process that copy and sync the evidence of a batch's files while the next files are parsed:
# an fsync waits some milliseconds for the disk, and concurrent ones are committed together.
EVIDENCE_THREADS = 8
# A file up to this size is read once: the bytes parsed are the bytes kept (a batch holds at most this much per
# file until its copy is written); a larger one is copied from the share apart, in chunks.
MEMORY_EVIDENCE_BYTES = 4 * 2**20
CHANGED = "文件在处理前已被改写；改写后的内容另行处理"


class ShareUnavailable(OSError):
    """The watched folder is not reachable (a network share dropped): the file is fine, try again later."""


# Errors of the system, not of the file: retried with backoff, then left to reconciliation (a database error, a
# database at another schema revision while a deployment is under way, the share gone).
TRANSIENT: tuple[type[Exception], ...] = (
    DBAPIError, DisconnectionError, SchemaNotCurrent, ShareUnavailable, EvidenceNotWritten,
)  # fmt: skip


class _Process:
    """What one worker process keeps: its Store (opened after the fork) and its notification targets."""

    settings: Settings = get_settings()
    store: Store | None = None
    targets: dict[str, Target] | None = None
    evidence_threads: ThreadPoolExecutor | None = None


# Celery task options of the tasks that meet transient errors: retried with exponential backoff and jitter.
RETRY_TRANSIENT: dict[str, Any] = {
    "autoretry_for": TRANSIENT,
    "retry_backoff": 2,
    "retry_backoff_max": _Process.settings.retry_backoff_max,
    "retry_jitter": True,
    "max_retries": _Process.settings.task_max_retries,
}


def get_store() -> Store:
    if _Process.store is None:
        _Process.store = Store(_Process.settings.database)
    return _Process.store


def get_targets() -> dict[str, Target]:
    if _Process.targets is None:
        _Process.targets = load_targets(_Process.settings)
    return _Process.targets


@worker_init.connect
def _upgrade_database(**_: object) -> None:
    """The worker's main process brings the database to the current schema before any task runs."""
    Store.open(_Process.settings.database).dispose()


@worker_ready.connect
def _start_up_summary(**_: object) -> None:
    """Where the worker reads and writes and whom it alerts (once Celery's logging is set up)."""
    for line in summary(_Process.settings):
        log.info(line)


@worker_process_init.connect
def _after_fork(**_: object) -> None:
    _Process.store = None  # a pool process opens its own connections
    _Process.evidence_threads = None  # and starts its own threads
    warm_up()  # numpy and the MinHash permutations, before the first file rather than in its time
    tune_collector()
    limit_memory(_Process.settings.worker_memory_limit)


# Python's cyclic garbage collector, in a pool process: a parse builds and drops thousands of short-lived tuples
# and lists, so the default young threshold (700) runs a collection every few lines, and the long-lived caches
# (line facts, character counts, signatures) make the older collections long. Reports make no reference cycles
# worth collecting early. Measured (`bench/sql_count.py --series 150 --batches-only`, interleaved, two pairs each
# way): 6–14 % less CPU per report.
COLLECTOR_THRESHOLDS = (100_000, 50, 1_000)


def tune_collector() -> None:
    """Leave what start-up built out of every collection and collect the young generation less often."""
    gc.freeze()
    gc.set_threshold(*COLLECTOR_THRESHOLDS)


def limit_memory(limit: int) -> None:
    """Cap this process's address space at `limit` bytes (0: no cap): a file that would need more raises
    MemoryError in its own task instead of taking the machine's memory."""
    if limit > 0:
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        resource.setrlimit(resource.RLIMIT_AS, (limit if hard == resource.RLIM_INFINITY else min(limit, hard), hard))


# -- processing files -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    state: str  # the ledger state the file ended in
    alerts: int = 0  # outbox items queued
    version_id: int | None = None


Item = tuple[str, str]  # (path, sha256) of a ledger entry
Enqueue = Callable[[Sequence[Item], str | None], None]  # (a batch of items, the watched root)


def process_batch(
    store: Store, settings: Settings, targets: dict[str, Target], items: Sequence[Item], root: str | None
) -> list[Outcome]:
    """Read, parse, judge and store a batch of files with their alerts; one outcome per item, in order.

    Three steps on the database whatever the batch's size: claim the ledger entries (one transaction), read the
    known identities and the earlier years of the whole batch (one query each; the batch's own reports count as
    earlier years of each other too), and save the reports, their outbox items and the ledger states (one
    transaction). A file that cannot be read, was rewritten, or meets a defect ends `failed` alone."""
    if root is not None and not Path(root).is_dir():
        raise ShareUnavailable(f"watched folder {root} is not reachable")
    recent = claim_lifetime(settings)  # younger claims are duplicates or retries, not deaths
    entries = {(entry.path, entry.sha256): entry for entry in store.ledger_claim(items, settings.max_attempts, recent)}
    parsed: list[tuple[LedgerEntry, Report, Future[bool]]] = []
    failures: list[tuple[str, str, str]] = []
    share = Path(root) if root else None
    real_share = os.path.realpath(share) if share else None  # once for the batch: a system call per folder
    evidence = Evidence(settings.evidence)
    for entry in entries.values():
        if entry.state != "processing":
            continue  # stored or failed already (a duplicate delivery), or given up just now
        path = text_path(entry.path)
        try:
            data = _whole_file(path, settings, share, real_share)
            report = read_report(path, settings, share, data)
            if report.source.sha256 and report.source.sha256 != entry.sha256:
                failures.append((entry.path, entry.sha256, CHANGED))  # the new content is a file of its own
                continue
            reason = rejection(report)  # unreadable or not an annual report: no findings, failed with the reason
            if reason:
                failures.append((entry.path, entry.sha256, reason))
                continue
        except TRANSIENT:
            raise
        except SoftTimeLimitExceeded:
            failures.append((entry.path, entry.sha256, _out_of_time(settings)))
            break
        except Exception as error:  # a defect met on this file: record it, do not retry the same failure forever
            failures.append((entry.path, entry.sha256, _failure(error, entry.path, settings)))
            continue
        # The evidence is written and synced on a thread while the next file is parsed: the bytes parsed, which
        # hash to the ledger's content, or (a large file) a copy from the share, checked against that hash.
        copy = (
            _evidence_threads().submit(evidence.keep_bytes, data, entry.sha256)
            if data is not None
            else _evidence_threads().submit(
                evidence.keep, path, entry.sha256, root=share, max_bytes=settings.max_file_bytes
            )
        )
        parsed.append((entry, report, copy))
    reports = _kept(parsed, failures, settings)
    saves = []
    defects = judge_batch(store, [report for _, report in reports], settings)
    for (entry, report), defect in zip(reports, defects, strict=True):
        if defect is None:
            saves.append(BatchSave(entry.path, entry.sha256, report, entry.seen_at))
        else:
            failures.append((entry.path, entry.sha256, _failure(defect, entry.path, settings)))

    def alerts(report: Report, new: list[Finding], resolved: list[Finding]) -> list[OutboxDraft]:
        return outbox_drafts(messages_about(report, new, resolved, settings), targets)

    saved = {(o.path, o.sha256): o for o in store.save_batch(saves, failures, alerts)}
    received = _alert_received(store, targets, saves, saved)
    _log_ends(saves, saved, [entry for entry in entries.values() if entry.state == "failed"])
    outcomes = []
    for key in items:
        result, claimed = saved.get(key), entries.get(key)
        if result is not None:
            outcomes.append(Outcome(result.state, result.alerts + received.get(key, 0), result.version_id))
        elif claimed is not None:
            outcomes.append(Outcome(claimed.state, version_id=claimed.version_id))
        else:
            outcomes.append(Outcome("processing"))  # claimed by another worker at this moment (PostgreSQL)
    return outcomes


def claim_lifetime(settings: Settings) -> timedelta:
    """How long a worker's claim on a file may still be running: until its task is killed at `task_time_limit`,
    and never less than `reconcile_after`. Reconciliation does not take a younger claim for lost, and a second claim
    within it is a duplicate delivery (a message enqueued again meanwhile), not a worker that died: no attempt is
    counted twice for one run, however slowly a loaded machine gets through it."""
    return timedelta(seconds=max(settings.reconcile_after, settings.task_time_limit))


def _whole_file(path: Path, settings: Settings, share: Path | None, real_share: str | None) -> bytes | None:
    """The file's bytes, read once for the parser and the evidence; None when it is larger than
    `MEMORY_EVIDENCE_BYTES` (read as it is parsed, and copied from the share) or cannot be read (the parser says
    why). `real_share`: the share resolved."""
    try:
        limit = min(settings.max_file_bytes, MEMORY_EVIDENCE_BYTES)
        data, truncated = read_bytes(path, limit, share, real_root=real_share)
    except UnreadableFile:
        return None
    return None if truncated else data


def _evidence_threads() -> ThreadPoolExecutor:
    """This process's threads that copy the evidence (made after the fork: a pool process has its own)."""
    if _Process.evidence_threads is None:
        _Process.evidence_threads = ThreadPoolExecutor(EVIDENCE_THREADS, thread_name_prefix="nianbao-evidence")
    return _Process.evidence_threads


def _kept(
    parsed: list[tuple[LedgerEntry, Report, Future[bool]]], failures: list[tuple[str, str, str]], settings: Settings
) -> list[tuple[LedgerEntry, Report]]:
    """The parsed reports whose evidence is kept: no version is stored without the bytes it was judged on. A file
    rewritten since it was hashed fails alone; an evidence folder that cannot be written fails the batch (a
    transient error, retried)."""
    reports: list[tuple[LedgerEntry, Report]] = []
    try:
        for entry, report, copied in parsed:
            try:
                copied.result()
            except (EvidenceChanged, UnreadableFile):
                failures.append((entry.path, entry.sha256, CHANGED))
                continue
            except TRANSIENT:
                raise
            except SoftTimeLimitExceeded:
                failures.append((entry.path, entry.sha256, _out_of_time(settings)))
                break
            except Exception as error:
                failures.append((entry.path, entry.sha256, _failure(error, entry.path, settings)))
                continue
            reports.append((entry, report))
    finally:
        for _, _, copied in parsed:
            copied.cancel()
    return reports


def _out_of_time(settings: Settings) -> str:
    """Out of time: this file fails; the rest of the batch stays `processing` for reconciliation."""
    return f"处理超过 {settings.task_time_limit} 秒，已放弃"


def _alert_received(
    store: Store, targets: dict[str, Target], saves: list[BatchSave], saved: dict[Item, Any]
) -> dict[Item, int]:
    """The 已收到 notes of stored reports whose body was alerted as overdue for that year (one read for the batch;
    a transaction only for those); outbox items queued per item."""
    stored = [save for save in saves if saved[(save.path, save.sha256)].state == "stored"]
    waiting = open_notices(store, [save.report for save in stored])
    queued: dict[Item, int] = {}
    for save in stored:
        key = identity(save.report)
        if key is not None and (*key, save.report.year) in waiting:
            result = SaveResult(saved[(save.path, save.sha256)].version_id, created=True)
            queued[(save.path, save.sha256)] = alert_received(store, save.report, result, targets)
    return queued


def _log_ends(saves: list[BatchSave], saved: dict[Item, BatchOutcome], given_up: list[LedgerEntry]) -> None:
    """One line of the run log per file of the batch that ended here: stored (with its findings) or failed."""
    reports = {(save.path, save.sha256): save.report for save in saves}
    for entry in given_up:  # failed at the claim (attempts spent), or failed already (a duplicate delivery)
        log.warning(failed_line(entry.path, entry.error or ""))
    for key, outcome in saved.items():
        if outcome.state == "failed":
            log.warning(failed_line(outcome.path, outcome.error or ""))
        elif outcome.version_id is not None:
            line = stored_line(
                reports[key], created=outcome.created, new_findings=outcome.new_findings, version_id=outcome.version_id
            )
            log.info(line)


def _failure(error: Exception, path: str, settings: Settings) -> str:
    """The ledger's reason for a file whose processing raised (not a transient error)."""
    if isinstance(error, MemoryError):
        return f"处理所需内存超过上限（{settings.worker_memory_limit // 2**20} MiB），已放弃"
    log.exception("processing %s failed", path)
    return f"处理出错：{type(error).__name__}: {error}"


def process(store: Store, settings: Settings, targets: dict[str, Target], path: str, sha256: str,
            root: str | None) -> Outcome:  # fmt: skip
    """One file: a batch of one."""
    return process_batch(store, settings, targets, [(path, sha256)], root)[0]


@app.task(name="nianbao.process_files", **RETRY_TRANSIENT)
def process_files(items: list[list[str]], root: str | None = None) -> dict[str, int]:
    """The task of a batch the watcher took; how many files ended in each state."""
    store, targets = get_store(), get_targets()
    outcomes = process_batch(store, _Process.settings, targets, [(p, s) for p, s in items], root)
    if any(outcome.alerts for outcome in outcomes) and delivery_needed(store, targets, _Process.settings):
        request_delivery()
    return dict(Counter(outcome.state for outcome in outcomes))


@app.task(name="nianbao.process_file", **RETRY_TRANSIENT)
def process_file(path: str, sha256: str, root: str | None = None) -> str:
    """The one-file task of earlier releases: messages a broker still holds across an upgrade."""
    outcome = process(get_store(), _Process.settings, get_targets(), path, sha256, root)
    if outcome.alerts:
        request_delivery()
    return outcome.state


def enqueue_files(items: Sequence[Item], root: str | None) -> None:
    process_files.apply_async(([list(item) for item in items], root))


# -- notifications --------------------------------------------------------------------------------------------


@app.task(name="nianbao.send_notifications", **RETRY_TRANSIENT)
def send_notifications() -> tuple[int, int]:
    """Deliver the alerts that are due; (sent, refused). A new task goes on when the next one is due."""
    delivered = deliver_due(get_store(), get_targets(), _Process.settings, DELIVERY_BUDGET)
    if delivered.next_due is not None:
        request_delivery(delivered.next_due)
    return delivered.sent, delivered.refused


def request_delivery(countdown: float = 0.0) -> None:
    """Enqueue a delivery pass (in `countdown` seconds). Failing to is harmless: reconciliation enqueues one
    every interval."""
    try:
        send_notifications.apply_async(countdown=countdown or None)
    except BrokerError:
        log.warning("could not enqueue a notification delivery; reconciliation will", exc_info=True)


# -- reconciliation -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reconciled:
    requeued: int
    failed: int
    purged: int


def reconcile_once(store: Store, settings: Settings, root: Path | None, enqueue: Enqueue = enqueue_files) -> Reconciled:
    """Enqueue again every file seen but not stored for `reconcile_after` seconds (its message was lost: a
    killed worker, a restarted Redis, the embedded broker; a file being processed once its claim is older than
    `claim_lifetime`), in batches of `watch_batch_size`; fail those attempted `max_attempts` times; request a
    delivery of due notifications; drop delivered messages from the embedded broker; prune the evidence the
    retention setting lets go."""
    queued, failed = store.ledger_requeue(
        timedelta(seconds=settings.reconcile_after), claim_lifetime(settings), settings.max_attempts, _given_up
    )  # before the messages are published: the ledger stays the source of truth
    batches: dict[str | None, list[Item]] = {}
    for entry in queued:
        under_root = root is not None and Path(entry.path).is_relative_to(root)
        batches.setdefault(str(root) if under_root else None, []).append((entry.path, entry.sha256))
    for batch_root, items in batches.items():
        for start in range(0, len(items), settings.watch_batch_size):
            enqueue(items[start : start + settings.watch_batch_size], batch_root)
    if settings.notify_urls or settings.notify_config:
        request_delivery()
    purged = purge_delivered(settings.broker, BROKER_KEEP) if settings.broker.startswith(EMBEDDED_BROKER_SCHEME) else 0
    if settings.evidence_retention_days > 0:
        cutoff = datetime.now(UTC) - timedelta(days=settings.evidence_retention_days)
        Evidence(settings.evidence).prune(store.superseded_before(cutoff))
    if queued or failed:
        log.warning("reconciliation: %d file(s) enqueued again, %d given up", len(queued), len(failed))
    return Reconciled(len(queued), len(failed), purged)


def _given_up(attempts: int) -> str:
    return f"已尝试处理 {attempts} 次均未完成（处理时进程崩溃、被终止或超时），不再重试"


def overdue_once(store: Store, settings: Settings, targets: dict[str, Target], as_of: date | None = None) -> int:
    """The daily check for reports that never arrived: alert each newly overdue body once; bodies alerted."""
    bodies, items = alert_overdue(store, settings, targets, as_of or date.today())
    if items:
        request_delivery()
    if bodies:
        log.warning("overdue check: %d body/bodies newly overdue", bodies)
    return bodies


@app.task(name="nianbao.overdue", **RETRY_TRANSIENT)
def overdue_check() -> int:
    """The overdue check as a task (for `celery beat`); `nianbao watch` and `nianbao run` run it themselves every
    `overdue_interval`."""
    return overdue_once(get_store(), _Process.settings, get_targets())


@app.task(name="nianbao.reconcile")
def reconcile(root: str | None = None) -> tuple[int, int, int]:
    """The reconciliation pass as a task (for `celery beat`); `nianbao watch` and `nianbao run` run it
    themselves every `reconcile_interval`."""
    result = reconcile_once(get_store(), _Process.settings, Path(root) if root else None)
    return result.requeued, result.failed, result.purged
