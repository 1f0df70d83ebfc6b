"""Reports, their versions and findings: `save` of one judged report (a new version supersedes the last, its
findings are carried forward or resolved), and the reads of stored reports — by content, by organization and
year, the earlier years a report is judged against, and the superseded versions whose evidence may be pruned.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Collection, Iterable, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy
from sqlalchemy import (
    Connection,
    bindparam,
    delete,
    insert,
    update,
)
from sqlmodel import Session, col, select

from report.identity import identity
from report.model import Finding, Report
from rules import all_rules
from storage.engine import StoreBase
from storage.errors import StoreError
from storage.organizations import stored_organization
from storage.peers import index_prose
from storage.rows import SaveResult, finding_from, report_columns, report_from, report_from_json
from storage.tables import (
    FindingRecord,
    OrganizationRecord,
    ReportRecord,
    VersionRecord,
    utcnow,
)


def finding_content(finding: Finding, rule_versions: dict[str, int]) -> dict[str, Any]:
    """The stored columns of a finding that a later version may change (its fingerprint stays)."""
    return {
        "rule_version": rule_versions.get(finding.rule),
        "severity": finding.severity,
        "message": finding.message,
        "location": finding.location,
        "cells": list(finding.cells),
        "expected": finding.expected,
        "actual": finding.actual,
    }


def finding_fingerprints(findings: Sequence[Finding]) -> list[str]:
    """The fingerprint of each finding: a hash of rule id, location and sorted cells.

    A finding without cells also hashes its `expected` (narrative.missing_topics names the missing topic there,
    so three missing topics stay three findings); findings still alike after that are numbered in order."""
    seen: Counter[str] = Counter()
    prints: list[str] = []
    for finding in findings:
        basis: list[Any] = [finding.rule, finding.location, sorted(finding.cells)]
        if not finding.cells:
            basis.append(finding.expected)
        key = json.dumps(basis, ensure_ascii=False, sort_keys=True, default=str)
        seen[key] += 1
        if seen[key] > 1:
            key += f"#{seen[key]}"
        prints.append(hashlib.sha256(key.encode()).hexdigest())
    return prints


class ReportStore(StoreBase):
    """Saving one judged report, and reading stored reports and versions."""

    def save(self, report: Report, *, received_at: datetime | None = None) -> SaveResult:
        """Store a judged report (findings filled). The same content again is the same version (created=False);
        new content for a stored (organization, year) is its next version, and the findings are carried forward
        or resolved."""
        if not report.source.sha256:
            raise StoreError(f"{report.source.path}：文件无法读取，没有内容可以入库")
        when = received_at or utcnow()
        rule_versions = {item.id: item.version for item in all_rules()}
        return self._write(lambda session: self._save(session, report, when, rule_versions))

    # objects for every finding would cost several times the database's own time.

    def _save(self, session: Session, report: Report, when: datetime, rule_versions: dict[str, int]) -> SaveResult:
        connection = session.connection()
        sha = report.source.sha256
        stored = self._version_with(connection, sha)
        if stored is not None:
            self._adopt_folder_region(session, stored, report)
            return SaveResult(version_id=stored, created=False)
        organization_id = self._organization_id(session, report)
        year = report.year  # kept for a report without a body too: it is shown with the year it states
        key = f"{organization_id}/{year}" if organization_id is not None and year is not None else f"sha256:{sha}"
        locked = select(ReportRecord.id).where(ReportRecord.key == key).with_for_update()
        report_id = connection.execute(locked).scalar()
        if report_id is None:
            fresh = self._insert_ignore(
                session, ReportRecord, ["key"], key=key, organization_id=organization_id, year=year
            )
            report_id = connection.execute(locked).scalar_one()
            # Someone else created the report meanwhile: under its lock now, check for the same content again.
            stored = None if fresh else self._version_with(connection, sha)
        else:
            fresh = 0
            stored = self._version_with(connection, sha)
        if stored is not None:
            return SaveResult(version_id=stored, created=False)
        previous = None
        if not fresh:  # a report created just now has no versions yet
            previous = connection.execute(
                select(VersionRecord.id).where(
                    VersionRecord.report_id == report_id, col(VersionRecord.superseded_by).is_(None)
                )
            ).scalar()
        inserted = connection.execute(
            insert(VersionRecord).values(
                report_id=report_id,
                sha256=sha,
                source_path=report.source.path,
                format=report.source.format,
                received_at=when,
                contract=report.to_contract(),
                evidence=report.evidence.model_dump(mode="json", by_alias=True),
            )
        )
        version_id: int = inserted.inserted_primary_key[0]  # type: ignore[index]
        if previous is not None:
            connection.execute(
                update(VersionRecord).where(VersionRecord.id == previous).values(superseded_by=version_id)
            )
        index_prose(connection, [(version_id, report)])
        new, resolved = self._track_findings(
            connection,
            (report_id, organization_id, year),
            version_id,
            report.findings,
            when,
            rule_versions,
            bool(fresh),
        )
        return SaveResult(
            version_id=version_id,
            created=True,
            new_findings=new,
            resolved_findings=resolved,
            previous_version_id=previous,
        )

    def _adopt_folder_region(self, session: Session, version_id: int, report: Report) -> None:
        """The same content again, now from a folder that names its region (<share>/房县/白鹤镇/): a report stored
        under the same body without a region moves to the body of that region, with its findings — unless that
        body already has a report of the year (two contents of one report are not merged here)."""
        region = report.evidence.folder_region
        key = identity(report)
        if not region or key is None:
            return
        connection = session.connection()
        stored = connection.execute(
            sqlalchemy.select(  # sqlmodel's `select` is typed for at most four columns
                col(ReportRecord.id),
                col(ReportRecord.year),
                col(ReportRecord.organization_id),
                col(OrganizationRecord.name_key),
                col(OrganizationRecord.region_key),
            )
            .join(VersionRecord, VersionRecord.report_id == ReportRecord.id)
            .join(OrganizationRecord, OrganizationRecord.id == ReportRecord.organization_id)
            .where(VersionRecord.id == version_id)
        ).first()
        if stored is None or stored.region_key or stored.name_key != key[0] or stored.year is None:
            return
        organization_id = self._organization_id(session, report)
        new_key = f"{organization_id}/{stored.year}"
        if connection.execute(select(ReportRecord.id).where(ReportRecord.key == new_key)).first() is not None:
            return
        connection.execute(
            update(ReportRecord)
            .where(ReportRecord.id == stored.id)
            .values(organization_id=organization_id, key=new_key)
        )
        connection.execute(
            update(FindingRecord).where(FindingRecord.report_id == stored.id).values(organization_id=organization_id)
        )
        for version in connection.execute(
            select(VersionRecord.id, VersionRecord.contract, VersionRecord.evidence).where(
                VersionRecord.report_id == stored.id
            )
        ).all():
            contract = {**version.contract, "organization": {**version.contract["organization"], "region": region}}
            evidence = {**version.evidence, "folder_region": region}
            connection.execute(
                update(VersionRecord).where(VersionRecord.id == version.id).values(contract=contract, evidence=evidence)
            )
        left = select(ReportRecord.id).where(ReportRecord.organization_id == stored.organization_id)
        connection.execute(
            delete(OrganizationRecord).where(OrganizationRecord.id == stored.organization_id, ~left.exists())
        )

    @staticmethod
    def _version_with(connection: Connection, sha256: str) -> int | None:
        return connection.execute(select(VersionRecord.id).where(VersionRecord.sha256 == sha256)).scalar()

    def _organization_id(self, session: Session, report: Report) -> int | None:
        key = identity(report)
        if key is None:
            return None
        name, region = key
        connection = session.connection()
        query = select(OrganizationRecord.id, OrganizationRecord.level).where(
            OrganizationRecord.name_key == name, OrganizationRecord.region_key == (region or "")
        )
        row = connection.execute(query).first()
        if row is None:
            self._insert_ignore(
                session,
                OrganizationRecord,
                ["name_key", "region_key"],
                name=report.organization.name,
                name_key=name,
                region=region,
                region_key=region or "",
                level=report.organization.level,
            )
            row = connection.execute(query).one()
        organization_id, level = row
        if level == "unknown" and report.organization.level != "unknown":
            connection.execute(
                update(OrganizationRecord)
                .where(OrganizationRecord.id == organization_id)
                .values(level=report.organization.level)
            )
        return organization_id

    @staticmethod
    def _track_findings(
        connection: Connection,
        target: tuple[int, int | None, int | None],
        version_id: int,
        findings: Sequence[Finding],
        when: datetime,
        rule_versions: dict[str, int],
        fresh: bool = False,
    ) -> tuple[list[Finding], list[Finding]]:
        """Carry the findings of report `target` (id, organization id, year) forward to `version_id`:
        (new ones, resolved ones). A `fresh` report (created by this save) has none to carry."""
        report_id, organization_id, year = target
        known = {}
        if not fresh:
            query = select(FindingRecord.__table__).where(FindingRecord.report_id == report_id)  # type: ignore[attr-defined]
            known = {row.fingerprint: row for row in connection.execute(query)}
        inserts: list[dict[str, Any]] = []
        changed: list[dict[str, Any]] = []
        carried: list[int] = []
        new: list[Finding] = []
        for finding, fingerprint in zip(findings, finding_fingerprints(findings), strict=True):
            content = finding_content(finding, rule_versions)
            row = known.pop(fingerprint, None)
            if row is None:
                inserts.append(
                    {
                        **content,
                        "report_id": report_id,
                        "organization_id": organization_id,
                        "year": year,
                        "fingerprint": fingerprint,
                        "rule": finding.rule,
                        "first_seen": when,
                        "last_seen": when,
                        "first_version_id": version_id,
                        "last_version_id": version_id,
                    }
                )
                new.append(finding)
                continue
            carried.append(row.id)
            if any(getattr(row, column) != value for column, value in content.items()):
                changed.append({"finding_id": row.id, **{f"new_{column}": value for column, value in content.items()}})
        if inserts:
            connection.execute(insert(FindingRecord), inserts)
        if carried:
            connection.execute(
                update(FindingRecord)
                .where(col(FindingRecord.id).in_(carried))
                .values(last_seen=when, last_version_id=version_id, resolved_at=None, resolved_version_id=None)
            )
        if changed:
            columns = [column for column in changed[0] if column != "finding_id"]
            connection.execute(
                update(FindingRecord)
                .where(FindingRecord.id == bindparam("finding_id"))
                .values({column.removeprefix("new_"): bindparam(column) for column in columns}),
                changed,
            )
        gone = [row for row in known.values() if row.resolved_at is None]
        if gone:
            connection.execute(
                update(FindingRecord)
                .where(col(FindingRecord.id).in_([row.id for row in gone]))
                .values(resolved_at=when, resolved_version_id=version_id)
            )
        return new, [finding_from(row) for row in gone]

    def version_id(self, sha256: str) -> int | None:
        """The stored version with this content, if any."""
        if not sha256:
            return None
        with self._session() as session:
            return self._version_with(session.connection(), sha256)

    def superseded_before(self, cutoff: datetime) -> list[str]:
        """The contents (SHA-256) of versions superseded by a version received before `cutoff` (evidence that
        the retention setting lets go)."""
        successor = VersionRecord.__table__.alias("successor")  # type: ignore[attr-defined]
        query = (
            select(VersionRecord.sha256)
            .join(successor, successor.c.id == VersionRecord.superseded_by)
            .where(successor.c.received_at < cutoff)
        )
        with self._session() as session:
            return list(session.exec(query))

    def version_changes(self, version_id: int) -> tuple[list[Finding], list[Finding]]:
        """(findings first seen in this version, findings this version resolved): what `save` returned when it
        created the version, for a worker that stores the same content again after dying before it acted on it."""
        with self._session() as session:
            return self._version_changes(session.connection(), version_id)

    @staticmethod
    def _version_changes(connection: Connection, version_id: int) -> tuple[list[Finding], list[Finding]]:
        report_id = connection.execute(select(VersionRecord.report_id).where(VersionRecord.id == version_id)).scalar()
        rows = connection.execute(
            select(FindingRecord.__table__)  # type: ignore[attr-defined]
            .where(FindingRecord.report_id == report_id)
            .order_by(FindingRecord.id)
        ).all()
        new = [finding_from(row) for row in rows if row.first_version_id == version_id]
        return new, [finding_from(row) for row in rows if row.resolved_version_id == version_id]

    def report(self, version_id: int) -> Report | None:
        """The full report model of a stored version."""
        with self._session() as session:
            version = session.get(VersionRecord, version_id)
            return report_from(version) if version else None

    def earlier_reports(self, report: Report) -> list[Report]:
        """The latest version of each earlier year of the same organization (name key and region equal), newest
        first, preceded by the stored version of the report's own year when its content differs (a revision).
        Whether the report's identity is ambiguous is the caller's question (`report.identity.ambiguity`)."""
        key = identity(report)
        if key is None or report.year is None:
            return []
        with self._session() as session:
            organization = stored_organization(session, *key)
            if organization is None:
                return []
            rows = session.connection().execute(
                self._current_reports()
                .where(ReportRecord.organization_id == organization.id, col(ReportRecord.year) <= report.year)
                .order_by(col(ReportRecord.year).desc())
            )
            found = [report_from_json(contract, evidence) for contract, evidence in rows]
            return [item for item in found if item.source.sha256 != report.source.sha256]

    def earlier_reports_of(
        self, keys: Collection[tuple[str, str | None]]
    ) -> dict[tuple[str, str | None], list[Report]]:
        """The current version of every stored year of each organization in `keys` (identities), in one query:
        what a batch of reports is judged against (`report.identity.earlier_reports` picks the years)."""
        found: dict[tuple[str, str | None], list[Report]] = {}
        names = sorted({name for name, _ in keys})
        wanted = {(name, region or "") for name, region in keys}
        with self._session() as session:
            for start in range(0, len(names), 500):
                rows = session.connection().execute(
                    self._current_reports()
                    .add_columns(OrganizationRecord.name_key, OrganizationRecord.region_key)
                    .join(OrganizationRecord, ReportRecord.organization_id == OrganizationRecord.id)
                    .where(col(ReportRecord.year).is_not(None))
                    .where(col(OrganizationRecord.name_key).in_(names[start : start + 500]))
                )
                for contract, evidence, name, region in rows:
                    if (name, region) in wanted:
                        found.setdefault((name, region or None), []).append(report_from_json(contract, evidence))
        return found

    def reports_named(self, name_keys: set[str]) -> list[Report]:
        """The latest version of every stored report whose organization's name key is in `name_keys`."""
        found: list[Report] = []
        names = sorted(name_keys)
        with self._session() as session:
            for start in range(0, len(names), 500):
                rows = session.connection().execute(
                    self._current_reports()
                    .join(OrganizationRecord, ReportRecord.organization_id == OrganizationRecord.id)
                    .where(col(OrganizationRecord.name_key).in_(names[start : start + 500]))
                    .order_by(ReportRecord.organization_id, ReportRecord.year)
                )
                found += [report_from_json(contract, evidence) for contract, evidence in rows]
        return found

    def known_identities(self, names: Iterable[str] | None = None) -> set[tuple[str, str | None]]:
        """(name key, region) of every stored organization, or of those whose name key is in `names`."""
        query = select(OrganizationRecord.name_key, OrganizationRecord.region)
        if names is not None:
            query = query.where(col(OrganizationRecord.name_key).in_(sorted(set(names))))
        with self._session() as session:
            return {(name, region) for name, region in session.exec(query)}

    @staticmethod
    def _current_reports() -> Any:
        """The stored JSON of the current versions (`report_columns`), joined to their reports."""
        return (
            sqlalchemy.select(*report_columns())
            .select_from(VersionRecord)
            .join(ReportRecord, VersionRecord.report_id == ReportRecord.id)
            .where(col(VersionRecord.superseded_by).is_(None))
        )
