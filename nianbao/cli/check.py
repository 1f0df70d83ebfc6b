"""`nianbao check FILES`: parse and judge report files without storing them."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from nianbao.cli.options import lang_option
from nianbao.display import SEVERITY_RANK, severity_name, who
from nianbao.judge import check_files
from nianbao.settings import get_settings
from report.model import Report
from storage import StoreError


def _text_summary(report: Report, lang: str) -> str:
    body = who(report.organization.name, report.organization.region)
    lines = [f"{report.source.path}: {body} {report.year or '?'} 年度，{len(report.findings)} 项发现"]
    if report.evidence.rejected:
        lines[0] = f"{report.source.path}: 未能处理：{report.evidence.rejected}"
    lines += [f"  [{severity_name(f.severity, lang)}] {f.rule} @ {f.location}: {f.message}" for f in report.findings]
    lines += [f"  [问题] {problem}" for problem in report.problems if problem != report.evidence.rejected]
    return "\n".join(lines)


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--format", "output_format", type=click.Choice(["json", "text"]), default="text", show_default=True)
@click.option(
    "--fail-on",
    type=click.Choice(["error", "warning"]),
    default=None,
    help="Exit 1 when a finding at or above this severity is reported.",
)
@click.option("--db", "database_url", default=None, help="Also compare with the earlier years stored in this database.")
@lang_option
def check(
    files: tuple[Path, ...], output_format: str, fail_on: str | None, database_url: str | None, lang: str
) -> None:
    """Parse and check report FILES; one JSON line (or a short summary) per file, in the order given."""
    settings = get_settings()
    try:
        reports = check_files(list(files), settings, database_url=database_url)
    except StoreError as error:
        raise click.UsageError(f"--db {database_url}: {error}") from error
    for report in reports:
        if output_format == "json":
            click.echo(json.dumps(report.to_contract(), ensure_ascii=False))
        else:
            click.echo(_text_summary(report, lang))
    if fail_on and any(SEVERITY_RANK[f.severity] >= SEVERITY_RANK[fail_on] for r in reports for f in r.findings):
        sys.exit(1)
