"""A worker's batch saved in one transaction (`save_batch`): versions, findings, outbox items and ledger states
written with a handful of statements per batch rather than per report.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Connection,
    Table,
    bindparam,
    update,
)
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, col, select

from report.identity import identity
from report.model import Finding, Report
from rules import all_rules
from storage.engine import insert_rows
from storage.errors import StoreError
from storage.ledger import LedgerStore
from storage.peers import index_prose
from storage.reports import ReportStore, finding_content, finding_fingerprints
from storage.reviewers import undismissed_findings
from storage.rows import Alerts, BatchOutcome, BatchSave, OutboxDraft, finding_from
from storage.tables import (
    FindingRecord,
    OrganizationRecord,
    OutboxRecord,
    ReportRecord,
    VersionRecord,
    utcnow,
)

VERSIONS: Table = VersionRecord.__table__  # type: ignore[attr-defined]
OUTBOX: Table = OutboxRecord.__table__  # type: ignore[attr-defined]


class BatchStore(ReportStore, LedgerStore):
    """A worker's batch: reports saved and ledger entries settled in one transaction."""

    def save_batch(
        self, saves: Sequence[BatchSave], failures: Sequence[tuple[str, str, str]], alerts: Alerts
    ) -> list[BatchOutcome]:
        """A worker's batch in one transaction: save each judged report, queue its alerts in the outbox (`alerts`
        builds them from the findings first seen in its version, less those a reviewer dismissed, and those it
        resolved; the same version again queues nothing new) and mark its ledger entry `stored`; mark each
        (path, sha256, reason) of `failures` `failed`. One outcome each, failures first, then saves, in order.

        The statements are per batch, not per report (a handful of lookups and one multi-row statement per kind
        of write), so the batch costs the database about what one report did. Versions of one report within the
        batch are saved in rounds, in the order given, so each supersedes the one before. A report whose
        preparation or alerts raise (anything but a database error) is left out and its entry `failed` with the
        reason; a database error rolls back the whole batch (retried here on conflicts, else raised: the task
        retries). Report rows are locked in the order of their keys, so concurrent batches do not deadlock."""
        rule_versions = {item.id: item.version for item in all_rules()}
        planned: list[_Planned] = []
        outcomes = [BatchOutcome(path, sha, "failed", error=reason) for path, sha, reason in failures]
        for save in saves:
            try:
                planned.append(_plan(save, rule_versions))
            except Exception as error:  # a defect met on this report: it fails alone
                outcomes.append(BatchOutcome(save.path, save.sha256, "failed", error=_defect(error)))
        rounds: list[list[_Planned]] = []
        taken: Counter[tuple[Any, ...]] = Counter()
        for plan in planned:
            # The same content under another identity (a copy in a region folder) waits for a later round too.
            alike = (plan.hint, ("sha256", plan.sha256))
            index = max(taken[key] for key in alike)
            for key in alike:
                taken[key] = index + 1
            if len(rounds) <= index:
                rounds.append([])
            rounds[index].append(plan)

        order = {(path, sha): index for index, (path, sha, _) in enumerate(failures)}
        order |= {(save.path, save.sha256): len(failures) + index for index, save in enumerate(saves)}

        def work(session: Session) -> list[BatchOutcome]:
            now = utcnow()
            done = list(outcomes)
            indexed: list[tuple[int, Report]] = []  # the new versions, their prose indexed at once
            for plans in rounds:
                done += self._save_round(session, plans, alerts, now, indexed)
            index_prose(session.connection(), indexed)
            done.sort(key=lambda outcome: order[(outcome.path, outcome.sha256)])
            self._ledger_update(
                session,
                [
                    {"path": o.path, "sha256": o.sha256, "state": o.state, "error": o.error}
                    | ({"version_id": o.version_id} if o.version_id is not None else {})
                    for o in done
                ],
                now,
            )
            return done

        return self._write(work)

    def _save_round(
        self, session: Session, plans: list[_Planned], alerts: Alerts, now: datetime, indexed: list[tuple[int, Report]]
    ) -> list[BatchOutcome]:
        """Save reports of distinct (organization, year) in bulk; see `save_batch`. The new versions are added to
        `indexed`, whose prose the caller indexes."""
        connection = session.connection()
        shas = sorted({plan.sha256 for plan in plans})
        stored = self._versions_by_sha(connection, shas)
        fresh = [plan for plan in plans if plan.sha256 not in stored]
        organizations = self._organization_ids(session, [plan.save.report for plan in fresh])
        for plan in fresh:
            organization_id = organizations.get(plan.identity) if plan.identity else None
            year = plan.save.report.year  # kept for a report without a body too: shown with the year it states
            plan.target = (organization_id, year)
            plan.key = (
                f"{organization_id}/{year}"
                if organization_id is not None and year is not None
                else f"sha256:{plan.sha256}"
            )
        report_ids = self._report_ids(session, {plan.key: plan.target for plan in fresh})
        stored |= self._versions_by_sha(connection, shas)  # again, under the reports' locks (a concurrent worker)
        ids = sorted(set(report_ids.values()))
        current: dict[int, int] = {}
        known: dict[int, list[Any]] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            current |= dict(
                connection.execute(  # type: ignore[arg-type]
                    select(VersionRecord.report_id, VersionRecord.id).where(
                        col(VersionRecord.report_id).in_(chunk), col(VersionRecord.superseded_by).is_(None)
                    )
                ).all()
            )
            table = FindingRecord.__table__  # type: ignore[attr-defined]
            for row in connection.execute(select(table).where(table.c.report_id.in_(chunk))):
                known.setdefault(row.report_id, []).append(row)
        outcomes: list[BatchOutcome] = []
        created: list[_Planned] = []
        again: list[tuple[_Planned, int]] = []
        for plan in plans:
            report = plan.save.report
            try:
                if plan.sha256 in stored:  # the same content again: its alerts may not have been queued
                    version_id = stored[plan.sha256]
                    self._adopt_folder_region(session, version_id, report)
                    new, resolved = self._version_changes(connection, version_id)
                    if new:
                        new = undismissed_findings(session, report, new)
                    plan.drafts = alerts(report, new, resolved)
                    again.append((plan, version_id))
                    continue
                plan.report_id = report_ids[plan.key]
                plan.previous = current.get(plan.report_id)
                plan.diff = _diff_findings(known.get(plan.report_id, []), plan)
                new = plan.diff.new
                if new and (plan.previous is not None or plan.report_id in known):
                    new = undismissed_findings(session, report, new)  # a report stored before may have triage
                plan.drafts = alerts(report, new, plan.diff.resolved)
            except DBAPIError:
                raise
            except Exception as error:  # a defect met on this report: it fails alone
                outcomes.append(BatchOutcome(plan.save.path, plan.sha256, "failed", error=_defect(error)))
                continue
            created.append(plan)
        if created:
            insert_rows(
                connection,
                VERSIONS,
                [
                    {"report_id": plan.report_id, "sha256": plan.sha256, "source_path": plan.save.report.source.path,
                     "format": plan.save.report.source.format, "received_at": plan.save.received_at,
                     "contract": plan.contract, "evidence": plan.evidence}
                    for plan in created
                ],
            )  # fmt: skip
            version_ids = self._versions_by_sha(connection, [plan.sha256 for plan in created])
            self._apply_findings(connection, created, version_ids)
        queued: list[tuple[int, OutboxDraft]] = []
        for plan in created:
            version_id = version_ids[plan.sha256]
            indexed.append((version_id, plan.save.report))
            queued += [(version_id, draft) for draft in plan.drafts]
            outcomes.append(
                BatchOutcome(
                    plan.save.path,
                    plan.sha256,
                    "stored",
                    version_id,
                    len(plan.drafts),
                    created=True,
                    new_findings=len(plan.diff.new),
                    resolved_findings=len(plan.diff.resolved),
                    previous_version_id=plan.previous,
                )
            )
        existing = self._outbox_kinds(connection, [version_id for _, version_id in again])
        for plan, version_id in again:
            fresh_drafts = [draft for draft in plan.drafts if (version_id, draft.kind) not in existing]
            queued += [(version_id, draft) for draft in fresh_drafts]
            outcomes.append(BatchOutcome(plan.save.path, plan.sha256, "stored", version_id, len(fresh_drafts)))
        self._queue_outbox(session, queued, now)
        return outcomes

    @staticmethod
    def _versions_by_sha(connection: Connection, shas: Sequence[str]) -> dict[str, int]:
        found: dict[str, int] = {}
        for start in range(0, len(shas), 500):
            query = select(VersionRecord.sha256, VersionRecord.id).where(
                col(VersionRecord.sha256).in_(shas[start : start + 500])
            )
            found |= {sha: version_id for sha, version_id in connection.execute(query)}
        return found

    def _organization_ids(self, session: Session, reports: Sequence[Report]) -> dict[tuple[str, str | None], int]:
        """The id of each report's organization (identity), created when new; a known level fills `unknown`."""
        connection = session.connection()
        wanted = {key: report for report in reports if (key := identity(report))}
        if not wanted:
            return {}
        names = sorted({name for name, _ in wanted})

        def lookup() -> dict[tuple[str, str | None], tuple[int, str]]:
            found = {}
            for start in range(0, len(names), 500):
                query = select(
                    OrganizationRecord.name_key, OrganizationRecord.region_key, OrganizationRecord.id,
                    OrganizationRecord.level,
                ).where(col(OrganizationRecord.name_key).in_(names[start : start + 500]))  # fmt: skip
                for name, region, organization_id, level in connection.execute(query):
                    found[(name, region or None)] = (organization_id, level)
            return found

        found = lookup()
        missing = sorted((key for key in wanted if key not in found), key=lambda key: (key[0], key[1] or ""))
        if missing:
            self._insert_many_ignore(
                session,
                OrganizationRecord,
                ["name_key", "region_key"],
                [
                    {"name": wanted[key].organization.name, "name_key": key[0], "region": key[1],
                     "region_key": key[1] or "", "level": wanted[key].organization.level}
                    for key in missing
                ],
            )  # fmt: skip
            found = lookup()
        levels = [
            {"b_id": found[key][0], "b_level": report.organization.level}
            for key, report in wanted.items()
            if found[key][1] == "unknown" and report.organization.level != "unknown"
        ]
        if levels:
            table = OrganizationRecord.__table__  # type: ignore[attr-defined]
            connection.execute(
                update(table).where(table.c.id == bindparam("b_id")).values(level=bindparam("b_level")), levels
            )
        return {key: found[key][0] for key in wanted}

    def _report_ids(self, session: Session, targets: dict[str, tuple[int | None, int | None]]) -> dict[str, int]:
        """The id of the report of each key (created when new: (organization id, year)), its row locked."""
        connection = session.connection()
        keys = sorted(targets)

        def lookup() -> dict[str, int]:
            found: dict[str, int] = {}
            for start in range(0, len(keys), 500):
                query = (
                    select(ReportRecord.key, ReportRecord.id)
                    .where(col(ReportRecord.key).in_(keys[start : start + 500]))
                    .order_by(ReportRecord.key)
                    .with_for_update()
                )
                found |= {key: report_id for key, report_id in connection.execute(query)}
            return found

        found = lookup()
        missing = [key for key in keys if key not in found]
        if missing:
            rows = [{"key": key, "organization_id": targets[key][0], "year": targets[key][1]} for key in missing]
            self._insert_many_ignore(session, ReportRecord, ["key"], rows)
            found = lookup()
        return found

    @staticmethod
    def _apply_findings(connection: Connection, plans: list[_Planned], version_ids: dict[str, int]) -> None:
        """Write the findings of newly created versions: inserted, carried forward, changed, resolved."""
        table = FindingRecord.__table__  # type: ignore[attr-defined]
        inserts: list[dict[str, Any]] = []
        carried: list[dict[str, Any]] = []
        changed: list[dict[str, Any]] = []
        gone: list[dict[str, Any]] = []
        supersede: list[dict[str, Any]] = []
        for plan in plans:
            version_id, when = version_ids[plan.sha256], plan.save.received_at
            organization_id, year = plan.target
            for row in plan.diff.inserts:
                inserts.append(
                    {**row, "report_id": plan.report_id, "organization_id": organization_id, "year": year,
                     "first_seen": when, "last_seen": when, "first_version_id": version_id,
                     "last_version_id": version_id}
                )  # fmt: skip
            carried += [
                {"b_id": finding_id, "b_when": when, "b_version": version_id} for finding_id in plan.diff.carried
            ]
            changed += plan.diff.changed
            gone += [{"b_id": finding_id, "b_when": when, "b_version": version_id} for finding_id in plan.diff.gone]
            if plan.previous is not None:
                supersede.append({"b_id": plan.previous, "b_version": version_id})
        if supersede:
            versions = VersionRecord.__table__  # type: ignore[attr-defined]
            connection.execute(
                update(versions).where(versions.c.id == bindparam("b_id")).values(superseded_by=bindparam("b_version")),
                supersede,
            )
        if inserts:
            insert_rows(connection, table, inserts)
        by_id = table.c.id == bindparam("b_id")
        if carried:
            connection.execute(
                update(table).where(by_id).values(
                    last_seen=bindparam("b_when"), last_version_id=bindparam("b_version"), resolved_at=None,
                    resolved_version_id=None,
                ),
                carried,
            )  # fmt: skip
        if changed:
            columns = [column for column in changed[0] if column != "b_id"]
            connection.execute(
                update(table).where(by_id).values({column.removeprefix("b_"): bindparam(column) for column in columns}),
                changed,
            )
        if gone:
            connection.execute(
                update(table)
                .where(by_id)
                .values(resolved_at=bindparam("b_when"), resolved_version_id=bindparam("b_version")),
                gone,
            )

    @staticmethod
    def _outbox_kinds(connection: Connection, version_ids: Sequence[int]) -> set[tuple[int, str]]:
        if not version_ids:
            return set()
        query = select(OutboxRecord.version_id, OutboxRecord.kind).where(
            col(OutboxRecord.version_id).in_(sorted(set(version_ids)))
        )
        return {(version_id, kind) for version_id, kind in connection.execute(query)}

    def _queue_outbox(self, session: Session, queued: list[tuple[int, OutboxDraft]], now: datetime) -> None:
        rows = [
            {"version_id": version_id, "kind": draft.kind, "title": draft.title, "body": draft.body,
             "tags": list(draft.tags), "state": "pending", "attempts": 0, "created_at": now, "next_attempt_at": now}
            for version_id, draft in queued
        ]  # fmt: skip
        insert_rows(session.connection(), OUTBOX, rows, conflict=["version_id", "kind"])


@dataclass
class _FindingsDiff:
    """What a new version does to its report's findings (see `ReportStore._track_findings`)."""

    new: list[Finding]
    resolved: list[Finding]
    inserts: list[dict[str, Any]]  # rows without the report's and version's columns
    carried: list[int]  # finding ids
    changed: list[dict[str, Any]]  # b_id and b_<column> of findings whose content changed
    gone: list[int]  # finding ids resolved by this version


@dataclass
class _Planned:
    """A report of a batch on its way into storage: what can be computed before the database is asked."""

    save: BatchSave
    contract: dict[str, Any]
    evidence: dict[str, Any]
    contents: list[tuple[str, Finding, dict[str, Any]]]  # fingerprint, finding, stored content
    identity: tuple[str, str | None] | None
    hint: tuple[Any, ...]  # (identity, year) or the content hash: two plans alike go in separate rounds
    target: tuple[int | None, int | None] = (None, None)  # (organization id, year) as stored
    key: str = ""
    report_id: int = 0
    previous: int | None = None
    diff: _FindingsDiff = field(default_factory=lambda: _FindingsDiff([], [], [], [], [], []))
    drafts: list[OutboxDraft] = field(default_factory=list)

    @property
    def sha256(self) -> str:
        return self.save.sha256


def _plan(save: BatchSave, rule_versions: dict[str, int]) -> _Planned:
    report = save.report
    if not report.source.sha256:
        raise StoreError(f"{report.source.path}：文件无法读取，没有内容可以入库")
    key = identity(report)
    contents = [
        (fingerprint, finding, finding_content(finding, rule_versions))
        for finding, fingerprint in zip(report.findings, finding_fingerprints(report.findings), strict=True)
    ]
    return _Planned(
        save=save,
        contract=report.to_contract(),
        evidence=report.evidence.model_dump(mode="json", by_alias=True),
        contents=contents,
        identity=key,
        hint=(key, report.year) if key is not None and report.year is not None else ("sha256", save.sha256),
    )


def _diff_findings(known_rows: Sequence[Any], plan: _Planned) -> _FindingsDiff:
    known = {row.fingerprint: row for row in known_rows}
    diff = _FindingsDiff([], [], [], [], [], [])
    for fingerprint, finding, content in plan.contents:
        row = known.pop(fingerprint, None)
        if row is None:
            diff.inserts.append({**content, "fingerprint": fingerprint, "rule": finding.rule})
            diff.new.append(finding)
            continue
        diff.carried.append(row.id)
        if any(getattr(row, column) != value for column, value in content.items()):
            diff.changed.append({"b_id": row.id, **{f"b_{column}": value for column, value in content.items()}})
    gone = [row for row in known.values() if row.resolved_at is None]
    diff.gone = [row.id for row in gone]
    diff.resolved = [finding_from(row) for row in gone]
    return diff


def _defect(error: Exception) -> str:
    return f"入库出错：{type(error).__name__}: {error}"
