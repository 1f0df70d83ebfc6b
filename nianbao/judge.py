"""Parse, match, judge and save: the steps shared by `nianbao check`, `nianbao ingest` and the Celery worker."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from nianbao.settings import Settings
from report.identity import ambiguity, apply_folder_region, earlier_reports, identity
from report.model import Report
from report.parse import parse_file
from rules import compare, evaluate
from rules.similarity import PeerIndex

if TYPE_CHECKING:  # storage is imported where it is used: `nianbao check` runs without a database
    from storage import SaveResult, Store


def rejection(report: Report) -> str | None:
    """Why a read report cannot be stored (unreadable, or not an annual report), in Chinese; None when it can."""
    if report.evidence.rejected:
        return report.evidence.rejected
    if not report.source.sha256:
        return "；".join(report.problems) or "文件无法读取"
    return None


def judge(report: Report, earlier: Sequence[Report], settings: Settings, peers: Sequence[Report] = ()) -> Report:
    """Fill `compared_with` and `findings` of a parsed report, given its earlier years (newest first) and other
    bodies' alike reports of the same year (`rules.similarity`)."""
    report.compared_with = compare(report, earlier)
    report.findings = evaluate(report, earlier, settings.rules, peers)
    return report


def judge_and_save(store: Store, report: Report, settings: Settings, received_at: datetime | None = None) -> SaveResult:
    """Match a parsed report with its body's stored earlier years (none when the match is ambiguous: the reason
    becomes a problem), judge it and store it."""
    key = identity(report)
    reason = ambiguity(report, store.known_identities({key[0]}) if key else set())
    if reason:
        report.problems.append(reason)
    judge(report, [] if reason else store.earlier_reports(report), settings, store.peer_reports(report))
    return store.save(report, received_at=received_at)


def read_report(path: Path, settings: Settings, root: Path | None = None) -> Report:
    """Parse a file; one under a watched or ingested folder `root` is read only when it lies inside it."""
    report = parse_file(path, max_bytes=settings.max_file_bytes, root=root)
    apply_folder_region(report, root)
    return report


def check_files(files: Sequence[Path], settings: Settings, database_url: str | None = None) -> list[Report]:
    """Parse and judge files; files of one organization serve as each other's earlier years, and so do the
    reports stored in `database_url` when given."""
    reports = [read_report(path, settings) for path in files]
    stored: list[Report] = []
    known = {key for key in map(identity, reports) if key}
    index = PeerIndex()
    if len(reports) > 1:  # one file alone has no peer among the files (signatures cost a library import)
        for report in reports:
            index.add(report)
    store = None
    if database_url:
        from storage import Store

        store = Store(database_url)
        stored = store.reports_named({key[0] for key in known})
        known |= {key for key in map(identity, stored) if key}
    for report in reports:
        reason = ambiguity(report, known)
        if reason:
            report.problems.append(reason)
            earlier: list[Report] = []
        else:
            earlier = earlier_reports(report, [*stored, *reports])
        peers = index.candidates(report)
        if store is not None:
            peers += store.peer_reports(report)
        judge(report, earlier, settings, peers)
    return reports
