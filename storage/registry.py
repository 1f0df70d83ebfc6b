"""The registry of bodies and the reports that never arrive.

The registry is the `organizations` table: every body that has ever filed is in it, and `nianbao orgs import`
adds the bodies a 政务公开办 lists in its workbook (name, region, level, parent), whether they filed or not. A body
is overdue for a year when its report for that year is not stored by the deadline that applies to it — the
same dates as publication.late (`rules.legal.deadline_for`). Each (body, year) is alerted once: the notice
is recorded in `overdue_notices`, and closed with a 已收到 note when the report arrives.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any
from weakref import WeakKeyDictionary

import sqlalchemy
from sqlalchemy import Table, func, update
from sqlmodel import Session, col, select

from report.identity import identity, name_key
from report.model import Level, Report
from rules.legal import deadline_for
from rules.settings import RuleSettings
from storage.store import Store
from storage.tables import OrganizationRecord, OverdueNoticeRecord, ReportRecord, VersionRecord, utcnow

ORGANIZATIONS: Table = OrganizationRecord.__table__  # type: ignore[attr-defined]
REPORTS: Table = ReportRecord.__table__  # type: ignore[attr-defined]
VERSIONS: Table = VersionRecord.__table__  # type: ignore[attr-defined]
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
    it); a body without region is left out when a namesake with region is known (it may be that one).

    The list is kept for the store (`OverdueLists`): asked again, only the bodies touched since are computed again."""
    with _LISTS_LOCK:
        lists = _LISTS.setdefault(store, OverdueLists())
    return lists.get(store, year, as_of, settings)


@dataclass(frozen=True)
class _Stamp:
    """How far the data an overdue list was computed from had come: its newest ids, counts and registration."""

    version: int
    versions: int
    report: int
    reports: int
    filed_by: int  # the sum of the reports' organization ids: it changes when a report moves to another body
    organization: int
    organizations: int
    registered: datetime | None


class OverdueLists:
    """The overdue lists computed for a store, by (year, as_of, settings), each with the stamp of the data it was
    computed from, brought up to date when asked again by computing only the bodies touched since: bodies with
    a new version (a report received or corrected), bodies added or registered again, and their namesakes (a
    body without region is left out when a namesake with region is known). When rows appeared out of id order
    (a transaction that committed late), a body was removed, a report moved to another body, or many bodies
    were touched, the list is computed afresh."""

    KEPT = 8  # lists kept (the web asks for one year as of today; the CLI and the alert task for others)
    MOST_TOUCHED = 1000  # more bodies touched than this: computed afresh, in a few scans rather than many look-ups

    def __init__(self) -> None:
        self._lists: OrderedDict[tuple[Any, ...], tuple[_Stamp, dict[int, OverdueBody]]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, store: Store, year: int, as_of: date, settings: RuleSettings) -> list[OverdueBody]:
        key = (year, as_of, settings.model_dump_json())
        with store._session() as session:
            stamp = _stamp(session)  # before the bodies are read: what comes in meanwhile is touched next time
            with self._lock:
                kept = self._lists.get(key)
            touched = None if kept is None else _touched(session, kept[0], stamp, self.MOST_TOUCHED)
            if kept is not None and touched is not None:
                bodies = {body_id: body for body_id, body in kept[1].items() if body_id not in touched}
                bodies |= _overdue_bodies(session, year, as_of, settings, touched) if touched else {}
            else:
                bodies = _overdue_bodies(session, year, as_of, settings, None)
        with self._lock:
            self._lists[key] = (stamp, bodies)
            self._lists.move_to_end(key)
            while len(self._lists) > self.KEPT:
                self._lists.popitem(last=False)
        return sorted(bodies.values(), key=lambda item: (item.region or "", item.name))


_LISTS: WeakKeyDictionary[Store, OverdueLists] = WeakKeyDictionary()
_LISTS_LOCK = threading.Lock()


def _stamp(session: Session) -> _Stamp:
    query = sqlalchemy.select(
        sqlalchemy.select(func.coalesce(func.max(VERSIONS.c.id), 0)).scalar_subquery(),
        sqlalchemy.select(func.count()).select_from(VERSIONS).scalar_subquery(),
        sqlalchemy.select(func.coalesce(func.max(REPORTS.c.id), 0)).scalar_subquery(),
        sqlalchemy.select(func.count()).select_from(REPORTS).scalar_subquery(),
        sqlalchemy.select(func.coalesce(func.sum(REPORTS.c.organization_id), 0)).scalar_subquery(),
        sqlalchemy.select(func.coalesce(func.max(ORGANIZATIONS.c.id), 0)).scalar_subquery(),
        sqlalchemy.select(func.count()).select_from(ORGANIZATIONS).scalar_subquery(),
        sqlalchemy.select(func.max(ORGANIZATIONS.c.registered_at)).scalar_subquery(),
    )
    return _Stamp(*session.connection().execute(query).one())


def _touched(session: Session, since: _Stamp, now: _Stamp, most: int) -> set[int] | None:
    """The bodies whose overdue status may have changed from `since` to `now`, with their namesakes; None when
    the list is to be computed afresh."""
    if now == since:
        return set()
    connection = session.connection()
    new_versions = connection.execute(
        sqlalchemy.select(REPORTS.c.organization_id)
        .join(VERSIONS, VERSIONS.c.report_id == REPORTS.c.id)
        .where(VERSIONS.c.id > since.version)
    ).all()
    new_reports = connection.execute(
        sqlalchemy.select(REPORTS.c.organization_id).where(REPORTS.c.id > since.report)
    ).all()
    new_bodies = connection.execute(
        sqlalchemy.select(ORGANIZATIONS.c.id).where(ORGANIZATIONS.c.id > since.organization)
    ).all()
    if (
        since.versions + len(new_versions) != now.versions
        or since.reports + len(new_reports) != now.reports
        or since.organizations + len(new_bodies) != now.organizations
    ):
        return None  # a row committed out of id order, or a body removed
    if since.filed_by + sum(row[0] or 0 for row in new_reports) != now.filed_by:
        return None  # a stored report moved to another body (the same content again, from its region's folder)
    touched = {row[0] for row in [*new_versions, *new_bodies] if row[0] is not None}
    if now.registered is not None and now.registered != since.registered:
        registered = sqlalchemy.select(ORGANIZATIONS.c.id).where(
            ORGANIZATIONS.c.registered_at > since.registered
            if since.registered is not None
            else ORGANIZATIONS.c.registered_at.is_not(None)
        )
        touched |= set(connection.execute(registered).scalars())
    if len(touched) > most:
        return None
    names = sqlalchemy.select(ORGANIZATIONS.c.name_key).where(ORGANIZATIONS.c.id.in_(touched))
    namesakes = sqlalchemy.select(ORGANIZATIONS.c.id).where(ORGANIZATIONS.c.name_key.in_(names))
    return touched | set(connection.execute(namesakes).scalars()) if touched else touched


def _overdue_bodies(
    session: Session, year: int, as_of: date, settings: RuleSettings, only: Collection[int] | None
) -> dict[int, OverdueBody]:
    """The overdue bodies by id, of all bodies or of those in `only` (see `overdue`)."""
    connection = session.connection()
    bodies: list[OrganizationRecord] = []
    filed: dict[int, list[int]] = {}
    report_ids: dict[tuple[int, int], int] = {}
    reports = sqlalchemy.select(REPORTS.c.id, REPORTS.c.organization_id, REPORTS.c.year).where(
        REPORTS.c.organization_id.is_not(None), REPORTS.c.year.is_not(None)
    )
    for chunk in _chunks(only):
        if chunk is None:
            bodies += session.exec(select(OrganizationRecord)).all()
            rows = connection.execute(reports)
        else:
            bodies += session.exec(select(OrganizationRecord).where(col(OrganizationRecord.id).in_(chunk))).all()
            rows = connection.execute(reports.where(REPORTS.c.organization_id.in_(chunk)))
        for report_id, organization_id, report_year in rows:
            filed.setdefault(organization_id, []).append(report_year)
            report_ids[(organization_id, report_year)] = report_id
    if only is None:
        regional_names = {body.name_key for body in bodies if body.region_key}
    else:
        names = sorted({body.name_key for body in bodies})
        regional_names = set()
        for start in range(0, len(names), 500):
            regional_names |= set(
                connection.execute(
                    sqlalchemy.select(ORGANIZATIONS.c.name_key).where(
                        ORGANIZATIONS.c.name_key.in_(names[start : start + 500]),
                        ORGANIZATIONS.c.region_key != "",
                    )
                ).scalars()
            )
    found: dict[int, OverdueBody] = {}
    for body in bodies:
        assert body.id is not None
        years = filed.get(body.id, [])
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
        found[body.id] = OverdueBody(
            organization_id=body.id,
            name=body.name,
            region=body.region,
            level=body.level,
            deadline=limit,
            last_year=max(years, default=None),
            last_received=None,
        )
    received = _last_received(
        connection, [report_ids[(b.organization_id, b.last_year)] for b in found.values() if b.last_year is not None]
    )
    return {
        body_id: replace(body, last_received=received.get(report_ids[(body_id, body.last_year)]))
        if body.last_year is not None
        else body
        for body_id, body in found.items()
    }


def _last_received(connection: Any, report_ids: Sequence[int]) -> dict[int, datetime]:
    """When each report's newest version was received."""
    found: dict[int, datetime] = {}
    ordered = sorted(set(report_ids))
    for start in range(0, len(ordered), 500):
        query = (
            sqlalchemy.select(VERSIONS.c.report_id, func.max(VERSIONS.c.received_at))
            .where(VERSIONS.c.report_id.in_(ordered[start : start + 500]))
            .group_by(VERSIONS.c.report_id)
        )
        found |= {report_id: received for report_id, received in connection.execute(query)}
    return found


def _chunks(ids: Collection[int] | None) -> Iterator[list[int] | None]:
    """`ids` a few hundred at a time (a database limits the parameters of one statement); None: all at once."""
    if ids is None:
        yield None
        return
    ordered = sorted(ids)
    for start in range(0, len(ordered), 500):
        yield ordered[start : start + 500]


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
