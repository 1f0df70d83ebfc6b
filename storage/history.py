"""The reviewers' questions asked of one body or of all findings: a body's year × rule history, its versions,
and the findings across all reports, filtered.
"""

from __future__ import annotations

import sqlalchemy
from sqlmodel import col, select

from report.identity import name_key
from storage.engine import StoreBase
from storage.organizations import named_organization
from storage.rows import FindingRow, VersionRow
from storage.status import decision_in_force, open_condition
from storage.tables import (
    FindingRecord,
    OrganizationRecord,
    ReportRecord,
    VersionRecord,
)


class HistoryStore(StoreBase):
    """A body's history and versions, and findings across all reports."""

    def history(self, name: str, region: str | None = None) -> list[tuple[int, str, str]]:
        """(year, rule, status) of every rule that fired in a year of this body's reports: `fired` when the
        year's current version has it, `fixed` when only superseded versions had it. Sorted by year and rule."""
        with self._session() as session:
            organization = named_organization(session, name, region)
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
            organization = named_organization(session, name, region)
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
