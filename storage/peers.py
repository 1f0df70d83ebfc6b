"""The prose index: each current version's LSH bands of its narrative parts, and the other bodies' reports of
the same year that share bands with a report (candidates for narrative.copied_from_peer).
"""

from __future__ import annotations

from sqlalchemy import (
    Connection,
    func,
    insert,
)
from sqlmodel import col, select

from report.identity import identity
from report.model import Report
from rules.similarity import report_bands
from storage.engine import StoreBase
from storage.organizations import stored_organization
from storage.rows import report_from
from storage.tables import (
    ProseBandRecord,
    ReportRecord,
    VersionRecord,
)


class PeerStore(StoreBase):
    """Other bodies' reports whose prose shares LSH bands with a report."""

    def peer_reports(self, report: Report, limit: int = 20) -> list[Report]:
        """Other bodies' current versions of the same year whose prose shares an LSH band with the report's
        (candidates for narrative.copied_from_peer), most shared bands first."""
        bands = report_bands(report)
        if report.year is None or not bands:
            return []
        key = identity(report)
        with self._session() as session:
            own = stored_organization(session, *key) if key else None
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
            return [report_from(version) for version in versions if version is not None]


def index_prose(connection: Connection, version_id: int, report: Report) -> None:
    """Index the prose of a new version for later peers' lookups (`PeerStore.peer_reports`)."""
    if report.year is None or identity(report) is None:
        return  # a report of no known body and year is nobody's peer
    bands = report_bands(report)
    if bands:
        connection.execute(
            insert(ProseBandRecord),
            [{"version_id": version_id, "year": report.year, "part": part, "band_key": key} for part, key in bands],
        )
