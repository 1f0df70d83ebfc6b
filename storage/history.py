"""The reviewers' questions asked of one body or of all findings: a body's year × rule history, its versions,
and the findings across all reports, filtered.
"""

from __future__ import annotations

from sqlmodel import col, select

from report.identity import name_key
from storage import read_model
from storage.engine import StoreBase
from storage.organizations import named_organization
from storage.read_model import Filters, FindingRow
from storage.rows import VersionRow
from storage.tables import (
    FindingRecord,
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
        filters = Filters(
            year=year,
            rule=rule,
            severity=severity,
            region=region,
            status="open" if open_only else "all",
            name_key=name_key(organization) if organization is not None else None,
        )
        with self._session() as session:
            return read_model.items(session.connection(), filters, limit=limit, by_body=True)
