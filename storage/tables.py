"""The SQLModel tables: organizations, reports and their versions, findings, the pipeline's ledger and outbox, and
the reviewers' triage of findings.

A *report* is one organization's annual report of one year; each distinct file content received for it is a
*version*, the newest one current and the older ones `superseded_by` their successor. Findings belong to the
report, not to a version: a finding that the next version still has is carried forward (same row, `last_seen`
moves), one the next version no longer has is resolved.

The migrations in `storage/migrations/versions` create exactly these tables; a test compares the two.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel

JSONType = JSON().with_variant(JSONB(), "postgresql")


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite keeps no zone: values are stored as naive UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: storage keeps aware UTC datetimes only")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


def _time(*, nullable: bool = False, index: bool = False) -> Any:
    return Field(default=None, sa_column=Column(UTCDateTime(), nullable=nullable, index=index))


def _json(*, nullable: bool = True) -> Any:
    return Field(default=None, sa_column=Column(JSONType, nullable=nullable))


class OrganizationRecord(SQLModel, table=True):
    """A reporting body, identified by its name key (白鹤镇人民政府 → 白鹤镇) and region.

    `region_key` is the region or '' so that the unique constraint treats "no region" as one value."""

    __tablename__ = "organizations"
    __table_args__ = (
        UniqueConstraint("name_key", "region_key", name="uq_organizations_identity"),
        Index("ix_organizations_region_key", "region_key"),
    )

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(sa_column=Column(Text, nullable=False))
    name_key: str = Field(sa_column=Column(Text, nullable=False))
    region: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    region_key: str = Field(default="", sa_column=Column(Text, nullable=False))
    level: str = Field(default="unknown", sa_column=Column(String(16), nullable=False))
    # The registry of bodies (`nianbao orgs import`): the body above it, and when the registry listed it. A body
    # never imported is known only from its reports.
    parent: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    registered_at: datetime | None = _time(nullable=True)


class ReportRecord(SQLModel, table=True):
    """One organization's report of one year, across its versions.

    `key` is `<organization id>/<year>`; a report that names no organization or no year cannot be matched
    with anything and gets a report of its own, keyed `sha256:<content hash>`."""

    __tablename__ = "reports"
    __table_args__ = (
        UniqueConstraint("key", name="uq_reports_key"),
        Index("ix_reports_organization_year", "organization_id", "year"),
    )

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(sa_column=Column(Text, nullable=False))
    organization_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("organizations.id"), nullable=True)
    )
    year: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))


class VersionRecord(SQLModel, table=True):
    """One file content received for a report: the contract JSON and the parser's evidence (together the full
    `Report` model), where it came from and when."""

    __tablename__ = "report_versions"
    __table_args__ = (
        UniqueConstraint("sha256", name="uq_report_versions_sha256"),
        Index("ix_report_versions_report", "report_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    report_id: int = Field(sa_column=Column(Integer, ForeignKey("reports.id"), nullable=False))
    sha256: str = Field(sa_column=Column(String(64), nullable=False))
    source_path: str = Field(sa_column=Column(Text, nullable=False))
    format: str = Field(sa_column=Column(String(16), nullable=False))
    received_at: datetime = _time()
    contract: dict[str, Any] = _json(nullable=False)
    evidence: dict[str, Any] = _json(nullable=False)
    superseded_by: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("report_versions.id"), nullable=True)
    )


class ProseBandRecord(SQLModel, table=True):
    """One LSH band key of a version's prose part (`rules.similarity`): versions of one year that share a key are
    candidate copies of each other, found without comparing a new report with every stored one."""

    __tablename__ = "prose_bands"
    __table_args__ = (
        Index("ix_prose_bands_year_key", "year", "band_key"),
        Index("ix_prose_bands_version", "version_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    version_id: int = Field(sa_column=Column(Integer, ForeignKey("report_versions.id"), nullable=False))
    year: int = Field(sa_column=Column(Integer, nullable=False))
    part: str = Field(sa_column=Column(String(4), nullable=False))
    band_key: int = Field(sa_column=Column(BigInteger, nullable=False))


class OverdueNoticeRecord(SQLModel, table=True):
    """A body's report for a year not in by its deadline: alerted once (`report.overdue`), and when the report
    then arrives, `received_*` are set and a 已收到 note is sent."""

    __tablename__ = "overdue_notices"
    __table_args__ = (UniqueConstraint("organization_id", "year", name="uq_overdue_notices_body_year"),)

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(sa_column=Column(Integer, ForeignKey("organizations.id"), nullable=False))
    year: int = Field(sa_column=Column(Integer, nullable=False))
    deadline: str = Field(sa_column=Column(String(10), nullable=False))
    alerted_at: datetime = _time()
    received_at: datetime | None = _time(nullable=True)
    received_version_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("report_versions.id"), nullable=True)
    )


class FindingRecord(SQLModel, table=True):
    """One finding of a report, tracked across the report's versions by its fingerprint.

    `organization_id` and `year` repeat the report's so that the cross-report queries need no join."""

    __tablename__ = "findings"
    __table_args__ = (
        UniqueConstraint("report_id", "fingerprint", name="uq_findings_report_fingerprint"),
        # Covers the counts of a rule by year and body (and the web pages' counts over all rules, taken rule by rule).
        Index("ix_findings_rule_year", "rule", "year", "organization_id", "report_id", "resolved_at", "severity"),
        Index("ix_findings_organization_year", "organization_id", "year"),
        Index("ix_findings_organization_rule", "organization_id", "rule"),
    )

    id: int | None = Field(default=None, primary_key=True)
    report_id: int = Field(sa_column=Column(Integer, ForeignKey("reports.id"), nullable=False))
    organization_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("organizations.id"), nullable=True)
    )
    year: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    fingerprint: str = Field(sa_column=Column(String(64), nullable=False))
    rule: str = Field(sa_column=Column(String(128), nullable=False))
    rule_version: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    severity: str = Field(sa_column=Column(String(16), nullable=False))
    message: str = Field(sa_column=Column(Text, nullable=False))
    location: str = Field(sa_column=Column(Text, nullable=False))
    cells: list[str] = _json(nullable=False)
    expected: Any = _json()
    actual: Any = _json()
    first_seen: datetime = _time()
    last_seen: datetime = _time()
    resolved_at: datetime | None = _time(nullable=True)
    first_version_id: int = Field(sa_column=Column(Integer, ForeignKey("report_versions.id"), nullable=False))
    last_version_id: int = Field(sa_column=Column(Integer, ForeignKey("report_versions.id"), nullable=False))
    resolved_version_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("report_versions.id"), nullable=True)
    )


class LedgerRecord(SQLModel, table=True):
    """What the watcher saw at a path with a given content, and how far the pipeline got with it."""

    __tablename__ = "ledger"
    __table_args__ = (
        UniqueConstraint("path", "sha256", name="uq_ledger_path_sha256"),
        Index("ix_ledger_state_updated", "state", "updated_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    path: str = Field(sa_column=Column(Text, nullable=False))
    sha256: str = Field(sa_column=Column(String(64), nullable=False))
    size: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    state: str = Field(default="new", sa_column=Column(String(16), nullable=False))
    attempts: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    version_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("report_versions.id"), nullable=True)
    )
    seen_at: datetime = _time()
    updated_at: datetime = _time()


class OutboxRecord(SQLModel, table=True):
    """A notification to deliver about a stored version, retried with backoff until sent or given up."""

    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("version_id", "kind", name="uq_outbox_version_kind"),
        Index("ix_outbox_state_next_attempt", "state", "next_attempt_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    # None for an alert about a report that has not arrived (report.overdue): no version to point at.
    version_id: int | None = Field(sa_column=Column(Integer, ForeignKey("report_versions.id"), nullable=True))
    kind: str = Field(sa_column=Column(String(32), nullable=False))
    title: str = Field(sa_column=Column(Text, nullable=False))
    body: str = Field(sa_column=Column(Text, nullable=False))
    tags: list[str] = _json(nullable=False)
    state: str = Field(default="pending", sa_column=Column(String(16), nullable=False))
    attempts: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    last_error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime = _time()
    next_attempt_at: datetime = _time()
    sent_at: datetime | None = _time(nullable=True)
    # The message (one item alone, or a digest of several) this item went out in; None while it waits.
    digest_id: int | None = Field(default=None, sa_column=Column(Integer, nullable=True, index=True))


class DigestRecord(SQLModel, table=True):
    """One message to one target carrying one or more outbox items; its `key` goes with every attempt to send it
    (a JSON field, the e-mail's Message-ID), so a receiver can tell a repeated delivery from a new message."""

    __tablename__ = "digests"
    __table_args__ = (
        UniqueConstraint("key", name="uq_digests_key"),
        Index("ix_digests_target_state", "target", "state"),
    )

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(sa_column=Column(String(32), nullable=False))
    target: str = Field(sa_column=Column(String(64), nullable=False))
    state: str = Field(default="pending", sa_column=Column(String(16), nullable=False))
    attempts: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    last_error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime = _time()
    next_attempt_at: datetime = _time()
    sent_at: datetime | None = _time(nullable=True)


class AlertTargetRecord(SQLModel, table=True):
    """A notification target as delivery last saw it: when it may receive its next message (the group interval
    and its rate limit), and when it was first configured."""

    __tablename__ = "alert_targets"

    target: str = Field(sa_column=Column(String(64), primary_key=True))
    first_seen_at: datetime = _time()
    next_message_at: datetime = _time()
    wake_at: datetime | None = _time(nullable=True)  # when a delivery pass is scheduled for it


class NotificationRecord(SQLModel, table=True):
    """One delivery attempt of an outbox item: the record of notifications sent (and of those that failed)."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_outbox", "outbox_id"),)

    id: int | None = Field(default=None, primary_key=True)
    outbox_id: int = Field(sa_column=Column(Integer, ForeignKey("outbox.id"), nullable=False))
    attempted_at: datetime = _time()
    sent: bool = Field(sa_column=Column(Boolean, nullable=False))
    error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class ReviewerRecord(SQLModel, table=True):
    """A reviewer who signs in to the web pages to triage findings (`nianbao user add`); the password is kept as
    an Argon2 hash."""

    __tablename__ = "reviewers"
    __table_args__ = (UniqueConstraint("name", name="uq_reviewers_name"),)

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(sa_column=Column(Text, nullable=False))
    password_hash: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = _time()


class TriageRecord(SQLModel, table=True):
    """A reviewer's decision on a finding: `confirm` (a real problem) or `dismiss` (a false alarm), with a comment.

    Keyed by the report (one organization's report of one year) and the finding's fingerprint, not by a version:
    the decision holds for every later version of the report that still has the finding. `message` is the
    finding's wording when decided: a finding whose wording changed since (other values) is undecided again.
    Every decision is kept; the newest of a (report, fingerprint) is in force."""

    __tablename__ = "triage"
    __table_args__ = (Index("ix_triage_report_fingerprint", "report_id", "fingerprint"),)

    id: int | None = Field(default=None, primary_key=True)
    report_id: int = Field(sa_column=Column(Integer, ForeignKey("reports.id"), nullable=False))
    fingerprint: str = Field(sa_column=Column(String(64), nullable=False))
    decision: str = Field(sa_column=Column(String(16), nullable=False))
    comment: str = Field(default="", sa_column=Column(Text, nullable=False))
    message: str = Field(sa_column=Column(Text, nullable=False))
    reviewer_id: int = Field(sa_column=Column(Integer, ForeignKey("reviewers.id"), nullable=False))
    decided_at: datetime = _time()


class WebSessionRecord(SQLModel, table=True):
    """A reviewer's signed-in session on the web pages, kept server-side so that signing out and a password change
    end it. `id` is the SHA-256 of the random token the session cookie carries (the token itself is not kept)."""

    __tablename__ = "web_sessions"
    __table_args__ = (Index("ix_web_sessions_reviewer", "reviewer_id"),)

    id: str = Field(sa_column=Column(String(64), primary_key=True))
    reviewer_id: int = Field(sa_column=Column(Integer, ForeignKey("reviewers.id"), nullable=False))
    created_at: datetime = _time()
    last_seen_at: datetime = _time()


TABLES = tuple(
    record.__table__  # type: ignore[union-attr]
    for record in (
        OrganizationRecord,
        ReportRecord,
        VersionRecord,
        FindingRecord,
        LedgerRecord,
        OutboxRecord,
        DigestRecord,
        AlertTargetRecord,
        NotificationRecord,
        ReviewerRecord,
        TriageRecord,
        ProseBandRecord,
        OverdueNoticeRecord,
        WebSessionRecord,
    )
)
