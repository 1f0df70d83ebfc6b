"""The registry of bodies and the reports that never arrive.

The registry is the `organizations` table: every body that has ever filed is in it, and `nianbao orgs import`
adds the bodies a 政务公开办 lists in its workbook (name, region, level, parent), whether they filed or not. A body
is overdue for a year when its report for that year is not stored by the deadline that applies to it — the
same dates as publication.late (`rules.legal.deadline_for`). Each (body, year) is alerted once: the notice
is recorded in `overdue_notices`, and closed with a 已收到 note when the report arrives.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from report.identity import identity, name_key
from report.model import Level, Report
from rules.legal import deadline_for
from rules.settings import RuleSettings
from storage.store import Store
from storage.tables import OrganizationRecord, OverdueNoticeRecord, ReportRecord, VersionRecord, utcnow

LEVELS: tuple[str, ...] = ("township", "county", "city", "province", "department", "national", "unknown")
# How a workbook may name a level.
LEVEL_WORDS: dict[str, Level] = {
    "乡镇": "township", "乡": "township", "镇": "township", "街道": "township", "乡镇街道": "township",
    "县": "county", "区": "county", "县区": "county", "县级": "county", "县级人民政府": "county",
    "市": "city", "地市": "city", "市级": "city", "州": "city",
    "省": "province", "省级": "province",
    "部门": "department", "政府部门": "department", "局": "department",
    "国务院部门": "national",
}  # fmt: skip


@dataclass(frozen=True)
class Body:
    """One row of a registry workbook."""

    name: str
    region: str | None = None
    level: Level = "unknown"
    parent: str | None = None


@dataclass(frozen=True)
class OverdueBody:
    organization_id: int
    name: str
    region: str | None
    level: str
    deadline: date
    last_year: int | None  # the latest year it filed for, None when it never filed
    last_received: datetime | None  # when that report was received


@dataclass(frozen=True)
class Notice:
    organization_id: int
    year: int
    deadline: str
    alerted_at: datetime
    received_at: datetime | None


def level_of(text: str | None) -> Level:
    word = (text or "").strip()
    if word in LEVELS:
        return word  # type: ignore[return-value]
    return LEVEL_WORDS.get(word, "unknown")


def import_bodies(store: Store, bodies: Iterable[Body]) -> tuple[int, int]:
    """Add the bodies to the registry, or update level and parent of those known; (added, updated)."""
    added = updated = 0

    def work(session: Session) -> tuple[int, int]:
        nonlocal added, updated
        now = utcnow()
        for body in bodies:
            key, region_key = name_key(body.name), body.region or ""
            inserted = store._insert_ignore(
                session, OrganizationRecord, ["name_key", "region_key"],
                name=body.name, name_key=key, region=body.region, region_key=region_key, level=body.level,
                parent=body.parent, registered_at=now,
            )  # fmt: skip
            if inserted:
                added += 1
                continue
            values: dict[str, object] = {"parent": body.parent, "registered_at": now}
            if body.level != "unknown":
                values["level"] = body.level
            session.connection().execute(
                update(OrganizationRecord)
                .where(OrganizationRecord.name_key == key, OrganizationRecord.region_key == region_key)
                .values(**values)
            )
            updated += 1
        return added, updated

    return store._write(work)


def overdue(store: Store, year: int, as_of: date, settings: RuleSettings) -> list[OverdueBody]:
    """Bodies whose report for `year` is not stored although their deadline passed before `as_of`, by region and
    name. A body known only from its reports counts from the year after its first one (before, nobody watched
    it); a body without region is left out when a namesake with region is known (it may be that one)."""
    with store._session() as session:
        bodies = session.exec(select(OrganizationRecord)).all()
        filed: dict[int, list[int]] = {}
        for organization_id, report_year in session.exec(
            select(ReportRecord.organization_id, ReportRecord.year).where(
                col(ReportRecord.organization_id).is_not(None), col(ReportRecord.year).is_not(None)
            )
        ):
            filed.setdefault(organization_id, []).append(report_year)  # type: ignore[arg-type]
        received = dict(
            session.exec(
                select(ReportRecord.id, func.max(VersionRecord.received_at))
                .join(VersionRecord, VersionRecord.report_id == ReportRecord.id)
                .group_by(ReportRecord.id)
            ).all()
        )
        report_ids = {
            (organization_id, report_year): report_id
            for report_id, organization_id, report_year in session.exec(
                select(ReportRecord.id, ReportRecord.organization_id, ReportRecord.year)
            )
        }
    regional_names = {body.name_key for body in bodies if body.region_key}
    found: list[OverdueBody] = []
    for body in bodies:
        years = filed.get(body.id, [])  # type: ignore[arg-type]
        if year in years or (not body.region_key and body.name_key in regional_names):
            continue
        if body.registered_at is None and (not years or min(years) >= year):
            continue
        limit = deadline_for(year, body.level, settings, f"{body.region or ''} {body.parent or ''}")
        if limit is None:  # level unknown: the outer bound of every level's deadline
            limit = deadline_for(year, "county", settings)
        assert limit is not None
        if as_of <= limit:
            continue
        last = max(years, default=None)
        found.append(
            OverdueBody(
                organization_id=body.id,  # type: ignore[arg-type]
                name=body.name,
                region=body.region,
                level=body.level,
                deadline=limit,
                last_year=last,
                last_received=received.get(report_ids.get((body.id, last))) if last is not None else None,
            )
        )
    return sorted(found, key=lambda item: (item.region or "", item.name))


def record_notice(store: Store, body: OverdueBody, year: int) -> bool:
    """Record that (body, year) is overdue; True the first time, so it is alerted once."""

    def work(session: Session) -> bool:
        return bool(
            store._insert_ignore(
                session,
                OverdueNoticeRecord,
                ["organization_id", "year"],
                organization_id=body.organization_id,
                year=year,
                deadline=body.deadline.isoformat(),
                alerted_at=utcnow(),
            )
        )

    return store._write(work)


def open_notices(store: Store, reports: Iterable[Report]) -> set[tuple[str, str | None, int]]:
    """(name key, region, year) of the reports whose body and year have an open overdue notice, in one read: a
    batch calls `receive` only for those."""
    wanted = {(*key, report.year) for report in reports if (key := identity(report)) and report.year is not None}
    if not wanted:
        return set()
    with store._session() as session:
        rows = session.exec(
            select(OrganizationRecord.name_key, OrganizationRecord.region_key, OverdueNoticeRecord.year)
            .join(OrganizationRecord, OrganizationRecord.id == OverdueNoticeRecord.organization_id)
            .where(
                col(OrganizationRecord.name_key).in_(sorted({name for name, _, _ in wanted})),
                col(OverdueNoticeRecord.received_at).is_(None),
            )
        ).all()
    return {(name, region or None, year) for name, region, year in rows} & wanted


def receive(store: Store, report: Report, version_id: int) -> Notice | None:
    """Close the open overdue notice of the report's body and year, if any: the notice, for the 已收到 note."""
    key = identity(report)
    if key is None or report.year is None:
        return None

    def work(session: Session) -> Notice | None:
        row = session.exec(
            select(OverdueNoticeRecord)
            .join(OrganizationRecord, OrganizationRecord.id == OverdueNoticeRecord.organization_id)
            .where(
                OrganizationRecord.name_key == key[0],
                OrganizationRecord.region_key == (key[1] or ""),
                OverdueNoticeRecord.year == report.year,
                col(OverdueNoticeRecord.received_at).is_(None),
            )
        ).first()
        if row is None:
            return None
        row.received_at, row.received_version_id = utcnow(), version_id
        session.add(row)
        return Notice(row.organization_id, row.year, row.deadline, row.alerted_at, row.received_at)

    return store._write(work)
