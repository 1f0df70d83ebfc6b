"""Commands over the store: `ingest`, `history`, `findings`, `export` and `db upgrade`."""

from __future__ import annotations

import functools
import io
import os
import sys
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import nullcontext
from pathlib import Path
from typing import IO, Any, TypeVar

import click
from sqlalchemy.exc import SQLAlchemyError

from nianbao.display import SEVERITY_NAMES, lang_option, local_time, severity_name, shown_value, state_name, who
from nianbao.judge import judge_and_save, read_report, rejection
from nianbao.settings import Settings, get_settings
from nianbao.spreadsheet import FINDING_COLUMNS, FINDING_WIDTHS, finding_rows, write_csv, write_xlsx
from report.document import UnreadableFile
from report.extract import REPORT_SUFFIXES, path_text, resolved, sha256_of, text_path
from report.model import Report, describe_cell
from rules import compare
from storage import LEDGER_STATES, FindingRow, SaveResult, Store, StoreError
from storage.evidence import Evidence, EvidenceChanged
from storage.status import OPEN_STATUSES, STATUSES
from watcher.intake import unreadable_key

PROGRESS_MIN_FILES = 20
# Files of one folder are parsed this many at a time and stored oldest year first, so that earlier years are
# stored before the later years that compare with them.
INGEST_CHUNK = 500
DEFAULT_XLSX = Path("nianbao-findings.xlsx")

F = TypeVar("F", bound=Callable[..., Any])


def _database_option(function: F) -> F:
    return click.option(
        "--db",
        "database_url",
        default=None,
        help="Database URL (default: NIANBAO_DATABASE_URL, or SQLite in the data directory).",
    )(function)


def _filter_options(function: F) -> F:
    options = (
        click.option("--rule", default=None, help="Only this rule id."),
        click.option("--region", default=None, help="Only bodies of this region (county/district)."),
        click.option("--org", "organization", default=None, help="Only this body (白鹤镇 or 白鹤镇人民政府)."),
        click.option("--year", type=int, default=None, help="Only reports of this year."),
        click.option("--severity", type=click.Choice(sorted(SEVERITY_NAMES)), default=None),
        click.option(
            "--open",
            "open_only",
            is_flag=True,
            help="Only open findings: the latest version still has them and no reviewer dismissed them.",
        ),
    )
    for option in reversed(options):
        function = option(function)
    return function


def _user_errors(function: F) -> F:
    """Storage errors are for the user: print them, exit 1, no traceback."""

    @functools.wraps(function)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except StoreError as error:
            raise click.ClickException(str(error)) from error
        except SQLAlchemyError as error:
            raise click.ClickException(f"数据库出错：{error}") from error

    return run  # type: ignore[return-value]


def _store(database_url: str | None) -> Store:
    return Store(database_url or get_settings().database)


# -- ingest -------------------------------------------------------------------------------------------------


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
    """(line to show, tally) for each file of a chunk, the chunk's reports stored oldest year first."""
    reports: list[Report] = []
    evidence = Evidence(settings.evidence)
    for path in files:
        stored = store.version_id(sha256_of(path, root)) if path.is_file() else None
        if stored is not None:
            yield f"{path_text(path)}：内容已入库（版本 #{stored}），跳过", Counter(files=1, unchanged=1)
        else:
            reports.append(read_report(path, settings, root))
    reports.sort(key=lambda report: (report.year is None, report.year or 0, report.source.path))
    for report in reports:
        source = report.source.path
        reason = rejection(report)
        if reason:
            # In the ledger as the watcher would record it: `nianbao files --state failed` lists it with its reason.
            file = resolved(text_path(source))
            store.ledger_mark(path_text(file), report.source.sha256 or unreadable_key(file), "failed", error=reason)
            yield f"{source}：未能入库：{reason}", Counter(files=1, failed=1)
            continue
        try:  # the evidence first: no version is stored without the bytes it was judged on
            evidence.keep(text_path(source), report.source.sha256, root=root, max_bytes=settings.max_file_bytes)
        except (EvidenceChanged, UnreadableFile):
            yield f"{source}：文件在读取后已被改写，未入库", Counter(files=1, failed=1)
            continue
        try:
            result = judge_and_save(store, report, settings)
        except (StoreError, SQLAlchemyError):
            raise  # the database's problem, not the file's
        except Exception as error:  # one bad file must not stop a folder of thousands; say what happened instead
            yield f"{source}：处理出错（{type(error).__name__}: {error}），未入库", Counter(files=1, failed=1)
            continue
        yield _ingest_line(report, result), _tally(result)


def _tally(result: SaveResult) -> Counter[str]:
    if not result.created:
        return Counter(files=1, unchanged=1)
    return Counter(
        files=1,
        created=1,
        corrected=result.previous_version_id is not None,
        new=len(result.new_findings),
        resolved=len(result.resolved_findings),
    )


def _ingest_line(report: Report, result: SaveResult) -> str:
    path = report.source.path
    if not result.created:
        return f"{path}：内容已入库（版本 #{result.version_id}），跳过"
    body = who(report.organization.name, report.organization.region)
    line = (
        f"{path}：{body} {report.year or '?'} 年度 已入库（版本 #{result.version_id}），{len(report.findings)} 项发现，"
        f"新发现 {len(result.new_findings)} 项，已整改 {len(result.resolved_findings)} 项"
    )
    if result.previous_version_id is not None:
        line += f"，取代版本 #{result.previous_version_id}"
    if report.problems:
        line += f"；问题：{'；'.join(report.problems)}"
    return line


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@_database_option
@_user_errors
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


# -- history ------------------------------------------------------------------------------------------------


def history_table(rows: Sequence[tuple[int, str, str]], years: Sequence[int]) -> list[str]:
    """The year × rule table: ✗ fired in that year's current version, ✓ fixed (fired before, not any more),
    · never fired so far."""
    status = {(year, rule): state for year, rule, state in rows}
    rules = sorted({rule for _, rule, _ in rows})
    width = max([len("规则") + 2, *map(len, rules)])
    lines = ["规则".ljust(width - 2) + "".join(f"{year:>6}" for year in years)]
    for rule in rules:
        cells: list[str] = []
        fired_before = False
        for year in years:
            state = status.get((year, rule))
            if state == "fired":
                cells.append("✗")
            elif state == "fixed" or fired_before:
                cells.append("✓")
            else:
                cells.append("·")
            fired_before = fired_before or state is not None
        lines.append(rule.ljust(width) + "".join(f"{cell:>6}" for cell in cells))
    return lines


@click.command()
@click.argument("organization")
@click.option("--region", default=None, help="The body's region (county/district); '' for a body stored without.")
@_database_option
@_user_errors
def history(organization: str, region: str | None, database_url: str | None) -> None:
    """What ORGANIZATION's reports got wrong year by year: a rule × year table (✗ fired, ✓ fixed, · never),
    the versions received, and the table cells that changed between consecutive years."""
    store = _store(database_url)
    versions = store.versions(organization, region)
    if not versions:
        click.echo(f"没有“{organization}”{f'（{region}）' if region else ''}的报告记录。")
        return
    rows = store.history(organization, region)
    current = {
        version.year: version for version in versions if version.year is not None and version.superseded_by is None
    }
    years = sorted(current)
    click.echo(f"{who(versions[0].organization, versions[0].region)}：{len(years)} 个年度，{len(versions)} 个版本")
    if rows:
        click.echo("\n".join(history_table(rows, years)))
        click.echo("✗ 存在问题   ✓ 已整改   · 未发现")
    else:
        click.echo("各年度报告均未发现问题。")
    click.echo("")
    for year in years:
        count = sum(version.year == year for version in versions)
        latest = current[year]
        click.echo(
            f"{year} 年度：{count} 个版本，现行版本 #{latest.id}（{latest.source_path}，{local_time(latest.received_at)} 收到）"
        )
    undated = sum(version.year is None for version in versions)
    if undated:
        click.echo(f"另有 {undated} 份报告未写明年度，未列入上表。")
    reports = {year: report for year in years if (report := store.report(current[year].id)) is not None}
    for before, after in zip(reports, list(reports)[1:], strict=False):
        comparison = compare(reports[after], [reports[before]])
        changes = comparison.changes if comparison else []
        if not changes:
            click.echo(f"\n{before} → {after} 年表格：无变化")
            continue
        click.echo(f"\n{before} → {after} 年表格变化（{len(changes)} 处）：")
        for change in changes:
            click.echo(f"  {describe_cell(change.cell)}：{shown_value(change.before)} → {shown_value(change.after)}")


# -- findings and export ------------------------------------------------------------------------------------


@click.command(name="findings")
@_filter_options
@click.option("--limit", type=int, default=None, help="At most this many findings.")
@lang_option
@_database_option
@_user_errors
def findings_command(database_url: str | None, limit: int | None, lang: str, **filters: Any) -> None:
    """List stored findings, filtered; a count per rule at the end (which rule fires most)."""
    rows = _store(database_url).findings(**filters, limit=limit)
    for row in rows:
        click.echo(
            f"{STATUSES[row.status] if lang == 'zh' else row.status}  "
            f"{who(row.organization, row.region)} {row.year or '?'} 年度  "
            f"[{severity_name(row.severity, lang)}] {row.rule} @ {row.location}：{row.message}"
        )
    statuses = Counter(row.status for row in rows)
    still_open = sum(statuses[status] for status in OPEN_STATUSES)
    click.echo(
        f"共 {len(rows)} 项发现（未整改 {still_open} 项，已驳回 {statuses['dismissed']} 项，"
        f"已整改 {statuses['resolved']} 项）"
    )
    by_rule = Counter(row.rule for row in rows).most_common()
    if by_rule:
        click.echo("按规则：" + "，".join(f"{rule} {count} 项" for rule, count in by_rule))


def _write_csv(rows: Sequence[FindingRow], stream: IO[str]) -> None:
    write_csv(stream, FINDING_COLUMNS, finding_rows(rows))


@click.command()
@click.option("--format", "output_format", type=click.Choice(["csv", "xlsx"]), required=True)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help=f"File to write (default: standard output; for xlsx {DEFAULT_XLSX} when standard output is a terminal).",
)
@_filter_options
@_database_option
@_user_errors
def export(output_format: str, output: Path | None, database_url: str | None, **filters: Any) -> None:
    """Write the findings spreadsheet a 政务公开办 circulates: one row per finding with region, organization,
    year, rule, severity, message, location, expected and actual values and status (待审核/已确认/已驳回/已整改),
    the same columns as the web's download."""
    rows = _store(database_url).findings(**filters)
    if output_format == "csv":
        if output is None:
            _write_csv(rows, sys.stdout)
            return
        # The byte-order mark makes Excel and WPS read the file as UTF-8.
        with open(output, "w", encoding="utf-8-sig", newline="") as stream:
            _write_csv(rows, stream)
    elif output is None and not sys.stdout.isatty():  # `export --format xlsx > findings.xlsx`
        workbook = io.BytesIO()  # a zip is written with seeks, which a pipe has not
        write_xlsx(workbook, "发现清单", FINDING_COLUMNS, finding_rows(rows), FINDING_WIDTHS)
        sys.stdout.flush()
        sys.stdout.buffer.write(workbook.getvalue())
        sys.stdout.buffer.flush()
        click.echo(f"已导出 {len(rows)} 项发现", err=True)
        return
    else:
        output = output or DEFAULT_XLSX  # standard output is a terminal: into a file, not onto the screen
        write_xlsx(output, "发现清单", FINDING_COLUMNS, finding_rows(rows), FINDING_WIDTHS)
    click.echo(f"已导出 {len(rows)} 项发现到 {output}", err=True)


@click.command()
@click.option(
    "--state", type=click.Choice(LEDGER_STATES), default=None,
    help="Only files whose newest entry is in this state (failed: what could not be processed, and why).",
)  # fmt: skip
@click.option("--limit", type=int, default=100, show_default=True)
@lang_option
@_database_option
@_user_errors
def files(state: str | None, limit: int, lang: str, database_url: str | None) -> None:
    """The files the watcher has seen, newest first: state, attempts, path and, for a failure, its reason."""
    entries = _store(database_url).ledger_files(state, limit)
    for entry in entries:
        shown = state_name(entry.state, lang).ljust(*((4, "\u3000") if lang == "zh" else (10, " ")))
        click.echo(f"{local_time(entry.updated_at)}  {shown}  第{entry.attempts}次  {entry.path}")
        if entry.error:
            click.echo(f"    原因：{entry.error}")
    if not entries:
        click.echo("没有文件记录" + (f"（状态：{state_name(state, lang)}）" if state else ""))


@click.group(name="db")
def db() -> None:
    """The database schema."""


@db.command()
@_database_option
@_user_errors
def upgrade(database_url: str | None) -> None:
    """Apply the schema migrations up to the latest (an existing database keeps its data)."""
    store = _store(database_url)
    before = store.revision()
    store.upgrade()
    click.echo(f"数据库结构版本：{before or '空'} → {store.revision()}")
