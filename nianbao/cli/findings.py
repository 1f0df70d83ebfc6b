"""`nianbao findings` and `nianbao export`: the stored findings, filtered, as a list or a spreadsheet."""

from __future__ import annotations

import io
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

import click

from nianbao.cli.options import database_option, filter_options, lang_option, open_store, user_errors
from nianbao.display import severity_name, who
from nianbao.spreadsheet import FINDING_COLUMNS, FINDING_WIDTHS, finding_rows, write_csv, write_xlsx
from storage import FindingRow
from storage.status import OPEN_STATUSES, STATUSES

DEFAULT_XLSX = Path("nianbao-findings.xlsx")


@click.command(name="findings")
@filter_options
@click.option("--limit", type=int, default=None, help="At most this many findings.")
@lang_option
@database_option
@user_errors
def findings_command(database_url: str | None, limit: int | None, lang: str, **filters: Any) -> None:
    """List stored findings, filtered; a count per rule at the end (which rule fires most)."""
    rows = open_store(database_url).findings(**filters, limit=limit)
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
@filter_options
@database_option
@user_errors
def export(output_format: str, output: Path | None, database_url: str | None, **filters: Any) -> None:
    """Write the findings spreadsheet a 政务公开办 circulates: one row per finding with region, organization,
    year, rule, severity, message, location, expected and actual values and status (待审核/已确认/已驳回/已整改),
    the same columns as the web's download."""
    rows = open_store(database_url).findings(**filters)
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
