"""`nianbao ingest PATHS`: parse, judge and store report files and folders without the queue."""

from __future__ import annotations

import os
import sys
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import nullcontext
from pathlib import Path

import click

from nianbao.cli.options import database_option, user_errors
from nianbao.display import who
from nianbao.judge import judge_batch, read_report, rejection
from nianbao.settings import Settings, get_settings
from report.document import UnreadableFile
from report.extract import REPORT_SUFFIXES, path_text, resolved, sha256_of, text_path
from report.model import Finding, Report
from storage import BatchOutcome, BatchSave, OutboxDraft, Store
from storage.evidence import Evidence, EvidenceChanged
from storage.tables import utcnow
from watcher.intake import unreadable_key

PROGRESS_MIN_FILES = 20
# Files of one folder are parsed this many at a time and stored oldest year first, so that earlier years are
# stored before the later years that compare with them.
INGEST_CHUNK = 500


def _batches(paths: Sequence[Path]) -> Iterator[tuple[Path | None, list[Path]]]:
    """(root, files): the files named directly as one batch, then the report files of each folder walked; every
    path absolute and resolved (a link inside a folder is read only when it stays inside)."""
    files = [resolved(path) for path in paths if not path.is_dir()]
    if files:
        yield None, files
    for root in (path.resolve() for path in paths if path.is_dir()):
        for folder, subfolders, names in os.walk(root):
            subfolders.sort()
            found = [Path(folder) / name for name in sorted(names) if Path(name).suffix.lower() in REPORT_SUFFIXES]
            if found:
                yield root, found


def _ingest_chunk(
    store: Store, files: list[Path], root: Path | None, settings: Settings
) -> Iterator[tuple[str, Counter[str]]]:
    """(line to show, tally) for each file of a chunk: the files already stored first, then the chunk's reports
    oldest year first, judged and saved as the worker does it, in batches of `watch_batch_size`."""
    reports: list[Report] = []
    for path in files:
        stored = store.version_id(sha256_of(path, root)) if path.is_file() else None
        if stored is not None:
            yield f"{path_text(path)}：内容已入库（版本 #{stored}），跳过", Counter(files=1, unchanged=1)
        else:
            reports.append(read_report(path, settings, root))
    reports.sort(key=lambda report: (report.year is None, report.year or 0, report.source.path))
    for start in range(0, len(reports), settings.watch_batch_size):
        yield from _ingest_batch(store, reports[start : start + settings.watch_batch_size], root, settings)


def _ingest_batch(
    store: Store, reports: list[Report], root: Path | None, settings: Settings
) -> Iterator[tuple[str, Counter[str]]]:
    """(line to show, tally) for each report of a batch, in order: rejected ones recorded in the ledger, the
    others kept as evidence, judged (`judge_batch`) and saved (`Store.save_batch`) together, without alerts."""
    ends: dict[int, tuple[str, Counter[str]]] = {}
    ready: list[int] = []
    evidence = Evidence(settings.evidence)
    for index, report in enumerate(reports):
        source = report.source.path
        reason = rejection(report)
        if reason:
            # In the ledger as the watcher would record it: `nianbao files --state failed` lists it with its reason.
            file = resolved(text_path(source))
            store.ledger_mark(path_text(file), report.source.sha256 or unreadable_key(file), "failed", error=reason)
            ends[index] = f"{source}：未能入库：{reason}", Counter(files=1, failed=1)
            continue
        try:  # the evidence first: no version is stored without the bytes it was judged on
            evidence.keep(text_path(source), report.source.sha256, root=root, max_bytes=settings.max_file_bytes)
        except (EvidenceChanged, UnreadableFile):
            ends[index] = f"{source}：文件在读取后已被改写，未入库", Counter(files=1, failed=1)
            continue
        ready.append(index)
    errors = judge_batch(store, [reports[index] for index in ready], settings)
    saves: dict[str, int] = {}
    for index, error in zip(ready, errors, strict=True):
        if error is None:
            saves[reports[index].source.path] = index
        else:  # one bad file must not stop a folder of thousands; say what happened instead
            ends[index] = _failed_line(reports[index], error), Counter(files=1, failed=1)
    received = utcnow()
    batch = [
        BatchSave(reports[i].source.path, reports[i].source.sha256 or "", reports[i], received) for i in saves.values()
    ]
    for outcome in store.save_batch(batch, [], _no_alerts):
        index = saves[outcome.path]
        if outcome.state == "stored":
            ends[index] = _ingest_line(reports[index], outcome), _tally(outcome)
        else:
            ends[index] = f"{outcome.path}：{outcome.error}，未入库", Counter(files=1, failed=1)
    for index in sorted(ends):
        yield ends[index]


def _no_alerts(report: Report, new: list[Finding], resolved: list[Finding]) -> list[OutboxDraft]:
    """`ingest` queues no alerts: its reports are a backlog, not news."""
    return []


def _failed_line(report: Report, error: Exception) -> str:
    return f"{report.source.path}：处理出错（{type(error).__name__}: {error}），未入库"


def _tally(outcome: BatchOutcome) -> Counter[str]:
    if not outcome.created:
        return Counter(files=1, unchanged=1)
    return Counter(
        files=1,
        created=1,
        corrected=outcome.previous_version_id is not None,
        new=outcome.new_findings,
        resolved=outcome.resolved_findings,
    )


def _ingest_line(report: Report, outcome: BatchOutcome) -> str:
    path = report.source.path
    if not outcome.created:
        return f"{path}：内容已入库（版本 #{outcome.version_id}），跳过"
    body = who(report.organization.name, report.organization.region)
    line = (
        f"{path}：{body} {report.year or '?'} 年度 已入库（版本 #{outcome.version_id}），{len(report.findings)} 项发现，"
        f"新发现 {outcome.new_findings} 项，已整改 {outcome.resolved_findings} 项"
    )
    if outcome.previous_version_id is not None:
        line += f"，取代版本 #{outcome.previous_version_id}"
    if report.problems:
        line += f"；问题：{'；'.join(report.problems)}"
    return line


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@database_option
@user_errors
def ingest(paths: tuple[Path, ...], database_url: str | None) -> None:
    """Parse, judge and store report FILEs and the reports in DIRs (*.txt, .text, .md, .markdown, .html, .htm,
    .xhtml, .docx, .pdf), without the queue. Each folder's reports are stored oldest year first, compared with the stored earlier
    years of the same body; unchanged files are skipped, changed ones become new versions."""
    settings = get_settings()
    store = Store.open(database_url or settings.database)
    database_file = store.sqlite_path
    for folder in (path.resolve() for path in paths if path.is_dir()):
        if database_file and database_file.is_relative_to(folder):
            click.echo(
                f"警告：数据库文件 {database_file} 位于导入的文件夹 {folder} 内，请把数据库放在共享文件夹之外", err=True
            )
    batches = list(_batches(paths))
    total = sum(len(files) for _, files in batches)
    tally: Counter[str] = Counter()
    notes: list[str] = []
    show_progress = total > PROGRESS_MIN_FILES
    progress = click.progressbar(length=total, label="入库", file=sys.stderr) if show_progress else nullcontext()
    with progress as bar:
        for root, files in batches:
            for start in range(0, len(files), INGEST_CHUNK):
                for line, counts in _ingest_chunk(store, files[start : start + INGEST_CHUNK], root, settings):
                    tally += counts
                    if not show_progress:
                        click.echo(line)
                    elif counts["failed"]:
                        notes.append(line)
                    if bar is not None:
                        bar.update(1)
    for line in notes:
        click.echo(line)
    click.echo(
        f"共 {tally['files']} 个文件：新入库 {tally['created']} 份（其中更正版本 {tally['corrected']} 份），"
        f"内容未变 {tally['unchanged']} 份，未能入库 {tally['failed']} 份；"
        f"新发现 {tally['new']} 项，已整改 {tally['resolved']} 项。"
    )
