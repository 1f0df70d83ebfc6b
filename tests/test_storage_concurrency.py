"""Concurrent workers on one database (SQLite and PostgreSQL): four processes store overlapping reports, and
nothing is duplicated or left inconsistent."""

from __future__ import annotations

import multiprocessing
import random
import sqlite3
import threading
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Event
from pathlib import Path

from sqlmodel import Session, select

from report.identity import identity
from report.model import Report
from storage import Store, finding_fingerprints, use_write_ahead_log
from storage.engine import head_revision
from storage.tables import FindingRecord, OrganizationRecord, ReportRecord, VersionRecord
from tests.storage_samples import judged, seed, variant

WORKERS = 4


def overlapping_reports() -> list[Report]:
    """Three bodies × three years, two versions of some years, the same body with and without region, and a
    report naming no body, and eight versions of one report: 25 distinct contents."""
    reports: list[Report] = []
    for prefix in ("000", "002", "003"):
        base = seed(prefix)
        for year in (2021, 2022, 2023):
            reports.append(judged(variant(base, f"{prefix}-{year}", year=year)))
            if year != 2022:
                corrected = variant(base, f"{prefix}-{year}-corrected", year=year)
                assert corrected.tables.requests
                corrected.tables.requests["total"][6] = 9
                reports.append(judged(corrected))
    reports.append(judged(variant(seed("000"), "no-region", region=None)))
    reports.append(judged(seed("001")))
    for edition in range(8):  # many versions of one report: workers race to supersede the same one
        reports.append(judged(variant(seed("002"), f"002-2024-edition-{edition}", year=2024)))
    return reports


def save_all(url: str, order: int, reports: list[Report], start: Event, created: Queue) -> None:
    """One worker: its own store opened after the fork, the shared reports in its own order, twice; puts how
    many versions it created."""
    store = Store(url)
    mine = list(reports)
    random.Random(order).shuffle(mine)
    start.wait()
    created.put(sum(store.save(report).created for report in mine + mine))
    store.dispose()


def run_workers(url: str, reports: list[Report], *, upgrade_too: bool = False) -> None:
    """Run WORKERS processes at once; between them they create each distinct content exactly once."""
    context = multiprocessing.get_context("fork")
    start, created = context.Event(), context.Queue()
    target = open_and_save_all if upgrade_too else save_all
    workers = [context.Process(target=target, args=(url, order, reports, start, created)) for order in range(WORKERS)]
    for worker in workers:
        worker.start()
    start.set()
    for worker in workers:
        worker.join(timeout=300)
    assert [worker.exitcode for worker in workers] == [0] * WORKERS
    assert sum(created.get(timeout=10) for _ in workers) == len(reports)


def open_and_save_all(url: str, order: int, reports: list[Report], start: Event, created: Queue) -> None:
    """A worker that also upgrades the (empty) database itself, as every worker does at start."""
    start.wait()
    Store.open(url).dispose()
    save_all(url, order, reports, start, created)


def assert_consistent(store: Store, reports: list[Report]) -> None:
    with Session(store.engine) as session:
        versions = session.exec(select(VersionRecord)).all()
        assert sorted(version.sha256 for version in versions) == sorted({report.source.sha256 for report in reports})
        organizations = session.exec(select(OrganizationRecord.name_key, OrganizationRecord.region_key)).all()
        bodies = {(name, region or "") for name, region in filter(None, map(identity, reports))}
        assert sorted(organizations) == sorted(bodies)
        by_sha = {report.source.sha256: report for report in reports}
        for target in session.exec(select(ReportRecord)).all():
            chain = [version for version in versions if version.report_id == target.id]
            current = [version for version in chain if version.superseded_by is None]
            assert len(current) == 1, target.key  # exactly one current version per report
            assert all(
                version.superseded_by in {other.id for other in chain} for version in chain if version.superseded_by
            )
            findings = session.exec(select(FindingRecord).where(FindingRecord.report_id == target.id)).all()
            assert len(findings) == len({finding.fingerprint for finding in findings})
            still_open = {finding.fingerprint for finding in findings if finding.resolved_at is None}
            assert still_open == set(finding_fingerprints(by_sha[current[0].sha256].findings)), target.key
            every_version = set().union(*(finding_fingerprints(by_sha[version.sha256].findings) for version in chain))
            assert {finding.fingerprint for finding in findings} == every_version


def test_four_workers_store_overlapping_reports_once(store: Store) -> None:
    reports = overlapping_reports()
    assert len({report.source.sha256 for report in reports}) == len(reports) == 25
    store.dispose()  # nothing of the parent's pool crosses the fork
    run_workers(store.url, reports)
    assert_consistent(store, reports)


def test_four_workers_upgrading_an_empty_database_at_once(storage_url: str) -> None:
    reports = overlapping_reports()[:6]
    run_workers(storage_url, reports, upgrade_too=True)
    store = Store(storage_url)
    assert store.revision() == head_revision()
    assert_consistent(store, reports)
    store.dispose()


def test_a_new_sqlite_file_switches_to_wal_while_another_process_writes(tmp_path: Path) -> None:
    # SQLite refuses the switch at once ("locked"), busy timeout or not, while another connection writes.
    path = tmp_path / "new.db"
    writer = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    writer.execute("CREATE TABLE t (x)")
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("INSERT INTO t VALUES (1)")
    threading.Timer(0.3, writer.execute, ("COMMIT",)).start()
    opener = sqlite3.connect(path, isolation_level=None, timeout=5)
    use_write_ahead_log(opener.cursor(), 5)
    assert opener.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    assert opener.execute("SELECT x FROM t").fetchall() == [(1,)]
    writer.close()
    opener.close()
