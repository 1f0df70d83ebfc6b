"""Reviewers and triage: accounts, signed-in web sessions, and the decisions (confirm, dismiss) on findings
that hold for later versions still carrying a finding unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import (
    delete,
    func,
    insert,
)
from sqlmodel import Session, col, select

from report.identity import identity
from report.model import Finding, Report
from storage.engine import StoreBase
from storage.errors import StoreError
from storage.organizations import stored_organization
from storage.reports import finding_fingerprints
from storage.rows import Reviewer, TriageEntry
from storage.tables import (
    FindingRecord,
    ReportRecord,
    ReviewerRecord,
    TriageRecord,
    WebSessionRecord,
    utcnow,
)

TRIAGE_DECISIONS = ("confirm", "dismiss")
WEB_SESSION_TOUCH = timedelta(minutes=1)  # a session's last-seen time is written at most this often


class ReviewerStore(StoreBase):
    """Reviewer accounts, web sessions and triage decisions."""

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
            return undismissed_findings(session, report, findings)


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


def undismissed_findings(session: Session, report: Report, findings: Sequence[Finding]) -> list[Finding]:
    """`findings` less those a reviewer dismissed, read in the session (see `ReviewerStore.undismissed`)."""
    prints: dict[str, list[str]] = {}
    for finding, fingerprint in zip(report.findings, finding_fingerprints(report.findings), strict=True):
        prints.setdefault(finding.model_dump_json(), []).append(fingerprint)
    key = identity(report)
    organization = stored_organization(session, *key) if key else None
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
