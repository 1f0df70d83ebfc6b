"""The read model: findings with the reviewers' decision in force, as typed rows, and the counts that the
overview, the rule page and the region roll-up show — the one place finding rows are read, for the command line,
the exports and the web pages alike (`Store.findings` reads through it).

The queries are Core statements on a connection of `Store.engine`: they aggregate in ways the Store's parts have no
call for; every write goes through `Store`. Counts by status are taken without a per-row look-up of the
triage table: the open findings counted plainly, less those whose decision in force is a dismissal, counted from
the (small) triage table outwards. Counts over all bodies go through the narrow (rule, year, …) index; the pages
keep them in a `Cache` until the next stored version or triage decision. What each status means is defined once,
in `storage.status`.
"""

from __future__ import annotations

import threading
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple, TypeVar

from sqlalchemy import Connection, Select, Table, and_, case, distinct, func, select
from sqlalchemy.sql.elements import ColumnElement

from storage.status import FINDINGS, TRIAGE, decision_in_force, finding_status, status_condition
from storage.status import STATUSES as STATUSES  # the pages' filter names, re-exported
from storage.tables import LedgerRecord, OrganizationRecord, ReportRecord, VersionRecord

ORGANIZATIONS: Table = OrganizationRecord.__table__  # type: ignore[attr-defined]
REPORTS: Table = ReportRecord.__table__  # type: ignore[attr-defined]
VERSIONS: Table = VersionRecord.__table__  # type: ignore[attr-defined]
LEDGER: Table = LedgerRecord.__table__  # type: ignore[attr-defined]

T = TypeVar("T")


@dataclass(frozen=True)
class Filters:
    year: int | None = None
    rule: str | None = None
    severity: str | None = None
    region: str | None = None  # the region key: '' = bodies stored without a region
    name: str | None = None  # part of the organization's name
    organizations: tuple[int, ...] | None = None  # organization ids
    status: str = "open"
    report_ids: tuple[int, ...] | None = None
    name_key: str | None = None  # the organization's name key (`report.identity.name_key`), exactly

    @property
    def spans_all_bodies(self) -> bool:
        return (
            self.organizations is None
            and self.report_ids is None
            and self.region is None
            and not self.name
            and self.name_key is None
        )

    def finding_conditions(self) -> list[ColumnElement[bool]]:
        """The conditions on a finding row, status aside."""
        conditions: list[ColumnElement[bool]] = []
        if self.year is not None:
            conditions.append(FINDINGS.c.year == self.year)
        if self.rule:
            conditions.append(FINDINGS.c.rule == self.rule)
        if self.severity:
            conditions.append(FINDINGS.c.severity == self.severity)
        if self.organizations is not None:
            conditions.append(FINDINGS.c.organization_id.in_(self.organizations))
        if self.report_ids is not None:
            conditions.append(FINDINGS.c.report_id.in_(self.report_ids))
        bodies = organization_conditions(self.region, self.name)
        if self.name_key is not None:
            bodies.append(ORGANIZATIONS.c.name_key == self.name_key)
        if bodies:
            # Bodies as a subquery, so that the planner reaches findings through (organization_id, year).
            conditions.append(FINDINGS.c.organization_id.in_(select(ORGANIZATIONS.c.id).where(*bodies)))
        return conditions


def organization_conditions(region: str | None, name: str | None) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if region is not None:
        conditions.append(ORGANIZATIONS.c.region_key == region)
    if name:
        conditions.append(ORGANIZATIONS.c.name.contains(name, autoescape=True))
    return conditions


def _decided(decisions: Sequence[str]) -> Any:
    """(report_id, fingerprint, message) of every finding whose newest decision is one of `decisions`."""
    newest = select(func.max(TRIAGE.c.id)).group_by(TRIAGE.c.report_id, TRIAGE.c.fingerprint)
    return (
        select(TRIAGE.c.report_id, TRIAGE.c.fingerprint, TRIAGE.c.message)
        .where(TRIAGE.c.id.in_(newest), TRIAGE.c.decision.in_(decisions))
        .subquery("decided")
    )


def _every_rule() -> ColumnElement[bool]:
    """`rule IN (every rule stored)`: true of every finding, but it lets SQLite count from the narrow index on
    (rule, year, organization_id, report_id, resolved_at, severity), rule by rule, instead of reading the table."""
    return FINDINGS.c.rule.in_(select(FINDINGS.c.rule).distinct())


def counts(connection: Connection, keys: Sequence[Any], filters: Filters) -> Counter[tuple[Any, ...]]:
    """The number of findings that match `filters`, by the values of `keys` (columns of findings)."""
    conditions = filters.finding_conditions()
    if filters.rule is None and filters.spans_all_bodies:
        conditions.append(_every_rule())
    still_open = FINDINGS.c.resolved_at.is_(None)

    def grouped(*extra: ColumnElement[bool]) -> Select[Any]:
        return select(*keys, func.count()).select_from(FINDINGS).where(*conditions, *extra).group_by(*keys)

    def plain(*extra: ColumnElement[bool]) -> Counter[tuple[Any, ...]]:
        return Counter({tuple(row[:-1]): row[-1] for row in connection.execute(grouped(*extra))})

    def decided(decisions: Sequence[str]) -> Counter[tuple[Any, ...]]:
        chosen = _decided(decisions)
        query = grouped(still_open).join_from(
            FINDINGS,
            chosen,
            and_(
                chosen.c.report_id == FINDINGS.c.report_id,
                chosen.c.fingerprint == FINDINGS.c.fingerprint,
                chosen.c.message == FINDINGS.c.message,
            ),
        )
        return Counter({tuple(row[:-1]): row[-1] for row in connection.execute(query)})

    match filters.status:
        case "all":
            return plain()
        case "resolved":
            return plain(FINDINGS.c.resolved_at.is_not(None))
        case "open":
            return plain(still_open) - decided(["dismiss"])
        case "pending":
            return plain(still_open) - decided(["confirm", "dismiss"])
        case "confirmed":
            return decided(["confirm"])
        case "dismissed":
            return decided(["dismiss"])
    raise ValueError(f"unknown status {filters.status!r}")


def total(connection: Connection, filters: Filters) -> int:
    return counts(connection, [], filters)[()]


class Cache:
    """Results of the costly aggregates, kept while the data they come from is unchanged: the newest version and
    the newest triage decision stay the same (findings change only when a version is stored)."""

    def __init__(self, size: int = 256) -> None:
        self._size = size
        self._entries: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, connection: Connection, key: tuple[Any, ...], compute: Callable[[], T]) -> T:
        newest = select(
            select(func.max(VERSIONS.c.id)).scalar_subquery(), select(func.max(TRIAGE.c.id)).scalar_subquery()
        )
        full = (*key, *connection.execute(newest).one())
        with self._lock:
            if full in self._entries:
                self._entries.move_to_end(full)
                return self._entries[full]  # type: ignore[no-any-return]
        value = compute()
        with self._lock:
            self._entries[full] = value
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)
        return value


# -- organizations ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Organization:
    id: int
    name: str
    region: str | None
    level: str

    @property
    def region_key(self) -> str:
        return self.region or ""


def organization_ids(connection: Connection, filters: Filters, *, flagged_only: bool) -> list[int]:
    """The organizations of the region and name filters, by region and name; with `flagged_only`, only those
    that have a finding matching the other filters."""
    query = (
        select(ORGANIZATIONS.c.id)
        .where(*organization_conditions(filters.region, filters.name))
        .order_by(ORGANIZATIONS.c.region_key, ORGANIZATIONS.c.name_key)
    )
    if flagged_only and filters.rule:
        # One rule's findings, counted through the rule's index, are fewer than the bodies to look up one by one.
        flagged = {key[0] for key, count in counts(connection, [FINDINGS.c.organization_id], filters).items() if count}
        return [
            organization_id for organization_id in connection.execute(query).scalars() if organization_id in flagged
        ]
    if flagged_only:
        matching = select(FINDINGS.c.id).where(
            FINDINGS.c.organization_id == ORGANIZATIONS.c.id,
            *Filters(filters.year, filters.rule, filters.severity).finding_conditions(),
        )
        status = status_condition(filters.status)
        query = query.where((matching.where(status) if status is not None else matching).exists())
    return list(connection.execute(query).scalars())


def _chunks(ids: Iterable[int], size: int = 500) -> Iterator[list[int]]:
    """Ids a few hundred at a time: a database limits the parameters of one statement."""
    ordered = list(ids)
    for start in range(0, len(ordered), size):
        yield ordered[start : start + size]


def organizations(connection: Connection, ids: Iterable[int]) -> dict[int, Organization]:
    query = select(ORGANIZATIONS.c.id, ORGANIZATIONS.c.name, ORGANIZATIONS.c.region, ORGANIZATIONS.c.level)
    return {
        row.id: Organization(*row)
        for chunk in _chunks(ids)
        for row in connection.execute(query.where(ORGANIZATIONS.c.id.in_(chunk)))
    }


def report_years(connection: Connection, ids: Iterable[int]) -> dict[int, list[int]]:
    """The years each organization has reports of."""
    years: dict[int, list[int]] = {}
    for chunk in _chunks(ids):
        query = (
            select(REPORTS.c.organization_id, REPORTS.c.year)
            .where(REPORTS.c.organization_id.in_(chunk), REPORTS.c.year.is_not(None))
            .order_by(REPORTS.c.organization_id, REPORTS.c.year)
        )
        for organization_id, year in connection.execute(query):
            years.setdefault(organization_id, []).append(year)
    return years


def organization_regions(connection: Connection) -> dict[int, str]:
    """The region key of every organization."""
    return dict(connection.execute(select(ORGANIZATIONS.c.id, ORGANIZATIONS.c.region_key)).all())


def regions(connection: Connection) -> list[str]:
    """Every region key, sorted ('' for bodies without one)."""
    query = select(ORGANIZATIONS.c.region_key).distinct().order_by(ORGANIZATIONS.c.region_key)
    return list(connection.execute(query).scalars())


def years(connection: Connection) -> list[int]:
    query = select(REPORTS.c.year).distinct().where(REPORTS.c.year.is_not(None)).order_by(REPORTS.c.year.desc())
    return list(connection.execute(query).scalars())


# -- findings -----------------------------------------------------------------------------------------------


class FindingRow(NamedTuple):
    """A finding as reviewers see it: where, what, since when, and its status. (A named tuple: lists and exports
    build thousands, and one is made in a tenth of a frozen dataclass's time.)"""

    id: int
    organization_id: int | None
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
    report_id: int
    first_version_id: int
    last_version_id: int
    resolved_version_id: int | None
    source_path: str  # of the latest version that has (or had) the finding
    decision: str | None  # in force: confirm, dismiss; 'stale' (made on other wording) or None: undecided

    @property
    def status(self) -> str:
        return finding_status(self.resolved_at, self.decision)


def _items_query() -> Select[Any]:
    return (
        select(
            FINDINGS.c.id,
            FINDINGS.c.organization_id,
            ORGANIZATIONS.c.name,
            ORGANIZATIONS.c.region,
            FINDINGS.c.year,
            FINDINGS.c.rule,
            FINDINGS.c.rule_version,
            FINDINGS.c.severity,
            FINDINGS.c.message,
            FINDINGS.c.location,
            FINDINGS.c.cells,
            FINDINGS.c.expected,
            FINDINGS.c.actual,
            FINDINGS.c.first_seen,
            FINDINGS.c.last_seen,
            FINDINGS.c.resolved_at,
            FINDINGS.c.report_id,
            FINDINGS.c.first_version_id,
            FINDINGS.c.last_version_id,
            FINDINGS.c.resolved_version_id,
            VERSIONS.c.source_path,
            decision_in_force(),
        )  # in the order of FindingRow's fields
        .select_from(FINDINGS)
        .join(ORGANIZATIONS, FINDINGS.c.organization_id == ORGANIZATIONS.c.id, isouter=True)
        .join(VERSIONS, FINDINGS.c.last_version_id == VERSIONS.c.id)
    )


def items(
    connection: Connection, filters: Filters, *, limit: int | None = None, offset: int = 0, by_body: bool = False
) -> list[FindingRow]:
    """The findings that match, newest first (those of chosen organizations: by organization, year and rule);
    `by_body`: by region, organization, year and rule, the order of the command line's list and the exports."""
    query = _items_query().where(*filters.finding_conditions())
    status = status_condition(filters.status)
    if status is not None:
        query = query.where(status)
    if by_body:
        query = query.order_by(
            ORGANIZATIONS.c.region_key, ORGANIZATIONS.c.name_key, FINDINGS.c.year, FINDINGS.c.rule, FINDINGS.c.id
        )
    elif filters.organizations is not None:
        query = query.order_by(FINDINGS.c.organization_id, FINDINGS.c.year, FINDINGS.c.rule, FINDINGS.c.id)
    else:
        query = query.order_by(FINDINGS.c.id.desc())
    return [FindingRow(*row) for row in connection.execute(query.limit(limit).offset(offset))]


def item(connection: Connection, finding_id: int) -> FindingRow | None:
    row = connection.execute(_items_query().where(FINDINGS.c.id == finding_id)).first()
    return FindingRow(*row) if row else None


# -- rules --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RuleCount:
    year: int | None
    region: str  # region key
    reports: int  # reports in which the rule fired (in any version)
    open_reports: int  # reports whose current version has it


def rule_counts(connection: Connection, rule: str) -> list[RuleCount]:
    """How many reports of each year and region the rule fired in."""
    source = FINDINGS.join(ORGANIZATIONS, FINDINGS.c.organization_id == ORGANIZATIONS.c.id, isouter=True)
    now = case((FINDINGS.c.resolved_at.is_(None), FINDINGS.c.report_id))
    query = (
        select(
            FINDINGS.c.year,
            func.coalesce(ORGANIZATIONS.c.region_key, ""),
            func.count(distinct(FINDINGS.c.report_id)),
            func.count(distinct(now)),
        )
        .select_from(source)
        .where(FINDINGS.c.rule == rule)
        .group_by(FINDINGS.c.year, ORGANIZATIONS.c.region_key)
    )
    return [RuleCount(*row) for row in connection.execute(query)]


@dataclass(frozen=True)
class ReportHit:
    report_id: int
    organization_id: int | None
    organization: str | None
    region: str | None
    year: int | None
    findings: int


def rule_reports(connection: Connection, rule: str, *, limit: int, offset: int = 0) -> list[ReportHit]:
    """The reports whose current version has the rule's finding open, latest year first, with how many (a page of
    `limit` before those whose findings are all dismissed are left out)."""
    query = (
        select(FINDINGS.c.report_id, func.count())
        .where(FINDINGS.c.rule == rule, FINDINGS.c.resolved_at.is_(None))
        .group_by(FINDINGS.c.year, FINDINGS.c.organization_id, FINDINGS.c.report_id)
        # In the index's order, backwards: no sort of all the rule's reports before the first page.
        .order_by(FINDINGS.c.year.desc(), FINDINGS.c.organization_id.desc(), FINDINGS.c.report_id.desc())
        .limit(limit)
        .offset(offset)
    )
    found: Counter[int] = Counter(dict(connection.execute(query).all()))
    if not found:
        return []
    dismissed = Filters(rule=rule, status="dismissed", report_ids=tuple(found))
    found -= Counter({key[0]: count for key, count in counts(connection, [FINDINGS.c.report_id], dismissed).items()})
    details = (
        select(REPORTS.c.id, REPORTS.c.organization_id, ORGANIZATIONS.c.name, ORGANIZATIONS.c.region, REPORTS.c.year)
        .select_from(REPORTS)
        .join(ORGANIZATIONS, REPORTS.c.organization_id == ORGANIZATIONS.c.id, isouter=True)
        .where(REPORTS.c.id.in_(list(found)))
    )
    rows = {row.id: row for row in connection.execute(details)}
    return [ReportHit(*rows[report_id], found[report_id]) for report_id in found if report_id in rows]


# -- versions -----------------------------------------------------------------------------------------------


def version_source(connection: Connection, version_id: int) -> tuple[str, str] | None:
    """(source path, SHA-256) of a stored version."""
    query = select(VERSIONS.c.source_path, VERSIONS.c.sha256).where(VERSIONS.c.id == version_id)
    row = connection.execute(query).first()
    return (row.source_path, row.sha256) if row else None


# -- what could not be stored, and what is stored without a body -------------------------------------------------


@dataclass(frozen=True)
class FailedFile:
    path: str
    reason: str
    attempts: int
    updated_at: datetime


def _failed_newest() -> Select[Any]:
    """Ledger entries in state `failed` that are their path's newest entry (a path stored later is no failure)."""
    newer = LEDGER.alias("newer")
    later = select(newer.c.id).where(
        newer.c.path == LEDGER.c.path,
        (newer.c.updated_at > LEDGER.c.updated_at)
        | (and_(newer.c.updated_at == LEDGER.c.updated_at, newer.c.id > LEDGER.c.id)),
    )
    return select(LEDGER).where(LEDGER.c.state == "failed", ~later.exists())


def failed_files(connection: Connection, *, limit: int, offset: int = 0) -> list[FailedFile]:
    """The files whose newest ledger entry is `failed`, most recent first, with their reasons."""
    query = _failed_newest().order_by(LEDGER.c.updated_at.desc(), LEDGER.c.id.desc()).limit(limit).offset(offset)
    return [FailedFile(row.path, row.error or "", row.attempts, row.updated_at) for row in connection.execute(query)]


def failed_file_count(connection: Connection) -> int:
    return connection.execute(select(func.count()).select_from(_failed_newest().subquery())).scalar_one()


@dataclass(frozen=True)
class Unidentified:
    version_id: int
    path: str
    year: int | None
    received_at: datetime
    findings: int


def unidentified_reports(connection: Connection, *, limit: int) -> tuple[int, list[Unidentified]]:
    """(how many, the newest `limit`) current versions of reports that name no organization."""
    condition = and_(REPORTS.c.organization_id.is_(None), VERSIONS.c.superseded_by.is_(None))
    joined = VERSIONS.join(REPORTS, VERSIONS.c.report_id == REPORTS.c.id)
    total = connection.execute(select(func.count()).select_from(joined).where(condition)).scalar_one()
    found = (
        select(FINDINGS.c.report_id, func.count().label("n"))
        .where(FINDINGS.c.resolved_version_id.is_(None))
        .group_by(FINDINGS.c.report_id)
        .subquery()
    )
    query = (
        select(VERSIONS.c.id, VERSIONS.c.source_path, REPORTS.c.year, VERSIONS.c.received_at, found.c.n)
        .select_from(joined.outerjoin(found, found.c.report_id == REPORTS.c.id))
        .where(condition)
        .order_by(VERSIONS.c.received_at.desc(), VERSIONS.c.id.desc())
        .limit(limit)
    )
    rows = [
        Unidentified(row.id, row.source_path, row.year, row.received_at, row.n or 0)
        for row in connection.execute(query)
    ]
    return total, rows
