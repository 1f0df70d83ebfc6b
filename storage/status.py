"""A finding's status, one definition for the command line, the exports and the web pages.

A finding is `resolved` when a later version of its report no longer has it; otherwise the reviewers' decision in
force says: `confirmed`, `dismissed` (a false alarm) or `pending` (undecided, or decided on other wording). It is
*open* when it is neither resolved nor dismissed. The decision in force is the newest on the finding's report and
fingerprint, when it was made on the finding's current wording.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Table, and_, case, func, select
from sqlalchemy.sql.elements import ColumnElement

from storage.tables import FindingRecord, TriageRecord

FINDINGS: Table = FindingRecord.__table__  # type: ignore[attr-defined]
TRIAGE: Table = TriageRecord.__table__  # type: ignore[attr-defined]

# The statuses a list can be filtered by, with their Chinese names: a finding's own status, and two groups.
STATUSES = {
    "open": "未整改",
    "pending": "待审核",
    "confirmed": "已确认",
    "dismissed": "已驳回",
    "resolved": "已整改",
    "all": "全部",
}
DECISION_STATUS = {"confirm": "confirmed", "dismiss": "dismissed"}
OPEN_STATUSES = frozenset({"pending", "confirmed"})  # what "open" groups: neither resolved nor dismissed


def finding_status(resolved_at: datetime | None, decision: str | None) -> str:
    """A finding's own status: resolved, confirmed, dismissed or pending."""
    if resolved_at is not None:
        return "resolved"
    return DECISION_STATUS.get(decision or "", "pending")


def decision_in_force() -> Any:
    """The decision in force on the finding of the enclosing query: the newest on its report and fingerprint,
    when it was made on the finding's current wording ('stale' when the wording changed since; NULL: none)."""
    return (
        select(case((TRIAGE.c.message == FINDINGS.c.message, TRIAGE.c.decision), else_="stale"))
        .where(TRIAGE.c.report_id == FINDINGS.c.report_id, TRIAGE.c.fingerprint == FINDINGS.c.fingerprint)
        .order_by(TRIAGE.c.id.desc())
        .limit(1)
        .scalar_subquery()
    )


def open_condition() -> ColumnElement[bool]:
    """The row-level condition of an open finding: neither resolved nor dismissed."""
    return and_(FINDINGS.c.resolved_at.is_(None), func.coalesce(decision_in_force(), "") != "dismiss")


def status_condition(status: str) -> ColumnElement[bool] | None:
    """The row-level condition of a status on the findings table (None for 'all')."""
    if status == "all":
        return None
    if status == "resolved":
        return FINDINGS.c.resolved_at.is_not(None)
    decision = func.coalesce(decision_in_force(), "")
    still_open = FINDINGS.c.resolved_at.is_(None)
    match status:
        case "open":
            return open_condition()
        case "pending":
            return and_(still_open, decision.not_in(("confirm", "dismiss")))
        case "confirmed":
            return and_(still_open, decision == "confirm")
        case "dismissed":
            return and_(still_open, decision == "dismiss")
    raise ValueError(f"unknown status {status!r}")
