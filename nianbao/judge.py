"""Parse, match, judge and save: the steps shared by `nianbao check`, `nianbao ingest` and the Celery worker."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from nianbao.settings import Settings
from report.identity import ambiguity, apply_folder_region, earlier_reports, identity
from report.model import Report
from report.parse import parse_file
from rules import compare, evaluate
from rules.engine import whole_peers
from rules.similarity import PeerIndex, report_bands

if TYPE_CHECKING:  # storage is imported where it is used: `nianbao check` runs without a database
    from storage import Store


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


def judge_batch(store: Store, reports: Sequence[Report], settings: Settings) -> list[Exception | None]:
    """Match each report of a batch with its body's earlier years and judge it; for each report, in order, None
    when it was judged or the exception its rules raised (a defect met on that report: it is not to be saved).

    The batch is judged as if its reports arrived one after another, in the order given, with three look-ups on
    the database whatever its size (known bodies, stored earlier years, stored peers). A report's earlier years
    are the stored ones and those of the batch; earlier versions of its own year and other bodies' alike reports
    (`rules.similarity`) are the stored ones and those before it in the batch. So a batch gives the findings its
    reports would get one at a time, save that every alike report of the batch is compared where only the 20 most
    alike stored ones are (`Store.peer_reports_of`). A report whose match is ambiguous is compared with nothing
    (the reason becomes a problem). Errors of the store propagate."""
    identities = [identity(report) for report in reports]  # once: each report is matched against the batch
    keys = {key for key in identities if key}
    known = store.known_identities({name for name, _ in keys}) | keys if keys else set()
    stored = store.earlier_reports_of(keys) if keys else {}
    stored_peers = store.peer_reports_of(reports, whole=whole_peers(settings.rules))
    batch_peers = PeerIndex()
    outcomes: list[Exception | None] = []
    for position, (report, its_peers) in enumerate(zip(reports, stored_peers, strict=True)):
        key = identities[position]
        reason = ambiguity(report, known)
        if reason:
            report.problems.append(reason)
        candidates: list[Report] = []
        if key and not reason:
            alike = [
                other
                for index, other in enumerate(reports)
                if identities[index] == key and (index < position or (index > position and other.year != report.year))
            ]
            candidates = [*stored.get(key, []), *alike]
        bands = report_bands(report)  # once for the batch's index: a signature costs tenths of a ms per part
        peers = [*its_peers, *batch_peers.candidates(report, bands)]
        try:
            judge(report, earlier_reports(report, candidates), settings, peers)
        except Exception as error:  # the rules are pure: what they raise is a defect met on this report
            outcomes.append(error)
            continue
        batch_peers.add(report, bands)
        outcomes.append(None)
    return outcomes


def read_report(path: Path, settings: Settings, root: Path | None = None, data: bytes | None = None) -> Report:
    """Parse a file (`data`: its bytes, read already); one under a watched or ingested folder `root` is read only
    when it lies inside it."""
    report = parse_file(path, max_bytes=settings.max_file_bytes, root=root, data=data)
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
