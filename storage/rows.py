"""The typed rows the store returns and takes: saved versions, findings, ledger entries, outbox items and
digests, batch saves and their outcomes, reviewers and triage decisions, and how a stored record becomes a report
model or a finding again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Text, cast
from sqlalchemy.sql.elements import ColumnElement

from report.model import Evidence, Finding, Report
from storage.tables import (
    VersionRecord,
)


@dataclass(frozen=True)
class SaveResult:
    version_id: int
    created: bool
    new_findings: list[Finding] = field(default_factory=list)
    resolved_findings: list[Finding] = field(default_factory=list)
    # The version this one superseded (the report's previous current version), if any.
    previous_version_id: int | None = None


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


def report_from(version: VersionRecord) -> Report:
    return Report.model_validate({**version.contract, "evidence": version.evidence})


def report_columns() -> tuple[ColumnElement[str], ColumnElement[str]]:
    """A version's contract and evidence as the JSON text stored (`report_from_json` makes the report): no
    ORM record and no Python objects in between, a third of the cost of `report_from` on a version loaded."""
    versions = VersionRecord.__table__  # type: ignore[attr-defined]
    return cast(versions.c.contract, Text), cast(versions.c.evidence, Text)


def report_from_json(contract: str, evidence: str) -> Report:
    """The report of a version from its `report_columns`: the same model as `report_from`, validated from the
    JSON text directly."""
    report = Report.model_validate_json(contract)
    report.evidence = Evidence.model_validate_json(evidence)
    return report


def finding_from(row: Any) -> Finding:
    return Finding(
        rule=row.rule,
        severity=row.severity,  # type: ignore[arg-type]
        message=row.message,
        location=row.location,
        cells=row.cells,
        expected=row.expected,
        actual=row.actual,
    )
