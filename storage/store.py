"""The store: every report version and finding, the watcher's ledger and the notification outbox.

One `Store(url)` per process (construct it after Celery forks: no connection is opened before first use, and a
store carried across a fork drops the parent's connections). Writes are short transactions that are safe under
concurrent workers: unique constraints decide, a conflict is retried, and the saves of one report are serialized
by a lock on its row (PostgreSQL `SELECT … FOR UPDATE`; SQLite `BEGIN IMMEDIATE` under write-ahead logging).

The pipeline writes in batches (`ledger_take`, `ledger_claim`, `save_batch`): one transaction for many files.
SQLite has one writer at a time whatever is done; processes take turns by an exclusive lock on a file beside the
database (`<db>.writer`), which wakes the next writer the moment the last one commits, instead of leaving them
to SQLite's busy handler, which sleeps and polls.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import time
import uuid
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import (
    Boolean,
    Connection,
    Engine,
    Text,
    bindparam,
    create_engine,
    delete,
    event,
    func,
    insert,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.sql.expression import Executable
from sqlmodel import Session, SQLModel, col, select

from report.identity import identity, name_key
from report.model import Finding, Report
from rules import all_rules
from rules.similarity import report_bands
from storage.status import decision_in_force, finding_status, open_condition
from storage.tables import (
    AlertTargetRecord,
    DigestRecord,
    FindingRecord,
    LedgerRecord,
    NotificationRecord,
    OrganizationRecord,
    OutboxRecord,
    ProseBandRecord,
    ReportRecord,
    ReviewerRecord,
    TriageRecord,
    UTCDateTime,
    VersionRecord,
    WebSessionRecord,
    utcnow,
)

MIGRATIONS = Path(__file__).with_name("migrations")
SQLITE_BUSY_TIMEOUT_MS = 30_000
WRITE_ATTEMPTS = 6
# pg_advisory_xact_lock key that serializes concurrent `upgrade()` calls on one PostgreSQL database.
MIGRATION_LOCK_KEY = 0x6E69616E62616F
LEDGER_STATES = ("new", "queued", "processing", "stored", "failed")
LEDGER_PENDING = ("new", "queued", "processing")
OUTBOX_MAX_ATTEMPTS = 10
OUTBOX_FIRST_BACKOFF = timedelta(seconds=30)
OUTBOX_MAX_BACKOFF = timedelta(hours=6)
OUTBOX_LEASE = timedelta(minutes=5)
# States of a digest still to be sent: a target with one gets no new digest until it is sent or abandoned.
DIGEST_OPEN = ("pending", "failed")
TRIAGE_DECISIONS = ("confirm", "dismiss")
WEB_SESSION_TOUCH = timedelta(minutes=1)  # a session's last-seen time is written at most this often
# SQLite's messages of errors that clear (permissions given back, space freed) but not on the connection that met them.
STUCK_ERRORS = ("readonly database", "disk is full", "disk i/o error", "unable to open database file")

T = TypeVar("T")

try:
    import fcntl
except ImportError:  # Windows: SQLite's busy timeout alone orders the writers
    fcntl = None  # type: ignore[assignment]


class StoreError(RuntimeError):
    """A storage problem to show the user as it is (the message is for them)."""


class SchemaNotCurrent(StoreError):
    """The database is missing or at another migration revision than this code's head."""


class AmbiguousOrganization(StoreError):
    """A name without region matches bodies of several regions."""

    def __init__(self, name: str, regions: list[str | None]) -> None:
        self.name, self.regions = name, regions
        shown = "、".join(region or "未写明地区" for region in regions)
        super().__init__(f"有多个名为“{name}”的机关（{shown}），请用 --region 指定地区")


@dataclass(frozen=True)
class SaveResult:
    version_id: int
    created: bool
    new_findings: list[Finding] = field(default_factory=list)
    resolved_findings: list[Finding] = field(default_factory=list)
    # The version this one superseded (the report's previous current version), if any.
    previous_version_id: int | None = None


@dataclass(frozen=True)
class FindingRow:
    id: int
    organization: str | None
    region: str | None
    year: int | None
    rule: str
    rule_version: int | None
    severity: str
    message: str
    location: str
    cells: list[str]
    expected: Any
    actual: Any
    first_seen: datetime
    last_seen: datetime
    resolved_at: datetime | None
    version_id: int  # the latest version that has (or had) this finding
    source_path: str
    decision: str | None  # in force: confirm, dismiss; 'stale' (made on other wording) or None: undecided

    @property
    def status(self) -> str:
        """resolved, confirmed, dismissed or pending (`storage.status`)."""
        return finding_status(self.resolved_at, self.decision)


@dataclass(frozen=True)
class VersionRow:
    id: int
    organization: str | None
    region: str | None
    year: int | None
    sha256: str
    source_path: str
    format: str
    received_at: datetime
    superseded_by: int | None


@dataclass(frozen=True)
class LedgerEntry:
    id: int
    path: str
    sha256: str
    size: int | None
    state: str
    attempts: int
    error: str | None
    version_id: int | None
    seen_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class OutboxItem:
    id: int
    version_id: int | None  # None: an alert about a report that has not arrived (report.overdue)
    kind: str
    title: str
    body: str
    tags: list[str]
    state: str  # pending, sent, failed (will be retried), abandoned (OUTBOX_MAX_ATTEMPTS reached)
    attempts: int
    last_error: str | None
    created_at: datetime
    next_attempt_at: datetime
    sent_at: datetime | None
    digest_id: int | None = None  # the message it went out in (or is going out in)


@dataclass(frozen=True)
class Digest:
    """One message to one target: a single outbox item, or several grouped. `key` is sent along with it."""

    id: int
    key: str
    target: str
    state: str  # pending, sent, failed (will be retried), abandoned (OUTBOX_MAX_ATTEMPTS reached)
    attempts: int
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None
    items: list[OutboxItem]


@dataclass(frozen=True)
class DigestDue:
    """When the next message to a target is due, and when a delivery pass is scheduled for it (if one is)."""

    target: str
    when: datetime
    wake_at: datetime | None

    def scheduled(self, now: datetime) -> bool:
        """Whether a pass is already scheduled between `now` and `when`."""
        return self.wake_at is not None and now <= self.wake_at <= self.when


@dataclass(frozen=True)
class OutboxDraft:
    """An alert to queue for a version being saved (its version id is known only then)."""

    kind: str
    title: str
    body: str
    tags: tuple[str, ...]


# What to queue for a saved report, given (report, findings to alert as new, findings resolved): pure, no I/O.
Alerts = Callable[[Report, list[Finding], list[Finding]], list[OutboxDraft]]


@dataclass(frozen=True)
class BatchSave:
    """A judged report to save for the ledger entry (path, sha256)."""

    path: str
    sha256: str
    report: Report
    received_at: datetime


@dataclass(frozen=True)
class BatchOutcome:
    path: str
    sha256: str
    state: str  # stored or failed
    version_id: int | None = None
    alerts: int = 0  # outbox items queued
    error: str | None = None
    created: bool = False  # a new version (not the same content again)
    new_findings: int = 0  # findings first seen in the new version
    resolved_findings: int = 0  # findings of the report's previous version that the new one no longer has
    previous_version_id: int | None = None  # the version the new one superseded


@dataclass(frozen=True)
class Reviewer:
    id: int
    name: str
    password_hash: str  # Argon2 (web/auth.py hashes and verifies; the store only keeps it)
    created_at: datetime


@dataclass(frozen=True)
class TriageEntry:
    id: int
    decision: str  # confirm (a real problem) or dismiss (a false alarm)
    comment: str
    message: str  # the finding's wording when decided
    reviewer: str
    decided_at: datetime


def finding_fingerprints(findings: Sequence[Finding]) -> list[str]:
    """The fingerprint of each finding: a hash of rule id, location and sorted cells.

    A finding without cells also hashes its `expected` (narrative.missing_topics names the missing topic there,
    so three missing topics stay three findings); findings still alike after that are numbered in order."""
    seen: Counter[str] = Counter()
    prints: list[str] = []
    for finding in findings:
        basis: list[Any] = [finding.rule, finding.location, sorted(finding.cells)]
        if not finding.cells:
            basis.append(finding.expected)
        key = json.dumps(basis, ensure_ascii=False, sort_keys=True, default=str)
        seen[key] += 1
        if seen[key] > 1:
            key += f"#{seen[key]}"
        prints.append(hashlib.sha256(key.encode()).hexdigest())
    return prints


def alembic_config(connection: Connection | None = None) -> Config:
    """Alembic's configuration, built in code: the migrations shipped in this package, run on `connection`."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS).replace("%", "%%"))
    config.attributes["connection"] = connection
    return config


@lru_cache(maxsize=1)
def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)  # Chinese as UTF-8: half the size of \uXXXX escapes


def _create_engine(url: str) -> Engine:
    if make_url(url).get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True, json_serializer=_json)
    engine = create_engine(url, json_serializer=_json, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})

    @event.listens_for(engine, "connect")
    def configure(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # the driver emits no BEGIN; `begin` below does
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        use_write_ahead_log(cursor, SQLITE_BUSY_TIMEOUT_MS / 1000)
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def begin(connection: Connection) -> None:
        # A write transaction takes the write lock up front: two deferred transactions that both read and then
        # write would deadlock on the lock upgrade, and one of them would fail instead of waiting.
        writing = connection.get_execution_options().get("nianbao_write", False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if writing else "BEGIN")

    return engine


def use_write_ahead_log(cursor: sqlite3.Cursor, timeout: float) -> None:
    """Switch a new SQLite file to WAL (a file already in WAL stays so). Several processes opening a new file at
    once (workers starting together) contend for it, and SQLite may answer "locked" at once instead of waiting
    out the busy timeout, so the switch is tried again for up to `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def _retryable(error: IntegrityError | OperationalError) -> bool:
    if isinstance(error, IntegrityError):
        return True  # a concurrent writer stored the same row first; the retry reads it
    code = getattr(error.orig, "pgcode", None)
    return code in ("40001", "40P01", "55P03") or "locked" in str(error.orig).lower()


def _stuck(error: OperationalError) -> bool:
    """Whether the error may stay with the pooled connections after its cause has cleared: SQLite opens a file it
    may not write read-only for good, and a connection that met a full disk or an I/O error is best reopened."""
    code = getattr(error.orig, "pgcode", None)
    message = str(error.orig).lower()
    return code in ("53100", "25006") or any(part in message for part in STUCK_ERRORS)


class Store:
    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = _create_engine(url)
        self._writer = self.engine.execution_options(nianbao_write=True)
        self._pid = os.getpid()
        self._schema_current = False
        self._writer_lock: tuple[int, Any] | None = None  # (pid, open lock file) for SQLite files

    @classmethod
    def open(cls, url: str) -> Store:
        """A store whose database has been upgraded to the latest schema."""
        store = cls(url)
        store.upgrade()
        return store

    @property
    def sqlite_path(self) -> Path | None:
        """The database file, for SQLite; None for a server database or an in-memory one."""
        parsed = make_url(self.url)
        if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
            return None
        return Path(parsed.database).resolve()

    def upgrade(self, revision: str = "head") -> None:
        """Apply the Alembic migrations up to `revision` (what `nianbao db upgrade` runs)."""
        self._after_fork()
        if self.sqlite_path:
            self.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
        with self._writer.begin() as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
            command.upgrade(alembic_config(connection), revision)
        self._schema_current = revision == "head"

    def revision(self) -> str | None:
        """The database's migration revision (None when it has never been upgraded)."""
        self._after_fork()
        if self.sqlite_path and not self.sqlite_path.exists():
            return None
        with self.engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()

    def dispose(self) -> None:
        """Close the pooled connections."""
        self.engine.dispose()

    # -- sessions -----------------------------------------------------------------------------------------

    def _after_fork(self) -> None:
        if os.getpid() != self._pid:
            self.engine.dispose(close=False)  # the parent's connections are the parent's: never touch them
            self._pid = os.getpid()

    def _session(self, *, write: bool = False) -> Session:
        self._after_fork()
        if not self._schema_current:
            current, head = self.revision(), head_revision()
            if current != head:
                raise SchemaNotCurrent(
                    f"数据库（{self._shown_url()}）的表结构版本是 {current or '空'}，本程序需要 {head}："
                    "请先运行 nianbao db upgrade"
                )
            self._schema_current = True
        return Session(self._writer if write else self.engine, expire_on_commit=False)

    def _shown_url(self) -> str:
        return make_url(self.url).render_as_string(hide_password=True)

    @contextmanager
    def _writer_turn(self) -> Iterator[None]:
        """For a SQLite file: hold the exclusive lock on `<db>.writer` (processes queue on it; see the module
        doc). Elsewhere nothing: PostgreSQL has row locks."""
        if fcntl is None or self.sqlite_path is None:
            yield
            return
        if self._writer_lock is None or self._writer_lock[0] != os.getpid():
            handle = open(f"{self.sqlite_path}.writer", "a+b")  # open for the life of the process
            self._writer_lock = (os.getpid(), handle)
        handle = self._writer_lock[1]
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)

    def _write(self, work: Callable[[Session], T]) -> T:
        """Run `work` in one write transaction, again from the start when a concurrent writer got in the way."""
        for attempt in range(WRITE_ATTEMPTS):
            try:
                with self._writer_turn(), self._session(write=True) as session, session.begin():
                    return work(session)
            except (IntegrityError, OperationalError) as error:
                if isinstance(error, OperationalError) and _stuck(error):
                    self.engine.dispose()  # the caller's retry opens new connections, which work once it has cleared
                if attempt == WRITE_ATTEMPTS - 1 or not _retryable(error):
                    raise
                time.sleep(0.02 * 2**attempt)
        raise AssertionError("unreachable")

    @staticmethod
    def _insert_ignore(session: Session, record: type[SQLModel], conflict: list[str], **values: Any) -> int:
        """INSERT … ON CONFLICT DO NOTHING: the row exists afterwards, whoever inserted it. Returns 1 when this
        call inserted it, 0 when it was there."""
        dialect = session.get_bind().dialect.name
        inserts: dict[str, Callable[[type[SQLModel]], postgresql.Insert | sqlite.Insert]] = {
            "postgresql": postgresql.insert,
            "sqlite": sqlite.insert,
        }
        insert = inserts.get(dialect)
        if insert is None:
            raise StoreError(f"不支持的数据库类型 {dialect}：请使用 SQLite 或 PostgreSQL")
        statement = insert(record).values(**values).on_conflict_do_nothing(index_elements=conflict)
        return session.connection().execute(statement).rowcount

    # -- reports ------------------------------------------------------------------------------------------

    def save(self, report: Report, *, received_at: datetime | None = None) -> SaveResult:
        """Store a judged report (findings filled). The same content again is the same version (created=False);
        new content for a stored (organization, year) is its next version, and the findings are carried forward
        or resolved."""
        if not report.source.sha256:
            raise StoreError(f"{report.source.path}：文件无法读取，没有内容可以入库")
        when = received_at or utcnow()
        rule_versions = {item.id: item.version for item in all_rules()}
        return self._write(lambda session: self._save(session, report, when, rule_versions))

    def save_batch(
        self, saves: Sequence[BatchSave], failures: Sequence[tuple[str, str, str]], alerts: Alerts
    ) -> list[BatchOutcome]:
        """A worker's batch in one transaction: save each judged report, queue its alerts in the outbox (`alerts`
        builds them from the findings first seen in its version, less those a reviewer dismissed, and those it
        resolved; the same version again queues nothing new) and mark its ledger entry `stored`; mark each
        (path, sha256, reason) of `failures` `failed`. One outcome each, failures first, then saves, in order.

        The statements are per batch, not per report (a handful of lookups and one multi-row statement per kind
        of write), so the batch costs the database about what one report did. Versions of one report within the
        batch are saved in rounds, in the order given, so each supersedes the one before. A report whose
        preparation or alerts raise (anything but a database error) is left out and its entry `failed` with the
        reason; a database error rolls back the whole batch (retried here on conflicts, else raised: the task
        retries). Report rows are locked in the order of their keys, so concurrent batches do not deadlock."""
        rule_versions = {item.id: item.version for item in all_rules()}
        planned: list[_Planned] = []
        outcomes = [BatchOutcome(path, sha, "failed", error=reason) for path, sha, reason in failures]
        for save in saves:
            try:
                planned.append(_plan(save, rule_versions))
            except Exception as error:  # a defect met on this report: it fails alone
                outcomes.append(BatchOutcome(save.path, save.sha256, "failed", error=_defect(error)))
        rounds: list[list[_Planned]] = []
        taken: Counter[tuple[Any, ...]] = Counter()
        for plan in planned:
            # The same content under another identity (a copy in a region folder) waits for a later round too.
            alike = (plan.hint, ("sha256", plan.sha256))
            index = max(taken[key] for key in alike)
            for key in alike:
                taken[key] = index + 1
            if len(rounds) <= index:
                rounds.append([])
            rounds[index].append(plan)

        order = {(path, sha): index for index, (path, sha, _) in enumerate(failures)}
        order |= {(save.path, save.sha256): len(failures) + index for index, save in enumerate(saves)}

        def work(session: Session) -> list[BatchOutcome]:
            now = utcnow()
            done = list(outcomes)
            for plans in rounds:
                done += self._save_round(session, plans, alerts, now)
            done.sort(key=lambda outcome: order[(outcome.path, outcome.sha256)])
            self._ledger_update(
                session,
                [
                    {"path": o.path, "sha256": o.sha256, "state": o.state, "error": o.error}
                    | ({"version_id": o.version_id} if o.version_id is not None else {})
                    for o in done
                ],
                now,
            )
            return done

        return self._write(work)

    def _save_round(self, session: Session, plans: list[_Planned], alerts: Alerts, now: datetime) -> list[BatchOutcome]:
        """Save reports of distinct (organization, year) in bulk; see `save_batch`."""
        connection = session.connection()
        shas = sorted({plan.sha256 for plan in plans})
        stored = self._versions_by_sha(connection, shas)
        fresh = [plan for plan in plans if plan.sha256 not in stored]
        organizations = self._organization_ids(session, [plan.save.report for plan in fresh])
        for plan in fresh:
            organization_id = organizations.get(plan.identity) if plan.identity else None
            year = plan.save.report.year  # kept for a report without a body too: shown with the year it states
            plan.target = (organization_id, year)
            plan.key = (
                f"{organization_id}/{year}"
                if organization_id is not None and year is not None
                else f"sha256:{plan.sha256}"
            )
        report_ids = self._report_ids(session, {plan.key: plan.target for plan in fresh})
        stored |= self._versions_by_sha(connection, shas)  # again, under the reports' locks (a concurrent worker)
        ids = sorted(set(report_ids.values()))
        current: dict[int, int] = {}
        known: dict[int, list[Any]] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            current |= dict(
                connection.execute(  # type: ignore[arg-type]
                    select(VersionRecord.report_id, VersionRecord.id).where(
                        col(VersionRecord.report_id).in_(chunk), col(VersionRecord.superseded_by).is_(None)
                    )
                ).all()
            )
            table = FindingRecord.__table__  # type: ignore[attr-defined]
            for row in connection.execute(select(table).where(table.c.report_id.in_(chunk))):
                known.setdefault(row.report_id, []).append(row)
        outcomes: list[BatchOutcome] = []
        created: list[_Planned] = []
        again: list[tuple[_Planned, int]] = []
        for plan in plans:
            report = plan.save.report
            try:
                if plan.sha256 in stored:  # the same content again: its alerts may not have been queued
                    version_id = stored[plan.sha256]
                    self._adopt_folder_region(session, version_id, report)
                    new, resolved = self._version_changes(connection, version_id)
                    if new:
                        new = self._undismissed(session, report, new)
                    plan.drafts = alerts(report, new, resolved)
                    again.append((plan, version_id))
                    continue
                plan.report_id = report_ids[plan.key]
                plan.previous = current.get(plan.report_id)
                plan.diff = _diff_findings(known.get(plan.report_id, []), plan)
                new = plan.diff.new
                if new and (plan.previous is not None or plan.report_id in known):
                    new = self._undismissed(session, report, new)  # a report stored before may have triage
                plan.drafts = alerts(report, new, plan.diff.resolved)
            except DBAPIError:
                raise
            except Exception as error:  # a defect met on this report: it fails alone
                outcomes.append(BatchOutcome(plan.save.path, plan.sha256, "failed", error=_defect(error)))
                continue
            created.append(plan)
        if created:
            connection.execute(
                insert(VersionRecord),
                [
                    {"report_id": plan.report_id, "sha256": plan.sha256, "source_path": plan.save.report.source.path,
                     "format": plan.save.report.source.format, "received_at": plan.save.received_at,
                     "contract": plan.contract, "evidence": plan.evidence}
                    for plan in created
                ],
            )  # fmt: skip
            version_ids = self._versions_by_sha(connection, [plan.sha256 for plan in created])
            self._apply_findings(connection, created, version_ids)
        queued: list[tuple[int, OutboxDraft]] = []
        for plan in created:
            version_id = version_ids[plan.sha256]
            self._index_prose(connection, version_id, plan.save.report)
            queued += [(version_id, draft) for draft in plan.drafts]
            outcomes.append(
                BatchOutcome(
                    plan.save.path,
                    plan.sha256,
                    "stored",
                    version_id,
                    len(plan.drafts),
                    created=True,
                    new_findings=len(plan.diff.new),
                    resolved_findings=len(plan.diff.resolved),
                    previous_version_id=plan.previous,
                )
            )
        existing = self._outbox_kinds(connection, [version_id for _, version_id in again])
        for plan, version_id in again:
            fresh_drafts = [draft for draft in plan.drafts if (version_id, draft.kind) not in existing]
            queued += [(version_id, draft) for draft in fresh_drafts]
            outcomes.append(BatchOutcome(plan.save.path, plan.sha256, "stored", version_id, len(fresh_drafts)))
        self._queue_outbox(session, queued, now)
        return outcomes

    @staticmethod
    def _versions_by_sha(connection: Connection, shas: Sequence[str]) -> dict[str, int]:
        found: dict[str, int] = {}
        for start in range(0, len(shas), 500):
            query = select(VersionRecord.sha256, VersionRecord.id).where(
                col(VersionRecord.sha256).in_(shas[start : start + 500])
            )
            found |= {sha: version_id for sha, version_id in connection.execute(query)}
        return found

    def _organization_ids(self, session: Session, reports: Sequence[Report]) -> dict[tuple[str, str | None], int]:
        """The id of each report's organization (identity), created when new; a known level fills `unknown`."""
        connection = session.connection()
        wanted = {key: report for report in reports if (key := identity(report))}
        if not wanted:
            return {}
        names = sorted({name for name, _ in wanted})

        def lookup() -> dict[tuple[str, str | None], tuple[int, str]]:
            found = {}
            for start in range(0, len(names), 500):
                query = select(
                    OrganizationRecord.name_key, OrganizationRecord.region_key, OrganizationRecord.id,
                    OrganizationRecord.level,
                ).where(col(OrganizationRecord.name_key).in_(names[start : start + 500]))  # fmt: skip
                for name, region, organization_id, level in connection.execute(query):
                    found[(name, region or None)] = (organization_id, level)
            return found

        found = lookup()
        missing = sorted((key for key in wanted if key not in found), key=lambda key: (key[0], key[1] or ""))
        if missing:
            self._insert_many_ignore(
                session,
                OrganizationRecord,
                ["name_key", "region_key"],
                [
                    {"name": wanted[key].organization.name, "name_key": key[0], "region": key[1],
                     "region_key": key[1] or "", "level": wanted[key].organization.level}
                    for key in missing
                ],
            )  # fmt: skip
            found = lookup()
        levels = [
            {"b_id": found[key][0], "b_level": report.organization.level}
            for key, report in wanted.items()
            if found[key][1] == "unknown" and report.organization.level != "unknown"
        ]
        if levels:
            table = OrganizationRecord.__table__  # type: ignore[attr-defined]
            connection.execute(
                update(table).where(table.c.id == bindparam("b_id")).values(level=bindparam("b_level")), levels
            )
        return {key: found[key][0] for key in wanted}

    def _report_ids(self, session: Session, targets: dict[str, tuple[int | None, int | None]]) -> dict[str, int]:
        """The id of the report of each key (created when new: (organization id, year)), its row locked."""
        connection = session.connection()
        keys = sorted(targets)

        def lookup() -> dict[str, int]:
            found: dict[str, int] = {}
            for start in range(0, len(keys), 500):
                query = (
                    select(ReportRecord.key, ReportRecord.id)
                    .where(col(ReportRecord.key).in_(keys[start : start + 500]))
                    .order_by(ReportRecord.key)
                    .with_for_update()
                )
                found |= {key: report_id for key, report_id in connection.execute(query)}
            return found

        found = lookup()
        missing = [key for key in keys if key not in found]
        if missing:
            rows = [{"key": key, "organization_id": targets[key][0], "year": targets[key][1]} for key in missing]
            self._insert_many_ignore(session, ReportRecord, ["key"], rows)
            found = lookup()
        return found

    @staticmethod
    def _apply_findings(connection: Connection, plans: list[_Planned], version_ids: dict[str, int]) -> None:
        """Write the findings of newly created versions: inserted, carried forward, changed, resolved."""
        table = FindingRecord.__table__  # type: ignore[attr-defined]
        inserts: list[dict[str, Any]] = []
        carried: list[dict[str, Any]] = []
        changed: list[dict[str, Any]] = []
        gone: list[dict[str, Any]] = []
        supersede: list[dict[str, Any]] = []
        for plan in plans:
            version_id, when = version_ids[plan.sha256], plan.save.received_at
            organization_id, year = plan.target
            for row in plan.diff.inserts:
                inserts.append(
                    {**row, "report_id": plan.report_id, "organization_id": organization_id, "year": year,
                     "first_seen": when, "last_seen": when, "first_version_id": version_id,
                     "last_version_id": version_id}
                )  # fmt: skip
            carried += [
                {"b_id": finding_id, "b_when": when, "b_version": version_id} for finding_id in plan.diff.carried
            ]
            changed += plan.diff.changed
            gone += [{"b_id": finding_id, "b_when": when, "b_version": version_id} for finding_id in plan.diff.gone]
            if plan.previous is not None:
                supersede.append({"b_id": plan.previous, "b_version": version_id})
        if supersede:
            versions = VersionRecord.__table__  # type: ignore[attr-defined]
            connection.execute(
                update(versions).where(versions.c.id == bindparam("b_id")).values(superseded_by=bindparam("b_version")),
                supersede,
            )
        if inserts:
            connection.execute(insert(table), inserts)
        by_id = table.c.id == bindparam("b_id")
        if carried:
            connection.execute(
                update(table).where(by_id).values(
                    last_seen=bindparam("b_when"), last_version_id=bindparam("b_version"), resolved_at=None,
                    resolved_version_id=None,
                ),
                carried,
            )  # fmt: skip
        if changed:
            columns = [column for column in changed[0] if column != "b_id"]
            connection.execute(
                update(table).where(by_id).values({column.removeprefix("b_"): bindparam(column) for column in columns}),
                changed,
            )
        if gone:
            connection.execute(
                update(table)
                .where(by_id)
                .values(resolved_at=bindparam("b_when"), resolved_version_id=bindparam("b_version")),
                gone,
            )

    @staticmethod
    def _outbox_kinds(connection: Connection, version_ids: Sequence[int]) -> set[tuple[int, str]]:
        if not version_ids:
            return set()
        query = select(OutboxRecord.version_id, OutboxRecord.kind).where(
            col(OutboxRecord.version_id).in_(sorted(set(version_ids)))
        )
        return {(version_id, kind) for version_id, kind in connection.execute(query)}

    def _queue_outbox(self, session: Session, queued: list[tuple[int, OutboxDraft]], now: datetime) -> None:
        rows = [
            {"version_id": version_id, "kind": draft.kind, "title": draft.title, "body": draft.body,
             "tags": list(draft.tags), "state": "pending", "attempts": 0, "created_at": now, "next_attempt_at": now}
            for version_id, draft in queued
        ]  # fmt: skip
        self._insert_many_ignore(session, OutboxRecord, ["version_id", "kind"], rows)

    @staticmethod
    def _insert_many_ignore(
        session: Session, record: type[SQLModel], conflict: list[str], rows: list[dict[str, Any]]
    ) -> None:
        """INSERT … ON CONFLICT DO NOTHING of many rows in one call."""
        if not rows:
            return
        session.connection().execute(_insert_ignoring(session, record, conflict), rows)

    # The save path runs Core statements on the session's connection: it is the hot path of ingestion, and ORM
    # objects for every finding would cost several times the database's own time.

    def _save(self, session: Session, report: Report, when: datetime, rule_versions: dict[str, int]) -> SaveResult:
        connection = session.connection()
        sha = report.source.sha256
        stored = self._version_with(connection, sha)
        if stored is not None:
            self._adopt_folder_region(session, stored, report)
            return SaveResult(version_id=stored, created=False)
        organization_id = self._organization_id(session, report)
        year = report.year  # kept for a report without a body too: it is shown with the year it states
        key = f"{organization_id}/{year}" if organization_id is not None and year is not None else f"sha256:{sha}"
        locked = select(ReportRecord.id).where(ReportRecord.key == key).with_for_update()
        report_id = connection.execute(locked).scalar()
        if report_id is None:
            fresh = self._insert_ignore(
                session, ReportRecord, ["key"], key=key, organization_id=organization_id, year=year
            )
            report_id = connection.execute(locked).scalar_one()
            # Someone else created the report meanwhile: under its lock now, check for the same content again.
            stored = None if fresh else self._version_with(connection, sha)
        else:
            fresh = 0
            stored = self._version_with(connection, sha)
        if stored is not None:
            return SaveResult(version_id=stored, created=False)
        previous = None
        if not fresh:  # a report created just now has no versions yet
            previous = connection.execute(
                select(VersionRecord.id).where(
                    VersionRecord.report_id == report_id, col(VersionRecord.superseded_by).is_(None)
                )
            ).scalar()
        inserted = connection.execute(
            insert(VersionRecord).values(
                report_id=report_id,
                sha256=sha,
                source_path=report.source.path,
                format=report.source.format,
                received_at=when,
                contract=report.to_contract(),
                evidence=report.evidence.model_dump(mode="json", by_alias=True),
            )
        )
        version_id: int = inserted.inserted_primary_key[0]  # type: ignore[index]
        if previous is not None:
            connection.execute(
                update(VersionRecord).where(VersionRecord.id == previous).values(superseded_by=version_id)
            )
        self._index_prose(connection, version_id, report)
        new, resolved = self._track_findings(
            connection,
            (report_id, organization_id, year),
            version_id,
            report.findings,
            when,
            rule_versions,
            bool(fresh),
        )
        return SaveResult(
            version_id=version_id,
            created=True,
            new_findings=new,
            resolved_findings=resolved,
            previous_version_id=previous,
        )

    def _adopt_folder_region(self, session: Session, version_id: int, report: Report) -> None:
        """The same content again, now from a folder that names its region (<share>/房县/白鹤镇/): a report stored
        under the same body without a region moves to the body of that region, with its findings — unless that
        body already has a report of the year (two contents of one report are not merged here)."""
        region = report.evidence.folder_region
        key = identity(report)
        if not region or key is None:
            return
        connection = session.connection()
        stored = connection.execute(
            sqlalchemy.select(  # sqlmodel's `select` is typed for at most four columns
                col(ReportRecord.id),
                col(ReportRecord.year),
                col(ReportRecord.organization_id),
                col(OrganizationRecord.name_key),
                col(OrganizationRecord.region_key),
            )
            .join(VersionRecord, VersionRecord.report_id == ReportRecord.id)
            .join(OrganizationRecord, OrganizationRecord.id == ReportRecord.organization_id)
            .where(VersionRecord.id == version_id)
        ).first()
        if stored is None or stored.region_key or stored.name_key != key[0] or stored.year is None:
            return
        organization_id = self._organization_id(session, report)
        new_key = f"{organization_id}/{stored.year}"
        if connection.execute(select(ReportRecord.id).where(ReportRecord.key == new_key)).first() is not None:
            return
        connection.execute(
            update(ReportRecord)
            .where(ReportRecord.id == stored.id)
            .values(organization_id=organization_id, key=new_key)
        )
        connection.execute(
            update(FindingRecord).where(FindingRecord.report_id == stored.id).values(organization_id=organization_id)
        )
        for version in connection.execute(
            select(VersionRecord.id, VersionRecord.contract, VersionRecord.evidence).where(
                VersionRecord.report_id == stored.id
            )
        ).all():
            contract = {**version.contract, "organization": {**version.contract["organization"], "region": region}}
            evidence = {**version.evidence, "folder_region": region}
            connection.execute(
                update(VersionRecord).where(VersionRecord.id == version.id).values(contract=contract, evidence=evidence)
            )
        left = select(ReportRecord.id).where(ReportRecord.organization_id == stored.organization_id)
        connection.execute(
            delete(OrganizationRecord).where(OrganizationRecord.id == stored.organization_id, ~left.exists())
        )

    def _index_prose(self, connection: Connection, version_id: int, report: Report) -> None:
        if report.year is None or identity(report) is None:
            return  # a report of no known body and year is nobody's peer
        bands = report_bands(report)
        if bands:
            connection.execute(
                insert(ProseBandRecord),
                [{"version_id": version_id, "year": report.year, "part": part, "band_key": key} for part, key in bands],
            )

    def peer_reports(self, report: Report, limit: int = 20) -> list[Report]:
        """Other bodies' current versions of the same year whose prose shares an LSH band with the report's
        (candidates for narrative.copied_from_peer), most shared bands first."""
        bands = report_bands(report)
        if report.year is None or not bands:
            return []
        key = identity(report)
        with self._session() as session:
            own = self._organization(session, *key) if key else None
            shared = func.count(ProseBandRecord.id)
            query = (
                select(ProseBandRecord.version_id, shared)
                .join(VersionRecord, VersionRecord.id == ProseBandRecord.version_id)
                .join(ReportRecord, ReportRecord.id == VersionRecord.report_id)
                .where(
                    ProseBandRecord.year == report.year,
                    col(ProseBandRecord.band_key).in_(sorted({band for _, band in bands})),
                    col(VersionRecord.superseded_by).is_(None),
                    VersionRecord.sha256 != report.source.sha256,
                )
                .group_by(ProseBandRecord.version_id)
                .order_by(shared.desc())
                .limit(limit)
            )
            if own is not None:
                query = query.where(ReportRecord.organization_id != own.id)
            ids = [version_id for version_id, _ in session.exec(query)]
            versions = [session.get(VersionRecord, version_id) for version_id in ids]
            return [_report(version) for version in versions if version is not None]

    @staticmethod
    def _version_with(connection: Connection, sha256: str) -> int | None:
        return connection.execute(select(VersionRecord.id).where(VersionRecord.sha256 == sha256)).scalar()

    def _organization_id(self, session: Session, report: Report) -> int | None:
        key = identity(report)
        if key is None:
            return None
        name, region = key
        connection = session.connection()
        query = select(OrganizationRecord.id, OrganizationRecord.level).where(
            OrganizationRecord.name_key == name, OrganizationRecord.region_key == (region or "")
        )
        row = connection.execute(query).first()
        if row is None:
            self._insert_ignore(
                session,
                OrganizationRecord,
                ["name_key", "region_key"],
                name=report.organization.name,
                name_key=name,
                region=region,
                region_key=region or "",
                level=report.organization.level,
            )
            row = connection.execute(query).one()
        organization_id, level = row
        if level == "unknown" and report.organization.level != "unknown":
            connection.execute(
                update(OrganizationRecord)
                .where(OrganizationRecord.id == organization_id)
                .values(level=report.organization.level)
            )
        return organization_id

    @staticmethod
    def _track_findings(
        connection: Connection,
        target: tuple[int, int | None, int | None],
        version_id: int,
        findings: Sequence[Finding],
        when: datetime,
        rule_versions: dict[str, int],
        fresh: bool = False,
    ) -> tuple[list[Finding], list[Finding]]:
        """Carry the findings of report `target` (id, organization id, year) forward to `version_id`:
        (new ones, resolved ones). A `fresh` report (created by this save) has none to carry."""
        report_id, organization_id, year = target
        known = {}
        if not fresh:
            query = select(FindingRecord.__table__).where(FindingRecord.report_id == report_id)  # type: ignore[attr-defined]
            known = {row.fingerprint: row for row in connection.execute(query)}
        inserts: list[dict[str, Any]] = []
        changed: list[dict[str, Any]] = []
        carried: list[int] = []
        new: list[Finding] = []
        for finding, fingerprint in zip(findings, finding_fingerprints(findings), strict=True):
            content = {
                "rule_version": rule_versions.get(finding.rule),
                "severity": finding.severity,
                "message": finding.message,
                "location": finding.location,
                "cells": list(finding.cells),
                "expected": finding.expected,
                "actual": finding.actual,
            }
            row = known.pop(fingerprint, None)
            if row is None:
                inserts.append(
                    {
                        **content,
                        "report_id": report_id,
                        "organization_id": organization_id,
                        "year": year,
                        "fingerprint": fingerprint,
                        "rule": finding.rule,
                        "first_seen": when,
                        "last_seen": when,
                        "first_version_id": version_id,
                        "last_version_id": version_id,
                    }
                )
                new.append(finding)
                continue
            carried.append(row.id)
            if any(getattr(row, column) != value for column, value in content.items()):
                changed.append({"finding_id": row.id, **{f"new_{column}": value for column, value in content.items()}})
        if inserts:
            connection.execute(insert(FindingRecord), inserts)
        if carried:
            connection.execute(
                update(FindingRecord)
                .where(col(FindingRecord.id).in_(carried))
                .values(last_seen=when, last_version_id=version_id, resolved_at=None, resolved_version_id=None)
            )
        if changed:
            columns = [column for column in changed[0] if column != "finding_id"]
            connection.execute(
                update(FindingRecord)
                .where(FindingRecord.id == bindparam("finding_id"))
                .values({column.removeprefix("new_"): bindparam(column) for column in columns}),
                changed,
            )
        gone = [row for row in known.values() if row.resolved_at is None]
        if gone:
            connection.execute(
                update(FindingRecord)
                .where(col(FindingRecord.id).in_([row.id for row in gone]))
                .values(resolved_at=when, resolved_version_id=version_id)
            )
        return new, [_finding(row) for row in gone]

    def version_id(self, sha256: str) -> int | None:
        """The stored version with this content, if any."""
        if not sha256:
            return None
        with self._session() as session:
            return self._version_with(session.connection(), sha256)

    def superseded_before(self, cutoff: datetime) -> list[str]:
        """The contents (SHA-256) of versions superseded by a version received before `cutoff` (evidence that
        the retention setting lets go)."""
        successor = VersionRecord.__table__.alias("successor")  # type: ignore[attr-defined]
        query = (
            select(VersionRecord.sha256)
            .join(successor, successor.c.id == VersionRecord.superseded_by)
            .where(successor.c.received_at < cutoff)
        )
        with self._session() as session:
            return list(session.exec(query))

    def version_changes(self, version_id: int) -> tuple[list[Finding], list[Finding]]:
        """(findings first seen in this version, findings this version resolved): what `save` returned when it
        created the version, for a worker that stores the same content again after dying before it acted on it."""
        with self._session() as session:
            return self._version_changes(session.connection(), version_id)

    @staticmethod
    def _version_changes(connection: Connection, version_id: int) -> tuple[list[Finding], list[Finding]]:
        report_id = connection.execute(select(VersionRecord.report_id).where(VersionRecord.id == version_id)).scalar()
        rows = connection.execute(
            select(FindingRecord.__table__)  # type: ignore[attr-defined]
            .where(FindingRecord.report_id == report_id)
            .order_by(FindingRecord.id)
        ).all()
        new = [_finding(row) for row in rows if row.first_version_id == version_id]
        return new, [_finding(row) for row in rows if row.resolved_version_id == version_id]

    def report(self, version_id: int) -> Report | None:
        """The full report model of a stored version."""
        with self._session() as session:
            version = session.get(VersionRecord, version_id)
            return _report(version) if version else None

    def earlier_reports(self, report: Report) -> list[Report]:
        """The latest version of each earlier year of the same organization (name key and region equal), newest
        first, preceded by the stored version of the report's own year when its content differs (a revision).
        Whether the report's identity is ambiguous is the caller's question (`report.identity.ambiguity`)."""
        key = identity(report)
        if key is None or report.year is None:
            return []
        with self._session() as session:
            organization = self._organization(session, *key)
            if organization is None:
                return []
            rows = session.exec(
                self._current_versions()
                .where(ReportRecord.organization_id == organization.id, col(ReportRecord.year) <= report.year)
                .order_by(col(ReportRecord.year).desc())
            ).all()
            found = [_report(version) for version in rows]
            return [item for item in found if item.source.sha256 != report.source.sha256]

    def earlier_reports_of(
        self, keys: Collection[tuple[str, str | None]]
    ) -> dict[tuple[str, str | None], list[Report]]:
        """The current version of every stored year of each organization in `keys` (identities), in one query:
        what a batch of reports is judged against (`report.identity.earlier_reports` picks the years)."""
        found: dict[tuple[str, str | None], list[Report]] = {}
        names = sorted({name for name, _ in keys})
        wanted = {(name, region or "") for name, region in keys}
        with self._session() as session:
            for start in range(0, len(names), 500):
                rows = session.exec(
                    select(VersionRecord, OrganizationRecord.name_key, OrganizationRecord.region_key)
                    .join(ReportRecord, VersionRecord.report_id == ReportRecord.id)
                    .join(OrganizationRecord, ReportRecord.organization_id == OrganizationRecord.id)
                    .where(col(VersionRecord.superseded_by).is_(None), col(ReportRecord.year).is_not(None))
                    .where(col(OrganizationRecord.name_key).in_(names[start : start + 500]))
                ).all()
                for version, name, region in rows:
                    if (name, region) in wanted:
                        found.setdefault((name, region or None), []).append(_report(version))
        return found

    def reports_named(self, name_keys: set[str]) -> list[Report]:
        """The latest version of every stored report whose organization's name key is in `name_keys`."""
        found: list[Report] = []
        names = sorted(name_keys)
        with self._session() as session:
            for start in range(0, len(names), 500):
                rows = session.exec(
                    self._current_versions()
                    .join(OrganizationRecord, ReportRecord.organization_id == OrganizationRecord.id)
                    .where(col(OrganizationRecord.name_key).in_(names[start : start + 500]))
                    .order_by(ReportRecord.organization_id, ReportRecord.year)
                ).all()
                found += [_report(version) for version in rows]
        return found

    def known_identities(self, names: Iterable[str] | None = None) -> set[tuple[str, str | None]]:
        """(name key, region) of every stored organization, or of those whose name key is in `names`."""
        query = select(OrganizationRecord.name_key, OrganizationRecord.region)
        if names is not None:
            query = query.where(col(OrganizationRecord.name_key).in_(sorted(set(names))))
        with self._session() as session:
            return {(name, region) for name, region in session.exec(query)}

    @staticmethod
    def _current_versions() -> Any:
        return (
            select(VersionRecord)
            .join(ReportRecord, VersionRecord.report_id == ReportRecord.id)
            .where(col(VersionRecord.superseded_by).is_(None))
        )

    @staticmethod
    def _organization(session: Session, name: str, region: str | None) -> OrganizationRecord | None:
        return session.exec(
            select(OrganizationRecord).where(
                OrganizationRecord.name_key == name_key(name), OrganizationRecord.region_key == (region or "")
            )
        ).first()

    @staticmethod
    def _named_organization(session: Session, name: str, region: str | None) -> OrganizationRecord | None:
        """The body named `name` in `region` ('' = stored without region); with region None, the only body of
        that name, whatever its region."""
        query = select(OrganizationRecord).where(OrganizationRecord.name_key == name_key(name))
        if region is not None:
            query = query.where(OrganizationRecord.region_key == region)
        candidates = session.exec(query.order_by(OrganizationRecord.region_key)).all()
        if len(candidates) > 1:
            raise AmbiguousOrganization(name, [candidate.region for candidate in candidates])
        return candidates[0] if candidates else None

    # -- queries ------------------------------------------------------------------------------------------

    def history(self, name: str, region: str | None = None) -> list[tuple[int, str, str]]:
        """(year, rule, status) of every rule that fired in a year of this body's reports: `fired` when the
        year's current version has it, `fixed` when only superseded versions had it. Sorted by year and rule."""
        with self._session() as session:
            organization = self._named_organization(session, name, region)
            if organization is None:
                return []
            rows = session.exec(
                select(FindingRecord.year, FindingRecord.rule, FindingRecord.resolved_at).where(
                    FindingRecord.organization_id == organization.id, col(FindingRecord.year).is_not(None)
                )
            ).all()
        fired: dict[tuple[int, str], bool] = {}
        for year, rule, resolved_at in rows:
            if year is None:  # excluded by the query; the column is nullable
                continue
            fired[(year, rule)] = fired.get((year, rule), False) or resolved_at is None
        return [(year, rule, "fired" if fired[(year, rule)] else "fixed") for year, rule in sorted(fired)]

    def versions(self, name: str, region: str | None = None) -> list[VersionRow]:
        """Every stored version of this body's reports, by year and then in the order received."""
        with self._session() as session:
            organization = self._named_organization(session, name, region)
            if organization is None:
                return []
            rows = session.exec(
                select(VersionRecord, ReportRecord.year)
                .join(ReportRecord, VersionRecord.report_id == ReportRecord.id)
                .where(ReportRecord.organization_id == organization.id)
                .order_by(ReportRecord.year, VersionRecord.id)
            ).all()
        return [
            VersionRow(
                id=version.id,  # type: ignore[arg-type]
                organization=organization.name,
                region=organization.region,
                year=year,
                sha256=version.sha256,
                source_path=version.source_path,
                format=version.format,
                received_at=version.received_at,
                superseded_by=version.superseded_by,
            )
            for version, year in rows
        ]

    def findings(
        self,
        rule: str | None = None,
        region: str | None = None,
        year: int | None = None,
        severity: str | None = None,
        open_only: bool = False,
        *,
        organization: str | None = None,
        limit: int | None = None,
    ) -> list[FindingRow]:
        """Findings across all reports, filtered; sorted by region, organization, year and rule. `open_only`: those
        neither resolved nor dismissed by a reviewer (`storage.status`)."""
        query = (
            sqlalchemy.select(  # sqlmodel's `select` is typed for at most four columns
                col(FindingRecord.id),
                col(OrganizationRecord.name),
                col(OrganizationRecord.region),
                col(FindingRecord.year),
                col(FindingRecord.rule),
                col(FindingRecord.rule_version),
                col(FindingRecord.severity),
                col(FindingRecord.message),
                col(FindingRecord.location),
                col(FindingRecord.cells),
                col(FindingRecord.expected),
                col(FindingRecord.actual),
                col(FindingRecord.first_seen),
                col(FindingRecord.last_seen),
                col(FindingRecord.resolved_at),
                col(FindingRecord.last_version_id),
                col(VersionRecord.source_path),
                decision_in_force(),
            )  # in the order of FindingRow's fields
            .join(OrganizationRecord, FindingRecord.organization_id == OrganizationRecord.id, isouter=True)
            .join(VersionRecord, FindingRecord.last_version_id == VersionRecord.id)
        )
        if rule is not None:
            query = query.where(FindingRecord.rule == rule)
        # Bodies as a subquery, so that the planner reaches findings through (organization_id, year).
        bodies = select(OrganizationRecord.id)
        if region is not None:
            bodies = bodies.where(OrganizationRecord.region_key == region)
        if organization is not None:
            bodies = bodies.where(OrganizationRecord.name_key == name_key(organization))
        if region is not None or organization is not None:
            query = query.where(col(FindingRecord.organization_id).in_(bodies))
        if year is not None:
            query = query.where(FindingRecord.year == year)
        if severity is not None:
            query = query.where(FindingRecord.severity == severity)
        if open_only:
            query = query.where(open_condition())
        query = query.order_by(
            OrganizationRecord.region_key,
            OrganizationRecord.name_key,
            FindingRecord.year,
            FindingRecord.rule,
            FindingRecord.id,
        )
        if limit is not None:
            query = query.limit(limit)
        with self._session() as session:
            return [FindingRow(*tuple(row)) for row in session.connection().execute(query)]

    # -- the watcher's ledger -----------------------------------------------------------------------------

    def ledger_seen(self, path: str, sha256: str, size: int | None) -> LedgerEntry:
        """Record that the watcher saw this content at `path`; the entry is `new` unless seen before."""

        def work(session: Session) -> LedgerEntry:
            now = utcnow()
            self._insert_ignore(
                session,
                LedgerRecord,
                ["path", "sha256"],
                path=path,
                sha256=sha256,
                size=size,
                state="new",
                attempts=0,
                seen_at=now,
                updated_at=now,
            )
            return _ledger_entry(self._ledger_row(session, path, sha256))

        return self._write(work)

    def ledger_mark(
        self, path: str, sha256: str, state: str, *, error: str | None = None, version_id: int | None = None
    ) -> LedgerEntry:
        """Move an entry to `state` (recording it if the watcher never did); `processing` counts an attempt.
        `error` replaces the last error (None clears it); `version_id` is kept unless a new one is given."""
        if state not in LEDGER_STATES:
            raise ValueError(f"ledger state {state!r} is not one of {LEDGER_STATES}")

        def work(session: Session) -> LedgerEntry:
            now = utcnow()
            self._insert_ignore(
                session,
                LedgerRecord,
                ["path", "sha256"],
                path=path,
                sha256=sha256,
                size=None,
                state=state,
                attempts=0,
                seen_at=now,
                updated_at=now,
            )
            row = self._ledger_row(session, path, sha256)
            row.state, row.error, row.updated_at = state, error, now
            row.attempts += state == "processing"
            if version_id is not None:
                row.version_id = version_id
            session.add(row)
            session.flush()
            return _ledger_entry(row)

        return self._write(work)

    def ledger_take(
        self, files: Sequence[tuple[str, str, int | None]], unreadable: Sequence[tuple[str, str, str]] = ()
    ) -> list[tuple[str, str]]:
        """The watcher's batch, in one transaction: record each (path, sha256, size) seen and move those that are
        `new` to `queued`; record each (path, key, reason) of `unreadable` as `failed`. Returns the (path, sha256)
        now queued, in the order given: content seen before at its path is not queued again."""

        def work(session: Session) -> list[tuple[str, str]]:
            now = utcnow()
            rows = [
                {"path": path, "sha256": sha, "size": size, "state": "new", "attempts": 0, "seen_at": now,
                 "updated_at": now}
                for path, sha, size in files
            ]  # fmt: skip
            rows += [
                {"path": path, "sha256": key, "size": None, "state": "failed", "attempts": 0, "seen_at": now,
                 "updated_at": now}
                for path, key, _ in unreadable
            ]  # fmt: skip
            self._insert_ledger(session, rows)
            self._ledger_update(
                session, [{"path": p, "sha256": k, "state": "failed", "error": why} for p, k, why in unreadable], now
            )
            states = self._ledger_rows(session, [(path, sha) for path, sha, _ in files])
            queued = [(path, sha) for path, sha, _ in files if states[(path, sha)].state == "new"]
            self._ledger_update(session, [{"path": p, "sha256": k, "state": "queued"} for p, k in queued], now)
            return list(dict.fromkeys(queued))

        return self._write(work)

    def ledger_mark_many(self, changes: Sequence[tuple[str, str, str, str | None]]) -> None:
        """Move many entries, each (path, sha256, state, error), in one transaction (no attempt is counted)."""
        for _, _, state, _ in changes:
            if state not in LEDGER_STATES:
                raise ValueError(f"ledger state {state!r} is not one of {LEDGER_STATES}")

        def work(session: Session) -> None:
            rows = [
                {"path": path, "sha256": sha, "state": state, "error": error} for path, sha, state, error in changes
            ]
            self._ledger_update(session, rows, utcnow())

        if changes:
            self._write(work)

    def ledger_claim(
        self, items: Sequence[tuple[str, str]], max_attempts: int, recent: timedelta = timedelta(0)
    ) -> list[LedgerEntry]:
        """A worker's claim on a batch, in one transaction: each (path, sha256) not yet `stored` or `failed`
        becomes `processing` with one more attempt, or `failed` when it already had `max_attempts` (it crashed
        or hung its workers each time). An entry claimed less than `recent` ago is claimed again without an
        attempt: a duplicate delivery or a retry after a transient error, not a worker that died on it.
        Returns the entries as they are afterwards, in the order given; on PostgreSQL, rows another worker is
        claiming at this moment are skipped (`FOR UPDATE SKIP LOCKED`) and left out of the result."""

        def work(session: Session) -> list[LedgerEntry]:
            now = utcnow()
            self._insert_ledger(
                session,
                [{"path": path, "sha256": sha, "size": None, "state": "new", "attempts": 0, "seen_at": now,
                  "updated_at": now} for path, sha in items],
            )  # fmt: skip
            rows = self._ledger_rows(session, items, skip_locked=True)
            claimed: list[LedgerEntry] = []
            for key in dict.fromkeys(items):
                row = rows.get(key)
                if row is None:
                    continue
                if row.state == "processing" and row.updated_at > now - recent:
                    pass  # claimed a moment ago: processed again (idempotent), no attempt spent
                elif row.state not in ("stored", "failed"):
                    if row.attempts >= max_attempts:
                        row.state = "failed"
                        row.error = f"已尝试处理 {row.attempts} 次均未完成（处理时进程崩溃、被终止或超时），不再重试"
                    else:
                        row.state, row.error = "processing", None
                        row.attempts += 1
                    row.updated_at = now
                    session.add(row)
                claimed.append(_ledger_entry(row))
            return claimed

        return self._write(work)

    @classmethod
    def _insert_ledger(cls, session: Session, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        session.connection().execute(_insert_ignoring(session, LedgerRecord, ["path", "sha256"]), rows)

    @staticmethod
    def _ledger_rows(
        session: Session, keys: Sequence[tuple[str, str]], *, skip_locked: bool = False
    ) -> dict[tuple[str, str], LedgerRecord]:
        """The ledger rows of (path, sha256) keys, locked (PostgreSQL; SQLite's write transaction is exclusive)."""
        found: dict[tuple[str, str], LedgerRecord] = {}
        paths = sorted({path for path, _ in keys})
        wanted = set(keys)
        for start in range(0, len(paths), 500):
            query = (
                select(LedgerRecord)
                .where(col(LedgerRecord.path).in_(paths[start : start + 500]))
                .order_by(LedgerRecord.id)
                .with_for_update(skip_locked=skip_locked)
            )
            for row in session.exec(query):
                if (row.path, row.sha256) in wanted:
                    found[(row.path, row.sha256)] = row
        return found

    @staticmethod
    def _ledger_update(session: Session, changes: list[dict[str, Any]], now: datetime) -> None:
        """Set `state` (and `error`, `version_id` when a change has them) of ledger rows by (path, sha256)."""
        if not changes:
            return
        table = LedgerRecord.__table__  # type: ignore[attr-defined]
        for columns in sorted({tuple(sorted(change)) for change in changes}):
            group = [{f"b_{k}": v for k, v in change.items()} for change in changes if tuple(sorted(change)) == columns]
            values: dict[str, Any] = {
                column: bindparam(f"b_{column}") for column in columns if column not in ("path", "sha256")
            }
            if "error" not in values:
                values["error"] = None
            session.connection().execute(
                update(table)
                .where(table.c.path == bindparam("b_path"), table.c.sha256 == bindparam("b_sha256"))
                .values(**values, updated_at=now),
                group,
            )

    def ledger_stale(self, older_than: timedelta, max_attempts: int) -> list[LedgerEntry]:
        """Entries still `new`, `queued` or `processing` after `older_than`, with attempts left: oldest first."""
        query = (
            select(LedgerRecord)
            .where(
                col(LedgerRecord.state).in_(LEDGER_PENDING),
                col(LedgerRecord.updated_at) < utcnow() - older_than,
                col(LedgerRecord.attempts) < max_attempts,
            )
            .order_by(LedgerRecord.updated_at, LedgerRecord.id)
        )
        with self._session() as session:
            return [_ledger_entry(row) for row in session.exec(query)]

    def ledger_entry(self, path: str) -> LedgerEntry | None:
        """The most recently updated entry for a path."""
        query = (
            select(LedgerRecord)
            .where(LedgerRecord.path == path)
            .order_by(col(LedgerRecord.updated_at).desc(), col(LedgerRecord.id).desc())
        )
        with self._session() as session:
            row = session.exec(query).first()
            return _ledger_entry(row) if row else None

    def ledger_files(self, state: str | None = None, limit: int = 100) -> list[LedgerEntry]:
        """The newest entry of each path, most recently updated first; only those in `state` when given (what
        `nianbao files` lists: which files failed and why)."""
        query = select(LedgerRecord).order_by(col(LedgerRecord.updated_at).desc(), col(LedgerRecord.id).desc())
        newest: dict[str, LedgerEntry] = {}
        with self._session() as session:
            for row in session.exec(query):
                if row.path not in newest:
                    newest[row.path] = _ledger_entry(row)
        return [entry for entry in newest.values() if state in (None, entry.state)][:limit]

    @staticmethod
    def _ledger_row(session: Session, path: str, sha256: str) -> LedgerRecord:
        return session.exec(
            select(LedgerRecord).where(LedgerRecord.path == path, LedgerRecord.sha256 == sha256).with_for_update()
        ).one()

    # -- notifications ------------------------------------------------------------------------------------

    def outbox_add(
        self, version_id: int | None, title: str, body: str, tags: Sequence[str], *, kind: str = "new_findings"
    ) -> int:
        """Queue a notification about a version; the same (version, kind) again returns the queued item's id.
        Without a version (a report that never arrived) the caller makes sure it queues the item once."""

        def work(session: Session) -> int:
            now = utcnow()
            if version_id is None:
                return session.connection().execute(
                    insert(OutboxRecord).values(
                        version_id=None, kind=kind, title=title, body=body, tags=list(tags), state="pending",
                        attempts=0, created_at=now, next_attempt_at=now,
                    )
                ).inserted_primary_key[0]  # type: ignore[index]  # fmt: skip
            self._insert_ignore(
                session,
                OutboxRecord,
                ["version_id", "kind"],
                version_id=version_id,
                kind=kind,
                title=title,
                body=body,
                tags=list(tags),
                state="pending",
                attempts=0,
                created_at=now,
                next_attempt_at=now,
            )
            item_id = session.exec(
                select(OutboxRecord.id).where(OutboxRecord.version_id == version_id, OutboxRecord.kind == kind)
            ).one()
            return item_id  # type: ignore[return-value]

        return self._write(work)

    def alert_targets_add(self, targets: Iterable[str]) -> list[str]:
        """Record the configured targets; those seen for the first time (a target configured later)."""

        def work(session: Session) -> list[str]:
            now = utcnow()
            return [
                target
                for target in targets
                if self._insert_ignore(
                    session, AlertTargetRecord, ["target"], target=target, first_seen_at=now, next_message_at=now
                )
            ]

        return self._write(work)

    def versions_never_alerted(self, *, resolved: bool) -> list[int]:
        """Versions with findings first seen in them (or, with `resolved`, findings they resolved) about which no
        outbox item exists: stored while no target (or none that wanted them) was configured. Oldest first."""
        no_item = ~select(OutboxRecord.id).where(OutboxRecord.version_id == FindingRecord.first_version_id).exists()
        first_seen = select(FindingRecord.first_version_id).where(no_item)
        query: Executable = first_seen
        if resolved:
            no_item_resolved = (
                ~select(OutboxRecord.id).where(OutboxRecord.version_id == FindingRecord.resolved_version_id).exists()
            )
            query = first_seen.union(
                select(FindingRecord.resolved_version_id).where(
                    col(FindingRecord.resolved_version_id).is_not(None), no_item_resolved
                )
            )
        with self._session() as session:
            return sorted({version_id for (version_id,) in session.connection().execute(query)})

    def digest_claim(
        self, spacing: Mapping[str, timedelta], group_wait: timedelta, *, lease: timedelta = OUTBOX_LEASE
    ) -> Digest | None:
        """The next message to send to one of the targets in `spacing` (target → least time between two of its
        messages), claimed for `lease` so that concurrent senders do not send it twice: a digest that is due again
        (refused before, or its sender died before `digest_mark`), else a new digest of every item waiting for a
        target that may receive a message now, once its oldest item has waited `group_wait`. None when nothing
        is due. A target with an unsent digest gets no new one: its items wait for that one to go out."""

        def work(session: Session) -> Digest | None:
            now = utcnow()
            ready = (
                select(AlertTargetRecord.target)
                .where(col(AlertTargetRecord.target).in_(list(spacing)), AlertTargetRecord.next_message_at <= now)
                .order_by(AlertTargetRecord.next_message_at)
                .with_for_update(skip_locked=True)
            )
            targets = list(session.exec(ready))
            if not targets:
                return None
            again = session.exec(
                select(DigestRecord)
                .where(col(DigestRecord.target).in_(targets), col(DigestRecord.state).in_(DIGEST_OPEN))
                .where(DigestRecord.next_attempt_at <= now)
                .order_by(DigestRecord.next_attempt_at, DigestRecord.id)
                .limit(1)
                .with_for_update(skip_locked=True)
            ).first()
            if again is not None:
                again.next_attempt_at = now + lease
                session.add(again)
                session.connection().execute(
                    update(AlertTargetRecord)
                    .where(AlertTargetRecord.target == again.target)
                    .values(next_message_at=now + spacing[again.target])
                )
                return self._digest(session, again)
            busy = set(
                session.exec(
                    select(DigestRecord.target).where(
                        col(DigestRecord.target).in_(targets), col(DigestRecord.state).in_(DIGEST_OPEN)
                    )
                )
            )
            for target in targets:
                if target in busy:
                    continue
                waiting = _waiting_for(target)
                oldest = session.exec(select(func.min(OutboxRecord.created_at)).where(*waiting)).one()
                if oldest is None or _aware(oldest) > now - group_wait:
                    continue
                digest = DigestRecord(
                    key=uuid.uuid4().hex, target=target, state="pending", attempts=0, created_at=now,
                    next_attempt_at=now + lease,
                )  # fmt: skip
                session.add(digest)
                session.flush()
                session.connection().execute(update(OutboxRecord).where(*waiting).values(digest_id=digest.id))
                session.connection().execute(
                    update(AlertTargetRecord)
                    .where(AlertTargetRecord.target == target)
                    .values(next_message_at=now + spacing[target])
                )
                return self._digest(session, digest)
            return None

        return self._write(work)

    def digest_next_due(self, targets: Collection[str], group_wait: timedelta) -> DigestDue | None:
        """The next message `digest_claim` will have for one of `targets` (read only); None when nothing waits
        for them."""
        due: list[DigestDue] = []
        with self._session() as session:
            limits = session.exec(
                select(AlertTargetRecord).where(col(AlertTargetRecord.target).in_(list(targets)))
            ).all()
            for limit in limits:
                retry = session.exec(
                    select(func.min(DigestRecord.next_attempt_at)).where(
                        DigestRecord.target == limit.target, col(DigestRecord.state).in_(DIGEST_OPEN)
                    )
                ).one()
                if retry is None:
                    waiting = _waiting_for(limit.target)
                    oldest = session.exec(select(func.min(OutboxRecord.created_at)).where(*waiting)).one()
                    if oldest is None:
                        continue
                    retry = _aware(oldest) + group_wait
                when = max(_aware(retry), _aware(limit.next_message_at))
                due.append(DigestDue(limit.target, when, limit.wake_at))
        return min(due, key=lambda item: item.when, default=None)

    def digest_wake(self, target: str, when: datetime) -> bool:
        """Whether the caller should schedule a delivery pass for `target` at `when`: True unless one is already
        scheduled between now and then (recorded here), so a burst of passes schedules one follow-up, not one
        each. A scheduled pass that was lost only delays the next one until `when` has passed."""

        def work(session: Session) -> bool:
            now = utcnow()
            scheduled = col(AlertTargetRecord.wake_at)
            statement = (
                update(AlertTargetRecord)
                .where(AlertTargetRecord.target == target)
                .where(scheduled.is_(None) | (scheduled < now) | (scheduled > when))
                .values(wake_at=when)
            )
            return session.connection().execute(statement).rowcount == 1

        return self._write(work)

    def digest_mark(
        self,
        digest_id: int,
        *,
        sent: bool,
        error: str | None = None,
        first_backoff: timedelta = OUTBOX_FIRST_BACKOFF,
        max_backoff: timedelta = OUTBOX_MAX_BACKOFF,
    ) -> None:
        """Record one attempt to send a digest, for it and each of its items, in one transaction of prepared
        statements (it is the window in which a message the channel accepted is not yet recorded). A refusal is
        retried after a backoff that doubles from `first_backoff` up to `max_backoff` (settings
        outbox_first_backoff, outbox_max_backoff); after OUTBOX_MAX_ATTEMPTS the digest and its items are
        `abandoned`."""

        def work(session: Session) -> None:
            now = utcnow()
            connection = session.connection()
            attempts = 1 + connection.execute(_DIGEST_ATTEMPTS, {"mark_digest": digest_id}).scalar_one()
            if sent:
                state, next_attempt_at = "sent", now
            else:
                state = "abandoned" if attempts >= OUTBOX_MAX_ATTEMPTS else "failed"
                next_attempt_at = now + min(first_backoff * 2 ** (attempts - 1), max_backoff)
            outcome = {
                "mark_digest": digest_id, "new_state": state, "new_error": error, "new_sent_at": now if sent else None,
                "new_next": next_attempt_at, "now": now, "sent": sent,
            }  # fmt: skip
            connection.execute(_MARK_DIGEST, {**outcome, "new_attempts": attempts})
            connection.execute(_MARK_ITEMS, outcome)
            connection.execute(_RECORD_ATTEMPTS, outcome)

        self._write(work)

    def digest(self, digest_id: int) -> Digest | None:
        with self._session() as session:
            row = session.get(DigestRecord, digest_id)
            return self._digest(session, row) if row else None

    @staticmethod
    def _digest(session: Session, row: DigestRecord) -> Digest:
        items = session.exec(select(OutboxRecord).where(OutboxRecord.digest_id == row.id).order_by(OutboxRecord.id))
        return Digest(
            id=row.id,  # type: ignore[arg-type]
            key=row.key,
            target=row.target,
            state=row.state,
            attempts=row.attempts,
            last_error=row.last_error,
            created_at=row.created_at,
            sent_at=row.sent_at,
            items=[_outbox_item(item) for item in items],
        )

    def outbox_item(self, item_id: int) -> OutboxItem | None:
        with self._session() as session:
            row = session.get(OutboxRecord, item_id)
            return _outbox_item(row) if row else None

    def outbox_for(self, version_id: int) -> list[OutboxItem]:
        """Every outbox item about a version (one per message kind and target), in the order queued."""
        query = select(OutboxRecord).where(OutboxRecord.version_id == version_id).order_by(OutboxRecord.id)
        with self._session() as session:
            return [_outbox_item(row) for row in session.exec(query)]

    def notifications(self, item_id: int) -> list[tuple[datetime, bool, str | None]]:
        """(attempted at, sent, error) of every delivery attempt of an outbox item, in order."""
        query = (
            select(NotificationRecord).where(NotificationRecord.outbox_id == item_id).order_by(NotificationRecord.id)
        )
        with self._session() as session:
            return [(row.attempted_at, row.sent, row.error) for row in session.exec(query)]

    # -- reviewers and triage -----------------------------------------------------------------------------

    def add_reviewer(self, name: str, password_hash: str) -> Reviewer:
        """Create a reviewer account; StoreError when the name is taken."""

        def work(session: Session) -> Reviewer:
            created = self._insert_ignore(
                session, ReviewerRecord, ["name"], name=name, password_hash=password_hash, created_at=utcnow()
            )
            if not created:
                raise StoreError(f"审核人“{name}”已存在")
            return _reviewer(session.exec(select(ReviewerRecord).where(ReviewerRecord.name == name)).one())

        return self._write(work)

    def set_password(self, name: str, password_hash: str) -> Reviewer:
        """Replace a reviewer's password hash; StoreError when there is no such reviewer."""

        def work(session: Session) -> Reviewer:
            row = session.exec(select(ReviewerRecord).where(ReviewerRecord.name == name)).first()
            if row is None:
                raise StoreError(f"审核人“{name}”不存在")
            row.password_hash = password_hash
            session.add(row)
            session.connection().execute(delete(WebSessionRecord).where(WebSessionRecord.reviewer_id == row.id))
            return _reviewer(row)

        return self._write(work)

    def open_web_session(self, session_id: str, reviewer_id: int) -> None:
        """Record a signed-in session (`session_id`: the hash of the cookie's token)."""
        now = utcnow()
        values = {"id": session_id, "reviewer_id": reviewer_id, "created_at": now, "last_seen_at": now}
        self._write(lambda session: session.connection().execute(insert(WebSessionRecord).values(**values)))

    def web_session(self, session_id: str, idle: timedelta) -> Reviewer | None:
        """The reviewer of a session seen within `idle`, its last-seen time moved on (written at most once a
        minute); None when the session was ended, expired or never was (an expired one is deleted)."""
        now = utcnow()
        fresh = now - min(WEB_SESSION_TOUCH, idle)

        def reviewer_of(session: Session, row: WebSessionRecord) -> Reviewer | None:
            reviewer = session.get(ReviewerRecord, row.reviewer_id)
            return _reviewer(reviewer) if reviewer else None

        with self._session() as session:  # the common case: seen a moment ago, nothing to write
            row = session.get(WebSessionRecord, session_id)
            if row is None:
                return None
            if row.last_seen_at >= fresh:
                return reviewer_of(session, row)

        def work(session: Session) -> Reviewer | None:
            row = session.get(WebSessionRecord, session_id)
            if row is None:
                return None
            if row.last_seen_at < now - idle:
                session.delete(row)
                return None
            row.last_seen_at = now
            session.add(row)
            return reviewer_of(session, row)

        return self._write(work)

    def close_web_sessions(self, *, session_id: str | None = None, reviewer_id: int | None = None) -> int:
        """End one session, or every session of a reviewer; how many were ended."""
        condition = WebSessionRecord.id == session_id if session_id else WebSessionRecord.reviewer_id == reviewer_id
        return self._write(
            lambda session: session.connection().execute(delete(WebSessionRecord).where(condition)).rowcount
        )

    def reviewer(self, name: str) -> Reviewer | None:
        with self._session() as session:
            row = session.exec(select(ReviewerRecord).where(ReviewerRecord.name == name)).first()
            return _reviewer(row) if row else None

    def reviewer_count(self) -> int:
        with self._session() as session:
            return session.exec(select(func.count()).select_from(ReviewerRecord)).one()

    def triage(self, finding_id: int, decision: str, comment: str, reviewer_id: int) -> TriageEntry:
        """Record a reviewer's decision on a finding: on its report (organization and year) and fingerprint, with
        its current wording, so that it holds for later versions that still have the finding unchanged."""
        if decision not in TRIAGE_DECISIONS:
            raise ValueError(f"triage decision {decision!r} is not one of {TRIAGE_DECISIONS}")

        def work(session: Session) -> TriageEntry:
            finding = session.get(FindingRecord, finding_id)
            if finding is None:
                raise StoreError(f"没有编号为 {finding_id} 的发现")
            reviewer = session.get(ReviewerRecord, reviewer_id)
            if reviewer is None:
                raise StoreError("审核人账号不存在")
            row = TriageRecord(
                report_id=finding.report_id,
                fingerprint=finding.fingerprint,
                decision=decision,
                comment=comment,
                message=finding.message,
                reviewer_id=reviewer_id,
                decided_at=utcnow(),
            )
            session.add(row)
            session.flush()
            return _triage_entry(row, reviewer.name)

        return self._write(work)

    def triage_history(self, finding_id: int) -> list[TriageEntry]:
        """Every decision on this finding (its report and fingerprint), newest first."""
        with self._session() as session:
            finding = session.get(FindingRecord, finding_id)
            if finding is None:
                return []
            rows = session.exec(
                select(TriageRecord, ReviewerRecord.name)
                .join(ReviewerRecord, TriageRecord.reviewer_id == ReviewerRecord.id)
                .where(TriageRecord.report_id == finding.report_id, TriageRecord.fingerprint == finding.fingerprint)
                .order_by(col(TriageRecord.id).desc())
            ).all()
            return [_triage_entry(row, name) for row, name in rows]

    def undismissed(self, report: Report, findings: Sequence[Finding]) -> list[Finding]:
        """`findings` (some of `report`'s own) less those a reviewer dismissed as false alarms: the newest decision
        on the fingerprint in this organization's report of this year is `dismiss`, made on the same wording."""
        with self._session() as session:
            return self._undismissed(session, report, findings)

    def _undismissed(self, session: Session, report: Report, findings: Sequence[Finding]) -> list[Finding]:
        prints: dict[str, list[str]] = {}
        for finding, fingerprint in zip(report.findings, finding_fingerprints(report.findings), strict=True):
            prints.setdefault(finding.model_dump_json(), []).append(fingerprint)
        key = identity(report)
        organization = self._organization(session, *key) if key else None
        if key is not None and organization is None:
            return list(findings)  # a body never stored: nothing of it was ever triaged
        if organization is not None and report.year is not None:
            report_key = f"{organization.id}/{report.year}"
        else:
            report_key = f"sha256:{report.source.sha256}"  # as `save` keys a report it cannot match
        decided = {
            row.fingerprint: row
            for row in session.exec(
                select(TriageRecord)
                .join(ReportRecord, TriageRecord.report_id == ReportRecord.id)
                .where(ReportRecord.key == report_key)
                .order_by(TriageRecord.id)
            )
        }
        kept: list[Finding] = []
        for finding in findings:
            candidates = prints.get(finding.model_dump_json(), [])
            row = decided.get(candidates.pop(0)) if candidates else None
            if row is None or row.decision != "dismiss" or row.message != finding.message:
                kept.append(finding)
        return kept


@dataclass
class _FindingsDiff:
    """What a new version does to its report's findings (see `Store._track_findings`)."""

    new: list[Finding]
    resolved: list[Finding]
    inserts: list[dict[str, Any]]  # rows without the report's and version's columns
    carried: list[int]  # finding ids
    changed: list[dict[str, Any]]  # b_id and b_<column> of findings whose content changed
    gone: list[int]  # finding ids resolved by this version


@dataclass
class _Planned:
    """A report of a batch on its way into storage: what can be computed before the database is asked."""

    save: BatchSave
    contract: dict[str, Any]
    evidence: dict[str, Any]
    contents: list[tuple[str, Finding, dict[str, Any]]]  # fingerprint, finding, stored content
    identity: tuple[str, str | None] | None
    hint: tuple[Any, ...]  # (identity, year) or the content hash: two plans alike go in separate rounds
    target: tuple[int | None, int | None] = (None, None)  # (organization id, year) as stored
    key: str = ""
    report_id: int = 0
    previous: int | None = None
    diff: _FindingsDiff = field(default_factory=lambda: _FindingsDiff([], [], [], [], [], []))
    drafts: list[OutboxDraft] = field(default_factory=list)

    @property
    def sha256(self) -> str:
        return self.save.sha256


def _plan(save: BatchSave, rule_versions: dict[str, int]) -> _Planned:
    report = save.report
    if not report.source.sha256:
        raise StoreError(f"{report.source.path}：文件无法读取，没有内容可以入库")
    key = identity(report)
    contents = [
        (fingerprint, finding, _finding_content(finding, rule_versions))
        for finding, fingerprint in zip(report.findings, finding_fingerprints(report.findings), strict=True)
    ]
    return _Planned(
        save=save,
        contract=report.to_contract(),
        evidence=report.evidence.model_dump(mode="json", by_alias=True),
        contents=contents,
        identity=key,
        hint=(key, report.year) if key is not None and report.year is not None else ("sha256", save.sha256),
    )


def _finding_content(finding: Finding, rule_versions: dict[str, int]) -> dict[str, Any]:
    return {
        "rule_version": rule_versions.get(finding.rule),
        "severity": finding.severity,
        "message": finding.message,
        "location": finding.location,
        "cells": list(finding.cells),
        "expected": finding.expected,
        "actual": finding.actual,
    }


def _diff_findings(known_rows: Sequence[Any], plan: _Planned) -> _FindingsDiff:
    known = {row.fingerprint: row for row in known_rows}
    diff = _FindingsDiff([], [], [], [], [], [])
    for fingerprint, finding, content in plan.contents:
        row = known.pop(fingerprint, None)
        if row is None:
            diff.inserts.append({**content, "fingerprint": fingerprint, "rule": finding.rule})
            diff.new.append(finding)
            continue
        diff.carried.append(row.id)
        if any(getattr(row, column) != value for column, value in content.items()):
            diff.changed.append({"b_id": row.id, **{f"b_{column}": value for column, value in content.items()}})
    gone = [row for row in known.values() if row.resolved_at is None]
    diff.gone = [row.id for row in gone]
    diff.resolved = [_finding(row) for row in gone]
    return diff


def _defect(error: Exception) -> str:
    return f"入库出错：{type(error).__name__}: {error}"


def _reviewer(row: ReviewerRecord) -> Reviewer:
    return Reviewer(id=row.id, name=row.name, password_hash=row.password_hash, created_at=row.created_at)  # type: ignore[arg-type]


def _triage_entry(row: TriageRecord, reviewer: str) -> TriageEntry:
    return TriageEntry(
        id=row.id,  # type: ignore[arg-type]
        decision=row.decision,
        comment=row.comment,
        message=row.message,
        reviewer=reviewer,
        decided_at=row.decided_at,
    )


def _report(version: VersionRecord) -> Report:
    return Report.model_validate({**version.contract, "evidence": version.evidence})


def _finding(row: Any) -> Finding:
    return Finding(
        rule=row.rule,
        severity=row.severity,  # type: ignore[arg-type]
        message=row.message,
        location=row.location,
        cells=row.cells,
        expected=row.expected,
        actual=row.actual,
    )


def _ledger_entry(row: LedgerRecord) -> LedgerEntry:
    return LedgerEntry(
        id=row.id,  # type: ignore[arg-type]
        path=row.path,
        sha256=row.sha256,
        size=row.size,
        state=row.state,
        attempts=row.attempts,
        error=row.error,
        version_id=row.version_id,
        seen_at=row.seen_at,
        updated_at=row.updated_at,
    )


def _outbox_item(row: OutboxRecord) -> OutboxItem:
    return OutboxItem(
        id=row.id,  # type: ignore[arg-type]
        version_id=row.version_id,
        kind=row.kind,
        title=row.title,
        body=row.body,
        tags=list(row.tags),
        state=row.state,
        attempts=row.attempts,
        last_error=row.last_error,
        created_at=row.created_at,
        next_attempt_at=row.next_attempt_at,
        sent_at=row.sent_at,
        digest_id=row.digest_id,
    )


def _waiting_for(target: str) -> list[Any]:
    """The conditions of an outbox item waiting for its first digest to `target` (its kind ends in `:target`)."""
    return [
        col(OutboxRecord.digest_id).is_(None),
        col(OutboxRecord.state).in_(("pending", "failed")),
        col(OutboxRecord.kind).endswith(f":{target}", autoescape=True),
    ]


def _aware(moment: datetime) -> datetime:
    """SQLite's aggregates return the stored text's naive datetime; every time in the store is UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# The statements of `Store.digest_mark`, built once: between a channel's answer and its record only their execution
# runs (building and caching them anew took most of the ~5 ms the record took).
_DIGESTS = DigestRecord.__table__  # type: ignore[attr-defined]
_OUTBOX = OutboxRecord.__table__  # type: ignore[attr-defined]
_DIGEST_ATTEMPTS = select(_DIGESTS.c.attempts).where(_DIGESTS.c.id == bindparam("mark_digest")).with_for_update()
_OUTCOME = {
    "state": bindparam("new_state"),
    "last_error": bindparam("new_error", type_=Text()),
    "sent_at": bindparam("new_sent_at", type_=UTCDateTime()),
    "next_attempt_at": bindparam("new_next", type_=UTCDateTime()),
}
_MARK_DIGEST = (
    update(_DIGESTS)
    .where(_DIGESTS.c.id == bindparam("mark_digest"))
    .values(attempts=bindparam("new_attempts"), **_OUTCOME)
)
_MARK_ITEMS = (
    update(_OUTBOX)
    .where(_OUTBOX.c.digest_id == bindparam("mark_digest"))
    .values(attempts=_OUTBOX.c.attempts + 1, **_OUTCOME)
)
_RECORD_ATTEMPTS = insert(NotificationRecord.__table__).from_select(  # type: ignore[attr-defined]
    ["outbox_id", "attempted_at", "sent", "error"],
    select(
        _OUTBOX.c.id,
        bindparam("now", type_=UTCDateTime()),
        bindparam("sent", type_=Boolean()),
        bindparam("new_error", type_=Text()),
    ).where(_OUTBOX.c.digest_id == bindparam("mark_digest")),
)


def _insert_ignoring(session: Session, record: type[SQLModel], conflict: list[str]) -> Executable:
    """INSERT … ON CONFLICT (conflict) DO NOTHING into record's table, in the session's SQL dialect."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(record).on_conflict_do_nothing(index_elements=conflict)
    if dialect == "sqlite":
        return sqlite.insert(record).on_conflict_do_nothing(index_elements=conflict)
    raise StoreError(f"不支持的数据库类型 {dialect}：请使用 SQLite 或 PostgreSQL")
