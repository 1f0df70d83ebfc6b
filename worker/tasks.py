"""The pipeline's tasks: process a file, deliver due notifications, reconcile the ledger.

The worker orchestrates; it neither parses nor judges. `process` walks one file through the ledger:

    new/queued --(process_file)--> processing --> stored (report saved, alerts queued in the outbox)
                                              \\-> failed (unreadable, changed before it was read, crashed
                                                           the worker `max_attempts` times, a defect)

Every step is idempotent, so a task that runs twice (redelivered after a worker died, enqueued again by
reconciliation) stores the report once and queues its alerts once. A file that cannot be read or is not an
annual report ends `failed` with its Chinese reason and is judged by no rule. Each file's end is one line of the
log (已入库 房县白鹤镇人民政府 2023 年度：7 项发现，新发现 2 / 未能处理 <path>：<reason>). Transient errors (database locked or unreachable, the share gone) are retried with
backoff, `task_max_retries` times; after that the ledger entry waits for reconciliation.
"""

from __future__ import annotations

import logging
import resource
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded
from celery.signals import worker_init, worker_process_init, worker_ready
from kombu.exceptions import OperationalError as BrokerError
from sqlalchemy.exc import DBAPIError, DisconnectionError

from nianbao.display import failed_line, stored_line
from nianbao.judge import judge_and_save, read_report, rejection
from nianbao.settings import EMBEDDED_BROKER_SCHEME, Settings, get_settings
from report.document import UnreadableFile
from report.extract import text_path
from rules.similarity import warm_up
from storage import SchemaNotCurrent, Store
from storage.evidence import Evidence, EvidenceChanged, EvidenceNotWritten
from worker.app import app
from worker.broker import purge_delivered
from worker.notify import Target, deliver_due, load_targets, messages_for, queue_alerts
from worker.overdue import alert_overdue, alert_received
from worker.startup import summary

log = logging.getLogger(__name__)

# Seconds one send_notifications task spends delivering before it hands the rest to a new task.
DELIVERY_BUDGET = 30.0
# Delivered messages of the embedded broker are deleted after this long.
BROKER_KEEP = timedelta(days=1)


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
    warm_up()  # numpy and the MinHash permutations, before the first file rather than in its time
    limit_memory(_Process.settings.worker_memory_limit)


def limit_memory(limit: int) -> None:
    """Cap this process's address space at `limit` bytes (0: no cap): a file that would need more raises
    MemoryError in its own task instead of taking the machine's memory."""
    if limit > 0:
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        resource.setrlimit(resource.RLIMIT_AS, (limit if hard == resource.RLIM_INFINITY else min(limit, hard), hard))


# -- processing a file ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    state: str  # the ledger state the file ended in
    alerts: int = 0  # outbox items queued
    version_id: int | None = None


def process(store: Store, settings: Settings, targets: dict[str, Target], path: str, sha256: str,
            root: str | None) -> Outcome:  # fmt: skip
    """Read, parse, judge (against earlier years from storage), store and queue the alerts of one file."""
    entry = store.ledger_seen(path, sha256, None)
    if entry.state in ("stored", "failed"):
        return Outcome(entry.state, version_id=entry.version_id)  # a duplicate delivery: done already
    if root is not None and not Path(root).is_dir():
        raise ShareUnavailable(f"watched folder {root} is not reachable")
    entry = store.ledger_mark(path, sha256, "processing")
    if entry.attempts > settings.max_attempts:
        reason = f"已尝试处理 {entry.attempts - 1} 次均未完成（处理时进程崩溃、被终止或超时），不再重试"
        return _failed(store, path, sha256, reason)
    changed = "文件在处理前已被改写；改写后的内容另行处理"
    share = Path(root) if root else None
    try:
        report = read_report(text_path(path), settings, share)
        if report.source.sha256 and report.source.sha256 != sha256:
            return _failed(store, path, sha256, changed)  # the new content is judged as a file of its own
        rejected = rejection(report)
        if rejected:
            return _failed(store, path, sha256, rejected)
        try:  # the evidence first: no version is stored without the bytes it was judged on
            Evidence(settings.evidence).keep(text_path(path), sha256, root=share, max_bytes=settings.max_file_bytes)
        except (EvidenceChanged, UnreadableFile):
            return _failed(store, path, sha256, changed)
        result = judge_and_save(store, report, settings, received_at=entry.seen_at)
        alerts = queue_alerts(store, messages_for(report, result, store, settings), result.version_id, targets)
        alerts += alert_received(store, report, result, targets)
    except TRANSIENT:
        raise
    except SoftTimeLimitExceeded:
        return _failed(store, path, sha256, f"处理超过 {settings.task_time_limit} 秒，已放弃")
    except MemoryError:
        limit = settings.worker_memory_limit // 2**20
        return _failed(store, path, sha256, f"处理所需内存超过上限（{limit} MiB），已放弃")
    except Exception as error:  # a defect met on this file: record it, do not retry the same failure forever
        log.exception("processing %s failed", path)
        return _failed(store, path, sha256, f"处理出错：{type(error).__name__}: {error}")
    store.ledger_mark(path, sha256, "stored", version_id=result.version_id)
    new = len(result.new_findings)
    log.info(stored_line(report, created=result.created, new_findings=new, version_id=result.version_id))
    return Outcome("stored", alerts, result.version_id)


def _failed(store: Store, path: str, sha256: str, reason: str) -> Outcome:
    store.ledger_mark(path, sha256, "failed", error=reason)
    log.warning(failed_line(path, reason))
    return Outcome("failed")


@app.task(name="nianbao.process_file", **RETRY_TRANSIENT)
def process_file(path: str, sha256: str, root: str | None = None) -> str:
    outcome = process(get_store(), _Process.settings, get_targets(), path, sha256, root)
    if outcome.alerts:
        request_delivery()
    return outcome.state


def enqueue_file(path: str, sha256: str, root: str | None) -> None:
    process_file.apply_async((path, sha256, root))


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


def reconcile_once(
    store: Store, settings: Settings, root: Path | None, enqueue: Callable[[str, str, str | None], None] = enqueue_file
) -> Reconciled:
    """Enqueue again every file seen but not stored for `reconcile_after` seconds (its message was lost: a
    killed worker, a restarted Redis, the embedded broker), fail those attempted `max_attempts` times, request
    a delivery of due notifications, drop delivered messages from the embedded broker, and prune the evidence
    the retention setting lets go."""
    requeued = failed = 0
    for entry in store.ledger_stale(timedelta(seconds=settings.reconcile_after), sys.maxsize):
        if entry.attempts >= settings.max_attempts:
            reason = f"已尝试处理 {entry.attempts} 次均未完成（处理时进程崩溃、被终止或超时），不再重试"
            store.ledger_mark(entry.path, entry.sha256, "failed", error=reason)
            failed += 1
            continue
        store.ledger_mark(entry.path, entry.sha256, "queued")
        under_root = root is not None and Path(entry.path).is_relative_to(root)
        enqueue(entry.path, entry.sha256, str(root) if under_root else None)
        requeued += 1
    if settings.notify_urls or settings.notify_config:
        request_delivery()
    purged = purge_delivered(settings.broker, BROKER_KEEP) if settings.broker.startswith(EMBEDDED_BROKER_SCHEME) else 0
    if settings.evidence_retention_days > 0:
        cutoff = datetime.now(UTC) - timedelta(days=settings.evidence_retention_days)
        Evidence(settings.evidence).prune(store.superseded_before(cutoff))
    if requeued or failed:
        log.warning("reconciliation: %d file(s) enqueued again, %d given up", requeued, failed)
    return Reconciled(requeued, failed, purged)


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
